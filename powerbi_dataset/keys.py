"""A row's key as one text value (for the publish state and version refs), and back, by the model's kinds.

String keys are themselves; numbers, flags and datetimes are written in a fixed form; the parts of a
composite key are joined with the unit separator, which no code or id contains.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.kinds import KIND_TYPES
from powerbi_dataset.schema import Column, Table
from powerbi_dataset.versioning import KEY_SEPARATOR

# ISO 8601 in UTC, as key parts and POSTed DateTime values are written: Arrow's %S carries the fraction
# of the unit (microseconds for the staged timestamp[us]), e.g. 2026-11-02T09:00:00.000000Z.
ARROW_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def key_texts(table: Table, data: pa.Table) -> pd.Series:
    """The key of every row of `data` as text (a pandas string Series, nulls where a key part is null)."""
    parts = [_text(table.column(name), data.column(name)) for name in table.key]
    joined = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, KEY_SEPARATOR)
    return pd.Series(joined.to_pandas(), dtype="string").reset_index(drop=True)


def column_key_texts(column: Column, values: pa.ChunkedArray | pa.Array) -> pd.Series:
    """One column's values as the key texts of the table they refer to (for foreign keys)."""
    return pd.Series(_text(column, values).to_pandas(), dtype="string").reset_index(drop=True)


def _text(column: Column, values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if column.kind == "String":
        return values.cast(pa.string())
    if column.kind == "DateTime":
        return pc.strftime(values.cast(KIND_TYPES["DateTime"].storage), format=ARROW_ISO_FORMAT)
    if column.kind == "Boolean":
        return pc.if_else(values, "true", "false")
    return values.cast(pa.string())


def key_values(table: Table, texts: Sequence[str]) -> dict[str, pa.Array]:
    """Key columns rebuilt from key texts, typed as staged (for tombstone rows)."""
    split = [text.split(KEY_SEPARATOR) if len(table.key) > 1 else [text] for text in texts]
    return {
        name: pa.array([_parse(table.column(name), parts[index]) for parts in split], _storage(table, name))
        for index, name in enumerate(table.key)
    }


def _storage(table: Table, name: str) -> pa.DataType:
    return KIND_TYPES[table.column(name).kind].storage


def _parse(column: Column, text: str) -> Any:
    if column.kind == "String":
        return text
    if column.kind == "DateTime":
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if column.kind == "Boolean":
        return text == "true"
    if column.kind == "Int64":
        return int(text)
    return float(text)


def fingerprint(key: str) -> str:
    """A short, stable stand-in for a key in messages (never the key itself: it may name a person)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
