"""The JSON run report, written for every run (ok, partial or failed), and the run that records it.

`recorded_run()` holds the run lock, opens the sync state (settling an interrupted commit), starts and
finishes the ledger row, and in all cases writes `runs/<run-id>.json` and `last-run.json` under the
state directory, atomically and 0600. A report holds counts, table and list names, file paths, hashes,
warnings and a redacted error: never an item value, a delta link (it carries a token) or a secret.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from config.logs import redact as redact_patterns
from config.settings import Paths
from connectors.durable_files import replace_durably
from connectors.quarantine import QuarantineFiles
from connectors.run_lock import LAST_RUN_FILE, LOCK_FILE_NAME, RunLock
from connectors.staging import PreparedSnapshot, current_sha256, remove_leftovers
from connectors.sync_records import RunCounts, RunError, RunStatus, TableCounts
from connectors.sync_state import STATE_FILE_NAME, SyncState, utc_now

REPORT_FORMAT = 1
RUNS_DIR = "runs"
KEEP_REPORTS = 1_000  # per-run reports kept in runs/ (a 15-minute schedule: about ten days)
PRIVATE_DIR_MODE = 0o700

Redact = Callable[[str], str]


class HttpWork(Protocol):
    """connectors.http.RequestStats, as far as the ledger reads it."""

    requests: int
    retries: int
    retry_wait_seconds: float


@dataclass
class RunRecorder:
    """What a run did, collected as it goes; the ledger row and the report are made from it."""

    kind: str
    options: Mapping[str, Any]
    started_utc: dt.datetime
    run_id: int | None = None
    state: SyncState | None = None
    ended_utc: dt.datetime | None = None
    tables: dict[str, TableCounts] = field(default_factory=dict)
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)
    staged: dict[str, dict[str, Any]] = field(default_factory=dict)
    quarantine: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[dict[str, str | None]] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    retry_wait_seconds: float = 0.0
    error: RunError | None = None
    failed_lists: int = 0
    published: dict[str, Any] | None = None  # what was published or refreshed after staging (powerbi.mode)

    def count(
        self, table: str, *, read: int = 0, valid: int = 0, quarantined: int = 0, deleted: int = 0
    ) -> None:
        self.tables[table] = self.tables.get(table, TableCounts()) + TableCounts(
            read, valid, quarantined, deleted
        )

    def list_done(
        self,
        name: str,
        list_id: str,
        *,
        items_read: int,
        items_deleted: int,
        full_read: bool,
        tables: list[str],
    ) -> None:
        self.lists[name] = {
            "list_id": list_id,
            "status": "ok",
            "items_read": items_read,
            "items_deleted": items_deleted,
            "full_read": full_read,
            "tables": sorted(tables),
        }

    def list_failed(
        self, name: str, list_id: str, error: BaseException, redact: Redact = redact_patterns
    ) -> None:
        """One list stopped (drift, a refused request) while the others go on: the run becomes partial."""
        self.failed_lists += 1
        self.lists[name] = {
            "list_id": list_id,
            "status": "failed",
            **RunError.from_exception(error, redact).to_dict(),
        }

    def warn(self, code: str, message: str, *, list_name: str | None = None) -> None:
        self.warnings.append({"code": code, "list": list_name, "message": message})

    def staged_snapshot(self, prepared: PreparedSnapshot) -> None:
        self.staged[prepared.table] = {
            "path": str(prepared.path),
            "rows": prepared.rows,
            "sha256": prepared.sha256,
            "changed": prepared.changed,
        }

    def quarantined(self, files: QuarantineFiles) -> None:
        self.quarantine[files.table] = files.to_dict()

    def add_http_work(self, stats: HttpWork) -> None:
        self.requests += stats.requests
        self.retries += stats.retries
        self.retry_wait_seconds += stats.retry_wait_seconds

    def fail(self, error: BaseException, redact: Redact) -> None:
        if self.error is None:
            self.error = RunError.from_exception(error, redact)

    @property
    def status(self) -> RunStatus:
        if self.error is not None:
            return "failed"
        quarantined = any(item.get("rows") for item in self.quarantine.values())
        if self.failed_lists or quarantined or any(item.quarantined for item in self.tables.values()):
            return "partial"
        return "ok"

    def counts(self) -> RunCounts:
        return RunCounts(dict(self.tables), self.requests, self.retries, self.retry_wait_seconds)

    def report(self) -> dict[str, Any]:
        ended = self.ended_utc
        return {
            "format": REPORT_FORMAT,
            "run_id": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "started_utc": self.started_utc.isoformat(),
            "ended_utc": ended.isoformat() if ended else None,
            "duration_seconds": round((ended - self.started_utc).total_seconds(), 3) if ended else None,
            "options": dict(self.options),
            "counts": self.counts().to_dict(),
            "lists": self.lists,
            "staged": self.staged,
            "quarantine": self.quarantine,
            "warnings": self.warnings,
            "publish": self.published,
            "error": self.error.to_dict() if self.error else None,
        }


@contextmanager
def recorded_run(
    paths: Paths,
    kind: str,
    options: Mapping[str, Any],
    *,
    full_refresh: bool = False,
    clock: Callable[[], dt.datetime] = utc_now,
    redact: Redact = redact_patterns,
) -> Iterator[RunRecorder]:
    """`with recorded_run(...) as run:` a locked run with its state (run.state) and ledger row; the
    report is written however the block ends (RunLocked and StateError included), then errors re-raise."""
    state_dir = paths.state_dir
    recorder = RunRecorder(kind, dict(options), clock())
    try:
        with (
            RunLock(state_dir / LOCK_FILE_NAME, clock=clock),
            SyncState.open(state_dir / STATE_FILE_NAME, full_refresh=full_refresh, clock=clock) as state,
        ):
            for directory in (paths.staging_dir, paths.quarantine_dir, state_dir, state_dir / RUNS_DIR):
                remove_leftovers(directory)
            for line in state.recover(current_sha256(paths)).warnings():
                recorder.warn("state-recovered", line)
            recorder.run_id = state.start_run(kind, options, started_utc=recorder.started_utc)
            recorder.state = state
            try:
                yield recorder
            except BaseException as error:
                recorder.fail(error, redact)
                raise
            finally:
                recorder.ended_utc = clock()
                state.finish_run(
                    recorder.run_id,
                    recorder.status,
                    recorder.counts(),
                    error=recorder.error,
                    ended_utc=recorder.ended_utc,
                )
                recorder.state = None
    except BaseException as error:
        recorder.fail(error, redact)
        raise
    finally:
        recorder.ended_utc = recorder.ended_utc or clock()
        write_run_report(state_dir, recorder.report(), redact=redact)


def report_path(state_dir: Path, run_id: int | None, started_utc: str) -> Path:
    if run_id is not None:
        return state_dir / RUNS_DIR / f"{run_id:06d}.json"
    stamp = dt.datetime.fromisoformat(started_utc).strftime("%Y%m%dT%H%M%S%fZ")
    return state_dir / RUNS_DIR / f"unrecorded-{stamp}-{os.getpid()}.json"  # failed before the ledger


def write_run_report(
    state_dir: Path, report: Mapping[str, Any], *, redact: Redact = redact_patterns, keep: int = KEEP_REPORTS
) -> Path:
    """Write the report as runs/<run-id>.json and last-run.json (atomic, 0600); returns the first path."""
    text = json.dumps(_redacted(report, redact), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    path = report_path(state_dir, report.get("run_id"), str(report["started_utc"]))
    path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    for target in (path, state_dir / LAST_RUN_FILE):
        _write_text(target, text)
    _prune(path.parent, keep)
    return path


def read_last_report(state_dir: Path) -> dict[str, Any] | None:
    try:
        value = json.loads((state_dir / LAST_RUN_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _redacted(value: Any, redact: Redact) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact(str(key)): _redacted(item, redact) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, redact) for item in value]
    return value


def _write_text(path: Path, text: str) -> None:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        replace_durably(Path(name), path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _prune(directory: Path, keep: int) -> None:
    reports = sorted(path for path in directory.glob("*.json") if path.name[:1].isdigit())
    for old in reports[: max(0, len(reports) - keep)]:
        old.unlink(missing_ok=True)
