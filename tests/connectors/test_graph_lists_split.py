"""More lookup-type columns than one Graph read returns (the 13-lookup list), and the second site read
through its own mapping file: nothing about a force's lists is hard-coded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from connectors.graph_lists import GraphLists, site_ref
from connectors.http import read_json, send
from connectors.list_items import selection, without_annotations
from emulator.demo.force import generate_force
from emulator.demo.second_seed import seed_second_site
from emulator.demo.second_site import ENGAGEMENTS, SECOND_SITE_MAPPING, SECOND_SITE_PATH, second_shape
from emulator.lists.store import THRESHOLD_TYPES, Term
from emulator.testing import RunningEmulator
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.graph_world import HOST, apply, connector, graph_requests, graph_session
from transforms.list_mapping import dump_mapping, load_mapping

LOOKUP_NAMES = frozenset(c.name for c in second_shape(ENGAGEMENTS).columns if c.type in THRESHOLD_TYPES)
SELECT = (*(c.name for c in second_shape(ENGAGEMENTS).columns), "Author", "Editor", "Created", "Modified")


@pytest.fixture
def second(start_emulator: StartEmulator) -> RunningEmulator:
    emu = start_emulator()
    seed_second_site(
        emu.stack.store, generate_force(seed=11, events=120, ccrs=0, invalid_fraction=0, officers=40)
    )
    return emu


def engagements(emu: RunningEmulator) -> Any:
    return emu.stack.store.get_list(emu.stack.store.site_by_path(SECOND_SITE_PATH), ENGAGEMENTS)


def single_reads(
    emu: RunningEmulator, session: requests.Session, site_id: str, list_id: str
) -> dict[str, Any]:
    """Every item read on its own (no lookup threshold applies to one item): what the store holds."""
    base = f"{emu.url('graph', '')}/v1.0/sites/{site_id}/lists/{list_id}/items"
    expand = {"$expand": f"fields($select={','.join(SELECT)})"}
    return {
        item.id: without_annotations(read_json(send(session, "GET", f"{base}/{item.id}", params=expand)))[
            "fields"
        ]
        for item in emu.stack.store.items(engagements(emu))
    }


def lookups_per_request(emu: RunningEmulator) -> list[tuple[int, set[str]]]:
    """For each multi-item read: how many lookup-type columns it selected, and which other columns."""
    counted = []
    for record in graph_requests(emu):
        if record.path.endswith(("/items", "/items/delta")) and "$expand" in parse_qs(record.query):
            names = set(
                parse_qs(record.query)["$expand"][0].removeprefix("fields($select=").rstrip(")").split(",")
            )
            lookups = names & (LOOKUP_NAMES | {"Author", "Editor"})
            counted.append((len(lookups), names - lookups))
    return counted


def test_the_13_lookup_list_is_read_completely_in_requests_of_at_most_12(
    second: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    session = graph_session(second, clock, waits)
    lists = connector(second, session, page_size=50)
    live = lists.list_by_name(site_ref(HOST, SECOND_SITE_PATH), ENGAGEMENTS)
    site_id = second.stack.store.site_by_path(SECOND_SITE_PATH).id
    assert len([c for c in live.columns if c.name in LOOKUP_NAMES]) == 13

    items = [
        item
        for page in lists.iter_item_pages(site_id, live.id, SELECT, lookup_columns=LOOKUP_NAMES)
        for item in page.items
    ]

    requested = lookups_per_request(second)
    assert all(count <= 12 for count, _ in requested) and len(requested) == 2 * 3  # two requests per page
    assert [others for _, others in requested if others] == [
        set(SELECT) - LOOKUP_NAMES - {"Author", "Editor"}
    ] * 3
    expected = single_reads(second, session, site_id, live.id)
    assert {item["id"]: item["fields"] for item in items} == expected
    filled = {key for fields in expected.values() for key in fields}
    assert {
        "SupervisorLookupId",
        "Topics",
        "CoHosts",
        "RelatedEngagements",
        "AuthorLookupId",
        "EditorLookupId",
    } <= filled


def test_without_the_split_graph_would_have_dropped_columns(
    second: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    session = graph_session(second, clock, waits)
    lists = GraphLists(session, second.url("graph", ""), lookup_threshold=99)  # no split: the control
    site_id = second.stack.store.site_by_path(SECOND_SITE_PATH).id
    items = [
        item
        for page in lists.iter_item_pages(
            site_id, engagements(second).id, SELECT, lookup_columns=LOOKUP_NAMES
        )
        for item in page.items
    ]
    assert all("Topics" not in item["fields"] for item in items)  # past the 12th: silently omitted


def test_delta_with_the_split_first_run_then_changes_read_whole(
    second: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    session = graph_session(second, clock, waits)
    lists = connector(second, session, page_size=40)
    store = second.stack.store
    site_id, events = store.site_by_path(SECOND_SITE_PATH).id, engagements(second)
    target: dict[str, dict[str, Any]] = {}
    link = apply(
        target,
        lists.iter_delta_pages(site_id, events.id, SELECT, delta_link=None, lookup_columns=LOOKUP_NAMES),
    )
    assert {key: item["fields"] for key, item in target.items()} == single_reads(
        second, session, site_id, events.id
    )
    topic = Term("Topic 99", "0b9f8f4e-7d6c-4f6e-9d7e-2a4c1e8b5f10", 199)
    for item_id in ("4", "9"):
        store.update_item(events, item_id, {"Topics": [topic], "Title": f"changed {item_id}"})
    store.delete_item(events, "12")

    pages = list(
        lists.iter_delta_pages(site_id, events.id, SELECT, delta_link=link, lookup_columns=LOOKUP_NAMES)
    )

    changed = {item["id"]: item for page in pages for item in page.items}
    assert set(changed) == {"4", "9", "12"} and changed["12"]["deleted"] == {"state": "deleted"}
    assert changed["4"]["fields"]["Topics"][0]["Label"] == "Topic 99"  # a column past the 12th
    assert changed["4"]["fields"]["Title"] == "changed 4"
    apply(target, iter(pages))
    assert {key: item["fields"] for key, item in target.items()} == single_reads(
        second, session, site_id, events.id
    )


def test_an_item_changed_or_deleted_between_the_split_requests_is_read_again_on_its_own(
    second: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    session = graph_session(second, clock, waits)
    store = second.stack.store
    site_id, events = store.site_by_path(SECOND_SITE_PATH).id, engagements(second)
    newcomer = store.people[next(iter(sorted(store.people)))]

    def between(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        url = response.request.url or ""
        first_page_of_first_request = "Title" in url and "skiptoken" not in url
        if first_page_of_first_request and store.get_item(events, "3").version == 1:
            store.update_item(events, "3", {"Supervisor": newcomer})  # before the extra request reads item 3
            store.delete_item(events, "5")

    session.hooks["response"].append(between)
    items = {item["id"]: item for page in connector(second, session, page_size=50).iter_item_pages(
        site_id, events.id, SELECT, lookup_columns=LOOKUP_NAMES) for item in page.items}  # fmt: skip

    assert items["3"]["fields"]["SupervisorLookupId"] == str(newcomer.lookup_id)  # the newer version, whole
    assert items["3"]["eTag"].endswith(',2"')
    assert items["5"] == {"id": "5", "deleted": {"state": "deleted"}}
    singles = [r for r in graph_requests(second) if r.path.endswith(("/items/3", "/items/5"))]
    assert [r.status for r in singles] == [200, 404]


def test_the_second_site_is_read_through_its_own_mapping_file(
    second: RunningEmulator, clock: ManualTime, waits: Waits, tmp_path: Path
) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(dump_mapping(SECOND_SITE_MAPPING), encoding="utf-8")
    mapping = load_mapping(path.read_text(encoding="utf-8"), str(path))
    lists = connector(second, graph_session(second, clock, waits))
    site = lists.site_by_path(HOST, SECOND_SITE_PATH)

    for one in mapping.lists:
        live = lists.list_by_name(site.id, one.display_name)
        wanted = selection(one)
        assert {column.name for column in one.columns} <= {column.name for column in live.columns}
        items = [item for page in lists.iter_delta_pages(site.id, live.id, wanted.select, delta_link=None,
                                                          lookup_columns=wanted.lookup_columns) for item in page.items]  # fmt: skip
        stored = second.stack.store.items(
            second.stack.store.get_list(second.stack.store.site_by_path(SECOND_SITE_PATH), one.display_name)
        )
        assert len(items) == len(stored) > 0
        keys = {key for item in items for key in item["fields"]}
        ignored = {column.name for column in one.columns if column.is_ignored}
        assert (
            not {key.removesuffix("LookupId") for key in keys} & ignored - {"Title"}
            or one.display_name != ENGAGEMENTS
        )
        for name in wanted.select:
            assert name in keys or f"{name}LookupId" in keys, (one.display_name, name)
    statuses = {
        item["fields"]["field_12"]
        for page in lists.iter_item_pages(site.id, lists.list_by_name(site.id, ENGAGEMENTS).id, ["field_12"])
        for item in page.items
    }
    assert statuses <= {"Booked", "Held", "Called off"} and statuses
    assert json.dumps(selection(mapping.list_mapping(ENGAGEMENTS)).select).count("Supervisor") == 0  # ignored
