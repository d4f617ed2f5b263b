"""Cross-field rules of the model: each is a value, so validation, the data dictionary, the problem
catalogue and tests read the same list. A rule knows the columns it reads and says itself in words;
transforms/rules.py checks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CompareOp = Literal[">=", "<=", ">", "<"]
ConditionOp = Literal["eq", "ne", "in", "not_in", "is_null", "not_null"]
SYMBOLS: dict[CompareOp, str] = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(f"`{name}`" for name in names)


@dataclass(frozen=True)
class Condition:
    """A row predicate. `ne` and `not_in` hold for nulls too (a missing answer is not the value)."""

    column: str
    op: ConditionOp
    value: str | bool | int | tuple[str, ...] | None = None

    def describe(self) -> str:
        if self.op in ("is_null", "not_null"):
            return f"{self.column} {'is empty' if self.op == 'is_null' else 'is present'}"
        symbol = {"eq": "=", "ne": "≠", "in": "in", "not_in": "not in"}[self.op]
        return f"{self.column} {symbol} {self.value}"


@dataclass(frozen=True)
class Compare:
    """`left op right` must hold where both are present, e.g. end_utc >= start_utc."""

    code: str
    left: str
    op: CompareOp
    right: str
    message: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.left, self.right)

    def describe(self) -> str:
        return f"`{self.left}` {SYMBOLS[self.op]} `{self.right}` where both are present"


@dataclass(frozen=True)
class _Conditional:
    code: str
    when: Condition
    columns: tuple[str, ...]
    message: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.when.column, *self.columns)


@dataclass(frozen=True)
class RequireEmpty(_Conditional):
    """When `when` holds, every column in `columns` must be empty."""

    def describe(self) -> str:
        return f"when {self.when.describe()}: {_listed(self.columns)} must be empty"


@dataclass(frozen=True)
class RequirePresent(_Conditional):
    """When `when` holds, every column in `columns` must have a value."""

    def describe(self) -> str:
        return f"when {self.when.describe()}: {_listed(self.columns)} must have a value"


@dataclass(frozen=True)
class MaxSpan:
    """`end - start` must not exceed `hours`."""

    code: str
    start: str
    end: str
    hours: float
    message: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.start, self.end)

    def describe(self) -> str:
        return f"`{self.end}` − `{self.start}` is at most {self.hours:g} hours"


@dataclass(frozen=True)
class NotAfterAsOf:
    """`column` must not be later than the run's as-of time (passed in, so validation stays pure)."""

    code: str
    column: str
    message: str
    when: Condition | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.column,) + ((self.when.column,) if self.when else ())

    def describe(self) -> str:
        condition = f"when {self.when.describe()}: " if self.when else ""
        return f"{condition}`{self.column}` is not later than the run's as-of time"


@dataclass(frozen=True)
class Exclusive:
    """Within each group, a row with `column == value` may not share the group with any other row."""

    code: str
    group_by: str
    column: str
    value: str
    message: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.group_by, self.column)

    def describe(self) -> str:
        return f"within each `{self.group_by}`, a row with `{self.column}` = {self.value} is the only row"


@dataclass(frozen=True)
class CountNotAbove:
    """Rows in `child_table` per key may not exceed this table's `limit_column` (cross-table)."""

    code: str
    key: str
    limit_column: str
    child_table: str
    message: str

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.key, self.limit_column)

    def describe(self) -> str:
        return f"rows in `{self.child_table}` per `{self.key}` do not exceed `{self.limit_column}`"


Rule = Compare | RequireEmpty | RequirePresent | MaxSpan | NotAfterAsOf | Exclusive | CountNotAbove
