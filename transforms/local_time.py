"""Instants and calendar dates from SharePoint's timestamp text, with the site's time zone rules.

Graph writes every date-time as UTC (`2025-03-30T23:00:00Z`) and every date-only value as the site's
local midnight converted to UTC (31 March in BST arrives as `2025-03-30T23:00:00Z`), microsoft-apis.md
§2.3. The canonical model stores instants in UTC and a calendar date as UTC midnight of that date
(model.py `local_date`, checked by transforms.validate). A timestamp without a zone designator is read
as the site's wall-clock time; when that time occurs twice (the autumn change) or never (the spring
change) it is flagged and left empty, never shifted silently (reliability-security.md R15).
Vectorised with Arrow compute; only values that are not ISO 8601 at all are looked at one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.kinds import UTC_MICROS
from transforms.coerce import NAIVE_DATETIME_PATTERN, ZONED_DATETIME_PATTERN, Mask, to_mask

__all__ = ["Instants", "local_dates", "parse_instants", "to_calendar_dates"]

NAIVE_MICROS = pa.timestamp("us")


@dataclass(frozen=True)
class Instants:
    """Timestamps in UTC (null where unusable) and why a value was unusable."""

    values: pa.Array  # timestamp[us, tz=UTC]
    wrong: Mask  # not an ISO 8601 timestamp (or an impossible date such as 30 February)
    ambiguous: Mask  # a wall-clock time without zone that the clocks show twice
    nonexistent: Mask  # a wall-clock time without zone that the clocks skip


def parse_instants(text: pa.Array, timezone: str) -> Instants:
    """ISO 8601 text to UTC instants; zone-less text is `timezone` wall-clock time."""
    none = np.zeros(len(text), dtype=np.bool_)
    if pa.types.is_null(text.type):
        return Instants(pa.nulls(len(text), UTC_MICROS), none, none, none)
    try:  # the common case: every value is Graph's `...Z`
        return Instants(text.cast(UTC_MICROS), none, none, none)
    except pa.ArrowInvalid:
        pass
    trimmed = pc.utf8_trim_whitespace(text)
    zoned = to_mask(pc.match_substring_regex(trimmed, ZONED_DATETIME_PATTERN))
    naive = to_mask(pc.match_substring_regex(trimmed, NAIVE_DATETIME_PATTERN))
    zoned_values = _cast_where(trimmed, zoned, UTC_MICROS)
    naive_values = _cast_where(trimmed, naive, NAIVE_MICROS)
    earliest = pc.assume_timezone(
        naive_values, timezone=timezone, ambiguous="earliest", nonexistent="earliest"
    )
    latest = pc.assume_timezone(naive_values, timezone=timezone, ambiguous="latest", nonexistent="latest")
    differs = to_mask(pc.not_equal(earliest, latest))
    # Both edges of a gap differ too; a gap's instants map back to another wall-clock time.
    back = pc.local_timestamp(latest.cast(pa.timestamp("us", tz=timezone)))
    nonexistent = differs & to_mask(pc.not_equal(back, naive_values))
    ambiguous = differs & ~nonexistent
    local = pc.if_else(pa.array(differs), pa.scalar(None, UTC_MICROS), earliest.cast(UTC_MICROS))
    values = pc.if_else(pa.array(zoned), zoned_values, local)
    wrong = to_mask(pc.is_valid(text)) & to_mask(pc.is_null(values)) & ~differs
    return Instants(values, wrong, ambiguous, nonexistent)


def local_dates(instants: pa.Array, timezone: str) -> pa.Array:
    """The calendar date each instant falls on in `timezone`, as UTC midnight of that date."""
    return to_calendar_dates(instants, timezone)[0]


def to_calendar_dates(instants: pa.Array, timezone: str) -> tuple[pa.Array, Mask]:
    """(date as UTC midnight, True where the instant is not a local midnight) for date-only columns."""
    wall = pc.local_timestamp(instants.cast(pa.timestamp("us", tz=timezone)))
    day = pc.floor_temporal(wall, unit="day")
    not_midnight = to_mask(pc.not_equal(wall, day))
    return day.cast(UTC_MICROS), not_midnight


def _cast_where(text: pa.Array, mask: Mask, target: pa.DataType) -> pa.Array:
    """Cast the masked values to `target` (others null); impossible dates are read one by one as null."""
    chosen = pc.if_else(pa.array(mask), text, pa.scalar(None, pa.string()))
    try:
        return chosen.cast(target)
    except pa.ArrowInvalid:
        return pa.array([_one(value, target) for value in chosen.to_pylist()], target)


def _one(value: str | None, target: pa.DataType) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return None
    if target.tz is None:
        return parsed if parsed.tzinfo is None else None
    return parsed.astimezone(dt.UTC) if parsed.tzinfo is not None else None
