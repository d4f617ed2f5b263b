"""R5: a session reads RateLimit-* headers and slows down before the resource-unit budget runs out."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.http import iter_pages
from connectors.retry import BudgetPacer, RequestStats, RetryPolicy
from tests.connectors.conftest import (
    AppCertificate,
    ManualTime,
    StartEmulator,
    Waits,
    certificate_sign_in,
    seed_list,
    service_session,
)


def budget(rate_limit: int) -> dict[str, Any]:
    return {
        "budget": {
            "services": ["graph"],
            "rate_limit": rate_limit,
            "reset_window_seconds": 60,
            "warning_threshold_percent": 80,
        }
    }


def most_calls_in_any_minute(moments: list[float]) -> int:
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 60:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.mark.parametrize(
    "rate_limit",
    [1200, 120],  # SharePoint's 1,200 RU a minute; Dev Proxy RateLimitingPlugin's defaults (120, 60 s, 80 %)
)
def test_r5_paged_read_keeps_under_the_budget_without_any_429(
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    clock: ManualTime,
    waits: Waits,
    rate_limit: int,
) -> None:
    calls_per_minute = rate_limit // 2  # a page of list items costs 2 RU
    pages = calls_per_minute * 6 // 5  # into a second window, past its 80 % mark for the small budget
    emu = start_emulator(budget(rate_limit))
    items_url = seed_list(emu, pages)
    session = service_session(
        certificate_sign_in(emu, app_certificate, clock, waits), "graph", emu, clock, waits
    )

    read = sum(len(page.items) for page in iter_pages(session, items_url, {"$top": "1"}))

    log = [r for r in emu.emulator.request_log if r.service == "graph"]
    assert read == pages
    assert [r.status for r in log].count(429) == 0
    assert most_calls_in_any_minute([r.at.timestamp() for r in log]) <= calls_per_minute
    assert session.stats.pacing_wait_seconds > 0 and session.stats.retries == 0


def test_r5_control_without_pacing_on_the_remaining_budget_the_same_read_is_throttled(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator(budget(120))
    items_url = seed_list(emu, 72)
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    session = service_session(sign_in, "graph", emu, clock, waits, pace_below_remaining_ratio=0.0)

    read = sum(len(page.items) for page in iter_pages(session, items_url, {"$top": "1"}))

    assert read == 72  # still complete: the 429s were waited out
    assert [r.status for r in emu.emulator.request_log if r.service == "graph"].count(429) > 0


class Recorder:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.waits: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
    }


def pacer(recorder: Recorder) -> BudgetPacer:
    return BudgetPacer(RetryPolicy(), recorder.time, recorder.sleep, RequestStats())


def test_no_headers_no_pacing() -> None:
    recorder = Recorder()
    paced = pacer(recorder)
    for _ in range(3):
        paced.before_request()
        paced.observe({})
    assert recorder.waits == []


def test_above_twenty_percent_remaining_only_the_steady_interval_applies() -> None:
    recorder = Recorder()
    paced = pacer(recorder)
    paced.before_request()
    paced.observe(headers(1200, 240, 30))  # exactly 20 % left: not below it

    paced.before_request()

    assert recorder.waits == [pytest.approx(0.1)]  # 60 s x 2 RU / 1,200 RU


def test_under_twenty_percent_the_rest_is_spread_over_the_window() -> None:
    recorder = Recorder()
    paced = pacer(recorder)
    paced.observe(headers(1200, 240, 60))
    paced.before_request()
    paced.observe(headers(1200, 236, 60))  # this request cost 4 RU: 59 more calls fit in 60 s

    paced.before_request()

    assert recorder.waits[-1] == pytest.approx(60 / 59)


def test_budget_spent_waits_for_the_reset() -> None:
    recorder = Recorder()
    paced = pacer(recorder)
    paced.observe(headers(1200, 1, 31))

    paced.before_request()

    assert recorder.waits == [31.0]
