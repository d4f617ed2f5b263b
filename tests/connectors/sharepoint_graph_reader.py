"""Test helper: a list read through the emulator's Graph, the shape the SharePoint REST connector must give back.

Graph leaves lookups past its threshold out of a multi-item read, so columns are read in chunks of at
most ten lookup-type columns and merged by item id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.auth import SignIn
from connectors.http import ServiceSession, iter_pages
from connectors.list_items import without_annotations
from emulator.lists.store import SpList
from emulator.testing import RunningEmulator
from tests.connectors.conftest import ManualTime, Waits, service_session
from transforms.sharepoint_fields import FIELD_SHAPES

BUILT_INS = ("Author", "Editor", "Created", "Modified")
LOOKUP_TYPES = frozenset({"lookup", "multilookup", "person", "multiperson"})  # what Graph counts
LOCATION_SIBLINGS = frozenset(name for name, _kind in FIELD_SHAPES["location"].siblings)
ITEM_KEYS = ("@odata.etag", "eTag", "id", "createdDateTime", "lastModifiedDateTime")


def graph_session(sign_in: SignIn, emu: RunningEmulator, clock: ManualTime, waits: Waits) -> ServiceSession:
    return service_session(sign_in, "graph", emu, clock, waits)


def graph_items(
    session: ServiceSession, emu: RunningEmulator, site_id: str, sp_list: SpList, select: Sequence[str]
) -> list[dict[str, Any]]:
    types = {column.name: column.type for column in sp_list.columns}
    is_lookup = [name in ("Author", "Editor") or types.get(name) in LOOKUP_TYPES for name in select]
    plain = [name for name, lookup in zip(select, is_lookup, strict=True) if not lookup]
    lookups = [name for name, lookup in zip(select, is_lookup, strict=True) if lookup]
    chunks = [lookups[start : start + 10] for start in range(0, len(lookups), 10)] or [[]]
    merged: dict[str, dict[str, Any]] = {}
    url = emu.url("graph", f"/v1.0/sites/{site_id}/lists/{sp_list.id}/items")
    for chunk in chunks:
        params = {"$expand": f"fields($select={','.join(plain + chunk)})", "$top": "5000"}
        for page in iter_pages(session, url, params):
            for item in page.items:
                merged.setdefault(item["id"], item)["fields"].update(item["fields"])
    return list(merged.values())


def sharepoint_view(graph_item: dict[str, Any], sp_list: SpList) -> dict[str, Any]:
    """What the REST connector gives for this Graph item: the contract's item keys and every field but
    annotations (as the Graph connector passes them on), less the two documented differences (a
    location's sibling keys; an empty multi-value lookup or person)."""
    types = {column.name: column.type for column in sp_list.columns}
    has_location = "location" in types.values()
    fields = {
        key: value
        for key, value in without_annotations(graph_item)["fields"].items()
        if not (has_location and key in LOCATION_SIBLINGS)
        and not (value == [] and types.get(key) in ("multilookup", "multiperson"))
    }
    return {**{key: graph_item[key] for key in ITEM_KEYS}, "fields": fields}
