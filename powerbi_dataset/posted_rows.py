"""The rows a load posts, built column by column: a staged table's published columns typed as the model
publishes them, the publish columns appended (load_id set to the load), the tombstone row of a key gone,
and the hash of a row that decides whether it posts again (powerbi_dataset/changes.py decides that).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from errors import PublishError
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.keys import key_values
from powerbi_dataset.schema import LOAD_SEQ_COLUMN, TOMBSTONE_COLUMN, Dataset, Table
from powerbi_dataset.versioning import publish_columns, version_ref

LINEAGE_LOAD_ID = "load_id"  # the model's lineage column: set to the load's id on every posted row


def published_data(table: Table, staged: pa.Table) -> pa.Table:
    """The staged table's published columns, typed as the model stages them; a missing column is refused."""
    schema = arrow_schema(table, "published")
    missing = [name for name in schema.names if name not in staged.column_names]
    if missing:
        raise PublishError(
            f"staged {table.name} has no column {', '.join(missing)}",
            hint="the model changed since the table was staged: run `cetk sync --full`",
        )
    columns = [staged.column(name).cast(schema.field(name).type) for name in schema.names]
    return pa.table(columns, schema=schema.with_metadata({}))


def arrow_type(table: Table, name: str) -> pa.DataType:
    return arrow_schema(table, "published").field(name).type


def row_hashes(table: Table, data: pa.Table, refs: Mapping[str, pd.Series]) -> pd.Series:
    """A 64-bit hash per row over its published values (load_id aside), the refs it holds and the layout."""
    names = [name for name in data.column_names if name != LINEAGE_LOAD_ID]
    frame = data.select(names).to_pandas() if names else pd.DataFrame(index=range(data.num_rows))
    for column, values in refs.items():
        frame[column] = as_objects(values)
    layout = "|".join(f"{name}:{table.column(name).kind}" for name in names) + "|" + "|".join(refs)
    frame["__layout"] = layout
    return pd.util.hash_pandas_object(frame, index=False)


def with_publish_columns(
    table: Table, dataset: Dataset, data: pa.Table, extra: Mapping[str, pa.Array], load_id: str
) -> pa.Table:
    """The rows as posted: published columns (load_id set to the load), then the publish columns in order."""
    columns = {name: data.column(name) for name in data.column_names}
    columns[LINEAGE_LOAD_ID] = pa.array([load_id] * data.num_rows, pa.string())
    for column in publish_columns(table, dataset):
        columns[column.name] = extra[column.name]
    return pa.table(columns)


def as_objects(values: pd.Series) -> np.ndarray:
    """Values as Python objects, missing ones None (what pa.array and the publish state take)."""
    array = values.to_numpy(dtype=object, copy=True)
    array[pd.isna(array)] = None
    return array


def tombstone_rows(
    table: Table,
    dataset: Dataset,
    gone: list[str],
    own: str | None,
    ref_columns: Sequence[str],
    load_id: str,
    load_seq: int,
) -> pa.Table:
    """One row per key gone: its key, nulls elsewhere, flagged a tombstone under a new version ref."""
    columns = key_values(table, gone)
    count = len(gone)
    data = pa.table(
        {
            column.name: columns.get(column.name, pa.nulls(count, arrow_type(table, column.name)))
            for column in table.published_columns
        }
    )
    extra: dict[str, pa.Array] = {
        LOAD_SEQ_COLUMN: pa.array([load_seq] * count, pa.int64()),
        TOMBSTONE_COLUMN: pa.array([True] * count, pa.bool_()),
    }
    if own is not None:
        extra[own] = pa.array([version_ref(load_id, key) for key in gone], pa.string())
    for column in ref_columns:
        extra[column] = pa.nulls(count, pa.string())
    return with_publish_columns(table, dataset, data, extra, load_id)
