"""What may cross into Power BI: checked on the staged tables before a single POST (docs/publishing.md).

Refused, naming the table, the column, a key fingerprint and how many rows (never a value):
- a special-category column in a row-level table (by the model, or by the staged file's own field metadata);
- a column marked personal that is not pseudonymised: it must declare the pattern of its pseudonyms
  (16 hex characters of a keyed HMAC) and every value must match it, so a raw staff number or email
  planted in `officer_key` stops the load;
- a text value over Power BI's 4,000 characters: such rows are quarantined upstream; one that arrives
  anyway refuses the load, and is never truncated.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyarrow as pa
import pyarrow.compute as pc

from errors import DataRefusedError
from powerbi_dataset.keys import fingerprint, key_texts
from powerbi_dataset.schema import MAX_STRING_CHARS, Column, Dataset, Table

PERSONAL_METADATA = b"personal"


def check_boundary(dataset: Dataset, staged: Mapping[str, pa.Table]) -> None:
    """Raise DataRefusedError at the first staged value that may not reach Power BI."""
    for table in dataset.published_tables:
        data = staged.get(table.name)
        if data is None or table.publish_mode == "control":
            continue
        for column in table.published_columns:
            if column.name in data.column_names:
                _check_column(table, column, data)


def _check_column(table: Table, column: Column, data: pa.Table) -> None:
    where = f"{table.name}.{column.name}"
    personal = _personal_class(column, data.schema.field(column.name))
    if personal == "special-category" and table.row_level:
        raise DataRefusedError(
            f"{where} is special-category data and {table.name} is row-level: it is never published",
            hint="publish it only through an aggregate under disclosure control (ccr_demographics_agg)",
        )
    values = data.column(column.name)
    if personal == "personal":
        if column.pattern is None:
            raise DataRefusedError(
                f"{where} is personal data with no pseudonym pattern: it cannot be shown to be pseudonymised",
                hint="declare the column's pattern (e.g. KEY_16_HEX) and stage keyed HMACs in it",
            )
        text = values.cast(pa.string())
        bad = pc.and_(pc.is_valid(text), pc.invert(pc.match_substring_regex(text, f"^(?:{column.pattern})$")))
        _refuse_rows(
            table, data, bad, f"{where} holds a value that is not a pseudonym (pattern {column.pattern})"
        )
    if column.kind == "String":
        too_long = pc.greater(pc.utf8_length(values.cast(pa.string())), MAX_STRING_CHARS)
        _refuse_rows(table, data, too_long, f"{where} holds text over {MAX_STRING_CHARS:,} characters")


def _personal_class(column: Column, field: pa.Field) -> str:
    """The stricter of the model's class and the one the staged file's field metadata records."""
    staged = (field.metadata or {}).get(PERSONAL_METADATA, b"none").decode("utf-8", "replace")
    order = ("none", "personal", "special-category")
    return max(column.personal, staged if staged in order else "personal", key=order.index)


def _refuse_rows(table: Table, data: pa.Table, mask: pa.ChunkedArray | pa.Array, what: str) -> None:
    mask = pc.fill_null(mask, False)
    count = pc.sum(mask).as_py() or 0
    if not count:
        return
    first = pc.index(mask, True).as_py()
    key = (
        key_texts(table, data.slice(first, 1)).iloc[0]
        if all(name in data.column_names for name in table.key)
        else None
    )
    where = f"key fingerprint {fingerprint(str(key))}" if key is not None else f"row {first}"
    raise DataRefusedError(f"{what}: {count} row(s), first at {where}; the load is refused before any POST")
