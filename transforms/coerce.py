"""Vectorised parsing of input columns into the model's kinds, for validation.

Input is either typed (Parquet, pandas with dtypes) or all text (CSV, empty string = null). Each
column becomes an Arrow array of the kind's type plus a mask of values that could not be parsed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.kinds import KIND_TYPES, UTC_MICROS
from powerbi_dataset.schema import Kind

Mask = npt.NDArray[np.bool_]

INT_PATTERN = r"^[+-]?\d{1,18}$"  # 19 digits may overflow int64; such values are reported, not cast
FLOAT_PATTERN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_ISO_TIME = r"[T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,6})?)?)?"
NAIVE_DATETIME_PATTERN = rf"^{_ISO_DATE}({_ISO_TIME})?$"
ZONED_DATETIME_PATTERN = rf"^{_ISO_DATE}{_ISO_TIME}(Z|[+-]\d{{2}}(:?\d{{2}})?)$"
TRUE_WORDS = ("true", "1", "yes")
BOOLEAN_WORDS = ("true", "false", "1", "0", "yes", "no")
MAX_INT64_AS_FLOAT = 9.2e18


@dataclass(frozen=True)
class Parsed:
    values: pa.Array  # the kind's Arrow type (Decimal is checked as float64); null where unparseable
    wrong: Mask | None  # True where a non-null input value could not be parsed


def to_arrow(table: pa.Table | pd.DataFrame) -> pa.Table:
    """An Arrow table from either input shape; pandas columns Arrow cannot infer become text."""
    if isinstance(table, pa.Table):
        return table
    arrays: list[pa.Array] = []
    for position in range(table.shape[1]):
        series = table.iloc[:, position]  # by position: a repeated column name must not select two
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array(series.astype("string"), from_pandas=True))
    return pa.table(arrays, names=[str(name) for name in table.columns])


def plain(array: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array: dictionaries decoded, large text as text, '' and whitespace-only text as null.

    Whitespace-only text counts as empty (normalise trims text), so a required column holding "   " is
    missing-value rather than a blank that passes.
    """
    if isinstance(array, pa.ChunkedArray):  # one chunk taken as it is: combining would copy it
        if array.num_chunks == 1:
            array = array.chunk(0)
        else:
            array = array.combine_chunks() if array.num_chunks else pa.array([], array.type)
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    if pa.types.is_large_string(array.type) or pa.types.is_string_view(array.type):
        array = array.cast(pa.string())
    if pa.types.is_string(array.type) and array.null_count < len(array):
        empty = _blank(array)
        if empty.any():
            array = pc.if_else(pa.array(empty), pa.scalar(None, pa.string()), array)
    return array


def _blank(text: pa.Array) -> Mask:
    """Where non-null text is empty or whitespace only, read from the offsets and first bytes.

    A value whose first byte is printable ASCII other than space (0x21-0x7E) is not whitespace only, so
    only the others are asked of utf8_is_space; utf8_is_space and utf8_trim_whitespace take the same
    characters as whitespace (every code point compared: tests/transforms/test_coerce.py).
    """
    offsets = string_offsets(text)
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    data = text.buffers()[2]
    first = np.frombuffer(data, dtype=np.uint8) if data is not None and data.size else np.zeros(0, np.uint8)
    at = np.flatnonzero(nonempty)
    leading = first[starts[at]]
    doubtful = at[(leading < 0x21) | (leading > 0x7E)]
    blank = ~nonempty
    if len(doubtful):
        blank[doubtful] = to_mask(pc.utf8_is_space(text.take(pa.array(doubtful))))
    if text.null_count:
        blank &= valid_mask(text)
    return blank


REPEAT_SAMPLE = 1024  # values looked at to judge whether a column repeats


def repeats(values: pa.Array, distinct_share: float) -> bool:
    """Whether work done once per distinct value (through a dictionary encoding) is worth it: at least
    two values, and at most `distinct_share` of the first REPEAT_SAMPLE distinct (a null counts as one)."""
    if len(values) < 2:
        return False
    sample = values.slice(0, REPEAT_SAMPLE)
    return bool(pc.count_distinct(sample, mode="all").as_py() <= distinct_share * len(sample))


def string_offsets(text: pa.Array) -> npt.NDArray[np.int32]:
    """The `len(text) + 1` offsets of a string array's values into its data buffer (value i is bytes
    offsets[i] to offsets[i + 1]), read from the buffer without a copy."""
    return np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + len(text) + 1]


def _bits(buffer: pa.Buffer, offset: int, count: int) -> Mask:
    """`count` bits of an Arrow bitmap from bit `offset`, as booleans."""
    packed = np.frombuffer(buffer, dtype=np.uint8)[offset // 8 : (offset + count + 7) // 8]
    start = offset % 8
    return np.unpackbits(packed, bitorder="little")[start : start + count].view(np.bool_)


def valid_mask(array: pa.Array) -> Mask:
    """Where the array holds a value (pc.is_valid as numpy), read from its validity bitmap."""
    if pa.types.is_null(array.type):
        return np.zeros(len(array), dtype=np.bool_)
    if array.null_count == 0:
        return np.ones(len(array), dtype=np.bool_)
    validity = array.buffers()[0]
    if validity is None:  # a type that keeps no bitmap (a union...): ask Arrow
        return to_mask(pc.is_valid(array))
    return _bits(validity, array.offset, len(array))


def to_mask(array: pa.Array) -> Mask:
    """A boolean Arrow array as numpy, null as False (unpacked from its bitmaps: fill_null and to_numpy
    cost several times as much on the short arrays of a batch)."""
    if isinstance(array, pa.BooleanArray):
        values = _bits(array.buffers()[1], array.offset, len(array))
        return values & valid_mask(array) if array.null_count else values
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=np.bool_)


def parse(array: pa.Array, kind: Kind) -> Parsed:
    """Parse a plain() array into `kind`."""
    if pa.types.is_null(array.type):
        return Parsed(pa.nulls(len(array), KIND_TYPES[kind].checked), None)
    if pa.types.is_string(array.type) and kind != "String":
        return _parse_text(array, kind)
    return _parse_typed(array, kind)


def _keep(array: pa.Array, ok: pa.Array) -> pa.Array:
    return pc.if_else(ok, array, pa.scalar(None, array.type))


def _result(values: pa.Array, ok: pa.Array, original: pa.Array) -> Parsed:
    wrong = to_mask(pc.and_(pc.is_valid(original), pc.invert(pc.fill_null(ok, False))))
    return Parsed(values, wrong if wrong.any() else None)


def _parse_text(text: pa.Array, kind: Kind) -> Parsed:
    trimmed = pc.utf8_trim_whitespace(text)
    if kind == "Int64":
        ok = pc.match_substring_regex(trimmed, INT_PATTERN)
        unsigned = pc.replace_substring_regex(_keep(trimmed, ok), r"^\+", "")
        return _result(unsigned.cast(pa.int64()), ok, text)
    if kind in ("Double", "Decimal"):
        shaped = pc.match_substring_regex(trimmed, FLOAT_PATTERN)
        values = _keep(trimmed, shaped).cast(pa.float64())
        ok = pc.and_(shaped, pc.is_finite(values))  # 1e400 overflows to inf, which Power BI cannot hold
        return _result(_keep(values, ok), ok, text)
    if kind == "Boolean":
        lowered = pc.utf8_lower(trimmed)
        ok = pc.is_in(lowered, value_set=pa.array(BOOLEAN_WORDS))
        values = _keep(pc.is_in(lowered, value_set=pa.array(TRUE_WORDS)), ok)
        return _result(values, ok, text)
    return _parse_datetime_text(trimmed, text)


def _parse_datetime_text(trimmed: pa.Array, text: pa.Array) -> Parsed:
    naive = pc.fill_null(pc.match_substring_regex(trimmed, NAIVE_DATETIME_PATTERN), False)
    zoned = pc.fill_null(pc.match_substring_regex(trimmed, ZONED_DATETIME_PATTERN), False)
    shaped = pc.or_(naive, zoned)
    try:
        naive_values = _keep(trimmed, naive).cast(pa.timestamp("us")).cast(UTC_MICROS)
        zoned_values = _keep(trimmed, zoned).cast(UTC_MICROS)
    except pa.ArrowInvalid:  # the shape is ISO but the date is not (2024-02-30): slower, per value
        # Only the shapes the fast path accepts: pandas' ISO8601 also takes 20240301 or 7 fraction digits,
        # and a value must not pass or fail depending on another row.
        parsed = pd.to_datetime(
            pd.Series(_keep(trimmed, shaped).to_numpy(zero_copy_only=False)),
            format="ISO8601",
            utc=True,
            errors="coerce",
        )
        values = pa.array(parsed, from_pandas=True).cast(UTC_MICROS, safe=False)
        return _result(values, pc.is_valid(values), text)
    return _result(pc.if_else(zoned, zoned_values, naive_values), shaped, text)


def _parse_typed(array: pa.Array, kind: Kind) -> Parsed:
    kind_type = array.type
    is_number = pa.types.is_integer(kind_type) or pa.types.is_floating(kind_type)
    if kind == "String":
        if pa.types.is_string(kind_type):
            return Parsed(array, None)
        try:
            return Parsed(plain(array.cast(pa.string())), None)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return _all_wrong(array, kind)
    if kind == "Int64":
        if pa.types.is_integer(kind_type):
            if not pa.types.is_unsigned_integer(kind_type):
                return Parsed(array.cast(pa.int64()), None)
            unsigned = array.cast(pa.uint64())  # compared as uint64: Arrow would cast 2**64-1 to int64
            ok = pc.less_equal(unsigned, pa.scalar(2**63 - 1, pa.uint64()))
            return _result(_keep(unsigned, ok).cast(pa.int64()), ok, array)
        if pa.types.is_floating(kind_type):
            whole = pc.and_(
                pc.equal(pc.floor(array), array), pc.less_equal(pc.abs(array), MAX_INT64_AS_FLOAT)
            )
            return _result(_keep(array, whole).cast(pa.int64(), safe=False), whole, array)
    if kind in ("Double", "Decimal") and (is_number or pa.types.is_decimal(kind_type)):
        values = array.cast(pa.float64())
        ok = pc.is_finite(values)
        return _result(_keep(values, ok), ok, array)
    if kind == "Boolean":
        if pa.types.is_boolean(kind_type):
            return Parsed(array, None)
        if is_number:
            ok = pc.is_in(array.cast(pa.float64()), value_set=pa.array([0.0, 1.0]))
            return _result(_keep(pc.equal(array, 1), ok), ok, array)
    if kind == "DateTime":
        if pa.types.is_timestamp(kind_type):
            if kind_type.tz is None:
                return Parsed(array.cast(pa.timestamp("us"), safe=False).cast(UTC_MICROS), None)
            return Parsed(array.cast(UTC_MICROS, safe=False), None)
        if pa.types.is_date(kind_type):
            return Parsed(array.cast(pa.timestamp("us")).cast(UTC_MICROS), None)
    return _all_wrong(array, kind)


def _all_wrong(array: pa.Array, kind: Kind) -> Parsed:
    wrong = to_mask(pc.is_valid(array))
    return Parsed(pa.nulls(len(array), KIND_TYPES[kind].checked), wrong if wrong.any() else None)
