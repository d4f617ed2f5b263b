"""Publishing the demo force to the emulator: what reports see equals the source, load after load."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import (
    Publisher,
    check_relationships,
    demo_force,
    demo_staged,
    staged_from_frames,
    view_differences,
)


@pytest.fixture
def publisher(start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path) -> Publisher:
    return Publisher(open_workspace(start_emulator, clock, waits), tmp_path / "state", clock, waits)


def test_first_publish_creates_the_dataset_and_reports_see_the_source(publisher: Publisher) -> None:
    staged = demo_staged()
    sink = publisher.publish(staged)

    assert sink.result.status == "published"
    stored = publisher.stored()
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []
    assert len(stored["_loads"]) == 1


def test_a_publish_with_no_change_posts_no_rows(publisher: Publisher) -> None:  # R10
    staged = demo_staged()
    publisher.publish(staged)
    before = len(publisher.row_posts())

    again = publisher.publish(staged)

    assert len(publisher.row_posts()) == before
    assert again.result.status == "nothing to publish"
    assert again.result.posts == 0


def test_changes_and_deletions_are_seen_and_relationships_hold_across_loads(publisher: Publisher) -> None:
    frames = {name: frame.copy() for name, frame in demo_force().tables.items()}
    publisher.publish(staged_from_frames(frames))
    officers = frames["officers"]
    officers.loc[0, "role"] = "PCSO" if officers.loc[0, "role"] != "PCSO" else "PC"
    frames["events"] = frames["events"].iloc[3:]  # three events deleted at source (their bridges go too)
    gone = set(demo_force().tables["events"]["event_id"].iloc[:3])
    for bridge in ("event_officers", "event_communities", "event_issues"):
        frames[bridge] = frames[bridge][~frames[bridge]["event_id"].isin(gone)]
    frames["ccr"].loc[5, "contact_setting"] = (
        "STREET" if frames["ccr"].loc[5, "contact_setting"] != "STREET" else "HOME"
    )
    staged = staged_from_frames(frames)

    publisher.publish(staged)

    stored = publisher.stored()
    assert len(stored["_loads"]) == 2
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []
    # both loads' rows coexist: the natural keys repeat in storage, the refs relationships join on do not
    event_ids = [row["event_id"] for row in stored["events"]]
    assert len(event_ids) > len(set(event_ids))
