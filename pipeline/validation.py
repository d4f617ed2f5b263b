"""`cetk validate` and `cetk demo`: read canonical files or the bundled sample and validate them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from connectors.files import open_sources, sample_data_dir
from connectors.read_limits import DEFAULT_LIMITS, ReadLimits
from errors import CetkError, ConfigError, SourceFormatError, ValidationFailed
from pipeline.progress import OnProgress, RowsRead, Validating, ignore_progress
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from transforms.masking import Fingerprinter
from transforms.report import DEFAULT_MAX_LISTED, Report
from transforms.report import counted as counted  # re-exported: `cetk status` imports it light
from transforms.table_run import Batch, TableSource
from transforms.validate import validate_sources


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
