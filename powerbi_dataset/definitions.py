"""The model's push definition against what the dataset was given: what PutTable can change, what it cannot.

Power BI's GetTables names a push dataset's tables but not their columns, so cetk compares with the
definition it recorded when it created or put each table (and with the service's columns when it does
list them). PutTable replaces an existing table's columns and measures; nothing adds a table or a
relationship to an existing push dataset, and a column's type is not changed under rows already stored:
those need the dataset created again (`--recreate`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from errors import PublishError


@dataclass(frozen=True)
class TableChange:
    table: str
    changes: tuple[str, ...]  # what differs, for people
    in_place: bool  # PutTable can make it


def definition_text(value: Any) -> str:
    """A definition as recorded: canonical JSON, so equal definitions give equal text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compare_table(
    model: Mapping[str, Any], recorded: Mapping[str, Any] | None, service_columns: Sequence[Mapping[str, Any]]
) -> TableChange | None:
    """How the model's table differs from what the dataset holds; None when it does not."""
    name = str(model["name"])
    if recorded is None and not service_columns:
        return TableChange(name, ("definition not recorded here: put again",), True)
    old_columns = (
        _types(service_columns) if service_columns else _types(recorded["columns"] if recorded else ())
    )
    new_columns = _types(model["columns"])
    retyped = [
        f"column {column}: {old_columns[column]} -> {new_columns[column]}"
        for column in sorted(set(old_columns) & set(new_columns))
        if old_columns[column] != new_columns[column]
    ]
    if retyped:
        return TableChange(name, tuple(retyped), False)
    changes = [f"column {column} added" for column in sorted(set(new_columns) - set(old_columns))]
    changes += [f"column {column} removed" for column in sorted(set(old_columns) - set(new_columns))]
    if recorded is not None and not changes:
        if definition_text(recorded.get("measures", [])) != definition_text(model.get("measures", [])):
            changes.append("measures changed")
        if definition_text(recorded) != definition_text(model) and not changes:
            changes.append("column properties or description changed")
    return TableChange(name, tuple(changes), True) if changes else None


def _types(columns: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Column name (lower case: Power BI matches names case-insensitively) -> dataType (lower case)."""
    aliases = {"bool": "boolean"}
    types: dict[str, str] = {}
    for column in columns:
        kind = str(column.get("dataType", column.get("datatype", ""))).lower()
        types[str(column.get("name", "")).lower()] = aliases.get(kind, kind)
    return types


def dataset_changes(
    dataset_name: str,
    definition: Mapping[str, Any],
    service_tables: Mapping[str, Sequence[Mapping[str, Any]]],
    recorded: Mapping[str, str | None],
    recorded_relationships: str | None,
) -> list[TableChange]:
    """The tables PutTable must change (in the model's order); PublishError naming every change it cannot
    make. `service_tables`: lower-cased table name -> columns the service listed (often none)."""
    changes: list[TableChange] = []
    cannot: list[str] = []
    for table in definition["tables"]:
        name = str(table["name"])
        if name.lower() not in service_tables:
            cannot.append(f"table {name}: not in the dataset (Power BI cannot add a table to a push dataset)")
            continue
        text = recorded.get(name)
        change = compare_table(table, json.loads(text) if text else None, service_tables[name.lower()])
        if change is None:
            continue
        if change.in_place:
            changes.append(change)
        else:
            cannot += [f"table {name}: {item}" for item in change.changes]
    relationships = definition_text(definition["relationships"])
    if recorded_relationships not in (None, relationships):
        cannot.append("relationships changed (Power BI sets them only when a dataset is created)")
    if cannot:
        raise PublishError(
            f"dataset '{dataset_name}' cannot take the model in place: " + "; ".join(cannot),
            hint="run `cetk publish --recreate`: it deletes the dataset and creates it again, so reports "
            "bound to it must be pointed at the new one, and every row is posted again",
        )
    return changes
