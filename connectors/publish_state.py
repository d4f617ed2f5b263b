"""The publish state: what the push dataset holds, as far as cetk knows, recorded so a crash cannot lie.

SQLite in the state directory (WAL, synchronous=FULL, 0600; every write one BEGIN IMMEDIATE transaction),
so a process killed at any instant leaves the state of the last finished transaction. It holds:

- the dataset it publishes to, and each table's definition as last created or put (the service's
  GetTables names tables but not their columns);
- per table, rows physically stored (counted when a POST is sent: it may be stored even if no answer came)
  and whether its contents are unknown or it was emptied for a reload;
- `versions`: per versioned table and key, the entity hash and version ref committed (what reports see);
- `loads` and `load_versions`: each load's status (open, abandoned, committing, committed, uncertain,
  resolved), what it restated, and the keys it posted (kept while its commit is uncertain);
- `chunks` (which were sent and which acknowledged) and `posts` (the last hour's POSTs, for pacing).
- the digest of what the last complete publish was built from (connectors/publish_ledger.py): a `meta`
  row, so the schema is unchanged and an older state file simply has none yet.

The order of writes around each request is the crash story (docs/publishing.md, crash matrix): a chunk
is recorded `sent` before its POST and `acked` after; a load is `committing` before its `_loads` row is
posted and `committed` after. At the next start, `settle()` turns `open` into `abandoned` (its commit row
was never sent: nothing of it is shown) and `committing` into `uncertain` (the next load posts every key
it touched again).

Folding into connectors/sync_state.py (i8-store): these tables become a migration of sync-state.sqlite3
(MIGRATIONS[n]) and PublishState a view on that connection, like its Ledger; the transitions stay as they
are. The run lock is connectors/run_lock.py's, the one a sync takes (pipeline/publish.py holds it).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from connectors.publish_ledger import HOUR_SECONDS, INPUTS_META, LoadLedger
from connectors.publish_state_db import STATE_FILE_NAME, connect, empty_in_memory

LoadStatus = str  # open | abandoned | committing | committed | uncertain | resolved


@dataclass(frozen=True)
class LoadRecord:
    load_seq: int
    load_id: str
    dataset_id: str
    status: LoadStatus
    started_utc: str
    full_tables: tuple[str, ...]
    reload_tables: tuple[str, ...]
    resolves: tuple[int, ...]  # uncertain loads whose keys this load posts again
    rows_planned: int
    rows_acked: int = 0
    posts: int = 0
    ended_utc: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class TableState:
    definition: str | None
    stored_rows: int
    unknown: bool
    needs_reload: bool


class PublishState(LoadLedger):
    """`with PublishState.open(state_dir) as state:` the publish state, created when absent."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, state_dir: Path, *, create: bool = True) -> PublishState:
        """The state in `state_dir`; with create=False (a dry run) a missing one is read as empty and
        nothing is written."""
        if not create and not (state_dir / STATE_FILE_NAME).exists():
            return cls(empty_in_memory(), state_dir / STATE_FILE_NAME)
        connection, path = connect(state_dir)
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PublishState:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- reading -------------------------------------------------------------------------------

    def dataset(self) -> tuple[str, str] | None:
        """(dataset id, name) the state describes, or None before the first publish."""
        values = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
        if "dataset_id" not in values:
            return None
        return values["dataset_id"], values["dataset_name"]

    def relationships(self) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE name = 'relationships'").fetchone()
        return None if row is None else str(row[0])

    def tables(self) -> dict[str, TableState]:
        rows = self._db.execute(
            "SELECT table_name, definition, stored_rows, unknown, needs_reload FROM tables"
        )
        return {
            name: TableState(definition, int(stored), bool(unknown), bool(reload))
            for name, definition, stored, unknown, reload in rows.fetchall()
        }

    def versions(self, table: str) -> pd.DataFrame:
        """Committed versions of a table: index key; hash (uint64), ref."""
        rows = self._db.execute(
            "SELECT key, hash, ref FROM versions WHERE table_name = ? ORDER BY key", (table,)
        ).fetchall()
        keys = [row[0] for row in rows]
        frame = pd.DataFrame(
            {
                "hash": np.array([row[1] for row in rows], dtype=np.int64).view(np.uint64),
                "ref": pd.array([row[2] for row in rows], dtype="string"),
            },
            index=pd.Index(keys, dtype="string", name="key"),
        )
        return frame

    def loads(self, *statuses: LoadStatus) -> list[LoadRecord]:
        marks = ",".join("?" * len(statuses))
        rows = self._db.execute(
            f"SELECT load_seq, load_id, dataset_id, status, started_utc, full_tables, reload_tables, resolves, "
            f"rows_planned, rows_acked, posts, ended_utc, reason FROM loads WHERE status IN ({marks}) "
            "ORDER BY load_seq",
            statuses,
        ).fetchall()
        return [_record(row) for row in rows]

    def last_load_seq(self) -> int:
        row = self._db.execute("SELECT MAX(load_seq) FROM loads").fetchone()
        return int(row[0] or 0)

    def load_keys(self, load_seq: int) -> dict[str, frozenset[str]]:
        """table -> keys a load posted (versions and tombstones)."""
        keys: dict[str, set[str]] = {}
        rows = self._db.execute("SELECT table_name, key FROM load_versions WHERE load_seq = ?", (load_seq,))
        for table, key in rows.fetchall():
            keys.setdefault(table, set()).add(key)
        return {table: frozenset(values) for table, values in keys.items()}

    def chunks(self, load_seq: int) -> list[tuple[str, int, int, str]]:
        """(table, chunk, rows, status) of a load's chunks, in the order they were sent."""
        rows = self._db.execute(
            "SELECT table_name, chunk, rows, status FROM chunks WHERE load_seq = ? ORDER BY sent_at, rowid",
            (load_seq,),
        )
        return [(str(t), int(c), int(r), str(s)) for t, c, r, s in rows.fetchall()]

    def recent_posts(self, now: float) -> list[tuple[float, int]]:
        rows = self._db.execute("SELECT at, rows FROM posts WHERE at > ? ORDER BY at", (now - HOUR_SECONDS,))
        return [(float(at), int(count)) for at, count in rows.fetchall()]

    # --- the dataset and its tables ------------------------------------------------------------

    def bind(
        self,
        dataset_id: str,
        name: str,
        definitions: Mapping[str, str],
        relationships: str,
        *,
        empty: bool,
        unknown_rows: int = 0,
    ) -> None:
        """Describe a new dataset: empty (cetk just created it) or of unknown contents (found in the
        workspace without a state for it: the next load restates every table, and its rows are unknown)."""
        with self._transaction() as db:
            for table in ("versions", "tables", "load_versions", "posts"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE name = ?", (INPUTS_META,))  # describes the old dataset
            db.execute(
                "UPDATE loads SET status = 'resolved', reason = 'dataset replaced' "
                "WHERE status IN ('open', 'committing', 'uncertain')"
            )
            db.executemany(
                "INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)",
                [("dataset_id", dataset_id), ("dataset_name", name), ("relationships", relationships)],
            )
            db.executemany(
                "INSERT INTO tables (table_name, definition, stored_rows, unknown) VALUES (?, ?, ?, ?)",
                [
                    (table, definition, 0 if empty else unknown_rows, 0 if empty else 1)
                    for table, definition in definitions.items()
                ],
            )

    def set_definition(self, table: str, definition: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO tables (table_name, definition) VALUES (?, ?) "
                "ON CONFLICT(table_name) DO UPDATE SET definition = excluded.definition",
                (table, definition),
            )

    def deleting_rows(self, table: str) -> None:
        """Before DeleteRows: the table counts as empty and must be loaded whole before it is shown again."""
        with self._transaction() as db:
            db.execute("UPDATE tables SET stored_rows = 0, needs_reload = 1 WHERE table_name = ?", (table,))

    # --- loads ---------------------------------------------------------------------------------

    def settle(self, now_utc: str) -> list[LoadRecord]:
        """After a crash: an `open` load is abandoned (its `_loads` row was never sent) and a `committing`
        load is uncertain (its `_loads` row may or may not be stored). Returns the loads it settled."""
        settled = self.loads("open", "committing")
        with self._transaction() as db:
            db.execute(
                "UPDATE loads SET status = 'abandoned', ended_utc = ?, reason = 'interrupted before commit' "
                "WHERE status = 'open'",
                (now_utc,),
            )
            db.execute(
                "UPDATE loads SET status = 'uncertain', ended_utc = ?, reason = 'interrupted during commit' "
                "WHERE status = 'committing'",
                (now_utc,),
            )
            db.execute(
                "DELETE FROM load_versions WHERE load_seq IN (SELECT load_seq FROM loads WHERE status = 'abandoned')"
            )
        return settled


def _record(row: Sequence[Any]) -> LoadRecord:
    (
        seq,
        load_id,
        dataset_id,
        status,
        started,
        full,
        reload,
        resolves,
        planned,
        acked,
        posts,
        ended,
        reason,
    ) = row
    return LoadRecord(
        int(seq),
        str(load_id),
        str(dataset_id),
        str(status),
        str(started),
        tuple(json.loads(full)),
        tuple(json.loads(reload)),
        tuple(json.loads(resolves)),
        int(planned),
        int(acked),
        int(posts),
        ended,
        reason,
    )
