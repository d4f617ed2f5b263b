"""One list of a sync: its pages read (changes since the saved delta link, or the whole list), normalised,
validated, staged as Parquet page by page and quarantined, then committed with its new link in one
crash-safe step (connectors/staging.commit_list; docs/sync.md).
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from connectors.list_items import ItemPage, selection
from connectors.quarantine import Quarantine, quarantine_schema
from connectors.run_report import RunRecorder
from connectors.staging import PreparedSnapshot, commit_list
from connectors.sync_records import ListCommit
from connectors.sync_state import SyncState
from pipeline.prefetch import ReadAhead
from pipeline.progress import ListSyncing, OnProgress
from pipeline.sync_batch import BATCH_ITEMS, Batch, Content, PageBatches, normalise_batch
from pipeline.sync_checks import Held
from pipeline.sync_keys import RunKeys
from pipeline.sync_source import Source
from pipeline.sync_tables import ListTables, open_tables, recheck_quarantine, stage_page
from powerbi_dataset.schema import Dataset
from transforms.list_columns import LiveList
from transforms.list_mapping import ListMapping, PeopleMapping
from transforms.normalise import NormaliseContext, NormalisedPage, normalise_page, selected_columns
from transforms.page_read import ArrowItems, latest_modified, page_schema

logger = logging.getLogger(__name__)


@dataclass
class ListRun:
    """Everything one list's sync shares with the run: where to read, write and record."""

    source: Source
    state: SyncState
    run: RunRecorder
    quarantine: Quarantine
    staging_dir: Any  # Path
    dataset: Dataset
    as_of: dt.datetime
    people: PeopleMapping | None
    context: Callable[[str, ListMapping], NormaliseContext]  # list id, mapping -> the normalise context
    on_progress: OnProgress
    saw_people: Callable[[list[dict[str, Any]] | ArrowItems], None]  # the people list's, on a full read
    batch_items: int = BATCH_ITEMS  # items a normalise call gathers at most (1: a page a call)


@dataclass
class ListOutcome:
    items_read: int
    items_deleted: int
    full_read: bool
    quarantined: int


def sync_list(job: ListRun, mapping: ListMapping, live: LiveList, *, full: bool) -> ListOutcome:
    """Read, stage and commit one list; the caller has checked its columns against the mapping."""
    list_id, state, source = live.id, job.state, job.source
    link = None if full or not source.has_delta else state.delta_link(list_id)
    main = job.dataset.table(mapping.table)
    names = table_names(mapping, job.dataset)
    with ExitStack() as stack:
        tables = open_tables(
            stack, job.staging_dir, job.dataset, job.as_of, names, incremental=link is not None
        )
        keys = stack.enter_context(RunKeys(state, list_id, job.staging_dir))  # item keys read, on disk
        new_link: str | None = None
        cursor = state.modified_cursor(list_id)
        context: NormaliseContext | None = None
        batches = PageBatches(job.batch_items)  # pages normalised together (pipeline/sync_batch.py)
        with (
            collector_paused(),
            ReadAhead(_pages(job, mapping, list_id, link)) as pages,  # the next page is read meanwhile
        ):
            for page in pages:
                if page.full_enumeration and not tables.full_read:  # 410: the link expired, read it all
                    stack.close()
                    tables = open_tables(
                        stack, job.staging_dir, job.dataset, job.as_of, names, incremental=False
                    )
                    keys = stack.enter_context(RunKeys(state, list_id, job.staging_dir))
                    batches.discard()  # pages of the expired link's read, gone with its tables
                new_link = page.delta_link or new_link
                if page.is_empty():
                    continue
                if tables.full_read and job.people is not None and job.people.list == mapping.display_name:
                    job.saw_people(page.content)  # staff numbers, kept in memory for the lists after this one
                context = context or job.context(list_id, mapping)
                cursor = _later(cursor, page.content)
                for batch in batches.add(page.content):
                    _take(job, mapping, context, batch, keys, tables)
            for batch in batches.flush():
                assert context is not None  # a batch holds a page, which made the context
                _take(job, mapping, context, batch, keys, tables)
        full_read, read, deleted = tables.full_read, tables.items_read, tables.items_deleted
        if not full_read:
            recheck_quarantine(tables, job.quarantine, main, names, keys)
        prepared: list[PreparedSnapshot] = [writer.prepare() for writer in tables.writers.values()]
        held_files = []
        quarantined = 0
        for name in names:
            model = job.dataset.table(name)
            rows, problems = tables.held.get(name, Held()).collect(model.key[0], tables.last_page)
            rows = quarantine_schema(model).empty_table() if rows is None else rows
            prepared_quarantine = job.quarantine.prepare_quarantine(name, rows, problems)
            prepared.extend(prepared_quarantine.snapshots)
            held_files.append(prepared_quarantine.files)
            tables.count(name, quarantined=rows.num_rows)
            quarantined += rows.num_rows
        commit = ListCommit(
            list_id,
            delta_link=new_link if source.has_delta else None,
            modified_cursor=cursor,
            item_keys=keys.read,
            deleted_item_ids=tuple(keys.deleted_ids),
            replace_item_keys=full_read,
        )
        commit_list(state, commit, prepared)
    for snapshot in prepared:
        if not snapshot.table.startswith("quarantine/"):
            job.run.staged_snapshot(snapshot)
    for files in held_files:
        job.run.quarantined(files)
    for name, counts in tables.counts.items():
        job.run.count(name, **counts)
    job.run.count(main.name, deleted=deleted)
    job.run.list_done(mapping.display_name, list_id, items_read=read, items_deleted=deleted,
                      full_read=full_read, tables=names)  # fmt: skip
    logger.info("list %s: %d item(s) read, %d deleted, %d row(s) quarantined (%s)",
                mapping.display_name, read, deleted, quarantined, "full read" if full_read else "changes")  # fmt: skip
    return ListOutcome(read, deleted, full_read, quarantined)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a list is read, as it was before afterwards.

    A decoded page is some 300,000 new containers, freed by reference counting when the page is dropped;
    with the collector on, they trigger collections that walk every object still alive, the page itself
    included, several times a page (a fifth to a quarter of the transform stage's time:
    docs/performance.md, "Sync transform stage"). Reading, normalising, validating and staging a page
    leave no reference cycles (tests/test_pipeline_sync_collector.py), so nothing waits for the collector.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def table_names(mapping: ListMapping, dataset: Dataset) -> list[str]:
    """The tables a list feeds (its table, then its bridges), as normalise makes them from no items."""
    nothing = NormaliseContext("-", bytes(32), {}, {})  # no item is read: no key is used, no lookup made
    return list(normalise_page([], mapping, nothing, dataset=dataset).tables)


def _pages(job: ListRun, mapping: ListMapping, list_id: str, link: str | None) -> Iterator[ItemPage]:
    source = job.source
    select = selected_columns(mapping, job.people)
    lookups = set(selection(mapping).lookup_columns)
    if job.people is not None and job.people.list == mapping.display_name:
        lookups.add(job.people.account)  # the people list's person column counts towards the threshold
    if not source.has_delta:
        return source.reader.iter_item_pages(source.site_id, list_id, select, lookup_columns=lookups)
    if source.arrow is not None:  # into Arrow (on the read-ahead thread) where one request reads a page
        return source.arrow.iter_delta_pages(
            source.site_id, list_id, select, delta_link=link, lookup_columns=lookups,
            schema=page_schema(mapping, job.dataset),
        )  # fmt: skip
    return source.reader.iter_delta_pages(
        source.site_id, list_id, select, delta_link=link, lookup_columns=lookups
    )


def _take(
    job: ListRun,
    mapping: ListMapping,
    context: NormaliseContext,
    batch: Batch,
    keys: RunKeys,
    tables: ListTables,
) -> None:
    """A batch of pages normalised, its keys recorded, its rows staged and the list's progress told."""
    main = job.dataset.table(mapping.table)

    def normalise(content: Content) -> NormalisedPage:
        return normalise_page(content, mapping, context, dataset=job.dataset)

    for normalised in normalise_batch(batch, normalise, main.name, main.key[0]):
        deleted_keys = keys.page(normalised)
        tables.items_read += normalised.tables[main.name].num_rows
        tables.items_deleted += len(normalised.deleted_item_ids)
        stage_page(tables, main, normalised.tables, normalised.problems.problems, deleted_keys)
    job.on_progress(ListSyncing(mapping.display_name, tables.items_read, tables.full_read))


def _later(cursor: str | None, items: list[dict[str, Any]] | ArrowItems) -> str | None:
    """The latest lastModifiedDateTime seen (ISO 8601 UTC strings compare as times): the Modified cursor."""
    latest = latest_modified(items)
    if latest is None:
        return cursor
    return latest if cursor is None or latest > cursor else cursor
