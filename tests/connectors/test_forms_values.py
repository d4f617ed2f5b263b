"""Values in Forms exports: Excel serials (1900 with its phantom leap day, 1904), locale text, London time."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from connectors import forms_problems as codes
from connectors.forms_rows import empty_as_null, split_options
from connectors.forms_values import (
    excel_serial_to_local,
    london_to_utc,
    parse_time_text,
    pseudonymise,
    split_multi_select,
)
from errors import ConfigError


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, datetime(1900, 1, 1)),
        (59, datetime(1900, 2, 28)),
        (61, datetime(1900, 3, 1)),  # after Excel's phantom 1900-02-29
        (45000.5, datetime(2023, 3, 15, 12)),
        (45000 + (9 * 3600 + 1) / 86400, datetime(2023, 3, 15, 9, 0, 1)),  # no 9:00:00.999999
        (2_958_465, datetime(9999, 12, 31)),
    ],
)
def test_excel_1900_serials(serial: float, expected: datetime) -> None:
    assert excel_serial_to_local(serial) == expected


@pytest.mark.parametrize("serial", [60, 60.5, 0, 0.5, -1, 2_958_466, float("nan"), float("inf")])
def test_serials_that_name_no_real_date_time(serial: float) -> None:
    assert excel_serial_to_local(serial) is None


def test_excel_1904_serials() -> None:
    assert excel_serial_to_local(0, date1904=True) == datetime(1904, 1, 1)
    assert excel_serial_to_local(45000.5, date1904=True) == datetime(2027, 3, 16, 12)
    assert excel_serial_to_local(60, date1904=True) == datetime(1904, 3, 1)  # no phantom day in 1904


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("03/04/2023", "en-GB", datetime(2023, 4, 3)),
        ("03/04/2023", "en-US", datetime(2023, 3, 4)),
        ("9/25/26 9:00:00", "en-US", datetime(2026, 9, 25, 9)),  # Forms' CSV rendering
        ("25/9/26 9:00", "en-GB", datetime(2026, 9, 25, 9)),
        ("3/4/23 14:05:09", "en-GB", datetime(2023, 4, 3, 14, 5, 9)),
        ("9/25/26 9:00:00 PM", "en-US", datetime(2026, 9, 25, 21)),
        ("9/25/26 12:30 AM", "en-US", datetime(2026, 9, 25, 0, 30)),
        ("2023-04-03", None, datetime(2023, 4, 3)),
        ("2023-04-03T09:30:15.25", None, datetime(2023, 4, 3, 9, 30, 15, 250000)),
        ("12/12/2023", None, datetime(2023, 12, 12)),  # both orders agree
        ("25/04/2023", None, datetime(2023, 4, 25)),  # only one order is a date
        ("4/25/2023", None, datetime(2023, 4, 25)),
        ("1/1/29", "en-GB", datetime(2029, 1, 1)),  # Excel: 00-29 are 2000s
        ("1/1/30", "en-GB", datetime(1930, 1, 1)),
        ("45000.5", "en-GB", datetime(2023, 3, 15, 12)),  # a serial saved to CSV
    ],
)
def test_time_text(text: str, locale: str | None, expected: datetime) -> None:
    parsed = parse_time_text(text, locale)  # type: ignore[arg-type]
    assert (parsed.local, parsed.problem) == (expected, None)


def test_r17_an_ambiguous_date_without_a_locale_is_not_guessed() -> None:
    assert parse_time_text("03/04/2023", None).problem == codes.AMBIGUOUS_DATE
    assert parse_time_text("03/04/2023", None).local is None
    assert parse_time_text("03/04/2023", "en-GB").local == datetime(2023, 4, 3)


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("9/25/26 9:00:00", "en-GB"),  # month 25
        ("31/02/2023", "en-GB"),
        ("13/13/2023", None),
        ("yesterday", "en-GB"),
        ("2023-02-30", None),
        ("1/2/2023 25:00", "en-GB"),
        ("1/2/2023 13:00 PM", "en-GB"),
        ("60", "en-GB"),  # the phantom 1900-02-29
        ("", "en-GB"),
    ],
)
def test_bad_time_text(text: str, locale: str | None) -> None:
    parsed = parse_time_text(text, locale)  # type: ignore[arg-type]
    assert (parsed.local, parsed.problem) == (None, codes.BAD_DATETIME)


def test_r15_london_times_become_utc_and_transition_times_are_flagged() -> None:
    local = [
        datetime(2025, 1, 15, 9, 0),  # GMT
        datetime(2025, 7, 15, 9, 0),  # BST
        datetime(2025, 3, 30, 1, 30),  # skipped when BST began
        datetime(2025, 10, 26, 1, 30),  # shown twice when BST ended
        None,
        datetime(2025, 3, 30, 2, 0),  # first wall-clock time after the gap
    ]
    utc, flagged = london_to_utc(local)
    assert utc.to_pylist() == [
        datetime(2025, 1, 15, 9, 0, tzinfo=UTC),
        datetime(2025, 7, 15, 8, 0, tzinfo=UTC),
        None,
        None,
        None,
        datetime(2025, 3, 30, 1, 0, tzinfo=UTC),
    ]
    assert flagged == {2: codes.NONEXISTENT_LOCAL_TIME, 3: codes.AMBIGUOUS_LOCAL_TIME}


@pytest.mark.parametrize(
    ("answer", "options"),
    [
        ("Excel;Power BI;", ["Excel", "Power BI"]),
        ("Excel;", ["Excel"]),
        (" Excel ; Power BI ; ", ["Excel", "Power BI"]),
        ("Excel;;Power BI", ["Excel", "Power BI"]),
        (";", []),
    ],
)
def test_multi_select_answers_split_on_semicolons(answer: str, options: list[str]) -> None:
    assert split_multi_select(answer) == options


def test_answer_columns_split_and_null_like_single_answers() -> None:
    answers = ["Excel;Power BI;", " Excel ; Power BI ; ", "Excel;;Power BI", ";", "", None, "plain"]
    column = empty_as_null(pa.array(answers, pa.string()))
    assert column.to_pylist() == [a or None for a in answers]
    assert split_options(column).to_pylist() == [
        None if a is None else split_multi_select(a) for a in column.to_pylist()
    ]
    sliced = pa.array(answers, pa.string()).slice(3)
    assert empty_as_null(sliced).to_pylist() == [a or None for a in answers[3:]]


def test_pseudonyms_are_keyed_normalised_and_kept_apart_by_purpose() -> None:
    key = b"k" * 32
    email = pseudonymise("Officer.One@force.police.uk", key, "email")
    assert email == pseudonymise("  officer.one@FORCE.police.uk ", key, "email")
    assert email != pseudonymise("Officer.One@force.police.uk", b"j" * 32, "email")
    assert email != pseudonymise("Officer.One@force.police.uk", key, "name")
    assert "officer" not in email.lower() and len(email) == 64


def test_a_short_pseudonym_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="CETK_PSEUDONYMISATION_KEY"):
        pseudonymise("Officer.One@force.police.uk", b"short", "email")
