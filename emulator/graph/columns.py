"""Graph columnDefinition JSON for list columns (microsoft-apis.md §2.1), including the documented gaps."""

from __future__ import annotations

import uuid
from typing import Any

from emulator.lists.store import ListColumn, SpList

LOCATION_SUBCOLUMNS = (  # (internal name, display suffix); read-only siblings of a location column
    ("CountryOrRegion", "Country/Region"), ("State", "State"), ("City", "City"), ("PostalCode", "Postal code"),
    ("Street", "Street"), ("GeoLoc", "Coordinates"), ("DispName", "Name"),
)  # fmt: skip


def column_json(column: ListColumn, target: SpList | None) -> list[dict[str, Any]]:
    """The columnDefinition(s) for one column: location columns add their read-only sub-columns."""
    base: dict[str, Any] = {
        "columnGroup": "Custom Columns",
        "description": "",
        "displayName": column.display_name,
        "enforceUniqueValues": False,
        "hidden": column.hidden,
        "id": str(uuid.uuid5(uuid.NAMESPACE_OID, column.name)),
        "indexed": column.indexed,
        "name": column.name,
        "readOnly": False,
        "required": column.required,
    }
    facet = _type_facet(column, target)
    if facet is not None:
        base[facet[0]] = facet[1]
    if column.type != "location":
        return [base]
    subcolumns = [
        {**base, "id": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{column.name}/{name}")), "name": name,
         "displayName": f"{column.display_name}: {suffix}", "readOnly": True, "required": False, "indexed": False,
         "text": {"allowMultipleLines": False, "appendChangesToExistingText": False, "linesForEditing": 0,
                  "maxLength": 255}}
        for name, suffix in LOCATION_SUBCOLUMNS
    ]  # fmt: skip
    return [base, *subcolumns]


def _type_facet(column: ListColumn, target: SpList | None) -> tuple[str, dict[str, Any]] | None:
    kind = column.type
    if kind in ("text", "note"):
        multi = kind == "note"
        return "text", {
            "allowMultipleLines": multi,
            "appendChangesToExistingText": False,
            "linesForEditing": 6 if multi else 0,
            "maxLength": 63999 if multi else (column.max_length or 255),
        }
    if kind in ("choice", "multichoice"):
        # No allowMultipleValues: multi-choice shows only in array values (documented caveat).
        display = "checkBoxes" if kind == "multichoice" else "dropDownMenu"
        return "choice", {"allowTextEntry": False, "choices": list(column.choices), "displayAs": display}
    if kind == "number":
        return "number", {"decimalPlaces": "automatic", "displayAs": "number"}
    if kind == "currency":
        return "currency", {"locale": "en-GB"}
    if kind == "boolean":
        return "boolean", {}
    if kind in ("dateTime", "dateOnly"):
        return "dateTime", {"displayAs": "default", "format": kind}
    if kind in ("lookup", "multilookup"):
        return "lookup", {
            "allowMultipleValues": kind == "multilookup",
            "allowUnlimitedLength": False,
            "columnName": "Title",
            "listId": target.id if target else "",
        }
    if kind in ("person", "multiperson"):
        return "personOrGroup", {
            "allowMultipleSelection": kind == "multiperson",
            "chooseFromType": "peopleOnly",
            "displayAs": "nameWithPresence",
        }
    return None  # hyperlink, location, term: Graph returns these columns with no type facet
