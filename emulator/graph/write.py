"""Graph `fields` JSON (create/update bodies) into store values, per microsoft-apis.md §2.4 write shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from emulator.core.http import ServiceError
from emulator.lists.store import Hyperlink, ListColumn, ListStore, Location, Lookup, Person, SpList, Term


def parse_fields(store: ListStore, sp_list: SpList, fields: Mapping[str, Any]) -> dict[str, object]:
    """Store values for a fieldValueSet; unknown or read-only names are refused as Graph does."""
    values: dict[str, object] = {}
    for key, raw in fields.items():
        if "@odata." in key:
            continue  # type annotations such as "<Col>LookupId@odata.type"
        column = sp_list.by_name.get(key)
        lookup_key = False
        if column is None and key.endswith("LookupId"):
            column = sp_list.by_name.get(key[: -len("LookupId")])
            lookup_key = column is not None and column.type in (
                "lookup",
                "multilookup",
                "person",
                "multiperson",
            )
            if not lookup_key:
                column = None
        if column is None:
            raise ServiceError(400, "invalidRequest", f"Field '{key}' is not recognized")
        try:
            values[column.name] = _value(store, sp_list, column, raw, lookup_key)
        except (TypeError, ValueError, KeyError) as error:
            raise ServiceError(400, "invalidRequest", f"Invalid value for field '{key}': {error}") from error
    return values  # the store checks each value against its column on write


def _value(store: ListStore, sp_list: SpList, column: ListColumn, raw: Any, lookup_key: bool) -> object:
    if raw is None:
        return None
    kind = column.type
    if kind in ("lookup", "multilookup", "person", "multiperson"):
        if not lookup_key:
            raise ValueError(f"write lookup and person columns as '{column.name}LookupId'")
        ids = [int(v) for v in raw] if isinstance(raw, list) else [int(raw)]
        resolved = [
            _person(store, i) if kind.endswith("person") else _lookup(store, sp_list, column, i) for i in ids
        ]
        return resolved if kind.startswith("multi") else resolved[0]
    if kind == "dateTime":
        return _moment(str(raw))
    if kind == "dateOnly":
        text = str(raw)
        if "T" not in text:
            return date.fromisoformat(text)
        return _moment(text).astimezone(store.site_timezone).date()
    if kind in ("number", "currency"):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise TypeError("a number is required")
        return raw if not isinstance(raw, str) else float(raw)
    if kind == "multichoice":
        if not isinstance(raw, list):
            raise TypeError("a list of strings is required")
        return [str(v) for v in raw]
    if kind == "hyperlink":
        return Hyperlink(url=str(raw["Url"]), description=str(raw.get("Description", "")))
    if kind == "location":
        address = raw.get("address") or {}
        coordinates = raw.get("coordinates") or {}
        return Location(
            display_name=str(raw.get("displayName", "")), street=str(address.get("street", "")),
            city=str(address.get("city", "")), state=str(address.get("state", "")),
            country_or_region=str(address.get("countryOrRegion", "")), postal_code=str(address.get("postalCode", "")),
            latitude=coordinates.get("latitude"), longitude=coordinates.get("longitude"),
        )  # fmt: skip
    if kind in ("term", "multiterm"):
        terms = [
            Term(str(t["Label"]), str(t["TermGuid"]), int(t["WssId"]))
            for t in (raw if kind == "multiterm" else [raw])
        ]
        return terms if kind == "multiterm" else terms[0]
    return raw


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _person(store: ListStore, lookup_id: int) -> Person:
    person = store.people.get(lookup_id)
    if person is None:
        raise ValueError(f"no user with lookup id {lookup_id}")
    return person


def _lookup(store: ListStore, sp_list: SpList, column: ListColumn, lookup_id: int) -> Lookup:
    target = store.lookup_target(sp_list, column)
    if target is None:
        return Lookup(lookup_id, "")
    item = target.item(str(lookup_id))
    if item is None:
        raise ValueError(f"no item {lookup_id} in list {target.display_name}")
    title = item.values[target.positions["Title"]]
    return Lookup(lookup_id, str(title or ""))
