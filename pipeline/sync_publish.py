"""What `cetk sync` does after staging, by `powerbi.mode`: publish the staged tables to the push dataset
(push), start (or attach to) a refresh of an import model that reads the lists itself (refresh), or
nothing (off: `cetk publish` does it later). It runs inside the sync's run lock, so it calls
`publish_staged` (never `publish`, which would wait for the lock this run holds).

A push publishes the report's tables (pipeline/published.py), built from the five fact tables together.
Until every one of them is staged (a first sync limited with --lists), the sync publishes nothing and says
so with a `publish-waiting` warning: never a part of the figures, never a staged table unprotected."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from connectors.run_report import RunRecorder
from errors import ConfigError
from pipeline.progress import OnProgress, ignore_progress
from pipeline.publish import publish_staged
from pipeline.published import not_staged_for_figures
from pipeline.refresh import powerbi_client, refresh


def check_publish_settings(settings: Settings) -> None:
    """Refuse, before anything is read, a mode the settings cannot carry out."""
    if settings.powerbi_mode != "off" and not settings.powerbi_workspace_id:
        raise ConfigError(
            f"powerbi.mode is {settings.powerbi_mode}, but powerbi.workspace_id is not set",
            hint="set powerbi.workspace_id (the workspace's id), or powerbi.mode: off to stage only",
        )
    if settings.powerbi_mode == "refresh" and not settings.powerbi_refresh_dataset:
        raise ConfigError(
            "powerbi.mode is refresh, but powerbi.refresh_dataset is not set",
            hint="name the import-mode dataset to refresh in powerbi.refresh_dataset",
        )


def after_staging(
    settings: Settings,
    run: RunRecorder,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    on_progress: OnProgress = ignore_progress,
) -> dict[str, Any] | None:
    """Publish or refresh as `powerbi.mode` says; the summary goes into the run report (None when off)."""
    if settings.powerbi_mode == "off":
        return None
    missing = not_staged_for_figures(settings.paths.staging_dir) if settings.powerbi_mode == "push" else []
    if missing:
        run.warn(
            "publish-waiting",
            f"not published: {', '.join(missing)} not staged yet (the published figures are built from "
            "them together); a sync of every list stages them",
        )
        return {"mode": "push", "dataset": settings.powerbi_dataset_name, "status": "not published"}
    client = powerbi_client(settings, sleep=sleep, clock=clock)
    try:
        if settings.powerbi_mode == "push":
            published = publish_staged(
                settings, client=client, clock=clock, sleep=sleep, on_progress=on_progress
            )
            return {"mode": "push", **published.to_dict()}
        started = refresh(
            settings,
            settings.powerbi_refresh_dataset or "",
            client=client,
            sleep=sleep,
            clock=clock,
            on_progress=on_progress,
        )
        return {"mode": "refresh", **started.to_dict()}
    finally:
        run.add_http_work(client.stats)
