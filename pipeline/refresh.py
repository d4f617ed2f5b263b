"""`cetk refresh`: the Power BI client for the configured workspace, and refresh with attach and wait."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from config.settings import Settings
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.http import build_session
from connectors.powerbi import PowerBIClient
from errors import CetkError, ConfigError
from pipeline.progress import OnProgress, RefreshPolled, ignore_progress
from powerbi_dataset.refresh import (
    DEFAULT_POLL_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
    RefreshPlan,
    RefreshResult,
    plan_refresh,
    run_refresh,
)


def powerbi_client(
    settings: Settings, *, sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time
) -> PowerBIClient:
    """The Power BI client for the configured workspace, signed in as settings say."""
    if not settings.powerbi_workspace_id:
        raise ConfigError(
            "setting 'powerbi.workspace_id' is not set",
            hint="set powerbi.workspace_id in cetk.yaml or CETK_POWERBI_WORKSPACE_ID (the workspace's GUID)",
        )
    sign_in = SignIn(sign_in_config_from_settings(settings), sleep=sleep, clock=clock)
    host = urlsplit(settings.endpoints.powerbi).hostname or ""
    session = build_session(
        sign_in.token_provider("powerbi"),
        user_agent=settings.user_agent,
        ca_bundle=settings.ca_bundle,
        sleep=sleep,
        clock=clock,
        token_hosts=("analysis.windows.net", host),  # a 307 to another Power BI cluster keeps the token
    )
    return PowerBIClient(session, settings.endpoints.powerbi, settings.powerbi_workspace_id)


def refresh(
    settings: Settings,
    dataset_name: str | None,
    *,
    wait: bool = False,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    enhanced: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    on_progress: OnProgress = ignore_progress,
    client: PowerBIClient | None = None,
) -> RefreshPlan | RefreshResult:
    """`cetk refresh`: start a refresh of an import-mode dataset (or attach to the one running), and with
    `wait` poll its history until it finishes. A dry run returns the plan: start or attach, the budget left.

    The dataset is `dataset_name`, else the configured powerbi.refresh_dataset."""
    if timeout_seconds < 0 or poll_seconds <= 0:
        raise CetkError("--timeout must be 0 or more and --poll more than 0 seconds", hint="e.g. --poll 30")
    dataset_name = dataset_name or settings.powerbi_refresh_dataset  # the one `cetk sync` refreshes
    if not dataset_name:
        raise ConfigError(
            "no dataset to refresh: --dataset is not given and setting 'powerbi.refresh_dataset' is not set",
            hint="pass --dataset NAME, or set powerbi.refresh_dataset in cetk.yaml or CETK_POWERBI_REFRESH_DATASET",
        )
    client = client or powerbi_client(settings, sleep=sleep, clock=clock)
    now = dt.datetime.fromtimestamp(clock(), dt.UTC)
    plan = plan_refresh(client, dataset_name, now=now, enhanced=enhanced)
    if dry_run:
        return plan

    def polled(status: str, waited: float) -> None:
        on_progress(RefreshPolled(plan.dataset_name, status, waited))

    return run_refresh(
        client,
        plan,
        wait=wait,
        timeout_seconds=timeout_seconds,
        poll_seconds=poll_seconds,
        clock=clock,
        sleep=sleep,
        on_poll=polled,
    )
