"""Executing one PostLoad step: chunks, pacing, the commit marker, and a new load after an ambiguous write.

The order of every write, which docs/publishing.md's crash matrix walks through:

    begin (state: open, with the keys the load posts)
    for each table (tables being reloaded last, each after its DeleteRows, recorded first):
        for each chunk of at most 10,000 rows:
            pace; state: chunk sent; POST; state: chunk acknowledged
    state: committing; POST the `_loads` row; state: committed (its versions become what reports see)

A POST that got no answer, or a 5xx, is never resent into its load (AmbiguousWriteError): before the commit
the load is abandoned (its rows are orphans no report counts), during the commit it is uncertain; either
way a new load posts the changes again, under a new id, up to `max_loads` loads a run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from errors import AmbiguousWriteError, PublishError, RequestRefusedError, ThrottledError
from powerbi_dataset.changes import LoadChanges, LoadRequest, TableLoad, plan_load
from powerbi_dataset.keys import ARROW_ISO_FORMAT
from powerbi_dataset.pacing import Pacer
from powerbi_dataset.publish_steps import PostLoad, PublishResult, TableOutcome
from powerbi_dataset.publish_steps import utc_text as _utc
from powerbi_dataset.push_api import PublishStore, PushClient
from powerbi_dataset.routing import listed
from powerbi_dataset.schema import Dataset, Table


class LoadSink(Protocol):
    """What running a load needs of the sink that planned it (powerbi_dataset/publish.PushSink)."""

    client: PushClient
    store: PublishStore
    result: PublishResult
    model: Dataset
    control: Table
    clock: Callable[[], float]
    on_post: Callable[[str, int, int], None] | None

    @property
    def options(self) -> LoadOptions: ...

    def ordered(self, changes: LoadChanges) -> list[TableLoad]: ...

    def load_request(
        self, staged: Mapping[str, pa.Table], *, fresh: bool, adopted: bool
    ) -> tuple[LoadRequest, dict[str, pd.DataFrame]]: ...


class LoadOptions(Protocol):
    @property
    def chunk_rows(self) -> int: ...

    @property
    def max_loads(self) -> int: ...


class LoadRunner:
    def __init__(self, sink: LoadSink, pacer: Pacer, dataset_id: str) -> None:
        self.sink, self.pacer, self.dataset_id = sink, pacer, dataset_id
        self.store, self.client, self.result = sink.store, sink.client, sink.result
        self.planned_posts = 0

    def run(self, step: PostLoad) -> None:
        self.planned_posts = step.posts
        changes = step.changes
        planned_reload = changes.request.reload
        for attempt in range(1, self.sink.options.max_loads + 1):
            if self._attempt(changes):
                return
            if attempt == self.sink.options.max_loads:
                break
            request, committed = self.sink.load_request(step.staged, fresh=False, adopted=False)
            request = type(request)(
                request.load_id,
                request.load_seq,
                request.full,
                request.reload | planned_reload,
                request.forced,
            )
            changes = plan_load(self.sink.model, step.staged, committed, request)
        raise PublishError(
            f"{self.sink.options.max_loads} loads in a row got no answer for a POST; the last was "
            f"{changes.request.load_id}",
            hint="nothing partial is shown to reports; check Power BI's service health and publish again",
        )

    def _attempt(self, changes: LoadChanges) -> bool:
        """Post one load; True when committed, False when abandoned or uncertain (a new load follows)."""
        request = changes.request
        seq, load_id = request.load_seq, request.load_id
        uncertain = [load.load_seq for load in self.store.loads("uncertain")]
        versioned = {load.table: load.versions for load in changes.tables if load.versions is not None}
        full = tuple(sorted((request.full | request.reload) & set(versioned)))
        self.store.begin_load(
            seq,
            load_id,
            self.dataset_id,
            _utc(self.sink.clock()),
            full_tables=full,
            reload_tables=tuple(sorted(request.reload)),
            resolves=tuple(uncertain),
            rows_planned=changes.rows,
            versions=versioned,
        )
        self.result.loads_started += 1
        started = self.sink.clock()
        try:
            for load in self.sink.ordered(changes):
                if load.table in request.reload:
                    self.store.deleting_rows(load.table)  # recorded first: a crash now redoes the reload
                    self.pacer.rows_deleted(load.table)
                    self.client.delete_rows(self.dataset_id, load.table)
                for number, chunk in enumerate(_chunks(load.rows, self.sink.options.chunk_rows)):
                    self._post(seq, load.table, number, chunk)
        except AmbiguousWriteError as error:
            self._abandon(seq, load_id, f"a POST got no answer: {error.message}")
            return False
        except BaseException as error:
            self._abandon(seq, load_id, f"failed: {type(error).__name__}")
            raise
        return self._commit(changes, full, started)

    def _commit(self, changes: LoadChanges, full: tuple[str, ...], started: float) -> bool:
        request = changes.request
        seq, load_id = request.load_seq, request.load_id
        counts = {load.table: load.rows.num_rows for load in changes.tables}
        marker = {
            "load_id": load_id,
            "load_seq": seq,
            "full_tables": listed(full),
            "tables": listed(sorted(counts)),
            "row_counts": "|".join(f"{table}={rows}" for table, rows in sorted(counts.items())),
            "rows_posted": changes.rows,
            "started_utc": _utc(started),
            "completed_utc": _utc(self.sink.clock()),
        }
        self.store.committing(seq)  # from here on, the load may be committed
        try:
            self._post(seq, self.sink.control.name, 0, [marker])
        except AmbiguousWriteError as error:
            self.store.uncertain(seq, f"the commit got no answer: {error.message}", _utc(self.sink.clock()))
            self.result.loads_abandoned.append(load_id)
            return False
        except (RequestRefusedError, ThrottledError) as error:  # refused: the marker was not stored
            self._abandon(seq, load_id, f"commit refused: {error.message}")
            raise
        except BaseException as error:
            self.store.uncertain(
                seq, f"interrupted during commit: {type(error).__name__}", _utc(self.sink.clock())
            )
            raise
        self.store.committed(seq, _utc(self.sink.clock()))
        self.result.load_id = load_id
        for load in changes.tables:
            outcome = self.result.tables.setdefault(load.table, TableOutcome())
            outcome.rows += load.rows.num_rows
            outcome.tombstones += load.tombstones
            outcome.posts += -(-load.rows.num_rows // self.sink.options.chunk_rows)
        return True

    def _post(self, seq: int, table: str, number: int, chunk: pa.Table | list[dict[str, Any]]) -> None:
        rows = json_rows(chunk) if isinstance(chunk, pa.Table) else chunk
        self.pacer.before_post(table, len(rows))
        self.store.chunk_sent(seq, table, number, len(rows), self.sink.clock())
        try:
            self.client.post_rows(self.dataset_id, table, rows)
        except AmbiguousWriteError:
            at = self.pacer.after_post(len(rows)).at  # it may have been accepted: paced as if it was
            self.store.chunk_ambiguous(seq, table, number, at)
            raise
        post = self.pacer.after_post(len(rows))
        self.store.chunk_acked(seq, table, number, len(rows), post.at)
        self.result.posts += 1
        if self.sink.on_post is not None:
            self.sink.on_post(table, self.result.posts, self.planned_posts)

    def _abandon(self, seq: int, load_id: str, reason: str) -> None:
        self.store.abandon(seq, reason, _utc(self.sink.clock()))
        self.result.loads_abandoned.append(load_id)


def posting_order(changes: LoadChanges) -> list[TableLoad]:
    """The order tables are posted in: reloaded tables last, so the gap they show is as short as can be."""
    reload = changes.request.reload
    return [load for load in changes.tables if load.table not in reload] + [
        load for load in changes.tables if load.table in reload
    ]


def post_sizes(changes: LoadChanges, chunk_rows: int, control: str) -> list[tuple[str, int]]:
    """(table, rows) of every POST the load makes, in order, the commit last."""
    sizes: list[tuple[str, int]] = []
    for load in posting_order(changes):
        total = load.rows.num_rows
        sizes += [(load.table, min(chunk_rows, total - offset)) for offset in range(0, total, chunk_rows)]
    return [*sizes, (control, 1)]


def _chunks(rows: pa.Table, size: int) -> Iterator[pa.Table]:
    for offset in range(0, rows.num_rows, size):
        yield rows.slice(offset, size)


def json_rows(rows: pa.Table) -> list[dict[str, Any]]:
    """Rows as the POST body carries them: datetimes as ISO-8601 UTC strings, decimals as numbers."""
    columns = []
    for name in rows.column_names:
        column = rows.column(name)
        if pa.types.is_timestamp(column.type):
            column = pc.strftime(column.cast(pa.timestamp("us", tz="UTC")), format=ARROW_ISO_FORMAT)
        elif pa.types.is_decimal(column.type):
            column = column.cast(pa.float64())
        columns.append(column)
    converted: list[dict[str, Any]] = pa.table(columns, names=rows.column_names).to_pylist()
    return converted
