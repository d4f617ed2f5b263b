"""Retries through the real urllib3 path: the HTTPS emulator, real sockets, MSAL tokens, an injected sleep.

Covers Retry-After in seconds and as an HTTP-date, the cap, a POST resent after 429 only (R7), no resend of a
write after a 5xx, a dropped connection or a timeout, back-off after 503s (R4) and a 429 storm on a paged read (R3).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from connectors.http import build_session, iter_pages, send
from emulator.build import EmulatorOptions
from emulator.testing import FaultPlan, RunningEmulator
from errors import ConnectorError, ThrottledError
from tests.connectors.conftest import (
    CLIENT_ID,
    USER_AGENT,
    AppCertificate,
    ManualTime,
    StartEmulator,
    Waits,
    certificate_sign_in,
    seed_list,
    service_session,
)

ROWS_PATH = r"/tables/[^/]+/rows$"
EVENTS = [{"name": "Events", "columns": [{"name": "n", "dataType": "Int64"}]}]


class HttpDateRetryAfter:
    """Wraps a FaultPlan so throttled answers give Retry-After as an HTTP-date on the emulator clock."""

    def __init__(self, plan: FaultPlan, clock: ManualTime) -> None:
        self.plan, self.clock = plan, clock

    def before(self, service: Any, request: Any, now: datetime) -> Any:
        response = self.plan.before(service, request, now)
        if response is not None and "Retry-After" in response.headers:
            moment = now + timedelta(seconds=int(response.headers["Retry-After"]))
            response.headers["Retry-After"] = format_datetime(moment, usegmt=True)
        return response

    def after(self, service: Any, request: Any, response: Any) -> Any:
        return self.plan.after(service, request, response)


def wait_until(predicate: Callable[[], bool]) -> None:
    """Synchronise with the emulator's handler thread (not a timing assertion)."""
    for _ in range(500):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("the emulator never reached the expected state")


def requests_to(emu: RunningEmulator, method: str, path_end: str) -> list[Any]:
    return [r for r in emu.emulator.request_log if r.method == method and r.path.endswith(path_end)]


@pytest.fixture
def pbi(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> Callable[..., tuple[RunningEmulator, Any, str]]:
    """An emulator with a fault plan, a Power BI session signed in by certificate, and a workspace URL."""

    def make(faults: Any = None, **policy: Any) -> tuple[RunningEmulator, Any, str]:
        emu = start_emulator(faults)
        sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
        session = service_session(sign_in, "powerbi", emu, clock, waits, **policy)
        group = emu.powerbi.create_group("Community Engagement", members={CLIENT_ID: "Contributor"})
        return emu, session, emu.url("powerbi", f"/v1.0/myorg/groups/{group}")

    return make


def push_dataset(session: Any, workspace: str) -> str:
    body = {"name": "CCR", "defaultMode": "Push", "tables": EVENTS}
    dataset_id: str = send(session, "POST", f"{workspace}/datasets", json=body).json()["id"]
    return f"{workspace}/datasets/{dataset_id}"


def stored_rows(emu: RunningEmulator, dataset_url: str) -> list[int]:
    group, dataset = dataset_url.split("/groups/")[1].split("/datasets/")
    return [row["n"] for row in emu.powerbi.rows(group, dataset, "Events")]


def throttle(
    sequence: list[int], retry_after: int, method: str = "GET", path: str = "/groups$"
) -> dict[str, Any]:
    rule = {"service": "powerbi", "method": method, "path": path}
    return {"rules": [{**rule, "throttle": {"sequence": sequence, "retry_after": retry_after}}]}


def test_retry_after_in_seconds_is_waited_before_a_get_is_resent(pbi: Any, waits: Waits) -> None:
    emu, session, _ = pbi(throttle([429, 429], 7))

    response = send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert response.status_code == 200
    assert waits.seconds == [7.0, 7.0]
    assert [r.status for r in requests_to(emu, "GET", "/groups")] == [429, 429, 200]
    assert (session.stats.requests, session.stats.retries, session.stats.retry_wait_seconds) == (1, 2, 14.0)


def test_retry_after_as_an_http_date_is_waited_until_that_moment(
    pbi: Any, waits: Waits, clock: ManualTime
) -> None:
    emu, session, _ = pbi(HttpDateRetryAfter(FaultPlan.from_dict(throttle([429], 12)), clock))

    response = send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert response.status_code == 200
    assert waits.seconds == [12.0]
    first, second = requests_to(emu, "GET", "/groups")
    assert (second.at - first.at).total_seconds() == 12.0


@pytest.mark.parametrize("as_http_date", [False, True], ids=["seconds", "http-date"])
def test_retry_after_over_the_cap_is_not_slept_but_raised_with_the_wait(
    pbi: Any, waits: Waits, clock: ManualTime, as_http_date: bool
) -> None:
    plan = FaultPlan.from_dict(throttle([429], 3600))
    emu, session, _ = pbi(HttpDateRetryAfter(plan, clock) if as_http_date else plan)

    with pytest.raises(ThrottledError) as caught:
        send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert caught.value.retry_after_seconds == 3600.0
    assert caught.value.status == 429
    assert "asks to wait 3600 s" in str(caught.value)
    assert waits.seconds == []
    assert len(requests_to(emu, "GET", "/groups")) == 1


def test_retry_after_at_the_cap_is_honoured(pbi: Any, waits: Waits) -> None:
    emu, session, _ = pbi(throttle([429], 300))

    send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert waits.seconds == [300.0]


def test_a_lower_cap_is_a_policy_setting(pbi: Any, waits: Waits) -> None:
    emu, session, _ = pbi(throttle([429], 300), retry_after_max_seconds=120)

    with pytest.raises(ThrottledError):
        send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert waits.seconds == []


def test_r7_a_post_refused_with_429_is_resent_after_retry_after_and_stored_once(
    pbi: Any, waits: Waits
) -> None:
    emu, session, workspace = pbi(throttle([200, 200, 200, 429], 10, method="POST", path=ROWS_PATH))
    dataset = push_dataset(session, workspace)

    for chunk in range(1, 6):
        send(session, "POST", f"{dataset}/tables/Events/rows", json={"rows": [{"n": chunk}]})

    assert stored_rows(emu, dataset) == [1, 2, 3, 4, 5]
    assert [r.status for r in requests_to(emu, "POST", "/rows")] == [200, 200, 200, 429, 200, 200]
    assert waits.seconds == [10.0]


def test_a_post_answered_503_is_not_resent(pbi: Any, waits: Waits) -> None:
    rule = {"service": "powerbi", "method": "POST", "path": ROWS_PATH, "unavailable": {"sequence": [503]}}
    emu, session, workspace = pbi({"rules": [rule]})
    dataset = push_dataset(session, workspace)

    with pytest.raises(ThrottledError) as caught:
        send(session, "POST", f"{dataset}/tables/Events/rows", json={"rows": [{"n": 1}]})

    assert caught.value.status == 503
    assert "may have applied it" in caught.value.hint
    assert len(requests_to(emu, "POST", "/rows")) == 1
    assert waits.seconds == []


def test_a_post_whose_connection_drops_after_commit_is_not_resent(pbi: Any, waits: Waits) -> None:
    rule = {"service": "powerbi", "method": "POST", "path": ROWS_PATH, "drop_after_commit": True}
    emu, session, workspace = pbi({"rules": [rule]})
    dataset = push_dataset(session, workspace)

    with pytest.raises(ConnectorError) as caught:
        send(session, "POST", f"{dataset}/tables/Events/rows", json={"rows": [{"n": 1}]})

    assert caught.value.status is None
    assert "may have applied it" in caught.value.hint
    assert len(requests_to(emu, "POST", "/rows")) == 1
    assert stored_rows(emu, dataset) == [1]  # the ambiguous commit: applied, unanswered, not duplicated
    assert waits.seconds == []


def test_a_post_that_times_out_is_not_resent(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    session = build_session(
        sign_in.token_provider("powerbi"),
        user_agent=USER_AGENT,
        ca_bundle=emu.ca_file,
        sleep=waits,
        clock=clock.time,
        timeout=(5.0, 0.2),
    )
    dataset = push_dataset(
        session,
        emu.url(
            "powerbi",
            f"/v1.0/myorg/groups/{emu.powerbi.create_group('CE', members={CLIENT_ID: 'Contributor'})}",
        ),
    )
    release = threading.Event()
    emu.powerbi.rows_hook = lambda: release.wait(10)  # the service is slow to commit

    with pytest.raises(ConnectorError) as caught:
        send(session, "POST", f"{dataset}/tables/Events/rows", json={"rows": [{"n": 1}]})
    release.set()
    wait_until(lambda: stored_rows(emu, dataset) == [1])

    assert "timed out" in str(caught.value)
    assert "may have applied it" in caught.value.hint
    wait_until(lambda: len(requests_to(emu, "POST", "/rows")) == 1)
    assert len(requests_to(emu, "POST", "/rows")) == 1
    assert waits.seconds == []


def test_a_get_that_times_out_is_resent_after_a_back_off(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    release = threading.Event()
    blocked: list[float] = []

    def slow_first_answer(seconds: float) -> None:
        if not blocked:
            blocked.append(seconds)
            release.wait(10)

    rule = {"service": "powerbi", "method": "GET", "path": "/groups$", "latency_ms": 1}
    emu = start_emulator(FaultPlan.from_dict({"rules": [rule]}, sleep=slow_first_answer))
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    session = build_session(
        sign_in.token_provider("powerbi"),
        user_agent=USER_AGENT,
        ca_bundle=emu.ca_file,
        sleep=waits,
        clock=clock.time,
        jitter=lambda: 0.0,
        timeout=(5.0, 0.2),
    )

    response = send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))
    release.set()

    assert response.status_code == 200
    assert waits.seconds == [1.0]
    wait_until(lambda: len(requests_to(emu, "GET", "/groups")) == 2)


@pytest.mark.parametrize(
    ("jitter", "expected"),
    [
        (0.0, [1.0, 2.0, 4.0, 8.0, 16.0]),
        (0.5, [1.25, 2.5, 5.0, 10.0, 20.0]),
        (0.999, [1.4995, 2.999, 5.998, 11.996, 23.992]),
    ],
)
def test_r4_six_503s_back_off_exponentially_then_raise_a_typed_error(
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    clock: ManualTime,
    waits: Waits,
    jitter: float,
    expected: list[float],
) -> None:
    rule = {"service": "powerbi", "method": "GET", "path": "/groups$", "unavailable": {"sequence": [503] * 6}}
    emu = start_emulator({"rules": [rule]})
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    session = build_session(
        sign_in.token_provider("powerbi"),
        user_agent=USER_AGENT,
        ca_bundle=emu.ca_file,
        sleep=waits,
        clock=clock.time,
        jitter=lambda: jitter,
    )

    with pytest.raises(ThrottledError) as caught:
        send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert caught.value.status == 503 and caught.value.service_code == "serviceNotAvailable"
    assert caught.value.retry_after_seconds is None
    assert waits.seconds == pytest.approx(expected)
    assert [r.status for r in requests_to(emu, "GET", "/groups")] == [503] * 6  # max 6 attempts
    assert session.stats.retries == 5


def test_r4_back_off_is_capped(start_emulator: StartEmulator, clock: ManualTime, waits: Waits) -> None:
    rule = {"service": "powerbi", "method": "GET", "path": "/groups$", "unavailable": {"sequence": [503] * 9}}
    emu = start_emulator({"rules": [rule]}, options=EmulatorOptions(require_auth=False))
    session = service_session(None, "powerbi", emu, clock, waits, max_attempts=10)

    send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups"))

    assert waits.seconds == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_r3_429_storm_on_a_paged_read(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    # 12,345 items in pages of 200 (62 pages); the first 5 calls and then every 3rd call get 429, Retry-After 2.
    storm = [429] * 5 + [200, 200, 429] * 60
    rule = {
        "service": "graph",
        "method": "GET",
        "path": "/items$",
        "throttle": {"sequence": storm, "retry_after": 2},
    }
    emu = start_emulator({"rules": [rule]})
    items_url = seed_list(emu, 12_345)
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    session = service_session(sign_in, "graph", emu, clock, waits)
    started = clock.now()

    ids = [item["id"] for page in iter_pages(session, items_url, {"$top": "200"}) for item in page.items]

    log = requests_to(emu, "GET", "/items")
    throttled = sum(1 for record in log if record.status == 429)
    assert ids == [str(number) for number in range(1, 12_346)]  # every item, once, in order
    assert sum(1 for record in log if record.status == 200) == 62
    assert session.stats.retries == throttled <= 40
    assert waits.seconds == [2.0] * throttled
    assert (clock.now() - started).total_seconds() >= 2 * throttled
    for answer, following in zip(log, log[1:], strict=False):
        if answer.status == 429:  # no request earlier than Retry-After
            assert (following.at - answer.at).total_seconds() >= 2
