"""Validation results as data: a Problem has a stable code, a Report collects them (as in frictionless).

Values in a Problem are masked before it is built (`mask_value`), so a report can be logged, written
to JSON or shown in the CLI without leaking personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from powerbi_dataset.schema import Column

MASK = "***"
MAX_VALUE_CHARS = 40
ELLIPSIS = "…"


@dataclass(frozen=True)
class Problem:
    table: str
    row: int  # 0-based position in the input table; -1 for a table-level problem
    key: str  # primary key values joined with "|" (personal parts masked); '' when absent
    column: str  # '' for a table-level problem
    code: str
    message: str  # never holds a raw value
    value: str  # masked: see mask_value


@dataclass(frozen=True)
class Report:
    problems: tuple[Problem, ...]
    rows_checked: dict[str, int] = field(default_factory=dict)
    skipped_rules: tuple[str, ...] = ()  # "table:code" of rules that could not be checked

    @property
    def valid(self) -> bool:
        return not self.problems

    def flatten(self, fields: Sequence[str]) -> list[list[Any]]:
        """One list per problem with the named fields, e.g. flatten(["row", "column", "code"])."""
        return [[getattr(problem, name) for name in fields] for problem in self.problems]

    def counts(self) -> dict[str, dict[str, int]]:
        """Number of problems by table, then by code."""
        result: dict[str, dict[str, int]] = {}
        for problem in self.problems:
            by_code = result.setdefault(problem.table, {})
            by_code[problem.code] = by_code.get(problem.code, 0) + 1
        return result

    def invalid_rows(self, table: str) -> set[int]:
        """Row positions of `table` with at least one row-level problem."""
        return {problem.row for problem in self.problems if problem.table == table and problem.row >= 0}

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "rows_checked": dict(self.rows_checked),
            "counts": self.counts(),
            "problems": [asdict(problem) for problem in self.problems],
            "skipped_rules": list(self.skipped_rules),
        }

    @staticmethod
    def merge(reports: Iterable[Report]) -> Report:
        """One report from many; rows of the same table are added up."""
        problems: list[Problem] = []
        rows_checked: dict[str, int] = {}
        skipped: dict[str, None] = {}
        for report in reports:
            problems.extend(report.problems)
            for table, rows in report.rows_checked.items():
                rows_checked[table] = rows_checked.get(table, 0) + rows
            skipped.update(dict.fromkeys(report.skipped_rules))
        return Report(tuple(problems), rows_checked, tuple(skipped))


def value_text(value: object) -> str:
    """A scalar as report text: '' for null, ISO-8601 for datetimes, lower-case booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def mask_value(value: object, column: Column | None) -> str:
    """The text a Problem may carry: *** for personal data, else at most 40 chars ('' for null)."""
    if value is None:
        return ""
    if column is not None and column.personal != "none":
        return MASK
    text = value_text(value)
    if len(text) > MAX_VALUE_CHARS:
        return text[: MAX_VALUE_CHARS - 1] + ELLIPSIS
    return text
