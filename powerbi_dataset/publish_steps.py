"""The steps of a publish plan: what `cetk publish --dry-run` prints and what the real run executes.

Each step is a value (describe, done, to_dict for --json) that joins pipeline.Step; `apply()` hands it to
the sink that planned it (powerbi_dataset/publish.py), which alone talks to the push API.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa

from powerbi_dataset.changes import LoadChanges


class PushSink(Protocol):
    """What a step hands itself to when applied (powerbi_dataset/publish.PushSink)."""

    def settle(self) -> None: ...

    def create_dataset(self, step: CreateDataset) -> None: ...

    def adopt_dataset(self, step: AdoptDataset) -> None: ...

    def put_table(self, step: PutTable) -> None: ...

    def post_load(self, step: PostLoad) -> None: ...


def utc_text(seconds: float) -> str:
    """Epoch seconds as the ISO-8601 UTC text the state and `_loads` record."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plural(number: int, noun: str) -> str:
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@dataclass(frozen=True)
class SettleLoads:
    """Record the outcome of loads a crashed run left: open ones abandoned, committing ones uncertain."""

    abandoned: tuple[str, ...]
    uncertain: tuple[str, ...]
    sink: PushSink = field(repr=False, compare=False)

    def describe(self) -> str:
        parts = []
        if self.abandoned:
            parts.append(f"abandon {', '.join(self.abandoned)} (never committed: none of its rows is shown)")
        if self.uncertain:
            parts.append(f"mark {', '.join(self.uncertain)} uncertain (its keys are posted again below)")
        return "Would settle interrupted loads: " + "; ".join(parts) + "."

    def done(self) -> str:
        return f"Settled {plural(len(self.abandoned) + len(self.uncertain), 'interrupted load')}"

    def to_dict(self) -> dict[str, Any]:
        return {"step": "settle_loads", "abandoned": list(self.abandoned), "uncertain": list(self.uncertain)}

    def apply(self) -> None:
        self.sink.settle()


@dataclass(frozen=True)
class CreateDataset:
    """Create the push dataset (retention None: rows are never dropped by age); `replaces` deletes one first."""

    name: str
    definition: Mapping[str, Any] = field(repr=False)
    replaces: str | None  # the id of the dataset deleted first (--recreate)
    sink: PushSink = field(repr=False, compare=False)

    def describe(self) -> str:
        tables, links = len(self.definition["tables"]), len(self.definition["relationships"])
        what = f"push dataset '{self.name}' ({tables} tables, {links} relationships, retention None)"
        if self.replaces:
            return (
                f"Would DELETE dataset {self.replaces} and create the {what} again: reports bound to the old "
                "dataset must be pointed at the new one."
            )
        return f"Would create the {what}."

    def done(self) -> str:
        return f"Created the push dataset '{self.name}'"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": "create_dataset",
            "name": self.name,
            "tables": [table["name"] for table in self.definition["tables"]],
            "relationships": len(self.definition["relationships"]),
            "retention": "None",
            "replaces": self.replaces,
        }

    def apply(self) -> None:
        self.sink.create_dataset(self)


@dataclass(frozen=True)
class AdoptDataset:
    """Publish into a dataset this state does not describe: its contents are unknown, so every table is
    restated whole (new versions hide whatever it holds, with no gap)."""

    dataset_id: str
    name: str
    sink: PushSink = field(repr=False, compare=False)

    def describe(self) -> str:
        return (
            f"Would adopt dataset '{self.name}' ({self.dataset_id}): its contents are unknown to this state, "
            "so every staged table is restated whole."
        )

    def done(self) -> str:
        return f"Adopted dataset '{self.name}'"

    def to_dict(self) -> dict[str, Any]:
        return {"step": "adopt_dataset", "dataset_id": self.dataset_id, "name": self.name}

    def apply(self) -> None:
        self.sink.adopt_dataset(self)


@dataclass(frozen=True)
class PutTable:
    """PutTable: replace an existing table's columns and measures with the model's."""

    table: str
    definition: Mapping[str, Any] = field(repr=False)
    changes: tuple[str, ...]
    sink: PushSink = field(repr=False, compare=False)

    def describe(self) -> str:
        return f"Would put table {self.table}: {'; '.join(self.changes)}."

    def done(self) -> str:
        return f"Put table {self.table}"

    def to_dict(self) -> dict[str, Any]:
        return {"step": "put_table", "table": self.table, "changes": list(self.changes)}

    def apply(self) -> None:
        self.sink.put_table(self)


@dataclass(frozen=True)
class TablePosts:
    table: str
    rows: int
    tombstones: int
    posts: int
    reload: bool  # emptied by DeleteRows first (compaction, or the redo of an interrupted one)
    stored_after: int  # rows the table will physically hold (every version, tombstone and orphan)


@dataclass(frozen=True)
class PostLoad:
    """Post one load: every chunk, then its `_loads` row (the commit marker), paced under the limits."""

    load_id: str
    tables: tuple[TablePosts, ...]
    full_tables: tuple[str, ...]
    resolves: tuple[str, ...]  # uncertain loads whose keys are posted again
    expected_seconds: float
    changes: LoadChanges = field(repr=False, compare=False)
    staged: Mapping[str, pa.Table] = field(repr=False, compare=False)
    sink: PushSink = field(repr=False, compare=False)

    @property
    def rows(self) -> int:
        return sum(item.rows for item in self.tables)

    @property
    def posts(self) -> int:
        return sum(item.posts for item in self.tables) + 1  # and the commit

    def describe(self) -> str:
        lines = [
            f"Would post load {self.load_id}: {plural(self.rows, 'row')} in {plural(self.posts, 'POST')} "
            f"(the last one commits it), expected to take {duration_text(self.expected_seconds)} "
            "at the push limits (120 POSTs a minute, or an hour once a table holds 250,000 rows; "
            "1,000,000 rows an hour; one POST at a time)."
        ]
        for item in self.tables:
            extra = f", {plural(item.tombstones, 'deletion')}" if item.tombstones else ""
            reload = "; DeleteRows first (compaction)" if item.reload else ""
            lines.append(
                f"  {item.table}: {plural(item.rows, 'row')}{extra} in {plural(item.posts, 'POST')}{reload}; "
                f"{item.stored_after:,} rows stored after"
            )
        if self.full_tables:
            lines.append(f"  restated whole: {', '.join(self.full_tables)}")
        if self.resolves:
            lines.append(f"  posts again every key of the uncertain load(s) {', '.join(self.resolves)}")
        return "\n".join(lines)

    def done(self) -> str:
        return f"Committed load {self.load_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": "post_load",
            "load_id": self.load_id,
            "rows": self.rows,
            "posts": self.posts,
            "expected_seconds": round(self.expected_seconds, 3),
            "full_tables": list(self.full_tables),
            "resolves": list(self.resolves),
            "tables": {
                item.table: {
                    "rows": item.rows,
                    "tombstones": item.tombstones,
                    "posts": item.posts,
                    "reload": item.reload,
                    "stored_after": item.stored_after,
                }
                for item in self.tables
            },
        }

    def apply(self) -> None:
        self.sink.post_load(self)


PublishStep = SettleLoads | CreateDataset | AdoptDataset | PutTable | PostLoad


@dataclass
class TableOutcome:
    rows: int = 0
    tombstones: int = 0
    posts: int = 0


@dataclass
class PublishResult:
    """What a publish did: the report `cetk publish` prints, and its --json."""

    dataset: str
    dataset_id: str | None = None
    load_id: str | None = None
    tables: dict[str, TableOutcome] = field(default_factory=dict)
    posts: int = 0
    loads_started: int = 0
    loads_abandoned: list[str] = field(default_factory=list)
    retries: int = 0
    waited_seconds: float = 0.0
    duration_seconds: float = 0.0
    steps: list[str] = field(default_factory=list)
    unchanged: str | None = None  # why nothing was built or posted: nothing it is built from changed

    @property
    def status(self) -> str:
        if self.unchanged:
            return "unchanged"
        return (
            "published" if self.load_id else "nothing to publish" if not self.steps else "definition updated"
        )

    def describe(self) -> str:
        """The publish report for people."""
        lines = [
            f"Publish to '{self.dataset}': {self.status}" + (f", load {self.load_id}" if self.load_id else "")
        ]
        if self.unchanged:
            return "\n".join([*lines, f"  {self.unchanged}"])
        for name, item in self.tables.items():
            deleted = f", {plural(item.tombstones, 'deletion')}" if item.tombstones else ""
            lines.append(f"  {name}: {plural(item.rows, 'row')}{deleted} in {plural(item.posts, 'POST')}")
        lines.append(
            f"{plural(self.posts, 'POST')} (commit included), {plural(self.retries, 'resend')} after 429, "
            f"{duration_text(self.waited_seconds)} paced, {duration_text(self.duration_seconds)} in all"
        )
        if self.loads_abandoned:
            lines.append(
                f"Loads abandoned after a POST got no answer (their rows are never shown): {', '.join(self.loads_abandoned)}"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "dataset": self.dataset,
            "dataset_id": self.dataset_id,
            "load_id": self.load_id,
            "tables": {
                name: {"rows": item.rows, "tombstones": item.tombstones, "posts": item.posts}
                for name, item in self.tables.items()
            },
            "rows": sum(item.rows for item in self.tables.values()),
            "posts": self.posts,
            "loads_started": self.loads_started,
            "loads_abandoned": list(self.loads_abandoned),
            "retries": self.retries,
            "waited_seconds": round(self.waited_seconds, 3),
            "duration_seconds": round(self.duration_seconds, 3),
            "steps": list(self.steps),
            "reason": self.unchanged,
        }
