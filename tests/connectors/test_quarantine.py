"""Quarantine round trip with real validation: rows set aside with reasons, re-checked next run, a fix at
source flows through, a row that turns valid leaves; the CSV masks personal data and free text (S4 too)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.quarantine import REASONS, Quarantine, item_reference, quarantine_schema, split_by_problems
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import CCR, EVENTS
from tests.transforms.clean_rows import CCR as CLEAN_CCR
from tests.transforms.clean_rows import EVENT, utc
from transforms.report import Problem
from transforms.validate import validate

PERSONAL_NOTE = "Jane Doe 07700 900123 "
FORMULA_KEY = '=HYPERLINK("http://x")'
RUN_1 = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
RUN_2 = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


def event(event_id: str, **changes: object) -> dict[str, object]:
    return {**EVENT, "event_id": event_id, **changes}


def events(*items: dict[str, object]) -> pa.Table:
    return pa.Table.from_pylist(list(items), schema=quarantine_schema(EVENTS))


FIRST_READ = events(
    event("e1"),
    event(FORMULA_KEY, end_utc=utc("2024-05-01T09:00:00")),  # ends before it starts
    event("e3", event_name=PERSONAL_NOTE * 200),  # personal free text, too long
    event(  # completed, but ends after the first run's as_of
        "e4",
        start_utc=utc("2026-12-01T10:00:00"),
        end_utc=utc("2026-12-01T12:00:00"),
        start_local_date=utc("2026-12-01T00:00:00"),
    ),
)


def csv_lines(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))


def keys_of(table: pa.Table) -> list[str]:
    return [str(value) for value in table.column("event_id").to_pylist()]


def test_round_trip_recheck_fix_at_source_and_turning_valid(tmp_path: Path) -> None:
    quarantine = Quarantine(tmp_path / "quarantine")
    # run 1: validate what was read; three rows fail
    split = split_by_problems(FIRST_READ, validate(FIRST_READ, EVENTS, as_of=RUN_1).problems)
    assert keys_of(split.valid) == ["e1"]
    files = quarantine.replace_quarantine("events", split.invalid, split.problems)
    assert (files.rows, files.problems) == (3, 3)
    stored = quarantine.load_quarantined("events")
    assert sorted(keys_of(stored)) == sorted(keys_of(split.invalid))
    assert stored.schema == quarantine_schema(EVENTS)
    assert stored.sort_by("event_id").equals(split.invalid.sort_by("event_id"))  # the rows themselves
    # run 2: the source fixed the formula-key event; e3 is unchanged; time has moved past e4's end
    fixed = events(event(FORMULA_KEY))
    carried = quarantine.load_quarantined("events", exclude={FORMULA_KEY})  # its new version replaces it
    assert sorted(keys_of(carried)) == ["e3", "e4"]
    candidates = pa.concat_tables([fixed, carried])
    split = split_by_problems(candidates, validate(candidates, EVENTS, as_of=RUN_2).problems)
    assert sorted(keys_of(split.valid)) == sorted([FORMULA_KEY, "e4"])  # both leave quarantine for staging
    quarantine.replace_quarantine("events", split.invalid, split.problems)
    assert keys_of(quarantine.load_quarantined("events")) == ["e3"]
    # run 3: e3 was deleted at source: its quarantined row goes, and with it the files
    left = quarantine.load_quarantined("events", exclude={"e3"})
    files = quarantine.replace_quarantine("events", left, [])
    assert files.rows == 0 and files.to_dict()["csv"] is None
    assert sorted(path.name for path in quarantine.directory.iterdir()) == []
    assert quarantine.load_quarantined("events").num_rows == 0


def test_csv_is_for_people_masked_and_safe_in_excel(tmp_path: Path) -> None:
    quarantine = Quarantine(tmp_path)
    split = split_by_problems(FIRST_READ, validate(FIRST_READ, EVENTS, as_of=RUN_1).problems)
    files = quarantine.replace_quarantine("events", split.invalid, split.problems)
    lines = csv_lines(files.csv)
    assert lines[0] == ["table", "item_key", "column", "rule", "value", "message"]
    rows = sorted(lines[1:], key=lambda line: line[3])
    assert [line[:1] + line[2:] for line in rows] == [
        ["events", "end_utc", "completed-in-future", "2026-12-01T12:00:00+00:00",
         "event is COMPLETED but ends in the future"],
        ["events", "end_utc", "end-before-start", "2024-05-01T09:00:00+00:00", "event ends before it starts"],
        ["events", "event_name", "too-long", "***", "text is longer than 200 chars"],
    ]  # fmt: skip
    # keys that are not SharePoint item keys are shown only as fingerprints (the one masking rule)
    assert all(re.fullmatch(r"#[0-9a-f]{12}", line[1]) for line in rows)
    assert FORMULA_KEY not in files.csv.read_text(encoding="utf-8")
    text = files.csv.read_text(encoding="utf-8") + str(files.to_dict())
    assert "Jane" not in text and "07700" not in text
    for path in (files.csv, files.parquet):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["events.csv", "events.parquet"]  # no temp


def test_demographics_and_personal_keys_never_reach_the_csv(tmp_path: Path) -> None:
    bad = {**CLEAN_CCR, "ccr_id": "c9", "diversity_consent": False, "officer_key": "NOT-A-KEY"}
    table = pa.Table.from_pylist([bad], schema=quarantine_schema(CCR))
    split = split_by_problems(table, validate(table, CCR, as_of=RUN_1).problems)
    files = Quarantine(tmp_path).replace_quarantine("ccr", split.invalid, split.problems)
    lines = csv_lines(files.csv)[1:]
    assert {line[3] for line in lines} >= {"consent-gate", "bad-format"}
    assert {line[4] for line in lines if line[2] != "diversity_consent"} == {"***"}
    text = files.csv.read_text(encoding="utf-8")
    for value in ("A_INDIAN", "NONE", "25-34", "NOT-A-KEY"):
        assert value not in text


def test_reasons_are_kept_with_each_row(tmp_path: Path) -> None:
    quarantine = Quarantine(tmp_path)
    two_problems = events(event("e7", end_utc=utc("2024-05-01T09:00:00"), officers_present=0))
    split = split_by_problems(two_problems, validate(two_problems, EVENTS, as_of=RUN_1).problems)
    files = quarantine.replace_quarantine("events", split.invalid, split.problems)
    reasons = pq.read_table(files.parquet).column(REASONS).to_pylist()
    assert sorted(reason["code"] for reason in reasons[0]) == ["end-before-start", "out-of-range"]
    assert quarantine.files()[0].to_dict() == {**files.to_dict(), "problems": 2}
    assert REASONS not in quarantine.load_quarantined("events").column_names


def test_split_reindexes_problems_and_ignores_table_level_ones() -> None:
    table = events(event("a"), event("b"), event("c"))
    problems = [
        Problem("events", 2, "c", "status", "unknown-code", "m", "X"),
        Problem("events", -1, "", "x", "unexpected-column", "m", ""),
        Problem("events", 0, "a", "status", "unknown-code", "m", "Y"),
    ]
    split = split_by_problems(table, problems)
    assert keys_of(split.valid) == ["b"] and keys_of(split.invalid) == ["a", "c"]
    assert [(problem.row, problem.key) for problem in split.problems] == [(1, "c"), (0, "a")]
    with pytest.raises(ValueError, match="only 3 rows"):
        split_by_problems(table, [Problem("events", 3, "", "", "unknown-code", "m", "")])


def test_quarantine_refuses_rows_without_problems_and_unknown_tables(tmp_path: Path) -> None:
    quarantine = Quarantine(tmp_path)
    with pytest.raises(ValueError, match="at least one problem"):
        quarantine.replace_quarantine("events", events(event("a")), [])
    with pytest.raises(ValueError, match="only 1 rows"):
        quarantine.replace_quarantine(
            "events", events(event("a")), [Problem("events", 1, "", "", "x", "", "")]
        )
    with pytest.raises(Exception, match="no table"):
        quarantine.paths("../../etc/passwd")
    staged_rows = pa.Table.from_pylist(
        [event("a")], schema=arrow_schema(EVENTS)
    )  # not-null schema is fine too
    assert (
        quarantine.replace_quarantine(
            "events", staged_rows, [Problem("events", 0, "a", "status", "unknown-code", "m", "X")]
        ).rows
        == 1
    )


def test_the_csv_masks_personal_values_even_when_a_problem_arrives_unmasked(tmp_path: Path) -> None:
    """Problems from normalisation are built outside validate: the quarantine masks again by column class."""
    row = pa.Table.from_pylist([{**CLEAN_CCR, "ccr_id": "c1"}], schema=quarantine_schema(CCR))
    problems = [
        Problem("ccr", 0, "c1", "ethnicity_2021", "unknown-code", "not a known code", "White Martian"),
        Problem("ccr", 0, "c1", "lpt_code", "unknown-code", "not a known code", "NOWHERE"),
        Problem("ccr", 0, "c1", "no_such_column", "unknown-code", "not a known code", "x"),
    ]
    files = Quarantine(tmp_path).replace_quarantine("ccr", row, problems)
    assert [line[2:5] for line in csv_lines(files.csv)[1:]] == [
        ["ethnicity_2021", "unknown-code", "***"],
        ["lpt_code", "unknown-code", "NOWHERE"],
        ["no_such_column", "unknown-code", "***"],
    ]


def test_a_split_of_no_rows_is_two_empty_tables() -> None:
    """A delta page of deletions only normalises to no rows: nothing to stage, nothing to quarantine."""
    rows = pa.table({"event_id": pa.array([], pa.string())})
    split = split_by_problems(rows, [])
    assert split.valid.num_rows == 0 and split.invalid.num_rows == 0 and split.problems == ()


def test_a_sharepoint_item_key_is_shown_so_a_person_can_find_the_item() -> None:
    key = "sp:8cf61445-0fcf-46ab-b7a9-0054667b96af:29"
    assert item_reference(key, "#0123456789ab") == key
    assert item_reference("sp:not-a-guid:29", "#0123456789ab") == "#0123456789ab"
    assert item_reference("Jane Smith", "#0123456789ab") == "#0123456789ab"


def test_rows_without_a_row_problem_are_all_kept_as_they_are() -> None:
    """No row-level problem (a table-level one aside): every row is staged, none quarantined, the same
    rows and schema as a filter keeping each would give."""
    rows = pa.table({"event_id": ["e1", "e2", None], "n": [1, None, 3]})
    header = Problem("events", -1, "", "status", "missing-column", "column is missing", "")
    split = split_by_problems(rows, [header])
    assert split.valid.equals(rows.filter(pa.array([True, True, True])))
    assert split.invalid.num_rows == 0 and split.invalid.schema == rows.schema and split.problems == ()
    bad = Problem("events", 1, "", "n", "missing-value", "a required value is missing", "")
    split = split_by_problems(rows, [header, bad])
    assert split.valid.column("event_id").to_pylist() == ["e1", None]
    assert split.invalid.column("event_id").to_pylist() == ["e2"]
    assert split.problems == (
        Problem("events", 0, "", "n", "missing-value", "a required value is missing", ""),
    )
