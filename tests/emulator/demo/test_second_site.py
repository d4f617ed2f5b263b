"""The second force's site: built unlike the first, held to its own mapping, with a 13-lookup list."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.core.clock import ManualClock
from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.second_seed import seed_second_site
from emulator.demo.second_site import (
    ENGAGEMENTS,
    SECOND_SITE_MAPPING,
    SECOND_SITE_SHAPES,
    STAFF,
    second_shape,
)
from emulator.demo.site import LIST_SHAPES
from emulator.lists.store import THRESHOLD_TYPES, ListStore
from powerbi_dataset.model import DATASET
from transforms.list_mapping import (
    ListMapping,
    dump_mapping,
    load_mapping,
    types_compatible,
    unmapped_columns,
)
from transforms.list_mapping_check import check_mapping


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=11, events=60, ccrs=0, invalid_fraction=0, officers=40)


def test_the_mapping_holds_against_the_model_and_round_trips_through_its_file(tmp_path: Path) -> None:
    assert check_mapping(SECOND_SITE_MAPPING, DATASET) == []
    path = tmp_path / "second-site-mapping.yaml"
    path.write_text(dump_mapping(SECOND_SITE_MAPPING), encoding="utf-8")
    assert load_mapping(path.read_text(encoding="utf-8"), path.name) == SECOND_SITE_MAPPING


@pytest.mark.parametrize("one", SECOND_SITE_MAPPING.lists, ids=lambda one: one.display_name)
def test_every_list_column_is_mapped_or_ignored_with_a_compatible_type(one: ListMapping) -> None:
    emulated = {column.name: column for column in second_shape(one.display_name).columns}
    assert unmapped_columns(one, emulated) == ()
    for mapped in one.columns:
        live = emulated[mapped.name]
        assert mapped.type is not None and types_compatible(mapped.type, live.type), mapped.name
        assert {label for label, _ in mapped.choices} <= set(live.choices), mapped.name


def test_nothing_is_shared_with_the_first_site_but_title() -> None:
    first_lists = {one.display_name for one in LIST_SHAPES}
    second_lists = {one.display_name for one in SECOND_SITE_SHAPES}
    assert not first_lists & second_lists
    first_columns = {column.name for one in LIST_SHAPES for column in one.columns}
    second_columns = {column.name for one in SECOND_SITE_SHAPES for column in one.columns}
    assert first_columns & second_columns == {"Title"}
    first_labels = {
        label for one in DEMO_SITE_MAPPING.lists for column in one.columns for label, _ in column.choices
    }
    status = SECOND_SITE_MAPPING.list_mapping(ENGAGEMENTS).column("field_12")
    assert not {label for label, _ in status.choices} & first_labels
    assert SECOND_SITE_MAPPING.people is not None and SECOND_SITE_MAPPING.people.list == STAFF


def test_the_engagements_list_has_more_lookup_type_columns_than_the_threshold() -> None:
    lookups = [column for column in second_shape(ENGAGEMENTS).columns if column.type in THRESHOLD_TYPES]
    assert len(lookups) >= 13  # before Created By and Modified By, which count as well
    assert {"lookup", "person", "term", "multiperson", "multilookup", "multiterm"} <= {
        c.type for c in lookups
    }


def test_seeding_loads_the_forces_rows_through_the_mapping(force: Force) -> None:
    store = ListStore(ManualClock())
    tenant = seed_second_site(store, force)

    assert store.site_by_path("/sites/CommunitySafety") is tenant.site
    engagements = tenant.lists[ENGAGEMENTS]
    assert engagements.live_count == len(force.tables["events"])
    assert tenant.lists[STAFF].live_count == len(force.officer_details)
    first = store.get_item(engagements, "1").fields
    assert first["field_12"] in ("Booked", "Held", "Called off")
    lookups = [column.name for column in engagements.columns if column.type in THRESHOLD_TYPES]
    filled = {name for item in store.items(engagements) for name in lookups if item.fields.get(name)}
    assert filled == set(lookups)  # every lookup-type column holds values somewhere


def test_a_force_with_injected_errors_is_refused(force: Force) -> None:
    dirty = generate_force(seed=11, events=60, ccrs=50, officers=40)
    with pytest.raises(ValueError, match="clean force"):
        seed_second_site(ListStore(ManualClock()), dirty)
