"""Report behaviour and masking: no personal value reaches a Problem, a message or the JSON; counts stay
exact when the listed problems are capped."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from tests.transforms.clean_rows import AS_OF, ROOMS, as_text, clean_rows, rooms
from transforms.masking import Fingerprinter
from transforms.validate import Problem, Report, validate, validate_dataset

KEYED = Fingerprinter.from_pseudonymisation_key("report-test-key")


def test_personal_values_are_masked_keys_fingerprinted_and_long_values_shown_as_lengths() -> None:
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
    report = validate(table, DATASET.table("officers"), fingerprinter=KEYED)
    first, second = KEYED.of_array(pa.array([secret_key, "0123456789abcdef"]))
    assert report.flatten(["row", "column", "code", "value", "key"]) == [
        [0, "officer_key", "bad-format", first, first],
        [0, "role", "unknown-code", "***", first],
        [1, "active", "wrong-type", "***", second],
        [1, "load_id", "too-long", "<65 chars>", second],
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
    first = validate(rooms(kind=["hall_", "y", "HALL"]), ROOMS, fingerprinter=KEYED)
    second = validate(rooms(seats=["0"]), ROOMS, fingerprinter=KEYED)
    merged = Report.merge([first, second, Report((), {"other": 2}, ("other:rule",))])
    assert first.counts() == {"rooms": {"unknown-code": 2}}
    assert first.invalid_rows("rooms") == {0, 1}
    assert merged.rows_checked == {"rooms": 4, "other": 2}
    assert merged.counts() == {"rooms": {"unknown-code": 2, "out-of-range": 1}}
    assert merged.skipped_rules == ("other:rule",)
    as_json = json.loads(json.dumps(merged.to_dict()))
    assert as_json["valid"] is False
    assert (as_json["problems_total"], as_json["problems_not_listed"]) == (3, 0)
    assert as_json["problems"][0] == {
        "table": "rooms",
        "row": 0,
        "key": KEYED.of_array(pa.array(["r0"]))[0],
        "column": "kind",
        "code": "unknown-code",
        "message": "value is not one of the 2 codes of kind",
        "value": "***",  # 'hall_' is not a code, nor a code in other case
    }
    assert as_json["problems"][1]["value"] == "***"
    assert as_json["fingerprints"] == KEYED.describe()


def test_problem_is_a_frozen_value() -> None:
    problem = Problem("t", 0, "k", "c", "wrong-type", "m", "v")
    with pytest.raises(AttributeError):
        problem.code = "other"  # type: ignore[misc]
    assert Report((problem,), {"t": 1}).valid is False


def test_unknown_model_in_dataset_is_reported_only_for_given_tables() -> None:
    small = Dataset("small", (ROOMS,))
    report = validate_dataset({"rooms": rooms(kind=["HALL"]), "events": pa.table({"a": ["1"]})}, small)
    assert report.flatten(["table", "row", "code"]) == [["events", -1, "unknown-table"]]


def test_listed_problems_are_capped_and_counts_stay_exact() -> None:
    kinds = ["x"] * 30 + ["HALL"] * 5
    seats = ["0"] * 3 + ["10"] * 32
    report = validate(rooms(kind=kinds, seats=seats), ROOMS, max_listed=10)
    assert report.counts() == {"rooms": {"unknown-code": 30, "out-of-range": 3}}
    assert report.total_problems == 33
    # the first ten found (kind is checked before seats), then one example of the other code
    assert report.flatten(["row", "code"]) == [
        [0, "unknown-code"],
        [0, "out-of-range"],
        *([n, "unknown-code"] for n in range(1, 10)),
    ]
    assert report.problems_not_listed == 22
    assert not report.valid
    as_json = report.to_dict()
    assert (as_json["problems_total"], as_json["problems_not_listed"]) == (33, 22)
    assert len(as_json["problems"]) == 11


def test_each_code_keeps_one_example_beyond_the_cap() -> None:
    kinds = ["x"] * 20 + ["HALL"]
    seats = ["10"] * 20 + ["0"]  # the only out-of-range problem is found after the cap is reached
    report = validate(rooms(kind=kinds, seats=seats), ROOMS, max_listed=5)
    assert report.counts() == {"rooms": {"unknown-code": 20, "out-of-range": 1}}
    assert report.flatten(["row", "code"]) == [[n, "unknown-code"] for n in range(5)] + [[20, "out-of-range"]]
    assert report.problems_not_listed == 15
