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
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.list_items import ItemPage, selection
from connectors.quarantine import Quarantine, Split, quarantine_schema
from connectors.run_report import RunRecorder
from connectors.staging import PreparedSnapshot, StagedTableWriter, commit_list
from connectors.sync_records import ListCommit
from connectors.sync_state import SyncState
from pipeline.prefetch import ReadAhead
from pipeline.progress import ListSyncing, OnProgress
from pipeline.sync_batch import BATCH_ITEMS, Batch, Content, PageBatches, normalise_batch
from pipeline.sync_checks import STANDING_CODES, Held, split_page, stored_problems
from pipeline.sync_keys import RunKeys
from pipeline.sync_source import Source
from powerbi_dataset.schema import Dataset, Table
from transforms.list_columns import LiveList
from transforms.list_mapping import ListMapping, PeopleMapping
from transforms.normalise import NormaliseContext, NormalisedPage, normalise_page, selected_columns
from transforms.page_read import ArrowItems, latest_modified, page_schema

logger = logging.getLogger(__name__)
RECHECKED = -1  # the "page" of rows checked again from the quarantine (never read again this run)


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
class _Tables:
    """The list's staged tables being written, and the rows held for its quarantine."""

    writers: dict[str, StagedTableWriter]
    full_read: bool  # the whole list is read (else its changes)
    held: dict[str, Held] = field(default_factory=dict)
    # item key -> the last page it was on, for items with rows held for the quarantine only (bounded by them)
    last_page: dict[Any, int] = field(default_factory=dict)
    pages: int = 0
    items_read: int = 0
    items_deleted: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, table: str, **amounts: int) -> None:
        counts = self.counts.setdefault(table, {"read": 0, "valid": 0, "quarantined": 0, "deleted": 0})
        for name, amount in amounts.items():
            counts[name] += amount


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
        tables = _open(stack, job, names, incremental=link is not None)
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
                    tables = _open(stack, job, names, incremental=False)
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
            _recheck(job, tables, main, names, keys)
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


def _open(stack: ExitStack, job: ListRun, names: list[str], *, incremental: bool) -> _Tables:
    writers = {
        name: stack.enter_context(
            StagedTableWriter(job.staging_dir, job.dataset.table(name), incremental=incremental)
        )
        for name in names
    }
    return _Tables(writers, full_read=not incremental)


def _take(
    job: ListRun,
    mapping: ListMapping,
    context: NormaliseContext,
    batch: Batch,
    keys: RunKeys,
    tables: _Tables,
) -> None:
    """A batch of pages normalised, its keys recorded, its rows staged and the list's progress told."""
    main = job.dataset.table(mapping.table)

    def normalise(content: Content) -> NormalisedPage:
        return normalise_page(content, mapping, context, dataset=job.dataset)

    for normalised in normalise_batch(batch, normalise, main.name, main.key[0]):
        deleted_keys = keys.page(normalised)
        tables.items_read += normalised.tables[main.name].num_rows
        tables.items_deleted += len(normalised.deleted_item_ids)
        _stage_page(job, tables, main, normalised.tables, normalised.problems.problems, deleted_keys)
    job.on_progress(ListSyncing(mapping.display_name, tables.items_read, tables.full_read))


def _stage_page(
    job: ListRun,
    tables: _Tables,
    main: Table,
    page_tables: dict[str, pa.Table],
    problems: Any,
    deleted_keys: list[str],
) -> None:
    """A page's rows: valid ones to their staged tables (replacing the items' earlier rows), invalid
    ones held for the quarantine (and out of the staged tables), deleted items out of both."""
    splits = split_page(page_tables, main, problems, dataset=job.dataset, as_of=job.as_of)
    parents = page_tables[main.name].column(main.key[0])
    items = pa.chunked_array([*parents.chunks, pa.array(deleted_keys, parents.type)], parents.type)
    tables.pages += 1
    # items with rows held now: only theirs need a last page (Held.collect)
    for name, split in splits.items():
        for parent in split.invalid.column(job.dataset.table(name).key[0]).to_pylist():
            tables.last_page[parent] = tables.pages
    if tables.last_page:  # an item read again moves on to this page (its later rows win)
        for parent in items.to_pylist():
            if parent in tables.last_page:
                tables.last_page[parent] = tables.pages
    for name, split in splits.items():
        writer = tables.writers[name]
        if name == main.name:
            writer.add(split.valid)
            writer.drop([*split.invalid.column(main.key[0]).to_pylist(), *deleted_keys])
        else:  # a bridge: the page holds each item's whole set of rows, which may now be none
            writer.replace_items(items, split.valid)
        tables.held.setdefault(name, Held()).add(split, tables.pages)
        tables.count(name, read=page_tables[name].num_rows, valid=split.valid.num_rows)


def _recheck(job: ListRun, tables: _Tables, main: Table, names: list[str], keys: RunKeys) -> None:
    """Rows held in quarantine by earlier runs, less the items read or deleted in this one (their new
    version replaces them), validated again: those now valid are staged, the rest stay.

    A bridge row is checked again only with its parent row (its whole set of rows was held back with
    it), in one validation, so rules across the two see both; one held for its own fault while its
    siblings are staged waits for the item to change."""
    held = {
        value
        for name in names
        for value in job.quarantine.load_quarantined(name).column(job.dataset.table(name).key[0]).to_pylist()
    }
    fresh = keys.read_or_deleted(held)  # the held items read or deleted this run: their new version wins
    old = {name: job.quarantine.load_quarantined(name, exclude=fresh) for name in names}
    if not any(rows.num_rows for rows in old.values()):
        return
    # A held main row is checked with its held bridge rows: rules across them (officers-below-linked)
    # need both, and a bridge row's own standing problems stand as its parent's do.
    standing = stored_problems(job.quarantine, main, old[main.name], STANDING_CODES)
    held_parents = old[main.name].column(main.key[0]).combine_chunks()
    together = {main.name: old[main.name]}
    for name in names:
        rows = old[name]
        if name == main.name or rows.num_rows == 0:
            continue
        model = job.dataset.table(name)
        parents = rows.column(model.key[0])
        with_parent = pc.is_in(parents, value_set=held_parents.cast(parents.type))
        checked, waiting = rows.filter(with_parent), rows.filter(pc.invert(with_parent))
        if checked.num_rows:
            together[name] = checked
            standing += stored_problems(job.quarantine, model, checked, STANDING_CODES)
        if waiting.num_rows:
            kept = tuple(stored_problems(job.quarantine, model, waiting))
            tables.held.setdefault(name, Held()).add(Split(waiting.slice(0, 0), waiting, kept), RECHECKED)
    splits = split_page(together, main, standing, dataset=job.dataset, as_of=job.as_of)
    for name, split in splits.items():
        tables.writers[name].add(split.valid)
        tables.held.setdefault(name, Held()).add(split, RECHECKED)
        tables.count(name, valid=split.valid.num_rows)


def _later(cursor: str | None, items: list[dict[str, Any]] | ArrowItems) -> str | None:
    """The latest lastModifiedDateTime seen (ISO 8601 UTC strings compare as times): the Modified cursor."""
    latest = latest_modified(items)
    if latest is None:
        return cursor
    return latest if cursor is None or latest > cursor else cursor
