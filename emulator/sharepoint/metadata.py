"""SharePoint REST JSON for the web, the site collection, lists and fields (SP.Web, SP.Site, SP.List, SP.Field).

Property names follow the SharePoint REST entity types; only the properties a list reader needs are served.
"""

from __future__ import annotations

import uuid
from typing import Any

from emulator.lists.store import ListColumn, Site, SpList
from emulator.lists.wire import iso_utc
from emulator.sharepoint.serialise import entity_type

GENERIC_LIST_TEMPLATE = 100
# (TypeAsString, FieldTypeKind, entity type) per column type; FieldTypeKind is SP.FieldType's number.
_FIELD_TYPES: dict[str, tuple[str, int, str]] = {
    "text": ("Text", 2, "SP.FieldText"),
    "note": ("Note", 3, "SP.FieldMultiLineText"),
    "choice": ("Choice", 6, "SP.FieldChoice"),
    "multichoice": ("MultiChoice", 15, "SP.FieldMultiChoice"),
    "number": ("Number", 9, "SP.FieldNumber"),
    "currency": ("Currency", 10, "SP.FieldCurrency"),
    "boolean": ("Boolean", 8, "SP.Field"),
    "dateTime": ("DateTime", 4, "SP.FieldDateTime"),
    "dateOnly": ("DateTime", 4, "SP.FieldDateTime"),
    "lookup": ("Lookup", 7, "SP.FieldLookup"),
    "multilookup": ("LookupMulti", 7, "SP.FieldLookup"),
    "person": ("User", 20, "SP.FieldUser"),
    "multiperson": ("UserMulti", 20, "SP.FieldUser"),
    "hyperlink": ("URL", 11, "SP.FieldUrl"),
    "location": ("Location", 33, "SP.Field"),  # UNCONFIRMED kind number
    "term": ("TaxonomyFieldType", 0, "SP.Taxonomy.TaxonomyField"),
    "multiterm": ("TaxonomyFieldTypeMulti", 0, "SP.Taxonomy.TaxonomyField"),
}
# Built-in fields every generic list has: (internal name, title, TypeAsString, kind, entity, hidden).
_BUILT_INS = (
    ("ID", "ID", "Counter", 5, "SP.Field", False),
    ("Modified", "Modified", "DateTime", 4, "SP.FieldDateTime", False),
    ("Created", "Created", "DateTime", 4, "SP.FieldDateTime", False),
    ("Author", "Created By", "User", 20, "SP.FieldUser", False),
    ("Editor", "Modified By", "User", 20, "SP.FieldUser", False),
    ("GUID", "GUID", "Guid", 14, "SP.FieldGuid", True),
    ("owshiddenversion", "owshiddenversion", "Integer", 1, "SP.FieldNumber", True),
)


def _typed(kind: str, body: dict[str, Any], verbose: bool) -> dict[str, Any]:
    return {"__metadata": {"type": kind}, **body} if verbose else body


def _strings(values: list[str], verbose: bool) -> Any:
    return {"__metadata": {"type": "Collection(Edm.String)"}, "results": values} if verbose else values


def web_json(site: Site, site_url: str, verbose: bool) -> dict[str, Any]:
    web_id = site.id.split(",")[2]
    return _typed("SP.Web", {"Id": web_id, "Title": site.display_name, "Url": site_url,
                             "ServerRelativeUrl": site.path, "Created": iso_utc(site.created)}, verbose)  # fmt: skip


def site_json(site: Site, site_url: str, verbose: bool) -> dict[str, Any]:
    collection_id = site.id.split(",")[1]
    return _typed("SP.Site", {"Id": collection_id, "Url": site_url, "ServerRelativeUrl": site.path}, verbose)


def list_json(sp_list: SpList, site_url: str, verbose: bool, expand_root_folder: bool) -> dict[str, Any]:
    folder_url = f"{sp_list.site.path}/Lists/{sp_list.name}"
    body: dict[str, Any] = {
        "Id": sp_list.id,
        "Title": sp_list.display_name,
        "EntityTypeName": entity_type(sp_list)[len("SP.Data.") : -len("Item")],
        "BaseTemplate": GENERIC_LIST_TEMPLATE,
        "Hidden": False,
        "ItemCount": sp_list.live_count,
        "Created": iso_utc(sp_list.created),
        "LastItemModifiedDate": iso_utc(sp_list.modified),
        "ParentWebUrl": sp_list.site.path,
    }
    if expand_root_folder:
        body["RootFolder"] = _typed(
            "SP.Folder", {"Name": sp_list.name, "ServerRelativeUrl": folder_url}, verbose
        )
    elif verbose:
        body["RootFolder"] = {
            "__deferred": {"uri": f"{site_url}/_api/Web/Lists(guid'{sp_list.id}')/RootFolder"}
        }
    return _typed("SP.List", body, verbose)


def fields_json(sp_list: SpList, lookup_ids: dict[str, str], verbose: bool) -> list[dict[str, Any]]:
    """Every field of the list: its columns (Title first) and the built-ins; `lookup_ids` maps a lookup to its target."""
    fields = [_column_field(column, lookup_ids.get(column.name), verbose) for column in sp_list.columns]
    for name, title, type_name, kind, entity, hidden in _BUILT_INS:
        body = _field_base(name, title, type_name, kind, hidden=hidden, read_only=True, indexed=name == "ID")
        if type_name == "DateTime":
            body["DisplayFormat"] = 1
        if type_name == "User":
            body |= {"AllowMultipleValues": False, "LookupField": "ImnName", "SelectionMode": 0}
        fields.append(_typed(entity, body, verbose))
    return fields


def _field_base(
    name: str, title: str, type_name: str, kind: int, *, hidden: bool, read_only: bool, indexed: bool,
    required: bool = False,
) -> dict[str, Any]:  # fmt: skip
    return {
        "Id": str(uuid.uuid5(uuid.NAMESPACE_OID, name)),
        "InternalName": name,
        "StaticName": name,
        "EntityPropertyName": name if not name.startswith("_") else f"OData_{name}",
        "Title": title,
        "TypeAsString": type_name,
        "FieldTypeKind": kind,
        "Hidden": hidden,
        "ReadOnlyField": read_only,
        "Indexed": indexed,
        "Required": required,
        "FromBaseType": read_only or name == "Title",
    }


def _column_field(column: ListColumn, lookup_list_id: str | None, verbose: bool) -> dict[str, Any]:
    type_name, kind, entity = _FIELD_TYPES[column.type]
    body = _field_base(
        column.name, column.display_name, type_name, kind,
        hidden=column.hidden, read_only=False, indexed=column.indexed, required=column.required,
    )  # fmt: skip
    multi = column.type in ("multichoice", "multilookup", "multiperson", "multiterm")
    if column.type in ("choice", "multichoice"):
        body["Choices"] = _strings(list(column.choices), verbose)
    elif column.type in ("dateTime", "dateOnly"):
        body["DisplayFormat"] = 0 if column.type == "dateOnly" else 1  # SP.DateTimeFieldFormatType
    elif column.type in ("lookup", "multilookup"):
        body |= {
            "AllowMultipleValues": multi,
            "LookupField": "Title",
            "LookupList": f"{{{lookup_list_id or ''}}}",
        }
    elif column.type in ("person", "multiperson"):
        body |= {"AllowMultipleValues": multi, "LookupField": "ImnName", "SelectionMode": 0}
    elif column.type in ("term", "multiterm"):
        body["AllowMultipleValues"] = multi
    elif column.type == "text":
        body["MaxLength"] = column.max_length or 255
    return _typed(entity, body, verbose)
