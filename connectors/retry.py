"""When a request is sent again and how long cetk waits first: Microsoft's throttling rules on urllib3's Retry.

GETs are resent after 429, 5xx and transport errors; writes only after 429, the one answer that says the
service did not act. Waits honour Retry-After (seconds or HTTP-date) up to a cap, else back off exponentially
with jitter, and RateLimit-* headers slow a session down before its budget runs out. Every wait goes through
an injected sleep and clock, so tests assert waits without sleeping.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from itertools import takewhile
from types import TracebackType
from typing import Any

from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from connectors.redaction import redact_url

Sleep = Callable[[float], None]
Clock = Callable[[], float]  # seconds since the epoch, as time.time
Jitter = Callable[[], float]  # uniform in [0, 1), as random.random

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
DEFAULT_REQUEST_COST_RU = 2  # a multi-item read or a write; learnt from RateLimit-Remaining once it moves
_DELAY_SECONDS = re.compile(r"\d+(\.\d+)?")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """Limits for resending; defaults are reliability-security.md R3-R5 and Microsoft's throttling guidance."""

    max_attempts: int = 6  # the first try and five resends (R4)
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    backoff_jitter_ratio: float = (
        0.5  # each back-off is stretched by up to half, so clients do not resend in step
    )
    retry_after_max_seconds: float = 300.0  # SharePoint has asked for ~300 s; longer is the caller's decision
    pace_below_remaining_ratio: float = (
        0.2  # spread the budget out once under 20 % of RateLimit-Limit is left
    )
    rate_limit_window_seconds: float = 60.0  # SharePoint and Graph budgets are per minute

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or min(self.backoff_base_seconds, self.retry_after_max_seconds) < 0:
            raise ValueError("RetryPolicy needs max_attempts >= 1 and non-negative waits")

    def backoff_seconds(self, consecutive_failures: int, jitter: float) -> float:
        """base x 2^(n-1), stretched by jitter, never over the cap."""
        delay = self.backoff_base_seconds * 2.0 ** max(0, consecutive_failures - 1)
        return min(self.backoff_max_seconds, delay * (1 + self.backoff_jitter_ratio * jitter))


@dataclass
class RequestStats:
    """What a session did, for the run ledger: requests made, resends (on the wire: both), time spent waiting."""

    requests: int = 0
    retries: int = 0
    retry_wait_seconds: float = 0.0
    pacing_wait_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **amounts: float) -> None:
        with self._lock:
            for name, amount in amounts.items():
                setattr(self, name, getattr(self, name) + amount)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def throttle_wait_seconds(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a throttled answer asks for: the larger of Retry-After and RateLimit-Reset (SharePoint guidance)."""
    waits = [
        seconds
        for seconds in (
            parse_retry_after(headers.get("Retry-After"), now),
            _number(headers.get("RateLimit-Reset")),
        )
        if seconds is not None
    ]
    return max(waits) if waits else None


class BudgetPacer:
    """Slows a session down before a 429 by reading RateLimit-Limit/-Remaining/-Reset (R5).

    Once under `pace_below_remaining_ratio` of the limit, the calls the remaining units allow are spread
    over the time left in the window; after the headers were seen once, calls keep at least the steady
    interval limit/cost allows, so a fresh window does not start with a burst.
    """

    def __init__(self, policy: RetryPolicy, clock: Clock, sleep: Sleep, stats: RequestStats) -> None:
        self._policy, self._clock, self._sleep, self._stats = policy, clock, sleep, stats
        self._lock = threading.Lock()
        self._limit = self._remaining = 0.0
        self._reset_at: float | None = None  # None: no RateLimit headers in the current window
        self._cost = float(DEFAULT_REQUEST_COST_RU)
        self._steady_interval = 0.0
        self._last_sent: float | None = None

    def before_request(self) -> None:
        wait = self.delay_seconds()
        if wait > 0:
            logger.debug("resource-unit budget nearly spent: pacing, next request in %.2f s", wait)
            self._sleep(wait)
            self._stats.add(pacing_wait_seconds=wait)
        with self._lock:
            self._last_sent = self._clock()

    def delay_seconds(self) -> float:
        now = self._clock()
        with self._lock:
            interval = self._steady_interval
            in_window = self._reset_at is not None and now < self._reset_at
            if in_window and self._remaining < self._policy.pace_below_remaining_ratio * self._limit:
                assert self._reset_at is not None
                calls_left = int(self._remaining // self._cost)
                if calls_left < 1:
                    return self._reset_at - now
                interval = max(interval, (self._reset_at - now) / calls_left)
            if self._last_sent is None or interval <= 0:
                return 0.0
            return max(0.0, self._last_sent + interval - now)

    def observe(self, headers: Mapping[str, str]) -> None:
        limit, remaining, reset = (
            _number(headers.get(name))
            for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
        )
        now = self._clock()
        with self._lock:
            if limit is None or remaining is None or reset is None or limit <= 0:
                self._reset_at = None  # under the warning level, or a new window: keep only the steady pace
                return
            if self._reset_at is not None and now < self._reset_at and remaining < self._remaining:
                self._cost = self._remaining - remaining  # what the last request cost
            self._limit, self._remaining, self._reset_at = limit, remaining, now + reset
            window = max(self._policy.rate_limit_window_seconds, reset)
            self._steady_interval = window * self._cost / limit


@dataclass(frozen=True)
class RetryContext:
    """What every copy of a ServiceRetry shares: the policy, the injected sleep/clock/jitter, the counters."""

    policy: RetryPolicy
    sleep: Sleep
    clock: Clock
    jitter: Jitter
    stats: RequestStats


class ServiceRetry(Retry):
    """urllib3 Retry with cetk's rules: resend writes only after 429, cap Retry-After, inject the sleep."""

    def __init__(self, *args: Any, context: RetryContext, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    @classmethod
    def from_policy(cls, context: RetryContext) -> ServiceRetry:
        return cls(
            total=context.policy.max_attempts - 1,
            other=0,  # TLS and proxy failures do not heal by resending
            allowed_methods=IDEMPOTENT_METHODS,  # urllib3 resends after read errors only for these
            status_forcelist=RETRY_STATUSES,
            raise_on_status=False,  # the last answer goes to raise_for_error, which types it
            raise_on_redirect=False,
            context=context,
        )

    def new(self, **kw: Any) -> ServiceRetry:
        kw.setdefault("context", self.context)
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 429:  # refused unprocessed: safe to resend, whatever the method
            return True
        # A write that got a 5xx may have been applied (Power BI rows would be duplicated): never resend it.
        return method.upper() in IDEMPOTENT_METHODS and status_code in RETRY_STATUSES

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: TracebackType | None = None,
    ) -> ServiceRetry:
        if error is not None and (method is None or method.upper() not in IDEMPOTENT_METHODS):
            # Timeout, reset or refused: the write may have reached the service, so it is never resent.
            # MaxRetryError is what requests turns into its own exceptions (a bare urllib3 error escapes it).
            raise MaxRetryError(_pool, url, error) from error
        if response is not None:
            wait = throttle_wait_seconds(response.headers, self.context.clock())
            if wait is not None and wait > self.context.policy.retry_after_max_seconds:
                # Not slept blindly: the answer goes back and becomes a ThrottledError carrying the wait.
                raise MaxRetryError(_pool, url, ResponseError(f"asked to wait {wait:.0f} s, over the cap"))
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        self.context.stats.add(retries=1)
        return retry

    def sleep(self, response: Any = None) -> None:
        wait = throttle_wait_seconds(response.headers, self.context.clock()) if response is not None else None
        if wait is None:
            failures = len(list(takewhile(lambda h: h.redirect_location is None, reversed(self.history))))
            wait = self.context.policy.backoff_seconds(failures, self.context.jitter())
        last = self.history[-1] if self.history else None
        if last is not None:
            outcome = str(last.status) if last.status else type(last.error).__name__
            logger.info(
                "%s %s answered %s; resending in %.1f s (attempt %d of %d)",
                last.method,
                redact_url(last.url or ""),
                outcome,
                wait,
                len(self.history) + 1,
                self.context.policy.max_attempts,
            )
        if wait > 0:
            self.context.sleep(wait)
        self.context.stats.add(retry_wait_seconds=wait)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    text = value.strip()
    return float(text) if _DELAY_SECONDS.fullmatch(text) else None
