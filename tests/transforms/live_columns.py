"""Live column definitions as a Graph connector sees them, built from the emulator's columnDefinition JSON.

A stand-in for the connectors' conversion (branches i8-graph / i8-sharepoint) so drift and proposal tests
read what Graph really gives: no type facet for hyperlink, location and managed-metadata columns, no
multi-value flag on choice columns, read-only location sub-columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.demo.site import LIST_SHAPES, ListShape
from emulator.graph.columns import column_json
from emulator.lists.values import ListColumn
from transforms.list_columns import LiveColumn, LiveList
from transforms.sharepoint_fields import SharePointType


def live_column(definition: dict[str, Any]) -> LiveColumn:
    kind: SharePointType | None = None
    multi: bool | None = None
    choices: tuple[str, ...] = ()
    lookup_list_id = None
    if "text" in definition:
        kind = "note" if definition["text"]["allowMultipleLines"] else "text"
    elif "choice" in definition:
        kind, choices = "choice", tuple(definition["choice"]["choices"])
    elif "number" in definition:
        kind = "number"
    elif "currency" in definition:
        kind = "currency"
    elif "boolean" in definition:
        kind = "boolean"
    elif "dateTime" in definition:
        kind = "dateOnly" if definition["dateTime"]["format"] == "dateOnly" else "dateTime"
    elif "lookup" in definition:
        multi = definition["lookup"]["allowMultipleValues"]
        kind, lookup_list_id = ("multilookup" if multi else "lookup"), definition["lookup"]["listId"]
    elif "personOrGroup" in definition:
        multi = definition["personOrGroup"]["allowMultipleSelection"]
        kind = "multiperson" if multi else "person"
    return LiveColumn(
        definition["name"], definition["displayName"], kind, choices, multi, lookup_list_id,
        definition["hidden"], definition["readOnly"], definition["indexed"], definition["required"],
    )  # fmt: skip


@dataclass(frozen=True)
class _Target:
    id: str  # all column_json reads of a lookup's target list


def live_list(
    display_name: str,
    columns: Sequence[ListColumn],
    list_id: str = "list-guid",
    list_ids: Mapping[str, str] | None = None,
) -> LiveList:
    """`list_ids` (display name -> id) gives lookups the id of the list they point into."""
    ids = list_ids or {}

    def target(column: ListColumn) -> _Target | None:
        return _Target(ids[column.lookup_list]) if column.lookup_list in ids else None

    definitions = [d for column in columns for d in column_json(column, target(column))]  # type: ignore[arg-type]
    return LiveList(
        list_id, display_name, display_name.replace(" ", ""), tuple(live_column(d) for d in definitions)
    )


def demo_live_lists(shapes: Sequence[ListShape] = LIST_SHAPES) -> list[LiveList]:
    ids = {shape.display_name: f"guid-{index}" for index, shape in enumerate(shapes)}
    return [live_list(shape.display_name, shape.columns, ids[shape.display_name], ids) for shape in shapes]
