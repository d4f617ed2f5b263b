"""Statistical disclosure control for published count tables: ONS 10-5 rule and secondary suppression.

`protect_table` takes a rows x categories table of true counts and returns what may be published:
rounded counts, suppressed cells, margins and percentages. Rules, defaults, the attacker model and
what is guaranteed: docs/disclosure.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from errors import ConfigError
from transforms.disclosure_lines import Line, Suppression, round_to_base, suppress

__all__ = ["DisclosurePolicy", "ProtectedTable", "percentage", "protect_table"]


@dataclass(frozen=True)
class DisclosurePolicy:
    """Thresholds of the disclosure rules (defaults: ONS 10-5 rule, 50-respondent rule for percentages)."""

    threshold: int = 10  # counts below this are suppressed, 0 included (secure-environment practice)
    rounding_base: int = 5  # every published count is rounded to the nearest multiple
    min_percentage_base: int = 50  # no percentage of a base under this many respondents
    suppressed_display: str = "[c]"  # one marker for every suppressed cell, primary or secondary

    def __post_init__(self) -> None:
        for name, lowest in (("threshold", 1), ("rounding_base", 1), ("min_percentage_base", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
                raise ConfigError(
                    f"disclosure {name} must be a whole number of at least {lowest}",
                    hint="set the disclosure thresholds in the config to whole numbers (defaults 10, 5, 50)",
                )
        if not self.suppressed_display.strip() or self.suppressed_display.strip().isdigit():
            raise ConfigError(
                "disclosure suppressed_display must be a non-numeric marker",
                hint='use a marker that cannot be read as a count, e.g. "[c]"',
            )

    def display(self, published: int | None) -> str:
        """Text a dashboard shows: the rounded count, or the suppression marker."""
        return self.suppressed_display if published is None else str(published)


@dataclass(frozen=True)
class ProtectedTable:
    """What may be published of one count table. Int64 frames hold <NA> for a suppressed count.

    Row totals and the grand total are shown like cells (rounded, the marker under the threshold).
    With `exact_row_totals` the protection assumes an attacker knows them exactly anyway (the ccr
    table's row counts give them away, see docs/disclosure.md), so they never take part in secondary
    suppression.
    """

    counts: pd.DataFrame  # rows x categories (then group columns), rounded; <NA> = suppressed
    suppressed: pd.DataFrame  # bool, same shape
    row_totals: pd.Series
    row_totals_suppressed: pd.Series
    column_totals: pd.Series  # rounded category totals over all rows; <NA> = suppressed
    column_totals_suppressed: pd.Series
    grand_total: int | None
    percentages: pd.DataFrame  # share of the row in percent, from published figures; NaN = withheld
    column_percentages: pd.Series  # share of the grand total; NaN = withheld
    policy: DisclosurePolicy

    def display(self) -> pd.DataFrame:
        """Counts as dashboard text: multiples of the rounding base, or the suppression marker."""
        return self.counts.astype(object).map(lambda value: self.policy.display(_optional_int(value)))

    def column_totals_display(self) -> pd.Series:
        return self.column_totals.astype(object).map(lambda value: self.policy.display(_optional_int(value)))


def percentage(published: int | None, base: int, policy: DisclosurePolicy) -> float | None:
    """Percent of a base, from the published (rounded) count and the rounded base; None if withheld.

    Withheld when the count is suppressed or the true base is under `min_percentage_base`. Computed
    from rounded figures only, so a percentage never reveals more than the rounded count does.
    """
    if published is None or base < policy.min_percentage_base or base <= 0:
        return None
    rounded_base = round_to_base(base, policy.rounding_base)
    return 100.0 * published / rounded_base if rounded_base else None


def protect_table(
    counts: pd.DataFrame,
    policy: DisclosurePolicy | None = None,
    *,
    exact_row_totals: bool = True,
    column_groups: Mapping[str, Sequence[str]] | None = None,
) -> ProtectedTable:
    """Apply the 10-5 rule and secondary suppression to `counts` (rows x categories, true counts).

    exact_row_totals: the row totals (and so the grand total) are public exactly, as the ccr table's
    row counts are; they are then never suppressed and the cells are protected against them.
    column_groups: extra columns that add up member columns (a partition), e.g. the 5 ethnic groups
    over the 19 Census categories; they are protected jointly with their members.
    """
    policy = policy or DisclosurePolicy()
    frame = _checked_counts(counts, exact_row_totals)
    groups = {name: tuple(members) for name, members in (column_groups or {}).items()}
    _check_groups(frame, groups)
    if len(groups) == 1 and exact_row_totals:
        raise ValueError("a single column group would equal the exact row total; give at least two groups")
    if groups:  # each group column adds up its members (by position: label look-ups cost more)
        data = frame.to_numpy()
        sums = [
            data[:, frame.columns.get_indexer(pd.Index(members))].sum(axis=1) for members in groups.values()
        ]
        frame = pd.DataFrame(
            np.column_stack([data, *sums]), index=frame.index, columns=[*frame.columns, *groups]
        )
    layout = _Layout(frame, groups)
    values = layout.values()
    exact = layout.exact(exact_row_totals)
    result = suppress(values, layout.lines(), policy, exact=exact)
    return _assemble(frame, layout, values, result, exact, policy)


def _checked_counts(counts: pd.DataFrame, exact_row_totals: bool) -> pd.DataFrame:
    if counts.shape[1] < 2 and exact_row_totals:
        raise ValueError("a table with exact row totals needs at least two categories (one would equal it)")
    if counts.shape[0] == 0 or counts.shape[1] == 0:
        raise ValueError("a count table needs at least one row and one category")
    if counts.columns.has_duplicates or counts.index.has_duplicates:
        raise ValueError("row and category labels must be unique")
    data = counts.to_numpy()
    if counts.isna().to_numpy().any() or not np.issubdtype(np.asarray(data).dtype, np.number):
        raise ValueError("counts must be whole numbers, with no missing values")
    numbers = np.asarray(data, dtype=float)
    if (numbers < 0).any() or (numbers != np.floor(numbers)).any():
        raise ValueError("counts must be whole numbers of at least 0")
    return pd.DataFrame(numbers.astype(np.int64), index=counts.index, columns=counts.columns)


def _check_groups(frame: pd.DataFrame, groups: Mapping[str, tuple[str, ...]]) -> None:
    if not groups:
        return
    members = [member for names in groups.values() for member in names]
    if sorted(members, key=str) != sorted(frame.columns, key=str) or len(set(members)) != len(members):
        raise ValueError("column groups must partition the categories (each in exactly one group)")
    if set(groups) & set(frame.columns):
        raise ValueError("a column group may not share a name with a category")


class _Layout:
    """Element numbering of a table with margins: cells, row totals, column totals, grand total."""

    def __init__(self, frame: pd.DataFrame, groups: Mapping[str, tuple[str, ...]]) -> None:
        self.frame = frame
        self.groups = groups
        self.rows, self.columns = frame.shape
        self.detail = [c for c in range(self.columns) if frame.columns[c] not in groups]
        self.grouped = [c for c in range(self.columns) if frame.columns[c] in groups]

    def cell(self, row: int, column: int) -> int:
        return row * self.columns + column

    def row_total(self, row: int) -> int:
        return self.rows * self.columns + row

    def column_total(self, column: int) -> int:
        return self.rows * self.columns + self.rows + column

    @property
    def grand(self) -> int:
        return self.rows * self.columns + self.rows + self.columns

    def values(self) -> list[int]:
        cells = self.frame.to_numpy()
        detail = cells[:, self.detail] if self.detail else np.zeros((self.rows, 0), dtype=np.int64)
        row_sums = detail.sum(axis=1)
        return [
            *(int(v) for v in cells.reshape(-1)),
            *(int(v) for v in row_sums),
            *(int(v) for v in cells.sum(axis=0)),
            int(row_sums.sum()),
        ]

    def exact(self, exact_row_totals: bool) -> list[int]:
        return [*(self.row_total(r) for r in range(self.rows)), self.grand] if exact_row_totals else []

    def lines(self) -> list[Line]:
        position = {name: c for c, name in enumerate(self.frame.columns)}
        column_sets = [self.detail] + ([self.grouped] if self.grouped else [])
        lines: list[Line] = []
        for row in range(self.rows):
            for columns in column_sets:
                lines.append(Line(tuple(self.cell(row, c) for c in columns), self.row_total(row)))
            for name, members in self.groups.items():
                parts = tuple(self.cell(row, position[m]) for m in members)
                lines.append(Line(parts, self.cell(row, position[name])))
        for column in range(self.columns):
            lines.append(
                Line(tuple(self.cell(r, column) for r in range(self.rows)), self.column_total(column))
            )
        for columns in column_sets:
            lines.append(Line(tuple(self.column_total(c) for c in columns), self.grand))
        for name, members in self.groups.items():
            parts = tuple(self.column_total(position[m]) for m in members)
            lines.append(Line(parts, self.column_total(position[name])))
        lines.append(Line(tuple(self.row_total(r) for r in range(self.rows)), self.grand))
        return lines


def _assemble(
    frame: pd.DataFrame,
    layout: _Layout,
    values: list[int],
    result: Suppression,
    exact: list[int],
    policy: DisclosurePolicy,
) -> ProtectedTable:
    """The published figures of every element, as arrays (the tables are built many times a report)."""
    numbers = np.asarray(values, dtype=np.int64)
    hidden = np.zeros(len(values), dtype=bool)
    hidden[list(result.suppressed)] = True
    withheld = hidden.copy()
    at_exact = np.asarray(exact, dtype=np.int64)
    # public exactly elsewhere, but this table shows no count under the threshold
    withheld[at_exact] |= numbers[at_exact] < policy.threshold
    rounded = round_to_base(numbers, policy.rounding_base)

    rows, columns = layout.rows, layout.columns
    cells_end, row_end = rows * columns, rows * columns + rows
    cell_values = rounded[:cells_end].reshape(rows, columns)
    cell_withheld = withheld[:cells_end].reshape(rows, columns)
    counts = pd.DataFrame(
        {
            name: pd.arrays.IntegerArray(cell_values[:, c].copy(), cell_withheld[:, c].copy())
            for c, name in enumerate(frame.columns)
        },
        index=frame.index,
    )
    suppressed = pd.DataFrame(
        hidden[:cells_end].reshape(rows, columns), index=frame.index, columns=frame.columns
    )
    row_totals = pd.Series(
        pd.arrays.IntegerArray(rounded[cells_end:row_end].copy(), withheld[cells_end:row_end].copy()),
        index=frame.index,
    )
    column_totals = pd.Series(
        pd.arrays.IntegerArray(rounded[row_end:-1].copy(), withheld[row_end:-1].copy()), index=frame.columns
    )
    row_bases = numbers[cells_end:row_end]
    percentages = pd.DataFrame(
        _percentages(cell_values, cell_withheld, row_bases[:, np.newaxis], policy),
        index=frame.index,
        columns=frame.columns,
    )
    column_percentages = pd.Series(
        _percentages(rounded[row_end:-1], withheld[row_end:-1], numbers[-1], policy), index=frame.columns
    )
    return ProtectedTable(
        counts=counts,
        suppressed=suppressed,
        row_totals=row_totals,
        row_totals_suppressed=row_totals.isna(),
        column_totals=column_totals,
        column_totals_suppressed=column_totals.isna(),
        grand_total=None if withheld[-1] else int(rounded[-1]),
        percentages=percentages,
        column_percentages=column_percentages,
        policy=policy,
    )


def _percentages(
    published: np.ndarray, withheld: np.ndarray, bases: np.ndarray | np.int64, policy: DisclosurePolicy
) -> np.ndarray:
    """`percentage` over arrays: NaN where it gives None (the same arithmetic, so the same floats)."""
    bases = np.asarray(bases, dtype=np.int64)
    rounded_bases = round_to_base(bases, policy.rounding_base)
    shown = ~withheld & (bases >= policy.min_percentage_base) & (bases > 0) & (rounded_bases != 0)
    divisor = np.where(rounded_bases == 0, 1, rounded_bases)
    return np.where(shown, 100.0 * published / divisor, np.nan)


def _optional_int(value: object) -> int | None:
    return None if value is None or value is pd.NA else int(str(value))
