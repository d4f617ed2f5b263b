"""A list with one column of every SharePoint type, a small model to map it into, and Graph's JSON for it.

The emulator's list store holds the values, its Graph service serialises them (in-process, no socket),
and the product's normaliser reads them back; tests/transforms/test_normalise_golden.py pins the round
trip and tests/transforms/test_normalise.py asserts each conversion.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.tokens import TokenAuthority
from emulator.graph.service import GraphService
from emulator.lists.store import Hyperlink, ListColumn, ListStore, Location, Lookup, Person, Term
from powerbi_dataset.model import KEY_16_HEX, OFFICERS, bridge, lineage
from powerbi_dataset.schema import Code, Column, Dataset, Relationship, Table
from transforms.list_mapping import ColumnMapping, ListMapping
from transforms.normalise import NormaliseContext
from transforms.sharepoint_fields import SHAREPOINT_TYPES, SharePointType

LONDON = ZoneInfo("Europe/London")
KEY = b"every-type-test-key-32-bytes-long"
ORIGIN = "https://127.0.0.1:8443"
STATUS = (Code("OPEN", "Open"), Code("CLOSED", "Closed"))
TAGS = (Code("ASB", "Anti-social behaviour"), Code("DRUGS", "Drugs"), Code("PARKING", "Parking"))
AREA_KEYS = {"1": "STOKE_N", "2": "LEEK"}  # the Areas list: item id -> its canonical key
PEOPLE = {"7": "4711", "8": "PC 0815"}  # person lookup id -> staff number (from the people list)
TERM = Term("E05008001", str(uuid.uuid5(uuid.NAMESPACE_URL, "ward:E05008001")), 12)
TERM_2 = Term("E05008002", str(uuid.uuid5(uuid.NAMESPACE_URL, "ward:E05008002")), 13)
SAM = Person(7, "Sam Poole", "sam.poole@contoso.onmicrosoft.com")
ALEX = Person(8, "Alex Reed", "alex.reed@contoso.onmicrosoft.com")


def _bridge(name: str, child: Column, *extra: Column) -> Table:
    parent = ("things", Column("thing_id", "String", "Thing", required=True))
    return bridge(name, f"{name} (test bridge)", parent, child, *extra)


THINGS = Table(
    "things",
    "One canonical column per SharePoint type (test model)",
    (
        Column("thing_id", "String", "sp:{list_id}:{item_id}", required=True, max_length=100),
        Column("title", "String", "Free text", max_length=255),
        Column("notes", "String", "Free text", max_length=4000),
        Column("status", "String", "A choice", codes=STATUS),
        Column("count", "Int64", "A whole number"),
        Column("cost", "Decimal", "Currency"),
        Column("flag", "Boolean", "Yes/No"),
        Column("at_utc", "DateTime", "A date-time"),
        Column("at_local_date", "DateTime", "Its date in Europe/London", date_only=True),
        Column("on_date", "DateTime", "A date-only value", date_only=True),
        Column("area_code", "String", "Lookup into Areas"),
        Column("owner_key", "String", "A person", pattern=KEY_16_HEX, personal="personal"),
        Column("link", "String", "A hyperlink's address"),
        Column("lat", "Double", "Latitude", data_category="Latitude"),
        Column("lon", "Double", "Longitude", data_category="Longitude"),
        Column("ward_code", "String", "A managed-metadata term"),
        *lineage(source=True),
    ),
    key=("thing_id",),
)
THING_TAGS = _bridge(
    "thing_tags",
    Column("tag_code", "String", "Tag", required=True, codes=TAGS),
    Column("rank", "Int64", "Position"),
)
THING_AREAS = _bridge("thing_areas", Column("area_code", "String", "Area", required=True))
THING_OFFICERS = _bridge(
    "thing_officers",
    Column("officer_key", "String", "Officer", required=True, pattern=KEY_16_HEX, personal="personal"),
)
THING_WARDS = _bridge("thing_wards", Column("ward_code", "String", "Ward", required=True))
BRIDGES = ("thing_tags", "thing_areas", "thing_officers", "thing_wards")
EVERY_TYPE_DATASET = Dataset(
    "Every type",
    (OFFICERS, THINGS, THING_TAGS, THING_AREAS, THING_OFFICERS, THING_WARDS),
    relationships=(
        Relationship("things", "owner_key", "officers", "officer_key"),
        Relationship("thing_officers", "officer_key", "officers", "officer_key"),
        # a bridge is published with its parent's versions (publish_mode with_parent): one link to it each
        *(Relationship(name, "thing_id", "things", "thing_id") for name in BRIDGES),
    ),
)


def _to(name: str, kind: SharePointType, *targets: str, **extra: Any) -> ColumnMapping:
    return ColumnMapping(name, kind, to=targets, **extra)


EVERY_TYPE_MAPPING = ListMapping(
    "Every type",
    "things",
    "thing_id",
    (
        _to("Title", "text", "title"),
        _to("Notes", "note", "notes"),
        _to("Status", "choice", "status", choices=tuple((c.label, c.code) for c in STATUS)),
        _to("Tags", "multichoice", "tag_code", bridge="thing_tags", rank="rank",
            choices=tuple((c.label, c.code) for c in TAGS)),
        _to("Count", "number", "count"),
        _to("Cost", "currency", "cost"),
        _to("Flag", "boolean", "flag"),
        _to("At", "dateTime", "at_utc", "at_local_date"),
        _to("On", "dateOnly", "on_date"),
        _to("Area", "lookup", "area_code", lookup_list="Areas"),
        _to("Areas", "multilookup", "area_code", lookup_list="Areas", bridge="thing_areas"),
        _to("Owner", "person", "owner_key"),
        _to("Team", "multiperson", "officer_key", bridge="thing_officers"),
        _to("Link", "hyperlink", "link"),
        _to("Place", "location", "lat", "lon"),
        _to("Ward", "term", "ward_code"),
        _to("Wards", "multiterm", "ward_code", bridge="thing_wards"),
    ),
)  # fmt: skip
COLUMN_TYPES: dict[str, SharePointType] = {column.name: column.type for column in EVERY_TYPE_MAPPING.columns}  # type: ignore[misc]
assert set(COLUMN_TYPES.values()) == set(SHAREPOINT_TYPES)

# One value of every type, as the emulator's store holds it.
SAMPLE: dict[str, object] = {
    "Title": "Beat surgery", "Notes": "First line\nSecond line", "Status": "Closed",
    "Tags": ["Parking", "Anti-social behaviour"], "Count": 42, "Cost": 12.5, "Flag": True,
    "At": datetime(2025, 10, 26, 1, 30, tzinfo=LONDON), "On": date(2025, 3, 31), "Area": Lookup(2, "Leek"),
    "Areas": [Lookup(1, "Stoke North"), Lookup(2, "Leek")], "Owner": SAM, "Team": [SAM, ALEX],
    "Link": Hyperlink("https://example.com/poster.pdf", "Poster"),
    "Place": Location("Leek Library", city="Leek", latitude=53.104_87, longitude=-2.023_64),
    "Ward": TERM, "Wards": [TERM, TERM_2],
}  # fmt: skip


def list_columns() -> list[ListColumn]:
    def column(name: str, kind: SharePointType) -> ListColumn:
        choices = {"Status": STATUS, "Tags": TAGS}.get(name, ())
        lookup = "Areas" if kind.endswith("lookup") else None
        return ListColumn(name, name, kind, choices=tuple(c.label for c in choices), lookup_list=lookup)

    return [column(name, kind) for name, kind in COLUMN_TYPES.items()]


def served_items(rows: Sequence[Mapping[str, object]]) -> tuple[str, list[dict[str, Any]]]:
    """(list id, items) as the emulated Graph serves them for these stored rows (one item each)."""
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    store = ListStore(clock)
    tokens = TokenAuthority(clock)
    emulator = Emulator(clock=clock)
    # auth mode none: no token, so no dependence on how the emulator checks app roles
    emulator.mount(GraphService(store, tokens, dispatcher=emulator, require_auth=False))
    site = store.create_site("/sites/EveryType", "Every type")
    areas = store.create_list(site, "Areas", [])
    for title in ("Stoke North", "Leek"):
        store.add_item(areas, {"Title": title})
    things = store.create_list(site, "Every type", list_columns())
    for row in rows:
        store.add_item(things, row, author=SAM)
    target = f"/graph/v1.0/sites/{site.id}/lists/{things.id}/items?$expand=fields&$top=5000"
    response = emulator.handle("GET", target, {}, b"", ORIGIN)
    assert response.status == 200, response.body
    return things.id, list(json.loads(response.body)["value"])


def context(list_id: str, *, timezone: str = "Europe/London") -> NormaliseContext:
    return NormaliseContext(list_id, KEY, {"Areas": AREA_KEYS}, PEOPLE, timezone)
