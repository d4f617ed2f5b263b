"""A sync's memory is bounded by the page and the quarantine, not by the list (issue 8: a 1,000,000-item list
in <= 400 MB). Guarded by behaviour, never by timing or RSS: the item keys a full read meets are kept on
disk (an ItemKeyLog, a small buffer in memory), not as a dict of every item; the last-page map the
quarantine needs holds only items with rows held for it; the staged tables' drops are spilled rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

import connectors.item_key_log as item_key_log
import pipeline.sync_list as sync_list
from connectors.item_key_log import ItemKeyLog
from connectors.sync_records import ListCommit
from connectors.sync_state import STATE_FILE_NAME, SyncState
from emulator.demo.force import Force, generate_force
from pipeline.sync_checks import Held
from tests.connectors.conftest import ManualTime
from tests.sync_world import SyncWorld, demo_world

PAGE = 20
BUFFER = 16
EVENTS = "Engagement Events"


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=17, events=120, ccrs=30, officers=30, invalid_fraction=0.1)


@pytest.fixture
def world(force: Force, tmp_path: Path) -> Iterator[SyncWorld]:
    with demo_world(force, tmp_path, ManualTime()) as made:
        yield made


def test_a_full_read_keeps_its_item_keys_on_disk_and_its_page_map_to_quarantined_items(
    world: SyncWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(item_key_log, "BUFFER_ROWS", BUFFER)
    most_buffered = 0
    real_add = ItemKeyLog.add

    def add(self: ItemKeyLog, keys: Mapping[str, str]) -> None:
        nonlocal most_buffered
        real_add(self, keys)
        most_buffered = max(most_buffered, self.buffered)

    commits: dict[str, ListCommit] = {}
    real_commit = sync_list.commit_list

    def commit(state: SyncState, one: ListCommit, prepared: Any, **options: Any) -> None:
        commits[one.list_id] = one
        real_commit(state, one, prepared, **options)

    page_maps: list[dict[Any, int]] = []
    real_collect = Held.collect

    def collect(self: Held, column: str, last_page: Mapping[Any, int]) -> Any:
        page_maps.append(dict(last_page))
        return real_collect(self, column, last_page)

    monkeypatch.setattr(ItemKeyLog, "add", add)
    monkeypatch.setattr(sync_list, "commit_list", commit)
    monkeypatch.setattr(Held, "collect", collect)

    world.run(page_size=PAGE)

    events = world.sp_list(EVENTS)
    ids = world.item_ids(EVENTS)
    assert len(ids) > 4 * BUFFER
    # the keys of every item read reach the state, but never sat in memory together
    assert not isinstance(commits[events.id].item_keys, Mapping)
    assert 0 < most_buffered < BUFFER + PAGE
    with SyncState.open(world.settings.paths.state_dir / STATE_FILE_NAME, read_only=True) as state:
        assert sorted(state.item_keys(events.id)) == sorted(ids)
    # the last-page map holds only items with rows held for the quarantine (a few), not every item read
    held = pq.read_table(world.quarantine / "events.parquet").column("event_id").to_pylist()
    assert 0 < len(held) < len(ids) // 2
    held_rows = sum(pq.read_metadata(path).num_rows for path in world.quarantine.glob("*.parquet"))
    assert page_maps and all(len(found) <= held_rows for found in page_maps)
    assert max(len(found) for found in page_maps) < len(ids) // 2
