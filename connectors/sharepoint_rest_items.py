"""SharePoint REST list items as the Graph-shaped items both list connectors yield (transforms/sharepoint_fields.py).

The same reader takes the verbose JSON (`{"results": [...]}`, `__metadata`), the no-metadata JSON (plain
arrays) and office365-rest-python-client's reading of either (collections as `{0: ..., 1: ...}`). What
REST cannot give as Graph does is listed in docs/connectors.md (SharePoint REST): a location's sibling keys.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from office365.runtime.client_object import ClientObject
from office365.runtime.client_value import ClientValue
from office365.runtime.client_value_collection import ClientValueCollection

from connectors.sharepoint_rest_fields import TAX_CATCH_ALL, ItemQuery, RestField
from errors import SourceFormatError

Item = dict[str, Any]
_PLAIN_TYPES = frozenset({"text", "note", "choice", "number", "currency", "boolean", "dateTime", "dateOnly"})


def plain_json(value: Any) -> Any:
    """A value as plain JSON: collections as lists, objects without OData metadata (`__metadata`, `__deferred`)."""
    if isinstance(value, ClientValueCollection):
        return [plain_json(v) for v in value]
    if isinstance(value, ClientObject):
        return plain_json(value.properties)
    if isinstance(value, ClientValue):
        return plain_json(value.to_json())
    if isinstance(value, list):
        return [plain_json(v) for v in value]
    if isinstance(value, dict):
        if isinstance(value.get("results"), list):
            return [plain_json(v) for v in value["results"]]
        if "__deferred" in value:
            return None
        if value and all(isinstance(key, int) for key in value):  # the library's reading of a collection
            return [plain_json(value[key]) for key in sorted(value)]
        return {key: plain_json(v) for key, v in value.items() if not str(key).startswith("__")}
    return value


def graph_item(props: Mapping[str, Any], query: ItemQuery, *, list_name: str) -> Item:
    """The item from the first query of a read: id, eTag (Graph's `"{GUID},{version}"`), timestamps, fields."""
    item_id = str(props["Id"])
    etag = f'"{props.get("GUID")},{props.get("owshiddenversion")}"'
    fields = graph_fields(props, query, list_name=list_name, item_id=item_id)  # no annotation keys in fields
    return {
        "@odata.etag": etag,
        "eTag": etag,
        "id": item_id,
        "createdDateTime": props.get("Created"),
        "lastModifiedDateTime": props.get("Modified"),
        "fields": fields,
    }


def graph_fields(props: Mapping[str, Any], query: ItemQuery, *, list_name: str, item_id: str) -> Item:
    """The query's columns under their internal names, in Graph's shapes; empty values are left out, as Graph does."""
    labels = _term_labels(props) if TAX_CATCH_ALL in query.expand else {}
    out: Item = {}
    for column in query.fields:
        raw = props.get(
            f"{column.entity_property}Id" if column.type in ("lookup", "person") else column.entity_property
        )
        try:
            _put(out, column, raw, labels)
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            raise SourceFormatError(
                f"list '{list_name}', item {item_id}, column '{column.name}': the SharePoint REST value is not "
                f"a {column.type} value",
                hint="the column's type may have changed: run `cetk check` for the drift",
            ) from error
    return out


def _put(out: Item, column: RestField, raw: Any, labels: Mapping[int, str]) -> None:
    name, kind = column.name, column.type
    value = plain_json(raw)
    if value is None:
        return
    if kind in _PLAIN_TYPES or kind is None:
        out[name] = value
    elif kind in ("lookup", "person"):
        out[f"{name}LookupId"] = str(int(value))
    elif kind == "multichoice":
        out[name] = [str(v) for v in _as_list(value)]
    elif kind == "multilookup":
        values = [
            {"LookupId": int(v["Id"]), "LookupValue": v.get(column.show_field)} for v in _as_list(value)
        ]
        if values:  # REST cannot tell an empty multi-value lookup from none; Graph leaves none out
            out[name] = values
    elif kind == "multiperson":
        people = [
            {"LookupId": int(v["Id"]), "LookupValue": v.get("Title"), "Email": v.get("EMail")}
            for v in _as_list(value)
        ]
        if people:
            out[name] = people
    elif kind == "hyperlink":
        out[name] = {"Description": value.get("Description"), "Url": value.get("Url")}
    elif kind == "term":
        out[name] = _term(value, labels)
    elif kind == "multiterm":
        out[name] = [_term(v, {}) for v in _as_list(value)]
    elif kind == "location":
        out[name] = _location(value)


def _as_list(value: Any) -> list[Any]:
    if value == {}:  # the library reads an empty collection as an empty object
        return []
    if not isinstance(value, list):
        raise TypeError("not a collection")
    return value


def _term(value: Mapping[str, Any], labels: Mapping[int, str]) -> Item:
    """`{"Label", "TermGuid", "WssId"}`; a single term's Label (REST gives its WssId) from TaxCatchAll."""
    wss_id = int(value["WssId"])
    return {
        "Label": labels.get(wss_id, str(value.get("Label"))),
        "TermGuid": value["TermGuid"],
        "WssId": wss_id,
    }


def _term_labels(props: Mapping[str, Any]) -> dict[int, str]:
    rows = plain_json(props.get(TAX_CATCH_ALL))
    return (
        {int(row["ID"]): str(row["Term"]) for row in _as_list(rows) if row.get("ID") is not None}
        if rows
        else {}
    )


def _location(value: Any) -> Item:
    """REST's location JSON string (PascalCase) as Graph's object; Graph's sibling keys are not derived."""
    body = json.loads(value) if isinstance(value, str) else value
    address = body.get("Address") or {}
    out: Item = {
        "displayName": body.get("DisplayName", ""),
        "address": {
            "street": address.get("Street", ""), "city": address.get("City", ""), "state": address.get("State", ""),
            "countryOrRegion": address.get("CountryOrRegion", ""), "postalCode": address.get("PostalCode", ""),
        },
    }  # fmt: skip
    coordinates = body.get("Coordinates") or {}
    if coordinates.get("Latitude") is not None and coordinates.get("Longitude") is not None:
        out["coordinates"] = {"latitude": coordinates["Latitude"], "longitude": coordinates["Longitude"]}
    out["locationUri"] = body.get("LocationUri", "")
    out["uniqueId"] = body.get("UniqueId", "")
    return out


def merge_by_id(
    primary: Iterator[list[Item]], others: Sequence[Iterator[list[tuple[str, Item]]]]
) -> Iterator[list[Item]]:
    """Pages of the first query, each item's fields completed from the other queries (read in step, by id).

    Every query enumerates the list in id order, so another query is read just far enough to pass the
    page's last id. An item missing from any query was deleted between the requests and is left out
    (a full read then counts it deleted); one only in another query was created since and comes next run.
    """
    buffers: list[dict[str, Item]] = [{} for _ in others]
    reached = [0 for _ in others]
    finished = [False for _ in others]
    for page in primary:
        last = max((int(item["id"]) for item in page), default=0)
        for index, source in enumerate(others):
            while not finished[index] and reached[index] < last:
                try:
                    rows = next(source)
                except StopIteration:
                    finished[index] = True
                    break
                for item_id, fields in rows:
                    buffers[index][item_id] = fields
                    reached[index] = max(reached[index], int(item_id))
        merged = []
        for item in page:
            parts = [buffer.pop(item["id"], None) for buffer in buffers]
            if all(part is not None for part in parts):
                for part in parts:
                    item["fields"].update(part)
                merged.append(item)
        for buffer in buffers:
            for stale in [item_id for item_id in buffer if int(item_id) <= last]:
                del buffer[stale]
        yield merged
