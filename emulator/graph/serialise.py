"""Graph JSON for sites, lists, columns and list items, shaped as microsoft-apis.md §2.1–2.3 records."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from emulator.lists.store import THRESHOLD_TYPES, Item, ListColumn, Location, Lookup, Person, Site, SpList
from emulator.lists.wire import content_type_id, iso_utc, term_json, value_json

ITEM_CONTENT_TYPE = "Item"
# Built-in lookup columns every list item carries; they count towards the lookup threshold.
BUILTIN_LOOKUP_KEYS = ("AuthorLookupId", "EditorLookupId")
# The annotation Graph writes before a multi-valued choice value in `fields` (an OData collection type).
MULTICHOICE_TYPE = "Collection(Edm.String)"


def user_id(person: Person) -> str:
    """A stable directory-object id for a person (the store only knows SharePoint lookup ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"person:{person.lookup_id}:{person.email.lower()}"))


@lru_cache(maxsize=4096)
def identity(person: Person) -> dict[str, Any]:
    """Shared between items (never mutate the result)."""
    return {"user": {"displayName": person.display_name, "email": person.email, "id": user_id(person)}}


def site_json(site: Site) -> dict[str, Any]:
    collection, web = site.id.split(",")[1:3]
    return {
        "id": site.id,
        "name": site.path.rsplit("/", 1)[-1],
        "displayName": site.display_name,
        "webUrl": site.web_url,
        "createdDateTime": iso_utc(site.created),
        "lastModifiedDateTime": iso_utc(site.created),
        "siteCollection": {"hostname": site.hostname},
        "root": {} if site.path == "/" else None,
        "sharepointIds": {"siteId": collection, "webId": web, "siteUrl": site.web_url},
    }


def list_json(sp_list: SpList) -> dict[str, Any]:
    return {
        "@odata.etag": f'"{sp_list.id},{sp_list.current_seq}"',
        "id": sp_list.id,
        "name": sp_list.name,
        "displayName": sp_list.display_name,
        "createdDateTime": iso_utc(sp_list.created),
        "lastModifiedDateTime": iso_utc(sp_list.modified),
        "webUrl": f"{sp_list.site.web_url}/Lists/{sp_list.name}",
        "parentReference": {"siteId": sp_list.site.id},
        "list": {"contentTypesEnabled": False, "hidden": False, "template": "genericList"},
    }


@dataclass(frozen=True)
class Projection:
    """Which `fields` keys one query asks for; None selects the defaults."""

    select: frozenset[str] | None
    omitted_lookups: frozenset[str]  # lookup columns dropped by the lookup threshold


def lookup_keys(sp_list: SpList, projection_select: frozenset[str] | None) -> list[str]:
    """The lookup-type columns (lookups, people, managed metadata) a query touches, built-ins first, in the
    order the threshold counts them."""
    keys = [
        key for key in BUILTIN_LOOKUP_KEYS if projection_select is None or _selected(key, projection_select)
    ]
    for column in sp_list.columns:
        if column.type in THRESHOLD_TYPES and (
            (projection_select is None and not column.hidden)
            or (projection_select is not None and _selected(column.name, projection_select))
        ):
            keys.append(column.name)
    return keys


def _selected(name: str, select: frozenset[str]) -> bool:
    base = name[: -len("LookupId")] if name.endswith("LookupId") else name
    return name in select or base in select or f"{base}LookupId" in select


_PLAIN_TYPES = frozenset({"text", "note", "choice", "number", "currency", "boolean"})
_WIRE_TYPES = frozenset({"dateTime", "dateOnly", "hyperlink", "term"})  # written as emulator.lists.wire says


@lru_cache(maxsize=256)
def _plan(
    columns: tuple[ListColumn, ...], select: frozenset[str] | None, omitted: frozenset[str]
) -> tuple[tuple[tuple[int, ListColumn, bool], ...], tuple[str, ...]]:
    """Which columns (position, column, plain) and which default keys one projection writes."""
    chosen = tuple(
        (position, column, column.type in _PLAIN_TYPES)
        for position, column in enumerate(columns)
        if column.name not in omitted
        and (not column.hidden if select is None else _selected(column.name, select))
    )
    defaults = tuple(
        key for key in _DEFAULT_KEYS if key not in omitted and (select is None or _selected(key, select))
    )
    return chosen, defaults


_DEFAULT_KEYS = (
    "id", "ContentType", "Modified", "Created", "AuthorLookupId", "EditorLookupId", "_UIVersionString",
    "Attachments", "Edit", "LinkTitleNoMenu", "LinkTitle", "ItemChildCount", "FolderChildCount",
    "_ComplianceFlags", "_ComplianceTag", "_ComplianceTagWrittenTime", "_ComplianceTagUserId",
)  # fmt: skip


def fields_json(item: Item, sp_list: SpList, zone: ZoneInfo, projection: Projection) -> dict[str, Any]:
    chosen, default_keys = _plan(sp_list.columns, projection.select, projection.omitted_lookups)
    values = item.values
    out: dict[str, Any] = {"@odata.etag": item.etag}
    for position, column, plain in chosen:
        value = values[position]
        if value is None:
            continue
        if plain:
            out[column.name] = value
        else:
            _put_value(out, column, value, zone)
    title = values[sp_list.positions["Title"]]
    defaults: dict[str, Any] = {
        "id": item.id,
        "ContentType": ITEM_CONTENT_TYPE,
        "Modified": iso_utc(item.modified),
        "Created": iso_utc(item.created),
        "AuthorLookupId": str(item.author.lookup_id),
        "EditorLookupId": str(item.editor.lookup_id),
        "_UIVersionString": f"{item.version}.0",
        "Attachments": False,
        "Edit": "",
        "LinkTitleNoMenu": title,
        "LinkTitle": title,
        "ItemChildCount": "0",
        "FolderChildCount": "0",
        "_ComplianceFlags": "",
        "_ComplianceTag": "",
        "_ComplianceTagWrittenTime": "",
        "_ComplianceTagUserId": "",
    }
    for key in default_keys:
        value = defaults[key]
        if value is not None:
            out[key] = value
    return out


def _put_value(out: dict[str, Any], column: ListColumn, value: object, zone: ZoneInfo) -> None:
    name, kind = column.name, column.type
    if kind in _WIRE_TYPES:
        out[name] = value_json(kind, value, zone)
    elif kind in ("lookup", "person"):
        assert isinstance(value, Lookup | Person)
        out[f"{name}LookupId"] = str(value.lookup_id)
    elif kind == "multichoice":
        out[f"{name}@odata.type"] = MULTICHOICE_TYPE
        out[name] = list(value)  # type: ignore[call-overload]
    elif kind == "multilookup":
        out[name] = [{"LookupId": v.lookup_id, "LookupValue": v.value} for v in value]  # type: ignore[attr-defined]
    elif kind == "multiperson":
        out[name] = [
            {"LookupId": v.lookup_id, "LookupValue": v.display_name, "Email": v.email}
            for v in value  # type: ignore[attr-defined]
        ]
    elif kind == "location":
        assert isinstance(value, Location)
        _put_location(out, name, value)
    elif kind == "multiterm":
        out[name] = [term_json(v) for v in value]  # type: ignore[attr-defined]
    else:
        out[name] = value


def _put_location(out: dict[str, Any], name: str, value: Location) -> None:
    unique = str(uuid.uuid5(uuid.NAMESPACE_URL, f"location:{value.display_name}:{value.street}:{value.city}"))
    address = {
        "street": value.street,
        "city": value.city,
        "state": value.state,
        "countryOrRegion": value.country_or_region,
        "postalCode": value.postal_code,
    }
    body: dict[str, Any] = {"displayName": value.display_name, "address": address}
    if value.latitude is not None and value.longitude is not None:
        body["coordinates"] = {"latitude": value.latitude, "longitude": value.longitude}
    body["locationUri"] = f"https://www.bingapis.com/api/v6/addresses/{unique}"
    body["uniqueId"] = body["locationUri"]
    out[name] = body
    out["CountryOrRegion"] = value.country_or_region
    out["State"] = value.state
    out["City"] = value.city
    out["PostalCode"] = value.postal_code
    out["Street"] = value.street
    if "coordinates" in body:
        out["GeoLoc"] = dict(body["coordinates"])
    out["DispName"] = value.display_name


def item_json(
    item: Item,
    sp_list: SpList,
    zone: ZoneInfo,
    projection: Projection | None,
    *,
    with_modifier: bool = True,
) -> dict[str, Any]:
    """A listItem; `projection` None leaves `fields` out (no $expand=fields)."""
    body: dict[str, Any] = {
        "@odata.etag": item.etag,
        "createdDateTime": iso_utc(item.created),
        "eTag": item.etag,
        "id": item.id,
        "lastModifiedDateTime": iso_utc(item.modified),
        "webUrl": f"{sp_list.site.web_url}/Lists/{sp_list.name}/{item.id}_.000",
        "createdBy": identity(item.author),
    }
    if with_modifier:  # delta responses leave lastModifiedBy out
        body["lastModifiedBy"] = identity(item.editor)
    body["parentReference"] = {"id": sp_list.id, "siteId": sp_list.site.id}
    body["contentType"] = {"id": content_type_id(sp_list), "name": ITEM_CONTENT_TYPE}
    if projection is not None:
        body["fields"] = fields_json(item, sp_list, zone, projection)
    return body


def deleted_item_json(item_id: str, sp_list: SpList) -> dict[str, Any]:
    return {
        "id": item_id,
        "parentReference": {"siteId": sp_list.site.id},
        "contentType": {"id": content_type_id(sp_list), "name": ITEM_CONTENT_TYPE},
        "deleted": {"state": "deleted"},
    }


def dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
