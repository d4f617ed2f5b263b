"""Orchestration the CLI calls: one function per command, plans that `--dry-run` prints and the real run
applies, and progress reported as events that the caller renders (or ignores).

A writing command is planned first, then applied: `plan_init()` and `plan_schema_export()` return a
`Plan` of typed steps; `--dry-run` prints `plan.describe()`, the real run calls `apply(plan)`, which
executes exactly those steps (as sqlite-utils prints its transform SQL, then runs the same statements).
The next issues add plan_sync/sync, plan_publish/publish, plan_migrate/migrate and refresh here, with
their own steps (rows to post, a load to commit) and events.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from config.files import default_config_path
from config.report import example_config_text
from config.settings import Settings
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.files import read_tables, sample_data_dir
from connectors.http import build_session
from connectors.powerbi import PowerBIClient
from connectors.run_lock import LOCK_FILE_NAME, lock_holder
from connectors.run_report import LAST_RUN_FILE
from connectors.sync_state import STATE_FILE_NAME, SyncState
from errors import CetkError, ConfigError, SourceFormatError, ValidationFailed
from powerbi_dataset.export import ArrowPurpose, ExportFormat, export_text
from powerbi_dataset.model import DATASET
from powerbi_dataset.refresh import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    RefreshPlan,
    RefreshResult,
    plan_refresh,
    run_refresh,
)
from powerbi_dataset.schema import Dataset
from transforms.report import Report
from transforms.validate import validate_dataset

# --- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validating:
    """Tables are read; validation starts."""

    tables: int
    rows: int

    def describe(self) -> str:
        return f"Validating {self.rows} rows in {self.tables} table(s)"


@dataclass(frozen=True)
class StepApplied:
    """One step of a plan is done."""

    step: Step

    def describe(self) -> str:
        return self.step.done()


@dataclass(frozen=True)
class RefreshPolled:
    """The refresh history was read while waiting for a refresh to finish."""

    dataset: str
    status: str
    waited_seconds: float

    def describe(self) -> str:
        return f"Refresh of '{self.dataset}': {self.status} after {self.waited_seconds:.0f} s"


ProgressEvent = Validating | StepApplied | RefreshPolled
OnProgress = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default progress callback: a library caller that shows nothing."""


# --- plans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WriteFile:
    """Write `content` to `path`, creating the file or replacing the one there when planned."""

    path: Path
    content: bytes = field(repr=False)
    replace: bool  # the file existed when planned
    what: str  # what the content is, for people: "powerbi", "the annotated example config"
    error: type[CetkError] = CetkError  # raised, naming the path, when the write fails

    @property
    def action(self) -> str:
        return "replace" if self.replace else "create"

    def describe(self) -> str:
        return f"Would {self.action} {self.path} ({len(self.content)} bytes of {self.what})."

    def done(self) -> str:
        return f"Wrote {self.path}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": "write_file",
            "action": self.action,
            "path": str(self.path),
            "bytes": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
            "what": self.what,
        }


Step = WriteFile


@dataclass(frozen=True)
class Plan:
    """What a writing command will do, step by step: printed by --dry-run, executed by apply()."""

    steps: tuple[Step, ...]

    def describe(self) -> str:
        return "\n".join(step.describe() for step in self.steps) or "Nothing to do."

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [step.to_dict() for step in self.steps]}


def apply(plan: Plan, on_progress: OnProgress = ignore_progress) -> tuple[Step, ...]:
    """Execute exactly the plan's steps, in order; returns the steps done."""
    for step in plan.steps:
        _write(step)
        on_progress(StepApplied(step))
    return plan.steps


def _write(step: WriteFile) -> None:
    try:
        step.path.write_bytes(step.content)
    except OSError as exc:
        raise step.error(f"cannot write {step.path}: {exc.strerror}", hint="choose a writable path") from None


def plan_init(path: Path | None, environ: Mapping[str, str], *, force: bool = False) -> Plan:
    """`cetk init`: write the annotated example config to `path` (default CETK_CONFIG, else ./cetk.yaml)."""
    target = path or default_config_path(environ)
    if target.is_dir():
        raise ConfigError(
            f"{target} is a directory", hint=f"name the file to write, e.g. {target / 'cetk.yaml'}"
        )
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; not overwriting it", hint="pass --force to replace it")
    if not target.parent.exists():
        raise ConfigError(
            f"directory {target.parent} does not exist", hint="create it first or choose another path"
        )
    content = example_config_text().encode("utf-8")
    step = WriteFile(target, content, target.exists(), "the annotated example config", error=ConfigError)
    return Plan((step,))


def plan_schema_export(export_format: ExportFormat, purpose: ArrowPurpose, output: Path) -> Plan:
    """`cetk schema export --output`: write the exported model (replacing a file there: it is generated)."""
    content = export_text(export_format, purpose).encode("utf-8")
    return Plan((WriteFile(output, content, output.exists(), export_format.value),))


# --- validation --------------------------------------------------------------------------------


def parse_as_of(text: str | None) -> dt.datetime:
    """--as-of as an aware UTC datetime; a time without an offset is taken as UTC; default now."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CetkError(
            f"--as-of {text!r} is not an ISO 8601 date-time", hint="e.g. --as-of 2026-03-31T23:59:59Z"
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def validate_files(
    path: Path,
    *,
    table: str | None = None,
    as_of: dt.datetime | None = None,
    model_tables_only: bool = False,
    dataset: Dataset = DATASET,
    on_progress: OnProgress = ignore_progress,
) -> Report:
    """`cetk validate`: read a file or a directory of canonical tables and validate it against the model.

    One file holds the table its stem names (or `table`); a directory holds one file per table, and with
    model_tables_only its other files are not read.
    """
    names = [item.name for item in dataset.tables]
    if path.is_file() and (table or path.stem) not in names:  # one file: say how to name its table
        where = f"--table {table!r}" if table else f"the file name {path.name!r}"
        raise SourceFormatError(
            f"{where} does not name a table of the model",
            hint=f"pass --table with one of: {', '.join(names)}",
        )
    tables = read_tables(path, table, only=names if model_tables_only else None)
    on_progress(Validating(len(tables), sum(item.num_rows for item in tables.values())))
    return validate_dataset(tables, dataset, as_of=as_of)


def validate_sample(as_of: dt.datetime | None = None, *, on_progress: OnProgress = ignore_progress) -> Report:
    """`cetk demo`: validate the bundled sample data set (its errors are deliberate)."""
    sample = sample_data_dir()
    if not sample.is_dir():
        raise CetkError(
            f"the bundled sample data set is missing ({sample})", hint="reinstall cetk: make install"
        )
    return validate_files(sample, as_of=as_of, model_tables_only=True, on_progress=on_progress)


def raise_if_invalid(report: Report) -> None:
    """ValidationFailed, with the counts, when the report has any problem."""
    if report.valid:
        return
    rows = sum(report.rows_checked.values())
    raise ValidationFailed(
        f"validation found {counted(len(report.problems), 'problem')} in {counted(rows, 'row')}",
        report=report,
        hint="fix the rows named in the report (rules: docs/data-dictionary.md); --json lists every problem",
    )


def counted(number: int, noun: str) -> str:
    """`1 problem`, `2 problems`: a count with its noun in the right number."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


# --- status ------------------------------------------------------------------------------------


def status(state_dir: Path, *, limit: int = 20) -> dict[str, Any]:
    """`cetk status`: the run ledger's last `limit` runs, newest first. No state yet is not an error.

    Reads only: the state is opened read-only and the lock is never taken (a run may be starting).
    """
    path = state_dir / STATE_FILE_NAME
    holder = lock_holder(state_dir / LOCK_FILE_NAME)
    last_report = state_dir / LAST_RUN_FILE
    result: dict[str, Any] = {
        "state_file": str(path),
        "last_report": str(last_report) if last_report.exists() else None,
        "running": {"pid": holder.pid, "started_utc": holder.started_utc} if holder else None,
        "runs": [],
    }
    if not path.exists():
        result["message"] = (
            f"No sync has run yet: there is no sync state at {path}. Run `cetk sync` to start."
        )
        return result
    with SyncState.open(path, read_only=True) as state:
        result["runs"] = [run.to_dict() for run in state.runs(limit)]
    shown = len(result["runs"])
    result["message"] = (
        f"The last {counted(shown, 'run')}, newest first." if shown else "No run is recorded yet."
    )
    return result


# --- refresh -----------------------------------------------------------------------------------


def powerbi_client(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time
) -> PowerBIClient:
    """The Power BI client for the configured workspace, signed in as settings say."""
    if not settings.powerbi_workspace_id:
        raise ConfigError(
            "setting 'powerbi.workspace_id' is not set",
            hint="set powerbi.workspace_id in cetk.yaml or CETK_POWERBI_WORKSPACE_ID (the workspace's GUID)",
        )
    sign_in = SignIn(sign_in_config_from_settings(settings), sleep=sleep, clock=clock)
    host = urlsplit(settings.endpoints.powerbi).hostname or ""
    session = build_session(
        sign_in.token_provider("powerbi"),
        user_agent=settings.user_agent,
        ca_bundle=settings.ca_bundle,
        sleep=sleep,
        clock=clock,
        token_hosts=("analysis.windows.net", host),  # a 307 to another Power BI cluster keeps the token
    )
    return PowerBIClient(session, settings.endpoints.powerbi, settings.powerbi_workspace_id)


def refresh(
    settings: Settings,
    dataset_name: str,
    *,
    wait: bool = False,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    enhanced: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    on_progress: OnProgress = ignore_progress,
) -> RefreshPlan | RefreshResult:
    """`cetk refresh`: start a refresh of an import-mode dataset (or attach to the one running), and with
    `wait` poll its history until it finishes. A dry run returns the plan: start or attach, the budget left."""
    if timeout_seconds < 0 or poll_seconds <= 0:
        raise CetkError("--timeout must be 0 or more and --poll more than 0 seconds", hint="e.g. --poll 30")
    client = powerbi_client(settings, sleep=sleep, clock=clock)
    now = dt.datetime.fromtimestamp(clock(), dt.UTC)
    plan = plan_refresh(client, dataset_name, now=now, enhanced=enhanced)
    if dry_run:
        return plan

    def polled(status: str, waited: float) -> None:
        on_progress(RefreshPolled(plan.dataset_name, status, waited))

    return run_refresh(
        client,
        plan,
        wait=wait,
        timeout_seconds=timeout_seconds,
        poll_seconds=poll_seconds,
        clock=clock,
        sleep=sleep,
        on_poll=polled,
    )
