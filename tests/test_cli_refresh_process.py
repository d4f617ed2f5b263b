"""`cetk refresh` as a child process against the plain-http emulator: --json is json.dumps of pipeline.refresh's
return value, and the exit codes separate completed (0), failed (2) and timed out (4).

The emulator runs in this process on a clock that stands still, so nothing waits: a refresh completes at once
(duration 0) or never (--timeout 0).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import errors
from config.loader import load
from emulator.testing import (
    EmulatorOptions,
    ManualClock,
    PowerBIOptions,
    RunningEmulator,
    SystemClock,
    running_emulator,
)
from pipeline import refresh
from tests.test_cli_process import as_json_text, cetk
from tests.test_pipeline_refresh import write_config

# A refusal is a CetkError: "could not do the job" (errors.ExitCode.FAILED, 2, once i7-validate is merged; 1 before).
FAILED_CETK_ERROR = int(errors.ExitCode.FAILED) if hasattr(errors, "ExitCode") else 1


@dataclass
class Served:
    emu: RunningEmulator
    group: str
    dataset_id: str
    config: Path


def serve(tmp_path: Path, *, duration: float, capacity: str = "shared") -> Iterator[Served]:
    options = EmulatorOptions(require_auth=False, powerbi=PowerBIOptions(refresh_duration_seconds=duration))
    with running_emulator(clock=ManualClock(), options=options) as emu:
        group = emu.powerbi.create_group("CE", capacity=capacity)  # type: ignore[arg-type]
        dataset_id = emu.powerbi.add_import_dataset(group, "Survey model")
        yield Served(emu, group, dataset_id, write_config(tmp_path / "cetk.yaml", emu.base_url, group))


@pytest.fixture
def instant(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, duration=0)


@pytest.fixture
def slow(tmp_path: Path) -> Iterator[Served]:
    yield from serve(tmp_path, duration=600)


def run_refresh(served: Served, *args: str) -> subprocess.CompletedProcess[str]:
    return cetk("--config", str(served.config), "refresh", "--dataset", "Survey model", *args)


def test_dry_run_json_is_the_plan_pipeline_refresh_returns(instant: Served) -> None:
    result = run_refresh(instant, "--dry-run", "--json")

    assert result.returncode == 0, result.stderr
    settings = load(instant.config, environ={}, keyring=None).settings
    expected = refresh(settings, "Survey model", dry_run=True)
    assert result.stdout == as_json_text(expected.to_dict())
    assert instant.emu.powerbi.refresh_history(instant.group, instant.dataset_id) == []


def test_wait_json_is_the_result_pipeline_refresh_returns_and_exit_0(tmp_path: Path) -> None:
    for served in serve(tmp_path, duration=0, capacity="premium"):  # no budget that a second run would change
        child = run_refresh(served, "--wait", "--json")
        settings = load(served.config, environ={}, keyring=None).settings
        expected = refresh(settings, "Survey model", wait=True).to_dict()  # type: ignore[union-attr]

        assert child.returncode == 0, child.stderr
        shown = json.loads(child.stdout)
        assert shown["outcome"] == "completed" and shown["request_id"] != expected["request_id"]
        same_id = child.stdout.replace(shown["request_id"], expected["request_id"])
        assert same_id == as_json_text(expected)
        assert len(served.emu.powerbi.refresh_history(served.group, served.dataset_id)) == 2


def test_a_failed_refresh_exits_2_with_the_decoded_reason(instant: Served) -> None:
    instant.emu.powerbi.fail_next_refresh(
        instant.group, instant.dataset_id, "ModelRefreshFailed_CredentialsNotSpecified"
    )

    result = run_refresh(instant, "--wait")

    assert result.returncode == 2, result.stderr
    assert "failed: ModelRefreshFailed_CredentialsNotSpecified" in result.stdout
    assert "Likely fix: the data source credentials" in result.stdout


def test_waiting_past_the_timeout_exits_4(slow: Served) -> None:
    result = run_refresh(slow, "--wait", "--timeout", "0", "--json")

    assert result.returncode == 4, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["outcome"], shown["status"], shown["exit_code"]) == ("timed_out", "Unknown", 4)


def test_without_wait_a_started_refresh_exits_0(slow: Served) -> None:
    result = run_refresh(slow)
    assert result.returncode == 0, result.stderr
    assert "still running (not waiting" in result.stdout


def test_the_daily_budget_refusal_is_an_error_naming_the_next_allowed_time(tmp_path: Path) -> None:
    """On the system clock: the child counts the last 24 hours by its own clock, as in production."""
    options = EmulatorOptions(require_auth=False)
    with running_emulator(clock=SystemClock(), options=options) as emu:
        group = emu.powerbi.create_group("CE")
        dataset_id = emu.powerbi.add_import_dataset(group, "Survey model")
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        for hours in range(1, 9):
            emu.powerbi.record_refresh(group, dataset_id, started=now - dt.timedelta(hours=hours))
        served = Served(emu, group, dataset_id, write_config(tmp_path / "cetk.yaml", emu.base_url, group))

        result = run_refresh(served, "--wait")

        assert result.returncode == FAILED_CETK_ERROR
        lines = result.stderr.splitlines()
        assert lines[0].startswith("Error: 'Survey model' has been refreshed 8 times in the last 24 hours")
        next_allowed = (now + dt.timedelta(hours=16)).isoformat().replace("+00:00", "Z")
        assert f"the next refresh is allowed at {next_allowed}" in lines[0]
        assert lines[1].startswith("Hint: run again after that time")
        assert [r for r in emu.emulator.request_log if r.method == "POST"] == []


def test_enhanced_options_on_shared_capacity_are_refused(instant: Served) -> None:
    result = run_refresh(instant, "--type", "Full")
    assert result.returncode == FAILED_CETK_ERROR
    assert "need Premium capacity" in result.stderr
