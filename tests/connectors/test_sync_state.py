"""The sync state: links and key maps committed with snapshots, the ledger, R11, and R13 (corruption, a kill
mid-transaction, previous state still valid)."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import signal
import sqlite3
import stat
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

import connectors.sync_database as sync_database
from connectors.sync_records import ListCommit, RunCounts, RunError, TableCounts
from connectors.sync_state import STATE_FILE_NAME, SyncState, future_cursor_warning
from errors import ConnectorError, StateError

T0 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
TIMEOUT_SECONDS = 30


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state" / STATE_FILE_NAME


def committed(state: SyncState, commit: ListCommit, snapshots: dict[str, str] | None = None) -> None:
    state.begin_commit(commit, snapshots or {})
    state.complete_commit(commit.list_id)


# --- links, key maps, snapshots ---------------------------------------------------------------------


def test_a_commit_records_link_cursor_keys_and_snapshots_together(path: Path) -> None:
    with SyncState.open(path) as state:
        assert state.delta_link("lpts") is None and state.item_keys("lpts") == {}
        commit = ListCommit("lpts", "link-1", "2026-11-30T01:00:00Z", {"1": "STAFFORD", "2": "CANNOCK"})
        state.begin_commit(commit, {"areas": "aa"})
        assert state.delta_link("lpts") is None  # begun is not committed
        assert state.pending_lists() == ("lpts",)
        state.complete_commit("lpts")
        assert state.pending_lists() == ()
    with SyncState.open(path) as state:  # durable
        assert state.delta_link("lpts") == "link-1"
        assert state.modified_cursor("lpts") == "2026-11-30T01:00:00Z"
        assert state.item_keys("lpts") == {"1": "STAFFORD", "2": "CANNOCK"}
        assert state.snapshot_sha256("areas") == "aa"


def test_incremental_key_maps_merge_and_full_reads_replace(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("lpts", "l1", item_keys={"1": "A", "2": "B", "3": "C"}))
        committed(state, ListCommit("lpts", "l2", item_keys={"2": "B2", "4": "D"}, deleted_item_ids=("3",)))
        assert state.item_keys("lpts") == {"1": "A", "2": "B2", "4": "D"}
        committed(state, ListCommit("lpts", "l3", item_keys={"9": "Z"}, replace_item_keys=True))
        assert state.item_keys("lpts") == {"9": "Z"}
        assert state.delta_link("lpts") == "l3"


def test_save_delta_link_keeps_the_cursor_and_completing_an_unbegun_commit_is_refused(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "l1", "2026-01-01T00:00:00Z"))
        state.save_delta_link("events", "l2")
        assert (state.delta_link("events"), state.modified_cursor("events")) == ("l2", "2026-01-01T00:00:00Z")
        with pytest.raises(StateError, match="no commit of list other"):
            state.complete_commit("other")


def test_full_refresh_forgets_cursors_but_keeps_the_ledger(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "l1", item_keys={"1": "k"}), {"events": "h"})
        state.begin_commit(ListCommit("events", "l2"), {"events": "h2"})
        run_id = state.start_run("sync", {})
        state.finish_run(run_id, "ok", RunCounts())
    with SyncState.open(path, full_refresh=True) as state:
        assert state.delta_link("events") is None
        assert state.item_keys("events") == {} and state.snapshot_sha256("events") is None
        assert state.pending_lists() == ()
        assert [run.run_id for run in state.runs()] == [run_id]


def test_database_is_wal_synchronous_full_and_private(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "l1"))
        assert state._connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert state._connection.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert [stat.S_IMODE(item.stat().st_mode) for item in files] == [0o600] * 3
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


# --- R13: corrupt, truncated, newer ---------------------------------------------------------------------


def make_state_with_history(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "link-1", item_keys={str(n): f"k{n}" for n in range(500)}))
        for _ in range(20):
            state.finish_run(state.start_run("sync", {"pad": "x" * 200}), "ok", RunCounts())


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "empty", "newer", "tables-missing"],
)
def test_untrustworthy_state_is_refused_unless_full_refresh(path: Path, damage: str) -> None:
    make_state_with_history(path)
    if damage == "garbage":
        path.write_bytes(b"not a database at all" * 100)
    elif damage == "truncated":
        with open(path, "r+b") as handle:
            handle.truncate(path.stat().st_size // 2)
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        connection = sqlite3.connect(path)
        if damage == "newer":
            connection.execute("PRAGMA user_version = 99")
        else:
            connection.execute("DROP TABLE run_tables")
        connection.commit()
        connection.close()
    before = path.read_bytes()
    with pytest.raises(StateError) as refused:
        SyncState.open(path)
    assert str(path) in refused.value.message and "--full" in refused.value.hint
    assert path.read_bytes() == before  # refused without touching it
    with SyncState.open(path, full_refresh=True) as state:
        assert state.delta_link("events") is None
        assert state.runs() == []
        run_id = state.start_run("sync", {"full": True})
        state.finish_run(run_id, "ok", RunCounts())
    assert path.with_name(path.name + ".corrupt").read_bytes() == before  # kept for a post-mortem
    with SyncState.open(path) as state:  # rebuilt state opens normally afterwards
        assert [run.run_id for run in state.runs()] == [1]


def test_a_damaged_page_anywhere_is_refused(path: Path, tmp_path: Path) -> None:
    """Pages the opening queries never read (a key map, the ledger) are found by the integrity check."""
    make_state_with_history(path)
    original = path.read_bytes()
    page_size = 4096
    assert len(original) % page_size == 0 and len(original) // page_size > 5
    for page in range(1, len(original) // page_size):  # page 0 holds the header: tested above
        damaged = bytearray(original)
        damaged[page * page_size : (page + 1) * page_size] = b"\xff" * page_size
        copy = tmp_path / f"damaged-{page}" / STATE_FILE_NAME
        copy.parent.mkdir()
        copy.write_bytes(bytes(damaged))
        with pytest.raises(StateError, match="cannot be trusted"):
            SyncState.open(copy)


def _commit_and_hang(path: str, ready: Connection) -> None:
    """In a child: begin a commit whose key map blocks half-way through the transaction."""

    class Stalling(dict[str, str]):
        def items(self) -> Iterator[tuple[str, str]]:  # type: ignore[override]
            for number in range(10_000):
                if number == 5_000:
                    ready.send("inside the transaction")
                    signal.pause()  # until killed
                yield str(number), f"new{number}"

    with SyncState.open(Path(path)) as state:
        state.begin_commit(ListCommit("events", "link-2", item_keys=Stalling()), {"events": "h2"})


def test_a_kill_during_a_state_write_leaves_the_previous_state(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "link-1", item_keys={"1": "old"}), {"events": "h1"})
    parent_end, child_end = multiprocessing.Pipe()
    child = multiprocessing.get_context("fork").Process(target=_commit_and_hang, args=(str(path), child_end))
    child.start()
    assert parent_end.poll(TIMEOUT_SECONDS) and parent_end.recv() == "inside the transaction"
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join(TIMEOUT_SECONDS)
    assert child.exitcode == -signal.SIGKILL
    assert path.with_name(path.name + "-wal").exists()  # the killed writer's journal is still there
    with SyncState.open(path) as state:
        assert state.delta_link("events") == "link-1"
        assert state.item_keys("events") == {"1": "old"}
        assert state.snapshot_sha256("events") == "h1"
        assert state.pending_lists() == ()


# --- recovery of an interrupted commit (files: tests/connectors/test_staging_commit.py) ----------------------


def test_recover_completes_rolls_back_or_asks_for_a_full_read(path: Path) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "e1"), {"events": "E1", "event_officers": "O1"})
        committed(state, ListCommit("ccr", "c1"), {"ccr": "C1"})
        committed(state, ListCommit("officers", "f1"), {"officers": "F1"})
        state.begin_commit(ListCommit("events", "e2"), {"events": "E2", "event_officers": "O2"})
        state.begin_commit(ListCommit("ccr", "c2"), {"ccr": "C2"})
        # events: one file renamed, one not; ccr: renamed; officers: the file was replaced by hand
        on_disk = {"events": "E2", "event_officers": "O1", "ccr": "C2", "officers": "XX"}
        recovery = state.recover(on_disk.get)
        assert (recovery.rolled_forward, recovery.rolled_back, recovery.full_read) == (
            ("ccr",),
            ("events",),
            ("officers",),
        )
        assert state.delta_link("ccr") == "c2" and state.snapshot_sha256("ccr") == "C2"
        assert state.delta_link("events") == "e1"  # replayed from the old link
        assert (state.snapshot_sha256("events"), state.snapshot_sha256("event_officers")) == ("E2", "O1")
        assert state.delta_link("officers") is None  # read in full
        assert state.pending_lists() == ()
        assert state.recover(on_disk.get).full_read == ("officers",)  # until a commit restages it
        assert state.recover({**on_disk, "officers": "F1"}.get).is_clean


# --- the ledger --------------------------------------------------------------------------------------


def test_ledger_records_runs_newest_first_and_marks_dead_runs_failed(path: Path) -> None:
    clock = Clock()
    with SyncState.open(path, clock=clock) as state:
        first = state.start_run("sync", {"full": True, "lists": ["Events"]})
        counts = RunCounts({"events": TableCounts(10, 8, 2, 1), "ccr": TableCounts(5, 5, 0, 0)}, 7, 2, 4.5)
        state.finish_run(first, "partial", counts)
        crashed = state.start_run("sync", {})  # never finished: the process died
    with SyncState.open(path, clock=clock) as state:
        third = state.start_run("sync", {})
        error = RunError.from_exception(ConnectorError("Graph answered 503 after 6 attempts"), str)
        state.finish_run(third, "failed", RunCounts(), error=error)
        runs = state.runs()
        assert [run.run_id for run in runs] == [third, crashed, first]
        assert [run.status for run in runs] == ["failed", "failed", "partial"]
        assert runs[1].error is not None and runs[1].error.code == "interrupted"
        assert runs[0].error == RunError("ConnectorError", "Graph answered 503 after 6 attempts")
        record = runs[2]
        assert record.counts == counts and record.counts.totals == TableCounts(15, 13, 2, 1)
        assert record.options == {"full": True, "lists": ["Events"]}
        assert record.started_utc == T0 + dt.timedelta(seconds=1)
        assert record.duration_seconds == 1.0
        assert state.runs(limit=1) == runs[:1]
        with pytest.raises(ValueError):
            state.finish_run(third, "running", RunCounts())
        with pytest.raises(ValueError):
            state.finish_run(999, "ok", RunCounts())


def test_run_errors_keep_no_value_from_a_bug_and_redact_the_rest() -> None:
    bug = KeyError("Jane Doe 07700 900123")
    assert "Jane" not in RunError.from_exception(bug, str).message
    expected = ConnectorError("token eyJhbGciOi.secret refused")
    redacted = RunError.from_exception(expected, lambda text: text.replace("eyJhbGciOi.secret", "***"))
    assert redacted == RunError("ConnectorError", "token *** refused")
    assert RunError.from_exception(KeyboardInterrupt(), str).message == "the run was interrupted"


def test_read_only_state_reads_the_ledger_and_writes_nothing(path: Path) -> None:
    make_state_with_history(path)
    before = path.read_bytes()
    with SyncState.open(path, read_only=True) as state:
        assert len(state.runs(limit=5)) == 5
        with pytest.raises(StateError):
            state.start_run("sync", {})
    assert path.read_bytes() == before


# --- R11: a cursor from the future --------------------------------------------------------------------


def test_a_cursor_from_the_future_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    now = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
    with caplog.at_level(logging.WARNING, logger="connectors.sync_state"):
        message = future_cursor_warning("events-guid", "2999-12-31T00:00:00Z", now)
    assert message is not None and "events-guid" in message and "2999-12-31" in message
    assert [record.getMessage() for record in caplog.records] == [message]
    assert future_cursor_warning("events-guid", "2026-11-30T02:04:00Z", now) is None  # within the skew
    assert future_cursor_warning("events-guid", "2026-11-30T02:06:00", now) is not None  # naive = UTC
    assert future_cursor_warning("events-guid", None, now) is None
    assert "not an ISO 8601" in (future_cursor_warning("events-guid", "garbage", now) or "")


# --- schema version and migration ---------------------------------------------------------------------


def test_an_older_schema_is_migrated_in_place_and_keeps_its_data(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SyncState.open(path) as state:
        committed(state, ListCommit("events", "link-1"))
    version_2 = "CREATE TABLE list_notes (list_id TEXT PRIMARY KEY, note TEXT)"
    monkeypatch.setattr(sync_database, "MIGRATIONS", (*sync_database.MIGRATIONS, version_2))
    monkeypatch.setattr(sync_database, "SCHEMA_VERSION", 2)
    with SyncState.open(path) as state:
        assert state.delta_link("events") == "link-1"
        assert state._connection.execute("PRAGMA user_version").fetchone() == (2,)
        assert state._connection.execute("SELECT count(*) FROM list_notes").fetchone() == (0,)
    monkeypatch.setattr(sync_database, "SCHEMA_VERSION", 1)
    with pytest.raises(StateError, match="newer cetk"):  # this version cannot read what version 2 wrote
        SyncState.open(path)
