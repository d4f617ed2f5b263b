"""Progress reported as events: the library never prints; the CLI renders them (or a caller ignores them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.steps import Step


@dataclass(frozen=True)
class Validating:
    """Validation starts: the files are found and checked (regular files, within the size cap)."""

    tables: int

    def describe(self) -> str:
        return f"Validating {self.tables} table(s)"


@dataclass(frozen=True)
class RowsRead:
    """Another record batch of a table was checked; `rows` so far."""

    table: str
    rows: int

    def describe(self) -> str:
        return f"{self.table}: {self.rows:,} rows checked"


@dataclass(frozen=True)
class StepApplied:
    """One step of a plan is done."""

    step: Step

    def describe(self) -> str:
        return self.step.done()


@dataclass(frozen=True)
class RefreshPolled:
    """The refresh history was read while waiting for a refresh to finish."""

    dataset: str
    status: str
    waited_seconds: float

    def describe(self) -> str:
        return f"Refresh of '{self.dataset}': {self.status} after {self.waited_seconds:.0f} s"


@dataclass(frozen=True)
class RowsPosted:
    """A chunk of a publish load was acknowledged."""

    table: str
    posts_done: int
    posts_planned: int

    def describe(self) -> str:
        return f"Posted {self.posts_done}/{self.posts_planned} row requests (now {self.table})"


@dataclass(frozen=True)
class ListSyncing:
    """A list's pages are being read: `items` so far (a terminal shows a bar per list; cron shows nothing)."""

    list_name: str
    items: int
    full_read: bool

    def describe(self) -> str:
        how = "full read" if self.full_read else "changes"
        return f"{self.list_name}: {self.items} item(s) read ({how})"


@dataclass(frozen=True)
class ListSynced:
    """A list is done: staged, quarantined, or stopped (drift, a refused request)."""

    list_name: str
    status: str  # "ok" | "failed"
    items_read: int
    quarantined: int

    def describe(self) -> str:
        if self.status != "ok":
            return f"{self.list_name}: stopped (see the run report)"
        return f"{self.list_name}: {self.items_read} item(s) read, {self.quarantined} row(s) quarantined"


ProgressEvent = Validating | RowsRead | StepApplied | RefreshPolled | RowsPosted | ListSyncing | ListSynced
OnProgress = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default progress callback: a library caller that shows nothing."""
