"""A resource-unit budget per fixed time window, as SharePoint/Graph throttle apps and Dev Proxy emulates.

Defaults are Dev Proxy RateLimitingPlugin's (costPerRequest 2, rateLimit 120, resetTimeWindowSeconds 60,
warningThresholdPercent 80); reliability-security.md §2-3 and microsoft-apis.md §2.7 describe the headers.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

DEFAULT_COST_PER_REQUEST = 2
DEFAULT_RATE_LIMIT = 120
DEFAULT_RESET_WINDOW_SECONDS = 60
DEFAULT_WARNING_THRESHOLD_PERCENT = 80


@dataclass(frozen=True)
class BudgetDecision:
    throttled: bool
    headers: dict[str, str]  # RateLimit-* (and Retry-After when throttled); empty below the warning level


@dataclass
class ResourceBudget:
    """Charges each request's RU cost to the current window; a request that would exceed it is refused."""

    services: frozenset[str] = frozenset({"graph", "sharepoint"})
    rate_limit: int = DEFAULT_RATE_LIMIT
    reset_window_seconds: int = DEFAULT_RESET_WINDOW_SECONDS
    warning_threshold_percent: int = DEFAULT_WARNING_THRESHOLD_PERCENT
    cost_per_request: int = DEFAULT_COST_PER_REQUEST  # when the service's resource_units() gives None
    _window_start: datetime | None = None
    _used: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def charge(self, cost: int, now: datetime) -> BudgetDecision:
        with self._lock:
            window = timedelta(seconds=self.reset_window_seconds)
            if self._window_start is None or now >= self._window_start + window:
                self._window_start, self._used = now, 0
            reset_seconds = max(1, math.ceil((self._window_start + window - now).total_seconds()))
            if self._used + cost > self.rate_limit:
                # Refused requests are not charged, so the window frees exactly at its reset time.
                headers = self._headers(0, reset_seconds)
                return BudgetDecision(True, {"Retry-After": str(reset_seconds), **headers})
            self._used += cost
            remaining = self.rate_limit - self._used
            if self._used * 100 >= self.rate_limit * self.warning_threshold_percent:
                return BudgetDecision(False, self._headers(remaining, reset_seconds))
            return BudgetDecision(False, {})

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    def _headers(self, remaining: int, reset_seconds: int) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(reset_seconds),
        }
