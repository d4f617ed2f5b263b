"""pipeline: plans that --dry-run prints and apply() executes, validation orchestration, progress events."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest

from config.report import example_config_text
from connectors.files import sample_data_dir
from connectors.read_limits import ReadLimits
from errors import CetkError, ConfigError, SourceFormatError, ValidationFailed
from pipeline import (
    Plan,
    ProgressEvent,
    RowsRead,
    StepApplied,
    Validating,
    WriteFile,
    apply,
    parse_as_of,
    plan_init,
    plan_schema_export,
    raise_if_invalid,
    validate_files,
    validate_sample,
)
from powerbi_dataset.export import ArrowPurpose, ExportFormat, export_text, json_text
from powerbi_dataset.model import DATASET
from tests.themes import themes_csv


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# --- plans ---------------------------------------------------------------------------------------


def test_the_dry_run_plan_is_the_plan_the_real_run_executes(tmp_path: Path) -> None:
    planned = plan_init(None, {"CETK_CONFIG": "team.yaml"})
    assert (
        planned.describe()
        == f"Would create team.yaml ({len(example_config_text().encode())} bytes of the annotated example config)."
    )
    assert not (tmp_path / "team.yaml").exists()  # planning writes nothing
    done = apply(planned)
    assert done == planned.steps
    assert (tmp_path / "team.yaml").read_bytes() == planned.steps[0].content == example_config_text().encode()
    again = plan_init(Path("team.yaml"), {}, force=True)
    assert again.describe().startswith("Would replace team.yaml (")
    assert again.to_dict()["steps"][0]["action"] == "replace"


def test_init_plan_matches_golden_file(golden: Any) -> None:
    golden("init_plan.json", json_text(plan_init(None, {}).to_dict()))


def test_plan_to_dict_names_each_step_without_its_content() -> None:
    plan = plan_schema_export(ExportFormat.powerbi, ArrowPurpose.staging, Path("dataset.json"))
    content = export_text(ExportFormat.powerbi).encode()
    assert plan.to_dict() == {
        "steps": [
            {
                "step": "write_file",
                "action": "create",
                "path": "dataset.json",
                "bytes": len(content),
                "sha256": hashlib.sha256(content).hexdigest(),
                "what": "powerbi",
            }
        ]
    }
    assert plan.describe() == f"Would create dataset.json ({len(content)} bytes of powerbi)."
    assert Plan(()).describe() == "Nothing to do."


def test_init_refuses_what_it_would_refuse_to_write(tmp_path: Path) -> None:
    (tmp_path / "cetk.yaml").write_text("organisation: Mine\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="already exists"):
        plan_init(None, {})
    (tmp_path / "conf").mkdir()
    with pytest.raises(ConfigError, match="is a directory"):
        plan_init(Path("conf"), {}, force=True)
    with pytest.raises(ConfigError, match="directory nowhere does not exist"):
        plan_init(Path("nowhere/cetk.yaml"), {})


def test_apply_reports_each_step_and_a_failed_write_names_the_path(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    step = WriteFile(tmp_path / "out.txt", b"hello", False, "a greeting")
    apply(Plan((step,)), on_progress=events.append)
    assert events == [StepApplied(step)]
    assert events[0].describe() == f"Wrote {tmp_path / 'out.txt'}"
    (tmp_path / "plain.txt").write_text("a file, not a directory", encoding="utf-8")
    blocked = WriteFile(tmp_path / "plain.txt" / "out.txt", b"x", False, "x", error=ConfigError)
    with pytest.raises(ConfigError, match="cannot write .*plain.txt/out.txt"):
        apply(Plan((blocked,)))
    with pytest.raises(CetkError, match="cannot write"):
        apply(Plan((WriteFile(tmp_path, b"x", True, "x"),)))


# --- validation ----------------------------------------------------------------------------------


def test_validate_files_reports_progress_and_returns_the_report(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    path = themes_csv(
        tmp_path / "themes.csv", "ASB,Anti-social behaviour,", "NOT_A_THEME,Bad,", every_theme=False
    )
    report = validate_files(path, on_progress=events.append)
    assert events == [Validating(tables=1), RowsRead("themes", 2)]
    assert [event.describe() for event in events] == ["Validating 1 table(s)", "themes: 2 rows checked"]
    assert report.counts() == {"themes": {"unknown-code": 1}}


def test_validate_files_reports_each_batch_as_it_is_read(tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    rows = [f"ASB,Label {n} {'x' * 60}," for n in range(3_000)]  # ~230 kB: four 64 KiB blocks
    path = themes_csv(tmp_path / "themes.csv", *rows, every_theme=False)
    report = validate_files(path, on_progress=events.append, limits=ReadLimits(block_bytes=2**16))
    counts = [event.rows for event in events if isinstance(event, RowsRead)]
    assert len(counts) >= 3 and counts == sorted(counts) and counts[-1] == 3_000
    assert report.rows_checked == {"themes": 3_000}
    assert report.counts() == {"themes": {"duplicate-key": 2_999}}


def test_validate_files_says_how_to_name_the_table_of_one_file(tmp_path: Path) -> None:
    path = themes_csv(tmp_path / "export.csv", "ASB,x,", every_theme=False)
    with pytest.raises(SourceFormatError, match="the file name 'export.csv' does not name a table"):
        validate_files(path)
    assert validate_files(path, table="themes").valid


def test_validate_sample_reads_only_the_model_tables() -> None:
    report = validate_sample(parse_as_of("2026-06-01T00:00:00Z"))
    files = {path.stem for path in sample_data_dir().glob("*.csv")}
    assert "expected_problems" in files  # the manifest sits beside the tables and is not validated
    assert set(report.rows_checked) == files & {table.name for table in DATASET.tables}
    assert not report.valid  # the sample's errors are deliberate


def test_raise_if_invalid_counts_problems_and_rows(tmp_path: Path) -> None:
    raise_if_invalid(validate_files(themes_csv(tmp_path / "themes.csv", "ASB,x,", every_theme=False)))
    report = validate_files(themes_csv(tmp_path / "themes.csv", "ASB,x,", "BAD,x,", every_theme=False))
    with pytest.raises(ValidationFailed, match="^validation found 1 problem in 2 rows$") as caught:
        raise_if_invalid(report)
    assert caught.value.report is report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-31T23:59:59Z", dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=dt.UTC)),
        ("2026-03-31T23:59:59", dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=dt.UTC)),
        ("2026-04-01T00:59:59+01:00", dt.datetime(2026, 3, 31, 23, 59, 59, tzinfo=dt.UTC)),
    ],
)
def test_parse_as_of_is_utc(text: str, expected: dt.datetime) -> None:
    assert parse_as_of(text) == expected


def test_parse_as_of_refuses_words_and_defaults_to_now() -> None:
    with pytest.raises(CetkError, match="--as-of 'yesterday' is not an ISO 8601 date-time"):
        parse_as_of("yesterday")
    assert parse_as_of(None).tzinfo is dt.UTC
