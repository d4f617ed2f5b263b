"""Report behaviour and masking: no personal value reaches a Problem, a message or the JSON."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from tests.transforms.clean_rows import AS_OF, ROOMS, as_text, clean_rows, rooms
from transforms.validate import Problem, Report, validate, validate_dataset


def test_personal_values_are_masked_and_long_values_shortened() -> None:
    secret_key = "0123456789abcdeX"
    table = pa.table(
        {
            "officer_key": [secret_key, "0123456789abcdef"],
            "role": ["P" * 60, "PC"],
            "home_lpt_code": ["", ""],
            "active": ["true", "sometimes"],
            "load_id": ["", "L" * 65],
        }
    )
    report = validate(table, DATASET.table("officers"))
    assert report.flatten(["row", "column", "code", "value", "key"]) == [
        [0, "officer_key", "bad-format", "***", "***"],
        [0, "role", "unknown-code", "P" * 39 + "…", "***"],
        [1, "active", "wrong-type", "sometimes", "***"],
        [1, "load_id", "too-long", "<65 chars>", "***"],
    ]
    assert secret_key not in json.dumps(report.to_dict())
    assert "0123456789abcdef" not in json.dumps(report.to_dict())


def test_special_category_values_are_masked() -> None:
    rows = clean_rows()["ccr"]
    rows[0].update(diversity_consent=False, ethnicity_2021="A_PAKISTANI", religion="SIKH")
    report = validate(as_text("ccr", rows), DATASET.table("ccr"), as_of=AS_OF)
    gated = [problem for problem in report.problems if problem.code == "consent-gate"]
    assert len(gated) == 7
    assert {problem.value for problem in gated} == {"***"}
    text = json.dumps(report.to_dict())
    assert "A_PAKISTANI" not in text and "SIKH" not in text


def test_report_counts_rows_json_and_merge() -> None:
    first = validate(rooms(kind=["x", "y", "HALL"]), ROOMS)
    second = validate(rooms(seats=["0"]), ROOMS)
    merged = Report.merge([first, second, Report((), {"other": 2}, ("other:rule",))])
    assert first.counts() == {"rooms": {"unknown-code": 2}}
    assert first.invalid_rows("rooms") == {0, 1}
    assert merged.rows_checked == {"rooms": 4, "other": 2}
    assert merged.counts() == {"rooms": {"unknown-code": 2, "out-of-range": 1}}
    assert merged.skipped_rules == ("other:rule",)
    as_json = json.loads(json.dumps(merged.to_dict()))
    assert as_json["valid"] is False
    assert as_json["problems"][0] == {
        "table": "rooms",
        "row": 0,
        "key": "r0",
        "column": "kind",
        "code": "unknown-code",
        "message": "value is not one of the 2 codes of kind",
        "value": "x",
    }


def test_problem_is_a_frozen_value() -> None:
    problem = Problem("t", 0, "k", "c", "wrong-type", "m", "v")
    with pytest.raises(AttributeError):
        problem.code = "other"  # type: ignore[misc]
    assert Report((problem,), {"t": 1}).valid is False


def test_unknown_model_in_dataset_is_reported_only_for_given_tables() -> None:
    small = Dataset("small", (ROOMS,))
    report = validate_dataset({"rooms": rooms(kind=["HALL"]), "events": pa.table({"a": ["1"]})}, small)
    assert report.flatten(["table", "row", "code"]) == [["events", -1, "unknown-table"]]
