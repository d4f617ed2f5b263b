"""Graph's columnDefinition JSON as the contract's LiveColumn / LiveList (microsoft-apis.md §2.1).

Graph leaves the type facet out for hyperlink, location and managed-metadata columns (and thumbnails), so
their type is None; choice columns never say whether they take several values, so `multi` is None there.
A location's read-only sub-columns (`City`, `GeoLoc`, ...) come back as columns of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from transforms.list_columns import LiveColumn, LiveList
from transforms.sharepoint_fields import SharePointType


def live_column(definition: Mapping[str, Any]) -> LiveColumn:
    """One columnDefinition; facets Graph omits give type None rather than a guess."""
    kind, multi, choices, lookup_list = _type(definition)
    return LiveColumn(
        name=str(definition.get("name") or ""),
        display_name=str(definition.get("displayName") or ""),
        type=kind,
        choices=choices,
        multi=multi,
        lookup_list_id=lookup_list,
        hidden=bool(definition.get("hidden", False)),
        read_only=bool(definition.get("readOnly", False)),
        indexed=bool(definition.get("indexed", False)),
        required=bool(definition.get("required", False)),
    )


def live_list(body: Mapping[str, Any], columns: list[Mapping[str, Any]]) -> LiveList:
    return LiveList(
        id=str(body["id"]),
        display_name=str(body.get("displayName") or ""),
        name=str(body.get("name") or ""),
        columns=tuple(live_column(column) for column in columns),
    )


Facet = tuple[SharePointType | None, bool | None, tuple[str, ...], str | None]


def _type(definition: Mapping[str, Any]) -> Facet:
    text = _facet(definition, "text")
    if text is not None:
        return ("note" if text.get("allowMultipleLines") else "text"), False, (), None
    choice = _facet(definition, "choice")
    if choice is not None:
        return "choice", None, tuple(str(label) for label in choice.get("choices") or ()), None
    lookup = _facet(definition, "lookup")
    if lookup is not None:
        multi = bool(lookup.get("allowMultipleValues"))
        return ("multilookup" if multi else "lookup"), multi, (), (str(lookup.get("listId") or "") or None)
    person = _facet(definition, "personOrGroup")
    if person is not None:
        multi = bool(person.get("allowMultipleSelection"))
        return ("multiperson" if multi else "person"), multi, (), None
    date = _facet(definition, "dateTime")
    if date is not None:
        return ("dateOnly" if date.get("format") == "dateOnly" else "dateTime"), False, (), None
    term = _facet(definition, "term")
    if term is not None:  # documented, though list-column answers leave it out (§2.1 caveat)
        multi = bool(term.get("allowMultipleValues"))
        return ("multiterm" if multi else "term"), multi, (), None
    for facet, kind in (("number", "number"), ("currency", "currency"), ("boolean", "boolean"),
                        ("hyperlinkOrPicture", "hyperlink")):  # fmt: skip
        if _facet(definition, facet) is not None:
            return kind, False, (), None  # type: ignore[return-value]
    return None, None, (), None  # no facet (or calculated, geolocation, thumbnail ...): Graph does not say


def _facet(definition: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    value = definition.get(name)
    return value if isinstance(value, Mapping) else None
