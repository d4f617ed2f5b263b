"""How much more an LP attacker learns than the propagation attacker cetk protects against.

For random tables (the property test's mix of shapes and counts), protect each with protect_table, then
for every suppressed figure solve min and max by linear programming over all lines at once (the
audit tau-ARGUS runs) and compare with attacker_intervals. Needs scipy, which is NOT a cetk dependency:
run by hand with an interpreter that has it, e.g.
`.venv/bin/python -m bench.audit_disclosure_lp --tables 2000 --scipy-path /path/to/site-packages`.
Figures go to docs/disclosure.md ("Not guaranteed").
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence

import pandas as pd

from transforms.disclosure import DisclosurePolicy, _Layout, protect_table
from transforms.disclosure_lines import attacker_intervals, published_interval, round_to_base

POLICY = DisclosurePolicy()


def random_table(rng: random.Random) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]], bool]:
    rows, columns = rng.randint(1, 6), rng.randint(2, 6)

    def count() -> int:
        kind = rng.random()
        if kind < 1 / 3:
            return rng.choice([0, 0, 1, 2, 9, 10, 10, 11, 12, 13, 15, 17])
        return rng.randint(0, 60) if kind < 2 / 3 else rng.randint(0, 1_000_000)

    names = list("abcdef")[:columns]
    truth = pd.DataFrame([[count() for _ in names] for _ in range(rows)], columns=names)
    groups: dict[str, tuple[str, ...]] = {}
    if rng.random() < 0.5:
        labels = [0, 1, *(rng.randint(0, 2) for _ in names[2:])]
        groups = {
            f"G{g}": tuple(n for n, lab in zip(names, labels, strict=True) if lab == g)
            for g in sorted(set(labels))
        }
    return truth, groups, rng.random() < 0.5


def lp_bounds(
    values: Sequence[int], lines: Sequence[object], hidden: set[int], exact: set[int], element: int
) -> tuple[float, float]:
    from scipy.optimize import linprog  # imported here: scipy is optional and only for this script

    n = len(values)
    bounds = []
    for e, value in enumerate(values):
        if e in exact:
            bounds.append((value, value))
        elif e in hidden:
            bounds.append((0, None))
        else:
            bounds.append(published_interval(round_to_base(value, POLICY.rounding_base), POLICY))
    equalities, rhs = [], []
    for line in lines:
        row = [0.0] * n
        for part in line.parts:  # type: ignore[attr-defined]
            row[part] += 1.0
        row[line.total] -= 1.0  # type: ignore[attr-defined]
        equalities.append(row)
        rhs.append(0.0)
    objective = [0.0] * n
    objective[element] = 1.0
    low = linprog(objective, A_eq=equalities, b_eq=rhs, bounds=bounds, method="highs")
    high = linprog([-v for v in objective], A_eq=equalities, b_eq=rhs, bounds=bounds, method="highs")
    return low.fun, -high.fun if high.status == 0 else math.inf


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_disclosure_lp", description=__doc__)
    parser.add_argument("--tables", type=int, default=500)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--scipy-path", default=None, help="a site-packages folder that holds scipy")
    args = parser.parse_args(argv)
    if args.scipy_path:
        sys.path.append(args.scipy_path)
    rng = random.Random(args.seed)
    figures = {"tables": 0, "suppressed": 0, "lp_tighter": 0, "lp_pins_only": 0}
    for _ in range(args.tables):
        truth, groups, exact_rows = random_table(rng)
        protected = protect_table(truth, POLICY, exact_row_totals=exact_rows, column_groups=groups)
        frame = truth.copy()
        for name, members in groups.items():
            frame[name] = truth[list(members)].sum(axis=1)
        layout = _Layout(frame, groups)
        values, lines = layout.values(), layout.lines()
        exact = set(layout.exact(exact_rows))
        hidden = {
            layout.cell(r, c)
            for r in range(layout.rows)
            for c in range(layout.columns)
            if protected.suppressed.iat[r, c]
        }
        hidden |= {
            layout.column_total(c) for c in range(layout.columns) if protected.column_totals_suppressed.iat[c]
        }
        if not exact_rows:
            hidden |= {
                layout.row_total(r) for r in range(layout.rows) if protected.row_totals_suppressed.iat[r]
            }
            hidden |= {layout.grand} if protected.grand_total is None else set()
        propagated = attacker_intervals(values, lines, POLICY, suppressed=hidden, exact=exact)
        worst = attacker_intervals(
            values, lines, POLICY, suppressed=set(range(len(values))) - exact, exact=exact
        )
        figures["tables"] += 1
        for element in sorted(hidden):
            figures["suppressed"] += 1
            low, high = lp_bounds(values, lines, hidden, exact, element)
            low_int, high_int = (
                math.ceil(low - 1e-9),
                math.floor(high + 1e-9) if high != math.inf else math.inf,
            )
            if (low_int, high_int) != propagated[element]:
                figures["lp_tighter"] += 1
            if (
                low_int == high_int
                and propagated[element][0] != propagated[element][1]
                and worst[element][0] != worst[element][1]
            ):
                figures["lp_pins_only"] += 1
    print(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
