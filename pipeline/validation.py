"""`cetk validate` and `cetk demo`: read canonical files or the bundled sample and validate them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from connectors.files import read_tables, sample_data_dir
from errors import CetkError, SourceFormatError, ValidationFailed
from pipeline.progress import OnProgress, Validating, ignore_progress
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from transforms.report import Report
from transforms.validate import validate_dataset


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
