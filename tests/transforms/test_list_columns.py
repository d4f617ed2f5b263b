"""The live column types both connectors produce: frozen values, found by internal name."""

from __future__ import annotations

import dataclasses

import pytest

from transforms.list_columns import LiveColumn, LiveList


def test_a_live_list_finds_its_columns_by_internal_name() -> None:
    start = LiveColumn("Event_x0020_Start", "Event Start", "dateTime", required=True)
    poster = LiveColumn("EventPoster", "Event poster", None)  # Graph: no type facet for hyperlinks
    events = LiveList("6f1c", "Engagement Events", "EngagementEvents", (start, poster))
    assert events.column("Event_x0020_Start") is start
    assert events.column("Event Start") is None  # display names are not keys
    assert poster.type is None and poster.multi is None and poster.choices == ()


def test_live_columns_are_frozen() -> None:
    column = LiveColumn("Role", "Role", "choice", choices=("Sergeant",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        column.name = "Other"  # type: ignore[misc]
