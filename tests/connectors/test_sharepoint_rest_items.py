"""SharePoint REST JSON to Graph-shaped items, and the query plan under the lookup threshold (no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from connectors.sharepoint_rest_fields import (
    ITEM_PROPERTIES,
    ItemQuery,
    RestField,
    live_column,
    plan_queries,
    rest_field,
)
from connectors.sharepoint_rest_items import graph_fields, graph_item, merge_by_id, plain_json
from emulator.build import EmulatorStack, build_emulator
from emulator.core.clock import ManualClock
from emulator.lists.store import Hyperlink, ListColumn, Location, Lookup, Person, SpList, Term
from errors import SourceFormatError

ORIGIN = "https://127.0.0.1:8443"
PEOPLE = [Person(7, "Sam Officer", "sam@contoso.example"), Person(9, "Jo Officer", "jo@contoso.example")]
COLUMNS = [
    ListColumn("Notes", "Notes", "note"), ListColumn("Status", "Status", "choice", choices=("Open", "Shut")),
    ListColumn("Issues", "Issues", "multichoice", choices=("ASB", "Drugs")), ListColumn("Count", "Count", "number"),
    ListColumn("Cost", "Cost", "currency"), ListColumn("Public", "Public", "boolean"),
    ListColumn("When", "When", "dateTime"), ListColumn("Day", "Day", "dateOnly"),
    ListColumn("Area", "Area", "lookup", lookup_list="Areas"), ListColumn("Areas", "Areas", "multilookup", lookup_list="Areas"),
    ListColumn("Lead", "Lead", "person"), ListColumn("Officers", "Officers", "multiperson"),
    ListColumn("Poster", "Poster", "hyperlink"), ListColumn("Venue", "Venue", "location"),
    ListColumn("Ward", "Ward", "term"), ListColumn("Wards", "Wards", "multiterm"), ListColumn("_Tag", "Tag", "text"),
]  # fmt: skip
VALUES: dict[str, object] = {
    "Title": "Surgery", "Notes": "line one\nline two", "Status": "Open", "Issues": ["ASB", "Drugs"], "Count": 3,
    "Cost": 12.5, "Public": True, "When": datetime(2025, 3, 30, 0, 30, tzinfo=UTC), "Day": date(2025, 3, 31),
    "Area": Lookup(2, "South"), "Areas": [Lookup(1, "North"), Lookup(2, "South")], "Lead": PEOPLE[0],
    "Officers": PEOPLE, "Poster": Hyperlink("https://example.org/p.png", "poster"),
    "Venue": Location("Hall", street="1 High St", city="Leeds", postal_code="LS1 1AA", latitude=53.8, longitude=-1.5),
    "Ward": Term("North Ward", "5b1c", 3), "Wards": [Term("North Ward", "5b1c", 3), Term("South Ward", "77aa", 4)],
    "_Tag": "x",
}  # fmt: skip


@pytest.fixture
def stack() -> Iterator[EmulatorStack]:
    stack = build_emulator(clock=ManualClock())
    site = stack.store.create_site("/sites/Test", "Test")
    areas = stack.store.create_list(site, "Areas", [])
    for name in ("North", "South"):
        stack.store.add_item(areas, {"Title": name})
    events = stack.store.create_list(site, "Events", COLUMNS)
    stack.store.add_item(events, VALUES)
    stack.store.add_item(events, {"Title": "Empty"})
    yield stack


def events(stack: EmulatorStack) -> SpList:
    return stack.store.get_list(stack.store.site_by_path("/sites/Test"), "Events")


def get(stack: EmulatorStack, path: str, metadata: str) -> Any:
    token = stack.tokens.issue(audience="https://contoso.sharepoint.com", client_id="app", tenant="t")
    headers = {"Authorization": f"Bearer {token}", "Accept": f"application/json;odata={metadata}"}
    response = stack.emulator.handle("GET", f"/sharepoint/sites/Test/_api{path}", headers, b"", ORIGIN)
    assert response.status == 200, response.body
    return json.loads(response.body)


def fields_by_name(stack: EmulatorStack, metadata: str) -> dict[str, RestField]:
    body = get(stack, f"/Web/lists(guid'{events(stack).id}')/fields", metadata)
    rows = body["d"]["results"] if metadata == "verbose" else body["value"]
    return {row["InternalName"]: rest_field(plain_json(row)) for row in rows}


def raw_items(stack: EmulatorStack, query: ItemQuery, metadata: str) -> list[dict[str, Any]]:
    path = f"/Web/lists(guid'{events(stack).id}')/items?$select={','.join(query.select)}"
    path += f"&$expand={','.join(query.expand)}" if query.expand else ""
    body = get(stack, path, metadata)
    return body["d"]["results"] if metadata == "verbose" else body["value"]  # type: ignore[no-any-return]


def test_verbose_and_no_metadata_json_give_the_same_graph_items(stack: EmulatorStack) -> None:
    select = [column.name for column in COLUMNS] + ["Title", "Author", "Created"]
    (query,) = plan_queries(select, fields_by_name(stack, "verbose"), list_name="Events")

    verbose = [graph_item(item, query, list_name="Events") for item in raw_items(stack, query, "verbose")]
    light = [graph_item(item, query, list_name="Events") for item in raw_items(stack, query, "nometadata")]

    assert verbose == light
    first = verbose[0]["fields"]
    assert first["Issues"] == ["ASB", "Drugs"] and first["Count"] == 3 and first["Public"] is True
    assert (
        first["Day"] == "2025-03-30T23:00:00Z"
    )  # 31 March 2025 is BST: local midnight is 23:00Z the day before
    assert (
        first["AreaLookupId"] == "2"
        and first["LeadLookupId"] == "7"
        and first["AuthorLookupId"] == "1073741823"
    )
    assert first["Areas"] == [
        {"LookupId": 1, "LookupValue": "North"},
        {"LookupId": 2, "LookupValue": "South"},
    ]
    assert first["Officers"][1] == {"LookupId": 9, "LookupValue": "Jo Officer", "Email": "jo@contoso.example"}
    assert first["Poster"] == {"Description": "poster", "Url": "https://example.org/p.png"}
    assert first["Ward"] == {"Label": "North Ward", "TermGuid": "5b1c", "WssId": 3}
    assert [term["Label"] for term in first["Wards"]] == ["North Ward", "South Ward"]
    assert first["Venue"]["address"]["postalCode"] == "LS1 1AA"
    assert first["Venue"]["coordinates"] == {"latitude": 53.8, "longitude": -1.5}
    assert first["_Tag"] == "x"  # read from OData__Tag, keyed by its internal name as Graph keys it
    assert "Area" not in verbose[1]["fields"] and "Officers" not in verbose[1]["fields"]  # empty: left out


def test_an_item_carries_graphs_item_keys(stack: EmulatorStack) -> None:
    (query,) = plan_queries(["Title"], fields_by_name(stack, "verbose"), list_name="Events")
    item = events(stack).item("1")
    assert item is not None

    got = graph_item(raw_items(stack, query, "nometadata")[0], query, list_name="Events")

    etag = f'"{item.unique_id},{item.version}"'
    stamp = item.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert got == {
        "@odata.etag": etag,
        "eTag": etag,
        "id": "1",
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "fields": {"Title": "Surgery"},
    }


def test_live_columns_say_what_graph_leaves_out(stack: EmulatorStack) -> None:
    body = get(stack, f"/Web/lists(guid'{events(stack).id}')/fields", "nometadata")
    columns = {row["InternalName"]: live_column(row, row.get("Choices") or []) for row in body["value"]}

    assert (columns["Issues"].type, columns["Issues"].multi, columns["Issues"].choices) == (
        "multichoice",
        True,
        ("ASB", "Drugs"),
    )
    assert (columns["Poster"].type, columns["Venue"].type, columns["Ward"].type) == (
        "hyperlink",
        "location",
        "term",
    )
    assert columns["Day"].type == "dateOnly" and columns["When"].type == "dateTime"
    areas = stack.store.get_list(stack.store.site_by_path("/sites/Test"), "Areas")
    assert columns["Areas"].lookup_list_id == areas.id and columns["Areas"].multi is True
    assert columns["Author"].read_only and columns["owshiddenversion"].hidden


def field(name: str, kind: Any) -> RestField:
    return RestField(name, name, kind)


def test_the_plan_keeps_every_query_within_the_threshold_counting_the_taxonomy_catch_all() -> None:
    fields = {f"L{n}": field(f"L{n}", "lookup") for n in range(1, 15)}
    fields |= {
        "Ward": field("Ward", "term"),
        "Title": field("Title", "text"),
        "Author": field("Author", "person"),
    }
    select = ["Title", "Ward", "Author", *[f"L{n}" for n in range(1, 15)]]

    queries = plan_queries(select, fields, list_name="Wide")

    assert [query.lookups for query in queries] == [12, 5]  # Ward, TaxCatchAll, Author, L1-L9; then L10-L14
    assert sum(len(query.fields) for query in queries) == len(select)
    assert queries[0].select[: len(ITEM_PROPERTIES)] == ITEM_PROPERTIES and "Title" in queries[0].select
    assert (
        queries[1].select[0] == "Id" and "GUID" not in queries[1].select and "Title" not in queries[1].select
    )
    assert "TaxCatchAll" in queries[0].expand and "TaxCatchAll/Term" in queries[0].select


def test_a_column_named_only_by_the_caller_as_a_lookup_counts_too() -> None:
    fields = {f"C{n}": field(f"C{n}", None) for n in range(1, 14)}

    assert len(plan_queries(list(fields), fields, list_name="X")) == 1
    assert len(plan_queries(list(fields), fields, list_name="X", extra_lookups=list(fields))) == 2


def test_a_location_that_is_not_json_names_list_item_and_column_but_not_the_value() -> None:
    query = ItemQuery(("Id", "Venue"), (), (field("Venue", "location"),), 0)

    with pytest.raises(SourceFormatError) as bad:
        graph_fields({"Id": 4, "Venue": "{not json: 07700 900123"}, query, list_name="Events", item_id="4")

    assert "'Events', item 4, column 'Venue'" in str(bad.value) and "07700" not in str(bad.value)


def test_merge_completes_each_item_and_leaves_out_one_gone_between_the_queries() -> None:
    def item(item_id: int) -> dict[str, Any]:
        return {"id": str(item_id), "fields": {"A": item_id}}

    primary = iter([[item(1), item(2), item(3)], [item(5), item(6)]])
    other = iter(
        [
            [("1", {"B": 1}), ("3", {"B": 3}), ("4", {"B": 4})],
            [("5", {"B": 5}), ("6", {"B": 6}), ("7", {"B": 7})],
        ]
    )

    pages = list(merge_by_id(primary, [other]))

    assert [[i["id"] for i in page] for page in pages] == [["1", "3"], ["5", "6"]]  # 2 deleted, 4 and 7 new
    assert pages[1][0]["fields"] == {"A": 5, "B": 5}
