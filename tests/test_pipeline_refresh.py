"""pipeline.refresh: settings in, a plan (dry run) or a result out; the client is built from the settings.

Against the plain-http emulator in auth mode none (as `cetk emulator serve` runs it), on the test clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import load
from config.settings import Settings
from emulator.testing import EmulatorOptions, PowerBIOptions, RunningEmulator, running_emulator
from errors import ConfigError
from pipeline import RefreshPolled, refresh
from powerbi_dataset.refresh import RefreshPlan, RefreshResult
from tests.connectors.conftest import ManualTime, Waits


@dataclass
class Demo:
    emu: RunningEmulator
    group: str
    dataset_id: str
    config: Path

    def settings(self) -> Settings:
        return load(self.config, environ={}, keyring=None).settings


def write_config(path: Path, base_url: str, workspace_id: str | None) -> Path:
    """A cetk.yaml for the plain-http emulator, as `cetk emulator serve` writes it (no secrets)."""
    settings: dict[str, Any] = {
        "tenant_id": "contoso.onmicrosoft.com",
        "client_id": "11111111-2222-4333-8444-555555555555",
        "auth": {"mode": "none"},
        "endpoints": {
            "authority": f"{base_url}/login",
            "graph": f"{base_url}/graph",
            "powerbi": f"{base_url}/powerbi",
        },
    }
    if workspace_id:
        settings["powerbi"] = {"workspace_id": workspace_id}
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


@pytest.fixture
def clock() -> ManualTime:
    return ManualTime()


@pytest.fixture
def waits(clock: ManualTime) -> Waits:
    return Waits(clock)


@pytest.fixture
def demo(tmp_path: Path, clock: ManualTime) -> Iterator[Demo]:
    options = EmulatorOptions(require_auth=False, powerbi=PowerBIOptions(refresh_duration_seconds=90))
    with running_emulator(clock=clock, options=options) as emu:
        group = emu.powerbi.create_group("Community Engagement (emulator)")
        dataset_id = emu.powerbi.add_import_dataset(group, "Survey model")
        yield Demo(emu, group, dataset_id, write_config(tmp_path / "cetk.yaml", emu.base_url, group))


def test_refresh_waits_with_the_injected_clock_and_reports_progress(
    demo: Demo, clock: ManualTime, waits: Waits
) -> None:
    events: list[Any] = []

    result = refresh(
        demo.settings(),
        "Survey model",
        wait=True,
        poll_seconds=60,
        sleep=waits,
        clock=clock.time,
        on_progress=events.append,
    )

    assert isinstance(result, RefreshResult) and result.outcome == "completed"
    assert waits.seconds == [60.0, 60.0]
    assert events == [
        RefreshPolled("Survey model", "Unknown", 60.0),
        RefreshPolled("Survey model", "Completed", 120.0),
    ]
    assert events[0].describe() == "Refresh of 'Survey model': Unknown after 60 s"


def test_a_dry_run_returns_the_plan_and_asks_nothing_of_power_bi_but_reads(
    demo: Demo, clock: ManualTime, waits: Waits
) -> None:
    plan = refresh(demo.settings(), "Survey model", dry_run=True, sleep=waits, clock=clock.time)

    assert isinstance(plan, RefreshPlan) and plan.action == "start"
    assert plan.to_dict()["budget"]["remaining"] == 8
    requests = [
        (r.method, r.path.rsplit("/", 1)[-1]) for r in demo.emu.emulator.request_log if r.service == "powerbi"
    ]
    assert requests == [("GET", demo.group), ("GET", "datasets"), ("GET", "refreshes")]
    assert demo.emu.powerbi.refresh_history(demo.group, demo.dataset_id) == []


def test_without_a_dataset_named_the_configured_refresh_dataset_is_refreshed(
    demo: Demo, clock: ManualTime, waits: Waits
) -> None:
    settings = replace(demo.settings(), powerbi_refresh_dataset="Survey model")
    plan = refresh(settings, None, dry_run=True, sleep=waits, clock=clock.time)
    assert isinstance(plan, RefreshPlan) and plan.dataset_name == "Survey model"

    with pytest.raises(ConfigError) as caught:  # neither: say both ways to name it, before any request
        refresh(demo.settings(), None, dry_run=True, sleep=waits, clock=clock.time)
    assert "--dataset" in str(caught.value) and "powerbi.refresh_dataset" in str(caught.value)
    assert "CETK_POWERBI_REFRESH_DATASET" in caught.value.hint


def test_no_workspace_configured_is_a_config_error_naming_the_setting(
    demo: Demo, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    settings = load(write_config(tmp_path / "bare.yaml", demo.emu.base_url, None), environ={}, keyring=None)

    with pytest.raises(ConfigError) as caught:
        refresh(settings.settings, "Survey model", sleep=waits, clock=clock.time)

    assert "powerbi.workspace_id" in str(caught.value) and "CETK_POWERBI_WORKSPACE_ID" in caught.value.hint


@pytest.mark.parametrize(("timeout", "poll"), [(-1.0, 30.0), (10.0, 0.0)])
def test_a_negative_timeout_or_a_zero_poll_is_refused(
    demo: Demo, clock: ManualTime, waits: Waits, timeout: float, poll: float
) -> None:
    with pytest.raises(Exception, match="--timeout"):
        refresh(
            demo.settings(),
            "Survey model",
            timeout_seconds=timeout,
            poll_seconds=poll,
            sleep=waits,
            clock=clock.time,
        )
