"""The sync state: delta links and cursors per list, item key maps, staged snapshot hashes, the run ledger.

SQLite (WAL, synchronous=FULL), file 0600, created whole under a temporary name and renamed into place.
A list's new link is recorded only with the hashes of its staged snapshots, in two steps around the
renames of the staged files (begin_commit, rename, complete_commit); `recover()` settles a commit a
crash interrupted. The order and why it is safe: docs/sync.md, "Staging, state and quarantine".
A database that is corrupt, truncated or from a newer cetk is refused unless `full_refresh` (--full);
the file itself (schema, migrations, checks) is connectors/sync_database.py; the SQL of the two-step
commit and its recovery is connectors/sync_commits.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from connectors.sync_commits import apply_pending, pending_lists, settle_pending, write_pending
from connectors.sync_cursor import FUTURE_CURSOR_TOLERANCE, future_cursor_warning
from connectors.sync_database import connect_checked, create, move_aside
from connectors.sync_ledger import Ledger
from connectors.sync_records import ListCommit, Recovery, RunCounts, RunError, RunRecord, RunStatus
from errors import StateError

STATE_FILE_NAME = "sync-state.sqlite3"
PRIVATE_DIR_MODE = 0o700

log = logging.getLogger(__name__)

__all__ = ["FUTURE_CURSOR_TOLERANCE", "STATE_FILE_NAME", "SyncState", "future_cursor_warning", "utc_now"]
LOOKUP_CHUNK = 500  # item ids per query of item_keys_of (under SQLite's limit on bound parameters)

CURSOR_STATE = ("lists", "snapshots", "item_keys", "pending_lists", "pending_snapshots", "pending_item_keys")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SyncState:
    """`with SyncState.open(state_dir / STATE_FILE_NAME) as state:` the state of the sync, or StateError."""

    def __init__(self, connection: sqlite3.Connection, path: Path, clock: Callable[[], dt.datetime]) -> None:
        self._connection = connection
        self.path = path
        self._clock = clock
        self.ledger = Ledger(connection, self._transaction, clock)

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        full_refresh: bool = False,
        read_only: bool = False,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> SyncState:
        """The state at `path`, created when absent. `full_refresh` forgets every link, cursor, key map and
        snapshot hash (the run ledger is kept), and moves a corrupt database aside instead of refusing."""
        if read_only:
            return cls(connect_checked(path, read_only=True), path, clock)
        path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        if not path.exists():
            create(path)
        try:
            connection = connect_checked(path, read_only=False)
        except StateError:
            if not full_refresh:
                raise
            moved = move_aside(path)
            log.warning("sync state %s was unreadable; moved to %s and rebuilt (--full)", path, moved)
            create(path)
            connection = connect_checked(path, read_only=False)
        state = cls(connection, path, clock)
        if full_refresh:
            state._forget_cursors()
        return state

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> SyncState:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # --- where the next read of a list starts --------------------------------------------------

    def delta_link(self, list_id: str) -> str | None:
        row = self._one("SELECT delta_link FROM lists WHERE list_id = ?", list_id)
        return None if row is None else row[0]

    def modified_cursor(self, list_id: str) -> str | None:
        row = self._one("SELECT modified_cursor FROM lists WHERE list_id = ?", list_id)
        return None if row is None else row[0]

    def save_delta_link(self, list_id: str, link: str | None) -> None:
        """A new link for a list whose staged snapshots did not change (nothing to rename): one transaction."""
        self.commit_unchanged(
            ListCommit(list_id, delta_link=link, modified_cursor=self.modified_cursor(list_id))
        )

    def commit_unchanged(self, commit: ListCommit, snapshots: Mapping[str, str] | None = None) -> None:
        """A list commit that renames no staged file (no snapshot changed): both steps in one transaction."""
        with self._transaction() as db:
            write_pending(db, commit, snapshots or {}, self._now)
            apply_pending(db, commit.list_id, self._now)

    def item_keys(self, list_id: str) -> dict[str, str]:
        """item id -> canonical key, as committed for the list (lookups into it resolve through this)."""
        rows = self._connection.execute(
            "SELECT item_id, canonical_key FROM item_keys WHERE list_id = ? ORDER BY item_id", (list_id,)
        )
        return dict(rows.fetchall())

    def item_keys_of(self, list_id: str, item_ids: Sequence[str]) -> dict[str, str]:
        """item id -> committed canonical key, of the given items only (those the state knows)."""
        found: dict[str, str] = {}
        for start in range(0, len(item_ids), LOOKUP_CHUNK):
            chunk = list(item_ids[start : start + LOOKUP_CHUNK])
            marks = ", ".join("?" * len(chunk))
            rows = self._connection.execute(
                f"SELECT item_id, canonical_key FROM item_keys WHERE list_id = ? AND item_id IN ({marks})",
                (list_id, *chunk),
            )
            found.update(rows.fetchall())
        return found

    def snapshot_sha256(self, table: str) -> str | None:
        row = self._one("SELECT sha256 FROM snapshots WHERE table_name = ?", table)
        return None if row is None else row[0]

    # --- the two-step commit of one list -------------------------------------------------------

    def begin_commit(self, commit: ListCommit, snapshots: Mapping[str, str]) -> None:
        """Step 1, before any staged file is renamed: record what the commit will make true (table ->
        sha256 of its staged file after the rename), so a crash in step 2 can be settled."""
        with self._transaction() as db:
            write_pending(db, commit, snapshots, self._now)

    def complete_commit(self, list_id: str) -> None:
        """Step 3, after every staged file is renamed and its directory fsynced: the link, the snapshot
        hashes and the key map become the list's committed state, in one transaction."""
        with self._transaction() as db:
            apply_pending(db, list_id, self._now)

    def pending_lists(self) -> tuple[str, ...]:
        return pending_lists(self._connection)

    def recover(self, current_sha256: Callable[[str], str | None]) -> Recovery:
        """Settle commits a crash interrupted, and check each committed snapshot is the file on disk.

        `current_sha256(table)` is the hash of the staged file now (None when absent). A pending commit
        whose files were all renamed is completed; otherwise it is rolled back: the old link stays, and
        each table records the hash actually on disk (old or new: replaying the changes from the old link
        onto either gives the same snapshot). A file whose hash the state does not know makes its list
        read in full: its link and cursor are dropped.
        """
        with self._transaction() as db:
            recovery = settle_pending(db, current_sha256, self._now)
        for line in recovery.warnings():
            log.warning("sync state: %s", line)
        return recovery

    # --- the ledger ----------------------------------------------------------------------------

    def start_run(
        self, kind: str, options: Mapping[str, Any], *, started_utc: dt.datetime | None = None
    ) -> int:
        """A new ledger row, status `running`; earlier rows still `running` are marked failed (interrupted)."""
        return self.ledger.start_run(kind, options, started_utc=started_utc)

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counts: RunCounts,
        *,
        error: RunError | None = None,
        ended_utc: dt.datetime | None = None,
    ) -> None:
        self.ledger.finish_run(run_id, status, counts, error=error, ended_utc=ended_utc)

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The last `limit` runs, newest first."""
        return self.ledger.runs(limit)

    # --- inside ---------------------------------------------------------------------------------

    def _forget_cursors(self) -> None:
        with self._transaction() as db:
            for table in CURSOR_STATE:
                db.execute(f"DELETE FROM {table}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT; any error rolls back, and SQLite errors become StateError."""
        db = self._connection
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StateError(f"sync state {self.path}: {exc}") from None

    def _one(self, sql: str, *parameters: object) -> Any:
        try:
            return self._connection.execute(sql, parameters).fetchone()
        except sqlite3.Error as exc:
            raise StateError(f"sync state {self.path}: {exc}") from None

    def _now(self) -> str:
        return self._clock().astimezone(dt.UTC).isoformat()
