from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.tokens import GRAPH_AUDIENCE, TokenAuthority
from emulator.graph.service import GraphService
from emulator.lists.store import ListColumn, ListStore

ORIGIN = "http://127.0.0.1:9999"


class DeltaWorld:
    def __init__(self, count: int, **options: Any) -> None:
        self.clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        self.store = ListStore(self.clock)
        tokens = TokenAuthority(self.clock)
        self.emulator = Emulator(clock=self.clock)
        self.service = GraphService(self.store, tokens, dispatcher=self.emulator, **options)
        self.emulator.mount(self.service)
        self.token = tokens.issue(
            audience=GRAPH_AUDIENCE, client_id="app", tenant="t", roles=("Sites.ReadWrite.All",)
        )
        site = self.store.create_site("/sites/Neighbourhood", "Neighbourhood")
        self.events = self.store.create_list(site, "Events", [ListColumn("Status", "Status", "text")])
        for number in range(1, count + 1):
            self.store.add_item(self.events, {"Title": f"Event {number}", "Status": "Open"})
        self.url = f"/graph/v1.0/sites/{site.id}/lists/{self.events.id}/items/delta"

    def get(self, url: str) -> tuple[int, Any, dict[str, str]]:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = self.emulator.handle("GET", url.removeprefix(ORIGIN), headers, b"", ORIGIN)
        return response.status, json.loads(response.body) if response.body else None, response.headers

    def run(self, url: str) -> tuple[list[dict[str, Any]], str, int]:
        """Follow nextLinks to the deltaLink; the items seen, the deltaLink and the number of pages."""
        seen: list[dict[str, Any]] = []
        pages = 0
        next_url: str | None = url
        while True:
            assert next_url is not None
            status, body, _ = self.get(next_url)
            assert status == 200, body
            pages += 1
            seen.extend(body["value"])
            if "@odata.deltaLink" in body:
                assert "@odata.nextLink" not in body
                return seen, body["@odata.deltaLink"], pages
            next_url = body["@odata.nextLink"]


def test_initial_enumeration_pages_to_a_delta_link() -> None:
    world = DeltaWorld(450)
    seen, delta_link, pages = world.run(world.url + "?$expand=fields($select=Title)&$top=200")
    assert [item["id"] for item in seen] == [str(n) for n in range(1, 451)] and pages == 3
    assert seen[0]["fields"] == {"@odata.etag": seen[0]["eTag"], "Title": "Event 1"}
    assert "lastModifiedBy" not in seen[0]
    parts = urlsplit(delta_link)
    assert parts.path.endswith("/items/delta") and "token" in parse_qs(parts.query)
    assert "$expand=fields($select=Title)" in parts.query  # the link keeps the query options


def test_changes_show_latest_state_and_an_item_changed_twice_twice() -> None:
    world = DeltaWorld(5)
    _, delta_link, _ = world.run(world.url + "?$expand=fields")
    world.store.update_item(world.events, "2", {"Status": "Closed"})
    world.store.update_item(world.events, "2", {"Status": "Cancelled"})
    world.store.delete_item(world.events, "4")
    world.store.add_item(world.events, {"Title": "Event 6"})

    seen, next_delta, _ = world.run(delta_link)
    assert [item["id"] for item in seen] == ["2", "2", "4", "6"]
    assert seen[0]["fields"]["Status"] == seen[1]["fields"]["Status"] == "Cancelled"  # latest state, twice
    assert world.run(next_delta)[0] == []  # nothing since


def test_without_repeats_changes_show_each_item_once_and_deletes_with_the_deleted_facet() -> None:
    world = DeltaWorld(5, delta_repeats_changed_items=False)
    _, delta_link, _ = world.run(world.url + "?$expand=fields")
    world.store.update_item(world.events, "2", {"Status": "Closed"})
    world.store.update_item(world.events, "2", {"Status": "Cancelled"})
    world.store.delete_item(world.events, "4")
    world.store.add_item(world.events, {"Title": "Event 6"})

    seen, next_delta, _ = world.run(delta_link)
    assert [item["id"] for item in seen] == ["2", "4", "6"]
    assert seen[0]["fields"]["Status"] == "Cancelled"
    assert seen[1] == {
        "id": "4",
        "parentReference": {"siteId": world.events.site.id},
        "contentType": seen[1]["contentType"],
        "deleted": {"state": "deleted"},
    }
    assert world.run(next_delta)[0] == []  # nothing since


def test_changes_page_with_next_links() -> None:
    world = DeltaWorld(10)
    _, delta_link, _ = world.run(world.url)
    for number in range(1, 11):
        world.store.update_item(world.events, str(number), {"Status": "Closed"})
    seen, _, pages = world.run(delta_link + "&$top=4")
    assert [item["id"] for item in seen] == [str(n) for n in range(1, 11)] and pages == 3


def test_token_latest_returns_no_items_and_a_delta_link() -> None:
    world = DeltaWorld(3)
    status, body, _ = world.get(world.url + "?token=latest")
    assert status == 200 and body["value"] == [] and "@odata.deltaLink" in body
    world.store.update_item(world.events, "3", {"Status": "Closed"})
    assert [item["id"] for item in world.run(body["@odata.deltaLink"])[0]] == ["3"]


def test_expired_token_answers_410_with_a_location_that_restarts_enumeration() -> None:
    world = DeltaWorld(7)
    _, delta_link, _ = world.run(world.url + "?$top=3")
    world.store.delete_item(world.events, "1")
    world.service.expire_delta_tokens(world.events)

    status, body, headers = world.get(delta_link)
    assert status == 410
    assert body["error"]["code"] == "resyncChangesApplyDifferences"
    restarted, fresh_delta, _ = world.run(headers["Location"])
    assert [item["id"] for item in restarted] == [str(n) for n in range(2, 8)]
    world.store.update_item(world.events, "5", {"Status": "Closed"})
    assert [item["id"] for item in world.run(fresh_delta)[0]] == ["5"]


def test_a_forged_token_is_refused() -> None:
    world = DeltaWorld(1)
    status, body, _ = world.get(world.url + "?token=bm90LWEtdG9rZW4")
    assert status == 400 and body["error"]["code"] == "invalidRequest"
