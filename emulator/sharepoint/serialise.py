"""SharePoint REST (OData v3) JSON for list items: verbose `__metadata` form and the minimal/no-metadata forms."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from emulator.lists.store import Item, ListColumn, Location, Lookup, Person, SpList, Term
from emulator.lists.wire import content_type_id, iso_utc, term_json, value_json
from emulator.sharepoint.query import TAX_CATCH_ALL, Projection

Metadata = str  # "verbose" | "minimalmetadata" | "nometadata"
USER_ENTITY = "SP.Data.UserInfoItem"
TAXONOMY_ENTITY = "SP.Data.TaxonomyHiddenListListItem"


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
        assert isinstance(value, Term)
        # SharePoint REST's long-standing quirk: a single-value term's Label is its WssId, not its label
        # (sp-dev-docs#10119, pnp/pnpjs#358 #1464); multi-value terms carry their labels.
        body = {**term_json(value), "Label": str(value.wss_id)}
        out[name] = _typed("SP.Taxonomy.TaxonomyFieldValue", body, verbose)
    elif kind == "multiterm":
        terms = [_typed("SP.Taxonomy.TaxonomyFieldValue", term_json(t), verbose) for t in value]  # type: ignore[attr-defined]
        out[name] = _collection("SP.Taxonomy.TaxonomyFieldValue", terms, verbose)
    elif kind == "location":
        assert isinstance(value, Location)
        out[name] = json.dumps(location_body(value))  # UNCONFIRMED: REST returns location as a JSON string
    else:
        out[name] = value_json(kind, value, zone)


def location_body(value: Location) -> dict[str, Any]:
    """The location value SharePoint stores (PascalCase); the URI is computed as the Graph room computes it."""
    unique = str(uuid.uuid5(uuid.NAMESPACE_URL, f"location:{value.display_name}:{value.street}:{value.city}"))
    uri = f"https://www.bingapis.com/api/v6/addresses/{unique}"
    body: dict[str, Any] = {
        "LocationUri": uri, "UniqueId": uri, "DisplayName": value.display_name,
        "Address": {
            "Street": value.street, "City": value.city, "State": value.state,
            "CountryOrRegion": value.country_or_region, "PostalCode": value.postal_code,
        },
    }  # fmt: skip
    if value.latitude is not None and value.longitude is not None:
        body["Coordinates"] = {"Latitude": value.latitude, "Longitude": value.longitude}
    return body


def _entity(kind: str, key: str, body: dict[str, Any], verbose: bool) -> dict[str, Any]:
    return {"__metadata": {"id": key, "type": kind}, **body} if verbose else body


def _lookup_entity(value: Lookup | Person, subs: tuple[str, ...], kind: str, verbose: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for sub in subs or ("Id", "Title"):  # UNCONFIRMED: what an expansion with no sub-field selects
        if sub in ("Id", "ID"):
            fields[sub] = value.lookup_id
        elif sub == "Title":
            fields[sub] = value.display_name if isinstance(value, Person) else value.value
        elif sub == "EMail" and isinstance(value, Person):
            fields[sub] = value.email
    key = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{value.lookup_id}"))
    return _entity(kind, key, fields, verbose)


def _expanded(
    item: Item,
    sp_list: SpList,
    name: str,
    subs: tuple[str, ...],
    target_types: Mapping[str, str],
    verbose: bool,
) -> Any:
    if name == TAX_CATCH_ALL:
        terms: dict[int, Term] = {}
        for column, value in zip(sp_list.columns, item.values, strict=True):
            if column.type == "term" and isinstance(value, Term):
                terms.setdefault(value.wss_id, value)
            elif column.type == "multiterm" and isinstance(value, tuple):
                for term in value:
                    terms.setdefault(term.wss_id, term)
        rows = [
            _entity(TAXONOMY_ENTITY, term.term_guid, {sub: term.wss_id if sub in ("ID", "Id") else term.label
                                                      for sub in subs or ("ID", "Term")}, verbose)
            for term in terms.values()
        ]  # fmt: skip
        return _collection(TAXONOMY_ENTITY, rows, verbose)
    if name in ("Author", "Editor"):
        return _lookup_entity(item.author if name == "Author" else item.editor, subs, USER_ENTITY, verbose)
    column = sp_list.by_name[name]
    value = item.values[sp_list.positions[name]]
    kind = USER_ENTITY if column.type in ("person", "multiperson") else target_types.get(name, "SP.ListItem")
    if column.type in ("multilookup", "multiperson"):
        values = value if isinstance(value, tuple) else ()
        return _collection(kind, [_lookup_entity(v, subs, kind, verbose) for v in values], verbose)
    return _lookup_entity(value, subs, kind, verbose) if isinstance(value, Lookup | Person) else None


def item_json(
    item: Item,
    sp_list: SpList,
    zone: ZoneInfo,
    site_url: str,
    metadata: Metadata,
    projection: Projection,
    target_types: Mapping[str, str],
) -> dict[str, Any]:
    """One item; `target_types` names the entity type of each lookup column's target list (for expansions)."""
    verbose = metadata == "verbose"
    select = projection.select
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
        out["owshiddenversion"] = item.version  # hidden: only when asked for
        keep = (
            {rest_name(name) for name in select} | {f"{rest_name(name)}Id" for name in select} | set(select)
        )
        out = {k: v for k, v in out.items() if k in keep or k == "__metadata" or k.startswith("odata.")}
    for name, subs in projection.expand.items():
        out[name] = _expanded(item, sp_list, name, subs, target_types, verbose)
    return out
