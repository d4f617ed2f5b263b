"""Secondary suppression on linked count tables: cells tied by additive lines (parts sum to a total).

A table, its margins and any hierarchy are "elements" (numbered cells) and "lines" (`parts` add up
to `total`). Some elements are exact: an attacker already knows them (docs/disclosure.md says which
and why), so they are never suppressed. The rest are published rounded or suppressed. This module
decides the suppressions and computes what an attacker can derive from the published figures.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "Interval",
    "Line",
    "RoundingPolicy",
    "Suppression",
    "attacker_intervals",
    "published_interval",
    "round_to_base",
    "suppress",
]

Whole = TypeVar("Whole", int, npt.NDArray[np.int64])
Interval = tuple[float, float]  # lowest and highest value the attacker cannot rule out; inf = unbounded
MAX_AUDIT_PASSES = 10_000  # propagation converges in a few passes (docs/disclosure.md); a guard, not a limit


class RoundingPolicy(Protocol):
    """The two thresholds the lines need (DisclosurePolicy in transforms/disclosure.py has them)."""

    @property
    def threshold(self) -> int: ...

    @property
    def rounding_base(self) -> int: ...


@dataclass(frozen=True)
class Line:
    """The elements in `parts` add up to the element `total`."""

    parts: tuple[int, ...]
    total: int

    @property
    def members(self) -> tuple[int, ...]:
        return (*self.parts, self.total)


@dataclass(frozen=True)
class Suppression:
    primary: frozenset[int]  # below the threshold
    secondary: frozenset[int]  # suppressed so that no primary cell can be worked out

    @property
    def suppressed(self) -> frozenset[int]:
        return self.primary | self.secondary


def round_to_base(value: Whole, base: int) -> Whole:
    """Nearest multiple of `base`; halves round up (never reached for the default odd base 5). A whole
    number, or an array of them element by element (disclosure._assemble)."""
    return (value + base // 2) // base * base


def published_interval(rounded: int, policy: RoundingPolicy) -> Interval:
    """Values that publish as `rounded`: the rounding window, and never below the threshold."""
    low = rounded - policy.rounding_base // 2
    return float(max(low, policy.threshold, 0)), float(low + policy.rounding_base - 1)


def suppress(
    values: Sequence[int], lines: Sequence[Line], policy: RoundingPolicy, *, exact: Collection[int] = ()
) -> Suppression:
    """Primary suppression below the threshold, then secondary suppression until the audit is clean.

    Secondary suppression repeats two steps until neither adds a cell: (1) a line with exactly one
    suppressed member gets a second, its smallest other suppressible member, preferring one that also
    gives another such line its second (ties: a part before the total, then the lower element number); (2) the attacker audit (`attacker_intervals`) must not pin
    any suppressed element to one value; if it does, the smallest suppressible published element
    near it is suppressed too. An element that stays pinned even with every suppressible element
    suppressed is pinned by the exact elements alone: no suppression could hide it, so it is left
    as it is (e.g. the cells of a row whose exact total is 0; docs/disclosure.md).
    """
    exact_set = frozenset(exact)
    primary = frozenset(
        element
        for element, value in enumerate(values)
        if element not in exact_set and value < policy.threshold
    )
    suppressed = set(primary)
    lines_of: dict[int, list[Line]] = {}
    for line in lines:
        for member in line.members:
            lines_of.setdefault(member, []).append(line)

    def is_lonely(line: Line) -> bool:
        return sum(m in suppressed for m in line.members) == 1

    def candidates(line: Line) -> list[int]:
        return [m for m in line.members if m not in suppressed and m not in exact_set]

    def smallest(options: list[tuple[int, Line]]) -> int:
        return min(options, key=lambda pair: (values[pair[0]], pair[0] == pair[1].total, pair[0]))[0]

    everything = [e for e in range(len(values)) if e not in exact_set]
    worst_case = attacker_intervals(values, lines, policy, suppressed=everything, exact=exact_set)
    unprotectable = {e for e, (low, high) in enumerate(worst_case) if low == high}
    while True:
        added = False
        for line in lines:
            if not is_lonely(line):
                continue  # checked again here: an earlier choice in this pass may have given it a second
            options = [(m, line) for m in candidates(line)]
            if options:
                # A cell that also gives another lonely line its second suppression comes first.
                doubles = [(m, ln) for m, ln in options if any(is_lonely(o) for o in lines_of[m] if o != ln)]
                suppressed.add(smallest(doubles or options))
                added = True
        if added:
            continue
        intervals = attacker_intervals(values, lines, policy, suppressed=suppressed, exact=exact_set)
        pinned = [
            e for e in sorted(suppressed) if intervals[e][0] == intervals[e][1] and e not in unprotectable
        ]
        for element in pinned:
            choice = _nearest_candidate(element, lines_of, candidates, smallest)
            if choice is None:
                unprotectable.add(element)
                continue
            suppressed.add(choice)
            added = True
            break
        if not added:
            return Suppression(primary, frozenset(suppressed - primary))


def _nearest_candidate(
    element: int,
    lines_of: Mapping[int, list[Line]],
    candidates: _Candidates,
    smallest: _Smallest,
) -> int | None:
    """The smallest suppressible element on the lines through `element`, else one line further out."""
    seen_lines: set[Line] = set()
    frontier = {element}
    while frontier:
        layer = [
            line for member in sorted(frontier) for line in lines_of.get(member, ()) if line not in seen_lines
        ]
        seen_lines.update(layer)
        options = [(m, line) for line in layer for m in candidates(line)]
        if options:
            return smallest(options)
        frontier = {m for line in layer for m in line.members} - {element}
        frontier = {m for m in frontier if any(line not in seen_lines for line in lines_of.get(m, ()))}
    return None


class _Candidates(Protocol):
    def __call__(self, line: Line, /) -> list[int]: ...


class _Smallest(Protocol):
    def __call__(self, options: list[tuple[int, Line]], /) -> int: ...


def attacker_intervals(
    values: Sequence[int],
    lines: Sequence[Line],
    policy: RoundingPolicy,
    *,
    suppressed: Collection[int],
    exact: Collection[int] = (),
) -> list[Interval]:
    """What an attacker can derive about every element from the published figures and the lines.

    Exact elements are known; a published element lies in its rounding window and at or above the
    threshold; a suppressed element is only known to be >= 0. Each line then narrows its members
    (a part lies between the total minus the others' highs and the total minus the others' lows; the
    total between the parts' sums), repeated to a fixed point. `values` is read only for the exact
    and published elements, i.e. for what is public.
    """
    hidden = frozenset(suppressed)
    known = frozenset(exact)
    low: list[float] = []
    high: list[float] = []
    for element, value in enumerate(values):
        if element in known:
            low.append(float(value))
            high.append(float(value))
        elif element in hidden:
            low.append(0.0)
            high.append(math.inf)
        else:
            window = published_interval(round_to_base(value, policy.rounding_base), policy)
            low.append(window[0])
            high.append(window[1])
    for _ in range(MAX_AUDIT_PASSES):
        if not any([_narrow(line, low, high) for line in lines]):
            break
    return list(zip(low, high, strict=True))


def _narrow(line: Line, low: list[float], high: list[float]) -> bool:
    """Tighten one line's members in place; True when any bound moved."""
    parts = line.parts
    sum_low = math.fsum(low[p] for p in parts)
    finite_high = math.fsum(high[p] for p in parts if high[p] != math.inf)
    open_ended = sum(high[p] == math.inf for p in parts)
    changed = _tighten(line.total, sum_low, finite_high if open_ended == 0 else math.inf, low, high)
    for part in parts:
        others_low = sum_low - low[part]
        others_open = open_ended - (high[part] == math.inf)
        others_high = (
            math.inf if others_open else finite_high - (0.0 if high[part] == math.inf else high[part])
        )
        changed |= _tighten(part, low[line.total] - others_high, high[line.total] - others_low, low, high)
    return changed


def _tighten(element: int, new_low: float, new_high: float, low: list[float], high: list[float]) -> bool:
    changed = False
    if new_low > low[element]:
        low[element] = new_low
        changed = True
    if new_high < high[element]:
        high[element] = new_high
        changed = True
    if low[element] > high[element]:
        raise AssertionError(f"published figures contradict each other at element {element}")
    return changed
