"""The problems one page's normalisation finds, collected as row masks and turned into masked Problems.

A value shown in a Problem is masked (`***`) when it is personal (a person, a staff number, a
demographic answer) and otherwise scrubbed of personal details and cut to 40 characters, so a report
or quarantine file never carries what minimisation removed. Messages name the item id, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Column, Dataset
from transforms.coerce import Mask
from transforms.masking import MASK, shown_value
from transforms.minimise import scrub_texts
from transforms.problems import ProblemType
from transforms.report import Problem, Report

__all__ = ["ProblemLog"]

Rows = npt.NDArray[np.int64]


@dataclass(frozen=True)
class _Flag:
    table: str
    column: str
    problem: ProblemType
    message: str
    rows: Rows
    values: tuple[object, ...]  # the flagged values as read (shown only once masked or scrubbed)
    secret: bool


@dataclass
class ProblemLog:
    dataset: Dataset = DATASET  # whose columns say which values are safe to show
    flags: list[_Flag] = field(default_factory=list)

    def add(
        self,
        table: str,
        column: str,
        problem: ProblemType,
        message: str,
        rows: Mask | Rows,
        values: object = None,
        *,
        secret: bool = False,
    ) -> None:
        """Flag `rows` (a mask over the table, or row positions); `values` are aligned with `rows`' mask
        or positions, and shown masked (`secret`) or scrubbed."""
        positions = np.flatnonzero(rows) if rows.dtype == np.bool_ else np.asarray(rows, dtype=np.int64)
        if not len(positions):
            return
        picked: list[object] = [None] * len(positions)
        by_mask = rows.dtype == np.bool_
        if isinstance(values, pa.Array | pa.ChunkedArray):
            picked = (values.take(pa.array(positions)) if by_mask else values).to_pylist()
        elif isinstance(values, Sequence):
            picked = [values[i] for i in positions] if by_mask else list(values)
        self.flags.append(_Flag(table, column, problem, message, positions, tuple(picked), secret))

    def texts_to_show(self) -> list[str]:
        """The text values problems will show (scrubbed first: see _shown)."""
        return [
            value for flag in self.flags if not flag.secret for value in flag.values if isinstance(value, str)
        ]

    def report(
        self, keys: Mapping[str, tuple[pa.Array, bool]], item_ids: Sequence[str], rows: Mapping[str, int]
    ) -> Report:
        """Problems ordered by table, row and the order found.

        `keys` gives each table's key column and whether it is personal (then shown as ***).
        """
        built: list[tuple[str, int, int, Problem]] = []
        shown_by_flag = _shown(self.flags, self.dataset)
        for order, (flag, shown_values) in enumerate(zip(self.flags, shown_by_flag, strict=True)):
            key_values, personal = keys.get(flag.table, (pa.array([], pa.string()), False))
            for row, shown in zip(flag.rows.tolist(), shown_values, strict=True):
                key = ""
                if 0 <= row < len(key_values) and key_values[row].is_valid:
                    key = MASK if personal else str(key_values[row].as_py())
                where = f"item {item_ids[row]}: " if 0 <= row < len(item_ids) else ""
                problem = Problem(
                    flag.table, row, key, flag.column, flag.problem.code, where + flag.message, shown
                )
                built.append((flag.table, row, order, problem))
        built.sort(key=lambda entry: entry[:3])
        return Report(tuple(entry[3] for entry in built), dict(rows))


def _shown(flags: Sequence[_Flag], dataset: Dataset) -> list[tuple[str, ...]]:
    """Each flag's values as report text: *** when secret, else scrubbed (one pass for the page) and cut."""
    texts = [value for flag in flags if not flag.secret for value in flag.values if isinstance(value, str)]
    scrubbed = scrub_texts(texts) if texts else []
    cleaned = iter(scrubbed)
    shown = []
    for flag in flags:
        if flag.secret:
            shown.append(tuple("" if value is None else MASK for value in flag.values))
            continue
        column = _canonical_column(dataset, flag.table, flag.column)
        shown.append(
            tuple(
                _shown_value(_compact(next(cleaned) if isinstance(value, str) else value), column)
                for value in flag.values
            )
        )
    return shown


def _canonical_column(dataset: Dataset, table: str, column: str) -> Column | None:
    """The model's column a flag is about (`bridge.column` for a bridge table's); None when undeclared."""
    if "." in column:
        table, column = column.split(".", 1)
    declared = next((item for item in dataset.tables if item.name == table), None)
    if declared is None:
        return None
    return next((item for item in declared.columns if item.name == column), None)


def _shown_value(value: object, column: Column | None) -> str:
    """The one masking rule (transforms/masking.py): shown only in a column safe to show, with a safe shape."""
    if value is None:
        return ""
    return MASK if column is None else shown_value(value, column, "value")


def _compact(value: object) -> object:
    """Lists and objects as short text (the shape matters to the reader, their contents are not shown)."""
    if isinstance(value, list):
        return f"<list of {len(value)}>"
    if isinstance(value, dict):
        return "<object>"
    return value
