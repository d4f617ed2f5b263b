"""The PowerApp's lists seeded from the demo force: every store column type, the mapping kept as data."""

from __future__ import annotations

from typing import get_args

import pytest

from emulator.core.clock import ManualClock
from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import SITE_PATH, DemoTenant, seed_lists
from emulator.demo.site import LIST_SHAPES
from emulator.lists.store import ColumnType, ListStore, Person
from powerbi_dataset.model import DATASET


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=7, events=300, ccrs=400, invalid_fraction=0.04)


@pytest.fixture(scope="module")
def seeded(force: Force) -> tuple[ListStore, DemoTenant]:
    store = ListStore(ManualClock())
    return store, seed_lists(store, force)


def test_site_and_lists_exist(seeded: tuple[ListStore, DemoTenant]) -> None:
    store, tenant = seeded
    site = store.site_by_path(SITE_PATH)
    assert {sp_list.display_name for sp_list in store.lists(site)} == {
        one.display_name for one in LIST_SHAPES
    }
    assert tenant.site == site


def test_every_store_column_type_is_used() -> None:
    used = {column.type for one in LIST_SHAPES for column in one.columns}
    assert used == set(get_args(ColumnType))


def test_internal_names_differ_from_display_names() -> None:
    events = next(one for one in LIST_SHAPES if one.display_name == "Engagement Events")
    names = {column.display_name: column.name for column in events.columns}
    assert names["Event type"] == "field_3"
    assert names["Event Start"] == "Event_x0020_Start"
    assert names["Officers present"] == "OfficersPresent"


def test_mapping_covers_the_canonical_columns() -> None:
    lineage = {"source_system", "source_item_id", "source_version", "load_id"}
    for one in DEMO_SITE_MAPPING.lists:
        carried = {name for mapped in one.columns if not mapped.bridge for name in mapped.to}
        carried |= set(one.built_ins.values())
        missing = set(DATASET.table(one.table).column_names) - carried - lineage - {one.key}
        assert missing <= {"modified_utc", "recorded_local_date", "citizen_key", "officer_key"}, (
            one.display_name
        )


def test_items_follow_the_canonical_rows(force: Force, seeded: tuple[ListStore, DemoTenant]) -> None:
    store, tenant = seeded
    events = store.items(tenant.lists["Engagement Events"])
    assert len(events) == force.tables["events"]["event_id"].nunique()
    first = force.tables["events"].iloc[0]
    assert events[0].fields["Title"] == first["event_name"]
    assert events[0].created == first["created_utc"].to_pydatetime()
    assert tenant.item_ids["events"][first["event_id"]] == 1
    assert (
        len(store.items(tenant.lists["Community Contact Records"])) == force.tables["ccr"]["ccr_id"].nunique()
    )


def test_invalid_values_are_stored_as_the_app_would(
    force: Force, seeded: tuple[ListStore, DemoTenant]
) -> None:
    store, tenant = seeded
    event_types = {item.fields.get("field_3") for item in store.items(tenant.lists["Engagement Events"])}
    assert "FUN_RUN" in event_types and "Beat surgery (drop-in)" in event_types
    titles = [item.fields.get("Title") for item in store.items(tenant.lists["Engagement Events"])]
    assert None in titles
    religions = {
        item.fields.get("Religion") for item in store.items(tenant.lists["Community Contact Records"])
    }
    assert "JEDI" in religions
    assert {e.code for e in tenant.unrepresentable} <= {
        "duplicate-key",
        "not-a-date",
        "bad-format",
        "orphan-reference",
    }
    assert set(tenant.unrepresentable) <= set(force.injected)


def test_people_carry_identity_names_and_emails(force: Force, seeded: tuple[ListStore, DemoTenant]) -> None:
    store, tenant = seeded
    emails = set(force.identities["email"])
    event = store.items(tenant.lists["Engagement Events"])[0]
    officers = event.fields["Officers"]
    assert isinstance(officers, tuple) and officers
    assert all(isinstance(p, Person) and p.email in emails for p in officers)
    assert event.author.email in emails


def test_issue_notes_mention_themes_and_planted_pii(
    force: Force, seeded: tuple[ListStore, DemoTenant]
) -> None:
    store, tenant = seeded
    notes = [
        str(i.fields.get("Issues_x0020_raised", "")) for i in store.items(tenant.lists["Engagement Events"])
    ]
    text = "\n".join(notes)
    assert "Residents raised" in text
    assert any(detail in text for detail in force.planted_pii)
