"""connectors/graph_lists.py against the HTTPS emulator: resolution, columns, items, delta, request economy."""

from __future__ import annotations

import json
import math
from urllib.parse import parse_qs

import pytest

from connectors.graph_lists import GRAPH_PAGE_SIZE, decode_json, site_ref
from emulator.lists.store import ListColumn
from emulator.testing import RunningEmulator
from errors import NotFoundError
from tests.connectors.conftest import USER_AGENT, ManualTime, Waits
from tests.connectors.graph_world import (
    HOST,
    SELECT,
    SITE_PATH,
    apply,
    connector,
    graph_requests,
    graph_session,
    seed_events,
    store_titles,
)


def test_site_by_path_and_a_missing_site_named_in_the_error(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, _ = seed_events(emu, 1)
    lists = connector(emu, graph_session(emu, clock, waits))

    found = lists.site_by_path(HOST, SITE_PATH)

    assert (found.id, found.display_name, found.web_url) == (site.id, "Test", f"https://{HOST}{SITE_PATH}")
    with pytest.raises(NotFoundError) as missing:
        lists.site_by_path(HOST, "/sites/Nowhere")
    assert "/sites/Nowhere" in str(missing.value) and missing.value.status == 404


def test_a_list_by_display_name_comes_with_its_columns_in_one_request(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    store = emu.stack.store
    site = store.create_site(SITE_PATH, "Test")
    teams = store.create_list(site, "Teams", [])
    columns = [
        ListColumn("Notes", "Notes", "note"), ListColumn("Kind", "Kind", "choice", choices=("A", "B")),
        ListColumn("Tags", "Tags", "multichoice", choices=("X",)), ListColumn("Count", "Count", "number", indexed=True),
        ListColumn("Cost", "Cost", "currency"), ListColumn("Online", "Online", "boolean"),
        ListColumn("Start", "Start", "dateTime", required=True), ListColumn("Day", "Day", "dateOnly"),
        ListColumn("Team", "Team", "lookup", lookup_list="Teams"),
        ListColumn("Teams", "Teams", "multilookup", lookup_list="Teams"), ListColumn("Lead", "Lead", "person"),
        ListColumn("Crew", "Crew", "multiperson"), ListColumn("Poster", "Poster", "hyperlink"),
        ListColumn("Venue", "Venue", "location"), ListColumn("Ward", "Ward", "term"),
    ]  # fmt: skip
    store.create_list(site, "Engagement Events", columns)
    session = graph_session(emu, clock, waits)

    live = connector(emu, session).list_by_name(site_ref(HOST, SITE_PATH), "Engagement Events")

    assert session.stats.requests == 1
    by_name = {column.name: column for column in live.columns}
    kinds = {name: (column.type, column.multi) for name, column in by_name.items()}
    assert kinds["Title"] == ("text", False) and kinds["Notes"] == ("note", False)
    assert kinds["Kind"] == kinds["Tags"] == ("choice", None)  # Graph does not say if a choice takes several
    assert by_name["Kind"].choices == ("A", "B")
    assert kinds["Count"] == ("number", False) and by_name["Count"].indexed
    assert (kinds["Cost"], kinds["Online"]) == (("currency", False), ("boolean", False))
    assert (kinds["Start"], kinds["Day"]) == (("dateTime", False), ("dateOnly", False))
    assert by_name["Start"].required
    assert kinds["Team"] == ("lookup", False) and by_name["Team"].lookup_list_id == teams.id
    assert kinds["Teams"] == ("multilookup", True)
    assert (kinds["Lead"], kinds["Crew"]) == (("person", False), ("multiperson", True))
    assert kinds["Poster"] == kinds["Venue"] == kinds["Ward"] == (None, None)  # no type facet from Graph
    assert by_name["City"].read_only and by_name["City"].display_name == "Venue: City"
    with pytest.raises(NotFoundError) as missing:
        connector(emu, session).list_by_name(site.id, "No Such List")
    assert "No Such List" in str(missing.value) and site.id in str(missing.value)


def test_lists_of_a_site_come_with_their_columns(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 1)
    emu.stack.store.create_list(site, "Officers", [ListColumn("StaffNumber", "Staff number", "text")])

    found = connector(emu, graph_session(emu, clock, waits)).lists(site.id)

    assert [(one.display_name, one.id == events.id) for one in found] == [
        ("Events", True),
        ("Officers", False),
    ]
    assert [column.name for column in found[1].columns] == ["Title", "StaffNumber"]


def test_items_come_in_pages_of_the_setting_with_only_the_selected_fields_and_no_annotations(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 450)
    session = graph_session(emu, clock, waits)

    pages = list(connector(emu, session, page_size=200).iter_item_pages(site.id, events.id, SELECT))

    assert [len(page.items) for page in pages] == [200, 200, 50]
    assert all(
        page.full_enumeration and page.delta_link is None and page.list_id == events.id for page in pages
    )
    items = [item for page in pages for item in page.items]
    assert [item["id"] for item in items] == [str(n) for n in range(1, 451)]
    # Graph sent @odata.etag and Tags@odata.type inside fields too: they are annotations, not columns.
    assert set(items[1]["fields"]) == {"Title", "Status", "Tags", "Count"}
    assert items[1]["fields"]["Tags"] == ["ASB", "Drugs"] and "@odata.etag" in items[1]
    assert all("@" not in key for item in items for key in item["fields"])
    log = graph_requests(emu)
    query = parse_qs(log[0].query)
    assert query["$top"] == ["200"] and query["$expand"] == ["fields($select=Title,Status,Tags,Count)"]
    assert all(record.headers.get("user-agent") == USER_AGENT for record in log)
    assert not any("prefer" in record.headers for record in log)  # no filter or order: no opt-in header


def test_the_default_page_is_the_largest_the_service_honours(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 3)
    lists = connector(emu, graph_session(emu, clock, waits))
    assert lists.page_size == GRAPH_PAGE_SIZE == 5_000
    list(lists.iter_item_pages(site.id, events.id, ["Title"]))
    assert parse_qs(graph_requests(emu)[0].query)["$top"] == ["5000"]


def test_delta_first_enumerates_everything_then_reads_only_changes_and_deletions(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 5)
    lists = connector(emu, graph_session(emu, clock, waits), page_size=2)
    state: dict[str, dict[str, object]] = {}

    first = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=None))
    link = apply(state, iter(first))

    assert all(page.full_enumeration for page in first) and [p.delta_link is not None for p in first] == [
        False
    ] * 2 + [True]
    assert set(state) == {"1", "2", "3", "4", "5"}
    store = emu.stack.store
    store.update_item(events, "2", {"Title": "renamed"})
    store.update_item(events, "2", {"Title": "renamed again"})
    store.delete_item(events, "4")
    store.add_item(events, {"Title": "Event 6"})

    changes = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link))

    assert not any(page.full_enumeration for page in changes)
    assert [item["id"] for page in changes for item in page.items] == [
        "2",
        "4",
        "6",
    ]  # 2 came twice: collapsed
    assert [item.get("deleted") for page in changes for item in page.items][1] == {"state": "deleted"}
    link = apply(state, iter(changes))
    assert {key: item["fields"]["Title"] for key, item in state.items()} == store_titles(events)
    assert state["2"]["fields"]["Title"] == "renamed again"
    nothing = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link))
    assert [page.items for page in nothing] == [[]] and nothing[0].delta_link


def test_a_delta_link_saved_for_other_columns_starts_afresh(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 3)
    lists = connector(emu, graph_session(emu, clock, waits))
    link = [page for page in lists.iter_delta_pages(site.id, events.id, ["Title"], delta_link=None)][
        -1
    ].delta_link

    pages = list(lists.iter_delta_pages(site.id, events.id, ["Title", "Count"], delta_link=link))

    assert pages[0].full_enumeration and len(pages[0].items) == 3
    assert pages[0].items[0]["fields"]["Count"] == 1  # the new column is there for every item


@pytest.mark.parametrize("changed", [0, 7, 450])
def test_request_economy_full_incremental_and_unchanged(
    emu: RunningEmulator, clock: ManualTime, waits: Waits, changed: int
) -> None:
    site, events = seed_events(emu, 1000)
    page = 200
    lists = connector(emu, graph_session(emu, clock, waits), page_size=page)

    lists.site_by_path(HOST, SITE_PATH)
    live = lists.list_by_name(site.id, "Events")
    link = apply({}, lists.iter_delta_pages(site.id, live.id, SELECT, delta_link=None))
    assert len(graph_requests(emu)) <= math.ceil(1000 / page) + 3
    for number in range(1, changed + 1):
        emu.stack.store.update_item(events, str(number), {"Count": -number})
    emu.emulator.clear_log()

    live = lists.list_by_name(site_ref(HOST, SITE_PATH), "Events")  # the site rides in the list's address
    items = [
        item for p in lists.iter_delta_pages(site.id, live.id, SELECT, delta_link=link) for item in p.items
    ]

    assert len(items) == changed
    assert len(graph_requests(emu)) <= (math.ceil(changed / page) + 2 if changed else 2)


@pytest.mark.parametrize(
    "body",
    [
        b'{"value": [{"id": "1", "fields": {"Title": "Caf\\u00e9", "Count": 2.5, "Done": true}}]}',
        b'\xef\xbb\xbf{"value": []}',  # a byte-order mark: orjson refuses it, json reads it
        b'{"value": [{"fields": {"Notes": "\\ud800"}}]}',  # a lone surrogate escape: likewise
        b'{"value": [{"fields": {"Ratio": NaN}}]}',
    ],
)
def test_pages_decode_as_the_standard_library_decodes_them(body: bytes) -> None:
    decoded = decode_json(body)

    assert decoded == json.loads(body) or math.isnan(decoded["value"][0]["fields"]["Ratio"])


def test_a_body_that_is_not_json_is_still_refused() -> None:
    with pytest.raises(ValueError):
        decode_json(b"<html>proxy login</html>")
