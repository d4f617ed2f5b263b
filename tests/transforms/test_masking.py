"""The one masking rule (transforms/masking.py): which columns may show values, which values have a safe
shape, fingerprints (stable within a report, or across runs when keyed; never enumerable without the
key), and header cells that are values. The issue's cases end to end: test_masking_defects.py."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pytest

from powerbi_dataset.model import DATASET
from tests.transforms.clean_rows import AS_OF, EVENT, as_text, clean_rows
from tests.transforms.test_masking_defects import EMAIL, FORMULA, PHONE, POSTCODE
from transforms.masking import (
    MASK,
    Fingerprinter,
    column_display,
    has_safe_shape,
    header_looks_like_data,
    looks_like_value,
    printable,
    shown_name,
    shown_value,
)
from transforms.validate import validate, validate_dataset

EVENTS = DATASET.table("events")
KEYED = Fingerprinter.from_pseudonymisation_key("test-pseudonymisation-key")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event_type", "PARTY"),  # not a code: an upper-case word could be a surname
        ("status", "Completed!"),
    ],
)
def test_a_wrong_code_is_masked_unless_it_is_a_code_in_other_case(column: str, value: str) -> None:
    assert shown_value(value, EVENTS.column(column), "value") == MASK


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("status", "completed", "completed"),  # a declared code in other case
        ("status", "n/a", "n/a"),  # a placeholder
        ("total_attendance", "-1", "-1"),  # a short number
        ("total_attendance", "250000", "250000"),
        ("location_lat", "60.123456", "60.123456"),
        ("start_utc", "2010-01-01T10:00:00Z", "2010-01-01T10:00:00Z"),  # a parseable date
        ("suitable_for_publishing", "yes", "yes"),
        ("ward_code", "E05000001", "E05000001"),  # a patterned public code with its pattern
    ],
)
def test_safe_values_of_safe_columns_are_shown(column: str, value: str, shown: str) -> None:
    assert shown_value(value, EVENTS.column(column), "value") == shown


def test_numbers_with_seven_digits_or_a_leading_zero_are_not_shown() -> None:
    column = EVENTS.column("total_attendance")
    assert [has_safe_shape(text, column) for text in ("1234567", "0123", "1e3", "12.5")] == [
        False,
        False,
        False,
        True,
    ]


def test_the_declaration_decides_which_columns_may_show_values() -> None:
    ccr = DATASET.table("ccr")
    assert [column_display(ccr.column(name), identifier=False) for name in ("religion", "sex")] == [
        "masked",
        "masked",
    ]
    assert column_display(ccr.column("officer_key"), identifier=True) == "fingerprint"
    assert column_display(EVENTS.column("event_id"), identifier=True) == "fingerprint"
    assert column_display(EVENTS.column("event_name"), identifier=False) == "masked"
    assert column_display(EVENTS.column("lpt_code"), identifier=True) == "value"  # a code: safe
    never = {
        "event_id",
        "event_name",
        "created_by_officer_key",
        "source_item_id",
        "source_version",
        "load_id",
    }
    assert {column.name for column in EVENTS.columns if not column.safe_to_show} == never


# --- keys ---------------------------------------------------------------------------------------------


def test_keys_are_fingerprints_stable_within_a_report_and_different_in_the_next() -> None:
    rows = [{**EVENT, "event_id": "ccr-000123", "status": "DONE", "event_type": "PARTY"}]
    table = as_text("events", rows)
    first, second = (validate(table, EVENTS, as_of=AS_OF) for _ in range(2))
    (key,) = {problem.key for problem in first.problems}
    assert key.startswith("#") and len(key) == 13 and set(key[1:]) <= set("0123456789abcdef")
    assert {problem.key for problem in second.problems} != {key}  # a new salt for each report
    assert first.to_dict()["fingerprints"].startswith("random salt for this report")


def test_a_fingerprint_depends_on_the_value_and_the_key_only() -> None:
    values = pa.array(["e1", "e2", "e1", None])
    shown = KEYED.of_array(values)
    assert shown[0] == shown[2] != shown[1] and shown[3] == ""
    assert (
        Fingerprinter.per_report(b"salt").of_array(values)[:3]
        == Fingerprinter.per_report(b"salt").of_array(values)[:3]
    )
    assert Fingerprinter.per_report(b"salt").of_array(values)[0] != shown[0]
    assert KEYED.of_array(pa.array([1, 2, 1]))[0] == KEYED.of_array(pa.array([1]))[0]


def test_keyed_fingerprints_are_stable_across_runs_and_are_not_the_pseudonym() -> None:
    table = as_text("events", [{**EVENT, "status": "DONE"}])
    runs = [validate(table, EVENTS, as_of=AS_OF, fingerprinter=KEYED).problems[0].key for _ in range(2)]
    assert runs[0] == runs[1]
    pseudonym = hmac.new(b"test-pseudonymisation-key", b"e1", hashlib.sha256).hexdigest()
    assert runs[0][1:] not in pseudonym


def test_a_small_id_space_cannot_be_enumerated_from_the_fingerprints() -> None:
    """S11 for reports: hashing every id of a small space without the HMAC key matches nothing."""
    ids = [f"c{number}" for number in range(2_000)]
    rows = clean_rows()
    rows["ccr"] = [{**rows["ccr"][0], "ccr_id": ident, "sex": "BAD"} for ident in ids[:50]]
    report = validate_dataset({"ccr": as_text("ccr", rows["ccr"])}, as_of=AS_OF)
    shown = {problem.key[1:] for problem in report.problems}
    assert len(shown) == 50
    for guess in ids:
        data = guess.encode()
        candidates = {
            hashlib.sha256(data).hexdigest()[:12],
            hashlib.md5(data).hexdigest()[:12],
            hmac.new(b"", data, hashlib.sha256).hexdigest()[:12],
        }
        candidates |= {item[1:] for item in Fingerprinter.per_report(b"").of_array(pa.array([guess]))}
        assert not candidates & shown


# --- headers --------------------------------------------------------------------------------------------


def test_a_real_header_with_unknown_and_repeated_names_names_them_safely() -> None:
    names = ["theme_code", "theme_label", "load_id", "Colour", "theme_code", "Colour", "a\x1b[31mb"]
    table = pa.table([pa.array(["ASB"]) for _ in names], names=names)
    report = validate(table, DATASET.table("themes"))
    assert report.flatten(["column", "code"]) == [
        ["Colour", "unexpected-column"],
        ["column 7", "unexpected-column"],  # not a name's shape: named by position, never echoed
        ["theme_code", "duplicate-column"],
        ["Colour", "duplicate-column"],
    ]


@pytest.mark.parametrize(
    "cell", [EMAIL, PHONE, POSTCODE, "2024-01-01", "12.5", FORMULA, "http://x.y", "TRUE"]
)
def test_value_shaped_header_cells(cell: str) -> None:
    assert looks_like_value(cell)
    assert header_looks_like_data(["theme_code", cell], {"theme_code"})
    assert shown_name(cell, 4, {"theme_code"}) == "column 5"


@pytest.mark.parametrize("cell", ["theme_code", "Total attendance", "notes (free text)", "col_2", ""])
def test_name_shaped_header_cells(cell: str) -> None:
    assert not looks_like_value(cell)


def test_printable_escapes_terminal_control_and_bidi_characters() -> None:
    assert printable("a\x1b[31mb\u202ec\td") == "a\\x1b[31mb\\u202ec\\x09d"
