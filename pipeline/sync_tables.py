"""A list's tables during a sync: its staged tables being written, the rows held back for its quarantine,
and the rows an earlier run quarantined, checked again (pipeline/sync_list.py drives them).

    tables = open_tables(stack, staging_dir, dataset, as_of, names, incremental=link is not None)
    stage_page(tables, main, normalised.tables, normalised.problems.problems, deleted_keys)
    recheck_quarantine(tables, quarantine, main, names, keys)    # an incremental run, before the commit
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from connectors.quarantine import Quarantine, Split
from connectors.staging import StagedTableWriter
from pipeline.sync_checks import STANDING_CODES, Held, split_page, stored_problems
from pipeline.sync_keys import RunKeys
from powerbi_dataset.schema import Dataset, Table

__all__ = ["RECHECKED", "ListTables", "open_tables", "recheck_quarantine", "stage_page"]

RECHECKED = -1  # the "page" of rows checked again from the quarantine (never read again this run)


@dataclass
class ListTables:
    """The list's staged tables being written, and the rows held for its quarantine."""

    writers: dict[str, StagedTableWriter]
    dataset: Dataset
    as_of: dt.datetime
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


def open_tables(
    stack: ExitStack,
    staging_dir: Path,
    dataset: Dataset,
    as_of: dt.datetime,
    names: list[str],
    *,
    incremental: bool,
) -> ListTables:
    """A writer for each of the list's tables, closed with `stack`."""
    writers = {
        name: stack.enter_context(
            StagedTableWriter(staging_dir, dataset.table(name), incremental=incremental)
        )
        for name in names
    }
    return ListTables(writers, dataset, as_of, full_read=not incremental)


def stage_page(
    tables: ListTables,
    main: Table,
    page_tables: dict[str, pa.Table],
    problems: Any,
    deleted_keys: list[str],
) -> None:
    """A page's rows: valid ones to their staged tables (replacing the items' earlier rows), invalid
    ones held for the quarantine (and out of the staged tables), deleted items out of both."""
    dataset = tables.dataset
    splits = split_page(page_tables, main, problems, dataset=dataset, as_of=tables.as_of)
    parents = page_tables[main.name].column(main.key[0])
    items = pa.chunked_array([*parents.chunks, pa.array(deleted_keys, parents.type)], parents.type)
    tables.pages += 1
    # items with rows held now: only theirs need a last page (Held.collect)
    for name, split in splits.items():
        for parent in split.invalid.column(dataset.table(name).key[0]).to_pylist():
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


def recheck_quarantine(
    tables: ListTables, quarantine: Quarantine, main: Table, names: list[str], keys: RunKeys
) -> None:
    """Rows held in quarantine by earlier runs, less the items read or deleted in this one (their new
    version replaces them), validated again: those now valid are staged, the rest stay.

    A bridge row is checked again only with its parent row (its whole set of rows was held back with
    it), in one validation, so rules across the two see both; one held for its own fault while its
    siblings are staged waits for the item to change."""
    dataset = tables.dataset
    held = {
        value
        for name in names
        for value in quarantine.load_quarantined(name).column(dataset.table(name).key[0]).to_pylist()
    }
    fresh = keys.read_or_deleted(held)  # the held items read or deleted this run: their new version wins
    old = {name: quarantine.load_quarantined(name, exclude=fresh) for name in names}
    if not any(rows.num_rows for rows in old.values()):
        return
    # A held main row is checked with its held bridge rows: rules across them (officers-below-linked)
    # need both, and a bridge row's own standing problems stand as its parent's do.
    standing = stored_problems(quarantine, main, old[main.name], STANDING_CODES)
    held_parents = old[main.name].column(main.key[0]).combine_chunks()
    together = {main.name: old[main.name]}
    for name in names:
        rows = old[name]
        if name == main.name or rows.num_rows == 0:
            continue
        model = dataset.table(name)
        parents = rows.column(model.key[0])
        with_parent = pc.is_in(parents, value_set=held_parents.cast(parents.type))
        checked, waiting = rows.filter(with_parent), rows.filter(pc.invert(with_parent))
        if checked.num_rows:
            together[name] = checked
            standing += stored_problems(quarantine, model, checked, STANDING_CODES)
        if waiting.num_rows:
            kept = tuple(stored_problems(quarantine, model, waiting))
            tables.held.setdefault(name, Held()).add(Split(waiting.slice(0, 0), waiting, kept), RECHECKED)
    splits = split_page(together, main, standing, dataset=dataset, as_of=tables.as_of)
    for name, split in splits.items():
        tables.writers[name].add(split.valid)
        tables.held.setdefault(name, Held()).add(split, RECHECKED)
        tables.count(name, valid=split.valid.num_rows)
