"""How one table's findings become Problems: only the rows the collector still wants, each value through
the masking rule, and each row's key shown as fingerprints (transforms/masking.py).

The checking (what is wrong, and where) is transforms/table_run.py; this module decides what a person
is shown of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pyarrow as pa

from powerbi_dataset.schema import Column, Dataset, Table
from transforms.keys import Bools, Rows, Words
from transforms.masking import (
    Display,
    Fingerprinter,
    column_display,
    identifier_columns,
    length_text,
    shown_value,
)
from transforms.problems import TOO_LONG
from transforms.report import Problem, ProblemCollector
from transforms.rules import Finding

Hashed = tuple[Words, Words, Bools]
Rank = tuple[int, ...]  # (stage, ...): the order a row's problems are listed in
Described = tuple[list[str], list[str]]  # each chosen row's key and shown value


class TableProblems:
    """The problems of one table (the `index`-th read), written to the run's collector."""

    def __init__(
        self,
        model: Table,
        index: int,
        dataset: Dataset,
        collector: ProblemCollector,
        fingerprinter: Fingerprinter,
        *,
        details: bool,
    ) -> None:
        self.name, self.model, self.index = model.name, model, index
        self.collector, self.fingerprinter, self.details = collector, fingerprinter, details
        identifiers = identifier_columns(model, dataset)
        self.display = {c.name: column_display(c, identifier=c.name in identifiers) for c in model.columns}
        self._table_problems = 0

    def table_problem(self, code: str, column: str, message: str) -> None:
        """A problem of the whole table (its header), listed before any row's."""
        self.collector.count(self.name, code, 1)
        self._table_problems += 1
        if self.collector.wanted(self.name, code, 1):
            problem = Problem(self.name, -1, "", column, code, message, "")
            self.collector.add((self.index, 0, self._table_problems), problem)

    def report(
        self, finding: Finding, rank: Rank, offset: int, describe: Callable[[Rows], Described]
    ) -> None:
        """Count the finding's rows; for those wanted, `describe` gives keys and values (unless no details)."""
        if not len(finding.rows):  # most checks find nothing: nothing to count or list
            return
        self.collector.count(self.name, finding.code, len(finding.rows))
        chosen = finding.rows[: self.collector.wanted(self.name, finding.code, len(finding.rows))]
        if not len(chosen):
            return
        if self.details:
            keys, texts = describe(chosen)
        else:
            keys = texts = [""] * len(chosen)
        rows = (chosen + offset).tolist()
        name, column, code, message = self.name, finding.column, finding.code, finding.message
        problems = [
            Problem(name, row, key, column, code, message, text)
            for row, key, text in zip(rows, keys, texts, strict=True)
        ]
        self.collector.add_many(name, code, [(self.index, 1, row, *rank) for row in rows], problems)

    def batch_values(
        self, column: Column, chosen: Rows, raw: pa.Array, parsed: pa.Array, code: str
    ) -> list[str]:
        """The chosen rows' values of one batch's column, as shown: a length, a fingerprint or masked."""
        indices = pa.array(chosen)
        values = raw.take(indices).to_pylist()
        if code == TOO_LONG.code:
            return [length_text(value) for value in values]
        display = self.display[column.name]
        prints = [""] * len(values)
        if display == "fingerprint":
            prints = self.fingerprinter.of_array(parsed.take(indices))
        return shown_values(values, column, display, prints)

    def keys(self, hashes: dict[str, Hashed], chosen: Rows) -> list[str]:
        """Each chosen row's key as fingerprints joined with '|' ('' for an empty or unparseable part).

        `hashes` holds each key column's hashes of all rows (those of a batch, or of the whole table).
        """
        if not self.model.key or any(name not in hashes for name in self.model.key):
            return [""] * len(chosen)
        parts = []
        for name in self.model.key:
            first, second, present = pick(hashes[name], chosen)
            shown = self.fingerprinter.of_hashes(first.tolist(), second.tolist())
            parts.append([text if ok else "" for text, ok in zip(shown, present.tolist(), strict=True)])
        return ["|".join(row) for row in zip(*parts, strict=True)]


def shown_values(values: list[object], column: Column, display: Display, prints: list[str]) -> list[str]:
    """shown_value for each value, once per distinct (value, fingerprint): many rows repeat a value."""
    done: dict[tuple[type, object, str], str] = {}  # the type too: True == 1, but they show differently
    shown = []
    for value, fingerprint in zip(values, prints, strict=True):
        if not isinstance(value, str | int | float | dt.date) and value is not None:
            shown.append(shown_value(value, column, display, fingerprint))  # a list or a struct
            continue
        seen = (type(value), value, fingerprint)
        text = done.get(seen)
        if text is None:
            text = done[seen] = shown_value(value, column, display, fingerprint)
        shown.append(text)
    return shown


def pick(hashed: Hashed, rows: Rows) -> Hashed:
    return hashed[0][rows], hashed[1][rows], hashed[2][rows]
