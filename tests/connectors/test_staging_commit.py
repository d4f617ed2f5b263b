"""R13 across files and state: a crash at any step of a list's commit (staged tables and quarantine files)
leaves a state that either redoes the list or is already consistent, and the redo gives the same files as a
run that never crashed."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path

import pyarrow as pa
import pytest

from config.settings import Paths
from connectors.quarantine import Quarantine, quarantine_schema
from connectors.staging import (
    PreparedSnapshot,
    StagedTableWriter,
    commit_list,
    current_sha256,
    staged_path,
)
from connectors.sync_records import ListCommit
from connectors.sync_state import STATE_FILE_NAME, SyncState
from powerbi_dataset.model import EVENT_OFFICERS, EVENTS
from tests.connectors.staged_rows import item_key, rows
from transforms.report import Problem

LIST_ID = "events-list-guid"
TABLES = ("event_officers", "events")
FILES = (*TABLES, "quarantine/events.parquet", "quarantine/events.csv")
TIMEOUT_SECONDS = 30


class Crash(Exception):
    pass


def quarantined(numbers: list[int], version: int) -> tuple[pa.Table, list[Problem]]:
    table = rows(EVENTS, numbers, version=version).cast(quarantine_schema(EVENTS))
    problems = [
        Problem("events", row, item_key(number), "status", "unknown-code", "not a known code", "***")
        for row, number in enumerate(numbers)
    ]
    return table, problems


def prepare(paths: Paths, *, incremental: bool) -> list[PreparedSnapshot]:
    """The events list: a first full read (items 1-20 valid, 21 and 22 quarantined), or a delta where item
    3 changed, item 5 was deleted, item 21 was fixed at source and item 4's new version is invalid."""
    quarantine = Quarantine(paths.quarantine_dir)
    if incremental:
        version, valid, gone = 2, [3, 21], [item_key(4), item_key(5)]
        carried = quarantine.load_quarantined("events", exclude={item_key(n) for n in (3, 4, 5, 21)})
        new_bad, new_problems = quarantined([4], version)
        problems = [
            Problem("events", row, key, "status", "unknown-code", "not a known code", "***")
            for row, key in enumerate(carried.column("event_id").to_pylist())
        ]
        problems += [
            Problem(p.table, p.row + carried.num_rows, p.key, p.column, p.code, p.message, p.value)
            for p in new_problems
        ]
        bad = pa.concat_tables([carried, new_bad])
    else:
        version, valid, gone = 1, list(range(1, 21)), []
        bad, problems = quarantined([21, 22], 1)
    prepared = []
    for table, children in ((EVENTS, 1), (EVENT_OFFICERS, 2)):
        with StagedTableWriter(paths.staging_dir, table, incremental=incremental, row_group_rows=8) as writer:
            writer.add(rows(table, valid, version=version, children=children))
            writer.drop(gone)
            prepared.append(writer.prepare())
    prepared.extend(quarantine.prepare_quarantine("events", bad, problems).snapshots)
    return prepared


def files(paths: Paths) -> dict[str, bytes]:
    found = {table: staged_path(paths.staging_dir, table).read_bytes() for table in TABLES}
    for name in ("events.parquet", "events.csv"):
        found[f"quarantine/{name}"] = (paths.quarantine_dir / name).read_bytes()
    return found


def make_paths(directory: Path) -> Paths:
    return Paths(directory / "staging", directory / "staging" / "quarantine", directory / "state")


def first_sync(directory: Path) -> Paths:
    paths = make_paths(directory)
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        commit_list(state, ListCommit(LIST_ID, "link-1"), prepare(paths, incremental=False))
    return paths


def second_sync(paths: Paths, **options: object) -> None:
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        state.recover(current_sha256(paths))
        full = state.delta_link(LIST_ID) is None
        prepared = prepare(paths, incremental=not full)
        commit_list(state, ListCommit(LIST_ID, "link-2"), prepared, **options)  # type: ignore[arg-type]


@pytest.fixture
def reference(tmp_path: Path) -> dict[str, bytes]:
    """The files after both syncs with no crash."""
    paths = first_sync(tmp_path / "reference")
    second_sync(paths)
    return files(paths)


def crash_at(step: str):  # type: ignore[no-untyped-def]
    def on_step(name: str) -> None:
        if name == step:
            raise Crash(step)

    return on_step


STEPS = [
    "begun",
    "renamed events",
    "renamed event_officers",
    "renamed quarantine/events.parquet",
    "renamed quarantine/events.csv",
]


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_at_any_step_is_settled_and_the_redo_matches_a_clean_run(
    tmp_path: Path, reference: dict[str, bytes], step: str
) -> None:
    paths = first_sync(tmp_path)
    steps: list[str] = []

    def record_then_crash(name: str) -> None:
        steps.append(name)
        crash_at(step)(name)

    with pytest.raises(Crash):
        second_sync(paths, on_step=record_then_crash)
    assert steps == STEPS[: STEPS.index(step) + 1]  # staged tables are renamed before the quarantine
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        recovery = state.recover(current_sha256(paths))
        if "quarantine" in step:  # every tracked file was renamed: the commit is completed
            assert recovery.rolled_forward == (LIST_ID,) and state.delta_link(LIST_ID) == "link-2"
        else:  # the old link stays, and the changes are read again from it
            assert recovery.rolled_back == (LIST_ID,) and state.delta_link(LIST_ID) == "link-1"
        assert recovery.full_read == ()
        for name in (*TABLES, "quarantine/events.parquet"):  # the state names the file that is on disk
            assert state.snapshot_sha256(name) == current_sha256(paths)(name)
    second_sync(paths)  # the next run: a replay of the same delta is idempotent
    assert files(paths) == reference
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        assert state.delta_link(LIST_ID) == "link-2" and state.recover(current_sha256(paths)).is_clean
    assert sorted(path.name for path in paths.staging_dir.iterdir()) == [
        "event_officers.parquet",
        "events.parquet",
        "quarantine",
    ]
    assert sorted(path.name for path in paths.quarantine_dir.iterdir()) == ["events.csv", "events.parquet"]


def test_the_quarantine_after_the_delta_holds_the_carried_and_the_new_invalid_rows(tmp_path: Path) -> None:
    paths = first_sync(tmp_path)
    second_sync(paths)
    kept = Quarantine(paths.quarantine_dir).load_quarantined("events")
    assert sorted(kept.column("event_id").to_pylist()) == sorted([item_key(4), item_key(22)])


def _second_sync_killed_after(directory: str, step: str) -> None:
    def on_step(name: str) -> None:
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)

    second_sync(make_paths(Path(directory)), on_step=on_step)


def test_a_process_killed_between_rename_and_state_commit_recovers(
    tmp_path: Path, reference: dict[str, bytes]
) -> None:
    paths = first_sync(tmp_path)
    child = multiprocessing.get_context("fork").Process(
        target=_second_sync_killed_after, args=(str(tmp_path), "renamed event_officers")
    )
    child.start()
    child.join(TIMEOUT_SECONDS)
    assert child.exitcode == -signal.SIGKILL
    on_disk = files(paths)
    assert on_disk["events"] == reference["events"]  # renamed before the kill
    assert on_disk["quarantine/events.parquet"] != reference["quarantine/events.parquet"]  # not yet
    second_sync(paths)
    assert files(paths) == reference


def test_a_staged_or_quarantine_file_deleted_by_hand_makes_the_list_read_in_full(tmp_path: Path) -> None:
    for name in ("events.parquet", "quarantine/events.parquet"):
        paths = first_sync(tmp_path / name.replace("/", "-"))
        (paths.staging_dir / name).unlink()
        with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
            assert state.recover(current_sha256(paths)).full_read == (LIST_ID,)
            assert state.delta_link(LIST_ID) is None  # an incremental merge onto nothing would lose rows


def test_a_csv_deleted_by_a_person_is_written_again_without_a_full_read(tmp_path: Path) -> None:
    paths = first_sync(tmp_path)
    csv = paths.quarantine_dir / "events.csv"
    expected = csv.read_bytes()
    csv.unlink()
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        assert state.recover(current_sha256(paths)).is_clean
        quarantine = Quarantine(paths.quarantine_dir)
        bad, problems = quarantined([21, 22], 1)
        steps: list[str] = []
        prepared = quarantine.prepare_quarantine("events", bad, problems).snapshots
        commit_list(state, ListCommit(LIST_ID, "link-1b"), prepared, on_step=steps.append)
    assert steps == ["renamed quarantine/events.csv", "committed"]
    assert csv.read_bytes() == expected


def test_an_unchanged_list_commits_its_new_link_in_one_step(tmp_path: Path) -> None:
    paths = first_sync(tmp_path)
    steps: list[str] = []
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        unchanged = []
        for table in (EVENTS, EVENT_OFFICERS):
            with StagedTableWriter(paths.staging_dir, table, incremental=True) as writer:
                unchanged.append(writer.prepare())
        bad, problems = quarantined([21, 22], 1)
        unchanged.extend(
            Quarantine(paths.quarantine_dir).prepare_quarantine("events", bad, problems).snapshots
        )
        assert not any(item.changed for item in unchanged)
        commit_list(state, ListCommit(LIST_ID, "link-3"), unchanged, on_step=steps.append)
        assert steps == ["committed"] and state.delta_link(LIST_ID) == "link-3"
        assert state.pending_lists() == ()
        assert state.snapshot_sha256("events") == current_sha256(paths)("events")


def test_an_emptied_quarantine_removes_its_files_in_the_commit(tmp_path: Path) -> None:
    paths = first_sync(tmp_path)
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        steps: list[str] = []
        empty = Quarantine(paths.quarantine_dir).prepare_quarantine("events", quarantined([], 1)[0], [])
        commit_list(state, ListCommit(LIST_ID, "link-4"), empty.snapshots, on_step=steps.append)
        assert steps == [
            "begun",
            "removed quarantine/events.parquet",
            "removed quarantine/events.csv",
            "committed",
        ]
        assert state.snapshot_sha256("quarantine/events.parquet") == "absent"
        assert state.recover(current_sha256(paths)).is_clean
    assert list(paths.quarantine_dir.iterdir()) == []


def test_a_failed_commit_removes_its_temporary_files(tmp_path: Path) -> None:
    paths = first_sync(tmp_path)
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        prepared = prepare(paths, incremental=True)
        with pytest.raises(Crash):
            commit_list(state, ListCommit(LIST_ID, "link-2"), prepared, on_step=crash_at("begun"))
    assert sorted(path.name for path in paths.staging_dir.iterdir()) == [
        "event_officers.parquet",
        "events.parquet",
        "quarantine",
    ]
    assert sorted(path.name for path in paths.quarantine_dir.iterdir()) == ["events.csv", "events.parquet"]
