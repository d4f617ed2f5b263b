"""pipeline.status(): the run ledger for `cetk status`, read-only, with no state yet not an error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connectors.run_lock import LOCK_FILE_NAME, RunLock
from connectors.sync_records import RunCounts, RunError, TableCounts
from connectors.sync_state import STATE_FILE_NAME, SyncState
from errors import StateError
from pipeline import status


def test_no_state_yet_is_a_clear_message_and_creates_nothing(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    result = status(state_dir)
    assert result == {
        "state_file": str(state_dir / STATE_FILE_NAME),
        "last_report": None,
        "running": None,
        "runs": [],
        "message": f"No sync has run yet: there is no sync state at {state_dir / STATE_FILE_NAME}. "
        "Run `cetk sync` to start.",
    }
    assert not state_dir.exists()


def test_the_last_runs_newest_first_and_a_run_in_progress(tmp_path: Path) -> None:
    with SyncState.open(tmp_path / STATE_FILE_NAME) as state:
        for number in range(3):
            run_id = state.start_run("sync", {"n": number})
            counts = RunCounts({"events": TableCounts(10, 9, 1, number)}, requests=4)
            state.finish_run(run_id, "partial", counts, error=RunError("X", "m") if number == 2 else None)
    before = (tmp_path / STATE_FILE_NAME).read_bytes()
    with RunLock(tmp_path / LOCK_FILE_NAME):
        result = status(tmp_path, limit=2)
    assert [run["run_id"] for run in result["runs"]] == [3, 2]
    assert result["runs"][0]["error"] == {"code": "X", "message": "m"}
    assert result["runs"][0]["counts"]["totals"] == {"read": 10, "valid": 9, "quarantined": 1, "deleted": 2}
    assert result["running"]["pid"] == os.getpid()
    assert result["message"] == "The last 2 runs, newest first."
    assert (tmp_path / STATE_FILE_NAME).read_bytes() == before  # read only
    assert status(tmp_path)["running"] is None


def test_corrupt_state_is_an_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE_NAME).write_bytes(b"garbage" * 100)
    with pytest.raises(StateError, match=str(tmp_path / STATE_FILE_NAME)):
        status(tmp_path)
