"""Schema drift (reliability-security.md R18): each kind of change, what blocks a list, and the diff's words
and JSON. Live columns come from the emulator's Graph columnDefinition JSON, as a connector sees them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.site import EVENTS
from emulator.lists.values import ListColumn
from tests.transforms.live_columns import demo_live_lists, live_list
from transforms.drift import (
    ChoiceChange,
    NewColumn,
    Relabelled,
    RemovedColumn,
    Renamed,
    Retyped,
    diff_columns,
)
from transforms.list_columns import LiveColumn, LiveList
from transforms.list_mapping import ColumnMapping, ListMapping

EVENTS_MAPPING = DEMO_SITE_MAPPING.list_mapping("Engagement Events")


def events_with(*changes: tuple[str, ListColumn | None], extra: tuple[ListColumn, ...] = ()) -> LiveList:
    """The demo events list with some columns replaced (None removes one) and some added."""
    changed = dict(changes)
    columns = [changed.get(column.name, column) for column in EVENTS.columns]
    return live_list("Engagement Events", [column for column in columns if column is not None] + list(extra))


def mapping_with(*columns: ColumnMapping) -> ListMapping:
    replaced = {column.name: column for column in columns}
    kept = tuple(replaced.pop(column.name, column) for column in EVENTS_MAPPING.columns)
    return replace(EVENTS_MAPPING, columns=kept + tuple(replaced.values()))


@pytest.mark.parametrize("live", demo_live_lists(), ids=lambda live: live.display_name)
def test_the_demo_lists_match_their_mapping(live: LiveList) -> None:
    diff = diff_columns(live, DEMO_SITE_MAPPING.list_mapping(live.display_name))
    assert not diff.changed and not diff.blocking
    assert diff.describe() == f"list '{live.display_name}': the columns match the mapping"


def test_a_new_column_is_a_warning_listed_not_dropped() -> None:
    diff = diff_columns(
        events_with(extra=(ListColumn("Weather", "Weather on the day", "text"),)), EVENTS_MAPPING
    )
    assert diff.new == (NewColumn("Weather", "Weather on the day", "text"),)
    assert not diff.blocking
    assert "new       'Weather' ('Weather on the day') is not in the mapping" in diff.describe()


def test_a_mapped_column_gone_blocks_the_list() -> None:
    diff = diff_columns(events_with(("OfficersPresent", None)), EVENTS_MAPPING)
    assert diff.removed == (RemovedColumn("OfficersPresent", None, mapped=True),)
    assert diff.blocking
    assert diff.describe().startswith("list 'Engagement Events' stops: a mapped column is gone or retyped")


def test_an_ignored_column_gone_is_reported_but_does_not_block() -> None:
    diff = diff_columns(events_with(("EventPoster", None)), EVENTS_MAPPING)
    assert diff.removed == (RemovedColumn("EventPoster", None, mapped=False),)
    assert not diff.blocking


def test_a_rename_is_found_by_the_recorded_display_name() -> None:
    mapping = mapping_with(
        ColumnMapping("Event_x0020_Start", "dateTime", to=("start_utc",), display="Event Start")
    )
    live = events_with(("Event_x0020_Start", ListColumn("StartTime", "Event start", "dateTime")))
    diff = diff_columns(live, mapping)
    assert diff.renamed == (
        Renamed("Event_x0020_Start", "StartTime", "Event start", "display name", mapped=True),
    )
    assert diff.removed == () and diff.new == ()  # explained, not counted twice
    assert diff.blocking  # the mapping still names the old column
    assert "change the mapping's key 'Event_x0020_Start' to 'StartTime'" in diff.describe()


def test_a_rename_is_found_by_the_same_type_and_choices() -> None:
    old = EVENTS.column("ValueGained")
    live = events_with(("ValueGained", replace(old, name="field_19", display_name="Outcome value")))
    diff = diff_columns(live, EVENTS_MAPPING)
    assert diff.renamed == (
        Renamed("ValueGained", "field_19", "Outcome value", "type and choices", mapped=True),
    )


def test_a_column_of_another_type_is_not_taken_for_a_rename() -> None:
    live = events_with(("ValueGained", None), extra=(ListColumn("Outcome", "Outcome", "note"),))
    diff = diff_columns(live, EVENTS_MAPPING)
    assert (
        diff.renamed == ()
        and [c.name for c in diff.removed] == ["ValueGained"]
        and [c.name for c in diff.new] == ["Outcome"]
    )


def test_a_retyped_mapped_column_blocks() -> None:
    live = events_with(("OfficersPresent", ListColumn("OfficersPresent", "Officers present", "text")))
    diff = diff_columns(live, EVENTS_MAPPING)
    assert diff.retyped == (Retyped("OfficersPresent", "number", "text"),)
    assert diff.blocking
    assert "retyped   'OfficersPresent' was mapped as number, the list now has text" in diff.describe()


def test_text_and_note_read_alike_and_a_missing_type_facet_is_not_a_retype() -> None:
    live = events_with(
        ("Title", ListColumn("Title", "Event name", "note")),
        ("Ward", ListColumn("Ward", "Ward", "hyperlink")),  # Graph: no facet for hyperlink, as for term
    )
    assert [c.type for c in live.columns if c.name == "Ward"] == [None]
    diff = diff_columns(live, EVENTS_MAPPING)
    assert diff.retyped == () and not diff.blocking


def test_a_choice_column_without_the_multi_flag_reads_as_single_or_multi() -> None:
    live = events_with()
    assert next(c for c in live.columns if c.name == "Communities").multi is None
    explicit = LiveList(live.id, live.display_name, live.name, tuple(
        replace(c, multi=False) if c.name == "Communities" else c for c in live.columns
    ))  # fmt: skip
    assert diff_columns(live, EVENTS_MAPPING).retyped == ()
    assert diff_columns(explicit, EVENTS_MAPPING).retyped == (
        Retyped("Communities", "multichoice", "choice"),
    )


def test_a_renamed_choice_value_shows_as_one_label_removed_and_one_added() -> None:
    old = EVENTS.column("ValueGained")
    labels = tuple("Very high" if label == "High" else label for label in old.choices)
    diff = diff_columns(events_with(("ValueGained", replace(old, choices=labels))), EVENTS_MAPPING)
    assert diff.choices == (ChoiceChange("ValueGained", added=("Very high",), removed=("High",)),)
    assert not diff.blocking  # items using the new label are quarantined as unknown-label
    text = diff.describe()
    assert "offers labels the mapping lacks: 'Very high'" in text and "no longer offers: 'High'" in text


def test_a_new_display_name_on_the_same_column_is_information_only() -> None:
    mapping = mapping_with(ColumnMapping("field_3", "choice", to=("event_type",), display="Event type",
                                         choices=EVENTS_MAPPING.column("field_3").choices))  # fmt: skip
    live = events_with(("field_3", replace(EVENTS.column("field_3"), display_name="Kind of event")))
    diff = diff_columns(live, mapping)
    assert diff.relabelled == (Relabelled("field_3", "Event type", "Kind of event"),)
    assert not diff.blocking


def test_location_sub_columns_and_system_columns_are_not_new_columns() -> None:
    system = LiveColumn("Modified", "Modified", "dateTime", read_only=True)
    hidden = LiveColumn("_ComplianceTag", "Label", "text", hidden=True)
    live = events_with()
    live = replace(live, columns=(*live.columns, system, hidden))
    assert any(c.name == "GeoLoc" and c.read_only for c in live.columns)
    assert diff_columns(live, EVENTS_MAPPING).new == ()


def test_the_json_form_carries_every_change_and_the_verdict() -> None:
    live = events_with(("OfficersPresent", None), extra=(ListColumn("Weather", "Weather", "text"),))
    document = json.loads(json.dumps(diff_columns(live, EVENTS_MAPPING).to_dict()))
    assert document["list"] == "Engagement Events" and document["blocking"] is True
    assert document["removed"] == [{"name": "OfficersPresent", "display_name": None, "mapped": True}]
    assert document["new"] == [{"name": "Weather", "display_name": "Weather", "type": "text"}]
    assert set(document) == {
        "list",
        "blocking",
        "new",
        "removed",
        "renamed",
        "retyped",
        "choices",
        "relabelled",
    }
