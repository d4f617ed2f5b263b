"""The checks of one column over one record batch: type, presence, codes, range, length, pattern, date.

Each check is a pyarrow.compute call or a numpy operation over the whole batch column; only the
failing rows come back (as a Finding). The order of the checks is the order problems are listed in.
"""

from __future__ import annotations

import datetime as dt
import functools

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.schema import Column
from transforms.coerce import Mask, Parsed, repeats, string_offsets, to_mask, valid_mask
from transforms.problems import (
    BAD_FORMAT,
    MISSING_VALUE,
    NOT_A_DATE,
    OUT_OF_RANGE,
    TOO_LONG,
    UNKNOWN_CODE,
    WRONG_TYPE,
)
from transforms.rules import Finding, rows_of

Rows = npt.NDArray[np.int64]

MICROS_PER_DAY = 86_400_000_000
MICROS_PER_SECOND = 1_000_000


def check_column(column: Column, parsed: Parsed, missing: Mask | None) -> list[Finding]:
    values = parsed.values
    name = column.name
    findings = []
    if parsed.wrong is not None:
        findings.append(
            Finding(WRONG_TYPE.code, name, f"value is not a valid {column.kind}", rows_of(parsed.wrong))
        )
    if missing is not None:
        findings.append(Finding(MISSING_VALUE.code, name, "a required value is missing", rows_of(missing)))
    # Each check below looks at present values only; a column with none (an optional column left empty,
    # load_id before staging) fails none of them, so the kernels are not run.
    empty = values.null_count == len(values)
    if column.codes:
        unknown = NONE if empty else _unknown_codes(values, column.code_values)
        message = f"value is not one of the {len(column.codes)} codes of {name}"
        findings.append(Finding(UNKNOWN_CODE.code, name, message, unknown))
    findings.extend(_check_range(column, values, empty))
    if column.kind == "String":
        limit = column.effective_max_length
        assert limit is not None
        message = f"text is longer than {limit} chars"
        findings.append(Finding(TOO_LONG.code, name, message, NONE if empty else _too_long(values, limit)))
        if column.pattern:
            unmatched = NONE if empty else _unmatched(values, column.pattern)
            message = f"text does not match the pattern {column.pattern}"
            findings.append(Finding(BAD_FORMAT.code, name, message, unmatched))
    if column.date_only:
        micros = _int64s(values)
        message = "a date-only value has a time of day"
        findings.append(Finding(NOT_A_DATE.code, name, message, rows_of(micros % MICROS_PER_DAY != 0)))
    return findings


NONE = np.zeros(0, dtype=np.int64)  # no failing rows
NONE.flags.writeable = False


@functools.cache
def _code_set(codes: frozenset[str]) -> pa.Array:
    return pa.array(sorted(codes), pa.string())


def _unknown_codes(values: pa.Array, codes: frozenset[str]) -> Rows:
    """Present values that are not one of the codes (is_in answers False, never null, for a null)."""
    known = to_mask(pc.is_in(values, value_set=_code_set(codes)))
    return rows_of(~known & valid_mask(values) if values.null_count else ~known)


def _too_long(text: pa.Array, limit: int) -> Rows:
    """Values of more than `limit` characters. A value has no more characters than bytes, so when no
    value has more than `limit` bytes (the offsets tell) no character is counted."""
    if pa.types.is_string(text.type):
        offsets = string_offsets(text)
        if not len(text) or int(np.max(offsets[1:] - offsets[:-1])) <= limit:
            return NONE
    return rows_of(to_mask(pc.greater(pc.utf8_length(text), limit)))


def _unmatched(text: pa.Array, pattern: str) -> Rows:
    """Present values that do not match the whole pattern. When values repeat (codes, officer keys) each
    distinct value is matched once: the regex costs several times the dictionary encoding."""
    anchored = f"^(?:{pattern})$"
    if not repeats(text, distinct_share=0.5):
        return rows_of(to_mask(pc.invert(pc.match_substring_regex(text, anchored))))
    encoded = pc.dictionary_encode(text)  # nulls stay null indices
    distinct_unmatched = ~to_mask(pc.match_substring_regex(encoded.dictionary, anchored))
    if not distinct_unmatched.any():
        return NONE
    at = np.asarray(pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False), dtype=np.intp)
    unmatched = distinct_unmatched[at] if len(distinct_unmatched) else np.zeros(len(text), np.bool_)
    return rows_of(unmatched & valid_mask(text) if text.null_count else unmatched)


def _int64s(values: pa.Array) -> npt.NDArray[np.int64]:
    """The values' 64-bit integer form (timestamps in microseconds), 0 where null."""
    return np.asarray(pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False))


def _check_range(column: Column, values: pa.Array, empty: bool) -> list[Finding]:
    if column.kind == "DateTime":
        scale = MICROS_PER_SECOND
    elif column.kind in ("Int64", "Double", "Decimal"):
        scale = 1
    else:
        return []
    # Bounds are floats; comparing int64 to them would make Arrow refuse integers beyond 2**53 (a year
    # after 2255 in microseconds, or a huge count) instead of reporting them, so compare as floats (the
    # same rounding as Arrow's int64 to float64 cast). A null becomes NaN: neither below nor above.
    numbers: npt.NDArray[np.float64] | None = None
    findings = []
    for bound, below, word in (
        (column.minimum, True, "below the minimum"),
        (column.maximum, False, "above the maximum"),
    ):
        if bound is None:
            continue
        shown = dt.datetime.fromtimestamp(bound, dt.UTC).isoformat() if scale != 1 else f"{bound:g}"
        if empty:
            failed: Rows = NONE
        else:
            if numbers is None:
                numbers = _floats(values, column.kind == "DateTime")
            limit = np.float64(bound * scale)
            failed = rows_of(numbers < limit if below else numbers > limit)
        findings.append(Finding(OUT_OF_RANGE.code, column.name, f"value is {word} {shown}", failed))
    return findings


def _floats(values: pa.Array, timestamps: bool) -> npt.NDArray[np.float64]:
    numbers = values.cast(pa.int64()) if timestamps else values
    return np.asarray(numbers.cast(pa.float64(), safe=False).to_numpy(zero_copy_only=False), dtype=np.float64)
