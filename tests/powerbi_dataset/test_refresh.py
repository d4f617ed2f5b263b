"""powerbi_dataset/refresh.py against the HTTPS emulator on the test clock: start, attach to a refresh already
running, wait with the injected sleep, decode failures, time out, and keep to 8 refreshes a day on shared
capacity. No test sleeps: the sleep advances the clock both sides read."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from errors import RefreshError
from powerbi_dataset.refresh import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_TIMED_OUT,
    RefreshBudget,
    plan_refresh,
    run_refresh,
)
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import Workspace, open_workspace, swagger_validator

HOUR = 3600.0
CREDENTIALS = "ModelRefreshFailed_CredentialsNotSpecified"


def workspace(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, **kwargs: Any
) -> tuple[Workspace, str]:
    space = open_workspace(start_emulator, clock, waits, **kwargs)
    dataset_id = space.emu.powerbi.add_import_dataset(space.group, "Survey model")
    return space, dataset_id


def refresh(space: Workspace, clock: ManualTime, waits: Waits, **options: Any) -> Any:
    enhanced = options.pop("enhanced", None)
    plan = plan_refresh(space.client, "Survey model", now=clock.now(), enhanced=enhanced)
    return run_refresh(space.client, plan, clock=clock.time, sleep=waits, **{"wait": True, **options})


def refresh_posts(space: Workspace) -> list[Any]:
    return space.posts("/refreshes")


def test_a_refresh_is_started_and_waited_for_until_completed(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, powerbi_swagger: dict[str, Any]
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits)
    started_at = clock.now()

    result = refresh(space, clock, waits, poll_seconds=30)

    assert (result.action, result.outcome, result.status, result.exit_code) == (
        "started",
        "completed",
        "Completed",
        EXIT_OK,
    )
    assert waits.seconds == [30.0, 30.0]  # the emulated refresh takes 60 s
    assert result.start_time == started_at and result.end_time == started_at + dt.timedelta(seconds=60)
    assert result.request_id == space.emu.powerbi.refresh_history(space.group, dataset_id)[0]["requestId"]
    assert result.waited_seconds == 60.0 and result.failure is None
    assert result.budget.to_dict() == {
        "capacity": "shared",
        "limit": 8,
        "used": 1,
        "remaining": 7,
        "next_allowed_at": None,
    }
    (body,) = [b for _, path, b in space.bodies.sent if path.endswith("/refreshes")]
    assert body == {"notifyOption": "NoNotification"}  # no mail: a service principal may not ask for any
    swagger_validator(powerbi_swagger)("DatasetRefreshRequest", body)


def test_without_wait_it_starts_and_returns_at_once(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, _ = workspace(start_emulator, clock, waits)

    result = refresh(space, clock, waits, wait=False)

    assert (result.outcome, result.status, result.exit_code) == ("running", "Unknown", EXIT_OK)
    assert result.request_id and waits.seconds == []


def test_a_refresh_already_running_in_the_history_is_attached_to_not_started_again(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits)
    scheduled = space.emu.powerbi.record_refresh(
        space.group, dataset_id, started=clock.now() - dt.timedelta(seconds=10), refresh_type="Scheduled"
    )

    plan = plan_refresh(space.client, "Survey model", now=clock.now())
    result = run_refresh(space.client, plan, wait=True, poll_seconds=30, clock=clock.time, sleep=waits)

    assert (plan.action, plan.running_request_id) == ("attach", scheduled)
    assert (result.action, result.request_id, result.outcome) == ("attached", scheduled, "completed")
    assert refresh_posts(space) == []  # nothing was asked of Power BI but the history
    assert waits.seconds == [30.0, 30.0]
    assert result.refresh_type == "Scheduled"


@pytest.mark.parametrize("conflict_status", [400, 409])
def test_a_one_at_a_time_refusal_attaches_to_the_refresh_that_started_meanwhile(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, conflict_status: int
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits, refresh_conflict_status=conflict_status)
    plan = plan_refresh(space.client, "Survey model", now=clock.now())
    meanwhile = space.emu.powerbi.record_refresh(
        space.group, dataset_id, started=clock.now()
    )  # the scheduler

    result = run_refresh(space.client, plan, wait=True, poll_seconds=60, clock=clock.time, sleep=waits)

    assert plan.action == "start"
    assert [r.status for r in refresh_posts(space)] == [conflict_status]
    assert (result.action, result.request_id, result.outcome) == ("attached", meanwhile, "completed")
    assert result.budget.used == 0  # the refused request counts for nothing


def test_a_failed_refresh_is_decoded_into_the_code_and_the_likely_fix(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits)
    space.emu.powerbi.fail_next_refresh(space.group, dataset_id, CREDENTIALS)

    result = refresh(space, clock, waits, poll_seconds=60)

    assert (result.outcome, result.status, result.exit_code) == ("failed", "Failed", EXIT_FAILED)
    assert result.failure is not None and result.failure.code == CREDENTIALS
    assert "Data source credentials" in result.failure.fix
    assert CREDENTIALS in result.describe() and "Likely fix" in result.describe()
    assert result.to_dict()["failure"]["code"] == CREDENTIALS


def test_waiting_past_the_timeout_ends_with_the_timeout_exit_code(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits, refresh_duration_seconds=HOUR)

    result = refresh(space, clock, waits, timeout_seconds=45, poll_seconds=30)

    assert (result.outcome, result.status, result.exit_code) == ("timed_out", "Unknown", EXIT_TIMED_OUT)
    assert waits.seconds == [30.0, 15.0] and result.waited_seconds == 45.0
    assert result.request_id and result.end_time is None
    assert space.emu.powerbi.refresh_history(space.group, dataset_id)[0]["status"] == "Unknown"  # it goes on


def test_a_timeout_of_zero_reads_the_history_once_and_never_sleeps(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, _ = workspace(start_emulator, clock, waits)
    result = refresh(space, clock, waits, timeout_seconds=0)
    assert result.exit_code == EXIT_TIMED_OUT and waits.seconds == []


def seed_day(
    space: Workspace, dataset_id: str, now: dt.datetime, hours_ago: list[float], kind: str = "ViaApi"
) -> None:
    for hours in hours_ago:
        started = now - dt.timedelta(hours=hours)
        space.emu.powerbi.record_refresh(space.group, dataset_id, started=started, refresh_type=kind)


def test_eight_in_the_last_24_hours_on_shared_capacity_are_refused_with_the_next_allowed_time(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits)
    now = clock.now()
    seed_day(space, dataset_id, now, [23, 20, 16], kind="Scheduled")  # scheduled ones count
    seed_day(space, dataset_id, now, [12, 8, 6, 4, 2])
    seed_day(space, dataset_id, now, [1], kind="OnDemand")  # a person's "Refresh now" does not

    with pytest.raises(RefreshError) as caught:
        plan_refresh(space.client, "Survey model", now=now)

    oldest_expires = now + dt.timedelta(hours=1)  # the one 23 hours old leaves the 24 hours in an hour
    message = str(caught.value)
    assert "8 times in the last 24 hours" in message
    assert f"allowed at {oldest_expires.isoformat().replace('+00:00', 'Z')}" in message
    assert refresh_posts(space) == []


def test_a_refresh_expiring_at_24_hours_frees_the_next_one(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits)
    seeded_at = clock.now()
    seed_day(space, dataset_id, seeded_at, [23, 20, 16, 12, 8, 6, 4, 2])
    clock.advance(HOUR - 1)
    with pytest.raises(RefreshError):
        plan_refresh(space.client, "Survey model", now=clock.now())  # one second early

    clock.advance(1)  # the oldest is now exactly 24 hours old: out of the window
    result = refresh(space, clock, waits, wait=False)

    assert result.action == "started"
    assert [r.status for r in refresh_posts(space)] == [202]  # and Power BI agrees
    assert result.budget.used == 8 and result.budget.remaining == 0
    # the one 20 hours old when seeded is now the oldest counted: the next is allowed when it expires
    assert result.budget.next_allowed_at == seeded_at + dt.timedelta(hours=4)


def test_premium_capacity_has_no_daily_budget(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits, capacity="premium")
    seed_day(space, dataset_id, clock.now(), [float(hour) for hour in range(1, 13)])

    plan = plan_refresh(space.client, "Survey model", now=clock.now())

    assert plan.action == "start"
    assert plan.budget == RefreshBudget("premium", None, 0, None)
    assert "no daily refresh limit" in plan.describe()


def test_the_service_daily_limit_is_reported_as_the_budget_when_cetk_counted_fewer(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    counts_everything = frozenset({"Scheduled", "ViaApi", "OnDemand"})
    space, dataset_id = workspace(start_emulator, clock, waits, refresh_limit_types=counts_everything)
    seed_day(space, dataset_id, clock.now(), [7, 6, 5, 4, 3, 2, 1, 0.5], kind="OnDemand")

    with pytest.raises(RefreshError) as caught:
        refresh(space, clock, waits)

    assert "more than 8 refreshes in 24 hours" in str(caught.value)
    assert "Premium" in caught.value.hint


def test_enhanced_options_are_refused_on_shared_capacity_before_anything_is_sent(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, _ = workspace(start_emulator, clock, waits)

    with pytest.raises(RefreshError) as caught:
        plan_refresh(space.client, "Survey model", now=clock.now(), enhanced={"type": "Full"})

    assert "need Premium capacity" in str(caught.value) and "shared capacity" in str(caught.value)
    assert refresh_posts(space) == []


def test_enhanced_options_on_premium_follow_their_request_id(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, _ = workspace(start_emulator, clock, waits, capacity="premium")

    result = refresh(
        space, clock, waits, enhanced={"type": "Full", "commitMode": "Transactional"}, poll_seconds=60
    )

    assert result.outcome == "completed" and result.refresh_type == "ViaEnhancedApi"
    (body,) = [b for _, path, b in space.bodies.sent if path.endswith("/refreshes")]
    assert body == {"type": "Full", "commitMode": "Transactional"}  # no notifyOption with enhanced refresh


def test_a_push_dataset_or_an_unknown_name_is_refused_with_the_reason(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, _ = workspace(start_emulator, clock, waits)
    space.client.create_dataset(
        {"name": "Pushed", "tables": [{"name": "T", "columns": [{"name": "n", "dataType": "Int64"}]}]}
    )

    with pytest.raises(RefreshError) as push:
        plan_refresh(space.client, "Pushed", now=clock.now())
    with pytest.raises(RefreshError) as unknown:
        plan_refresh(space.client, "Nope", now=clock.now())

    assert "a push dataset" in str(push.value) and "cetk publish" in str(push.value)
    assert "no dataset named 'Nope'" in str(unknown.value) and "Pushed, Survey model" in str(unknown.value)


def test_the_plan_says_start_or_attach_and_the_budget_left(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space, dataset_id = workspace(start_emulator, clock, waits)
    seed_day(space, dataset_id, clock.now(), [5, 3])

    start = plan_refresh(space.client, "Survey model", now=clock.now())
    running = space.emu.powerbi.record_refresh(space.group, dataset_id, started=clock.now())
    attach = plan_refresh(space.client, "Survey model", now=clock.now())

    assert start.describe() == (
        "Would start a refresh of 'Survey model' with {'notifyOption': 'NoNotification'}.\n"
        "Budget: 6 of 8 refreshes left in the last 24 hours (shared capacity)."
    )
    assert attach.to_dict()["action"] == "attach" and attach.running_request_id == running
    assert attach.budget.used == 3
    assert refresh_posts(space) == []
