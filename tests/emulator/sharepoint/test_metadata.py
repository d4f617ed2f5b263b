"""The web, lists and fields, and item values with their expansions, as office365-rest-python-client reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from office365.sharepoint.client_context import ClientContext

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.server import start_server
from emulator.core.tokens import TokenAuthority
from emulator.lists.store import ListColumn, ListStore, Location, Lookup, Person, Site, Term
from emulator.sharepoint.service import SharePointService

OFFICERS = (Person(7, "Sam Officer", "sam@contoso.example"), Person(9, "Jo Officer", "jo@contoso.example"))
WARD = Term("North Ward", "5b1c0f1e-7f1a-4f55-9a57-0c5f3f6f2d11", 3)
COLUMNS = [
    ListColumn("Status", "Status", "choice", choices=("Open", "Closed"), indexed=True),
    ListColumn("Issues", "Issues", "multichoice", choices=("ASB", "Drugs")),
    ListColumn("When", "When", "dateTime"), ListColumn("Day", "Day", "dateOnly", required=True),
    ListColumn("Area", "Area", "lookup", lookup_list="Areas"), ListColumn("Areas", "Areas", "multilookup", lookup_list="Areas"),
    ListColumn("Lead", "Lead", "person"), ListColumn("Officers", "Officers", "multiperson"),
    ListColumn("Ward", "Ward", "term"), ListColumn("Wards", "Wards", "multiterm"),
    ListColumn("Venue", "Venue", "location"), ListColumn("Secret", "Secret", "text", hidden=True),
]  # fmt: skip


@dataclass
class Running:
    store: ListStore
    emulator: Emulator
    site: Site
    site_url: str
    token: str

    def context(self) -> ClientContext:
        token = {"access_token": self.token, "token_type": "Bearer"}
        return ClientContext(self.site_url).with_access_token(lambda: token)


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    clock = ManualClock()
    store = ListStore(clock)
    tokens = TokenAuthority(clock)
    site = store.create_site("/sites/Neighbourhood", "Neighbourhood")
    areas = store.create_list(site, "Areas", [])
    store.add_item(areas, {"Title": "North"})
    store.add_item(areas, {"Title": "South"})
    events = store.create_list(site, "Community Events", COLUMNS)
    store.add_item(events, {
        "Title": "Surgery", "Status": "Open", "Issues": ["ASB", "Drugs"], "When": datetime(2025, 7, 1, 18, tzinfo=UTC),
        "Area": Lookup(1, "North"), "Areas": [Lookup(1, "North"), Lookup(2, "South")], "Lead": OFFICERS[0],
        "Officers": list(OFFICERS), "Ward": WARD, "Wards": [WARD], "Venue": Location("Hall", city="Leeds", latitude=53.8, longitude=-1.5),
    })  # fmt: skip
    emulator = Emulator(clock=clock)
    emulator.mount(SharePointService(store, tokens))
    with start_server(emulator) as server:
        token = tokens.issue(audience="https://contoso.sharepoint.com", client_id="app", tenant="t")
        yield Running(store, emulator, site, f"{server.base_url}/sharepoint/sites/Neighbourhood", token)


def test_web_and_site_give_the_ids_graph_composes_its_site_id_from(running: Running) -> None:
    context = running.context()
    web = context.web.get().execute_query()
    site = context.site.get().execute_query()

    hostname, collection_id, web_id = running.site.id.split(",")
    assert web.properties["Id"] == web_id and site.properties["Id"] == collection_id
    assert web.properties["Title"] == "Neighbourhood" and web.properties["Url"] == running.site_url


def test_lists_with_their_url_names(running: Running) -> None:
    lists = running.context().web.lists.expand(["RootFolder"]).get().execute_query()

    found = {item.properties["Title"]: item for item in lists}
    assert set(found) == {"Areas", "Community Events"}
    events = found["Community Events"].properties
    assert events["Id"] == running.store.get_list(running.site, "Community Events").id
    assert events["RootFolder"].properties["Name"] == "CommunityEvents" and events["BaseTemplate"] == 100


def test_fields_say_type_choices_lookup_target_and_flags(running: Running) -> None:
    fields = running.context().web.lists.get_by_title("Community Events").fields.get().execute_query()

    by_name = {field.properties["InternalName"]: field.properties for field in fields}
    assert by_name["Status"]["TypeAsString"] == "Choice" and by_name["Status"]["Indexed"] is True
    assert list(by_name["Issues"]["Choices"]) == ["ASB", "Drugs"]
    assert by_name["Day"]["DisplayFormat"] == 0 and by_name["When"]["DisplayFormat"] == 1
    assert by_name["Day"]["Required"] is True
    areas_id = running.store.get_list(running.site, "Areas").id
    assert (
        by_name["Areas"]["TypeAsString"] == "LookupMulti"
        and by_name["Areas"]["LookupList"] == f"{{{areas_id}}}"
    )
    assert (
        by_name["Officers"]["TypeAsString"] == "UserMulti"
        and by_name["Officers"]["AllowMultipleValues"] is True
    )
    assert by_name["Ward"]["TypeAsString"] == "TaxonomyFieldType"
    assert by_name["Wards"]["TypeAsString"] == "TaxonomyFieldTypeMulti"
    assert by_name["Venue"]["TypeAsString"] == "Location" and by_name["Secret"]["Hidden"] is True
    assert by_name["Author"]["ReadOnlyField"] is True and by_name["owshiddenversion"]["Hidden"] is True


def item(running: Running, select: list[str], expand: list[str]) -> dict[str, Any]:
    items = (
        running.context().web.lists.get_by_title("Community Events").items.select(select).expand(expand)
        .get().execute_query()
    )  # fmt: skip
    return items[0].properties  # type: ignore[no-any-return]


def test_expanded_people_lookups_and_the_taxonomy_catch_all(running: Running) -> None:
    got = item(running, ["Id", "Officers/Id", "Officers/Title", "Officers/EMail", "Areas/Id", "Areas/Title",
                         "TaxCatchAll/ID", "TaxCatchAll/Term", "Ward"], ["Officers", "Areas", "TaxCatchAll"])  # fmt: skip

    assert list(got["Officers"].values()) == [
        {"Id": 7, "Title": "Sam Officer", "EMail": "sam@contoso.example"},
        {"Id": 9, "Title": "Jo Officer", "EMail": "jo@contoso.example"},
    ]
    assert list(got["Areas"].values()) == [{"Id": 1, "Title": "North"}, {"Id": 2, "Title": "South"}]
    assert list(got["TaxCatchAll"].values()) == [{"ID": 3, "Term": "North Ward"}]
    assert got["Ward"] == {"Label": "3", "TermGuid": WARD.term_guid, "WssId": 3}  # REST's Label is the WssId


def test_ids_and_versions_only_as_selected(running: Running) -> None:
    got = item(running, ["Id", "AreaId", "LeadId", "owshiddenversion", "GUID", "Wards", "Venue"], [])

    assert set(got) - {"ParentList"} == {
        "Id",
        "AreaId",
        "LeadId",
        "owshiddenversion",
        "GUID",
        "Wards",
        "Venue",
    }
    assert (got["AreaId"], got["LeadId"], got["owshiddenversion"]) == (1, 7, 1)
    assert got["Wards"][0]["Label"] == "North Ward"  # multi-value terms carry their labels
    venue = json.loads(got["Venue"])
    assert venue["DisplayName"] == "Hall" and venue["Coordinates"] == {"Latitude": 53.8, "Longitude": -1.5}
    assert (
        venue["LocationUri"].startswith("https://www.bingapis.com/")
        and venue["UniqueId"] == venue["LocationUri"]
    )


def test_the_default_projection_leaves_hidden_columns_and_the_version_counter_out(running: Running) -> None:
    got = (
        running.context().web.lists.get_by_title("Community Events").items.get().execute_query()[0].properties
    )

    assert "Secret" not in got and "owshiddenversion" not in got
    assert got["AreaId"] == 1 and list(got["AreasId"].values()) == [1, 2]
