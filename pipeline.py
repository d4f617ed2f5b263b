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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config.files import default_config_path
from config.report import example_config_text
from config.settings import Settings
from connectors.files import open_sources, sample_data_dir
from connectors.read_limits import DEFAULT_LIMITS, ReadLimits
from errors import CetkError, ConfigError, SourceFormatError, ValidationFailed
from powerbi_dataset.export import ArrowPurpose, ExportFormat, export_text
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from transforms.masking import Fingerprinter
from transforms.report import DEFAULT_MAX_LISTED, Report
from transforms.table_run import Batch, TableSource
from transforms.validate import validate_sources

# --- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validating:
    """Validation starts: the files are found and checked (regular files, within the size cap)."""

    tables: int

    def describe(self) -> str:
        return f"Validating {self.tables} table(s)"


@dataclass(frozen=True)
class RowsRead:
    """Another record batch of a table was checked; `rows` so far."""

    table: str
    rows: int

    def describe(self) -> str:
        return f"{self.table}: {self.rows:,} rows checked"


@dataclass(frozen=True)
class StepApplied:
    """One step of a plan is done."""

    step: Step

    def describe(self) -> str:
        return self.step.done()


ProgressEvent = Validating | RowsRead | StepApplied
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
    limits: ReadLimits = DEFAULT_LIMITS,
    max_problems: int = DEFAULT_MAX_LISTED,
    fingerprinter: Fingerprinter | None = None,
) -> Report:
    """`cetk validate`: stream a file or a directory of canonical tables through the model's checks.

    One file holds the table its stem names (or `table`); a directory holds one file per table, and with
    model_tables_only its other files are not read. Memory does not grow with the rows read (only 16
    bytes per row and key column); `limits` caps file size and rows, `max_problems` the problems listed
    (counts stay exact). Keys are fingerprinted with `fingerprinter`, else a random salt for this report.
    """
    names = [item.name for item in dataset.tables]
    if path.is_file() and (table or path.stem) not in names:  # one file: say how to name its table
        where = f"--table {table!r}" if table else f"the file name {path.name!r}"
        raise SourceFormatError(
            f"{where} does not name a table of the model",
            hint=f"pass --table with one of: {', '.join(names)}",
        )
    sources = open_sources(path, table, only=names if model_tables_only else None, limits=limits)
    on_progress(Validating(len(sources)))
    reported = {name: ReportingSource(name, source, on_progress) for name, source in sources.items()}
    return validate_sources(
        reported, dataset, as_of=as_of, fingerprinter=fingerprinter, max_listed=max_problems
    )


@dataclass(frozen=True)
class ReportingSource:
    """A table source that reports each batch read as a RowsRead event."""

    table: str
    source: TableSource
    on_progress: OnProgress

    @property
    def label(self) -> str:
        return self.source.label

    def header(self) -> Sequence[str]:
        return self.source.header()

    def batches(self, positions: Sequence[int]) -> Iterator[Batch]:
        rows = 0
        for batch in self.source.batches(positions):
            yield batch
            rows += batch.num_rows
            self.on_progress(RowsRead(self.table, rows))


def validate_sample(
    as_of: dt.datetime | None = None,
    *,
    on_progress: OnProgress = ignore_progress,
    fingerprinter: Fingerprinter | None = None,
) -> Report:
    """`cetk demo`: validate the bundled sample data set (its errors are deliberate)."""
    sample = sample_data_dir()
    if not sample.is_dir():
        raise CetkError(
            f"the bundled sample data set is missing ({sample})", hint="reinstall cetk: make install"
        )
    return validate_files(
        sample, as_of=as_of, model_tables_only=True, on_progress=on_progress, fingerprinter=fingerprinter
    )


def stable_fingerprinter(settings: Settings) -> Fingerprinter:
    """Fingerprints keyed by the pseudonymisation key: the same id, the same fingerprint, run after run."""
    if settings.secrets.pseudonymisation_key is None:
        raise ConfigError(
            "--stable-fingerprints needs the pseudonymisation key, which is not set",
            hint="set CETK_PSEUDONYMISATION_KEY or store it in the OS keyring (cetk config show lists it)",
        )
    return Fingerprinter.from_pseudonymisation_key(settings.secrets.pseudonymisation_key.reveal())


def raise_if_invalid(report: Report) -> None:
    """ValidationFailed, with the counts, when the report has any problem."""
    if report.valid:
        return
    rows = sum(report.rows_checked.values())
    raise ValidationFailed(
        f"validation found {counted(report.total_problems, 'problem')} in {counted(rows, 'row')}",
        report=report,
        hint="fix the rows named in the report (rules: docs/data-dictionary.md); --json lists every problem",
    )


def counted(number: int, noun: str) -> str:
    """`1 problem`, `2 problems`: a count with its noun in the right number."""
    return f"{number} {noun}" + ("" if number == 1 else "s")
