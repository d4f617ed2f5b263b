"""reliability-security.md R16 and R17 through `cetk migrate forms`: bad rows are quarantined with their row
number and rule, never their values, and the rest load; an ambiguous date is read only with a locale."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from config.loader import load
from config.settings import Settings
from pipeline import MigrateOptions, migrate_forms
from transforms.forms_mapping import FormMapping, FormsMapping, QuestionMapping, dump_forms_mapping
from transforms.report import DEFAULT_MAX_LISTED

KEY = "r" * 40  # a fake key, long enough for privacy.require_key
HEADER = [
    "ID",
    "Start time",
    "Completion time",
    "Email",
    "Name",
    "Date of contact",
    "Setting",
    "Confidence",
    "Comments",
]
MAPPING = FormsMapping((
    FormMapping(
        form="north", table="ccr", files=("north*",), completion_time="recorded_utc", respondent="officer_key",
        constants=(("lpt_code", "STOKE_N"), ("information_submitted", False), ("smart_alert_signup", False),
                   ("diversity_consent", False)),
        questions=(
            QuestionMapping("Date of contact", to="recorded_local_date"),
            QuestionMapping("Setting", to="contact_setting", choices=(("Patrol", "PATROL"), ("Door knock", "DOOR_KNOCK"))),
            QuestionMapping("Confidence", to="confidence_understands_issues"),
            QuestionMapping("Comments", ignore="free text"),
        ),
    ),
))  # fmt: skip
PERSONAL_COMMENT = "Resident Jane Doe of 1 High St"


def settings_in(directory: Path) -> Settings:
    paths = {"staging_dir": "s", "quarantine_dir": "q", "state_dir": "st"}
    config = {"paths": {name: str(directory / value) for name, value in paths.items()}}
    (directory / "cetk.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    environ = {"CETK_PSEUDONYMISATION_KEY": KEY}
    return load(directory / "cetk.yaml", environ=environ, keyring=None, strict=False).settings


def export(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([HEADER, *rows])
    return buffer.getvalue()


def good_row(number: int) -> list[str]:
    return [str(number), "2024-05-01 09:00", "2024-05-01 09:05", f"pc{number % 7}@force.police.uk", "PC",
            "01/05/2024", "Patrol", "4", PERSONAL_COMMENT]  # fmt: skip


BAD = {  # the row's rule: how a row breaks it
    "forms-bad-datetime": lambda row: row.__setitem__(5, "31/02/2024"),
    "unknown-label": lambda row: row.__setitem__(6, "Rode past on a horse"),
    "out-of-range": lambda row: row.__setitem__(7, "-1"),
    "forms-text-too-long": lambda row: row.__setitem__(6, "x" * 4_001),  # S9: kept whole, quarantined
    "missing-value": lambda row: row.__setitem__(2, ""),  # no Completion time: no recorded time
}


def test_r16_fifty_bad_rows_of_a_thousand_are_quarantined_with_row_and_rule(tmp_path: Path) -> None:
    rows = [good_row(number) for number in range(1, 1_001)]
    expected: dict[int, str] = {}
    for index, (rule, spoil) in enumerate(BAD.items()):
        for number in range(10):
            row_index = 7 + index * 190 + number * 17
            spoil(rows[row_index])
            expected[row_index + 2] = rule  # the header is row 1
    (tmp_path / "north_2024.csv").write_text(export(rows), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(dump_forms_mapping(MAPPING), encoding="utf-8")
    settings = settings_in(tmp_path)
    options = MigrateOptions(csv_time_locale=None)
    report = migrate_forms([tmp_path / "north_2024.csv"], tmp_path / "m.yaml", settings, options)
    assert (report.read, report.written, report.quarantined, report.exit_code) == (1_000, 950, 50, 1)
    assert all(report.quarantined_by_rule[rule] >= 10 for rule in BAD)
    quarantine = Path(str(report.quarantine_file)).read_text(encoding="utf-8-sig")
    found = {(int(line.split(",")[1]), line.split(",")[4]) for line in quarantine.splitlines()[1:]}
    assert {(row, rule) for row, rule in expected.items()} <= found
    assert {row for row, _rule in found} == set(expected)
    for value in ("horse", "31/02/2024", "x" * 100, PERSONAL_COMMENT, "pc1@force"):
        assert value not in quarantine and value not in str(report.to_dict())
    staged = pq.read_table(settings.paths.staging_dir / "ccr.parquet")
    assert (
        staged.num_rows == 950
        and PERSONAL_COMMENT.encode() not in (settings.paths.staging_dir / "ccr.parquet").read_bytes()
    )


@pytest.mark.parametrize(
    ("locale", "day", "quarantined"), [("en-GB", 3, 0), ("en-US", 4, 0), (None, None, 1)]
)
def test_r17_an_ambiguous_date_is_read_only_with_a_locale(
    tmp_path: Path, locale: str | None, day: int | None, quarantined: int
) -> None:
    row = good_row(1)
    row[5] = "03/04/2023"
    (tmp_path / "north_2024.csv").write_text(export([row]), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(dump_forms_mapping(MAPPING), encoding="utf-8")
    settings = settings_in(tmp_path)
    options = MigrateOptions(locale=locale, csv_time_locale=None)  # type: ignore[arg-type]
    report = migrate_forms([tmp_path / "north_2024.csv"], tmp_path / "m.yaml", settings, options)
    assert report.quarantined == quarantined
    if day is None:
        assert report.quarantined_by_rule == {"forms-ambiguous-date": 1, "missing-value": 1}
    else:
        staged = pq.read_table(settings.paths.staging_dir / "ccr.parquet").to_pylist()
        assert staged[0]["recorded_local_date"].date().isoformat() == (
            "2023-04-03" if day == 3 else "2023-03-04"
        )


def test_an_over_long_answer_to_an_ignored_question_does_not_stop_its_response(tmp_path: Path) -> None:
    row = good_row(1)
    row[8] = "x" * 4_001  # the comment never leaves the export, so its length is no reason to quarantine
    (tmp_path / "north_2024.csv").write_text(export([row]), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(dump_forms_mapping(MAPPING), encoding="utf-8")
    options = MigrateOptions(csv_time_locale=None)
    report = migrate_forms([tmp_path / "north_2024.csv"], tmp_path / "m.yaml", settings_in(tmp_path), options)
    assert (report.written, report.quarantined) == (1, 0)


def test_a_clean_rerun_removes_the_last_runs_quarantine_list(tmp_path: Path) -> None:
    bad = good_row(2)
    bad[6] = "Rode past on a horse"
    (tmp_path / "m.yaml").write_text(dump_forms_mapping(MAPPING), encoding="utf-8")
    settings = settings_in(tmp_path)
    options = MigrateOptions(csv_time_locale=None)
    (tmp_path / "north_2024.csv").write_text(export([good_row(1), bad]), encoding="utf-8")
    first = migrate_forms([tmp_path / "north_2024.csv"], tmp_path / "m.yaml", settings, options)
    assert first.quarantined == 1 and Path(str(first.quarantine_file)).exists()
    bad[6] = "Patrol"  # corrected at source
    (tmp_path / "north_2024.csv").write_text(export([good_row(1), bad]), encoding="utf-8")
    second = migrate_forms([tmp_path / "north_2024.csv"], tmp_path / "m.yaml", settings, options)
    assert (second.written, second.quarantined, second.quarantine_file, second.exit_code) == (2, 0, None, 0)
    assert not Path(str(first.quarantine_file)).exists()


def test_every_bad_row_is_quarantined_past_a_reports_listing_cap(tmp_path: Path) -> None:
    """validate lists at most DEFAULT_MAX_LISTED problems; the migration must still see every one."""
    count = DEFAULT_MAX_LISTED + 1_500
    rows = [good_row(number) for number in range(1, count + 1)]
    for row in rows:
        row[3], row[4] = "anonymous", ""  # no officer: missing-value on officer_key
    (tmp_path / "north_2024.csv").write_text(export(rows), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(dump_forms_mapping(MAPPING), encoding="utf-8")
    options = MigrateOptions(csv_time_locale=None)
    report = migrate_forms([tmp_path / "north_2024.csv"], tmp_path / "m.yaml", settings_in(tmp_path), options)
    assert (report.written, report.quarantined) == (0, count)
