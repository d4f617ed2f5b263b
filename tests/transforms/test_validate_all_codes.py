"""One dataset with a violation of every code: each is reported exactly once, and nothing else is.

The declared rule codes are read from the model, so a new rule without a violation here fails.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from powerbi_dataset.model import DATASET
from tests.transforms.clean_rows import ACTION, AS_OF, CCR, EVENT, KEY_1, KEY_2, as_text, clean_rows, utc
from transforms.validate import validate_dataset

TABLE_CODES = {
    "missing-column",
    "unexpected-column",
    "unknown-table",
    "duplicate-column",
    "header-looks-like-data",
}
COLUMN_CODES = {
    "wrong-type",
    "missing-value",
    "unknown-code",
    "out-of-range",
    "too-long",
    "bad-format",
    "not-a-date",
    "duplicate-key",
    "orphan-reference",
}
NO_CONSENT = {
    "diversity_consent": False,
    "age_band": None,
    "gender_same_as_birth": None,
    "ethnicity_2021": None,
    "religion": None,
    "health_condition_12m": None,
    "activity_limited": None,
}

# (table, the changes to that table's clean row, the column at fault, the code); each adds one row.
VIOLATIONS: list[tuple[str, dict[str, Any], str, str]] = [
    ("events", {"intel_submissions": "lots"}, "intel_submissions", "wrong-type"),
    ("events", {"event_name": None}, "event_name", "missing-value"),
    ("events", {"event_type": "PARTY"}, "event_type", "unknown-code"),
    ("events", {"location_lat": 60.0}, "location_lat", "out-of-range"),
    ("events", {"event_name": "x" * 201}, "event_name", "too-long"),
    ("events", {"ward_code": "W05000001"}, "ward_code", "bad-format"),
    ("events", {"start_local_date": utc("2024-05-01T10:00:00")}, "start_local_date", "not-a-date"),
    ("events", {"event_id": "e1"}, "event_id", "duplicate-key"),
    ("event_issues", {"event_id": "e404", "theme_code": "ASB"}, "event_id", "orphan-reference"),
    ("events", {"end_utc": utc("2024-05-01T09:00:00")}, "end_utc", "end-before-start"),
    ("events", {"end_utc": utc("2024-05-02T10:00:01")}, "end_utc", "duration-too-long"),
    (
        "events",
        {"start_utc": utc("2030-01-01T10:00:00"), "end_utc": utc("2030-01-01T11:00:00")},
        "end_utc",
        "completed-in-future",
    ),
    ("events", {"total_attendance": None}, "total_attendance", "attendance-required"),
    ("events", {"modified_utc": utc("2024-03-01T00:00:00")}, "modified_utc", "modified-before-created"),
    ("events", {"event_id": "e2", "officers_present": 1}, "officers_present", "officers-below-linked"),
    ("event_issues", {"event_id": "e1", "theme_code": "NO_ISSUES"}, "theme_code", "no-issues-exclusive"),
    ("ccr_issues", {"ccr_id": "c1", "theme_code": "NO_ISSUES"}, "theme_code", "no-issues-exclusive"),
    ("you_said_we_did", {"event_id": None}, "event_id", "event-required-for-origin"),
    (
        "you_said_we_did",
        {"actioned_date": utc("2024-04-30T00:00:00")},
        "actioned_date",
        "actioned-before-raised",
    ),
    ("you_said_we_did", {"status": "NOT_ACTIONED"}, "not_actioned_reason", "reason-required"),
    ("you_said_we_did", {"actioned_date": None}, "actioned_date", "actioned-date-required"),
    ("ccr", {**NO_CONSENT, "sex": "M"}, "sex", "consent-gate"),
    ("ccr", {"age_band": "U16"}, "gender_same_as_birth", "u16-gender-identity"),
    ("ccr", {"health_condition_12m": "N"}, "activity_limited", "activity-without-condition"),
    ("ccr", {"event_id": None}, "event_id", "event-link"),
    ("ccr", {"contact_setting": "PATROL"}, "event_id", "event-link"),
    ("ccr", {"recorded_utc": utc("2030-01-01T10:00:00")}, "recorded_utc", "recorded-in-future"),
]
BASE_ROWS = {"events": EVENT, "you_said_we_did": ACTION, "ccr": CCR}


def declared_rule_codes() -> set[tuple[str, str]]:
    return {(table.name, rule.code) for table in DATASET.tables for rule in table.rules}


def build() -> tuple[dict[str, pa.Table], list[list[Any]]]:
    rows = clean_rows()
    rows["event_officers"] += [
        {"event_id": "e2", "officer_key": key, "load_id": None} for key in (KEY_1, KEY_2)
    ]
    expected: list[list[Any]] = []
    for number, (table, changes, column, code) in enumerate(VIOLATIONS):
        key_column = DATASET.table(table).key[0]
        if table in BASE_ROWS:
            row = {**BASE_ROWS[table], key_column: f"v{number}", **changes}
        else:
            row = {**rows[table][0], **changes}
        expected.append([table, len(rows[table]), column, code])
        rows[table].append(row)
    tables = {name: as_text(name, table_rows) for name, table_rows in rows.items()}
    tables["themes"] = (
        tables["themes"].drop_columns(["load_id"]).append_column("colour", pa.array(["red"] * 3))
    )
    tables["venues"] = pa.table({"venue": ["Village hall"]})
    tables["areas"] = tables["areas"].append_column(
        "lpt_name", pa.array(["Again"] * tables["areas"].num_rows)
    )
    loads = tables["_loads"]  # saved without its header: the first row's values are its column names
    tables["_loads"] = loads.rename_columns(
        [str(value) for value in loads.slice(0, 1).to_pylist()[0].values()]
    )
    table_level = [
        ["venues", -1, "", "unknown-table"],
        ["_loads", -1, "", "header-looks-like-data"],
        ["areas", -1, "lpt_name", "duplicate-column"],
        ["themes", -1, "load_id", "missing-column"],
        ["themes", -1, "colour", "unexpected-column"],
    ]
    return tables, table_level + expected


def test_violation_list_covers_every_code_of_the_model() -> None:
    listed = {(table, code) for table, _changes, _column, code in VIOLATIONS}
    assert declared_rule_codes() <= listed
    assert {code for _table, _changes, _column, code in VIOLATIONS} == COLUMN_CODES | {
        code for _table, code in declared_rule_codes()
    }


def test_every_violation_is_reported_once_with_its_code() -> None:
    tables, expected = build()
    report = validate_dataset(tables, as_of=AS_OF)
    reported = report.flatten(["table", "row", "column", "code"])
    assert sorted(reported) == sorted(expected)
    assert len(reported) == len(expected)
    assert {code for *_where, code in reported} == TABLE_CODES | COLUMN_CODES | {
        code for _table, code in declared_rule_codes()
    }
    assert report.skipped_rules == ()
