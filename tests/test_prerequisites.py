"""A test that needs the shared specs skips on a developer's machine when they are missing, and fails under
CI=true: run in a child pytest with the specs directory pointed at a place that does not exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.prerequisites import ROOT

SWAGGER_TEST = "tests/powerbi_dataset/test_export.py::test_definition_validates_against_the_swagger"


def child_pytest(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    environ = {name: value for name, value in os.environ.items() if name not in ("CI", "SHARED_SPECS_DIR")}
    environ.update({"SHARED_SPECS_DIR": str(tmp_path / "no-specs-here"), **extra})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", SWAGGER_TEST],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_specs_skip_with_a_message_outside_ci(tmp_path: Path) -> None:
    result = child_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "Power BI swagger not found" in result.stdout and "SHARED_SPECS_DIR" in result.stdout


def test_missing_specs_fail_under_ci(tmp_path: Path) -> None:
    result = child_pytest(tmp_path, CI="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout or "1 failed" in result.stdout
    assert "required under CI=true" in result.stdout
