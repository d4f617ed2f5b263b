"""Quarantine: per table, the rows that failed validation with their reasons, re-checked every run.

`<table>.parquet` holds the normalised (already minimised) rows, every column nullable, plus a list of
reasons per row (column, rule code, message, masked value), so the next run validates them again with
the new data: a row fixed at source is replaced by its new version, and a row that turns valid leaves.
`<table>.csv` is for people: one line per problem with the item key as validation shows it (personal
parts masked), column, rule, masked value and message; never free text or demographics (personal
columns and free-text columns show `***`). Both files are 0600 and replaced atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.safe_csv import write_csv
from connectors.staging import (
    PRIVATE_DIR_MODE,
    WRITER_OPTIONS,
    dictionary_columns,
    fsync_directory,
    fsync_file,
    replace_durably,
)
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Column, Dataset, Table
from transforms.report import Problem

REASONS = "_quarantine_reasons"
REASON_TYPE = pa.list_(
    pa.struct(
        [
            pa.field("column", pa.string()),
            pa.field("code", pa.string()),
            pa.field("message", pa.string()),
            pa.field("value", pa.string()),  # masked, as the CSV shows it
        ]
    )
)
CSV_HEADER = ("table", "item_key", "column", "rule", "value", "message")
MASK = "***"  # as transforms/report.py (and the masking module of i7-validate) show a hidden value


@dataclass(frozen=True)
class QuarantineFiles:
    table: str
    parquet: Path
    csv: Path
    rows: int
    problems: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "rows": self.rows,
            "problems": self.problems,
            "parquet": str(self.parquet) if self.rows else None,
            "csv": str(self.csv) if self.rows else None,
        }


def quarantine_schema(table: Table) -> pa.Schema:
    """The table's staging schema with every column nullable: a quarantined row may lack a required value."""
    staging = arrow_schema(table, "staging")
    return pa.schema([field.with_nullable(True) for field in staging], metadata=staging.metadata)


def csv_value(problem: Problem, table: Table) -> str:
    """The value a person may see: the problem's masked value, or *** for free text and personal columns."""
    if not problem.value or not problem.column:
        return problem.value
    try:
        column = table.column(problem.column)
    except KeyError:
        return MASK
    return MASK if column.personal != "none" or _is_free_text(column, table) else problem.value


def _is_free_text(column: Column, table: Table) -> bool:
    """Text a person typed (names, notes, summaries), as opposed to codes, patterns and keys."""
    return (
        column.kind == "String" and not column.codes and not column.pattern and column.name not in table.key
    )


@dataclass(frozen=True)
class Split:
    """Checked rows parted by their problems: `valid` to stage, `invalid` (with `problems`, whose `row`
    now indexes `invalid`) to quarantine."""

    valid: pa.Table
    invalid: pa.Table
    problems: tuple[Problem, ...]


def split_by_problems(rows: pa.Table, problems: Sequence[Problem]) -> Split:
    """Part `rows` by the row-level problems of a validation of exactly these rows. Every problem must be
    listed: a report that lists only some (a cap on listed problems) would let bad rows through."""
    bad = sorted({problem.row for problem in problems if problem.row >= 0})
    if bad and bad[-1] >= rows.num_rows:
        raise ValueError(f"problem for row {bad[-1]} but only {rows.num_rows} rows were checked")
    position = {row: index for index, row in enumerate(bad)}
    is_bad = pa.array([False] * rows.num_rows)
    if bad:
        is_bad = pc.is_in(pa.array(range(rows.num_rows)), value_set=pa.array(bad))
    moved = tuple(replace(problem, row=position[problem.row]) for problem in problems if problem.row >= 0)
    return Split(rows.filter(pc.invert(is_bad)), rows.take(pa.array(bad, pa.int64())), moved)


class Quarantine:
    """The quarantine folder of one run (Settings.paths.quarantine_dir)."""

    def __init__(self, directory: Path, dataset: Dataset = DATASET) -> None:
        self.directory = directory
        self.dataset = dataset

    def paths(self, table: str) -> tuple[Path, Path]:
        self.dataset.table(table)  # an unknown table is a ModelError, never a path built from a name
        return self.directory / f"{table}.parquet", self.directory / f"{table}.csv"

    def load_quarantined(
        self, table: str, *, exclude: Collection[Any] = (), by: str | None = None
    ) -> pa.Table:
        """The quarantined rows of `table` (quarantine_schema), less those whose `by` column (default: the
        first key column, the item) is in `exclude`: items changed or deleted at source this run."""
        model = self.dataset.table(table)
        parquet, _ = self.paths(table)
        schema = quarantine_schema(model)
        if not parquet.exists():
            return schema.empty_table()
        rows = pq.read_table(parquet, columns=schema.names).cast(schema)
        if exclude:
            column = rows.column(by or model.key[0])
            values = pa.array(list(exclude), type=column.type)
            rows = rows.filter(pc.invert(pc.fill_null(pc.is_in(column, value_set=values), False)))
        return rows

    def replace_quarantine(self, table: str, rows: pa.Table, problems: Sequence[Problem]) -> QuarantineFiles:
        """Replace the table's quarantine with `rows` and their problems (Problem.row indexes `rows`);
        with no rows, the files are removed. Table-level problems (row -1) are not about a row: ignored."""
        model = self.dataset.table(table)
        parquet, csv = self.paths(table)
        by_row: dict[int, list[Problem]] = {}
        for problem in problems:
            if problem.row >= 0:
                if problem.row >= rows.num_rows:
                    raise ValueError(f"problem for row {problem.row} but only {rows.num_rows} rows given")
                by_row.setdefault(problem.row, []).append(problem)
        if len(by_row) != rows.num_rows:
            raise ValueError("every quarantined row needs at least one problem")
        if rows.num_rows == 0:
            for path in (parquet, csv):
                path.unlink(missing_ok=True)
            if self.directory.exists():
                fsync_directory(self.directory)
            return QuarantineFiles(table, parquet, csv, 0, 0)
        self.directory.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        schema = quarantine_schema(model)
        reasons = [
            [
                {"column": p.column, "code": p.code, "message": p.message, "value": csv_value(p, model)}
                for p in by_row[row]
            ]
            for row in range(rows.num_rows)
        ]
        stored = rows.select(schema.names).cast(schema).append_column(REASONS, pa.array(reasons, REASON_TYPE))
        order = pc.sort_indices(stored, sort_keys=[(name, "ascending") for name in model.key])
        _write_parquet(parquet, stored.take(order), dictionary_columns(model))
        lines = [
            (table, p.key, p.column, p.code, csv_value(p, model), p.message)
            for row in order.to_pylist()
            for p in by_row[row]
        ]
        write_csv(csv, CSV_HEADER, lines, private=True)
        return QuarantineFiles(table, parquet, csv, rows.num_rows, len(lines))

    def files(self) -> list[QuarantineFiles]:
        """The quarantine files present now, per table, with their row counts."""
        found = []
        for model in self.dataset.tables:
            parquet, csv = self.paths(model.name)
            if parquet.exists():
                metadata = pq.read_metadata(parquet)
                problems = sum(
                    len(item) for item in pq.read_table(parquet, columns=[REASONS])[REASONS].to_pylist()
                )
                found.append(QuarantineFiles(model.name, parquet, csv, metadata.num_rows, problems))
        return found


def _write_parquet(path: Path, table: pa.Table, dictionary: list[str]) -> None:
    descriptor, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    temporary = Path(name)
    try:
        pq.write_table(table, temporary, use_dictionary=dictionary, **WRITER_OPTIONS)
        fsync_file(temporary)
        replace_durably(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
