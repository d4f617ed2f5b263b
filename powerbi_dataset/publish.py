"""Publishing staged tables to a Power BI push dataset: the only module that knows push (docs/publishing.md).

    sink = PushSink(client, store, options=PublishOptions("Community Engagement"))
    plan = sink.plan(staged)          # compares the model with the workspace; nothing is written
    print(plan.describe())            # --dry-run
    for step in plan.steps: step.apply()   # pipeline.apply: exactly those steps
    result = sink.result

A load posts new versions of the changed rows and tombstones of the deleted keys, each row stamped with
the load's id and sequence number, in chunks of at most 10,000 rows paced under the push limits; its
`_loads` row, the commit marker, is posted only after every chunk was acknowledged. Reports route every
table through the latest committed load (routing.py), so they never see a partial load. A chunk with no
answer (timeout, dropped connection, 5xx) is never resent into its load: the load is abandoned and a new
one posts the changes again. `Sink` is the seam a successor to push datasets (after 31 October 2027)
implements instead.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa

from errors import PublishError
from powerbi_dataset.boundary import check_boundary
from powerbi_dataset.changes import LoadChanges, LoadRequest, TableLoad, plan_load
from powerbi_dataset.definitions import dataset_changes, definition_text
from powerbi_dataset.derive import powerbi_definition, powerbi_table
from powerbi_dataset.model import DATASET
from powerbi_dataset.pacing import Pacer, Post, PushLimits
from powerbi_dataset.publish_load import LoadRunner, post_sizes, posting_order
from powerbi_dataset.publish_steps import (
    AdoptDataset,
    CreateDataset,
    PostLoad,
    PublishResult,
    PublishStep,
    PutTable,
    SettleLoads,
    TablePosts,
    utc_text,
)
from powerbi_dataset.push_api import DatasetLike, PublishStore, PushClient
from powerbi_dataset.routing import control_table
from powerbi_dataset.schema import Dataset


class Sink(Protocol):
    """Where staged tables are published: plan (nothing written), then the plan's steps applied."""

    def plan(self, staged: Mapping[str, pa.Table]) -> PublishPlan: ...

    @property
    def result(self) -> PublishResult: ...


@dataclass(frozen=True)
class PublishOptions:
    dataset_name: str
    recreate: bool = False  # delete the dataset and create it again (a change PutTable cannot make)
    compact: frozenset[str] = frozenset()  # tables to empty and load whole now (a maintenance window)
    chunk_rows: int = 10_000
    compact_at_rows: int = 4_500_000  # 90 % of the 5,000,000 rows a table may hold (retention None)
    max_loads: int = 3  # loads one run starts before it gives up (each after an ambiguous write)
    limits: PushLimits = field(default_factory=PushLimits)

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_rows <= self.limits.rows_per_post:
            raise ValueError(f"chunk_rows must be 1..{self.limits.rows_per_post}")


@dataclass(frozen=True)
class PublishPlan:
    steps: tuple[PublishStep, ...]
    skipped: tuple[str, ...]  # published tables with no staged file

    def describe(self) -> str:
        lines = [step.describe() for step in self.steps] or ["Nothing to publish: no staged row changed."]
        if self.skipped:
            lines.append(f"Not staged, left as published: {', '.join(self.skipped)}.")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": [step.to_dict() for step in self.steps], "skipped": list(self.skipped)}


class PushSink:
    """Plans and applies a publish to one push dataset through `client`, recording it in `store`."""

    def __init__(
        self,
        client: PushClient,
        store: PublishStore,
        *,
        options: PublishOptions,
        dataset: Dataset = DATASET,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_post: Callable[[str, int, int], None] | None = None,
    ) -> None:
        self.client, self.store, self.options, self.model = client, store, options, dataset
        self.clock, self.sleep = clock, sleep
        self.on_post = on_post  # (table, row POSTs done, row POSTs planned) after each acknowledged POST
        self.definition = {**powerbi_definition(dataset), "name": options.dataset_name}
        self.control = control_table(dataset)
        self.result = PublishResult(options.dataset_name)
        self.dataset_id: str | None = None
        self._pacer: Pacer | None = None
        self._started = clock()

    # --- planning (reads only) -----------------------------------------------------------------

    def plan(self, staged: Mapping[str, pa.Table]) -> PublishPlan:
        """Compare the model and the staged tables with the workspace and the state; write nothing."""
        check_boundary(self.model, staged)
        steps, fresh = self.plan_dataset()
        load = self._load_step(staged, fresh=fresh, adopted=not fresh and steps_adopt(steps))
        if load is not None:
            steps.append(load)
        skipped = load.changes.skipped if load is not None else self._skipped(staged)
        return PublishPlan(tuple(steps), skipped)

    def plan_dataset(self) -> tuple[list[PublishStep], bool]:
        """The steps before the load (settle a crashed run's loads; create, adopt or put tables), and whether
        the dataset is created afresh. Reads the workspace's datasets and tables; writes nothing."""
        steps: list[PublishStep] = []
        interrupted = list(self.store.loads("open", "committing"))
        if interrupted:
            steps.append(
                SettleLoads(
                    tuple(load.load_id for load in interrupted if load.status == "open"),
                    tuple(load.load_id for load in interrupted if load.status == "committing"),
                    self,
                )
            )
        existing = self._existing_dataset()
        fresh = existing is None or self.options.recreate
        if fresh:
            replaces = existing.id if existing is not None else None
            steps.append(CreateDataset(self.options.dataset_name, self.definition, replaces, self))
        else:
            assert existing is not None
            self.dataset_id = existing.id
            adopted = (self.store.dataset() or ("", ""))[0] != existing.id
            if adopted:
                steps.append(AdoptDataset(existing.id, existing.name, self))
            steps += self._table_steps(existing.id, adopted)
        return steps, fresh

    def _existing_dataset(self) -> DatasetLike | None:
        found = [item for item in self.client.datasets() if item.name == self.options.dataset_name]
        if len(found) > 1:
            raise PublishError(
                f"the workspace holds {len(found)} datasets named '{self.options.dataset_name}'",
                hint="delete or rename the extra ones in Power BI, so cetk knows which one it publishes to",
            )
        if found and not found[0].add_rows_api_enabled:
            raise PublishError(
                f"dataset '{self.options.dataset_name}' is not a push dataset",
                hint="set powerbi.dataset_name to a push dataset's name, or a new name for cetk to create",
            )
        return found[0] if found else None

    def _table_steps(self, dataset_id: str, adopted: bool) -> list[PublishStep]:
        known = self.store.tables() if not adopted else {}
        changes = dataset_changes(
            self.options.dataset_name,
            self.definition,
            {table.name.lower(): list(table.columns) for table in self.client.tables(dataset_id)},
            {name: record.definition for name, record in known.items()},
            None if adopted else self.store.relationships(),
        )
        tables = {str(table["name"]): table for table in self.definition["tables"]}
        return [PutTable(change.table, tables[change.table], change.changes, self) for change in changes]

    def _load_step(self, staged: Mapping[str, pa.Table], *, fresh: bool, adopted: bool) -> PostLoad | None:
        request, committed = self.load_request(staged, fresh=fresh, adopted=adopted)
        changes = plan_load(self.model, staged, committed, request)
        tables = self._stored_rows(fresh=fresh, adopted=adopted)
        over = {
            load.table
            for load in changes.tables
            if tables.get(load.table, 0) + load.rows.num_rows > self.options.compact_at_rows
        } - set(request.reload)
        if over:  # compaction: empty those tables and load them whole (docs/publishing.md, Compaction)
            request = LoadRequest(
                request.load_id,
                request.load_seq,
                request.full,
                request.reload | frozenset(over),
                request.forced,
            )
            changes = plan_load(self.model, staged, committed, request)
        if not changes.tables:
            return None
        posts = self.post_sizes(changes)
        pacer = self._new_pacer(tables)
        expected = pacer.simulate([(table, rows) for table, rows in posts], self.clock())
        summary = tuple(
            TablePosts(
                load.table,
                load.rows.num_rows,
                load.tombstones,
                math.ceil(load.rows.num_rows / self.options.chunk_rows),
                load.table in request.reload,
                (0 if load.table in request.reload else tables.get(load.table, 0)) + load.rows.num_rows,
            )
            for load in self.ordered(changes)
        )
        resolves = tuple(load.load_id for load in self.store.loads("uncertain", "committing") if not fresh)
        full = tuple(sorted((request.full | request.reload) & {load.table for load in changes.tables}))
        return PostLoad(request.load_id, summary, full, resolves, expected, changes, staged, self)

    def load_request(
        self, staged: Mapping[str, pa.Table], *, fresh: bool, adopted: bool
    ) -> tuple[LoadRequest, dict[str, pd.DataFrame]]:
        """The next load's identity and flags, and the committed versions it is compared with."""
        seq = max(self.store.last_load_seq() + 1, int(self.clock() * 1_000_000))
        load_id = dt.datetime.fromtimestamp(seq / 1_000_000, dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
        versioned = [table.name for table in self.model.published_tables if table.publish_mode == "versioned"]
        if fresh:
            return LoadRequest(load_id, seq), {}
        records = self.store.tables()
        uncertain = list(self.store.loads("uncertain", "committing"))
        full = {name for name in versioned if adopted or (name in records and records[name].unknown)}
        forced: dict[str, set[str]] = {}
        for load in uncertain:
            full |= set(load.full_tables) & set(versioned)
            for table, keys in self.store.load_keys(load.load_seq).items():
                forced.setdefault(table, set()).update(keys)
        reload = {name for name, record in records.items() if record.needs_reload} | set(self.options.compact)
        staged_names = set(staged)
        committed = {name: self.store.versions(name) for name in versioned if not adopted}
        return (
            LoadRequest(
                load_id,
                seq,
                frozenset(full & staged_names),
                frozenset(reload & staged_names),
                {table: frozenset(keys) for table, keys in forced.items()},
            ),
            committed,
        )

    def _stored_rows(self, *, fresh: bool, adopted: bool) -> dict[str, int]:
        """Rows each table physically holds, as far as the state knows (an adopted dataset: as if large)."""
        if fresh:
            return {}
        if adopted:
            return {
                str(table["name"]): self.options.limits.large_table_rows
                for table in self.definition["tables"]
            }
        return {name: record.stored_rows for name, record in self.store.tables().items()}

    def _skipped(self, staged: Mapping[str, pa.Table]) -> tuple[str, ...]:
        return tuple(
            table.name
            for table in self.model.published_tables
            if table.publish_mode != "control" and table.name not in staged
        )

    def ordered(self, changes: LoadChanges) -> list[TableLoad]:
        return posting_order(changes)

    def post_sizes(self, changes: LoadChanges) -> list[tuple[str, int]]:
        return post_sizes(changes, self.options.chunk_rows, self.control.name)

    def _new_pacer(self, tables: Mapping[str, int]) -> Pacer:
        history = [Post(at, rows) for at, rows in self.store.recent_posts(self.clock())]
        return Pacer(self.options.limits, self.clock, self.sleep, history, dict(tables))

    # --- applying (called by the steps) ---------------------------------------------------------

    def settle(self) -> None:
        self.store.settle(utc_text(self.clock()))

    def create_dataset(self, step: CreateDataset) -> None:
        if step.replaces:
            self.client.delete_dataset(step.replaces)
        created = self.client.create_dataset(step.definition, retention="None")
        self.dataset_id = created.id
        self.store.bind(created.id, step.name, self._definitions(), self._relationships(), empty=True)
        self._record_step(step.done())

    def adopt_dataset(self, step: AdoptDataset) -> None:
        self.store.bind(
            step.dataset_id,
            step.name,
            self._definitions(),
            self._relationships(),
            empty=False,
            unknown_rows=self.options.limits.large_table_rows,  # unknown: paced as if large
        )
        self._record_step(step.done())

    def put_table(self, step: PutTable) -> None:
        assert self.dataset_id is not None
        self.client.put_table(self.dataset_id, step.definition)
        self.store.set_definition(step.table, definition_text(step.definition))
        self._record_step(step.done())

    def post_load(self, step: PostLoad) -> None:
        assert self.dataset_id is not None
        if self._pacer is None:
            self._pacer = self._new_pacer({n: r.stored_rows for n, r in self.store.tables().items()})
        runner = LoadRunner(self, self._pacer, self.dataset_id)
        runner.run(step)
        self.result.waited_seconds = self._pacer.waited_seconds
        self.result.duration_seconds = self.clock() - self._started
        self._record_step(step.done())

    def _record_step(self, text: str) -> None:
        self.result.dataset_id = self.dataset_id
        self.result.steps.append(text)
        self.result.duration_seconds = self.clock() - self._started

    def _definitions(self) -> dict[str, str]:
        return {
            str(table["name"]): definition_text(
                powerbi_table(self.model.table(str(table["name"])), self.model)
            )
            for table in self.definition["tables"]
        }

    def _relationships(self) -> str:
        return definition_text(self.definition["relationships"])


def steps_adopt(steps: list[PublishStep]) -> bool:
    return any(isinstance(step, AdoptDataset) for step in steps)
