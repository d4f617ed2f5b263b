"""validate() and validate_dataset(): one small table per check, then every code of the model at once."""

from __future__ import annotations

import gc
from dataclasses import replace

import pandas as pd
import pyarrow as pa
import pytest

from powerbi_dataset.model import DATASET, THEMES
from powerbi_dataset.schema import Column, Dataset, Relationship, Table
from tests.transforms.clean_rows import AS_OF, ROOMS, as_text, as_typed, clean_rows, rooms
from tests.transforms.test_validate_all_codes import build
from transforms.masking import Fingerprinter
from transforms.validate import ArrowSource, reading_order, validate, validate_dataset, validate_sources

FIELDS = ["row", "column", "code"]


def test_clean_text_table_is_valid() -> None:
    report = validate(rooms(seats=["1", "+7", "007", " 500 "]), ROOMS)
    assert report.valid
    assert report.rows_checked == {"rooms": 4}


def test_missing_and_unexpected_columns_are_table_level() -> None:
    table = rooms(kind=["HALL"]).drop_columns(["note", "seats"]).append_column("colour", pa.array(["red"]))
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [-1, "note", "missing-column"],
        [-1, "seats", "missing-column"],
        [-1, "colour", "unexpected-column"],
    ]


def test_text_that_does_not_parse_is_wrong_type_and_nothing_else() -> None:
    table = rooms(
        seats=["1.5", "ten", "", "99999999999999999999"],
        rate=["abc", "1e3", ".5", "nan"],
        open=["maybe", "YES", "0", "No"],
        opened_utc=["2024-01-01 10:00", "yesterday", "2024-01-01T10:00:00+01:00", "01/02/2024"],
    )
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [0, "seats", "wrong-type"],
        [0, "rate", "wrong-type"],
        [0, "open", "wrong-type"],
        [1, "seats", "wrong-type"],
        [1, "opened_utc", "wrong-type"],
        [3, "seats", "wrong-type"],
        [3, "rate", "wrong-type"],
        [3, "opened_utc", "wrong-type"],
    ]


def test_impossible_calendar_date_is_wrong_type() -> None:
    table = rooms(
        opened_utc=["2024-02-30T10:00:00Z", "2024-02-29T10:00:00"], opened_date=["2024-02-30", "2023-02-28"]
    )
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [0, "opened_utc", "wrong-type"],
        [0, "opened_date", "wrong-type"],
    ]


def test_typed_values_of_the_wrong_type_are_wrong_type() -> None:
    table = rooms(kind=["HALL"] * 3).set_column(4, "seats", pa.array([2.0, 1.5, None]))
    table = table.set_column(6, "open", pa.array([1, 0, 2]))
    assert validate(table, ROOMS).flatten(FIELDS) == [[1, "seats", "wrong-type"], [2, "open", "wrong-type"]]


def test_required_null_is_only_missing_value() -> None:
    table = rooms(room_id=["r1", "", None], kind=["", "HALL", None])
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [0, "kind", "missing-value"],
        [1, "room_id", "missing-value"],
        [2, "room_id", "missing-value"],
        [2, "kind", "missing-value"],
    ]


def test_codes_ranges_length_format_and_dates() -> None:
    table = rooms(
        kind=["HALL", "hall", "ROOM", "HALL"],
        ref=["R001", "R0012", "xR001", ""],
        note=["", "n" * 4_000, "n" * 4_001, ""],
        seats=["0", "500", "501", "1"],
        rate=["-0.01", "0", "", "3"],
        opened_utc=["2014-12-31T23:59:59Z", "2015-01-01T00:00:00Z", "", ""],
        opened_date=["2024-01-01T00:00:00Z", "2024-01-01T00:00:01", "", "2024-01-01T23:00:00-01:00"],
    )
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [0, "seats", "out-of-range"],
        [0, "rate", "out-of-range"],
        [0, "opened_utc", "out-of-range"],
        [1, "kind", "unknown-code"],
        [1, "ref", "bad-format"],
        [1, "opened_date", "not-a-date"],
        [2, "ref", "bad-format"],
        [2, "note", "too-long"],
        [2, "seats", "out-of-range"],
    ]


def test_declared_max_length_and_duplicate_keys() -> None:
    table = rooms(room_id=["r1", "r2", "r1", "r123456", "r1"])
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [2, "room_id", "duplicate-key"],
        [3, "room_id", "too-long"],
        [4, "room_id", "duplicate-key"],
    ]


def test_composite_key_skips_rows_with_an_empty_part() -> None:
    table = pa.table(
        {"ccr_id": ["c1", "c1", "c1", "", ""], "theme_code": ["ASB", "PARKING", "ASB", "ASB", "ASB"]}
    )
    table = table.append_column("load_id", pa.array([None] * 5, pa.string()))
    report = validate(table, DATASET.table("ccr_issues"))
    assert report.flatten(FIELDS) == [
        [2, "ccr_id", "duplicate-key"],
        [3, "ccr_id", "missing-value"],
        [4, "ccr_id", "missing-value"],
    ]


def test_dataset_counts_linked_officers_and_finds_orphans() -> None:
    rows = clean_rows()
    rows["events"][0]["officers_present"] = 1
    rows["event_officers"].append({"event_id": "e9", "officer_key": "1111111111111111", "load_id": None})
    tables = {name: as_text(name, rows[name]) for name in ("events", "event_officers", "officers")}
    report = validate_dataset({**tables, "venues": pa.table({"x": ["1"]})}, as_of=AS_OF)
    assert report.flatten(["table", "row", "column", "code"]) == [
        ["venues", -1, "", "unknown-table"],
        ["events", 0, "officers_present", "officers-below-linked"],
        ["event_officers", 2, "event_id", "orphan-reference"],
        ["event_officers", 2, "officer_key", "orphan-reference"],
    ]
    assert report.rows_checked == {"events": 1, "event_officers": 3, "officers": 3}


def test_validation_leaves_nothing_for_the_cyclic_collector() -> None:
    """A sync pauses Python's cyclic collector while it reads a list (pipeline/sync_list.py): what
    validation made must be freed when the report is dropped, not wait for a collection."""
    rows = clean_rows()
    rows["event_officers"].append({"event_id": "e9", "officer_key": "1111111111111111", "load_id": None})
    tables = {name: as_text(name, rows[name]) for name in ("events", "event_officers", "officers")}
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        report = validate_dataset(tables, as_of=AS_OF)
        assert report.problems  # the run kept problems and hashes while it went
        del report
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_dataset_skips_count_rule_without_the_child_table() -> None:
    rows = clean_rows()
    report = validate_dataset({"events": as_typed("events", rows["events"])}, as_of=AS_OF)
    assert report.valid
    assert report.skipped_rules == ("events:officers-below-linked",)


@pytest.mark.parametrize("shape", [as_text, as_typed])
def test_clean_dataset_is_valid(shape) -> None:  # type: ignore[no-untyped-def]
    rows = clean_rows()
    report = validate_dataset(
        {name: shape(name, table_rows) for name, table_rows in rows.items()}, as_of=AS_OF
    )
    assert report.problems == ()
    assert report.skipped_rules == ()
    assert report.rows_checked == {name: len(table_rows) for name, table_rows in rows.items()}


def test_pandas_input_with_nan_and_dtypes() -> None:
    frame = pd.DataFrame(
        {
            "theme_code": pd.Series(["ASB", "NOPE", None], dtype="category"),
            "theme_label": ["Anti-social behaviour", float("nan"), "Other"],
            "load_id": [None, None, None],
        }
    )
    assert validate(frame, THEMES).flatten(FIELDS) == [
        [1, "theme_code", "unknown-code"],
        [1, "theme_label", "missing-value"],
        [2, "theme_code", "missing-value"],
    ]


def test_numbers_and_dates_beyond_2_to_53_are_reported_not_raised() -> None:
    table = rooms(
        seats=["9007199254740993", "10"],
        opened_utc=["2024-01-01T10:00:00Z", "2925-05-08T12:00:00Z"],
    )
    assert validate(table, ROOMS).flatten(FIELDS) == [[0, "seats", "out-of-range"]]
    typed = rooms(seats=["10"]).set_column(4, "seats", pa.array([2**62], pa.uint64()))
    assert validate(typed, ROOMS).flatten(FIELDS) == [[0, "seats", "out-of-range"]]


def test_a_date_parses_the_same_whichever_other_rows_are_in_the_column() -> None:
    # 2024-02-30 sends the column down the slower per-value path; it must accept the same shapes
    table = rooms(opened_utc=["20240301", "2024-03-01T10:00:00.1234567Z", "2024-02-30T10:00:00Z"])
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [0, "opened_utc", "wrong-type"],
        [1, "opened_utc", "wrong-type"],
        [2, "opened_utc", "wrong-type"],
    ]
    assert validate(rooms(opened_utc=["20240301"]), ROOMS).flatten(FIELDS) == [
        [0, "opened_utc", "wrong-type"]
    ]


def test_text_double_that_overflows_to_infinity_is_wrong_type() -> None:
    assert validate(rooms(rate=["1e400", "-1e400", "1e300"]), ROOMS).flatten(FIELDS) == [
        [0, "rate", "wrong-type"],
        [1, "rate", "wrong-type"],
    ]


def test_whitespace_only_text_counts_as_missing() -> None:
    table = rooms(room_id=["r1", "r2", "r3"], kind=["   ", "\t", "HALL"], seats=["10", " ", "10"])
    assert validate(table, ROOMS).flatten(FIELDS) == [
        [0, "kind", "missing-value"],
        [1, "kind", "missing-value"],
    ]


def test_a_pasted_text_in_the_key_column_is_a_length_and_its_key_a_fingerprint() -> None:
    report = validate(rooms(room_id=["x" * 5_000], seats=["0"]), ROOMS)
    assert report.flatten(["column", "code", "value"]) == [
        ["room_id", "too-long", "<5000 chars>"],
        ["seats", "out-of-range", "0"],
    ]
    assert {len(problem.key) for problem in report.problems} == {13}


@pytest.mark.parametrize("shape", ["arrow", "pandas"])
def test_a_repeated_input_column_is_a_table_problem_not_an_exception(shape: str) -> None:
    names = ["theme_code", "theme_label", "load_id", "theme_code"]
    arrow = pa.table(
        [pa.array(["ASB"]), pa.array(["x"]), pa.array([None], pa.string()), pa.array(["y"])], names=names
    )
    data = arrow if shape == "arrow" else pd.DataFrame([["ASB", "x", None, "y"]], columns=names)
    assert validate(data, THEMES).flatten(FIELDS) == [[-1, "theme_code", "duplicate-column"]]


@pytest.mark.parametrize("batch_rows", [1, 2, 3, 5])
def test_batches_of_any_size_give_the_same_report_as_one_batch(batch_rows: int) -> None:
    """Duplicate keys, references, counts and exclusive codes span batches: only hashes cross them."""
    tables, _expected = build()
    keyed = Fingerprinter.from_pseudonymisation_key("batch-test")
    whole = validate_dataset(tables, as_of=AS_OF, fingerprinter=keyed)
    sources = {name: ArrowSource(table, batch_rows=batch_rows) for name, table in tables.items()}
    assert validate_sources(sources, as_of=AS_OF, fingerprinter=keyed) == whole
    assert whole.counts()["events"]["duplicate-key"] == 1


def test_tables_are_read_targets_first_and_a_cycle_is_broken_in_input_order() -> None:
    assert reading_order(["ccr_issues", "ccr", "officers", "areas"], DATASET) == [
        "officers",
        "areas",
        "ccr",
        "ccr_issues",
    ]
    a = Table("a", "A", (Column("id", "String", "Key"), Column("b_id", "String", "B")), key=("id",))
    b = Table("b", "B", (Column("id", "String", "Key"), Column("a_id", "String", "A")), key=("id",))
    cyclic = Dataset(
        "cycle",
        (a, b),
        relationships=(Relationship("a", "b_id", "b", "id"), Relationship("b", "a_id", "a", "id")),
    )
    assert reading_order(["b", "a"], cyclic) == ["b", "a"]
    tables = {"b": pa.table({"id": ["b1"], "a_id": ["a9"]}), "a": pa.table({"id": ["a1"], "b_id": ["b9"]})}
    report = validate_dataset(tables, cyclic)
    assert report.flatten(["table", "column", "code"]) == [["a", "b_id", "orphan-reference"]]
    assert report.skipped_rules == ("b:orphan-reference",)  # b was read before a: its references unchecked


def test_an_empty_table_with_an_exclusivity_rule_is_valid() -> None:
    """A sync page of deletions only stages an empty table: validating it must not fail (it raised
    ValueError from concatenating no batches of the rule's held rows)."""
    from powerbi_dataset.derive import arrow_schema
    from powerbi_dataset.rules import Exclusive

    tables = [table for table in DATASET.tables if any(isinstance(rule, Exclusive) for rule in table.rules)]
    assert tables  # the model declares at least one
    for table in tables:
        report = validate_dataset({table.name: arrow_schema(table).empty_table()}, DATASET, as_of=AS_OF)
        assert report.valid and report.rows_checked[table.name] == 0


def test_without_details_the_same_problems_are_found_with_key_and_value_left_empty() -> None:
    """details=False (the Forms migration's every-row validation) changes only each problem's key and value."""
    tables, _ = build()
    sources = {name: ArrowSource(table) for name, table in tables.items()}
    salt = Fingerprinter(b"s" * 32, stable=True)
    full = validate_sources(sources, DATASET, as_of=AS_OF, fingerprinter=salt, max_listed=10**6)
    bare = validate_sources(
        sources, DATASET, as_of=AS_OF, fingerprinter=salt, max_listed=10**6, details=False
    )
    assert any(problem.key for problem in full.problems) and any(problem.value for problem in full.problems)
    assert [p for p in bare.problems if p.row >= 0] and all(
        p.key == "" and p.value == "" for p in bare.problems if p.row >= 0
    )
    assert [replace(p, key="", value="") if p.row >= 0 else p for p in full.problems] == list(bare.problems)
    assert (bare.counts(), bare.rows_checked, bare.skipped_rules) == (
        full.counts(),
        full.rows_checked,
        full.skipped_rules,
    )
