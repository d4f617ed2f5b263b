from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from emulator.core.app import Emulator
from emulator.core.clock import ManualClock
from emulator.core.server import start_server
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


# the request schema: a malformed batch is Graph's 400 for the whole batch, and nothing in it runs ------------


def raw_batch(world: BatchWorld, body: bytes) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {world.token}", "Content-Type": "application/json"}
    response = world.emulator.handle("POST", "/graph/v1.0/$batch", headers, body, ORIGIN)
    return response.status, json.loads(response.body)


def assert_refused(world: BatchWorld, status: int, body: Any, message: str | None = None) -> None:
    assert status == 400
    assert body["error"]["code"] == "BadRequest"
    assert set(body["error"]["innerError"]) == {"request-id", "date", "client-request-id"}
    if message is not None:
        assert body["error"]["message"] == message
    assert [item.fields["Title"] for item in world.store.items(world.events)] == ["Existing"]  # nothing ran


@pytest.mark.parametrize(
    "body",
    [b"{", b"\xff\xfe", b"[]", b'"requests"', b"{}", b'{"requests": null}', b'{"requests": "x"}',
     b'{"requests": {}}', b'{"requests": []}', b'{"requests": [1]}', b'{"requests": [null]}',
     b'{"requests": [[]]}'],
)  # fmt: skip
def test_a_malformed_envelope_is_invalid_batch_payload_format(body: bytes) -> None:
    world = BatchWorld()
    status, answer = raw_batch(world, body)
    assert_refused(world, status, answer, "Invalid batch payload format.")


def entry_variants(world: BatchWorld) -> list[dict[str, Any]]:
    """Each breaks one rule of a batch request entry; the first request of each batch is a valid create."""
    good = {"id": "2", "method": "GET", "url": world.items}
    return [
        {k: v for k, v in good.items() if k != "id"},
        {k: v for k, v in good.items() if k != "method"},
        {k: v for k, v in good.items() if k != "url"},
        {**good, "id": 2},
        {**good, "id": None},
        {**good, "id": ""},
        {**good, "id": ["2"]},
        {**good, "method": 7},
        {**good, "url": {"path": world.items}},
        {**good, "headers": "Content-Type: application/json"},
        {**good, "headers": ["Content-Type"]},
        {**good, "headers": {"client-request-id": 5}},
        {**good, "dependsOn": "1"},
        {**good, "dependsOn": [1]},
        {**good, "dependsOn": [None]},
    ]


@pytest.mark.parametrize("index", range(15))
def test_an_entry_with_a_missing_or_ill_typed_member_refuses_the_whole_batch(index: int) -> None:
    world = BatchWorld()
    broken = entry_variants(world)[index]
    status, answer = world.batch([world.create("1", "Would be created"), broken])
    assert_refused(world, status, answer)


def test_duplicate_ids_refuse_the_whole_batch() -> None:
    world = BatchWorld()
    status, answer = world.batch([world.create("1", "A"), world.create("1", "B")])
    assert_refused(world, status, answer)


def test_twenty_one_requests_refuse_the_whole_batch() -> None:
    world = BatchWorld()
    status, answer = world.batch([world.create(str(n), f"T{n}") for n in range(21)])
    assert_refused(world, status, answer)


@pytest.mark.parametrize("depends", [["9"], ["2"]], ids=["unknown id", "itself"])
def test_depends_on_an_unknown_id_or_itself_refuses_the_whole_batch(depends: list[str]) -> None:
    world = BatchWorld()
    status, answer = world.batch([world.create("1", "A"), world.create("2", "B", dependsOn=depends)])
    assert_refused(world, status, answer, "Request 2 has a dependsOn naming no other request of the batch.")


@pytest.mark.parametrize("cycle", [[("2", "3"), ("3", "2")], [("2", "3"), ("3", "4"), ("4", "2")]])
def test_a_dependency_cycle_refuses_the_whole_batch_before_anything_runs(
    cycle: list[tuple[str, str]],
) -> None:
    world = BatchWorld()
    looped = [world.create(one, f"T{one}", dependsOn=[other]) for one, other in cycle]
    status, answer = world.batch([world.create("1", "Independent, would run first"), *looped])
    assert_refused(world, status, answer, "The batch's dependsOn references form a cycle.")


@pytest.mark.parametrize(
    "url", ["https://graph.microsoft.com/v1.0/sites/root", "http://127.0.0.1:9999/graph/v1.0/sites/root",
            "//graph.microsoft.com/v1.0/sites/root"],
)  # fmt: skip
def test_an_absolute_url_refuses_the_whole_batch(url: str) -> None:
    world = BatchWorld()
    status, answer = world.batch([world.create("1", "A"), {"id": "2", "method": "GET", "url": url}])
    assert_refused(world, status, answer)


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT"])
def test_a_write_without_content_type_or_body_refuses_the_whole_batch(method: str) -> None:
    """Graph: "Write request id : 2 does not contain Content-Type header or body." (msgraph-sdk-dotnet#2628)."""
    world = BatchWorld()
    no_type = {"id": "2", "method": method, "url": world.items, "body": {"fields": {"Title": "B"}}}
    status, answer = world.batch([world.create("1", "A"), no_type])
    assert_refused(
        world, status, answer, "Write request id : 2 does not contain Content-Type header or body."
    )
    no_body = {
        "id": "2",
        "method": method,
        "url": world.items,
        "headers": {"Content-Type": "application/json"},
    }
    status, answer = world.batch([world.create("1", "A"), no_body])
    assert_refused(
        world, status, answer, "Write request id : 2 does not contain Content-Type header or body."
    )


def test_a_get_or_delete_needs_no_content_type() -> None:
    world = BatchWorld()
    status, body = world.batch([
        {"id": "1", "method": "GET", "url": world.items + "/1"},
        {"id": "2", "method": "DELETE", "url": world.items + "/1", "dependsOn": ["1"]},
    ])  # fmt: skip
    assert status == 200 and by_id(body)["2"]["status"] == 204


def test_a_malformed_batch_over_a_socket_is_a_400_not_a_dropped_connection() -> None:
    world = BatchWorld()
    with start_server(world.emulator) as server:
        answer = requests.post(
            f"{server.base_url}/graph/v1.0/$batch",
            json={"requests": [{"id": "1", "method": "GET", "url": world.items, "headers": "x"}]},
            headers={"Authorization": f"Bearer {world.token}"},
            timeout=10,
        )
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"
