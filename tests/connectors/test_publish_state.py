"""The publish state: load transitions, what a commit makes true, settling after a crash, the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from connectors.publish_state import PublishState
from connectors.publish_state_db import STATE_FILE_NAME
from errors import PublishError


def versions(*rows: tuple[str, int, str, bool]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": [row[0] for row in rows],
            "hash": np.array([row[1] for row in rows], dtype=np.uint64),
            "ref": [row[2] for row in rows],
            "tombstone": [row[3] for row in rows],
        }
    )


def begin(state: PublishState, seq: int, frame: pd.DataFrame, **kwargs: object) -> None:
    options: dict[str, object] = {
        "full_tables": (),
        "reload_tables": (),
        "resolves": (),
        "rows_planned": len(frame),
    }
    options.update(kwargs)
    state.begin_load(seq, f"L{seq}", "ds", "t", versions={"ccr": frame}, **options)  # type: ignore[arg-type]


def commit(state: PublishState, seq: int) -> None:
    state.committing(seq)
    state.committed(seq, "t")


def committed(state: PublishState) -> dict[str, tuple[int, str]]:
    frame = state.versions("ccr")
    return {key: (int(row.hash), str(row.ref)) for key, row in frame.iterrows()}


@pytest.fixture
def state(tmp_path: Path) -> PublishState:
    opened = PublishState.open(tmp_path)
    opened.bind("ds", "CE", {"ccr": "{}"}, "[]", empty=True)
    return opened


def test_a_commit_makes_the_load_versions_committed_and_tombstones_remove_keys(state: PublishState) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False), ("b", 2, "L1:b", False)))
    assert committed(state) == {}  # nothing before the commit
    commit(state, 1)
    begin(
        state, 2, versions(("a", 3, "L2:a", False), ("b", 0, "L2:b", True), (("c", 2**64 - 1, "L2:c", False)))
    )
    commit(state, 2)

    assert committed(state) == {"a": (3, "L2:a"), "c": (2**64 - 1, "L2:c")}  # hashes are unsigned 64-bit
    assert [load.status for load in state.loads("committed")] == ["committed", "committed"]


def test_a_restated_table_keeps_only_the_keys_of_its_load(state: PublishState) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False), ("b", 2, "L1:b", False)))
    commit(state, 1)
    begin(state, 2, versions(("c", 5, "L2:c", False)), full_tables=("ccr",))
    commit(state, 2)

    assert committed(state) == {"c": (5, "L2:c")}


def test_settle_abandons_an_open_load_and_makes_a_committing_one_uncertain(state: PublishState) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False)))
    begin(state, 2, versions(("b", 1, "L2:b", False)))
    state.committing(2)

    settled = state.settle("t")

    assert [(load.load_id, load.status) for load in settled] == [("L1", "open"), ("L2", "committing")]
    assert [load.load_id for load in state.loads("abandoned")] == ["L1"]
    assert [load.load_id for load in state.loads("uncertain")] == ["L2"]
    assert state.load_keys(1) == {} and state.load_keys(2) == {"ccr": frozenset({"b"})}
    assert committed(state) == {}


def test_a_later_commit_resolves_the_uncertain_loads_it_posted_again(state: PublishState) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False)))
    state.committing(1)
    state.uncertain(1, "no answer", "t")
    begin(state, 2, versions(("a", 1, "L2:a", False)), resolves=(1,))
    commit(state, 2)

    assert [load.status for load in state.loads("resolved")] == ["resolved"]
    assert state.load_keys(1) == {}


def test_rows_sent_count_as_stored_and_a_delete_empties_the_table_until_it_is_reloaded(
    state: PublishState,
) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False)))
    state.chunk_sent(1, "ccr", 0, 10_000, 100.0)
    state.chunk_ambiguous(1, "ccr", 0, 101.0)
    assert state.tables()["ccr"].stored_rows == 10_000
    assert state.recent_posts(102.0) == [(101.0, 10_000)]  # an ambiguous POST is paced as if accepted
    assert state.recent_posts(101.0 + 3_600) == []

    state.deleting_rows("ccr")
    assert (state.tables()["ccr"].stored_rows, state.tables()["ccr"].needs_reload) == (0, True)
    begin(state, 2, versions(("a", 1, "L2:a", False)), reload_tables=("ccr",))
    commit(state, 2)
    assert state.tables()["ccr"].needs_reload is False


def test_the_state_survives_reopening_and_its_file_is_private(state: PublishState, tmp_path: Path) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False)))
    commit(state, 1)
    state.close()

    again = PublishState.open(tmp_path)

    assert committed(again) == {"a": (1, "L1:a")} and again.dataset() == ("ds", "CE")
    assert stat.S_IMODE(os.stat(tmp_path / STATE_FILE_NAME).st_mode) == 0o600


def test_a_damaged_state_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE_NAME).write_bytes(b"not a database at all" * 100)

    with pytest.raises(PublishError, match="cannot be used") as refused:
        PublishState.open(tmp_path)

    assert "move the file aside" in refused.value.hint


# --- the digest of what the published tables were built from (connectors/publish_ledger.py) ---------------


def test_the_inputs_digest_is_recorded_with_the_last_committed_load_once_settled(state: PublishState) -> None:
    assert state.published_inputs() is None  # a new state (or one written before digests): none
    begin(state, 1, versions(("a", 1, "L1:a", False)))
    commit(state, 1)

    assert state.record_published_inputs("d1", "ds") is True

    recorded = state.published_inputs()
    assert recorded is not None and (recorded.digest, recorded.dataset_id, recorded.load_id) == (
        "d1",
        "ds",
        "L1",
    )
    assert state.record_published_inputs("d2", "another-dataset") is False  # not the one the state describes
    assert state.published_inputs() is None  # and the old one is gone with it


def test_a_new_load_removes_the_recorded_digest_in_the_transaction_that_opens_it(state: PublishState) -> None:
    state.record_published_inputs("d1", "ds")
    assert state.published_inputs() is not None

    begin(state, 1, versions(("a", 1, "L1:a", False)))

    assert state.published_inputs() is None and not state.settled()  # a crash now: no skip, and unsettled


@pytest.mark.parametrize("leave", ["open", "committing", "uncertain"])
def test_no_digest_is_recorded_while_a_load_may_show_or_hide_rows(state: PublishState, leave: str) -> None:
    begin(state, 1, versions(("a", 1, "L1:a", False)))
    if leave in ("committing", "uncertain"):
        state.committing(1)
    if leave == "uncertain":
        state.uncertain(1, "no answer", "t")

    assert state.settled() is False
    assert state.record_published_inputs("d1", "ds") is False and state.published_inputs() is None


def test_no_digest_is_recorded_while_a_table_waits_for_its_reload_or_is_unknown(tmp_path: Path) -> None:
    with PublishState.open(tmp_path) as state:
        state.bind("ds", "CE", {"ccr": "{}"}, "[]", empty=True)
        state.deleting_rows("ccr")
        assert state.record_published_inputs("d1", "ds") is False
        state.bind("ds2", "CE", {"ccr": "{}"}, "[]", empty=False, unknown_rows=10)  # adopted: unknown
        assert state.record_published_inputs("d1", "ds2") is False


def test_binding_another_dataset_removes_the_recorded_digest(state: PublishState) -> None:
    state.record_published_inputs("d1", "ds")

    state.bind("ds2", "CE", {"ccr": "{}"}, "[]", empty=True)

    assert state.published_inputs() is None
