"""Issue 7, "Personal values echoed by `cetk validate`", case by case, through validate() and its JSON.

Only the API that existed before the fix is used here, so each test ran (and failed) on the old code:
a first row of values printed as column names, a repeated header quoting a value, a phone number,
email, postcode or formula in a column not marked personal shown raw, and keys shown in full.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from powerbi_dataset.model import DATASET
from tests.transforms.clean_rows import AS_OF, EVENT, as_text
from transforms.validate import validate

PHONE = "07700 900123"
EMAIL = "jane.doe@example.com"
POSTCODE = "ST4 2AB"
FORMULA = '=HYPERLINK("http://evil.example/x","click")'
PERSONAL_SHAPES = [PHONE, "+447700900123", "07700900123", EMAIL, POSTCODE, "ST42AB", FORMULA, "QQ123456C"]
EVENTS = DATASET.table("events")


def events_with(**changes: object) -> pa.Table:
    return as_text("events", [{**EVENT, **changes}])


def report_json(table: pa.Table, model_table: str = "events") -> str:
    return json.dumps(validate(table, DATASET.table(model_table), as_of=AS_OF).to_dict())


def shows(text: str, value: str) -> bool:
    """Whether JSON text holds the value, or its first 20 characters, raw or JSON-escaped."""
    return any(
        part in text for part in (value, value[:20], json.dumps(value)[1:-1], json.dumps(value[:20])[1:-1])
    )


@pytest.mark.parametrize("value", PERSONAL_SHAPES)
@pytest.mark.parametrize(
    "column", ["event_type", "status", "value_gained", "ward_code", "lpt_code", "total_attendance"]
)
def test_a_personal_value_in_a_code_or_number_column_is_never_shown(column: str, value: str) -> None:
    report = validate(events_with(**{column: value}), EVENTS, as_of=AS_OF)
    found = [problem for problem in report.problems if problem.column == column]
    assert found, "the bad value is reported"
    assert {problem.value for problem in found} == {"***"}
    assert not shows(json.dumps(report.to_dict()), value)


@pytest.mark.parametrize("value", PERSONAL_SHAPES)
def test_a_personal_value_in_an_id_column_is_never_shown(value: str) -> None:
    table = as_text("events", [{**EVENT, "event_id": value}, {**EVENT, "event_id": value}])
    report = validate(table, EVENTS, as_of=AS_OF)
    assert report.flatten(["row", "column", "code"]) == [[1, "event_id", "duplicate-key"]]
    assert not shows(json.dumps(report.to_dict()), value)


@pytest.mark.parametrize("value", [*PERSONAL_SHAPES, "Jane Doe", "sometimes"])
@pytest.mark.parametrize(
    "column", ["officers_present", "start_utc", "suitable_for_publishing", "location_lat"]
)
def test_a_personal_value_in_a_number_date_or_flag_column_is_masked(column: str, value: str) -> None:
    text = report_json(events_with(**{column: value}))
    assert not shows(text, value)
    assert '"value": "***"' in text


@pytest.mark.parametrize("value", [EMAIL, "Jane Doe, 14 Acacia Avenue", "x" * 300])
def test_free_text_in_a_code_column_is_masked_and_an_overlong_text_shown_as_its_length(value: str) -> None:
    text = report_json(events_with(lpt_code=value, event_name="y" * 300))
    assert not shows(text, value) and not shows(text, "y" * 300)
    assert '"value": "<300 chars>"' in text


def test_keys_are_not_shown_in_full() -> None:
    rows = [{**EVENT, "event_id": "ccr-000123", "status": "DONE", "event_type": "PARTY"}]
    report = validate(as_text("events", rows), EVENTS, as_of=AS_OF)
    assert len(report.problems) == 2
    keys = {problem.key for problem in report.problems}
    assert len(keys) == 1 and keys != {""}  # both problems name the same row
    assert "ccr-000123" not in json.dumps(report.to_dict())
    assert "000123" not in json.dumps(report.to_dict())


HEADERLESS_FIRST_ROWS = [
    ["c1", "2024-05-01T11:00:00Z", EMAIL, "MUSLIM", "Jane Doe"],
    ["c2", "true", "true", "HINDU", "Smith"],  # a repeated value must not be quoted as a repeated name
    ["7", "8", "9"],
    ["theme_code", PHONE],
    ["Jane", "Doe", "MUSLIM"],  # no column of the model at all
]


@pytest.mark.parametrize("first_row", HEADERLESS_FIRST_ROWS)
def test_a_first_row_of_values_is_not_echoed_as_column_names(first_row: list[str]) -> None:
    table = pa.table([pa.array(["x"]) for _ in first_row], names=first_row)
    report = validate(table, DATASET.table("ccr"), as_of=AS_OF)
    assert report.flatten(["row", "column", "code", "value"]) == [[-1, "", "header-looks-like-data", ""]]
    assert report.problems[0].message == (
        "the first row of the input does not look like a header (values, not column names)"
    )
    text = json.dumps(report.to_dict())
    assert not [cell for cell in first_row if cell not in ("theme_code", "true") and cell in text]
