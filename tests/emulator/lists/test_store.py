from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from emulator.core.clock import ManualClock
from emulator.lists.store import SYSTEM_ACCOUNT, ListColumn, ListStore, Lookup, Person, StoreNotFound

COLUMNS = [
    ListColumn("EventStart", "Event start", "dateTime", indexed=True),
    ListColumn("Status", "Status", "choice", choices=("Open", "Closed")),
    ListColumn("Day", "Day", "dateOnly"),
    ListColumn("Ward", "Ward", "lookup", lookup_list="Wards"),
]


@pytest.fixture
def store() -> ListStore:
    return ListStore(ManualClock())


def test_sites_and_lists_are_found_by_path_id_and_display_name(store: ListStore) -> None:
    site = store.create_site("/sites/Neighbourhood", "Neighbourhood")
    events = store.create_list(site, "Community Events", COLUMNS)

    assert site.id.startswith("contoso.sharepoint.com,") and len(site.id.split(",")) == 3
    assert store.site_by_path("/sites/neighbourhood/") is site
    assert store.get_list(site, "Community Events") is events
    assert store.get_list(site, events.id) is events
    assert events.name == "CommunityEvents"
    assert events.columns[0].name == "Title"  # every generic list has Title
    with pytest.raises(StoreNotFound):
        store.get_list(site, "Missing")


def test_items_get_sequential_ids_and_every_change_is_logged(store: ListStore) -> None:
    clock = store.clock
    assert isinstance(clock, ManualClock)
    site = store.create_site("/sites/A", "A")
    events = store.create_list(site, "Events", COLUMNS)
    first = store.add_item(events, {"Title": "one", "Status": "Open"})
    second = store.add_item(events, {"Title": "two"}, author=Person(7, "Sam Officer", "sam@contoso.com"))
    clock.advance(60)
    updated = store.update_item(events, "1", {"Status": "Closed"})
    store.delete_item(events, "2")
    third = store.add_item(events, {"Title": "three"})

    assert [first.id, second.id, third.id] == ["1", "2", "3"]
    assert updated.version == 2 and updated.etag == f'"{first.unique_id},2"'
    assert updated.fields == {"Title": "one", "Status": "Closed"}
    assert updated.modified == first.modified + timedelta(seconds=60)
    assert first.author == SYSTEM_ACCOUNT
    assert [item.id for item in store.items(events)] == ["1", "3"]
    assert list(events.change_log) == [1, 2, 1, 2, 3]  # seq 1..5, deletes included
    assert events.changed_since(2, 5) == [1, 2, 3]
    with pytest.raises(StoreNotFound):
        store.update_item(events, "2", {"Title": "gone"})


def test_values_are_checked_against_their_column(store: ListStore) -> None:
    site = store.create_site("/sites/A", "A")
    events = store.create_list(site, "Events", COLUMNS)
    with pytest.raises(ValueError, match="aware datetime"):
        store.add_item(events, {"EventStart": datetime(2025, 1, 1)})
    with pytest.raises(ValueError, match="choices"):
        store.add_item(events, {"Status": "Pending"})
    with pytest.raises(ValueError, match="needs a date"):
        store.add_item(events, {"Day": datetime(2025, 1, 1, tzinfo=UTC)})
    with pytest.raises(ValueError, match="no column"):
        store.add_item(events, {"Nope": 1})
    with pytest.raises(ValueError, match="cannot hold"):
        store.add_item(events, {"Ward": 3})

    item = store.add_item(
        events,
        {"EventStart": datetime(2025, 6, 1, 10, tzinfo=timezone(timedelta(hours=1))), "Day": date(2025, 6, 1),
         "Ward": Lookup(1, "North")},
    )  # fmt: skip
    assert item.fields["EventStart"] == datetime(2025, 6, 1, 9, tzinfo=UTC)
    assert [found.id for found in store.items(events)] == [item.id]


def test_expiring_delta_tokens_bumps_the_epoch(store: ListStore) -> None:
    site = store.create_site("/sites/A", "A")
    events = store.create_list(site, "Events", COLUMNS)
    store.expire_delta_tokens(events)
    assert events.delta_epoch == 1
