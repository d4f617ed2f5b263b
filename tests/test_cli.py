"""The CLI in process (CliRunner): --json equals the library's value, --dry-run, init, validate, demo, secrets."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cli import app, main
from config.loader import load
from config.report import effective_settings, example_config_text
from errors import CetkError, ConfigError, ExitCode, SecretInConfigError, ValidationFailed
from pipeline import plan_init, validate_files, validate_sample
from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.dictionary import arrow_schemas_document, data_dictionary_markdown, schema_summary
from powerbi_dataset.export import ArrowPurpose, ExportFormat, export_text, json_text
from powerbi_dataset.model import DATASET
from tests.themes import themes_csv
from transforms.masking import Fingerprinter

ROOT = Path(__file__).resolve().parent.parent
SECRET = "SUPERSECRET-123"
AS_OF = "2026-06-01T00:00:00Z"
runner = CliRunner()


def exit_code(result: Result) -> int:
    """What `cetk` exits with for this run: main() turns a CetkError into its exit_code (CliRunner, which
    calls the app itself, reports 1 for any exception; tests/test_cli_process.py checks main for real)."""
    if isinstance(result.exception, CetkError):
        return int(result.exception.exit_code)
    return result.exit_code


BAD_THEME = "NOT_A_THEME,Bad,"
KEY_ENV = {"CETK_PSEUDONYMISATION_KEY": "cli-test-pseudonymisation-key"}
KEYED = Fingerprinter.from_pseudonymisation_key(KEY_ENV["CETK_PSEUDONYMISATION_KEY"])


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# --- --json is the library's return value ------------------------------------------------------


def test_schema_show_json_equals_library() -> None:
    result = runner.invoke(app, ["schema", "show", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema_summary(DATASET)
    one = runner.invoke(app, ["schema", "show", "events", "--json"])
    assert json.loads(one.stdout) == schema_summary(DATASET, "events")


def test_schema_show_plain_lists_columns() -> None:
    result = runner.invoke(app, ["schema", "show", "themes"])
    assert result.exit_code == 0
    assert "theme_code" in result.stdout and "theme_label" in result.stdout


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_schema_export_equals_library(export_format: ExportFormat, tmp_path: Path) -> None:
    expected = {
        ExportFormat.powerbi: json_text(powerbi_definition(DATASET)),
        ExportFormat.arrow: json_text(arrow_schemas_document(DATASET, "staging")),
        ExportFormat.markdown: data_dictionary_markdown(DATASET),
    }[export_format]
    result = runner.invoke(app, ["schema", "export", "--format", export_format.value])
    assert result.exit_code == 0
    assert result.stdout == expected
    target = tmp_path / "out.txt"
    assert (
        runner.invoke(app, ["schema", "export", "--format", export_format.value, "-o", str(target)]).exit_code
        == 0
    )
    assert target.read_text(encoding="utf-8") == expected


def test_schema_export_powerbi_matches_golden_file() -> None:
    golden = (ROOT / "tests" / "golden" / "powerbi_dataset.json").read_text(encoding="utf-8")
    assert runner.invoke(app, ["schema", "export", "--format", "powerbi"]).stdout == golden


def test_schema_export_arrow_published_purpose() -> None:
    result = runner.invoke(app, ["schema", "export", "--format", "arrow", "--purpose", "published"])
    assert json.loads(result.stdout) == arrow_schemas_document(DATASET, "published")
    assert export_text(ExportFormat.arrow, ArrowPurpose.published) == result.stdout


def test_config_show_json_equals_library_and_shows_sources(tmp_path: Path) -> None:
    (tmp_path / "cetk.yaml").write_text("organisation: FileOrg\nclient_id: file-client\n", encoding="utf-8")
    env = {"CETK_CLIENT_ID": "env-client", "CETK_CLIENT_SECRET": SECRET}
    result = runner.invoke(
        app, ["config", "show", "--json", "--set", "powerbi.dataset_name=Flagged"], env=env
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    environ = {**env}
    expected = effective_settings(
        load(None, environ, {"powerbi.dataset_name": "Flagged"}, keyring=None, strict=False)
    )
    assert shown == expected
    assert shown["settings"]["powerbi.dataset_name"]["source"] == "flag"
    assert shown["settings"]["client_id"] == {
        "value": "env-client",
        "source": "env",
        "env_var": "CETK_CLIENT_ID",
    }
    assert shown["settings"]["organisation"]["source"] == "file"
    assert shown["settings"]["endpoints.graph"]["source"] == "default"
    assert shown["secrets"]["client_secret"]["status"] == "set"
    assert SECRET not in result.stdout


def test_config_show_plain_masks_secrets() -> None:
    result = runner.invoke(app, ["config", "show"], env={"CETK_CLIENT_SECRET": SECRET})
    assert result.exit_code == 0
    assert SECRET not in result.output
    assert "client_secret" in result.stdout and "not set" in result.stdout  # the other two secrets


def test_secret_as_set_flag_is_refused() -> None:
    result = runner.invoke(app, ["config", "show", "--set", f"client_secret={SECRET}"])
    assert exit_code(result) == ExitCode.FAILED
    assert isinstance(result.exception, SecretInConfigError)
    assert SECRET not in str(result.exception) + result.exception.hint


# --- init -----------------------------------------------------------------------------------------


def test_init_writes_refuses_overwrite_and_forces(tmp_path: Path) -> None:
    target = tmp_path / "cetk.yaml"
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert target.read_text(encoding="utf-8") == example_config_text()
    target.write_text("organisation: Mine\n", encoding="utf-8")
    again = runner.invoke(app, ["init"])
    assert exit_code(again) == ExitCode.FAILED
    assert isinstance(again.exception, ConfigError)
    assert "--force" in again.exception.hint
    assert target.read_text(encoding="utf-8") == "organisation: Mine\n"
    assert runner.invoke(app, ["init", "--force"]).exit_code == 0
    assert target.read_text(encoding="utf-8") == example_config_text()


def test_init_dry_run_prints_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", "elsewhere.yaml", "--dry-run"])
    assert result.exit_code == 0
    plan = plan_init(Path("elsewhere.yaml"), {})
    assert result.stdout == plan.describe() + "\n"
    assert result.stdout.startswith("Would create elsewhere.yaml (")
    assert [step.content for step in plan.steps] == [example_config_text().encode("utf-8")]
    assert not (tmp_path / "elsewhere.yaml").exists()


# --- validate and demo --------------------------------------------------------------------------


def test_validate_valid_file_exits_0_and_json_equals_library(tmp_path: Path) -> None:
    path = themes_csv(tmp_path / "themes.csv")
    result = runner.invoke(app, ["validate", str(path), "--json", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    as_of = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert json.loads(result.stdout) == validate_files(path, as_of=as_of).to_dict()
    assert json.loads(result.stdout)["valid"] is True


def test_validate_invalid_raises_validation_failed_with_report(tmp_path: Path) -> None:
    path = themes_csv(tmp_path / "renamed.csv", BAD_THEME)
    result = runner.invoke(app, ["validate", str(path), "--table", "themes", "--as-of", AS_OF])
    assert exit_code(result) == ExitCode.DATA_PROBLEMS
    assert isinstance(result.exception, ValidationFailed)
    assert result.exception.report.counts() == {"themes": {"unknown-code": 1}}
    assert "unknown-code" in result.stdout


def test_validate_bad_as_of_is_a_cetk_error(tmp_path: Path) -> None:
    path = themes_csv(tmp_path / "themes.csv")
    result = runner.invoke(app, ["validate", str(path), "--as-of", "yesterday"])
    assert exit_code(result) == ExitCode.FAILED
    assert "--as-of" in str(result.exception)


def test_demo_exits_0_and_explains_the_deliberate_errors() -> None:
    result = runner.invoke(app, ["demo", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "deliberate errors" in result.stdout
    as_json = runner.invoke(app, ["demo", "--json", "--as-of", AS_OF, "--stable-fingerprints"], env=KEY_ENV)
    as_of = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert json.loads(as_json.stdout) == validate_sample(as_of, fingerprinter=KEYED).to_dict()


def test_schema_export_dry_run_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "dataset.json"
    result = runner.invoke(app, ["schema", "export", "--format", "powerbi", "-o", str(target), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Would create {target} (")
    assert not target.exists()


def test_init_into_a_directory_or_unwritable_place_is_a_cetk_error(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    for args in (["init", "conf"], ["init", "conf", "--force"]):
        result = runner.invoke(app, args)
        assert exit_code(result) == ExitCode.FAILED
        assert isinstance(result.exception, ConfigError)
    assert "is a directory" in str(runner.invoke(app, ["init", "conf", "--force"]).exception)
    (tmp_path / "plain.txt").write_text("a file, not a directory", encoding="utf-8")
    result = runner.invoke(app, ["init", "plain.txt/cetk.yaml"])  # writing fails with NotADirectoryError
    assert exit_code(result) == ExitCode.FAILED
    assert isinstance(result.exception, ConfigError)
    assert "cannot write plain.txt/cetk.yaml" in str(result.exception)


def test_validate_one_file_that_names_no_model_table_says_to_pass_table(tmp_path: Path) -> None:
    path = themes_csv(tmp_path / "export-2026.csv")
    for args, where in (
        (["validate", str(path)], "the file name 'export-2026.csv'"),
        (["validate", str(path), "--table", "theme"], "--table 'theme'"),
    ):
        result = runner.invoke(app, args)
        assert exit_code(result) == ExitCode.FAILED
        assert str(result.exception) == f"{where} does not name a table of the model"
        assert result.exception.hint.startswith("pass --table with one of: areas")


def test_validate_report_never_sends_control_characters_from_the_input(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_text("theme_code,theme_label,load_id,\x1b[31mred\x1b[0m\nASB,x,,\n", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(path)], env={"COLUMNS": "200"})
    assert exit_code(result) == ExitCode.DATA_PROBLEMS
    assert "\x1b" not in result.stdout
    assert "table, column 4" in result.stdout  # not a name's shape: named by its position


def test_config_show_reports_the_log_level_flag_and_a_set_log_level() -> None:
    by_flag = runner.invoke(app, ["--log-level", "error", "config", "show", "--json"])
    assert json.loads(by_flag.stdout)["settings"]["log_level"] == {
        "value": "error",
        "source": "flag",
        "env_var": "CETK_LOG_LEVEL",
    }
    by_set = runner.invoke(app, ["config", "show", "--json", "--set", "log_level=INFO"])
    assert json.loads(by_set.stdout)["settings"]["log_level"]["value"] == "INFO"


def test_a_run_removes_its_logging_and_redaction_when_it_ends() -> None:
    root = logging.getLogger()
    handlers, factory = list(root.handlers), logging.getLogRecordFactory()
    assert runner.invoke(app, ["--log-level", "DEBUG", "schema", "show", "themes"]).exit_code == 0
    assert runner.invoke(app, ["config", "show"], env={"CETK_CLIENT_SECRET": SECRET}).exit_code == 0
    assert root.handlers == handlers
    assert logging.getLogRecordFactory() is factory


# --- exit codes: declared once (errors.ExitCode), chosen in main() ------------------------------------


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    captured = capsys.readouterr()
    return int(ended.value.code or 0), captured.out, captured.err


def test_the_exit_codes_are_the_grep_convention_and_two_more() -> None:
    assert {code.name: int(code) for code in ExitCode} == {
        "OK": 0,
        "DATA_PROBLEMS": 1,
        "FAILED": 2,
        "LOCKED": 3,
        "TIMED_OUT": 4,
        "INTERRUPTED": 130,
    }
    assert CetkError("x").exit_code == ConfigError("x").exit_code == ExitCode.FAILED
    assert ValidationFailed("x", report=None).exit_code == ExitCode.DATA_PROBLEMS


def test_main_exits_with_the_error_s_code_and_two_lines(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["schema", "show", "no_such_table"], capsys)
    assert code == ExitCode.FAILED
    assert err.splitlines()[0] == "Error: no table 'no_such_table' in the model"
    assert len(err.splitlines()) == 2
    assert run_main(["schema", "show", "themes"], capsys)[0] == ExitCode.OK


def test_a_bug_keeps_its_traceback_and_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("a bug in cetk")

    monkeypatch.setattr("cli.schema_summary", broken)
    code, _out, err = run_main(["schema", "show"], capsys)
    assert code == ExitCode.FAILED
    assert "Traceback (most recent call last)" in err and "RuntimeError: a bug in cetk" in err
