"""The daily refresh budget, counted from a dataset's refresh history.

On shared capacity Power BI allows 8 refresh requests in 24 hours, "including refreshes executed by using
scheduled refresh" (the swagger's RefreshDatasetInGroup); on Premium only capacity resources limit them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from powerbi_dataset.workspace import Group, RefreshRecord

DAY = dt.timedelta(hours=24)
REFRESHES_PER_DAY_SHARED = 8
# What counts towards the 8: scheduled and API refreshes ("including refreshes executed by using scheduled
# refresh", swagger). A person's "Refresh now" in the service is left out (UNCONFIRMED; the service's own 400
# still stops a ninth).
COUNTED_REFRESH_TYPES = frozenset({"Scheduled", "ViaApi", "ViaEnhancedApi", "ViaXmlaEndpoint"})


def iso_time(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if moment else None


@dataclass(frozen=True)
class RefreshBudget:
    """Refreshes counted in the last 24 hours against the capacity's limit (None: Premium, unlimited)."""

    capacity: Literal["shared", "premium"]
    limit: int | None
    used: int
    next_allowed_at: dt.datetime | None  # when the limit is reached: when the oldest counted one expires
    counted_starts: tuple[dt.datetime, ...] = field(default=(), repr=False, compare=False)

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.used)

    def describe(self) -> str:
        if self.limit is None:
            return "Premium capacity: no daily refresh limit"
        text = f"{self.remaining} of {self.limit} refreshes left in the last 24 hours (shared capacity)"
        return text + (
            f"; the next is allowed at {iso_time(self.next_allowed_at)}" if self.next_allowed_at else ""
        )

    def with_refresh_at(self, started: dt.datetime) -> RefreshBudget:
        """The budget once a refresh started at `started` counts too."""
        if self.limit is None:
            return self
        return _shared((*self.counted_starts, started), self.limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "next_allowed_at": iso_time(self.next_allowed_at),
        }


def refresh_budget(group: Group, history: Sequence[RefreshRecord], now: dt.datetime) -> RefreshBudget:
    """The daily budget from the history: refreshes of the counted types started in the last 24 hours."""
    if group.is_on_dedicated_capacity:
        return RefreshBudget("premium", None, 0, None)
    starts = [
        record.start_time
        for record in history
        if record.start_time is not None
        and record.start_time > now - DAY
        and (record.refresh_type or "") in COUNTED_REFRESH_TYPES
    ]
    return _shared(starts, REFRESHES_PER_DAY_SHARED)


def _shared(starts: Sequence[dt.datetime], limit: int) -> RefreshBudget:
    ordered = tuple(sorted(starts))
    next_allowed = ordered[len(ordered) - limit] + DAY if len(ordered) >= limit else None
    return RefreshBudget("shared", limit, len(ordered), next_allowed, ordered)
