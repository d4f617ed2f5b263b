"""The rows a full snapshot keeps from the staged file it replaces: those no list sync writes.

A list's full read (its first sync, `--full`, or a delta link Graph expired: 410) writes its staged
tables afresh from the list. Rows that something else staged into the same files, the responses
`cetk migrate forms --to staging` wrote (`source_system = forms_legacy`), are not in the list and would
be lost, so the full snapshot starts from them (docs/sync.md, "Rows that are not the list's"):
- a table with a `source_system` column: its rows whose source system is not the list's (`sp_list`);
- a bridge (`Table.parent`): its rows whose parent row is carried, by the parent's staged file.
Both read the committed files: a list's writers all prepare before its commit renames any of them.

Rows come out in the file's own (merge) order, a batch at a time, in the model's staging schema. Row
groups whose statistics say they hold list rows only are skipped unread, so a full sync of a force that
never migrated reads a footer per table and nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from errors import StateError
from powerbi_dataset.schema import Table

SOURCE_COLUMN = "source_system"
LIST_SOURCE = "sp_list"  # transforms.normalise.SOURCE_SYSTEM: the rows a list sync writes (and rewrites)
BATCH_ROWS = 1_024  # rows held at a time, as the merge's runs (snapshot_merge.SPILL_BATCH_ROWS)


def carried_rows(path: Path, table: Table, schema: pa.Schema) -> Iterator[pa.Table]:
    """The rows of the staged file at `path` (table `table`) that a full snapshot of the list keeps."""
    if not path.is_file():
        return
    if SOURCE_COLUMN in table.column_names:
        for batch in _not_list_rows(path, None):
            yield _conformed(batch, schema, path)
        return
    if table.parent is None:
        return
    parent_key = table.key[0]
    parent_path = path.with_name(f"{table.parent}{path.suffix}")
    keys = [batch.column(parent_key) for batch in _not_list_rows(parent_path, [parent_key])]
    if not keys:
        return
    parquet = pq.ParquetFile(path)
    if parent_key not in parquet.schema_arrow.names:
        return
    carried = pa.chunked_array(keys).combine_chunks().cast(parquet.schema_arrow.field(parent_key).type)
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        rows = pa.Table.from_batches([batch])
        kept = rows.filter(pc.is_in(rows.column(parent_key), value_set=carried))
        if kept.num_rows:
            yield _conformed(kept, schema, path)


def _not_list_rows(path: Path, columns: list[str] | None) -> Iterator[pa.Table]:
    """Rows of `path` whose source_system is not the list's; `columns` (plus it) or every column."""
    if not path.is_file():
        return
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    if SOURCE_COLUMN not in names or (columns and any(name not in names for name in columns)):
        return
    index = names.index(SOURCE_COLUMN)
    groups = [
        number
        for number in range(parquet.metadata.num_row_groups)
        if not _list_rows_only(parquet.metadata.row_group(number).column(index).statistics)
    ]
    if not groups:
        return
    wanted = None if columns is None else [*columns, SOURCE_COLUMN]
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=groups, columns=wanted):
        rows = pa.Table.from_batches([batch])
        kept = rows.filter(pc.not_equal(rows.column(SOURCE_COLUMN), LIST_SOURCE))  # null: dropped
        if kept.num_rows:
            yield kept if columns is None else kept.select(columns)


def _list_rows_only(statistics: pq.Statistics | None) -> bool:
    """Whether a row group's statistics prove every row is the list's (none is null, min = max = sp_list)."""
    if statistics is None or not statistics.has_min_max or statistics.null_count:
        return False
    return bool(statistics.min == LIST_SOURCE and statistics.max == LIST_SOURCE)


def _conformed(rows: pa.Table, schema: pa.Schema, path: Path) -> pa.Table:
    """`rows` in `schema`, by column name: a column the file lacks is null (a model that grew a column);
    a required column it lacks, or a value that no longer fits, is a StateError, never a silent loss."""
    if rows.schema.equals(schema):
        return rows
    columns: list[pa.Array | pa.ChunkedArray] = []
    for field in schema:
        try:
            if field.name in rows.column_names:
                columns.append(rows.column(field.name).cast(field.type))
            elif field.nullable:
                columns.append(pa.nulls(rows.num_rows, field.type))
            else:
                raise ValueError("missing")
        except (ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # the message names the column only: Arrow's would quote the value, which may be personal
            raise StateError(
                f"staged file {path} holds rows a list sync does not write (migrated Forms responses) whose "
                f"column {field.name!r} does not fit the model's staging schema any more",
                hint="move the staged file aside, run `cetk sync --full`, then run `cetk migrate forms` again",
            ) from None
    return pa.Table.from_arrays(columns, schema=schema)
