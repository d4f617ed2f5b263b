"""SharePoint REST (OData v3) JSON for list items: verbose `__metadata` form and the minimal/no-metadata forms."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from emulator.lists.store import Item, ListColumn, Location, Lookup, Person, SpList
from emulator.lists.wire import content_type_id, iso_utc, term_json, value_json

Metadata = str  # "verbose" | "minimalmetadata" | "nometadata"


def entity_type(sp_list: SpList) -> str:
    """`SP.Data.<ListName>ListItem`, the list's URL name with spaces encoded as SharePoint does."""
    name = sp_list.name.replace(" ", "_x0020_")
    return f"SP.Data.{name[:1].upper()}{name[1:]}ListItem"


def rest_name(name: str) -> str:
    """Internal names starting with an underscore are prefixed `OData_` in REST payloads."""
    return f"OData_{name}" if name.startswith("_") else name


def _collection(kind: str, values: list[Any], verbose: bool) -> Any:
    return {"__metadata": {"type": f"Collection({kind})"}, "results": values} if verbose else values


def _typed(kind: str, body: dict[str, Any], verbose: bool) -> dict[str, Any]:
    return {"__metadata": {"type": kind}, **body} if verbose else body


def _put(out: dict[str, Any], column: ListColumn, value: object, zone: ZoneInfo, verbose: bool) -> None:
    name, kind = rest_name(column.name), column.type
    if kind in ("lookup", "person"):
        lookup_id = value.lookup_id if isinstance(value, Lookup | Person) else None
        out[f"{name}Id"] = lookup_id
        if kind == "person":
            out[f"{name}StringId"] = None if lookup_id is None else str(lookup_id)
    elif kind in ("multilookup", "multiperson"):
        ids = [v.lookup_id for v in value] if isinstance(value, tuple) else []
        out[f"{name}Id"] = _collection("Edm.Int32", ids, verbose)
        if kind == "multiperson":
            out[f"{name}StringId"] = _collection("Edm.String", [str(i) for i in ids], verbose)
    elif value is None:
        out[name] = None
    elif kind == "multichoice":
        out[name] = _collection("Edm.String", list(value), verbose)  # type: ignore[call-overload]
    elif kind == "hyperlink":
        out[name] = _typed("SP.FieldUrlValue", value_json(kind, value, zone), verbose)
    elif kind == "term":
        out[name] = _typed("SP.Taxonomy.TaxonomyFieldValue", value_json(kind, value, zone), verbose)
    elif kind == "multiterm":
        terms = [_typed("SP.Taxonomy.TaxonomyFieldValue", term_json(t), verbose) for t in value]  # type: ignore[attr-defined]
        out[name] = _collection("SP.Taxonomy.TaxonomyFieldValue", terms, verbose)
    elif kind == "location":
        assert isinstance(value, Location)
        out[name] = json.dumps(_location(value))  # UNCONFIRMED: REST returns location as a JSON string
    else:
        out[name] = value_json(kind, value, zone)


def _location(value: Location) -> dict[str, Any]:
    body: dict[str, Any] = {
        "DisplayName": value.display_name,
        "Address": {
            "Street": value.street, "City": value.city, "State": value.state,
            "CountryOrRegion": value.country_or_region, "PostalCode": value.postal_code,
        },
    }  # fmt: skip
    if value.latitude is not None and value.longitude is not None:
        body["Coordinates"] = {"Latitude": value.latitude, "Longitude": value.longitude}
    return body


def item_json(
    item: Item,
    sp_list: SpList,
    zone: ZoneInfo,
    site_url: str,
    metadata: Metadata,
    select: frozenset[str] | None,
) -> dict[str, Any]:
    verbose = metadata == "verbose"
    uri = f"{site_url}/_api/Web/Lists(guid'{sp_list.id}')/Items({item.id})"
    out: dict[str, Any] = {}
    if verbose:
        out["__metadata"] = {
            "id": f"Web/Lists(guid'{sp_list.id}')/Items({item.id})",
            "uri": uri,
            "etag": f'"{item.version}"',
            "type": entity_type(sp_list),
        }
    elif metadata == "minimalmetadata":
        out["odata.type"] = entity_type(sp_list)
        out["odata.id"] = uri
        out["odata.etag"] = f'"{item.version}"'
        out["odata.editLink"] = f"Web/Lists(guid'{sp_list.id}')/Items({item.id})"
    out["FileSystemObjectType"] = 0
    out["Id"] = item.int_id
    out["ContentTypeId"] = content_type_id(sp_list)
    for column, value in zip(sp_list.columns, item.values, strict=True):
        if not column.hidden or (select is not None and column.name in select):
            _put(out, column, value, zone, verbose)
    out["ID"] = item.int_id
    out["Modified"] = iso_utc(item.modified)
    out["Created"] = iso_utc(item.created)
    out["AuthorId"] = item.author.lookup_id
    out["EditorId"] = item.editor.lookup_id
    out["OData__UIVersionString"] = f"{item.version}.0"
    out["Attachments"] = False
    out["GUID"] = item.unique_id
    if select is not None:
        keep = {rest_name(name) for name in select} | {f"{rest_name(name)}Id" for name in select}
        out = {k: v for k, v in out.items() if k in keep or k == "__metadata" or k.startswith("odata.")}
    return out
