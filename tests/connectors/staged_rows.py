"""Synthetic rows in a model table's staging schema, built column by column (no per-row Python dicts).

Values follow the column's kind only; staging does not validate. `version` changes every non-key value,
so a test can tell an old row from its replacement.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.schema import Column, Table

EPOCH_MICROS = 1_750_000_000_000_000  # 2025-06-15


def item_key(number: int) -> str:
    return f"sp:list-guid:{number}"


def rows(table: Table, numbers: Sequence[int], *, version: int = 1, children: int = 1) -> pa.Table:
    """One row per number (or `children` per number for a two-column key: the bridge shape)."""
    schema = arrow_schema(table, "staging")
    ids = np.repeat(np.asarray(numbers, dtype=np.int64), children)
    child = np.tile(np.arange(children, dtype=np.int64), len(numbers))
    columns = [
        _column(column, field.type, ids, child, version, table)
        for column, field in zip(table.columns, schema, strict=True)
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def _column(
    column: Column, kind: pa.DataType, ids: np.ndarray, child: np.ndarray, version: int, table: Table
) -> pa.Array:
    if column.name == table.key[0]:
        return pa.array([item_key(int(number)) for number in ids], type=kind)
    if len(table.key) > 1 and column.name == table.key[1]:
        return pa.array([f"child-{int(number):04d}" for number in child], type=kind)
    if column.name == "source_system":  # rows a list sync writes (a full snapshot carries any other's)
        return pa.array(["sp_list"] * len(ids), type=kind)
    if column.codes:
        codes = [code.code for code in column.codes]
        return pa.array([codes[(int(number) + version) % len(codes)] for number in ids], type=kind)
    if pa.types.is_string(kind):
        return pa.array([f"{column.name}-{int(number)}-v{version}" for number in ids], type=kind)
    if pa.types.is_int64(kind):
        return pa.array(ids * 10 + version, type=kind)
    if pa.types.is_float64(kind):
        return pa.array(ids / 7.0 + version, type=kind)
    if pa.types.is_boolean(kind):
        return pa.array((ids + version) % 2 == 0, type=kind)
    if pa.types.is_timestamp(kind):
        return pa.array(EPOCH_MICROS + ids * 1_000_000 + version, type=kind)
    if pa.types.is_decimal(kind):
        return pa.array([decimal.Decimal(int(number)) for number in ids], type=kind)
    raise AssertionError(f"no synthetic values for {kind}")


def keys(table: pa.Table, column: str) -> list[str]:
    return [str(value) for value in table.column(column).to_pylist()]
