"""connectors.graph_batch: creates in `$batch`es of at most 20, chained by dependsOn; inner 429 and 424 resent
after Retry-After, other refusals reported and never resent. Graph's answers as documented (§2.6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from connectors.graph_batch import MAX_BATCH_REQUESTS, GraphBatch
from connectors.http import RetryPolicy, build_session
from errors import ThrottledError

GRAPH = "https://graph.microsoft.com"
BATCH_URL = f"{GRAPH}/v1.0/$batch"
THROTTLED = {"error": {"code": "TooManyRequests", "message": "Please retry again later."}}
FAILED_DEPENDENCY = {
    "error": {"code": "failedDependency", "message": "A request this one depends on failed."}
}
BAD_VALUE = {"error": {"code": "invalidRequest", "message": "Invalid value for field 'Recorded'"}}


class FakeGraph:
    """Answers each $batch from a script: inner id -> (status, headers, body); unscripted ids are created."""

    def __init__(self, script: list[dict[str, tuple[int, dict[str, str], Any]]]) -> None:
        self.script = script
        self.batches: list[list[dict[str, Any]]] = []
        self.created = 0

    def __call__(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        sent = json.loads(request.body or b"{}")["requests"]
        self.batches.append(sent)
        plan = self.script[len(self.batches) - 1] if len(self.batches) <= len(self.script) else {}
        answers = []
        for entry in sent:
            status, headers, body = plan.get(entry["id"], (201, {}, None))
            if status == 201:
                self.created += 1
                body = {"id": str(self.created), "fields": entry["body"]["fields"]}
            answers.append({"id": entry["id"], "status": status, "headers": headers, "body": body})
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"responses": answers[::-1]}),
        )  # any order


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def writer(waits: list[float], **policy: Any) -> GraphBatch:
    session = build_session(lambda: "test-token", user_agent="NONISV|cetk|tests/0", sleep=waits.append)
    return GraphBatch(session, GRAPH, policy=RetryPolicy(**policy), sleep=waits.append, clock=lambda: 0.0)


def items(count: int) -> list[dict[str, Any]]:
    return [{"Title": f"forms:north:{number}"} for number in range(1, count + 1)]


def test_creates_go_in_batches_of_twenty_chained_in_order(http: responses.RequestsMock) -> None:
    graph = FakeGraph([])
    http.add_callback(responses.POST, BATCH_URL, callback=graph)
    results = writer([]).create_items("site", "list-id", items(45))
    assert [len(batch) for batch in graph.batches] == [MAX_BATCH_REQUESTS, MAX_BATCH_REQUESTS, 5]
    first = graph.batches[0]
    assert first[0]["url"] == "/sites/site/lists/list-id/items" and "dependsOn" not in first[0]
    assert all(
        entry["dependsOn"] == [previous["id"]] for previous, entry in zip(first, first[1:], strict=False)
    )
    assert first[0]["headers"] == {"Content-Type": "application/json"}
    assert [result.index for result in results] == list(range(45)) and all(r.created for r in results)


def test_an_inner_429_and_the_424s_behind_it_are_resent_after_retry_after(
    http: responses.RequestsMock,
) -> None:
    graph = FakeGraph([{
        "3": (429, {"Retry-After": "12"}, THROTTLED),
        "4": (424, {}, FAILED_DEPENDENCY),
        "5": (424, {}, FAILED_DEPENDENCY),
    }])  # fmt: skip
    http.add_callback(responses.POST, BATCH_URL, callback=graph)
    waits: list[float] = []
    results = writer(waits).create_items("site", "list-id", items(5))
    assert waits == [12.0]
    assert [entry["id"] for entry in graph.batches[1]] == ["3", "4", "5"]
    assert graph.batches[1][0].get("dependsOn") is None and graph.batches[1][1]["dependsOn"] == ["3"]
    assert graph.created == 5 and all(result.created for result in results)


def test_a_refused_item_is_reported_not_resent_and_the_rest_still_go(http: responses.RequestsMock) -> None:
    graph = FakeGraph([{"2": (400, {}, BAD_VALUE), "3": (424, {}, FAILED_DEPENDENCY)}])
    http.add_callback(responses.POST, BATCH_URL, callback=graph)
    results = writer([]).create_items("site", "list-id", items(3))
    assert [(r.index, r.created, r.status, r.error_code) for r in results] == [
        (0, True, 201, None),
        (1, False, 400, "invalidRequest"),
        (2, True, 201, None),
    ]
    assert [entry["id"] for entry in graph.batches[1]] == ["3"]


def test_still_throttled_after_every_attempt_is_a_throttled_error(http: responses.RequestsMock) -> None:
    graph = FakeGraph([{"1": (429, {"Retry-After": "1"}, THROTTLED)}] * 3)
    http.add_callback(responses.POST, BATCH_URL, callback=graph)
    waits: list[float] = []
    with pytest.raises(ThrottledError, match="after 3 attempts"):
        writer(waits, max_attempts=3).create_items("site", "list-id", items(1))
    assert waits == [1.0, 1.0] and len(graph.batches) == 3


def test_a_retry_after_beyond_the_cap_waits_the_cap(http: responses.RequestsMock) -> None:
    graph = FakeGraph([{"1": (429, {"Retry-After": "3600"}, THROTTLED)}])
    http.add_callback(responses.POST, BATCH_URL, callback=graph)
    waits: list[float] = []
    writer(waits, retry_after_max_seconds=300).create_items("site", "list-id", items(1))
    assert waits == [300.0]


def test_batch_size_is_held_to_graphs_limit() -> None:
    session = build_session(lambda: "t", user_agent="NONISV|cetk|tests/0")
    with pytest.raises(ValueError, match="1 to 20"):
        GraphBatch(session, GRAPH, batch_size=21)
