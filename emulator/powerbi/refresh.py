"""Dataset refreshes in the emulated Power BI service: requests, one-at-a-time, 8 a day, history, detail.

Semantics: microsoft-apis.md §1.5. A refresh runs for `refresh_duration_seconds` on the emulator clock;
until then its status is `Unknown` with no endTime, afterwards `Completed` (or `Failed` when a test
asked for a failure).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from emulator.powerbi.model import CapacityKind, DatasetState, PowerBIOptions, RefreshState
from emulator.powerbi.validate import Rejection, invalid

DAY = timedelta(hours=24)
NOTIFY_OPTIONS = {"NoNotification", "MailOnFailure", "MailOnCompletion"}
ENHANCED_FIELDS = {
    "type": {"Full", "ClearValues", "Calculate", "DataOnly", "Automatic", "Defragment"},
    "commitMode": {"Transactional", "PartialBatch"},
    "maxParallelism": None,
    "retryCount": None,
    "objects": None,
    "applyRefreshPolicy": None,
    "effectiveDate": None,
    "timeout": None,
}
DAILY_LIMIT_MESSAGE = (
    "Invalid dataset refresh request. Number of refresh requests in last 24 hours exceeded limit"
)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def is_running(refresh: RefreshState, now: datetime) -> bool:
    return refresh.cancelled_at is None and now < refresh.started + timedelta(
        seconds=refresh.duration_seconds
    )


def start_refresh(
    dataset: DatasetState,
    body: Any,
    now: datetime,
    options: PowerBIOptions,
    *,
    capacity: CapacityKind,
    service_principal: bool,
) -> RefreshState:
    """Accept a refresh request or raise the Rejection the service would answer with.

    `capacity` is the workspace's; `service_principal` says the caller signed in app-only, for which the
    swagger says notifyOption does not apply: anything but NoNotification is refused (message UNCONFIRMED).
    """
    if dataset.push and options.push_refresh == "reject":
        message = f"Dataset <pi>{dataset.id}</pi> is a push dataset and cannot be refreshed."
        raise Rejection(
            options.push_refresh_status, {"error": {"code": options.validation_code, "message": message}}
        )
    request = _check_body(body, options)
    notify = request.get("notifyOption", "NoNotification")
    if service_principal and notify != "NoNotification":
        raise invalid(
            options,
            f"notifyOption '{notify}' is not supported for a service principal: mail notifications need a "
            "user; use NoNotification.",
        )
    enhanced = any(key != "notifyOption" for key in request)
    if enhanced and capacity == "shared":
        raise invalid(options, "Enhanced refresh is not supported for datasets on shared capacity.")
    if any(is_running(r, now) for r in dataset.refreshes):
        message = "Another refresh request is already executing for this dataset."
        raise Rejection(
            options.refresh_conflict_status, {"error": {"code": options.validation_code, "message": message}}
        )
    if capacity == "shared":
        recent = [
            r
            for r in dataset.refreshes
            if r.started > now - DAY and r.refresh_type in options.refresh_limit_types
        ]
        if len(recent) >= options.refreshes_per_day_shared:
            payload = {"error": {"code": "Request Throttled", "message": DAILY_LIMIT_MESSAGE}}
            raise Rejection(options.refresh_limit_status, payload)
    refresh = RefreshState(
        request_id=str(uuid.uuid4()),
        refresh_type="ViaEnhancedApi" if enhanced else "ViaApi",
        started=now,
        duration_seconds=options.refresh_duration_seconds,
        enhanced=enhanced,
        request=request,
        fails_with=dataset.next_refresh_failure,
    )
    dataset.next_refresh_failure = None
    dataset.refreshes.append(refresh)
    return refresh


def status_of(refresh: RefreshState, now: datetime) -> tuple[str, datetime | None]:
    if refresh.cancelled_at is not None:
        return "Cancelled", refresh.cancelled_at
    end = refresh.started + timedelta(seconds=refresh.duration_seconds)
    if now < end:
        return "Unknown", None
    return ("Failed" if refresh.fails_with is not None else "Completed"), end


def history_entry(refresh: RefreshState, now: datetime) -> dict[str, Any]:
    status, end = status_of(refresh, now)
    entry: dict[str, Any] = {
        "requestId": refresh.request_id,
        "refreshType": refresh.refresh_type,
        "startTime": stamp(refresh.started),
        "status": status,
    }
    attempt: dict[str, Any] = {"attemptId": 1, "startTime": stamp(refresh.started), "type": "Data"}
    if end is not None:
        entry["endTime"] = attempt["endTime"] = stamp(end)
    if status == "Failed":
        entry["serviceExceptionJson"] = attempt["serviceExceptionJson"] = json.dumps(refresh.fails_with)
    entry["refreshAttempts"] = [attempt]
    return entry


def history(dataset: DatasetState, now: datetime, top: int) -> list[dict[str, Any]]:
    """Newest first, at most `top` entries."""
    return [history_entry(r, now) for r in reversed(dataset.refreshes)][:top]


def detail(refresh: RefreshState, now: datetime) -> tuple[int, dict[str, Any]]:
    """Enhanced-refresh detail: 202 while in progress, 200 once finished."""
    status, end = status_of(refresh, now)
    extended = {"Unknown": "InProgress"}.get(status, status)
    body: dict[str, Any] = {
        "startTime": stamp(refresh.started),
        "type": refresh.request.get("type", "Full"),
        "commitMode": refresh.request.get("commitMode", "Transactional"),
        "status": "Unknown" if status == "Cancelled" else status,
        "extendedStatus": extended,
        "currentRefreshType": refresh.request.get("type", "Full"),
        "numberOfAttempts": 1,
        "objects": refresh.request.get("objects", []),
    }
    if end is not None:
        body["endTime"] = stamp(end)
    return (202 if status == "Unknown" else 200), body


def _check_body(body: Any, options: PowerBIOptions) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise invalid(options, "The refresh request body must be a JSON object.")
    for key, value in body.items():
        if key != "notifyOption" and key not in ENHANCED_FIELDS:
            raise invalid(options, f"The property '{key}' does not exist on type 'DatasetRefreshRequest'.")
        allowed = NOTIFY_OPTIONS if key == "notifyOption" else ENHANCED_FIELDS[key]
        if allowed is not None and value not in allowed:
            raise invalid(options, f"'{value}' is not a valid value for {key}.")
    if "notifyOption" in body and len(body) > 1:
        raise invalid(options, "notifyOption must be omitted when enhanced refresh parameters are given.")
    return dict(body)
