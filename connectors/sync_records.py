"""The values the sync state stores and returns: run counts, ledger records, list commits, recoveries.

Nothing here holds an item value: counts, ids of lists and runs, table names, hashes and redacted error
messages (docs/sync.md, "Staging, state and quarantine").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from errors import CetkError

RunStatus = Literal["running", "ok", "partial", "failed"]
RUN_STATUSES: tuple[RunStatus, ...] = ("running", "ok", "partial", "failed")
MAX_ERROR_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class TableCounts:
    """Rows of one table in one run: read from the source, valid (staged), quarantined, deleted at source."""

    read: int = 0
    valid: int = 0
    quarantined: int = 0
    deleted: int = 0

    def __add__(self, other: TableCounts) -> TableCounts:
        return TableCounts(
            self.read + other.read,
            self.valid + other.valid,
            self.quarantined + other.quarantined,
            self.deleted + other.deleted,
        )

    def to_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "valid": self.valid,
            "quarantined": self.quarantined,
            "deleted": self.deleted,
        }


@dataclass(frozen=True)
class RunCounts:
    """What one run did: counts per table, and the HTTP work it took (connectors.http.RequestStats)."""

    tables: Mapping[str, TableCounts] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0
    retry_wait_seconds: float = 0.0

    @property
    def totals(self) -> TableCounts:
        total = TableCounts()
        for counts in self.tables.values():
            total = total + counts
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "tables": {name: counts.to_dict() for name, counts in sorted(self.tables.items())},
            "totals": self.totals.to_dict(),
            "requests": self.requests,
            "retries": self.retries,
            "retry_wait_seconds": round(self.retry_wait_seconds, 3),
        }


@dataclass(frozen=True)
class RunError:
    """Why a run failed: the error's class (or service code) and its message, redacted, never a value."""

    code: str
    message: str

    @classmethod
    def from_exception(cls, error: BaseException, redact: Callable[[str], str]) -> RunError:
        """A CetkError keeps its message (they never hold values); anything else (a bug) only its class,
        as its text may quote data."""
        if isinstance(error, CetkError):
            message = " ".join(redact(error.message).split())
        elif isinstance(error, KeyboardInterrupt):
            message = "the run was interrupted"
        else:
            message = f"unexpected {type(error).__name__}: a bug; the log has the traceback"
        if len(message) > MAX_ERROR_MESSAGE_CHARS:
            message = message[: MAX_ERROR_MESSAGE_CHARS - 1] + "…"
        return cls(type(error).__name__, message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class RunRecord:
    """One row of the run ledger."""

    run_id: int
    kind: str
    started_utc: dt.datetime
    ended_utc: dt.datetime | None
    status: RunStatus
    options: Mapping[str, Any]
    counts: RunCounts
    error: RunError | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.ended_utc is None:
            return None
        return round((self.ended_utc - self.started_utc).total_seconds(), 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "started_utc": self.started_utc.isoformat(),
            "ended_utc": self.ended_utc.isoformat() if self.ended_utc else None,
            "duration_seconds": self.duration_seconds,
            "status": self.status,
            "options": dict(self.options),
            "counts": self.counts.to_dict(),
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass(frozen=True)
class ListCommit:
    """What one list's commit records with its staged snapshots: the next read's starting point and the
    list's item key map changes (item id -> canonical key, for lookups into this list on later runs)."""

    list_id: str
    delta_link: str | None = None
    modified_cursor: str | None = None  # ISO 8601 UTC, for reads filtered on Modified (R11, R12)
    # item id -> key, as a mapping or as pairs that can be iterated again (connectors/item_key_log.py:
    # a full read of a large list keeps them on disk, not in a dict)
    item_keys: Mapping[str, str] | Iterable[tuple[str, str]] = field(default_factory=dict)
    deleted_item_ids: tuple[str, ...] = ()
    replace_item_keys: bool = False  # a full read: the list's key map is replaced, not merged

    def item_key_pairs(self) -> Iterable[tuple[str, str]]:
        keys = self.item_keys
        return keys.items() if isinstance(keys, Mapping) else keys


@dataclass(frozen=True)
class Recovery:
    """What opening the state found of an interrupted commit, per list, and snapshots gone astray."""

    rolled_forward: tuple[str, ...] = ()  # every staged file was renamed: the commit is completed
    rolled_back: tuple[str, ...] = ()  # not every file was renamed: the list is read again from its link
    full_read: tuple[str, ...] = ()  # a staged file is missing or unknown: the list is read in full

    @property
    def is_clean(self) -> bool:
        return not (self.rolled_forward or self.rolled_back or self.full_read)

    def warnings(self) -> list[str]:
        lines = [f"list {name}: an interrupted commit was completed" for name in self.rolled_forward]
        lines += [
            f"list {name}: an interrupted commit was rolled back; its changes are read again"
            for name in self.rolled_back
        ]
        lines += [
            f"list {name}: a staged file is missing or was changed outside cetk; the list is read in full"
            for name in self.full_read
        ]
        return lines
