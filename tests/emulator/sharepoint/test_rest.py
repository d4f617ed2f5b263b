"""The real office365-rest-python-client, unmodified, against the emulated SharePoint REST over a socket."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import requests
from office365.runtime.client_request_exception import ClientRequestException
from office365.sharepoint.client_context import ClientContext

from emulator.core.app import Emulator
from emulator.core.clock import SystemClock
from emulator.core.server import start_server
from emulator.core.tokens import TokenAuthority
from emulator.lists.store import ListColumn, ListStore, Lookup, Person
from emulator.sharepoint.service import SharePointService

OFFICER = Person(7, "Sam Officer", "sam.officer@contoso.com")


@dataclass
class Running:
    store: ListStore
    emulator: Emulator
    site_url: str
    token: str

    def context(self) -> ClientContext:
        token = {"access_token": self.token, "token_type": "Bearer", "expires_in": 3599}
        return ClientContext(self.site_url).with_access_token(lambda: token)

    def get(self, path: str, accept: str = "application/json;odata=verbose") -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": accept}
        return requests.get(f"{self.site_url}{path}", headers=headers, timeout=10)


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    clock = SystemClock()  # the client checks token expiry against real time
    store = ListStore(clock)
    tokens = TokenAuthority(clock)
    site = store.create_site("/sites/Neighbourhood", "Neighbourhood")
    wards = store.create_list(site, "Wards", [])
    store.add_item(wards, {"Title": "North"})
    columns = [
        ListColumn("EventStart", "Event start", "dateTime"), ListColumn("Day", "Day", "dateOnly"),
        ListColumn("Ward", "Ward", "lookup", lookup_list="Wards"), ListColumn("Lead", "Lead", "person"),
        ListColumn("Topics", "Topics", "multichoice"), ListColumn("_Hidden", "Hidden", "text", hidden=True),
    ]  # fmt: skip
    events = store.create_list(site, "Community Events", columns)
    for number in range(1, 251):
        store.add_item(events, {"Title": f"Event {number}", "EventStart": datetime(2025, 7, 1, 18, tzinfo=UTC),
                                "Day": date(2025, 7, 1), "Ward": Lookup(1, "North"), "Lead": OFFICER,
                                "Topics": ["ASB"]})  # fmt: skip
    store.delete_item(events, "10")
    emulator = Emulator(clock=clock)
    emulator.mount(SharePointService(store, tokens))
    with start_server(emulator) as server:
        token = tokens.issue(audience="https://contoso.sharepoint.com", client_id="app", tenant="t")
        yield Running(store, emulator, f"{server.base_url}/sharepoint/sites/Neighbourhood", token)


def ids(items: Any) -> list[int]:
    return [item.properties["Id"] for item in items]


def test_get_all_returns_every_item_once_across_pages(running: Running) -> None:
    running.emulator.clear_log()
    items = (
        running.context()
        .web.lists.get_by_title("Community Events")
        .items.get_all(page_size=60)
        .execute_query()
    )
    assert ids(items) == [n for n in range(1, 251) if n != 10]
    log = [record for record in running.emulator.request_log if record.method == "GET"]
    assert len(log) == 5 and log[0].query == "$top=60"
    assert "Lists(guid'" in log[1].path and "p_ID%3D61" in log[1].query.replace("%3d", "%3D")


def test_paged_iteration_and_single_page_top(running: Running) -> None:
    items_api = running.context().web.lists.get_by_title("Community Events").items
    assert len(ids(items_api.paged(100).get().execute_query())) == 249
    first = running.context().web.lists.get_by_title("Community Events").items.top(30).get().execute_query()
    assert ids(first) == [n for n in range(1, 32) if n != 10]


def test_default_page_is_100_with_a_next_link_and_skip_is_ignored(running: Running) -> None:
    body = running.get("/_api/Web/lists/GetByTitle('Community Events')/items?$skip=50").json()["d"]
    assert len(body["results"]) == 100 and body["results"][0]["Id"] == 1
    events = running.store.get_list(running.store.site_by_path("/sites/Neighbourhood"), "Community Events")
    expected = f"/_api/Web/Lists(guid'{events.id}')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d101&%24top=100"
    assert body["__next"] == running.site_url + expected  # item 10 was deleted, so the 100th item is 101


def test_verbose_item_shape(running: Running) -> None:
    item = running.get("/_api/Web/lists/GetByTitle('Community Events')/items(3)").json()["d"]
    assert item["__metadata"]["type"] == "SP.Data.CommunityEventsListItem"
    assert item["__metadata"]["etag"] == '"1"' and item["__metadata"]["uri"].endswith("/Items(3)")
    assert item["Id"] == item["ID"] == 3 and item["Title"] == "Event 3"
    assert item["EventStart"] == "2025-07-01T18:00:00Z" and item["Day"] == "2025-06-30T23:00:00Z"
    assert item["WardId"] == 1 and item["LeadId"] == 7 and item["LeadStringId"] == "7"
    assert item["Topics"] == {"__metadata": {"type": "Collection(Edm.String)"}, "results": ["ASB"]}
    assert "OData__Hidden" not in item


def test_nometadata_uses_value_and_odata_next_link(running: Running) -> None:
    body = running.get("/_api/Web/lists/GetByTitle('Community Events')/items?$top=2",
                       accept="application/json;odata=nometadata").json()  # fmt: skip
    assert [item["Id"] for item in body["value"]] == [1, 2] and "__metadata" not in body["value"][0]
    assert "p_ID%3d2" in body["odata.nextLink"]


def test_errors_reach_the_client_as_exceptions(running: Running) -> None:
    with pytest.raises(ClientRequestException) as missing:
        running.context().web.lists.get_by_title("Nope").items.get().execute_query()
    assert missing.value.response.status_code == 404
    response = requests.get(f"{running.site_url}/_api/Web/lists/GetByTitle('Wards')/items", timeout=10)
    assert response.status_code == 401


def test_a_401_carries_the_bearer_challenge_the_acs_client_reads_its_realm_from(running: Running) -> None:
    from office365.runtime.auth.client_credential import ClientCredential
    from office365.runtime.auth.providers.acs_token_provider import ACSTokenProvider

    response = requests.get(f"{running.site_url}/_api/Web/lists/GetByTitle('Wards')/items", timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="')
    assert 'client_id="00000003-0000-0ff1-ce00-000000000000"' in response.headers["WWW-Authenticate"]
    provider = ACSTokenProvider(running.site_url, ClientCredential("id", "secret"))
    realm = provider._get_realm_from_target_url()  # the HEAD with an empty bearer, as the library sends it
    assert realm is not None and len(realm) == 36


def test_top_that_is_a_digit_but_not_a_number_is_a_400(running: Running) -> None:
    response = running.get("/_api/Web/lists/GetByTitle('Wards')/items?$top=%C2%B2")  # "²"
    assert response.status_code == 400
    assert response.json()["error"]["message"]["lang"] == "en-US"


def test_context_info_carries_a_form_digest(running: Running) -> None:
    response = requests.post(f"{running.site_url}/_api/contextinfo", timeout=10,
                             headers={"Authorization": f"Bearer {running.token}", "Accept": "application/json;odata=verbose"})  # fmt: skip
    info = response.json()["d"]["GetContextWebInformation"]
    assert info["FormDigestTimeoutSeconds"] == 1800 and info["WebFullUrl"] == running.site_url
    assert info["FormDigestValue"].startswith("0x")


def test_auth_can_be_switched_off_for_the_offline_demo() -> None:
    from emulator.core.clock import ManualClock

    clock = ManualClock()
    store = ListStore(clock)
    store.create_list(store.create_site("/sites/Open", "Open"), "Wards", [])
    emulator = Emulator(clock=clock)
    emulator.mount(SharePointService(store, TokenAuthority(clock), require_auth=False))
    response = emulator.handle("GET", "/sharepoint/sites/Open/_api/Web/lists/GetByTitle('Wards')/items", {}, b"",
                               "http://127.0.0.1:1")  # fmt: skip
    assert response.status == 200
