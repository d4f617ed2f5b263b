"""An honest attacker for disclosure tests, written apart from transforms/disclosure*.py on purpose.

It sees only what a published `ProtectedTable` shows, plus the exact row totals when the table was
protected on the assumption that they are public. It knows the rules (rounding window, nothing under
the threshold is published) and every additive line of the table. docs/disclosure.md defines it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence

import pandas as pd

from transforms.disclosure import DisclosurePolicy, ProtectedTable

Var = tuple[Hashable, ...]
Equation = tuple[list[Var], Var]  # the parts add up to the total


def equations(table: ProtectedTable, groups: Mapping[str, Sequence[str]]) -> list[Equation]:
    rows = list(table.counts.index)
    columns = list(table.counts.columns)
    detail = [c for c in columns if c not in groups]
    result: list[Equation] = []
    for r in rows:
        result.append(([("cell", r, c) for c in detail], ("row", r)))
        if groups:
            result.append(([("cell", r, g) for g in groups], ("row", r)))
        for g, members in groups.items():
            result.append(([("cell", r, m) for m in members], ("cell", r, g)))
    for c in columns:
        result.append(([("cell", r, c) for r in rows], ("col", c)))
    result.append(([("col", c) for c in detail], ("grand",)))
    if groups:
        result.append(([("col", g) for g in groups], ("grand",)))
    for g, members in groups.items():
        result.append(([("col", m) for m in members], ("col", g)))
    result.append(([("row", r) for r in rows], ("grand",)))
    return result


def knowledge(
    table: ProtectedTable, exact_rows: pd.Series | None, policy: DisclosurePolicy, *, hide_all: bool = False
) -> dict[Var, list[float]]:
    """Start bounds per variable. hide_all: as if every non-exact figure were suppressed."""

    def published(value: object) -> list[float]:
        if hide_all or value is pd.NA or value is None:
            return [0.0, math.inf]
        rounded = int(str(value))
        low = rounded - policy.rounding_base // 2
        return [float(max(low, policy.threshold)), float(low + policy.rounding_base - 1)]

    bounds: dict[Var, list[float]] = {}
    cells = table.counts.to_numpy(dtype=object, na_value=None)
    for i, r in enumerate(table.counts.index):
        for j, c in enumerate(table.counts.columns):
            bounds[("cell", r, c)] = published(cells[i][j])
    for c, value in zip(
        table.column_totals.index, table.column_totals.to_numpy(dtype=object, na_value=None), strict=True
    ):
        bounds[("col", c)] = published(value)
    if exact_rows is not None:
        for r in table.counts.index:
            bounds[("row", r)] = [float(exact_rows[r])] * 2
        bounds[("grand",)] = [float(exact_rows.sum())] * 2
    else:
        for r in table.counts.index:
            bounds[("row", r)] = published(table.row_totals[r])
        bounds[("grand",)] = published(table.grand_total)
    return bounds


def attack(bounds: dict[Var, list[float]], system: list[Equation]) -> dict[Var, list[float]]:
    """Interval propagation over every equation until nothing moves (no pass limit)."""
    moved = True
    while moved:
        moved = False
        for parts, total in system:
            lows = [bounds[p][0] for p in parts]
            highs = [bounds[p][1] for p in parts]
            sum_low = sum(lows)
            unbounded = highs.count(math.inf)
            finite_high = sum(h for h in highs if h != math.inf)
            moved |= _clip(bounds[total], sum_low, math.inf if unbounded else finite_high)
            for part, low, high in zip(parts, lows, highs, strict=True):
                # the others' highest sum: unbounded if any other part is unbounded
                if high == math.inf:
                    others_high = math.inf if unbounded > 1 else finite_high
                else:
                    others_high = math.inf if unbounded else finite_high - high
                moved |= _clip(
                    bounds[part], bounds[total][0] - others_high, bounds[total][1] - (sum_low - low)
                )
    return bounds


def _clip(bound: list[float], low: float, high: float) -> bool:
    moved = False
    if low > bound[0]:
        bound[0], moved = low, True
    if high < bound[1]:
        bound[1], moved = high, True
    assert bound[0] <= bound[1], "the published figures contradict the true ones"
    return moved


def disclosed_cells(
    table: ProtectedTable,
    truth: pd.DataFrame,
    groups: Mapping[str, Sequence[str]],
    policy: DisclosurePolicy,
    *,
    exact_rows: pd.Series | None,
) -> list[str]:
    """Suppressed figures the attacker pins to one value, unless the exact totals alone pin them."""
    system = equations(table, groups)
    derived = attack(knowledge(table, exact_rows, policy), system)
    baseline = attack(knowledge(table, exact_rows, policy, hide_all=True), system)
    truths = _true_values(truth, groups)
    hidden = _hidden(table)
    found = []
    for var, (low, high) in derived.items():
        true_value = truths[var]
        assert low <= true_value <= high, f"attacker bounds for {var} exclude the true value"
        if hidden[var] and low == high and baseline[var][0] != baseline[var][1]:
            found.append(f"{var} = {low:g}")
    return found


def lonely_unknowns(table: ProtectedTable, groups: Mapping[str, Sequence[str]], exact: bool) -> list[str]:
    """Lines with exactly one suppressed member whose total is exact: that member is recoverable."""
    hidden = _hidden(table)
    found = []
    for parts, total in equations(table, groups):
        members = [*parts, total]
        unknown = [m for m in members if hidden[m] and not (exact and m[0] in ("row", "grand"))]
        if len(unknown) == 1:
            found.append(f"{unknown[0]} alone in {total}")
    return found


def _hidden(table: ProtectedTable) -> dict[Var, bool]:
    """Which figures the table shows as suppressed."""
    hidden: dict[Var, bool] = {}
    flags = table.suppressed.to_numpy()
    for i, r in enumerate(table.counts.index):
        for j, c in enumerate(table.counts.columns):
            hidden[("cell", r, c)] = bool(flags[i][j])
        hidden[("row", r)] = bool(table.row_totals_suppressed[r])
    for c, flag in table.column_totals_suppressed.items():
        hidden[("col", c)] = bool(flag)
    hidden[("grand",)] = table.grand_total is None
    return hidden


def _true_values(truth: pd.DataFrame, groups: Mapping[str, Sequence[str]]) -> dict[Var, float]:
    full = truth.copy()
    for g, members in groups.items():
        full[g] = truth[list(members)].sum(axis=1)
    cells = full.to_numpy(dtype=float)
    values: dict[Var, float] = {}
    for i, r in enumerate(full.index):
        for j, c in enumerate(full.columns):
            values[("cell", r, c)] = cells[i][j]
    for r, total in zip(truth.index, truth.to_numpy(dtype=float).sum(axis=1), strict=True):
        values[("row", r)] = float(total)
    for c, total in zip(full.columns, cells.sum(axis=0), strict=True):
        values[("col", c)] = float(total)
    values[("grand",)] = float(truth.to_numpy(dtype=float).sum())
    return values
