from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.tokens import GRAPH_AUDIENCE, TokenAuthority
from emulator.faults.plan import FaultPlan, FaultRule, Injection
from emulator.graph.service import GraphService
from emulator.lists.store import ListColumn, ListStore

ORIGIN = "http://127.0.0.1:9999"


class BatchWorld:
    def __init__(self) -> None:
        clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
        self.store = ListStore(clock)
        tokens = TokenAuthority(clock)
        self.emulator = Emulator(clock=clock)
        self.emulator.mount(GraphService(self.store, tokens, dispatcher=self.emulator))
        self.token = tokens.issue(
            audience=GRAPH_AUDIENCE, client_id="app", tenant="t", roles=("Sites.ReadWrite.All",)
        )
        site = self.store.create_site("/sites/Neighbourhood", "Neighbourhood")
        self.events = self.store.create_list(site, "Events", [ListColumn("Status", "Status", "text")])
        self.store.add_item(self.events, {"Title": "Existing"})
        self.items = f"/sites/{site.id}/lists/{self.events.id}/items"

    def batch(self, requests: list[dict[str, Any]]) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        body = json.dumps({"requests": requests}).encode()
        response = self.emulator.handle("POST", "/graph/v1.0/$batch", headers, body, ORIGIN)
        return response.status, json.loads(response.body)

    def create(self, request_id: str, title: str, **extra: Any) -> dict[str, Any]:
        return {"id": request_id, "method": "POST", "url": self.items, "headers": {"Content-Type": "application/json"},
                "body": {"fields": {"Title": title}}, **extra}  # fmt: skip


def by_id(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {response["id"]: response for response in body["responses"]}


def test_a_batch_runs_each_request_and_answers_200() -> None:
    world = BatchWorld()
    status, body = world.batch([
        world.create("1", "A"),
        {"id": "2", "method": "GET", "url": world.items + "/1?$expand=fields"},
        {"id": "3", "method": "GET", "url": world.items + "/99"},
    ])  # fmt: skip
    assert status == 200
    responses = by_id(body)
    assert responses["1"]["status"] == 201 and responses["1"]["body"]["fields"]["Title"] == "A"
    assert responses["2"]["status"] == 200 and responses["2"]["body"]["fields"]["Title"] == "Existing"
    assert responses["3"]["status"] == 404 and responses["3"]["body"]["error"]["code"] == "itemNotFound"
    assert [item.fields["Title"] for item in world.store.items(world.events)] == ["Existing", "A"]


def test_more_than_twenty_requests_or_duplicate_ids_refuse_the_whole_batch() -> None:
    world = BatchWorld()
    status, body = world.batch([world.create(str(n), f"T{n}") for n in range(21)])
    assert status == 400 and body["error"]["code"] == "BadRequest"
    status, _ = world.batch([world.create("1", "A"), world.create("1", "B")])
    assert status == 400
    assert len(world.store.items(world.events)) == 1  # nothing ran


def test_a_body_without_content_type_fails_only_that_request() -> None:
    world = BatchWorld()
    request = world.create("1", "A")
    del request["headers"]
    status, body = world.batch([request])
    assert status == 200 and by_id(body)["1"]["status"] == 400


def test_failed_dependency_gives_424() -> None:
    world = BatchWorld()
    status, body = world.batch([
        {"id": "1", "method": "GET", "url": world.items + "/99"},
        world.create("2", "After a failure", dependsOn=["1"]),
        world.create("3", "After a success", dependsOn=["4"]),
        world.create("4", "First"),
    ])  # fmt: skip
    responses = by_id(body)
    assert responses["2"]["status"] == 424
    assert responses["3"]["status"] == 201 and responses["4"]["status"] == 201
    titles = [item.fields["Title"] for item in world.store.items(world.events)]
    assert titles == ["Existing", "First", "After a success"]


def test_inner_errors_echo_the_sub_requests_client_request_id() -> None:
    world = BatchWorld()
    mine = {"Content-Type": "application/json", "client-request-id": "c0ffee00-0000-4000-8000-000000000002"}
    status, body = world.batch([
        {"id": "1", "method": "GET", "url": world.items + "/99", "headers": {"client-request-id": "id-1"}},
        world.create("2", "After a failure", dependsOn=["1"], headers=mine),
    ])  # fmt: skip
    responses = by_id(body)
    assert status == 200
    assert responses["1"]["body"]["error"]["innerError"]["client-request-id"] == "id-1"
    assert responses["2"]["status"] == 424
    assert responses["2"]["body"]["error"]["innerError"]["client-request-id"] == mine["client-request-id"]
    assert responses["2"]["headers"]["client-request-id"] == mine["client-request-id"]


def test_inner_requests_are_throttled_individually_through_the_fault_plan() -> None:
    world = BatchWorld()
    rule = FaultRule(service="graph", method="POST", path="/items$", throttle=Injection(sequence=(429,)))
    FaultPlan(rules=[rule]).install(world.emulator)
    status, body = world.batch([world.create("1", "A"), world.create("2", "B", dependsOn=["1"])])
    assert status == 200
    responses = by_id(body)
    assert responses["1"]["status"] == 429 and "Retry-After" in responses["1"]["headers"]
    assert responses["1"]["body"]["error"]["code"] == "activityLimitReached"
    assert responses["2"]["status"] == 424
