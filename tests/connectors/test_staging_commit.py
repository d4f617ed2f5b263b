"""R13 across files and state: a crash at any step of a list's commit leaves a state that either redoes the
list or is already consistent, and the redo gives the same files as a run that never crashed."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from connectors.staging import PreparedSnapshot, StagedTableWriter, commit_list, staged_path, staged_sha256
from connectors.sync_records import ListCommit
from connectors.sync_state import STATE_FILE_NAME, SyncState
from powerbi_dataset.model import EVENT_OFFICERS, EVENTS
from tests.connectors.staged_rows import item_key, rows

LIST_ID = "events-list-guid"
TABLES = ("event_officers", "events")
TIMEOUT_SECONDS = 30


class Crash(Exception):
    pass


def prepare(staging: Path, *, incremental: bool, version: int) -> list[PreparedSnapshot]:
    """The events list's two tables: a first full read (version 1) or a delta changing items 3 and 4 and
    deleting item 5 (any later version)."""
    if incremental:
        numbers, drops = [3, 4], [item_key(5)]
    else:
        numbers, drops = list(range(1, 21)), []
    prepared = []
    for table, children in ((EVENTS, 1), (EVENT_OFFICERS, 2)):
        with StagedTableWriter(staging, table, incremental=incremental, row_group_rows=8) as writer:
            writer.add(rows(table, numbers, version=version, children=children))
            writer.drop(drops)
            prepared.append(writer.prepare())
    return prepared


def files(staging: Path) -> dict[str, bytes]:
    return {table: staged_path(staging, table).read_bytes() for table in TABLES}


def first_sync(directory: Path) -> tuple[Path, Path]:
    staging, state_file = directory / "staging", directory / "state" / STATE_FILE_NAME
    with SyncState.open(state_file) as state:
        commit_list(state, ListCommit(LIST_ID, "link-1"), prepare(staging, incremental=False, version=1))
    return staging, state_file


def second_sync(staging: Path, state_file: Path, **options: object) -> None:
    with SyncState.open(state_file) as state:
        state.recover(staged_sha256(staging))
        link = state.delta_link(LIST_ID)
        full = link is None
        commit = ListCommit(LIST_ID, "link-2")
        commit_list(state, commit, prepare(staging, incremental=not full, version=2), **options)  # type: ignore[arg-type]


@pytest.fixture
def reference(tmp_path: Path) -> dict[str, bytes]:
    """The files after both syncs with no crash."""
    staging, state_file = first_sync(tmp_path / "reference")
    second_sync(staging, state_file)
    return files(staging)


def crash_at(step: str):  # type: ignore[no-untyped-def]
    def on_step(name: str) -> None:
        if name == step:
            raise Crash(step)

    return on_step


@pytest.mark.parametrize("step", ["begun", "renamed events", "renamed event_officers"])
def test_a_crash_at_any_step_is_settled_and_the_redo_matches_a_clean_run(
    tmp_path: Path, reference: dict[str, bytes], step: str
) -> None:
    staging, state_file = first_sync(tmp_path)
    with pytest.raises(Crash):
        second_sync(staging, state_file, on_step=crash_at(step))
    with SyncState.open(state_file) as state:
        recovery = state.recover(staged_sha256(staging))
        if (
            step == "renamed event_officers"
        ):  # the last rename: every file was renamed: the commit is completed
            assert recovery.rolled_forward == (LIST_ID,) and state.delta_link(LIST_ID) == "link-2"
        else:  # the old link stays, and the changes are read again from it
            assert recovery.rolled_back == (LIST_ID,) and state.delta_link(LIST_ID) == "link-1"
        assert recovery.full_read == ()
        for table in TABLES:  # the state names the file that is on disk
            assert state.snapshot_sha256(table) == staged_sha256(staging)(table)
    second_sync(staging, state_file)  # the next run: a replay of the same delta is idempotent
    assert files(staging) == reference
    with SyncState.open(state_file) as state:
        assert state.delta_link(LIST_ID) == "link-2" and state.recover(staged_sha256(staging)).is_clean
    assert sorted(path.name for path in staging.iterdir()) == [f"{table}.parquet" for table in TABLES]


def _second_sync_killed_after(directory: str, step: str) -> None:
    def on_step(name: str) -> None:
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    root = Path(directory)
    second_sync(root / "staging", root / "state" / STATE_FILE_NAME, on_step=on_step)


def test_a_process_killed_between_rename_and_state_commit_recovers(
    tmp_path: Path, reference: dict[str, bytes]
) -> None:
    staging, state_file = first_sync(tmp_path)
    child = multiprocessing.get_context("fork").Process(
        target=_second_sync_killed_after, args=(str(tmp_path), "renamed events")
    )
    child.start()
    child.join(TIMEOUT_SECONDS)
    assert child.exitcode == -signal.SIGKILL
    assert files(staging)["events"] == reference["events"]  # renamed before the kill
    assert files(staging)["event_officers"] != reference["event_officers"]  # not yet
    second_sync(staging, state_file)
    assert files(staging) == reference


def test_a_staged_file_deleted_by_hand_makes_the_list_read_in_full(tmp_path: Path) -> None:
    staging, state_file = first_sync(tmp_path)
    staged_path(staging, "events").unlink()
    with SyncState.open(state_file) as state:
        assert state.recover(staged_sha256(staging)).full_read == (LIST_ID,)
        assert state.delta_link(LIST_ID) is None  # an incremental merge onto nothing would lose rows


def test_an_unchanged_list_commits_its_new_link_in_one_step(tmp_path: Path) -> None:
    staging, state_file = first_sync(tmp_path)
    steps: list[str] = []
    with SyncState.open(state_file) as state:
        unchanged = []
        for table in (EVENTS, EVENT_OFFICERS):
            with StagedTableWriter(staging, table, incremental=True) as writer:
                unchanged.append(writer.prepare())
        commit_list(state, ListCommit(LIST_ID, "link-3"), unchanged, on_step=steps.append)
        assert steps == ["committed"] and state.delta_link(LIST_ID) == "link-3"
        assert state.pending_lists() == ()
        assert state.snapshot_sha256("events") == staged_sha256(staging)("events")


def test_a_failed_commit_removes_its_temporary_files(tmp_path: Path) -> None:
    staging, state_file = first_sync(tmp_path)
    with SyncState.open(state_file) as state:
        prepared = prepare(staging, incremental=True, version=2)
        with pytest.raises(Crash):
            commit_list(state, ListCommit(LIST_ID, "link-2"), prepared, on_step=crash_at("begun"))
    assert sorted(path.name for path in staging.iterdir()) == [f"{table}.parquet" for table in TABLES]
