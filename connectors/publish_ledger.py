"""The load transitions of the publish state, each one SQLite transaction (see connectors/publish_state.py).

open -> (chunks sent, acknowledged or ambiguous) -> committing -> committed; open -> abandoned;
committing -> uncertain -> resolved (a later committed load posted its keys again).

Beside them, the digest of what the published tables were built from (pipeline/publish_inputs.py), recorded
after a publish applied its whole plan and the state is settled; any new load removes it, in the
transaction that opens the load. A publish whose inputs have that digest has nothing to post
(docs/publishing.md, "When nothing changed").
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

HOUR_SECONDS = 3600.0
INPUTS_META = "published_inputs"  # the meta row holding the recorded digest (JSON)
UNSETTLED = ("open", "committing", "uncertain")  # a load in one of these may show, or hide, rows


@dataclass(frozen=True)
class RecordedInputs:
    """The digest of what the published tables were built from, recorded with the dataset it was published
    to and the last load committed to it then."""

    digest: str
    dataset_id: str
    load_id: str | None


class LoadLedger:
    """Mixed into PublishState: `_db`, `_transaction` and `loads` come from it."""

    _db: sqlite3.Connection

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _committing_load(self, load_seq: int) -> tuple[tuple[str, ...], tuple[int, ...], str]:
        row = self._db.execute(
            "SELECT full_tables, reload_tables, resolves, load_id FROM loads WHERE load_seq = ? AND status = 'committing'",
            (load_seq,),
        ).fetchone()
        if row is None:
            raise ValueError(f"load {load_seq} is not committing")
        whole = tuple(json.loads(row[0])) + tuple(json.loads(row[1]))
        return whole, tuple(json.loads(row[2])), str(row[3])

    def begin_load(
        self,
        load_seq: int,
        load_id: str,
        dataset_id: str,
        started_utc: str,
        *,
        full_tables: tuple[str, ...],
        reload_tables: tuple[str, ...],
        resolves: tuple[int, ...],
        rows_planned: int,
        versions: Mapping[str, pd.DataFrame],
    ) -> None:
        """Record a load as open, with the keys it will post, before its first POST. From now on the recorded
        inputs digest no longer describes what the dataset holds: it is removed in the same transaction."""
        with self._transaction() as db:
            db.execute("DELETE FROM meta WHERE name = ?", (INPUTS_META,))
            db.execute(
                "INSERT INTO loads (load_seq, load_id, dataset_id, status, started_utc, full_tables, "
                "reload_tables, resolves, rows_planned) VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?)",
                (
                    load_seq,
                    load_id,
                    dataset_id,
                    started_utc,
                    json.dumps(full_tables),
                    json.dumps(reload_tables),
                    json.dumps(resolves),
                    rows_planned,
                ),
            )
            for table, frame in versions.items():
                db.executemany(
                    "INSERT INTO load_versions (load_seq, table_name, key, hash, ref, tombstone) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    _version_rows(load_seq, table, frame),
                )

    def settled(self) -> bool:
        """No load is open, committing or uncertain, and no table's contents are unknown or waiting for a
        reload: what the versions say is what reports see."""
        loads = self._db.execute(
            f"SELECT COUNT(*) FROM loads WHERE status IN ({','.join('?' * len(UNSETTLED))})", UNSETTLED
        ).fetchone()[0]
        tables = self._db.execute(
            "SELECT COUNT(*) FROM tables WHERE unknown = 1 OR needs_reload = 1"
        ).fetchone()
        return int(loads) == 0 and int(tables[0]) == 0

    def published_inputs(self) -> RecordedInputs | None:
        """The recorded digest, or None (never recorded, or removed by a load since)."""
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (INPUTS_META,)).fetchone()
        if row is None:
            return None
        value = json.loads(row[0])
        return RecordedInputs(str(value["digest"]), str(value["dataset_id"]), value.get("load_id"))

    def record_published_inputs(self, digest: str, dataset_id: str) -> bool:
        """After a publish applied its whole plan to `dataset_id`: record the digest of what it built from,
        if the state is settled and describes that dataset (else remove any recorded one). True if recorded."""
        with self._transaction() as db:
            db.execute("DELETE FROM meta WHERE name = ?", (INPUTS_META,))
            bound = db.execute("SELECT value FROM meta WHERE name = 'dataset_id'").fetchone()
            if not self.settled() or bound is None or bound[0] != dataset_id:
                return False
            last = db.execute(
                "SELECT load_id FROM loads WHERE status = 'committed' AND dataset_id = ? "
                "ORDER BY load_seq DESC LIMIT 1",
                (dataset_id,),
            ).fetchone()
            record = {"digest": digest, "dataset_id": dataset_id, "load_id": last[0] if last else None}
            db.execute("INSERT INTO meta (name, value) VALUES (?, ?)", (INPUTS_META, json.dumps(record)))
            return True

    def chunk_sent(self, load_seq: int, table: str, chunk: int, rows: int, at: float) -> None:
        """Before a POST: its rows may be stored from now on, whatever answer comes."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO chunks (load_seq, table_name, chunk, rows, status, sent_at) "
                "VALUES (?, ?, ?, ?, 'sent', ?)",
                (load_seq, table, chunk, rows, at),
            )
            db.execute(
                "INSERT INTO tables (table_name, stored_rows) VALUES (?, ?) "
                "ON CONFLICT(table_name) DO UPDATE SET stored_rows = stored_rows + excluded.stored_rows",
                (table, rows),
            )

    def chunk_acked(self, load_seq: int, table: str, chunk: int, rows: int, at: float) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE chunks SET status = 'acked', acked_at = ? WHERE load_seq = ? AND table_name = ? AND chunk = ?",
                (at, load_seq, table, chunk),
            )
            db.execute(
                "UPDATE loads SET rows_acked = rows_acked + ?, posts = posts + 1 WHERE load_seq = ?",
                (rows, load_seq),
            )
            db.execute("INSERT INTO posts (at, rows) VALUES (?, ?)", (at, rows))
            db.execute("DELETE FROM posts WHERE at <= ?", (at - HOUR_SECONDS,))

    def chunk_ambiguous(self, load_seq: int, table: str, chunk: int, at: float) -> None:
        """A POST whose answer never came (or was a 5xx): counted for pacing as if it was accepted."""
        with self._transaction() as db:
            db.execute(
                "UPDATE chunks SET status = 'ambiguous', acked_at = ? "
                "WHERE load_seq = ? AND table_name = ? AND chunk = ?",
                (at, load_seq, table, chunk),
            )
            rows = db.execute(
                "SELECT rows FROM chunks WHERE load_seq = ? AND table_name = ? AND chunk = ?",
                (load_seq, table, chunk),
            ).fetchone()
            db.execute("INSERT INTO posts (at, rows) VALUES (?, ?)", (at, int(rows[0]) if rows else 0))

    def abandon(self, load_seq: int, reason: str, now_utc: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE loads SET status = 'abandoned', ended_utc = ?, reason = ? WHERE load_seq = ?",
                (now_utc, reason, load_seq),
            )
            db.execute("DELETE FROM load_versions WHERE load_seq = ?", (load_seq,))

    def committing(self, load_seq: int) -> None:
        """Before the `_loads` row is posted: from now on the load may be committed."""
        with self._transaction() as db:
            db.execute("UPDATE loads SET status = 'committing' WHERE load_seq = ?", (load_seq,))

    def uncertain(self, load_seq: int, reason: str, now_utc: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE loads SET status = 'uncertain', ended_utc = ?, reason = ? WHERE load_seq = ?",
                (now_utc, reason, load_seq),
            )

    def committed(self, load_seq: int, now_utc: str) -> None:
        """The `_loads` row was acknowledged: the load's versions become what reports see."""
        whole, resolves, load_id = self._committing_load(load_seq)
        with self._transaction() as db:
            for table in whole:
                db.execute("DELETE FROM versions WHERE table_name = ?", (table,))
            db.execute(
                "INSERT INTO versions (table_name, key, hash, ref, load_seq) "
                "SELECT table_name, key, hash, ref, load_seq FROM load_versions WHERE load_seq = ? AND tombstone = 0 "
                "ON CONFLICT(table_name, key) DO UPDATE SET hash = excluded.hash, ref = excluded.ref, "
                "load_seq = excluded.load_seq",
                (load_seq,),
            )
            db.execute(
                "DELETE FROM versions WHERE (table_name, key) IN "
                "(SELECT table_name, key FROM load_versions WHERE load_seq = ? AND tombstone = 1)",
                (load_seq,),
            )
            db.executemany(
                "UPDATE tables SET needs_reload = 0, unknown = 0 WHERE table_name = ?",
                [(table,) for table in whole],
            )
            db.execute(
                "UPDATE loads SET status = 'committed', ended_utc = ? WHERE load_seq = ?", (now_utc, load_seq)
            )
            marks = ",".join("?" * len(resolves))
            db.execute(
                f"UPDATE loads SET status = 'resolved', reason = 'posted again by load {load_id}' "
                f"WHERE load_seq IN ({marks})",
                resolves,
            )
            db.execute(
                f"DELETE FROM load_versions WHERE load_seq IN ({','.join('?' * (len(resolves) + 1))})",
                (load_seq, *resolves),
            )


def _version_rows(load_seq: int, table: str, frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    hashes = frame["hash"].to_numpy(dtype=np.uint64).view(np.int64).tolist()
    keys = frame["key"].to_numpy(dtype=object).tolist()
    refs = frame["ref"].to_numpy(dtype=object).tolist()
    tombstones = frame["tombstone"].to_numpy(dtype=bool).tolist()
    for key, hashed, ref, tombstone in zip(keys, hashes, refs, tombstones, strict=True):
        yield load_seq, table, key, hashed, ref, int(tombstone)
