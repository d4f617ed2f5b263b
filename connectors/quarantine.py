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
import re
import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.durable_files import file_sha256, fsync_file
from connectors.safe_csv import write_csv
from connectors.staging import (
    ABSENT,
    PRIVATE_DIR_MODE,
    QUARANTINE_PREFIX,
    PreparedSnapshot,
    writer_options,
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
# transforms.list_mapping.ITEM_KEY_TEMPLATE: "sp:{list_id}:{item_id}"
SHAREPOINT_ITEM_KEY = re.compile(r"sp:[0-9A-Fa-f-]{36}:[0-9]{1,10}")
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


def item_reference(key: object, fingerprint: str) -> str:
    """How a person finds the row at source: a SharePoint item key (list GUID and item number, nothing
    about a person) as it is; any other key only as the report's fingerprint (the one masking rule)."""
    if isinstance(key, str) and SHAREPOINT_ITEM_KEY.fullmatch(key):
        return key
    return fingerprint


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
    is_bad = np.zeros(rows.num_rows, dtype=np.bool_)
    is_bad[bad] = True
    moved = tuple(  # Problem(...) rather than dataclasses.replace: the same value, some 5 times faster
        Problem(p.table, position[p.row], p.key, p.column, p.code, p.message, p.value)
        for p in problems
        if p.row >= 0
    )
    valid = rows.filter(pa.array(~is_bad)) if bad else rows  # filtering to keep every row copies them all
    return Split(valid, rows.take(pa.array(bad, pa.int64())), moved)


@dataclass(frozen=True)
class PreparedQuarantine:
    """A table's next quarantine files, to rename with the list's staged tables (staging.commit_list)."""

    files: QuarantineFiles
    snapshots: tuple[PreparedSnapshot, PreparedSnapshot]  # the Parquet (tracked by the state), the CSV

    def publish(self) -> None:
        for snapshot in self.snapshots:
            snapshot.publish()

    def discard(self) -> None:
        for snapshot in self.snapshots:
            snapshot.discard()


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
        """prepare_quarantine() and publish at once: for callers outside a sync's list commit."""
        prepared = self.prepare_quarantine(table, rows, problems)
        prepared.publish()
        return prepared.files

    def prepare_quarantine(
        self, table: str, rows: pa.Table, problems: Sequence[Problem]
    ) -> PreparedQuarantine:
        """The table's next quarantine: `rows` and their problems (Problem.row indexes `rows`; table-level
        problems, row -1, are not about a row and are ignored), written to temporary files (fsynced) for
        staging.commit_list to rename with the list's staged tables; with no rows, the files go. A file
        whose bytes would not change is left alone."""
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
        names = (QUARANTINE_PREFIX + parquet.name, QUARANTINE_PREFIX + csv.name)
        if rows.num_rows == 0:
            gone = (
                PreparedSnapshot(names[0], parquet, None, ABSENT, 0, remove=parquet.exists()),
                PreparedSnapshot(names[1], csv, None, ABSENT, 0, remove=csv.exists(), tracked=False),
            )
            return PreparedQuarantine(QuarantineFiles(table, parquet, csv, 0, 0), gone)
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
        item_keys = rows.column(model.key[0]).to_pylist() if model.key else [None] * rows.num_rows
        lines = [
            (table, item_reference(item_keys[row], p.key), p.column, p.code, csv_value(p, model), p.message)
            for row in order.to_pylist()
            for p in by_row[row]
        ]

        def write_parquet(path: Path) -> None:
            pq.write_table(stored.take(order), path, **writer_options(model))

        def write_people_csv(path: Path) -> None:
            write_csv(path, CSV_HEADER, lines, private=True)

        prepared = (
            _prepare_file(names[0], parquet, rows.num_rows, write_parquet, tracked=True),
            _prepare_file(names[1], csv, len(lines), write_people_csv, tracked=False),
        )
        return PreparedQuarantine(QuarantineFiles(table, parquet, csv, rows.num_rows, len(lines)), prepared)

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


def _prepare_file(
    name: str, path: Path, rows: int, write: Callable[[Path], None], *, tracked: bool
) -> PreparedSnapshot:
    """Write a file's next version beside it (fsynced); unchanged bytes leave the old file alone."""
    descriptor, temporary_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    temporary = Path(temporary_name)
    try:
        write(temporary)
        fsync_file(temporary)
        digest = file_sha256(temporary)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    assert digest is not None
    if digest == file_sha256(path):
        temporary.unlink()
        return PreparedSnapshot(name, path, None, digest, rows, tracked=tracked)
    return PreparedSnapshot(name, path, temporary, digest, rows, tracked=tracked)
