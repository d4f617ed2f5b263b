"""Each command's --json is json.dumps of the library function's return value.

The installed console script runs in a child process; this module never imports the CLI, so the
library values are computed independently of it. Dry runs print the plan the library makes.
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
from emulator.serve import DemoEnvironment
from pipeline import parse_as_of, plan_init, plan_schema_export, validate_files, validate_sample
from powerbi_dataset.dictionary import schema_summary
from powerbi_dataset.export import ArrowPurpose, ExportFormat
from powerbi_dataset.model import DATASET

CETK = Path(sys.executable).parent / "cetk"  # the console script installed beside this interpreter
AS_OF = "2026-06-01T00:00:00Z"


def cetk(*args: str, env: dict[str, str] | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CETK), *args], capture_output=True, text=True, env=child_environment(env), cwd=cwd, timeout=60
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
        pytest.skip(f"the console script is not installed at {CETK}: run `make dev`")


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
    result = cetk("validate", str(path), "--json", "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == (1 if bad else 0), result.stderr
    assert result.stdout == as_json_text(validate_files(path, as_of=parse_as_of(AS_OF)).to_dict())


def test_demo(tmp_path: Path) -> None:
    result = cetk("demo", "--json", "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == as_json_text(validate_sample(parse_as_of(AS_OF)).to_dict())


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
    command = [str(CETK), "emulator", "serve", "--port", "0", "--json", "--events", "5", "--ccrs", "5"]
    process = subprocess.Popen(
        [*command, "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_environment(),
    )
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # the JSON object ends with a closing brace alone on its line
            lines.append(line)
            if line == "}\n":
                break
        text = "".join(lines)
        environment = DemoEnvironment(**json.loads(text))
        assert text == as_json_text(environment.to_dict())
        assert Path(environment.config_file).is_file()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=20)
