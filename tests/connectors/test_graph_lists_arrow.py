"""connectors/graph_lists.py with `schema`: pages read in one request decoded straight into Arrow, whose dicts
(`ItemPage.items`), links and flags are those of the dict path, annotations dropped and repeats collapsed."""

from __future__ import annotations

import pyarrow as pa

from connectors.list_items import ItemPage
from emulator.testing import RunningEmulator
from tests.connectors.conftest import ManualTime, Waits
from tests.connectors.graph_world import SELECT, connector, graph_session, seed_events
from transforms.page_read import ArrowItems

STRING = pa.string()
SCHEMA = pa.schema([
    ("@odata.nextLink", STRING), ("@odata.deltaLink", STRING),
    ("value", pa.list_(pa.struct([
        ("id", STRING), ("lastModifiedDateTime", STRING),
        ("fields", pa.struct([("Title", STRING), ("Count", pa.float64())])),
    ]))),
])  # fmt: skip


def shape(pages: list[ItemPage]) -> list[tuple[object, ...]]:
    return [(page.items, page.delta_link, page.full_enumeration) for page in pages]


def test_delta_pages_decoded_into_arrow_hand_on_the_dict_paths_items_and_links(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 5)
    lists = connector(emu, graph_session(emu, clock, waits), page_size=2)

    first = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=None, schema=SCHEMA))
    as_dicts = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=None))

    assert len(first) == 3 and shape(first) == shape(as_dicts)
    assert all(isinstance(page.content, ArrowItems) and page.content.pages for page in first)
    assert all(isinstance(page.content, list) for page in as_dicts)
    assert not any("@" in key for page in first for item in page.items for key in item["fields"])
    column = first[0].content.pages[0].field("fields").field("Title")  # type: ignore[union-attr]
    assert column.to_pylist() == ["Event 1", "Event 2"]
    store = emu.stack.store
    store.update_item(events, "2", {"Title": "renamed"})
    store.update_item(events, "2", {"Title": "renamed again"})  # the feed repeats it
    store.delete_item(events, "4")
    link = first[-1].delta_link

    changes = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link, schema=SCHEMA))

    assert shape(changes) == shape(list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link)))
    assert [item["id"] for page in changes for item in page.items] == ["2", "4"]  # collapsed
    assert all(isinstance(page.content, ArrowItems) for page in changes)


def test_item_pages_decoded_into_arrow_and_a_split_read_stays_on_dicts(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 5)
    lists = connector(emu, graph_session(emu, clock, waits), page_size=2)
    split = connector(emu, graph_session(emu, clock, waits), page_size=2, lookup_threshold=1)

    arrow = list(lists.iter_item_pages(site.id, events.id, SELECT, schema=SCHEMA))
    dicts = list(
        split.iter_item_pages(site.id, events.id, SELECT, lookup_columns=["Status", "Tags"], schema=SCHEMA)
    )

    assert shape(arrow) == shape(list(lists.iter_item_pages(site.id, events.id, SELECT)))
    assert all(isinstance(page.content, ArrowItems) for page in arrow)
    assert all(isinstance(page.content, list) for page in dicts)
    assert [item["id"] for page in dicts for item in page.items] == ["1", "2", "3", "4", "5"]
