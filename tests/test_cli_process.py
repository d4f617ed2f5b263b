"""The installed console script in a child process: --json is json.dumps of the library function's return
value, dry runs print the plan the library makes, exit codes and the two-line error, log levels.

This module never imports the CLI, so the library values are computed independently of it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from config.loader import load
from config.report import effective_settings
from connectors.sync_records import RunCounts, RunError, TableCounts
from connectors.sync_state import STATE_FILE_NAME, SyncState
from emulator.serve import DemoEnvironment
from errors import ExitCode
from pipeline import parse_as_of, plan_init, plan_schema_export, status, validate_files, validate_sample
from powerbi_dataset.codes import THEMES
from powerbi_dataset.dictionary import schema_summary
from powerbi_dataset.export import ArrowPurpose, ExportFormat
from powerbi_dataset.model import DATASET
from tests.prerequisites import missing
from tests.themes import themes_csv
from transforms.masking import Fingerprinter

CETK = Path(sys.executable).parent / "cetk"  # the console script installed beside this interpreter
AS_OF = "2026-06-01T00:00:00Z"
SECRET = "SUPERSECRET-123"
KEY_ENV = {"CETK_PSEUDONYMISATION_KEY": "process-test-pseudonymisation-key"}
KEYED = Fingerprinter.from_pseudonymisation_key(KEY_ENV["CETK_PSEUDONYMISATION_KEY"])


def cetk(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CETK), *args],
        capture_output=True,
        text=True,
        env=child_environment(env),
        cwd=cwd,
        timeout=timeout,
    )


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    environ = {name: value for name, value in os.environ.items() if not name.startswith("CETK_")}
    environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"  # no OS keyring: as keyring=None
    return {**environ, **(extra or {})}


def as_json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


@pytest.fixture(autouse=True)
def _installed() -> None:
    if not CETK.exists():
        missing(f"the console script is not installed at {CETK}: run `make dev`")


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


# --- --json is json.dumps of the library's return value -------------------------------------------


@pytest.mark.parametrize("table", [None, "events"])
def test_schema_show(table: str | None, tmp_path: Path) -> None:
    result = cetk("schema", "show", *([table] if table else []), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == as_json_text(schema_summary(DATASET, table))


def test_config_show(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cetk.yaml").write_text("organisation: FileOrg\nlog_level: error\n", encoding="utf-8")
    env = {"CETK_CLIENT_ID": "env-client", "CETK_CLIENT_SECRET": "SUPERSECRET-123"}
    result = cetk("config", "show", "--json", "--set", "powerbi.dataset_name=Flagged", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(tmp_path)  # the library finds ./cetk.yaml as the child did
    expected = effective_settings(
        load(None, child_environment(env), {"powerbi.dataset_name": "Flagged"}, keyring=None, strict=False)
    )
    assert result.stdout == as_json_text(expected)
    assert expected["config_file"] == "cetk.yaml" and expected["secrets"]["client_secret"]["status"] == "set"


@pytest.mark.parametrize("bad", [False, True])
def test_validate(bad: bool, tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_text(
        "theme_code,theme_label,load_id\nASB,x,\n" + ("BAD,y,\n" if bad else ""), encoding="utf-8"
    )
    args = ("validate", str(path), "--json", "--as-of", AS_OF, "--stable-fingerprints")
    result = cetk(*args, cwd=tmp_path, env=KEY_ENV)
    assert result.returncode == (ExitCode.DATA_PROBLEMS if bad else ExitCode.OK), result.stderr
    expected = validate_files(path, as_of=parse_as_of(AS_OF), fingerprinter=KEYED).to_dict()
    assert result.stdout == as_json_text(expected)


def test_demo_sample(tmp_path: Path) -> None:
    result = cetk(
        "demo", "--sample", "--json", "--as-of", AS_OF, "--stable-fingerprints", cwd=tmp_path, env=KEY_ENV
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == as_json_text(validate_sample(parse_as_of(AS_OF), fingerprinter=KEYED).to_dict())


def test_dry_runs_print_the_plan_the_library_makes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init = cetk("init", "--dry-run", cwd=tmp_path)
    monkeypatch.chdir(tmp_path)
    assert init.stdout == plan_init(None, {}).describe() + "\n"
    export = cetk("schema", "export", "--format", "arrow", "-o", "schemas.json", "--dry-run", cwd=tmp_path)
    assert (
        export.stdout
        == plan_schema_export(ExportFormat.arrow, ArrowPurpose.staging, Path("schemas.json")).describe()
        + "\n"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # a dry run writes nothing
    assert cetk("init", cwd=tmp_path).returncode == 0  # the real run writes exactly the planned bytes
    assert (tmp_path / "cetk.yaml").read_bytes() == plan_init(Path("elsewhere.yaml"), {}).steps[0].content


def test_emulator_serve(tmp_path: Path) -> None:
    """The connection details, printed once the emulator is ready, are a DemoEnvironment's to_dict()."""
    command = [str(CETK), "emulator", "serve", "--port", "0", "--json", "--events", "5", "--ccrs", "5"]
    command += ["--state-dir", str(tmp_path / "state")]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=child_environment()) as server:
        assert server.stdout is not None
        try:
            text = ""
            while not text.endswith("\n}\n"):  # the object's closing brace, alone on its line
                line = server.stdout.readline()
                assert line, f"the emulator stopped before it was ready: {text!r}"
                text += line
        finally:
            server.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
        assert server.wait(timeout=20) == 0
    details = json.loads(text)
    assert text == as_json_text(DemoEnvironment(**details).to_dict())
    assert Path(details["config_file"]).is_file()


# --- exit codes and the two-line error, in a real process ------------------------------------


def test_version_exits_0() -> None:
    result = cetk("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("cetk ")


def test_cetk_error_is_two_clean_lines_and_exit_2() -> None:
    result = cetk("schema", "show", "no_such_table")
    assert result.returncode == ExitCode.FAILED
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0] == "Error: no table 'no_such_table' in the model"
    assert lines[1].startswith("Hint: tables are: areas")
    assert "Traceback" not in result.stderr


def test_usage_error_exits_2() -> None:
    assert cetk("schema", "export", "--format", "bogus").returncode == ExitCode.FAILED == 2
    assert cetk("no-such-command").returncode == ExitCode.FAILED
    bad_level = cetk("--log-level", "bogus", "schema", "show")
    assert bad_level.returncode == ExitCode.FAILED
    assert "--log-level" in bad_level.stderr


def test_bad_log_level_from_the_environment_is_a_config_error() -> None:
    result = cetk("schema", "show", env={"CETK_LOG_LEVEL": "bogus"})
    assert result.returncode == ExitCode.FAILED
    assert result.stderr.startswith("Error: setting 'log_level'")


@pytest.mark.parametrize(
    ("flag", "env", "debug_shown"),
    [([], {}, True), (["--log-level", "ERROR"], {}, False), ([], {"CETK_LOG_LEVEL": "WARNING"}, False)],
)
def test_log_level_from_the_file_applies_below_flag_and_environment(
    tmp_path: Path, flag: list[str], env: dict[str, str], debug_shown: bool
) -> None:
    (tmp_path / "cetk.yaml").write_text("log_level: debug\n", encoding="utf-8")
    result = cetk(*flag, "config", "show", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("DEBUG config.loader: settings from cetk.yaml" in result.stderr) is debug_shown


def test_a_config_file_cetk_cannot_read_does_not_stop_commands_that_need_no_settings(tmp_path: Path) -> None:
    (tmp_path / "cetk.yaml").write_text("log_level: [unclosed\n", encoding="utf-8")
    assert cetk("schema", "show", "themes", cwd=tmp_path).returncode == 0
    shown = cetk("config", "show", cwd=tmp_path)
    assert shown.returncode == ExitCode.FAILED
    assert shown.stderr.startswith("Error: config file cetk.yaml, line 2")


def test_secret_in_config_refused_in_a_process(tmp_path: Path) -> None:
    (tmp_path / "cetk.yaml").write_text(f"client_secret: {SECRET}\n", encoding="utf-8")
    result = cetk("config", "show", cwd=tmp_path)
    assert result.returncode == ExitCode.FAILED
    lines = result.stderr.splitlines()
    assert lines[0].startswith("Error: config file cetk.yaml holds a secret at key 'client_secret'")
    assert "CETK_CLIENT_SECRET" in lines[1]
    assert SECRET not in result.stdout + result.stderr


def test_validation_failure_exit_1_with_counts(tmp_path: Path) -> None:
    path = themes_csv(tmp_path / "themes.csv", "NOT_A_THEME,Bad,")
    result = cetk("validate", str(path), "--as-of", AS_OF)
    assert result.returncode == ExitCode.DATA_PROBLEMS
    assert result.stderr.splitlines() == [
        f"Error: validation found 1 problem in {len(THEMES) + 1} rows",
        "Hint: fix the rows named in the report (rules: docs/data-dictionary.md); --json lists every problem",
    ]
    assert "unknown-code" in result.stdout


def test_secrets_never_in_config_show_or_debug_logs_in_a_process() -> None:
    env = {"CETK_CLIENT_SECRET": SECRET, "CETK_CERT_PASSPHRASE": SECRET, "CETK_PSEUDONYMISATION_KEY": SECRET}
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = cetk("--log-level", "DEBUG", *args, env=env)
        assert result.returncode == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr
        assert "set" in result.stdout


# --- cetk status -------------------------------------------------------------------------------


def test_status_without_state_says_so_and_exits_0(tmp_path: Path) -> None:
    result = cetk("status", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == as_json_text(status(Path("staging/state")))  # the default, from the cwd
    plain = cetk("status", cwd=tmp_path)
    assert plain.returncode == 0 and plain.stdout.startswith("No sync has run yet")


def test_status_json_is_the_library_result_and_the_table_shows_the_ledger(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    (tmp_path / "cetk.yaml").write_text(f"paths:\n  state_dir: {state_dir}\n", encoding="utf-8")
    with SyncState.open(state_dir / STATE_FILE_NAME) as state:
        first = state.start_run("sync", {"full": True})
        state.finish_run(first, "ok", RunCounts({"events": TableCounts(120, 120, 0, 0)}, requests=3))
        second = state.start_run("sync", {})
        error = RunError("ThrottledError", "Graph still answered 429 after 6 attempts")
        state.finish_run(second, "failed", RunCounts(requests=6, retries=5), error=error)
    result = cetk("status", "--json", "--limit", "1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == as_json_text(status(state_dir, limit=1))
    assert [run["run_id"] for run in json.loads(result.stdout)["runs"]] == [second]
    table = cetk("status", cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "The last 2 runs, newest first." in table.stdout
    rows = [line for line in table.stdout.splitlines() if " sync " in line]
    assert len(rows) == 2 and "failed" in rows[0] and "120" in rows[1]
    assert "Run 2: ThrottledError: Graph still answered 429 after 6 attempts" in table.stdout


def test_status_on_corrupt_state_is_a_two_line_error(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    (state_dir / STATE_FILE_NAME).write_bytes(b"garbage" * 100)
    (tmp_path / "cetk.yaml").write_text(f"paths:\n  state_dir: {state_dir}\n", encoding="utf-8")
    result = cetk("status", cwd=tmp_path)
    assert result.returncode == ExitCode.FAILED
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"Error: sync state {state_dir / STATE_FILE_NAME}")
    assert "cetk sync --full" in lines[1]
