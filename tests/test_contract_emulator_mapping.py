"""The one contract between the emulator's SharePoint and the product's list mapping.

The emulator keeps its own picture of SharePoint (column types, the demo site's lists, the JSON it
serialises); the product declares what it expects (SharePointType, FIELD_SHAPES, the demo force's
mapping). If either side moves, this test says where they no longer meet.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any, get_args
from zoneinfo import ZoneInfo

import pytest

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.tokens import GRAPH_AUDIENCE, TokenAuthority
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.site import LIST_SHAPES, shape
from emulator.graph.service import GraphService
from emulator.lists.store import ColumnType, Hyperlink, ListColumn, ListStore, Location, Lookup, Person, Term
from transforms.list_mapping import FIELD_SHAPES, SharePointType, types_compatible, unmapped_columns
from transforms.sharepoint_fields import SHAREPOINT_TYPES, JsonKind

ORIGIN = "https://127.0.0.1:8443"
JSON_KINDS: dict[JsonKind, tuple[type, ...]] = {
    "string": (str,), "number": (int, float), "boolean": (bool,), "object": (dict,), "array": (list,),
}  # fmt: skip
UTC_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PERSON = Person(7, "Sam Poole", "sam.poole@contoso.onmicrosoft.com")
TERM = Term("E05008001", str(uuid.uuid5(uuid.NAMESPACE_URL, "ward")), 12)
SAMPLES: dict[str, object] = {  # one value per column type, as the store holds it
    "text": "Beat surgery", "note": "First line\nSecond line", "choice": "Open", "multichoice": ["Open", "Closed"],
    "number": 42, "currency": 12.5, "boolean": True, "dateTime": datetime(2025, 3, 31, 9, 30, tzinfo=UTC),
    "dateOnly": date(2025, 3, 31), "lookup": Lookup(1, "Stoke North"), "multilookup": [Lookup(1, "Stoke North")],
    "person": PERSON, "multiperson": [PERSON], "hyperlink": Hyperlink("https://example.com/p.pdf", "Poster"),
    "location": Location("Leek Library", city="Leek", latitude=53.1, longitude=-2.02), "term": TERM,
    "multiterm": [TERM],
}  # fmt: skip


def is_kind(value: object, kind: JsonKind) -> bool:
    return isinstance(value, JSON_KINDS[kind]) and (kind == "boolean" or not isinstance(value, bool))


def test_the_product_and_the_emulator_know_the_same_column_types() -> None:
    assert set(get_args(ColumnType)) == set(SHAREPOINT_TYPES) == set(FIELD_SHAPES)
    assert set(SAMPLES) == set(SHAREPOINT_TYPES)


@pytest.mark.parametrize("one", DEMO_SITE_MAPPING.lists, ids=lambda one: one.display_name)
def test_every_mapped_column_exists_in_the_emulator_list_with_a_compatible_type(one: Any) -> None:
    emulated = shape(one.display_name)
    columns = {column.name: column for column in emulated.columns}
    assert unmapped_columns(one, columns) == (), "the demo mapping leaves emulator columns unmentioned"
    for mapped in one.columns:
        assert mapped.name in columns, f"{one.display_name}: no column {mapped.name} in the emulator list"
        live = columns[mapped.name]
        if mapped.type is not None:
            assert types_compatible(mapped.type, live.type), (
                one.display_name,
                mapped.name,
                mapped.type,
                live.type,
            )
        missing = [label for label, _code in mapped.choices if label not in live.choices]
        assert not missing, f"{one.display_name}.{mapped.name}: choices {missing} are not offered by the list"
        if mapped.lookup_list is not None:
            assert live.lookup_list == mapped.lookup_list, (one.display_name, mapped.name)


def test_the_people_section_names_a_person_and_a_text_column_of_the_emulator_list() -> None:
    people = DEMO_SITE_MAPPING.people
    assert people is not None
    officers = shape(people.list)
    assert officers.column(people.account).type == "person"
    assert officers.column(people.staff_number).type == "text"
    assert {one.display_name for one in DEMO_SITE_MAPPING.lists} == {one.display_name for one in LIST_SHAPES}


@pytest.fixture(scope="module")
def served_fields() -> dict[str, dict[str, Any]]:
    """What the emulated Graph sends under `fields` for one item holding a value of every type."""
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    store = ListStore(clock)
    tokens = TokenAuthority(clock)
    emulator = Emulator(clock=clock)
    emulator.mount(GraphService(store, tokens, dispatcher=emulator))
    site = store.create_site("/sites/Contract", "Contract")
    target = store.create_list(site, "Targets", [])
    store.add_item(target, {"Title": "Stoke North"})
    columns = [
        ListColumn(f"Col_{kind}", kind, kind, choices=("Open", "Closed") if "choice" in kind else (),  # type: ignore[arg-type]
                   lookup_list="Targets" if kind.endswith("lookup") else None)
        for kind in SHAREPOINT_TYPES
    ]  # fmt: skip
    every = store.create_list(site, "Every type", columns)
    store.add_item(every, {f"Col_{kind}": value for kind, value in SAMPLES.items()})
    token = tokens.issue(audience=GRAPH_AUDIENCE, client_id="contract", tenant="t", roles=("Sites.Read.All",))
    target_url = f"/graph/v1.0/sites/{site.id}/lists/{every.id}/items/1?$expand=fields"
    response = emulator.handle("GET", target_url, {"Authorization": f"Bearer {token}"}, b"", ORIGIN)
    assert response.status == 200
    fields: dict[str, Any] = json.loads(response.body)["fields"]
    return {"fields": fields}


@pytest.mark.parametrize("kind", SHAREPOINT_TYPES)
def test_graph_fields_have_the_shape_the_mapping_expects(
    served_fields: dict[str, Any], kind: SharePointType
) -> None:
    fields, expected, name = served_fields["fields"], FIELD_SHAPES[kind], f"Col_{kind}"
    key = expected.field_key(name)
    assert key in fields, f"{kind}: expected the value under {key!r}, got keys {sorted(fields)}"
    if key != name:
        assert name not in fields, f"{kind}: the value must be only under {key!r}"
    value = fields[key]
    assert is_kind(value, expected.json), (kind, value)
    items = value if expected.json == "array" else [value]
    if expected.element is not None:
        assert items and all(is_kind(item, expected.element) for item in items), (kind, value)
    for item in items if expected.members else []:
        for member, member_kind in expected.members:
            assert member in item and is_kind(item[member], member_kind), (kind, member, item)
        for member, member_kind in expected.optional:
            assert member not in item or is_kind(item[member], member_kind), (kind, member, item)
        known = {member for member, _ in (*expected.members, *expected.optional)}
        assert set(item) <= known, (kind, set(item) - known)
    for sibling, sibling_kind in expected.siblings:
        assert sibling in fields and is_kind(fields[sibling], sibling_kind), (kind, sibling)
    if expected.timestamp is not None:
        assert UTC_STAMP.match(value), (kind, value)
    if expected.timestamp == "site-midnight-utc":  # 31 March 2025 is in BST: local midnight is 23:00Z before
        local = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/London"))
        assert (local.date(), local.hour, local.minute) == (SAMPLES["dateOnly"], 0, 0)
