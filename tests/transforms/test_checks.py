"""transforms/checks.py: each column check's shortcuts (no kernel for an empty column, a length check
read from the offsets, a pattern matched once per distinct value, ranges in numpy) find exactly the rows
the plain Arrow kernels find."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.kinds import UTC_MICROS
from powerbi_dataset.schema import Code, Column
from transforms.checks import check_column
from transforms.coerce import REPEAT_SAMPLE as SAMPLE
from transforms.coerce import Parsed, parse, plain
from transforms.problems import BAD_FORMAT, NOT_A_DATE, OUT_OF_RANGE, TOO_LONG, UNKNOWN_CODE


def rows(column: Column, values: pa.Array, code: str) -> list[list[int]]:
    found = check_column(column, parse(plain(values), column.kind), None)
    return [finding.rows.tolist() for finding in found if finding.code == code]


def test_too_long_counts_characters_not_bytes() -> None:
    column = Column("name", "String", "", max_length=3)
    values = pa.array(["ééé", "éééé", None, "abc", "abcd", "日本語"]).slice(0)
    assert rows(column, values, TOO_LONG.code) == [[1, 4]]
    assert rows(column, pa.array(["ééé", None, "ab"]), TOO_LONG.code) == [[]]  # 6 bytes, 3 chars
    assert rows(column, pa.array(["x", "abcd", "ab"]).slice(2), TOO_LONG.code) == [[]]  # offsets sliced
    assert rows(column, pa.array(["abcd", "ab"]), TOO_LONG.code) == [[0]]  # one byte over the limit
    assert rows(column, pa.array(["ab", "abcdef"]).slice(1), TOO_LONG.code) == [[0]]
    assert rows(column, pa.array(["abcdef", "ab", "abcd"]).slice(1), TOO_LONG.code) == [[1]]


def test_a_pattern_is_matched_alike_whether_values_repeat_or_not() -> None:
    column = Column("ward", "String", "", pattern=r"E05\d{6}")
    good, bad = "E05000001", "e05000001"
    repeated = pa.array([bad, good, None, good] * (SAMPLE // 2) + [good, "E050000012", None])
    expected = pc.invert(pc.match_substring_regex(repeated, rf"^(?:{column.pattern})$"))
    assert rows(column, repeated, BAD_FORMAT.code) == [
        pc.indices_nonzero(pc.fill_null(expected, False)).to_pylist()
    ]
    distinct = pa.array([f"E05{n:06d}" if n % 7 else f"X{n}" for n in range(3 * SAMPLE)] + [None])
    assert rows(column, distinct, BAD_FORMAT.code) == [[n for n in range(3 * SAMPLE) if n % 7 == 0]]
    assert rows(column, pa.array([good, good, None] * SAMPLE), BAD_FORMAT.code) == [[]]
    all_bad = pa.array([None, bad, bad] * SAMPLE)
    assert rows(column, all_bad, BAD_FORMAT.code) == [[n for n in range(3 * SAMPLE) if n % 3]]


def test_unknown_codes_leave_nulls_alone() -> None:
    column = Column("role", "String", "", codes=(Code("PC", "Constable"), Code("PS", "Sergeant")))
    assert rows(column, pa.array(["PC", None, "pc", "PS", "", "XX"]), UNKNOWN_CODE.code) == [[2, 5]]


def test_an_empty_column_fails_no_check() -> None:
    text = Column("code", "String", "", codes=(Code("A", "a"),), max_length=1, pattern="A")
    assert [
        f.rows.tolist() for f in check_column(text, parse(plain(pa.nulls(3, pa.string())), "String"), None)
    ] == [[], [], []]
    number = Column("n", "Int64", "", minimum=1, maximum=5)
    assert [f.rows.tolist() for f in check_column(number, parse(pa.nulls(3, pa.int64()), "Int64"), None)] == [
        [],
        [],
    ]


def test_ranges_compare_as_floats_and_skip_nulls() -> None:
    column = Column("n", "Int64", "", minimum=1, maximum=5)
    values = pa.array([0, 1, None, 5, 6, 2**62, -(2**62)])
    assert rows(column, values, OUT_OF_RANGE.code) == [[0, 6], [4, 5]]
    doubles = Column("lat", "Double", "", minimum=52.4, maximum=53.25)
    assert rows(doubles, pa.array([52.39, None, float("nan"), 53.25, 53.2500001]), OUT_OF_RANGE.code) == [
        [0],
        [4],
    ]
    when = Column("start", "DateTime", "", minimum=dt.datetime(2015, 1, 1, tzinfo=dt.UTC).timestamp())
    moments = pa.array(
        [dt.datetime(2014, 12, 31, 23, 59, tzinfo=dt.UTC), None, dt.datetime(2015, 1, 1, tzinfo=dt.UTC)],
        UTC_MICROS,
    )
    assert rows(when, moments, OUT_OF_RANGE.code) == [[0]]


def test_a_date_only_value_with_a_time_of_day() -> None:
    column = Column("day", "DateTime", "", date_only=True)
    moments = pa.array(
        [dt.datetime(2024, 1, 1, tzinfo=dt.UTC), None, dt.datetime(2024, 1, 1, 0, 0, 1, tzinfo=dt.UTC)],
        UTC_MICROS,
    )
    assert rows(column, moments, NOT_A_DATE.code) == [[2]]


def test_parsed_values_with_nulls_in_place_of_wrong_ones_are_checked_as_given() -> None:
    column = Column("n", "Int64", "", maximum=5)
    parsed = Parsed(pa.array([7, None, 3]), None)
    assert [f.rows.tolist() for f in check_column(column, parsed, None) if f.code == OUT_OF_RANGE.code] == [
        [0]
    ]
