"""What the list and Forms mappings may point at in the canonical model: columns, codes, bridges, keys.

Shared by transforms/list_mapping.py and transforms/forms_mapping.py; each check answers with the
problem in words (naming table and column), or nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from powerbi_dataset.schema import Column, Dataset, Table

OFFICERS_TABLE = "officers"
OFFICER_KEY = "officer_key"


def officer_key_columns(dataset: Dataset) -> frozenset[tuple[str, str]]:
    """(table, column) pairs that hold officer keys: the officers key and every column related to it."""
    related = {
        (relationship.from_table, relationship.from_column)
        for relationship in dataset.relationships
        if (relationship.to_table, relationship.to_column) == (OFFICERS_TABLE, OFFICER_KEY)
    }
    return frozenset({(OFFICERS_TABLE, OFFICER_KEY), *related})


def find_table(dataset: Dataset, name: str) -> Table | None:
    return next((table for table in dataset.tables if table.name == name), None)


def find_column(table: Table, name: str) -> Column | None:
    return next((column for column in table.columns if column.name == name), None)


def iter_missing(table: Table, names: Iterable[str]) -> Iterator[str]:
    for name in names:
        if find_column(table, name) is None:
            yield f"'{name}' is not a column of table '{table.name}'"


def iter_code_problems(table: Table, column: Column, values: Iterable[object]) -> Iterator[str]:
    """Each value must be one of the column's codes (or a boolean, for a Boolean column)."""
    for value in values:
        if column.kind == "Boolean":
            if not isinstance(value, bool):
                yield f"{table.name}.{column.name} is Boolean: map answers to true or false, not {value!r}"
        elif not column.codes:
            yield f"{table.name}.{column.name} has no codes, so it takes no choices"
            return
        elif value not in column.code_values:
            yield f"{value!r} is not a code of {table.name}.{column.name}"


def bridge_problem(dataset: Dataset, bridge: str, parent_key: str, target: str) -> str | None:
    """A bridge holds one row per parent and value: it must be keyed on exactly (parent key, target)."""
    table = find_table(dataset, bridge)
    if table is None:
        return f"bridge table '{bridge}' is not in the model"
    missing = list(iter_missing(table, (parent_key, target)))
    if missing:
        return "; ".join(missing)
    if set(table.key) != {parent_key, target}:
        return f"bridge table '{bridge}' is keyed on {', '.join(table.key)}, not on {parent_key} and {target}"
    return None


def refers_to(dataset: Dataset, table: Table, column: Column, target: Table) -> bool:
    """The column holds the target table's key: by a declared relationship, by name, or by its codes."""
    if len(target.key) != 1:
        return False
    key = target.column(target.key[0])
    declared = any(
        (r.from_table, r.from_column, r.to_table, r.to_column)
        == (table.name, column.name, target.name, key.name)
        for r in dataset.relationships
    )
    return declared or column.name == key.name or bool(column.codes and column.codes == key.codes)
