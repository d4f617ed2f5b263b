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
