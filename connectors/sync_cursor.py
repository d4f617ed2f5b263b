"""R11: a stored Modified cursor later than now is a warning, not a silent rewind."""

from __future__ import annotations

import datetime as dt
import logging

FUTURE_CURSOR_TOLERANCE = dt.timedelta(minutes=5)  # clock skew between this machine and SharePoint

log = logging.getLogger("connectors.sync_state")


def future_cursor_warning(
    list_id: str, cursor: str | None, now: dt.datetime, *, tolerance: dt.timedelta = FUTURE_CURSOR_TOLERANCE
) -> str | None:
    """R11: a stored Modified cursor later than now (plus clock skew) is logged and returned as a warning.

    The read still starts from it, so it finds nothing (0 records, the run exits 0): the state is never
    silently rewound, which could re-read months; `cetk sync --full` resets it when the warning is right.
    """
    if cursor is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(cursor.replace("Z", "+00:00"))
    except ValueError:
        message = f"list {list_id}: the stored Modified cursor is not an ISO 8601 date-time"
    else:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        if moment <= now + tolerance:
            return None
        message = (
            f"list {list_id}: the stored Modified cursor {moment.isoformat()} is in the future "
            f"(now {now.astimezone(dt.UTC).isoformat()}); nothing newer can be read until then "
            "(run `cetk sync --full` to reset it)"
        )
    log.warning("%s", message)
    return message
