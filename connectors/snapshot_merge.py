"""A streamed, key-ordered merge of sorted runs of rows, for staging (memory: a few batches per run).

Every row carries a generation (0 for the previous snapshot, then one per `add`/`drop` call of the
writer), a sequence number and a drop flag: a drop is a row too (a tombstone: the `replace_by` value,
every other column null), spilled and merged like the others, so the writer holds no set of dropped
values. Rows are grouped by the `replace_by` column (the source item: a fact's key, a bridge's parent):
in each group only the rows of the newest generation survive, so a changed item replaces all its earlier
rows (a bridge parent's whole set); among equal keys of one generation the last row wins; a drop of a
value at generation g removes its rows older than g (a tombstone of the newest generation leaves its
group empty; tombstones are never written). Output is sorted by
(length of replace_by, replace_by, rest of the key), so equal content gives equal rows in equal order;
the length first makes "sp:{list}:9" sort before "sp:{list}:10", the order a list is read in, so runs
arrive already sorted and a merge step mostly takes rows from one run without sorting them again.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

GENERATION = "__cetk_generation"
SEQUENCE = "__cetk_sequence"
LENGTH = "__cetk_length"
DROPPED = "__cetk_dropped"
ORDER_COLUMNS = (GENERATION, SEQUENCE, LENGTH, DROPPED)  # added for the merge, never written to a staged file
SPILL_BATCH_ROWS = 1_024  # rows a run's reader holds at a time: a merge step holds at most this per run
# Rows a merge step takes from one run (whole batches) and resolves at once. 16,384 merged faster, but the
# events table's wide rows, copied a few times per step, took a 200,000-item sync's peak RSS past 400 MB.
STEP_ROWS = 4_096


@dataclass(frozen=True)
class MergeOrder:
    replace_by: str
    sort_columns: tuple[str, ...]  # replace_by first, then the rest of the key

    @classmethod
    def for_key(cls, key: Sequence[str], replace_by: str | None = None) -> MergeOrder:
        if not key:
            raise ValueError("a staged table needs a key to merge by")
        lead = replace_by or key[0]
        return cls(lead, (lead, *(name for name in key if name != lead)))

    @property
    def compare_columns(self) -> tuple[str, ...]:
        return (LENGTH, *self.sort_columns)

    @property
    def sort_keys(self) -> list[tuple[str, str]]:
        return [(name, "ascending") for name in (*self.compare_columns, GENERATION, SEQUENCE)]


def spill_schema(schema: pa.Schema) -> pa.Schema:
    """The staged schema with every column nullable: a tombstone holds only its `replace_by` value."""
    return pa.schema([field.with_nullable(True) for field in schema], metadata=schema.metadata)


def tombstones(schema: pa.Schema, order: MergeOrder, values: pa.Array) -> pa.Table:
    """Drop rows of `values` in the spill schema (order columns not yet added)."""
    count = len(values)
    columns = [
        values.cast(field.type) if field.name == order.replace_by else pa.nulls(count, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def with_order_columns(
    table: pa.Table, order: MergeOrder, generation: int, first_sequence: int, *, dropped: bool = False
) -> pa.Table:
    rows = table.num_rows
    lead = table.column(order.replace_by)
    if pa.types.is_string(lead.type) or pa.types.is_large_string(lead.type):
        length = pc.cast(pc.utf8_length(lead), pa.int64())
    else:
        length = pa.array(np.zeros(rows, dtype=np.int64))
    table = table.append_column(GENERATION, pa.array(np.full(rows, generation, dtype=np.int64)))
    sequence = np.arange(first_sequence, first_sequence + rows, dtype=np.int64)
    table = table.append_column(SEQUENCE, pa.array(sequence)).append_column(LENGTH, length)
    return table.append_column(DROPPED, pa.array(np.full(rows, dropped, dtype=bool)))


def sort_rows(table: pa.Table, order: MergeOrder) -> pa.Table:
    """Rows in merge order (nulls last: Arrow's default); rows already in order are not copied."""
    indices = pc.sort_indices(table, sort_keys=order.sort_keys)
    if np.array_equal(indices.to_numpy(), np.arange(table.num_rows)):
        return table
    return table.take(indices)


def write_run(path: Path, table: pa.Table, order: MergeOrder) -> None:
    """One sorted run as an Arrow IPC file, in small batches so a reader holds little of it."""
    ordered = sort_rows(table, order)
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, ordered.schema) as writer:
        writer.write_table(ordered, max_chunksize=SPILL_BATCH_ROWS)


def iter_run(path: Path) -> Iterator[pa.Table]:
    with pa.OSFile(str(path), "rb") as source:
        reader = pa.ipc.open_file(source)
        for index in range(reader.num_record_batches):
            yield pa.Table.from_batches([reader.get_batch(index)])


class _KeyView(Sequence[tuple[Any, ...]]):
    """Row keys of a sorted table as a sequence bisect can search (nulls sort last, as Arrow sorts them)."""

    def __init__(self, table: pa.Table, columns: tuple[str, ...]) -> None:
        self._columns = [table.column(name) for name in columns]
        self._rows = table.num_rows

    def __len__(self) -> int:
        return int(self._rows)

    def __getitem__(self, index: Any) -> Any:
        return tuple(_sortable(column[index].as_py()) for column in self._columns)


def _sortable(value: Any) -> tuple[Any, ...]:
    return (1,) if value is None else (0, value)


class _Cursor:
    """The current batch of one sorted run, with its first and last keys (read once per batch)."""

    def __init__(self, batches: Iterator[pa.Table], order: MergeOrder) -> None:
        self._batches = batches
        self._columns = order.compare_columns
        self.current: pa.Table | None = None
        self.first: tuple[Any, ...] = ()
        self.last: tuple[Any, ...] = ()
        self._advance()

    def _advance(self) -> None:
        self._set(next((batch for batch in self._batches if batch.num_rows), None))

    def _set(self, batch: pa.Table | None) -> None:
        self.current = batch
        if batch is not None:
            view = _KeyView(batch, self._columns)
            self.first, self.last = view[0], view[batch.num_rows - 1]

    def _take(self, count: int) -> pa.Table:
        assert self.current is not None
        if count >= self.current.num_rows:
            taken = self.current
            self._advance()
            return taken
        taken, self.current = self.current.slice(0, count), self.current.slice(count)
        self.first = _KeyView(self.current, self._columns)[0]  # the batch's last row, and key, stay
        return taken

    def take_through(self, boundary: tuple[Any, ...]) -> pa.Table:
        """The current batch's rows with keys up to `boundary`; the rest stay for the next step."""
        assert self.current is not None
        if self.last <= boundary:
            return self._take(self.current.num_rows)
        return self._take(bisect.bisect_right(_KeyView(self.current, self._columns), boundary))

    def take_below(self, limit: tuple[Any, ...] | None, most: int) -> list[pa.Table]:
        """Rows with keys below `limit` (every row when None): whole batches while they fit in `most` rows
        (at least one row is taken: the caller knows the first key is below the limit)."""
        taken: list[pa.Table] = []
        rows = 0
        while self.current is not None and (limit is None or self.first < limit):
            batch = self.current
            if limit is None or self.last < limit:
                if taken and rows + batch.num_rows > most:
                    break
                taken.append(self._take(batch.num_rows))
                rows += batch.num_rows
                continue
            taken.append(self._take(bisect.bisect_left(_KeyView(batch, self._columns), limit)))
            break
        return taken


def iter_merged(runs: Sequence[Iterator[pa.Table]], order: MergeOrder) -> Iterator[pa.Table]:
    """The rows of sorted runs in key order, resolved as the module docstring says (order columns kept).

    Each step takes the rows below every other run's first key from the run with the smallest one (whole
    batches, up to STEP_ROWS: in order already, nothing to sort); when runs overlap from their heads, each
    gives its rows through the smallest last key of their batches, sorted together (one of them gives a
    whole batch, so these steps are as large as a batch). Each run's first and last keys are read once per
    batch: a step costs a few comparisons per run, not a search of every run. Steps are collected up to
    STEP_ROWS and resolved together: a full read's runs, which do not overlap, and an incremental run's
    changes against the whole previous snapshot cost a few Arrow calls per STEP_ROWS rows.
    """
    cursors = [_Cursor(run, order) for run in runs]
    pending: list[pa.Table] = []  # steps in key order, not yet resolved; the first may be a carried group
    pending_rows = 0
    unsorted = False  # a key's rows span two steps: the pending rows need sorting (generation, sequence)
    last_key: tuple[Any, ...] | None = None
    while True:
        live = [cursor for cursor in cursors if cursor.current is not None]
        if not live:
            break
        lead = min(live, key=lambda cursor: cursor.first)
        first = lead.first
        limit = min((cursor.first for cursor in live if cursor is not lead), default=None)
        if limit is None or first < limit:
            parts = lead.take_below(limit, STEP_ROWS)  # in order, and below every unread row
        else:  # runs overlap from their heads: every run's rows through the smallest last key, sorted
            boundary = min(cursor.last for cursor in live)  # that run gives its whole batch: steps stay large
            gathered = [cursor.take_through(boundary) for cursor in live if cursor.first <= boundary]
            parts = [sort_rows(pa.concat_tables(gathered), order)]
        rows = sum(part.num_rows for part in parts)
        if pending and pending_rows + rows > STEP_ROWS:
            resolved, carried = _resolve_pending(pending, order, sort=unsorted)
            pending, pending_rows, unsorted = (
                ([carried], carried.num_rows, False) if carried else ([], 0, False)
            )
            if resolved is not None:
                yield resolved
        unsorted = unsorted or (
            pending_rows > 0 and last_key == first
        )  # a key continued from the step before
        pending.extend(parts)
        pending_rows += rows
        last = parts[-1]
        last_key = _KeyView(last, order.compare_columns)[last.num_rows - 1]
    if pending:
        resolved, carried = _resolve_pending(pending, order, sort=unsorted, final=True)
        if resolved is not None:
            yield resolved


def _resolve_pending(
    pending: list[pa.Table], order: MergeOrder, *, sort: bool, final: bool = False
) -> tuple[pa.Table | None, pa.Table | None]:
    """The pending steps resolved, but for their last replace_by group (unless `final`), which may continue
    in runs not yet read and is carried into the next steps."""
    # one chunk per column: the comparisons of neighbours below would otherwise realign many small chunks
    rows = pending[0] if len(pending) == 1 else pa.concat_tables(pending).combine_chunks()
    if sort:
        rows = sort_rows(rows, order)
    split = rows.num_rows if final else _last_group_start(rows, order.replace_by)
    carried = rows.slice(split) if split < rows.num_rows else None
    return (_resolve(rows.slice(0, split), order) if split else None), carried


def _last_group_start(table: pa.Table, column: str) -> int:
    values = table.column(column)
    last = values[table.num_rows - 1]
    same = pc.equal(values, last) if last.is_valid else pc.is_null(values)
    flags = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    # groups are contiguous (sorted), so the group starts after the last row that differs
    differ = np.flatnonzero(~flags)
    return int(differ[-1]) + 1 if differ.size else 0


def _equal_to_next(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """For rows 0..n-2: is the value equal to the next row's (two nulls count as equal)."""
    head, following = column.slice(0, len(column) - 1), column.slice(1)
    equal = pc.fill_null(pc.equal(head, following), False)
    both_null = pc.and_(pc.is_null(head), pc.is_null(following))
    return np.asarray(pc.or_(equal, both_null).to_numpy(zero_copy_only=False), dtype=bool)


def _resolve(table: pa.Table, order: MergeOrder) -> pa.Table:
    """One merge step's rows (whole replace_by groups, in order): the surviving rows, tombstones removed."""
    rows = table.num_rows
    if rows == 0:
        return table
    generation = table.column(GENERATION).to_numpy()
    keep = ~np.asarray(table.column(DROPPED).to_numpy(), dtype=bool)
    if rows > 1:
        starts = np.flatnonzero(np.concatenate(([True], ~_equal_to_next(table.column(order.replace_by)))))
        newest = np.maximum.reduceat(generation, starts)
        keep &= generation == np.repeat(newest, np.diff(np.append(starts, rows)))
        same_key = np.ones(rows - 1, dtype=bool)
        for name in order.sort_columns:
            same_key &= _equal_to_next(table.column(name))
        keep[:-1] &= ~same_key  # equal keys of one generation: the last (highest sequence) wins
    return table if keep.all() else table.filter(pa.array(keep))
