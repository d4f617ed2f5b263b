"""One mapped column of a page, from its raw `fields` values to canonical Arrow arrays.

Labels become codes, lookup ids become the lookup list's keys, people become officer keys, timestamps
become UTC instants and calendar dates, numbers take the target's kind. A value that cannot be turned
into a canonical value is left empty and flagged with a catalogue code; nothing is passed on raw.
Multi-valued columns come back as list arrays (one list per item) for the bridge.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.kinds import KIND_TYPES
from powerbi_dataset.schema import Column
from transforms import field_values as fv
from transforms.coerce import Mask, to_mask
from transforms.local_time import local_dates, parse_instants, to_calendar_dates
from transforms.normalise_log import ProblemLog
from transforms.normalise_plan import ColumnPlan
from transforms.privacy import citizen_keys, officer_keys
from transforms.problems import (
    AMBIGUOUS_LOCAL_TIME,
    NONEXISTENT_LOCAL_TIME,
    NOT_A_DATE,
    REMOVED_WITHOUT_CONSENT,
    UNKNOWN_LABEL,
    UNKNOWN_PERSON,
    UNRESOLVED_LOOKUP,
    WRONG_TYPE,
    ProblemType,
)

__all__ = ["COORDINATE_DECIMALS", "Consent", "Lookups", "read_column", "resolve"]

# model.py: event points are "rounded to 3 dp" (about 100 m; domain-model.md B4), at ingest.
COORDINATE_DECIMALS = 3
MAX_WHOLE = 2.0**53  # larger JSON numbers are not exact as doubles, so not trusted as whole numbers


@dataclass(frozen=True)
class Lookups:
    """What a page's ids resolve against: the sync's context, with every known person's key made once."""

    key: bytes
    timezone: str
    lists: Mapping[str, Mapping[str, str]]  # lookup list -> {item id -> canonical key}
    people: Mapping[str, str]  # person lookup id -> officer key


@dataclass(frozen=True)
class _Column:
    """Where one column's flags go: the list's table, its rows, and the column name to report.

    For the flattened values of a multi-valued column, `parents` gives each value's item (row), so a
    bad value is reported on the item it came from.
    """

    plan: ColumnPlan
    table: str
    log: ProblemLog
    parents: np.ndarray | None = None

    @property
    def label(self) -> str:
        target = self.plan.targets[0].name
        return f"{self.plan.home.name}.{target}" if self.plan.home.name != self.table else target

    def flag(
        self, problem: ProblemType, message: str, rows: Mask, values: object = None, secret: bool = False
    ) -> None:
        if self.parents is None:
            self.log.add(self.table, self.label, problem, message, rows, values, secret=secret)
            return
        positions = np.flatnonzero(rows)
        if len(positions):
            picked = values.take(pa.array(positions)) if isinstance(values, pa.Array) else None
            self.log.add(
                self.table, self.label, problem, message, self.parents[positions], picked, secret=secret
            )


Raw = Callable[[], Sequence[object]]  # the column's JSON values, fetched only to show a wrong one


def read_column(
    plan: ColumnPlan,
    read: fv.Read,
    raw: Raw,
    lookups: Lookups,
    table: str,
    log: ProblemLog,
    consent: Consent | None = None,
) -> list[pa.Array]:
    """The canonical arrays for the plan's targets from the column as read (transforms.field_values);
    one list array for a multi-valued column.

    With `consent`, the values of items without consent are emptied as soon as they are read, before
    any label is mapped or problem reported, and counted as removed.
    """
    column = _Column(plan, table, log)
    kind = plan.kind
    secret = kind in ("person", "multiperson") or plan.treatment in ("officer", "citizen", "gated")
    if consent is not None:
        read = _gated(column, read, consent)
    if read.wrong.any():
        shape = "a Graph location object" if kind == "location" else f"a {kind} value"
        column.flag(WRONG_TYPE, f"the value is not {shape}", read.wrong, raw(), secret)
    if kind in ("multichoice", "multilookup", "multiperson", "multiterm"):
        return [_multi(column, read.values, lookups, secret)]
    if kind == "location":
        return [pc.round(pc.struct_field(read.values, [axis]), COORDINATE_DECIMALS) for axis in (0, 1)]
    if kind in ("dateTime", "dateOnly"):
        return _timestamps(column, read.values, lookups.timezone)
    values = _canonical(column, read.values, lookups, secret)
    if kind in ("number", "currency"):
        values = _number(column, values, plan.targets[0])
    return [values]


@dataclass(frozen=True)
class Consent:
    allowed: Mask  # True where the item's consent flag is true
    message: str


def _gated(column: _Column, read: fv.Read, consent: Consent) -> fv.Read:
    present = to_mask(pc.is_valid(read.values)) | read.wrong
    removed = present & ~consent.allowed
    column.flag(REMOVED_WITHOUT_CONSENT, consent.message, removed)
    if not removed.any():
        return fv.Read(read.values, read.wrong & consent.allowed)
    emptied = pc.if_else(pa.array(consent.allowed), read.values, pa.scalar(None, read.values.type))
    return fv.Read(emptied, read.wrong & consent.allowed)


def _canonical(column: _Column, values: pa.Array, lookups: Lookups, secret: bool) -> pa.Array:
    """Labels to codes, ids to keys, people and staff numbers to pseudonyms (scalars or flattened lists)."""
    plan = column.plan
    kind = plan.kind
    if kind in ("choice", "multichoice") and plan.mapping.choices:
        out, missing = resolve(values, plan.mapping.codes_by_label)
        column.flag(UNKNOWN_LABEL, "the choice label is not mapped to a code", missing, values, secret)
        return out
    if kind in ("lookup", "multilookup"):
        out, missing = resolve(values, lookups.lists.get(plan.mapping.lookup_list or "", {}))
        column.flag(
            UNRESOLVED_LOOKUP, f"no item of '{plan.mapping.lookup_list}' has this id", missing, values, secret
        )
        return out
    if kind in ("person", "multiperson"):
        out, missing = resolve(values, lookups.people)
        column.flag(
            UNKNOWN_PERSON, "the people list gives this account no staff number", missing, values, True
        )
        return out
    if plan.treatment == "officer":
        return officer_keys(values, lookups.key)
    if plan.treatment == "citizen":
        return citizen_keys(values, lookups.key)
    return values


def resolve(values: pa.Array, mapping: Mapping[str, str]) -> tuple[pa.Array, Mask]:
    """Each value's counterpart in `mapping`, and where a present value has none.

    Only the page's distinct values are looked up, so a lookup list of any size costs the page nothing;
    one hashing pass (dictionary encoding) finds them and where each row's value sits among them.
    """
    encoded = pc.dictionary_encode(values)
    found = pa.array([mapping.get(value) for value in encoded.dictionary.to_pylist()], pa.string())
    out = found.take(encoded.indices)
    if not found.null_count:
        return out, np.zeros(len(values), dtype=np.bool_)
    return out, to_mask(pc.and_(pc.is_valid(values), pc.is_null(out)))


def _multi(column: _Column, lists: pa.Array, lookups: Lookups, secret: bool) -> pa.Array:
    flat = pc.list_flatten(lists)
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.int64)
    spread = _Column(column.plan, column.table, column.log, parents)
    return fv.relist(lists, _canonical(spread, flat, lookups, secret))


def _number(column: _Column, values: pa.Array, target: Column) -> pa.Array:
    if target.kind == "Int64":
        whole = pc.and_(pc.equal(pc.floor(values), values), pc.less_equal(pc.abs(values), MAX_WHOLE))
        bad = to_mask(pc.invert(whole))
        column.flag(WRONG_TYPE, "a whole number is expected", bad, values)
        return pc.if_else(pa.array(bad), pa.scalar(None, pa.float64()), values).cast(pa.int64())
    if target.kind == "Decimal":
        return pc.round(values, 4).cast(KIND_TYPES["Decimal"].storage)
    return values


def _timestamps(column: _Column, text: pa.Array, timezone: str) -> list[pa.Array]:
    instants = parse_instants(text, timezone)
    column.flag(WRONG_TYPE, "not an ISO 8601 date-time", instants.wrong, text)
    column.flag(
        AMBIGUOUS_LOCAL_TIME, f"a time without zone that occurs twice in {timezone}", instants.ambiguous, text
    )
    column.flag(
        NONEXISTENT_LOCAL_TIME,
        f"a time without zone that never occurs in {timezone}",
        instants.nonexistent,
        text,
    )
    if column.plan.kind == "dateOnly":
        dates, not_midnight = to_calendar_dates(instants.values, timezone)
        column.flag(NOT_A_DATE, f"a date-only value that is not midnight in {timezone}", not_midnight, text)
        return [pc.if_else(pa.array(not_midnight), pa.scalar(None, dates.type), dates)]
    out = [instants.values]
    if len(column.plan.targets) == 2:  # [instant, its local date]
        out.append(local_dates(instants.values, timezone))
    return out
