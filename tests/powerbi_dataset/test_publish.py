"""Publishing the demo force to the emulator: what reports see equals the source, load after load."""

from __future__ import annotations

from pathlib import Path

import pytest

from powerbi_dataset.publish_steps import PostLoad
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import (
    Publisher,
    check_relationships,
    demo_force,
    demo_staged,
    staged_from_frames,
    view_differences,
)


@pytest.fixture
def publisher(start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path) -> Publisher:
    return Publisher(open_workspace(start_emulator, clock, waits), tmp_path / "state", clock, waits)


def test_first_publish_creates_the_dataset_and_reports_see_the_source(publisher: Publisher) -> None:
    staged = demo_staged()
    sink = publisher.publish(staged)

    assert sink.result.status == "published"
    stored = publisher.stored()
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []
    assert len(stored["_loads"]) == 1


def test_a_publish_with_no_change_posts_no_rows(publisher: Publisher) -> None:  # R10
    staged = demo_staged()
    publisher.publish(staged)
    before = len(publisher.row_posts())

    again = publisher.publish(staged)

    assert len(publisher.row_posts()) == before
    assert again.result.status == "nothing to publish"
    assert again.result.posts == 0


def test_changes_and_deletions_are_seen_and_relationships_hold_across_loads(publisher: Publisher) -> None:
    frames = {name: frame.copy() for name, frame in demo_force().tables.items()}
    publisher.publish(staged_from_frames(frames))
    officers = frames["officers"]
    officers.loc[0, "role"] = "PCSO" if officers.loc[0, "role"] != "PCSO" else "PC"
    frames["events"] = frames["events"].iloc[3:]  # three events deleted at source (their bridges go too)
    gone = set(demo_force().tables["events"]["event_id"].iloc[:3])
    for bridge in ("event_officers", "event_communities", "event_issues"):
        frames[bridge] = frames[bridge][~frames[bridge]["event_id"].isin(gone)]
    frames["ccr"].loc[5, "contact_setting"] = (
        "STREET" if frames["ccr"].loc[5, "contact_setting"] != "STREET" else "HOME"
    )
    staged = staged_from_frames(frames)

    publisher.publish(staged)

    stored = publisher.stored()
    assert len(stored["_loads"]) == 2
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []
    # both loads' rows coexist: the natural keys repeat in storage, the refs relationships join on do not
    event_ids = [row["event_id"] for row in stored["events"]]
    assert len(event_ids) > len(set(event_ids))


def test_compaction_empties_a_table_and_loads_its_current_rows_keeping_their_refs(
    publisher: Publisher,
) -> None:
    frames = {name: frame.copy() for name, frame in demo_force().tables.items()}
    publisher.publish(staged_from_frames(frames))
    officers = frames["officers"]
    officers.loc[3, "active"] = not bool(officers.loc[3, "active"])
    staged = staged_from_frames(frames)
    publisher.publish(staged)  # officers holds 401 rows: every officer once and one officer twice
    ccr_rows = len(publisher.stored()["ccr"])

    sink = publisher.publish(staged, compact=frozenset({"officers"}))

    stored = publisher.stored()
    assert len(stored["officers"]) == len(frames["officers"])  # one row per officer again
    assert len(stored["ccr"]) == ccr_rows  # the refs were kept: no fact was posted again
    deletes = [r for r in publisher.workspace.emu.emulator.request_log if r.method == "DELETE"]
    assert [r.path.rsplit("/", 2)[-2] for r in deletes] == ["officers"]
    assert sink.result.tables["officers"].rows == len(frames["officers"])
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []


def test_a_table_near_its_row_cap_is_compacted_by_itself(publisher: Publisher) -> None:
    frames = {name: frame.copy() for name, frame in demo_force().tables.items()}
    publisher.publish(staged_from_frames(frames))
    frames["ccr"].loc[0, "information_submitted"] = not bool(frames["ccr"].loc[0, "information_submitted"])
    staged = staged_from_frames(frames)

    sink, store = publisher.sink(compact_at_rows=len(frames["ccr"]))
    plan = sink.plan(staged)
    store.close()

    load = plan.steps[-1]
    assert isinstance(load, PostLoad)
    assert [(item.table, item.reload, item.stored_after) for item in load.tables if item.table == "ccr"] == [
        ("ccr", True, len(frames["ccr"]))
    ]
