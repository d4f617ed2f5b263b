"""What a load posts (changes.py): new versions of changed entities, tombstones, cascades, restated and
reloaded tables, keys an uncertain load touched; keys as text and back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd
import pyarrow as pa
import pytest

from errors import PublishError
from powerbi_dataset.changes import LoadChanges, LoadRequest, plan_load
from powerbi_dataset.keys import key_texts, key_values
from powerbi_dataset.model import DATASET
from tests.powerbi_dataset.publish_world import demo_force, staged_from_frames


def committed_after(
    changes: LoadChanges, before: Mapping[str, pd.DataFrame] | None = None
) -> dict[str, pd.DataFrame]:
    """The committed versions once `changes` commits (what the publish state does)."""
    result = {name: frame.copy() for name, frame in (before or {}).items()}
    for load in changes.tables:
        if load.versions is None:
            continue
        frame = load.versions.set_index("key")
        old = result.get(load.table, pd.DataFrame({"hash": pd.Series([], dtype="uint64"), "ref": []}))
        kept = old[~old.index.isin(frame.index)]
        new = frame[~frame["tombstone"]][["hash", "ref"]]
        result[load.table] = pd.concat([kept, new])
    return result


def posted(changes: LoadChanges) -> dict[str, int]:
    return {load.table: load.rows.num_rows for load in changes.tables}


@pytest.fixture
def frames() -> dict[str, pd.DataFrame]:
    return {name: frame.copy() for name, frame in demo_force().tables.items()}


def first_load(frames: dict[str, pd.DataFrame]) -> tuple[LoadChanges, dict[str, pd.DataFrame]]:
    changes = plan_load(DATASET, staged_from_frames(frames), {}, LoadRequest("L1", 1))
    return changes, committed_after(changes)


def test_the_first_load_posts_every_row_and_the_same_source_again_posts_nothing(
    frames: dict[str, pd.DataFrame],
) -> None:
    changes, committed = first_load(frames)
    assert posted(changes) == {name: len(frame) for name, frame in frames.items()}

    again = plan_load(DATASET, staged_from_frames(frames), committed, LoadRequest("L2", 2))

    assert again.tables == ()


def test_a_changed_bridge_row_posts_its_parent_and_all_its_bridge_rows(
    frames: dict[str, pd.DataFrame],
) -> None:
    _, committed = first_load(frames)
    issues = frames["event_issues"]
    event = issues["event_id"].iloc[0]
    frames["event_issues"] = issues[~((issues["event_id"] == event) & (issues.index == issues.index[0]))]

    changes = plan_load(DATASET, staged_from_frames(frames), committed, LoadRequest("L2", 2))

    bridges = {
        name: int((frames[name]["event_id"] == event).sum())
        for name in ("event_officers", "event_communities", "event_issues")
    }
    assert posted(changes) == {"events": 1, **{name: count for name, count in bridges.items() if count}}
    events = next(load for load in changes.tables if load.table == "events")
    assert events.rows.column("event_id_ref").to_pylist() == [f"L2:{event}"]
    officers = next(load for load in changes.tables if load.table == "event_officers")
    assert set(officers.rows.column("event_id_ref").to_pylist()) == {f"L2:{event}"}


def test_a_changed_dimension_row_cascades_to_the_facts_that_name_it(frames: dict[str, pd.DataFrame]) -> None:
    _, committed = first_load(frames)
    officer = frames["officers"]["officer_key"].iloc[0]
    frames["officers"].loc[0, "active"] = not bool(frames["officers"].loc[0, "active"])

    changes = plan_load(DATASET, staged_from_frames(frames), committed, LoadRequest("L2", 2))

    ccr = next(load for load in changes.tables if load.table == "ccr")
    assert ccr.rows.num_rows == int((frames["ccr"]["officer_key"] == officer).sum())
    assert set(ccr.rows.column("officer_key_ref").to_pylist()) == {f"L2:{officer}"}


def test_a_deleted_key_gets_a_tombstone_and_its_bridge_rows_no_row(frames: dict[str, pd.DataFrame]) -> None:
    _, committed = first_load(frames)
    gone = frames["ccr"]["ccr_id"].iloc[4]
    frames["ccr"] = frames["ccr"][frames["ccr"]["ccr_id"] != gone]
    frames["ccr_issues"] = frames["ccr_issues"][frames["ccr_issues"]["ccr_id"] != gone]

    changes = plan_load(DATASET, staged_from_frames(frames), committed, LoadRequest("L2", 2))

    assert posted(changes) == {"ccr": 1}
    row = changes.tables[0].rows.to_pylist()[0]
    assert (row["ccr_id"], row["tombstone"], row["ccr_id_ref"], row["load_seq"]) == (
        gone,
        True,
        f"L2:{gone}",
        2,
    )
    assert row["recorded_utc"] is None and row["load_id"] == "L2"


def test_keys_an_uncertain_load_touched_are_posted_again_deleted_ones_as_tombstones(
    frames: dict[str, pd.DataFrame],
) -> None:
    _, committed = first_load(frames)
    kept, new_then_gone = frames["ccr"]["ccr_id"].iloc[0], "sp:never:1"
    request = LoadRequest("L3", 3, forced={"ccr": frozenset({kept, new_then_gone})})

    changes = plan_load(DATASET, staged_from_frames(frames), committed, request)

    ccr = next(load for load in changes.tables if load.table == "ccr")
    assert sorted(
        zip(ccr.rows.column("ccr_id").to_pylist(), ccr.rows.column("tombstone").to_pylist(), strict=True)
    ) == [
        (kept, False),
        (new_then_gone, True),
    ]


def test_a_restated_table_gets_new_refs_everywhere_and_no_tombstones(frames: dict[str, pd.DataFrame]) -> None:
    _, committed = first_load(frames)
    frames["themes"] = frames["themes"].iloc[1:]

    changes = plan_load(
        DATASET, staged_from_frames(frames), committed, LoadRequest("L2", 2, full=frozenset({"themes"}))
    )

    themes = next(load for load in changes.tables if load.table == "themes")
    assert themes.tombstones == 0 and themes.rows.num_rows == len(frames["themes"])
    assert all(ref.startswith("L2:") for ref in themes.rows.column("theme_code_ref").to_pylist())


def test_a_reloaded_table_keeps_the_refs_of_unchanged_keys_so_nothing_else_moves(
    frames: dict[str, pd.DataFrame],
) -> None:
    _, committed = first_load(frames)
    frames["officers"].loc[0, "active"] = not bool(frames["officers"].loc[0, "active"])
    changed_key = frames["officers"]["officer_key"].iloc[0]

    changes = plan_load(
        DATASET, staged_from_frames(frames), committed, LoadRequest("L2", 2, reload=frozenset({"officers"}))
    )

    officers = next(load for load in changes.tables if load.table == "officers")
    refs = dict(
        zip(
            officers.rows.column("officer_key").to_pylist(),
            officers.rows.column("officer_key_ref").to_pylist(),
            strict=True,
        )
    )
    assert len(refs) == len(frames["officers"])
    assert refs[changed_key] == f"L2:{changed_key}"
    assert {ref for key, ref in refs.items() if key != changed_key} == {
        f"L1:{key}" for key in refs if key != changed_key
    }
    assert "event_officers" in posted(changes)  # only the facts naming the changed officer cascade
    assert posted(changes)["ccr"] == int((frames["ccr"]["officer_key"] == changed_key).sum())


def test_a_staged_table_with_a_repeated_key_or_without_its_bridges_is_refused(
    frames: dict[str, pd.DataFrame],
) -> None:
    staged = staged_from_frames(frames)
    doubled = pa.concat_tables([staged["areas"], staged["areas"].slice(0, 1)])
    with pytest.raises(PublishError, match="staged areas repeats 1 key"):
        plan_load(DATASET, {**staged, "areas": doubled}, {}, LoadRequest("L1", 1))
    without = {name: data for name, data in staged.items() if name != "event_issues"}
    with pytest.raises(PublishError, match="events is staged but event_issues is not"):
        plan_load(DATASET, without, {}, LoadRequest("L1", 1))


def test_composite_keys_go_to_text_and_back_by_kind() -> None:
    table = DATASET.table("ccr_demographics_agg")
    month = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    data = pa.table(
        {
            "lpt_code": ["STOKE_N"],
            "month": pa.array([month], pa.timestamp("us", tz="UTC")),
            "dimension": ["SEX"],
            "category": ["F"],
        }
    )

    texts = key_texts(table, data).tolist()

    assert texts == ["STOKE_N\x1f2025-03-01T00:00:00.000000Z\x1fSEX\x1fF"]
    back = key_values(table, texts)
    assert back["month"].to_pylist() == [month] and back["lpt_code"].to_pylist() == ["STOKE_N"]
