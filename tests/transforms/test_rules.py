"""The cross-field rules through validate(): Compare, MaxSpan, NotAfterAsOf, RequireEmpty/Present, Exclusive."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from powerbi_dataset.model import DATASET
from powerbi_dataset.rules import Compare, Condition, MaxSpan, NotAfterAsOf, RequireEmpty, RequirePresent
from powerbi_dataset.schema import Code, Column, Table
from tests.transforms.clean_rows import AS_OF, as_text, clean_rows
from transforms.validate import validate

FIELDS = ["row", "column", "code"]


SPANS = Table(
    "spans",
    "A small table for the cross-field rules",
    (
        Column("span_id", "String", "Key", required=True),
        Column("status", "String", "Status", codes=(Code("DONE", "Done"), Code("OPEN", "Open"))),
        Column("consent", "Boolean", "Consent"),
        Column("start_utc", "DateTime", "Start"),
        Column("end_utc", "DateTime", "End"),
        Column("answer_a", "String", "Gated answer"),
        Column("answer_b", "String", "Gated answer"),
        Column("count", "Int64", "Needed when DONE"),
    ),
    key=("span_id",),
    rules=(
        Compare("end-before-start", "end_utc", ">=", "start_utc", "ends before it starts"),
        MaxSpan("too-long-span", "start_utc", "end_utc", 24, "lasts more than a day"),
        NotAfterAsOf(
            "done-in-future", "end_utc", "DONE but ends later", when=Condition("status", "eq", "DONE")
        ),
        RequireEmpty(
            "consent-gate", Condition("consent", "ne", True), ("answer_a", "answer_b"), "no consent"
        ),
        RequirePresent(
            "count-required", Condition("status", "in", ("DONE",)), ("count", "end_utc"), "needs count"
        ),
    ),
)


def spans(**columns: list[str]) -> pa.Table:
    rows = len(next(iter(columns.values())))
    clean = {
        "span_id": [f"s{n}" for n in range(rows)],
        "status": ["OPEN"] * rows,
        "consent": ["true"] * rows,
        "start_utc": ["2024-01-01T10:00:00Z"] * rows,
        "end_utc": ["2024-01-01T12:00:00Z"] * rows,
        "answer_a": ["a"] * rows,
        "answer_b": ["b"] * rows,
        "count": ["1"] * rows,
    }
    clean.update(columns)
    return pa.table(clean)


def test_compare_and_max_span_skip_empty_sides() -> None:
    table = spans(
        start_utc=["2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z", "", "2024-01-01T10:00:00Z"],
        end_utc=[
            "2024-01-01T09:59:59Z",
            "2024-01-02T10:00:01Z",
            "2024-01-01T09:00:00Z",
            "2024-01-02T10:00:00Z",
        ],
    )
    assert validate(table, SPANS).flatten(FIELDS) == [
        [0, "end_utc", "end-before-start"],
        [1, "end_utc", "too-long-span"],
    ]


def test_require_empty_reports_each_offending_column_and_ne_holds_for_null() -> None:
    table = spans(
        consent=["false", "", "true", "no"], answer_a=["a", "a", "a", ""], answer_b=["b", "", "b", ""]
    )
    assert validate(table, SPANS).flatten(FIELDS) == [
        [0, "answer_a", "consent-gate"],
        [0, "answer_b", "consent-gate"],
        [1, "answer_a", "consent-gate"],
    ]


def test_require_present_reports_each_missing_column_and_treats_unparseable_as_empty() -> None:
    table = spans(
        status=["DONE", "DONE", "", "OPEN"],
        count=["", "x", "", ""],
        end_utc=["", "2024-01-01T12:00:00Z", "", ""],
    )
    assert validate(table, SPANS, as_of=dt.datetime(2030, 1, 1)).flatten(FIELDS) == [
        [0, "count", "count-required"],
        [0, "end_utc", "count-required"],
        [1, "count", "wrong-type"],
        [1, "count", "count-required"],
    ]


def test_not_after_as_of_uses_the_condition_and_naive_as_of_is_utc() -> None:
    table = spans(
        status=["DONE", "OPEN", "DONE"],
        end_utc=["2024-06-01T12:00:01+00:00", "2024-06-01T13:00:00Z", "2024-06-01T12:00:00Z"],
    )
    table = table.set_column(3, "start_utc", pa.array(["2024-06-01T10:00:00Z"] * 3))
    report = validate(table, SPANS, as_of=dt.datetime(2024, 6, 1, 12))
    assert report.flatten(FIELDS) == [[0, "end_utc", "done-in-future"]]
    assert report.skipped_rules == ()


def test_not_after_as_of_is_skipped_without_as_of() -> None:
    report = validate(
        spans(status=["DONE"], end_utc=["2099-01-01T12:00:00Z"], start_utc=["2099-01-01T10:00:00Z"]), SPANS
    )
    assert report.valid
    assert report.skipped_rules == ("spans:done-in-future",)
    events = as_text("events", clean_rows()["events"])
    assert validate(events, DATASET.table("events")).skipped_rules == ("events:completed-in-future",)


def test_rule_with_a_missing_column_is_skipped() -> None:
    report = validate(spans(span_id=["s1"]).drop_columns(["answer_b"]), SPANS, as_of=AS_OF)
    assert report.flatten(FIELDS) == [[-1, "answer_b", "missing-column"]]
    assert report.skipped_rules == ("spans:consent-gate",)


def test_exclusive_value_shares_no_group() -> None:
    table = pa.table(
        {
            "event_id": ["e1", "e1", "e2", "e3", "e3", ""],
            "theme_code": ["ASB", "NO_ISSUES", "NO_ISSUES", "NO_ISSUES", "PARKING", "NO_ISSUES"],
            "rank": ["1", "", "", "", "1", ""],
            "load_id": [""] * 6,
        }
    )
    assert validate(table, DATASET.table("event_issues")).flatten(FIELDS) == [
        [1, "theme_code", "no-issues-exclusive"],
        [3, "theme_code", "no-issues-exclusive"],
        [5, "event_id", "missing-value"],
    ]
