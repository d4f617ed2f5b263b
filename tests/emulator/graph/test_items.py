from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.http import Request
from emulator.core.tokens import GRAPH_AUDIENCE, TokenAuthority
from emulator.graph.query import NOT_INDEXED_MESSAGE
from emulator.graph.service import GraphService
from emulator.lists.store import (
    Hyperlink,
    ListColumn,
    ListStore,
    Location,
    Lookup,
    Person,
    Site,
    SpList,
    Term,
)

ORIGIN = "http://127.0.0.1:9999"
OFFICER = Person(7, "Sam Officer", "sam.officer@contoso.com")
PCSO = Person(8, "Jo Pcso", "jo.pcso@contoso.com")


@dataclass
class World:
    emulator: Emulator
    service: GraphService
    store: ListStore
    site: Site
    token: str

    def call(self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None):
        target = url.removeprefix(ORIGIN)
        sent = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if body is not None:  # Graph refuses a write without it, as a real client knows
            sent.setdefault("Content-Type", "application/json")
        raw = json.dumps(body).encode() if body is not None else b""
        response = self.emulator.handle(method, target, sent, raw, ORIGIN)
        return response.status, json.loads(response.body) if response.body else None, response.headers

    def items_url(self, sp_list: SpList) -> str:
        return f"/graph/v1.0/sites/{self.site.id}/lists/{sp_list.id}/items"


def make_world(**options: Any) -> World:
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    store = ListStore(clock)
    tokens = TokenAuthority(clock)
    emulator = Emulator(clock=clock)
    service = GraphService(store, tokens, dispatcher=emulator, **options)
    emulator.mount(service)
    site = store.create_site("/sites/Neighbourhood", "Neighbourhood")
    return World(
        emulator,
        service,
        store,
        site,
        tokens.issue(audience=GRAPH_AUDIENCE, client_id="app", tenant="t", roles=("Sites.ReadWrite.All",)),
    )


def events_list(world: World, count: int) -> SpList:
    columns = [
        ListColumn("EventStart", "Event start", "dateTime", indexed=True),
        ListColumn("Status", "Status", "choice", choices=("Open", "Closed")),
        ListColumn("Attendees", "Attendees", "number"),
    ]
    events = world.store.create_list(world.site, "Events", columns)
    for number in range(1, count + 1):
        start = datetime(2025, 1, 1, tzinfo=UTC).replace(day=1 + number % 28)
        world.store.add_item(events, {"Title": f"Event {number}", "EventStart": start, "Status": "Open",
                                      "Attendees": number})  # fmt: skip
    return events


def page_all(
    world: World, url: str, headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], int]:
    seen: list[dict[str, Any]] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        status, body, _ = world.call("GET", next_url, headers=headers)
        assert status == 200, body
        seen.extend(body["value"])
        pages += 1
        following = body.get("@odata.nextLink")
        assert following != next_url
        next_url = following
    return seen, pages


def test_site_by_path_by_id_and_list_by_display_name_or_filter() -> None:
    world = make_world()
    events = events_list(world, 1)
    status, site, _ = world.call("GET", "/graph/v1.0/sites/contoso.sharepoint.com:/sites/Neighbourhood")
    assert status == 200 and site["id"] == world.site.id and site["displayName"] == "Neighbourhood"
    assert world.call("GET", f"/graph/v1.0/sites/{world.site.id}")[1]["id"] == world.site.id
    assert world.call("GET", f"/graph/v1.0/sites/{world.site.id}/lists/Events")[1]["id"] == events.id
    status, lists, _ = world.call(
        "GET", f"/graph/v1.0/sites/{world.site.id}/lists?$filter=displayName eq 'Events'"
    )
    assert [found["id"] for found in lists["value"]] == [events.id]
    status, error, _ = world.call("GET", f"/graph/v1.0/sites/{world.site.id}/lists/Nope")
    assert status == 404 and error["error"]["code"] == "itemNotFound"
    assert set(error["error"]["innerError"]) == {"request-id", "date", "client-request-id"}


def test_paging_returns_every_item_once_and_ends() -> None:
    world = make_world()
    events = events_list(world, 450)
    seen, pages = page_all(world, world.items_url(events) + "?$expand=fields")
    assert [item["id"] for item in seen] == [str(n) for n in range(1, 451)]
    assert pages == 3  # default page of 200

    seen, pages = page_all(world, world.items_url(events) + "?expand=fields(select=Title)&$top=100")
    assert len(seen) == 450 and pages == 5
    assert set(seen[0]["fields"]) == {"@odata.etag", "Title"}


def test_next_link_is_absolute_opaque_and_top_is_capped() -> None:
    world = make_world(max_page_size=50)
    events = events_list(world, 120)
    status, body, _ = world.call(
        "GET", world.items_url(events) + "?$top=5000&$expand=fields($select=Title,Status)"
    )
    assert len(body["value"]) == 50
    link = urlsplit(body["@odata.nextLink"])
    assert f"{link.scheme}://{link.netloc}" == ORIGIN and "$skiptoken=" in link.query
    assert "$expand=fields($select=Title,Status)" in link.query
    tampered = body["@odata.nextLink"].replace("$skiptoken=", "$skiptoken=x")
    assert world.call("GET", tampered)[0] == 400


def test_top_that_is_a_digit_but_not_a_number_is_a_400() -> None:
    world = make_world()
    events = events_list(world, 1)
    status, error, _ = world.call("GET", world.items_url(events) + "?$top=%C2%B2")  # "²"
    assert status == 400 and error["error"]["code"] == "invalidRequest"


def test_filter_on_indexed_column_and_the_non_indexed_refusal() -> None:
    world = make_world()
    events = events_list(world, 60)
    url = world.items_url(events) + "?$filter=fields/EventStart ge '2025-01-20T00:00:00Z'&$top=500"
    status, body, _ = world.call("GET", url)
    assert status == 200 and body["value"]
    assert all(int(item["id"]) % 28 >= 19 for item in body["value"])

    status, error, _ = world.call("GET", world.items_url(events) + "?$filter=fields/Status eq 'Open'")
    assert status == 400
    assert error["error"]["code"] == "invalidRequest"
    assert error["error"]["message"] == NOT_INDEXED_MESSAGE.format(name="Status")
    assert error["error"]["message"].startswith("Field 'Status' cannot be referenced in filter or orderby")

    prefer = {"Prefer": "HonorNonIndexedQueriesWarningMayFailRandomly"}
    status, body, _ = world.call(
        "GET", world.items_url(events) + "?$filter=fields/Attendees le 3", headers=prefer
    )
    assert status == 200 and [item["id"] for item in body["value"]] == ["1", "2", "3"]
    url = world.items_url(events) + "?$filter=startswith(fields/Title,'Event 5')"
    status, body, _ = world.call("GET", url, headers=prefer)
    assert [item["id"] for item in body["value"]] == ["5"] + [str(n) for n in range(50, 60)]


def test_every_column_type_serialises_as_graph_does() -> None:
    world = make_world()
    wards = world.store.create_list(world.site, "Wards", [])
    world.store.add_item(wards, {"Title": "North"})
    columns = [
        ListColumn("Notes", "Notes", "note"), ListColumn("Kind", "Kind", "choice", choices=("Meeting", "Patrol")),
        ListColumn("Topics", "Topics", "multichoice", choices=("ASB", "Drugs")), ListColumn("Count", "Count", "number"),
        ListColumn("Cost", "Cost", "currency"), ListColumn("Online", "Online", "boolean"),
        ListColumn("Start", "Start", "dateTime"), ListColumn("Spring", "Spring", "dateOnly"),
        ListColumn("Autumn", "Autumn", "dateOnly"), ListColumn("Winter", "Winter", "dateOnly"),
        ListColumn("Ward", "Ward", "lookup", lookup_list="Wards"),
        ListColumn("Wards", "Wards", "multilookup", lookup_list="Wards"),
        ListColumn("Lead", "Lead", "person"), ListColumn("Officers_x0020_Present", "Officers present", "multiperson"),
        ListColumn("Link", "Link", "hyperlink"), ListColumn("Venue", "Venue", "location"),
        ListColumn("Theme", "Theme", "term"), ListColumn("Themes", "Themes", "multiterm"),
    ]  # fmt: skip
    events = world.store.create_list(world.site, "Events", columns)
    venue = Location(
        "Town Hall", "1 High St", "Leeds", "West Yorkshire", "United Kingdom", "LS1 1AA", 53.8, -1.55
    )
    term = Term("Youth", "6b2c6d0e-5f3a-4b7a-9b61-2b1e2f6f0a11", 4)
    world.store.add_item(events, {
        "Title": "Meeting", "Notes": "Line 1\nLine 2", "Kind": "Meeting", "Topics": ["ASB", "Drugs"], "Count": 3,
        "Cost": 12.5, "Online": False, "Start": datetime(2025, 7, 1, 18, 30, tzinfo=UTC),
        "Spring": date(2025, 3, 31), "Autumn": date(2025, 10, 26), "Winter": date(2025, 3, 30),
        "Ward": Lookup(1, "North"), "Wards": [Lookup(1, "North")], "Lead": OFFICER,
        "Officers_x0020_Present": [OFFICER, PCSO], "Link": Hyperlink("https://example.org", "Example"),
        "Venue": venue, "Theme": term, "Themes": [term],
    }, author=OFFICER)  # fmt: skip

    status, item, _ = world.call("GET", world.items_url(events) + "/1?$expand=fields")
    fields = item["fields"]
    assert fields["Notes"] == "Line 1\nLine 2" and fields["Kind"] == "Meeting"
    assert fields["Topics"] == ["ASB", "Drugs"] and fields["Count"] == 3 and fields["Cost"] == 12.5
    assert fields["Topics@odata.type"] == "Collection(Edm.String)"  # the annotation Graph puts before it
    keys = list(fields)
    assert keys.index("Topics@odata.type") == keys.index("Topics") - 1
    assert fields["Online"] is False
    assert fields["Start"] == "2025-07-01T18:30:00Z"
    assert fields["Spring"] == "2025-03-30T23:00:00Z"  # BST: local midnight is 23:00 UTC the day before
    assert (
        fields["Autumn"] == "2025-10-25T23:00:00Z"
    )  # clocks go back at 01:00 UTC that day: midnight was BST
    assert fields["Winter"] == "2025-03-30T00:00:00Z"  # clocks go forward at 01:00 UTC: midnight was GMT
    assert fields["WardLookupId"] == "1" and "Ward" not in fields
    assert fields["LeadLookupId"] == "7" and "Lead" not in fields
    assert fields["Wards"] == [{"LookupId": 1, "LookupValue": "North"}]
    assert fields["Officers_x0020_Present"] == [
        {"LookupId": 7, "LookupValue": "Sam Officer", "Email": "sam.officer@contoso.com"},
        {"LookupId": 8, "LookupValue": "Jo Pcso", "Email": "jo.pcso@contoso.com"},
    ]
    assert fields["Link"] == {"Description": "Example", "Url": "https://example.org"}
    assert fields["Venue"]["displayName"] == "Town Hall"
    assert fields["Venue"]["address"] == {"street": "1 High St", "city": "Leeds", "state": "West Yorkshire",
                                          "countryOrRegion": "United Kingdom", "postalCode": "LS1 1AA"}  # fmt: skip
    assert fields["Venue"]["coordinates"] == {"latitude": 53.8, "longitude": -1.55}
    assert (fields["City"], fields["PostalCode"], fields["DispName"]) == ("Leeds", "LS1 1AA", "Town Hall")
    assert fields["GeoLoc"] == {"latitude": 53.8, "longitude": -1.55}
    assert fields["Theme"] == {"Label": "Youth", "TermGuid": term.term_guid, "WssId": 4}
    assert fields["Themes"] == [fields["Theme"]]
    for key in ("@odata.etag", "id", "ContentType", "Title", "Modified", "Created", "AuthorLookupId",
                "EditorLookupId", "_UIVersionString", "Attachments", "Edit", "LinkTitle", "LinkTitleNoMenu",
                "ItemChildCount", "FolderChildCount"):  # fmt: skip
        assert key in fields, key
    assert fields["AuthorLookupId"] == "7" and fields["Created"] == "2026-11-02T09:00:00Z"
    assert item["id"] == "1" and item["eTag"] == item["@odata.etag"] == fields["@odata.etag"]
    assert item["createdBy"]["user"]["email"] == "sam.officer@contoso.com"
    assert item["parentReference"]["siteId"] == world.site.id
    assert item["contentType"]["name"] == "Item" and item["webUrl"].endswith("/Lists/Events/1_.000")


def test_columns_carry_type_facets_with_the_documented_gaps() -> None:
    world = make_world()
    columns = [
        ListColumn("Kind", "Kind", "choice", choices=("A", "B")), ListColumn("Tags", "Tags", "multichoice"),
        ListColumn("Link", "Link", "hyperlink"), ListColumn("Venue", "Venue", "location"),
        ListColumn("Theme", "Theme", "term"), ListColumn("Day", "Day", "dateOnly", indexed=True),
        ListColumn("Lead", "Lead", "person"), ListColumn("Secret", "Secret", "text", hidden=True),
    ]  # fmt: skip
    events = world.store.create_list(world.site, "Events", columns)
    status, body, _ = world.call("GET", f"/graph/v1.0/sites/{world.site.id}/lists/{events.id}/columns")
    by_name = {column["name"]: column for column in body["value"]}
    assert (
        by_name["Kind"]["choice"]["choices"] == ["A", "B"]
        and "allowMultipleValues" not in by_name["Kind"]["choice"]
    )
    assert "allowMultipleValues" not in by_name["Tags"]["choice"]
    facets = {"text", "choice", "dateTime", "lookup", "personOrGroup", "number", "boolean", "currency",
              "hyperlinkOrPicture", "term", "geolocation"}  # fmt: skip
    for bare in ("Link", "Venue", "Theme"):
        assert not facets & set(by_name[bare]), bare
    assert by_name["Day"]["dateTime"]["format"] == "dateOnly" and by_name["Day"]["indexed"] is True
    assert by_name["Lead"]["personOrGroup"]["allowMultipleSelection"] is False
    assert by_name["City"]["readOnly"] is True and by_name["City"]["displayName"] == "Venue: City"
    assert {"CountryOrRegion", "State", "PostalCode", "Street", "GeoLoc", "DispName"} <= set(by_name)
    assert "Secret" not in by_name
    hidden = world.call(
        "GET", f"/graph/v1.0/sites/{world.site.id}/lists/{events.id}/columns?$select=name,hidden"
    )
    assert "Secret" in {column["name"] for column in hidden[1]["value"]}


def test_a_list_expands_its_columns_in_one_request() -> None:
    world = make_world()
    events = world.store.create_list(world.site, "Events", [
        ListColumn("Kind", "Kind", "choice", choices=("A", "B")), ListColumn("Secret", "Secret", "text", hidden=True),
    ])  # fmt: skip
    lists = f"/graph/v1.0/sites/{world.site.id}/lists"
    status, body, _ = world.call("GET", f"{lists}/Events?$expand=columns")
    assert status == 200 and body["id"] == events.id
    assert [column["name"] for column in body["columns"]] == ["Title", "Kind"]
    hidden = world.call("GET", f"{lists}/Events?$expand=columns($select=name,hidden)")[1]
    assert "Secret" in {column["name"] for column in hidden["columns"]}
    every = world.call("GET", f"{lists}?$expand=columns")[1]["value"]
    assert [len(one["columns"]) for one in every] == [2]
    assert "columns" not in world.call("GET", f"{lists}/Events")[1]
    status, error, _ = world.call("GET", f"{lists}/Events?$expand=subscriptions")
    assert status == 400 and error["error"]["code"] == "invalidRequest"


def test_more_than_twelve_lookup_columns_are_dropped_from_multi_item_reads_only() -> None:
    world = make_world()
    wards = world.store.create_list(world.site, "Wards", [])
    world.store.add_item(wards, {"Title": "North"})
    columns = [ListColumn(f"L{n}", f"L{n}", "lookup", lookup_list="Wards") for n in range(1, 12)]
    many = world.store.create_list(world.site, "Many", columns)
    world.store.add_item(many, {f"L{n}": Lookup(1, "North") for n in range(1, 12)})

    status, body, _ = world.call("GET", world.items_url(many) + "?$expand=fields")
    fields = body["value"][0]["fields"]
    assert {f"L{n}LookupId" for n in range(1, 11)} <= set(fields)  # Author + Editor + L1..L10 = 12
    assert "L11LookupId" not in fields
    single = world.call("GET", world.items_url(many) + "/1?$expand=fields")[1]["fields"]
    assert "L11LookupId" in single
    selected = world.call("GET", world.items_url(many) + "?$expand=fields($select=L11)")[1]["value"][0][
        "fields"
    ]
    assert selected["L11LookupId"] == "1"


def test_managed_metadata_columns_count_towards_the_lookup_threshold() -> None:
    world = make_world()
    wards = world.store.create_list(world.site, "Wards", [])
    world.store.add_item(wards, {"Title": "North"})
    term = Term("Youth", "6b2c6d0e-5f3a-4b7a-9b61-2b1e2f6f0a11", 4)
    columns = [ListColumn(f"L{n}", f"L{n}", "lookup", lookup_list="Wards") for n in range(1, 10)]
    columns += [ListColumn("Theme", "Theme", "term"), ListColumn("Themes", "Themes", "multiterm")]
    many = world.store.create_list(world.site, "Many", columns)
    world.store.add_item(many, {**{f"L{n}": Lookup(1, "North") for n in range(1, 10)}, "Theme": term,
                                "Themes": [term]})  # fmt: skip

    selected = ",".join([*(f"L{n}" for n in range(1, 10)), "Theme", "Themes", "Author", "Editor"])
    status, body, _ = world.call("GET", world.items_url(many) + f"?$expand=fields($select={selected})")
    fields = body["value"][0]["fields"]
    assert "Theme" in fields and "Themes" not in fields  # Author, Editor, L1..L9, Theme = 12; Themes is 13th
    assert "Themes" in world.call("GET", world.items_url(many) + "/1?$expand=fields")[1]["fields"]


def test_create_update_with_if_match_and_delete() -> None:
    world = make_world()
    events = events_list(world, 0)
    url = world.items_url(events)
    status, created, _ = world.call(
        "POST", url, {"fields": {"Title": "New", "Status": "Open", "Attendees": 4}}
    )
    assert status == 201 and created["id"] == "1" and created["fields"]["Attendees"] == 4
    status, fields, _ = world.call("PATCH", f"{url}/1/fields", {"Status": "Closed"},
                                   {"If-Match": created["eTag"]})  # fmt: skip
    assert status == 200 and fields["Status"] == "Closed" and fields["Title"] == "New"
    assert fields["_UIVersionString"] == "2.0"
    status, error, _ = world.call(
        "PATCH", f"{url}/1/fields", {"Status": "Open"}, {"If-Match": created["eTag"]}
    )
    assert status == 412
    assert world.call("POST", url, {"fields": {"Unknown": 1}})[0] == 400
    assert world.call("POST", url, {"fields": {"Status": "Maybe"}})[0] == 400
    assert world.call("DELETE", f"{url}/1")[0] == 204
    status, error, _ = world.call("GET", f"{url}/1")
    assert status == 404 and error["error"]["code"] == "itemNotFound"


def test_errors_and_answers_echo_the_client_request_id() -> None:
    """Graph returns the client's client-request-id in innerError and as a header (errors.md)."""
    world = make_world()
    sent = {"client-request-id": "5a6f3c1e-2b7d-4e8f-9a0b-1c2d3e4f5a6b"}
    status, error, headers = world.call("GET", f"/graph/v1.0/sites/{world.site.id}/lists/Nope", headers=sent)
    assert status == 404
    assert error["error"]["innerError"]["client-request-id"] == sent["client-request-id"]
    assert headers["client-request-id"] == sent["client-request-id"]
    assert headers["request-id"] == error["error"]["innerError"]["request-id"]
    status, _, headers = world.call("GET", f"/graph/v1.0/sites/{world.site.id}", headers=sent)
    assert status == 200 and headers["client-request-id"] == sent["client-request-id"]


def test_tokens_are_checked_unless_auth_is_off() -> None:
    world = make_world()
    url = f"/graph/v1.0/sites/{world.site.id}"
    assert world.emulator.handle("GET", url, {}, b"", ORIGIN).status == 401
    wrong = TokenAuthority(world.store.clock).issue(audience=GRAPH_AUDIENCE, client_id="a", tenant="t")
    response = world.emulator.handle("GET", url, {"Authorization": f"Bearer {wrong}"}, b"", ORIGIN)
    assert response.status == 401
    assert json.loads(response.body)["error"]["code"] == "InvalidAuthenticationToken"
    open_world = make_world(require_auth=False)
    assert (
        open_world.emulator.handle("GET", f"/graph/v1.0/sites/{open_world.site.id}", {}, b"", ORIGIN).status
        == 200
    )


@pytest.mark.parametrize(
    ("method", "path", "query", "units"),
    [
        ("GET", "/v1.0/sites/s/lists/l/items/1", "", 1),
        ("GET", "/v1.0/sites/s/lists/l/items", "", 2),
        ("GET", "/v1.0/sites/s/lists/l/items/delta", "", 2),
        ("GET", "/v1.0/sites/s/lists/l/items/delta", "token=abc", 1),
        ("POST", "/v1.0/sites/s/lists/l/items", "", 2),
        ("PATCH", "/v1.0/sites/s/lists/l/items/1/fields", "", 2),
        ("DELETE", "/v1.0/sites/s/lists/l/items/1", "", 2),
    ],
)
def test_resource_units(method: str, path: str, query: str, units: int) -> None:
    service = make_world().service
    request = Request(method, path, Request.parse_query(query), {}, b"", ORIGIN, query)
    assert service.resource_units(request) == units


def test_a_write_after_a_page_was_prefetched_is_still_seen() -> None:
    world = make_world()
    events = events_list(world, 10)
    status, first, _ = world.call("GET", world.items_url(events) + "?$expand=fields&$top=5")
    world.service.page_cache.wait_all()
    world.store.update_item(events, "7", {"Status": "Closed"})
    status, second, _ = world.call("GET", first["@odata.nextLink"])
    statuses = [item["fields"]["Status"] for item in second["value"]]
    assert statuses == ["Open", "Closed", "Open", "Open", "Open"]  # items 6..10, item 7 updated
