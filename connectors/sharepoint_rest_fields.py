"""SharePoint REST field definitions (SP.Field) as live columns, and the item queries a read of mapped columns needs.

SharePoint REST says more about a column than Graph: every type (Graph gives none for hyperlink, location
and managed metadata), and whether choice columns are multi-valued. A read selects only the mapped columns
and splits them into queries of at most `LOOKUP_COLUMN_THRESHOLD` lookup-type columns each, because a
multi-item query over the lookup column threshold is refused with a 500 (microsoft-apis.md §2.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from errors import SourceFormatError
from transforms.list_columns import LiveColumn
from transforms.sharepoint_fields import SharePointType

# Lookup, person and managed-metadata columns (Created By, Modified By and TaxCatchAll too) per multi-item
# query: SharePoint Online's list view lookup threshold (SharePoint limits; sp-dev-docs#1521, #4660).
LOOKUP_COLUMN_THRESHOLD = 12
LOOKUP_TYPES: frozenset[SharePointType] = frozenset(
    {"lookup", "multilookup", "person", "multiperson", "term", "multiterm"}
)
# TypeAsString -> (single type, multi type); DateTime is date-only when DisplayFormat is 0 (DateOnly).
_TYPES: dict[str, SharePointType] = {
    "Text": "text", "Note": "note", "Choice": "choice", "MultiChoice": "multichoice", "Number": "number",
    "Currency": "currency", "Boolean": "boolean", "DateTime": "dateTime", "Lookup": "lookup",
    "LookupMulti": "multilookup", "User": "person", "UserMulti": "multiperson", "URL": "hyperlink",
    "Location": "location", "TaxonomyFieldType": "term", "TaxonomyFieldTypeMulti": "multiterm",
}  # fmt: skip
_MULTI: dict[SharePointType, bool] = {
    "choice": False, "multichoice": True, "lookup": False, "multilookup": True, "person": False,
    "multiperson": True, "term": False, "multiterm": True,
}  # fmt: skip
TAX_CATCH_ALL = "TaxCatchAll"  # the hidden lookup into the TaxonomyHiddenList: a single term's label
ITEM_PROPERTIES = ("Id", "GUID", "owshiddenversion", "Created", "Modified")  # for id, eTag and timestamps


@dataclass(frozen=True)
class RestField:
    """What reading one column needs: its internal name, the REST property that carries it, its type."""

    name: str  # InternalName: the key under a Graph item's `fields`
    entity_property: (
        str  # EntityPropertyName: the name in `$select` and in the item JSON (`OData__x` for `_x`)
    )
    type: SharePointType | None
    show_field: str = "Title"  # lookups: the target list's column Graph gives as LookupValue

    @property
    def is_lookup(self) -> bool:
        return self.type in LOOKUP_TYPES


@dataclass(frozen=True)
class ItemQuery:
    """One REST query of a read: its `$select`, its `$expand`, and the columns it carries."""

    select: tuple[str, ...]
    expand: tuple[str, ...]
    fields: tuple[RestField, ...]
    lookups: int  # lookup-type columns it touches, TaxCatchAll included

    @property
    def is_primary(self) -> bool:
        return "GUID" in self.select


def field_type(field: Mapping[str, Any]) -> SharePointType | None:
    found = _TYPES.get(str(field.get("TypeAsString", "")))
    if found == "dateTime" and field.get("DisplayFormat") == 0:
        return "dateOnly"
    return found


def live_column(field: Mapping[str, Any], choices: Sequence[str]) -> LiveColumn:
    """A LiveColumn from one SP.Field (its `Choices` already read into a list)."""
    kind = field_type(field)
    lookup_list = str(field.get("LookupList") or "").strip("{}").lower()
    return LiveColumn(
        name=str(field["InternalName"]),
        display_name=str(field.get("Title") or field["InternalName"]),
        type=kind,
        choices=tuple(choices),
        multi=_MULTI.get(kind) if kind is not None else None,
        lookup_list_id=lookup_list if kind in ("lookup", "multilookup") and lookup_list else None,
        hidden=bool(field.get("Hidden")),
        read_only=bool(field.get("ReadOnlyField")),
        indexed=bool(field.get("Indexed")),
        required=bool(field.get("Required")),
    )


def rest_field(field: Mapping[str, Any]) -> RestField:
    name = str(field["InternalName"])
    return RestField(
        name=name,
        entity_property=str(field.get("EntityPropertyName") or name),
        type=field_type(field),
        show_field=str(field.get("LookupField") or "Title"),
    )


def plan_queries(
    select: Sequence[str],
    fields: Mapping[str, RestField],
    *,
    list_name: str,
    extra_lookups: Sequence[str] = (),
    threshold: int = LOOKUP_COLUMN_THRESHOLD,
) -> list[ItemQuery]:
    """The queries that read `select` (internal names): the first carries every plain column and the
    item's id, version and timestamps; lookup-type columns fill it and then further queries, `threshold`
    per query, so no query is refused. A name the list does not have is a SourceFormatError."""
    wanted: list[RestField] = []
    for name in dict.fromkeys(select):
        if name not in fields:
            raise SourceFormatError(
                f"list '{list_name}' has no column '{name}'",
                hint="the mapping names a column the list does not have: run `cetk check` for the drift",
            )
        wanted.append(fields[name])
    forced = set(extra_lookups)
    plain = [f for f in wanted if not (f.is_lookup or f.name in forced)]
    lookups = [f for f in wanted if f.is_lookup or f.name in forced]
    groups: list[list[RestField]] = [[]]
    for column in lookups:
        cost = _cost(column, groups[-1])
        if groups[-1] and _lookups(groups[-1]) + cost > threshold:
            groups.append([])
        groups[-1].append(column)
    return [_query(groups[0], first=True, plain=plain), *(_query(group, first=False) for group in groups[1:])]


def _cost(column: RestField, group: Sequence[RestField]) -> int:
    needs_catch_all = column.type == "term" and not any(other.type == "term" for other in group)
    return 1 + (1 if needs_catch_all else 0)


def _lookups(group: Sequence[RestField]) -> int:
    return len(group) + (1 if any(column.type == "term" for column in group) else 0)


def _query(group: Sequence[RestField], *, first: bool, plain: Sequence[RestField] = ()) -> ItemQuery:
    select: list[str] = list(ITEM_PROPERTIES) if first else ["Id"]
    expand: list[str] = []
    for column in [*plain, *group]:
        prop = column.entity_property
        if column.type in ("lookup", "person"):
            select.append(f"{prop}Id")
        elif column.type == "multilookup":
            select += [f"{prop}/Id", f"{prop}/{column.show_field}"]
            expand.append(prop)
        elif column.type == "multiperson":
            select += [f"{prop}/Id", f"{prop}/Title", f"{prop}/EMail"]
            expand.append(prop)
        elif column.type == "term":
            select.append(prop)
            if TAX_CATCH_ALL not in expand:  # REST labels a single term with its WssId; the label is here
                select += [f"{TAX_CATCH_ALL}/ID", f"{TAX_CATCH_ALL}/Term"]
                expand.append(TAX_CATCH_ALL)
        else:
            select.append(prop)
    return ItemQuery(tuple(dict.fromkeys(select)), tuple(expand), (*plain, *group), _lookups(group))
