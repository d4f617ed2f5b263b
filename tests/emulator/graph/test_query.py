"""$orderby and $filter on list items: the non-indexed refusal without the Prefer opt-in, ordering when allowed,
and the built-in Modified / lastModifiedDateTime filters (microsoft-apis.md §2.2)."""

from __future__ import annotations

import pytest

from emulator.graph.query import NOT_INDEXED_MESSAGE
from emulator.lists.store import SpList
from tests.emulator.graph.test_items import World, events_list, make_world, page_all

PREFER = {"Prefer": "HonorNonIndexedQueriesWarningMayFailRandomly"}


@pytest.fixture
def world() -> World:
    return make_world()


def attendees(items: list[dict[str, object]]) -> list[object]:
    return [item["fields"]["Attendees"] for item in items]  # type: ignore[index]


def test_orderby_on_a_non_indexed_column_without_the_header_is_the_documented_400(world: World) -> None:
    events = events_list(world, 5)
    status, error, _ = world.call("GET", world.items_url(events) + "?$orderby=fields/Attendees desc")
    assert status == 400 and error["error"]["code"] == "invalidRequest"
    assert error["error"]["message"] == NOT_INDEXED_MESSAGE.format(name="Attendees")


def test_orderby_is_honoured_with_the_header_and_pages_keep_the_order(world: World) -> None:
    events = events_list(world, 7)
    url = world.items_url(events) + "?$expand=fields($select=Attendees)&$orderby=fields/Attendees desc&$top=3"
    seen, pages = page_all(world, url, headers=PREFER)
    assert attendees(seen) == [7, 6, 5, 4, 3, 2, 1] and pages == 3


def test_orderby_on_an_indexed_column_needs_no_header(world: World) -> None:
    events = events_list(world, 6)
    url = world.items_url(events) + "?$expand=fields($select=EventStart)&$orderby=fields/EventStart desc"
    status, body, _ = world.call("GET", url)
    assert status == 200
    starts = [item["fields"]["EventStart"] for item in body["value"]]
    assert starts == sorted(starts, reverse=True) and len(set(starts)) == 6
    assert [item["id"] for item in body["value"]] == ["6", "5", "4", "3", "2", "1"]


def test_orderby_on_the_item_id_is_indexed_and_may_descend(world: World) -> None:
    events = events_list(world, 4)
    status, body, _ = world.call("GET", world.items_url(events) + "?$orderby=fields/ID desc")
    assert status == 200 and [item["id"] for item in body["value"]] == ["4", "3", "2", "1"]


@pytest.mark.parametrize(
    ("orderby", "message"),
    [
        ("fields/Nope", "Field 'Nope' is not recognized"),
        ("webUrl", "Property 'webUrl' cannot be used in filter or orderby"),
        ("fields/EventStart desc,fields/ID asc", "different directions"),
        ("fields/EventStart sideways", "Invalid $orderby expression"),
    ],
)
def test_orderby_refusals(world: World, orderby: str, message: str) -> None:
    events = events_list(world, 2)
    status, error, _ = world.call("GET", world.items_url(events) + f"?$orderby={orderby}", headers=PREFER)
    assert status == 400 and message in error["error"]["message"]


def modified_list(world: World) -> tuple[SpList, str]:
    """Five items created together; items 2 and 4 edited ten and twenty minutes later. Returns the list and the edit time."""
    events = events_list(world, 5)
    clock = world.store.clock
    for item_id in ("2", "4"):
        clock.advance(600)  # type: ignore[attr-defined]
        world.store.update_item(events, item_id, {"Attendees": 100})
    return events, clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("field", ["fields/Modified", "lastModifiedDateTime"])
def test_a_modified_filter_needs_the_header_on_a_list_without_that_index(world: World, field: str) -> None:
    events, edited = modified_list(world)
    url = world.items_url(events) + f"?$filter={field} ge '{edited}'"
    status, error, _ = world.call("GET", url)
    assert status == 400 and error["error"]["message"] == NOT_INDEXED_MESSAGE.format(name="Modified")

    status, body, _ = world.call("GET", url, headers=PREFER)
    assert status == 200 and [item["id"] for item in body["value"]] == ["4"]
    before = world.items_url(events) + f"?$filter={field} lt '{edited}'"
    assert [item["id"] for item in world.call("GET", before, headers=PREFER)[1]["value"]] == [
        "1",
        "2",
        "3",
        "5",
    ]


def test_an_indexed_modified_filters_and_orders_without_the_header(world: World) -> None:
    events, edited = modified_list(world)
    events.builtin_indexes = frozenset({"ID", "Modified"})
    url = world.items_url(events) + "?$filter=lastModifiedDateTime ge '2020-01-01T00:00:00Z'"
    status, body, _ = world.call("GET", url + "&$orderby=lastModifiedDateTime desc")
    assert status == 200 and [item["id"] for item in body["value"]][:2] == ["4", "2"]
    assert (
        world.call("GET", world.items_url(events) + "?$orderby=fields/Created")[0] == 400
    )  # still not indexed
