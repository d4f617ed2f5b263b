"""The run ledger inside the sync state: one row per run (start, end, status, HTTP work, error) and its
counts per table. Written by SyncState's connection; read by `cetk status`."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from typing import Any, cast

from connectors.sync_records import RUN_STATUSES, RunCounts, RunError, RunRecord, RunStatus, TableCounts

INTERRUPTED = RunError(
    "interrupted", "the run ended without recording its end (killed, or the machine stopped)"
)

Transaction = Callable[[], AbstractContextManager[sqlite3.Connection]]


class Ledger:
    def __init__(
        self, connection: sqlite3.Connection, transaction: Transaction, clock: Callable[[], dt.datetime]
    ) -> None:
        self._connection = connection
        self._transaction = transaction
        self._clock = clock

    def start_run(
        self, kind: str, options: Mapping[str, Any], *, started_utc: dt.datetime | None = None
    ) -> int:
        now = (started_utc or self._clock()).astimezone(dt.UTC).isoformat()
        with self._transaction() as db:
            # Runs hold the run lock, so a row still `running` now belongs to a run that died.
            db.execute(
                "UPDATE runs SET status = 'failed', error_code = ?, error_message = ? WHERE status = 'running'",
                (INTERRUPTED.code, INTERRUPTED.message),
            )
            cursor = db.execute(
                "INSERT INTO runs (kind, options, started_utc, status) VALUES (?, ?, ?, 'running')",
                (kind, json.dumps(dict(options), sort_keys=True, default=str), now),
            )
            run_id = cursor.lastrowid
        assert run_id is not None
        return run_id

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        counts: RunCounts,
        *,
        error: RunError | None = None,
        ended_utc: dt.datetime | None = None,
    ) -> None:
        if status not in RUN_STATUSES or status == "running":
            raise ValueError(f"a run finishes ok, partial or failed, not {status!r}")
        now = (ended_utc or self._clock()).astimezone(dt.UTC).isoformat()
        with self._transaction() as db:
            updated = db.execute(
                "UPDATE runs SET ended_utc = ?, status = ?, requests = ?, retries = ?, retry_wait_seconds = ?, "
                "error_code = ?, error_message = ? WHERE run_id = ?",
                (
                    now,
                    status,
                    counts.requests,
                    counts.retries,
                    counts.retry_wait_seconds,
                    error.code if error else None,
                    error.message if error else None,
                    run_id,
                ),
            ).rowcount
            if updated != 1:
                raise ValueError(f"no run {run_id} in the ledger")
            db.execute("DELETE FROM run_tables WHERE run_id = ?", (run_id,))
            db.executemany(
                "INSERT INTO run_tables VALUES (?, ?, ?, ?, ?, ?)",
                (
                    (run_id, name, item.read, item.valid, item.quarantined, item.deleted)
                    for name, item in sorted(counts.tables.items())
                ),
            )

    def runs(self, limit: int = 20) -> list[RunRecord]:
        rows = self._connection.execute(
            "SELECT run_id, kind, options, started_utc, ended_utc, status, requests, retries, "
            "retry_wait_seconds, error_code, error_message FROM runs ORDER BY run_id DESC LIMIT ?",
            (max(0, limit),),
        ).fetchall()
        return [self._record(row) for row in rows]

    def _record(self, row: tuple[Any, ...]) -> RunRecord:
        run_id, kind, options, started, ended, status, requests, retries, waited, code, message = row
        return RunRecord(
            run_id=run_id,
            kind=kind,
            started_utc=dt.datetime.fromisoformat(started),
            ended_utc=dt.datetime.fromisoformat(ended) if ended else None,
            status=cast(RunStatus, status),
            options=json.loads(options),
            counts=RunCounts(dict(self._tables(run_id)), requests, retries, waited),
            error=RunError(code, message or "") if code else None,
        )

    def _tables(self, run_id: int) -> Iterator[tuple[str, TableCounts]]:
        for name, read, valid, quarantined, deleted in self._connection.execute(
            "SELECT table_name, read, valid, quarantined, deleted FROM run_tables WHERE run_id = ? "
            "ORDER BY table_name",
            (run_id,),
        ):
            yield name, TableCounts(read, valid, quarantined, deleted)
