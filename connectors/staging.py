"""Staged Parquet: one file per canonical table, written atomically and streamed in row groups.

A writer takes the table's rows page by page (`add`), spills them to sorted runs on disk, and `prepare()`
merges them, with the previous snapshot on an incremental run (on a full one, with the previous snapshot's rows
no list writes: connectors/staged_carry.py), into a temporary file (fsynced) in key
order, in row groups of a fixed size with fixed writer options: equal content gives a byte-identical
file (R10). When that file equals the staged one, it is discarded: no new file. `commit_list`
(connectors/staged_commit.py) renames a list's files and records them in the sync state in the
crash-safe order of docs/sync.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from config.settings import Paths
from connectors.durable_files import (
    file_sha256,
    fsync_file,
)
from connectors.snapshot_merge import (
    ORDER_COLUMNS,
    STEP_ROWS,
    MergeOrder,
    iter_merged,
    iter_run,
    spill_schema,
    tombstones,
    with_order_columns,
    write_run,
)
from connectors.staged_carry import carried_rows
from connectors.staged_commit import (
    ABSENT,
    QUARANTINE_PREFIX,
    PreparedSnapshot,
    commit_list,
    remove_leftovers,
)
from errors import StateError
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.schema import Table

STAGED_SUFFIX = ".parquet"
ROW_GROUP_ROWS = 65_536  # rows per Parquet row group of a staged file
SPILL_ROWS = 16_384  # rows (and drops) a writer buffers before it spills them to a sorted run on disk
PRIVATE_DIR_MODE = 0o700
# Fixed, so the same rows give the same bytes; pyarrow writes no timestamp into Parquet metadata.
# Dictionary encoding only for coded columns (dictionary_columns): on ids and free text it costs time and,
# under zstd, size.
WRITER_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
    "write_page_index": False,
    "store_schema": True,
}

__all__ = [
    "ABSENT",
    "PRIVATE_DIR_MODE",
    "QUARANTINE_PREFIX",
    "ROW_GROUP_ROWS",
    "STAGED_SUFFIX",
    "WRITER_OPTIONS",
    "PreparedSnapshot",
    "StagedTableWriter",
    "commit_list",
    "current_sha256",
    "dictionary_columns",
    "remove_leftovers",
    "staged_path",
    "writer_options",
]


def dictionary_columns(table: Table) -> list[str]:
    """Columns whose values come from a short list of codes: the ones dictionary encoding pays for."""
    return [column.name for column in table.columns if column.codes]


def writer_options(table: Table) -> dict[str, Any]:
    """pyarrow.parquet's writer options for a file of `table`'s rows (staged or quarantined)."""
    return {**WRITER_OPTIONS, "use_dictionary": dictionary_columns(table)}


def staged_path(staging_dir: Path, table: str) -> Path:
    return staging_dir / f"{table}{STAGED_SUFFIX}"


def current_sha256(paths: Paths) -> Callable[[str], str]:
    """name -> sha256 of the file the state records under that name (ABSENT when there is none): a staged
    table's name, or QUARANTINE_PREFIX + a quarantine file's name. What SyncState.recover() compares."""

    def digest(name: str) -> str:
        if name.startswith(QUARANTINE_PREFIX):
            path = paths.quarantine_dir / name.removeprefix(QUARANTINE_PREFIX)
        else:
            path = staged_path(paths.staging_dir, name)
        return file_sha256(path) or ABSENT

    return digest


class StagedTableWriter:
    """Writes one staged table: a whole new snapshot (`incremental=False`), or the previous snapshot
    merged with changed rows and dropped items. A later `add` of a `replace_by` value (the item: the key
    of a fact, the parent of a bridge) supersedes every earlier row of it; `drop` removes an item.

    Memory is bounded by `spill_rows` and `row_group_rows`, not by the table: rows and drops (as tombstone
    rows) are buffered up to `spill_rows`, then spilled to a sorted run on disk; `prepare()` merges the runs a few
    batches at a time (connectors/snapshot_merge.py)."""

    def __init__(
        self,
        staging_dir: Path,
        table: Table,
        *,
        incremental: bool,
        replace_by: str | None = None,
        row_group_rows: int = ROW_GROUP_ROWS,
        spill_rows: int | None = None,
    ) -> None:
        self.table = table
        self.path = staged_path(staging_dir, table.name)
        self.schema = arrow_schema(table, "staging")
        self._spill_schema = spill_schema(self.schema)
        self.order = MergeOrder.for_key(table.key, replace_by)
        self.incremental = incremental
        self.row_group_rows = row_group_rows
        self.spill_rows = spill_rows or min(row_group_rows, SPILL_ROWS)
        staging_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        self._spill_dir = Path(tempfile.mkdtemp(dir=staging_dir, prefix=f".spill-{table.name}-"))
        self._buffer: list[pa.Table] = []
        self._buffered_rows = 0
        self._runs: list[Path] = []
        self._generation = 0
        self._sequence = 0
        self._temporary: Path | None = None
        self.rows_added = 0

    def add(self, rows: pa.RecordBatch | pa.Table) -> None:
        """Rows in the staged schema's columns (extra columns are refused; types are cast). The rows of one
        call are one version of their items (a bridge parent's rows in a page are its whole set); equal
        keys within a call keep the last row."""
        table = _conform(rows, self.schema)
        if table.num_rows == 0:
            return
        self.rows_added += table.num_rows
        self._buffer_rows(table.cast(self._spill_schema), dropped=False)

    def drop(self, values: Iterable[Any] | pa.Array | pa.ChunkedArray) -> None:
        """Items gone (deleted at source, or a bridge parent now without rows): their rows so far go."""
        if not isinstance(values, pa.Array | pa.ChunkedArray):
            values = pa.array(list(values), type=self._spill_schema.field(self.order.replace_by).type)
        if len(values) == 0:
            return
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        self._buffer_rows(tombstones(self._spill_schema, self.order, values), dropped=True)

    def replace_items(
        self, items: Iterable[Any] | pa.Array | pa.ChunkedArray, rows: pa.RecordBatch | pa.Table
    ) -> None:
        """`rows` are now the whole set of rows of `items` (a bridge's rows of a page's items, which may be
        none): earlier rows of those items go. Only the items without a row in `rows` need a drop; the
        others are replaced by their newer generation."""
        table = _conform(rows, self.schema)
        kind = self.schema.field(self.order.replace_by).type
        if not isinstance(items, pa.Array | pa.ChunkedArray):
            items = pa.array(list(items), type=kind)
        elif items.type != kind:
            items = items.cast(kind)
        present = pc.is_in(items, value_set=table.column(self.order.replace_by).combine_chunks())
        self.drop(items.filter(pc.invert(present)))
        self.add(table)

    def _buffer_rows(self, table: pa.Table, *, dropped: bool) -> None:
        self._generation += 1
        ordered = with_order_columns(table, self.order, self._generation, self._sequence, dropped=dropped)
        self._buffer.append(ordered)
        self._sequence += table.num_rows
        self._buffered_rows += table.num_rows
        if self._buffered_rows >= self.spill_rows:
            self._spill()

    def prepare(self) -> PreparedSnapshot:
        """Merge into a temporary file beside the staged one (fsynced), unless nothing changes."""
        self._spill()
        current = file_sha256(self.path)
        if self.incremental and current is not None and not self._runs:
            self.close()
            return PreparedSnapshot(self.table.name, self.path, None, current, _row_count(self.path))
        runs = [iter_run(path) for path in self._runs]
        if self.incremental and current is not None:
            runs.insert(0, self._previous_rows())
        elif (
            current is not None
        ):  # a full snapshot keeps the rows no list writes (connectors/staged_carry.py)
            runs.insert(0, self._carried_rows())
        descriptor, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        os.close(descriptor)
        self._temporary = temporary = Path(name)
        rows = self._write(temporary, iter_merged(runs, self.order))
        digest = file_sha256(temporary)
        assert digest is not None
        if digest != current:
            self._temporary = None  # handed over to the PreparedSnapshot
        self.close()  # removes the spilled runs, and the temporary file when it equals the staged one
        if digest == current:  # the same bytes as the staged file: keep that, write nothing (R10)
            return PreparedSnapshot(self.table.name, self.path, None, digest, rows)
        return PreparedSnapshot(self.table.name, self.path, temporary, digest, rows)

    def close(self) -> None:
        """Remove the spilled runs, and a temporary file not handed over."""
        shutil.rmtree(self._spill_dir, ignore_errors=True)
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None

    def __enter__(self) -> StagedTableWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _spill(self) -> None:
        if not self._buffer:
            return
        run = self._spill_dir / f"run-{len(self._runs):06d}.arrow"
        write_run(run, pa.concat_tables(self._buffer), self.order)
        self._runs.append(run)
        self._buffer, self._buffered_rows = [], 0

    def _previous_rows(self) -> Iterator[pa.Table]:
        parquet = pq.ParquetFile(self.path)
        if not parquet.schema_arrow.equals(self.schema):
            raise StateError(
                f"staged file {self.path} does not have the model's staging schema of {self.table.name!r}",
                hint="the model changed since it was staged: run `cetk sync --full` to restage every table",
            )
        for batch in parquet.iter_batches(batch_size=STEP_ROWS):  # one run: a merge step's worth at a time
            yield with_order_columns(_conform(batch, self.schema).cast(self._spill_schema), self.order, 0, 0)

    def _carried_rows(self) -> Iterator[pa.Table]:
        for rows in carried_rows(self.path, self.table, self.schema):
            yield with_order_columns(rows.cast(self._spill_schema), self.order, 0, 0)

    def _write(self, path: Path, merged: Iterator[pa.Table]) -> int:
        rows = 0
        pending: list[pa.Table] = []
        pending_rows = 0
        with pq.ParquetWriter(path, self.schema, **writer_options(self.table)) as writer:
            for part in merged:
                pending.append(part.drop_columns(list(ORDER_COLUMNS)).cast(self.schema))
                pending_rows += part.num_rows
                while pending_rows >= self.row_group_rows:
                    whole = pa.concat_tables(pending)
                    writer.write_table(
                        whole.slice(0, self.row_group_rows), row_group_size=self.row_group_rows
                    )
                    rest = whole.slice(self.row_group_rows)
                    pending, pending_rows = [rest], rest.num_rows
                    rows += self.row_group_rows
            if pending_rows:
                writer.write_table(pa.concat_tables(pending), row_group_size=self.row_group_rows)
                rows += pending_rows
        fsync_file(path)
        return rows


def _conform(rows: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.Table:
    table = pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows
    extra = set(table.column_names) - set(schema.names)
    if extra:
        raise ValueError(f"columns not in the staged schema: {sorted(extra)}")
    return table.select(schema.names).cast(schema)


def _row_count(path: Path) -> int:
    return int(pq.read_metadata(path).num_rows)
