"""The cross-field rule engine: evaluates a table's declared rules over parsed columns, vectorised.

Rules read parsed values, so a value that failed to parse counts as empty here. Rules that need more
than one record batch are evaluated once the table has been read: Exclusive (rows sharing a parent,
transforms/table_run.py) and CountNotAbove (two tables, transforms/validate.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.kinds import UTC_MICROS
from powerbi_dataset.rules import (
    Compare,
    Condition,
    CountNotAbove,
    Exclusive,
    MaxSpan,
    NotAfterAsOf,
    RequireEmpty,
    RequirePresent,
    Rule,
)
from powerbi_dataset.schema import Table
from transforms.coerce import Mask, to_mask

MICROS_PER_HOUR = 3_600_000_000
COMPARISONS = {">=": pc.greater_equal, "<=": pc.less_equal, ">": pc.greater, "<": pc.less}


@dataclass(frozen=True)
class Finding:
    """One check's failing rows in one column; validate turns it into masked Problems."""

    code: str
    column: str
    message: str
    rows: npt.NDArray[np.int64]


def rows_of(mask: Mask) -> npt.NDArray[np.int64]:
    return np.flatnonzero(mask).astype(np.int64)


def condition_mask(condition: Condition, values: pa.Array) -> Mask:
    """Where the condition holds: eq/in are False for null, ne/not_in are True for null."""
    if condition.op == "is_null":
        return to_mask(pc.is_null(values))
    if condition.op == "not_null":
        return to_mask(pc.is_valid(values))
    if condition.op in ("in", "not_in"):
        options = condition.value if isinstance(condition.value, tuple) else (condition.value,)
        held = to_mask(pc.is_in(values, value_set=pa.array(list(options), values.type)))
    else:
        held = to_mask(pc.equal(values, pa.scalar(condition.value, values.type)))
    if condition.op in ("ne", "not_in"):
        return ~held
    return held


def can_check(rule: Rule, present: Collection[str], as_of: dt.datetime | None) -> bool:
    """Whether the rule's inputs are in the input (and, for a 'not in the future' rule, a run time is set)."""
    return all(name in present for name in rule.inputs) and not (
        isinstance(rule, NotAfterAsOf) and as_of is None
    )


def check_rules(
    table: Table,
    parsed: Mapping[str, pa.Array],
    missing: Mapping[str, Mask],
    as_of: dt.datetime | None,
) -> list[tuple[int, Finding]]:
    """Findings of every rule that one batch can decide, each with the rule's position in the table."""
    findings: list[tuple[int, Finding]] = []
    for index, rule in enumerate(table.rules):
        if isinstance(rule, CountNotAbove | Exclusive) or not can_check(rule, parsed, as_of):
            continue
        findings.extend((index, finding) for finding in _check_rule(rule, parsed, missing, as_of))
    return findings


def _check_rule(
    rule: Rule, parsed: Mapping[str, pa.Array], missing: Mapping[str, Mask], as_of: dt.datetime | None
) -> list[Finding]:
    if isinstance(rule, Compare):
        holds = COMPARISONS[rule.op](parsed[rule.left], parsed[rule.right])
        failed = to_mask(pc.invert(holds))  # null (either side empty) is not a failure
        return [Finding(rule.code, rule.left, rule.message, rows_of(failed))]
    if isinstance(rule, RequireEmpty | RequirePresent):
        when = condition_mask(rule.when, parsed[rule.when.column])
        findings = []
        for name in rule.columns:
            if isinstance(rule, RequireEmpty):
                failed = when & to_mask(pc.is_valid(parsed[name]))
            else:  # a required column's null is already a missing-value problem
                failed = when & to_mask(pc.is_null(parsed[name]))
                if name in missing:
                    failed &= ~missing[name]
            findings.append(Finding(rule.code, name, rule.message, rows_of(failed)))
        return findings
    if isinstance(rule, MaxSpan):
        span = pc.subtract(parsed[rule.end].cast(pa.int64()), parsed[rule.start].cast(pa.int64()))
        failed = to_mask(pc.greater(span, int(rule.hours * MICROS_PER_HOUR)))
        return [Finding(rule.code, rule.end, rule.message, rows_of(failed))]
    if isinstance(rule, NotAfterAsOf):
        assert as_of is not None
        moment = as_of if as_of.tzinfo else as_of.replace(tzinfo=dt.UTC)
        failed = to_mask(pc.greater(parsed[rule.column], pa.scalar(moment, UTC_MICROS)))
        if rule.when is not None:
            failed &= condition_mask(rule.when, parsed[rule.when.column])
        return [Finding(rule.code, rule.column, rule.message, rows_of(failed))]
    raise TypeError(f"no check for rule {rule!r}")  # a new rule type needs its check here
