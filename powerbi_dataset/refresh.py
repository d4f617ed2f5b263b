"""Refresh an import-mode dataset within the service's rules: plan (start or attach, the daily budget), start,
and wait on the refresh history until Completed, Failed or Disabled.

Rules (microsoft-apis.md §1.5, the swagger's RefreshDatasetInGroup): one refresh at a time per dataset (a
second request gets 400, or 409 in older docs: cetk attaches to the running one instead); on shared capacity
at most 8 refreshes in 24 hours, scheduled ones included, enhanced refresh only on Premium; a service
principal gets no mail (notifyOption NoNotification). Waits use the injected clock and sleep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from errors import ExitCode, RefreshError, RequestRefusedError
from powerbi_dataset.refresh_budget import (
    REFRESHES_PER_DAY_SHARED,
    RefreshBudget,
    iso_time,
    refresh_budget,
)
from powerbi_dataset.refresh_errors import RefreshFailure, decode_failure
from powerbi_dataset.workspace import DatasetInfo, Group, RefreshRecord

FINISHED_STATUSES = frozenset({"Completed", "Failed", "Disabled", "Cancelled"})
BUSY_STATUSES = frozenset({400, 409})  # "one refresh at a time": 400 (2025 doc), 409 (2021 preview doc)
DAILY_LIMIT_CODE = "Request Throttled"
DEFAULT_TIMEOUT_SECONDS = 2 * 3600.0  # a shared-capacity refresh is stopped after 2 hours
DEFAULT_POLL_SECONDS = 30.0
# Exit codes (errors.ExitCode on i7-validate): 0 ok, 2 could not do the job, 4 timed out waiting.
EXIT_OK, EXIT_FAILED, EXIT_TIMED_OUT = ExitCode.OK, ExitCode.FAILED, ExitCode.TIMED_OUT
Outcome = Literal["completed", "failed", "disabled", "cancelled", "timed_out", "running"]
FINISHED_OUTCOMES: dict[str, Outcome] = {
    "Completed": "completed",
    "Failed": "failed",
    "Disabled": "disabled",
    "Cancelled": "cancelled",
}
Clock = Callable[[], float]
Sleep = Callable[[float], None]


class RefreshClient(Protocol):
    """What refreshing needs of Power BI: connectors.powerbi.PowerBIClient (powerbi_dataset never imports
    connectors, which import transforms, which import powerbi_dataset)."""

    workspace_id: str

    def get_group(self) -> Group: ...

    def datasets(self) -> list[DatasetInfo]: ...

    def dataset_by_name(self, name: str) -> DatasetInfo | None: ...

    def refresh(
        self, dataset_id: str, *, notify: str | None = None, enhanced: Mapping[str, Any] | None = None
    ) -> str | None: ...

    def refresh_history(self, dataset_id: str, *, top: int | None = None) -> list[RefreshRecord]: ...


@dataclass(frozen=True)
class RefreshPlan:
    """What `cetk refresh` will do: start a refresh (with this body) or attach to the one already running."""

    workspace_id: str
    dataset_id: str
    dataset_name: str
    action: Literal["start", "attach"]
    running_request_id: str | None
    request_body: Mapping[str, Any] | None
    budget: RefreshBudget
    known_request_ids: frozenset[str] = field(default_factory=frozenset, repr=False)

    def describe(self) -> str:
        if self.action == "attach":
            what = f"Would attach to the refresh of '{self.dataset_name}' already running ({self.running_request_id})."
        else:
            what = f"Would start a refresh of '{self.dataset_name}' with {dict(self.request_body or {})}."
        return f"{what}\nBudget: {self.budget.describe()}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "dataset_id": self.dataset_id,
            "dataset_name": self.dataset_name,
            "action": self.action,
            "running_request_id": self.running_request_id,
            "request_body": dict(self.request_body) if self.request_body is not None else None,
            "budget": self.budget.to_dict(),
        }


@dataclass(frozen=True)
class RefreshResult:
    """How a refresh ended (or stood, without --wait); `exit_code` separates success, failure and timeout."""

    workspace_id: str
    dataset_id: str
    dataset_name: str
    action: Literal["started", "attached"]
    outcome: Outcome
    status: str  # Power BI's: Unknown, Completed, Failed, Disabled, Cancelled
    request_id: str | None
    refresh_type: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    waited_seconds: float
    failure: RefreshFailure | None
    budget: RefreshBudget

    @property
    def exit_code(self) -> int:
        if self.outcome in ("completed", "running"):
            return EXIT_OK
        return EXIT_TIMED_OUT if self.outcome == "timed_out" else EXIT_FAILED

    def describe(self) -> str:
        verb = "Started" if self.action == "started" else "Attached to"
        head = (
            f"{verb} the refresh of '{self.dataset_name}' ({self.request_id or 'request id not known yet'})"
        )
        endings = {
            "completed": f"completed at {iso_time(self.end_time)}",
            "running": "still running (not waiting: pass --wait to wait for it)",
            "timed_out": f"still running after {self.waited_seconds:.0f} s: stopped waiting (the refresh goes on)",
        }
        ending = (
            endings.get(self.outcome)
            or f"{self.status.lower()}: {self.failure.describe() if self.failure else ''}"
        )
        return f"{head}: {ending}.\nBudget: {self.budget.describe()}."

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "dataset_id": self.dataset_id,
            "dataset_name": self.dataset_name,
            "action": self.action,
            "outcome": self.outcome,
            "status": self.status,
            "request_id": self.request_id,
            "refresh_type": self.refresh_type,
            "start_time": iso_time(self.start_time),
            "end_time": iso_time(self.end_time),
            "waited_seconds": self.waited_seconds,
            "failure": self.failure.to_dict() if self.failure else None,
            "budget": self.budget.to_dict(),
            "exit_code": self.exit_code,
        }


def plan_refresh(
    client: RefreshClient, dataset_name: str, *, now: dt.datetime, enhanced: Mapping[str, Any] | None = None
) -> RefreshPlan:
    """Read the workspace, the dataset and its history; refuse what the service would refuse, with the reason."""
    group = client.get_group()
    dataset = _refreshable(client, dataset_name)
    if enhanced and not group.is_on_dedicated_capacity:
        raise RefreshError(
            f"enhanced refresh options ({', '.join(sorted(enhanced))}) need Premium capacity; workspace "
            f"'{group.name}' is on shared capacity",
            hint="leave out --type/--commit-mode/--table for a standard refresh, or move the workspace to Premium",
        )
    history = client.refresh_history(dataset.id)
    budget = refresh_budget(group, history, now)
    known = frozenset(record.request_id for record in history if record.request_id)
    running = next((record for record in history if record.is_running), None)
    if running is not None:
        return RefreshPlan(
            group.id, dataset.id, dataset.name, "attach", running.request_id, None, budget, known
        )
    if budget.remaining == 0:
        raise RefreshError(
            f"'{dataset.name}' has been refreshed {budget.used} times in the last 24 hours, the most shared "
            f"capacity allows (scheduled refreshes count too); the next refresh is allowed at "
            f"{iso_time(budget.next_allowed_at)}",
            hint="run again after that time, drop a scheduled refresh, or move the workspace to Premium",
        )
    body = dict(enhanced) if enhanced else {"notifyOption": "NoNotification"}
    return RefreshPlan(group.id, dataset.id, dataset.name, "start", None, body, budget, known)


def run_refresh(
    client: RefreshClient,
    plan: RefreshPlan,
    *,
    wait: bool,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    clock: Clock,
    sleep: Sleep,
    on_poll: Callable[[str, float], None] | None = None,
) -> RefreshResult:
    """Start (or attach), then, with `wait`, poll the history until the refresh finishes or time runs out."""
    action: Literal["started", "attached"] = "attached"
    request_id = plan.running_request_id
    budget = plan.budget
    if plan.action == "start":
        action, request_id = _start(client, plan)
        if action == "started":
            budget = budget.with_refresh_at(dt.datetime.fromtimestamp(clock(), dt.UTC))
    deadline = clock() + timeout_seconds
    slept = 0.0  # what the result reports as waited: the pauses between reads, not the reads themselves
    known = plan.known_request_ids if action == "started" and request_id is None else frozenset()
    record = _find(client, plan.dataset_id, request_id, known)
    while wait and (record is None or record.status not in FINISHED_STATUSES):
        left = deadline - clock()
        if left <= 0:
            return _result(plan, action, "timed_out", record, request_id, slept, budget)
        pause = min(poll_seconds, left)
        sleep(pause)
        slept += pause
        record = _find(client, plan.dataset_id, request_id, known)
        if on_poll is not None:
            on_poll(record.status if record is not None else "not in the history yet", slept)
    if record is None or record.status not in FINISHED_STATUSES:
        return _result(plan, action, "running", record, request_id, slept, budget)
    outcome = FINISHED_OUTCOMES.get(record.status, "failed")
    return _result(plan, action, outcome, record, request_id, slept, budget)


def _refreshable(client: RefreshClient, dataset_name: str) -> DatasetInfo:
    dataset = client.dataset_by_name(dataset_name)
    if dataset is None:
        names = ", ".join(sorted(d.name for d in client.datasets())) or "none"
        raise RefreshError(
            f"no dataset named '{dataset_name}' in workspace {client.workspace_id} (datasets there: {names})",
            hint="check --dataset against the names in the workspace; names match exactly",
        )
    if not dataset.is_refreshable:
        kind = (
            "a push dataset: `cetk publish` updates it" if dataset.add_rows_api_enabled else "not refreshable"
        )
        raise RefreshError(
            f"dataset '{dataset.name}' cannot be refreshed ({kind})",
            hint="refresh mode is for an import-mode model that reads the lists itself (docs/refresh.md)",
        )
    return dataset


def _start(client: RefreshClient, plan: RefreshPlan) -> tuple[Literal["started", "attached"], str | None]:
    """Start the refresh (a standard one gets no request id), or attach when Power BI says one is running."""
    body = dict(plan.request_body or {})
    enhanced = None if set(body) == {"notifyOption"} else body
    try:
        return "started", client.refresh(plan.dataset_id, enhanced=enhanced)
    except RequestRefusedError as refused:
        if refused.service_code == DAILY_LIMIT_CODE:
            raise RefreshError(
                f"Power BI refused the refresh of '{plan.dataset_name}': more than "
                f"{REFRESHES_PER_DAY_SHARED} refreshes in 24 hours ({refused.message})",
                hint="wait for the oldest refresh of the last 24 hours to expire, or move the workspace to Premium",
            ) from refused
        running = _running_id(client, plan) if refused.status in BUSY_STATUSES else None
        if running is not None:
            return "attached", running
        raise RefreshError(
            f"Power BI refused the refresh of '{plan.dataset_name}': {refused.message}", hint=refused.hint
        ) from refused


def _running_id(client: RefreshClient, plan: RefreshPlan) -> str | None:
    running = next((r for r in client.refresh_history(plan.dataset_id) if r.is_running), None)
    return running.request_id if running is not None else None


def _find(
    client: RefreshClient, dataset_id: str, request_id: str | None, known: frozenset[str]
) -> RefreshRecord | None:
    """Ours in the history: by request id, or (a standard refresh) the newest one that was not there before."""
    for record in client.refresh_history(dataset_id):
        if request_id is not None and record.request_id == request_id:
            return record
        if request_id is None and record.request_id not in known:
            return record
    return None


def _result(
    plan: RefreshPlan,
    action: Literal["started", "attached"],
    outcome: Outcome,
    record: RefreshRecord | None,
    request_id: str | None,
    waited: float,
    budget: RefreshBudget,
) -> RefreshResult:
    failure = None
    if record is not None and outcome in ("failed", "disabled", "cancelled"):
        texts = [record.service_exception_json, *(a.service_exception_json for a in record.attempts)]
        failure = decode_failure(record.status, texts)
    return RefreshResult(
        workspace_id=plan.workspace_id,
        dataset_id=plan.dataset_id,
        dataset_name=plan.dataset_name,
        action=action,
        outcome=outcome,
        status=record.status if record is not None else "Unknown",
        request_id=(record.request_id if record is not None else None) or request_id,
        refresh_type=record.refresh_type if record is not None else None,
        start_time=record.start_time if record is not None else None,
        end_time=record.end_time if record is not None else None,
        waited_seconds=round(waited, 3),
        failure=failure,
        budget=budget,
    )
