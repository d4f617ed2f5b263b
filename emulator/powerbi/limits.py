"""Rate limits on POST rows per dataset: requests per minute (or per hour for large tables), rows per hour.

Numbers and the rows-per-hour message: microsoft-apis.md §1.4; the request-rate body: §1.6. Only
accepted requests count; Retry-After is the number of seconds until the window has room again.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from emulator.powerbi.model import DatasetState, PowerBIOptions
from emulator.powerbi.validate import Rejection

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ROWS_PER_HOUR_MESSAGE = (
    "You are over your rows per hour limit for this dataset. To push more rows per hour, upgrade your account "
    "to Power BI Pro or retry your push later."
)


def throttled(seconds: float, payload: dict[str, object]) -> Rejection:
    return Rejection(429, payload, retry_after=max(1, math.ceil(seconds)))


def request_rate_body(seconds: int) -> dict[str, object]:
    return {
        "message": "You have exceeded the amount of requests allowed in the current time frame and further "
        f"requests will fail. Retry in {seconds} seconds."
    }


def check_post_rate(dataset: DatasetState, rows: int, now: datetime, options: PowerBIOptions) -> None:
    """Raise a 429 Rejection when this POST of `rows` rows would break a documented rate limit."""
    _expire(dataset, now)
    large = any(len(t.rows) >= options.large_table_rows for t in dataset.tables.values())
    window, limit = (
        (HOUR, options.max_posts_per_hour_large_table) if large else (MINUTE, options.max_posts_per_minute)
    )
    recent = [t for t in dataset.post_times if t > now - window]
    if len(recent) >= limit:
        wait = (recent[len(recent) - limit] + window - now).total_seconds()
        raise throttled(wait, request_rate_body(max(1, math.ceil(wait))))
    total = sum(count for _, count in dataset.row_batches)
    if total + rows > options.max_rows_per_hour:
        excess = total + rows - options.max_rows_per_hour
        wait = HOUR.total_seconds()
        for at, count in dataset.row_batches:
            excess -= count
            if excess <= 0:
                wait = (at + HOUR - now).total_seconds()
                break
        raise throttled(wait, {"error": {"code": "TooManyRequests", "message": ROWS_PER_HOUR_MESSAGE}})


def record_post(dataset: DatasetState, rows: int, now: datetime) -> None:
    dataset.post_times.append(now)
    dataset.row_batches.append((now, rows))


def _expire(dataset: DatasetState, now: datetime) -> None:
    while dataset.post_times and dataset.post_times[0] <= now - HOUR:
        dataset.post_times.popleft()
    while dataset.row_batches and dataset.row_batches[0][0] <= now - HOUR:
        dataset.row_batches.popleft()
