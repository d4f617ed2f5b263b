"""Validate tables against the canonical model: every problem, with a stable code, never an exception.

A table comes as a TableSource: a file read in record batches by connectors/files.py, or a table in
memory (ArrowSource). Each is checked batch by batch (transforms/table_run.py), keeping across batches
only hashes of the columns that keys, references and counts need (transforms/keys.py). Tables are read
targets first, so a reference is checked as its batch goes by. The rules come from the model
declaration (powerbi_dataset/model.py); figures are in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from powerbi_dataset.model import DATASET
from powerbi_dataset.rules import CountNotAbove
from powerbi_dataset.schema import Dataset, Table
from transforms.coerce import to_arrow
from transforms.keys import Counter128
from transforms.masking import Fingerprinter
from transforms.problems import UNKNOWN_TABLE
from transforms.report import DEFAULT_MAX_LISTED, Problem, ProblemCollector, Report
from transforms.table_run import Batch, RunContext, TableRun, TableSource

__all__ = [
    "ArrowSource",
    "Problem",
    "Report",
    "TableSource",
    "validate",
    "validate_dataset",
    "validate_sources",
]


@dataclass(frozen=True)
class ArrowSource:
    """A table already in memory, as one batch (or batches of `batch_rows`)."""

    table: pa.Table
    label: str = "the input"
    batch_rows: int | None = None

    def header(self) -> list[str]:
        return list(self.table.column_names)

    def batches(self, positions: Sequence[int]) -> Iterator[Batch]:
        selected = self.table.select(list(positions))
        step = self.batch_rows or max(self.table.num_rows, 1)
        for start in range(0, self.table.num_rows, step):
            yield selected.slice(start, step)


def validate(
    table: pa.Table | pd.DataFrame,
    model_table: Table,
    *,
    as_of: dt.datetime | None = None,
    fingerprinter: Fingerprinter | None = None,
    max_listed: int = DEFAULT_MAX_LISTED,
    details: bool = True,
) -> Report:
    """Check one table's columns, key and in-table rules; cross-table rules need validate_dataset.

    `details=False` leaves each problem's key and value "" (no fingerprints, no shown values): for a
    caller that acts on the rows, codes and columns only, as the Forms migration does for every row.
    """
    dataset = DATASET if model_table in DATASET.tables else Dataset(model_table.name, (model_table,))
    source = {model_table.name: ArrowSource(to_arrow(table))}
    return validate_sources(
        source,
        dataset,
        as_of=as_of,
        fingerprinter=fingerprinter,
        max_listed=max_listed,
        cross_table=False,
        details=details,
    )


def validate_dataset(
    tables: Mapping[str, pa.Table | pd.DataFrame],
    dataset: Dataset = DATASET,
    *,
    as_of: dt.datetime | None = None,
    fingerprinter: Fingerprinter | None = None,
    max_listed: int = DEFAULT_MAX_LISTED,
) -> Report:
    """Check every given table, then officer counts and foreign keys between the given tables."""
    sources = {name: ArrowSource(to_arrow(data)) for name, data in tables.items()}
    return validate_sources(sources, dataset, as_of=as_of, fingerprinter=fingerprinter, max_listed=max_listed)


def validate_sources(
    sources: Mapping[str, TableSource],
    dataset: Dataset = DATASET,
    *,
    as_of: dt.datetime | None = None,
    fingerprinter: Fingerprinter | None = None,
    max_listed: int = DEFAULT_MAX_LISTED,
    cross_table: bool = True,
    details: bool = True,
) -> Report:
    """Check tables read batch by batch; counts exact, at most `max_listed` problems listed.

    Without a fingerprinter, keys are fingerprinted with a random salt made for this report.
    """
    fingerprinter = fingerprinter or Fingerprinter.per_report()
    collector = ProblemCollector(max_listed)
    known = {table.name: table for table in dataset.tables}
    names = list(sources)
    for position, name in enumerate(names):
        if name not in known:
            collector.count(name, UNKNOWN_TABLE.code, 1)
            message = f"{name!r} is not a table of the model"
            collector.add((-1, 0, position), Problem(name, -1, "", "", UNKNOWN_TABLE.code, message, ""))
    given = [name for name in names if name in known]
    context = RunContext(dataset, collector, fingerprinter, as_of, given, details=details)
    for parent in given:
        for index, rule in enumerate(known[parent].rules):
            if isinstance(rule, CountNotAbove) and rule.child_table in given:
                context.child_counts[(parent, index)] = Counter128()
    for name in reading_order(given, dataset):
        run = TableRun(known[name], names.index(name), context)
        run.read(sources[name])
        context.done[name] = run
    if cross_table:
        _check_counts(context)
    rows_checked = {name: context.done[name].rows for name in given}
    # Each run refers to the context and the context to each run: without this the key hashes of every
    # table (16 bytes a row and column) would wait for Python's cyclic collector, which a sync pauses.
    context.done.clear()
    return collector.report(rows_checked, context.skipped, fingerprinter.describe(), order=names)


def _check_counts(context: RunContext) -> None:
    """Count rules (rows of a child table per parent key) once both tables are read."""
    for parent in context.given:
        run = context.done[parent]
        for index, rule in enumerate(run.model.rules):
            if not isinstance(rule, CountNotAbove) or not run.readable:
                continue
            child = context.done.get(rule.child_table)
            counter = context.child_counts.get((parent, index))
            if index not in run.limits or child is None or counter is None or rule.key not in child.columns:
                context.skipped.append(f"{parent}:{rule.code}")
                continue
            run.check_count(index, counter)


def reading_order(given: Sequence[str], dataset: Dataset) -> list[str]:
    """The given tables, each relationship's target before its source where the links allow (Kahn's
    algorithm, ties in input order); a cycle is broken at the earliest table in the input."""
    waits_for: dict[str, set[str]] = {name: set() for name in given}
    for relationship in dataset.relationships:
        source, target = relationship.from_table, relationship.to_table
        if source in waits_for and target in waits_for and source != target:
            waits_for[source].add(target)
    order: list[str] = []
    remaining = list(given)
    while remaining:
        ready = [name for name in remaining if not waits_for[name] - set(order)]
        chosen = ready[0] if ready else remaining[0]
        order.append(chosen)
        remaining.remove(chosen)
    return order
