"""The checks of one column over one record batch: type, presence, codes, range, length, pattern, date.

Each check is a pyarrow.compute call or a numpy operation over the whole batch column; only the
failing rows come back (as a Finding). The order of the checks is the order problems are listed in.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.schema import Column
from transforms.coerce import Mask, Parsed, to_mask
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
    if column.codes:
        known = pc.is_in(values, value_set=pa.array(sorted(column.code_values), pa.string()))
        unknown = to_mask(pc.and_(pc.is_valid(values), pc.invert(known)))
        message = f"value is not one of the {len(column.codes)} codes of {name}"
        findings.append(Finding(UNKNOWN_CODE.code, name, message, rows_of(unknown)))
    findings.extend(_check_range(column, values))
    if column.kind == "String":
        limit = column.effective_max_length
        lengths = pc.utf8_length(values)
        message = f"text is longer than {limit} chars"
        findings.append(Finding(TOO_LONG.code, name, message, rows_of(to_mask(pc.greater(lengths, limit)))))
        if column.pattern:
            matches = pc.match_substring_regex(values, f"^(?:{column.pattern})$")
            message = f"text does not match the pattern {column.pattern}"
            findings.append(Finding(BAD_FORMAT.code, name, message, rows_of(to_mask(pc.invert(matches)))))
    if column.date_only:
        micros = np.asarray(pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False))
        message = "a date-only value has a time of day"
        findings.append(Finding(NOT_A_DATE.code, name, message, rows_of(micros % MICROS_PER_DAY != 0)))
    return findings


def _check_range(column: Column, values: pa.Array) -> list[Finding]:
    if column.kind == "DateTime":
        numbers, scale = values.cast(pa.int64()), MICROS_PER_SECOND
    elif column.kind in ("Int64", "Double", "Decimal"):
        numbers, scale = values, 1
    else:
        return []
    # Bounds are floats; comparing int64 to them would make Arrow refuse integers beyond 2**53 (a year
    # after 2255 in microseconds, or a huge count) instead of reporting them, so compare as floats.
    numbers = numbers.cast(pa.float64(), safe=False)
    findings = []
    for bound, compare, word in (
        (column.minimum, pc.less, "below the minimum"),
        (column.maximum, pc.greater, "above the maximum"),
    ):
        if bound is not None:
            shown = dt.datetime.fromtimestamp(bound, dt.UTC).isoformat() if scale != 1 else f"{bound:g}"
            failed = to_mask(compare(numbers, pa.scalar(bound * scale, pa.float64())))
            findings.append(
                Finding(OUT_OF_RANGE.code, column.name, f"value is {word} {shown}", rows_of(failed))
            )
    return findings
