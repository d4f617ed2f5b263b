"""`pipeline.sync` end to end against the in-process emulator with the injected clock: the first run reads
everything, later runs only the changes (deletions applied), request economy, idempotence (R10), expired
delta links (R8), deletions (R9), repeated items (R12), a cursor from the future (R11)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.sync_records import ListCommit
from connectors.sync_state import STATE_FILE_NAME, SyncState
from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from pipeline.sync import EXIT_OK
from tests.connectors.conftest import ManualTime
from tests.sync_world import SyncWorld, demo_world

PAGE = 50
EVENTS, CCRS = "Engagement Events", "Community Contact Records"


@pytest.fixture(scope="module")
def clean_force() -> Force:
    return generate_force(seed=11, events=150, ccrs=200, officers=60, invalid_fraction=0)


@pytest.fixture
def world(clean_force: Force, tmp_path: Path) -> Iterator[SyncWorld]:
    with demo_world(clean_force, tmp_path, ManualTime()) as made:
        yield made


def own_requests(world: SyncWorld) -> dict[str, int]:
    """Requests of the last run per list display name: its by-name read and its item pages (delta)."""
    counted = world.requests_per_list()
    people = people_reads(world)
    officers = world.sp_list("Officers").id
    return {
        name: counted[name] + counted[sp_list.id] - (people if sp_list.id == officers else 0)
        for name, sp_list in world.tenant.lists.items()
    }


def people_reads(world: SyncWorld) -> int:
    """The read of the people list's account and staff number columns (not its delta): officer keys."""
    officers = world.sp_list("Officers").id
    return sum(1 for r in world.last_requests() if r.path.endswith(f"/lists/{officers}/items"))


def digests(world: SyncWorld) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in world.staging.glob("*.parquet")
    }


def test_the_first_run_reads_every_list_whole_within_its_request_budget(world: SyncWorld) -> None:
    """Request economy: a full read of N items makes at most ceil(N / page) + 3 requests per list."""
    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK, result.describe()
    store = world.emu.stack.store
    for name, sp_list in world.tenant.lists.items():
        items = len(store.items(sp_list))
        assert own_requests(world)[name] <= math.ceil(items / PAGE) + 3, name
        assert result.report["lists"][name]["full_read"] is True
        assert result.report["lists"][name]["items_read"] == items
    assert people_reads(world) == 0  # the people list was read whole this run: its staff numbers came with it
    assert world.staged("events").num_rows == len(store.items(world.sp_list(EVENTS)))
    assert world.staged("ccr").num_rows == len(store.items(world.sp_list(CCRS)))
    assert result.report["status"] == "ok" and result.report_file is not None


def test_a_run_with_no_changes_makes_two_requests_per_list_and_writes_no_snapshot(world: SyncWorld) -> None:
    """Request economy (no changes: at most 2 per list, no new snapshot) and R10 (idempotent re-run)."""
    world.run(page_size=PAGE)
    before = digests(world)
    times = {path.name: path.stat().st_mtime_ns for path in world.staging.glob("*.parquet")}

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK
    assert all(count <= 2 for count in own_requests(world).values()), own_requests(world)
    assert people_reads(world) == 0  # no change to normalise: officers are not read
    assert sum(own_requests(world).values()) == len(world.last_requests())
    assert digests(world) == before
    assert {path.name: path.stat().st_mtime_ns for path in world.staging.glob("*.parquet")} == times
    assert not any(entry["changed"] for entry in result.report["staged"].values())
    assert all(entry["items_read"] == 0 for entry in result.report["lists"].values())


def test_an_incremental_run_reads_only_the_changes_and_applies_them(world: SyncWorld) -> None:
    """Request economy: an incremental run with k changes makes at most ceil(k / page) + 2 per list."""
    world.run(page_size=PAGE)
    store, events = world.emu.stack.store, world.sp_list(EVENTS)
    changed = world.item_ids(EVENTS)[:7]
    for item_id in changed:
        store.update_item(events, item_id, {"field_7": 4321})
    before = world.staged("events").num_rows

    result = world.run(page_size=PAGE)

    requests = own_requests(world)
    assert requests[EVENTS] <= math.ceil(7 / PAGE) + 2
    assert all(requests[name] <= 2 for name in world.tenant.lists if name != EVENTS), requests
    assert people_reads(world) == math.ceil(60 / PAGE)  # the 60 officers' keys, for the changed events
    assert sum(own_requests(world).values()) + people_reads(world) == len(world.last_requests())
    assert result.report["lists"][EVENTS]["items_read"] == 7
    assert result.report["lists"][EVENTS]["full_read"] is False
    staged = world.staged("events")
    assert staged.num_rows == before
    attendance = dict(
        zip(
            staged.column("source_item_id").to_pylist(),
            staged.column("total_attendance").to_pylist(),
            strict=True,
        )
    )
    assert {attendance[item_id] for item_id in changed} == {4321}
    assert result.report["staged"]["events"]["changed"] is True
    assert result.report["staged"]["ccr"]["changed"] is False


def test_r9_items_deleted_between_runs_leave_the_staged_tables(world: SyncWorld) -> None:
    """R9: deleted at source between runs: the staged tables lose exactly those items and their bridge rows."""
    world.run(page_size=PAGE)
    store, events = world.emu.stack.store, world.sp_list(EVENTS)
    gone = world.item_ids(EVENTS)[5:42]  # 37 items
    for item_id in gone:
        store.delete_item(events, item_id)

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK
    assert result.report["lists"][EVENTS]["items_deleted"] == 37
    staged = world.staged("events")
    assert staged.num_rows == 150 - 37
    assert set(staged.column("source_item_id").to_pylist()) == set(world.item_ids(EVENTS))
    keys = set(staged.column("event_id").to_pylist())
    for bridge in ("event_officers", "event_communities", "event_issues"):
        assert set(world.staged(bridge).column("event_id").to_pylist()) <= keys, bridge
    assert result.report["counts"]["tables"]["events"]["deleted"] == 37


def test_r8_an_expired_delta_link_reads_the_whole_list_and_applies_deletions(world: SyncWorld) -> None:
    """R8: Graph answers 410 Gone for the saved link: a full re-enumeration; the target equals the source."""
    world.run(page_size=PAGE)
    store, events = world.emu.stack.store, world.sp_list(EVENTS)
    for item_id in world.item_ids(EVENTS)[:3]:
        store.delete_item(events, item_id)
    store.update_item(events, world.item_ids(EVENTS)[10], {"field_7": 777})
    store.expire_delta_tokens(events)

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK, result.describe()
    assert result.report["lists"][EVENTS]["full_read"] is True
    assert any(r.status == 410 for r in world.last_requests())
    staged = world.staged("events")
    assert sorted(staged.column("source_item_id").to_pylist(), key=int) == world.item_ids(EVENTS)
    assert 777 in staged.column("total_attendance").to_pylist()
    again = world.run(page_size=PAGE)  # the new link works: back to reading changes
    assert again.report["lists"][EVENTS]["full_read"] is False


def test_r10_a_full_rerun_gives_byte_identical_snapshots(world: SyncWorld) -> None:
    """R10: the same source read in full twice (in pages of another size) stages the same bytes."""
    world.run(page_size=PAGE)
    first = digests(world)
    result = world.run(full=True, page_size=PAGE + 7)
    assert result.exit_code == EXIT_OK
    assert digests(world) == first
    assert all(entry["full_read"] for entry in result.report["lists"].values())


def test_r12_an_item_changed_twice_and_at_the_cursor_is_neither_lost_nor_duplicated(world: SyncWorld) -> None:
    """R12: items modified at the very time the last run ended (the clock stands still) and one changed twice
    (a delta feed may repeat it) are each staged once, in their latest version."""
    world.run(page_size=PAGE)
    store, events = world.emu.stack.store, world.sp_list(EVENTS)
    ids = world.item_ids(EVENTS)[:3]
    for item_id in ids:  # same Modified as the cursor: the clock has not moved since the last run
        store.update_item(events, item_id, {"field_7": 10})
    store.update_item(events, ids[0], {"field_7": 11})

    result = world.run(page_size=PAGE)

    assert result.report["lists"][EVENTS]["items_read"] in (3, 4)  # a repeat may be counted when read
    staged = world.staged("events")
    item_ids = staged.column("source_item_id").to_pylist()
    assert len(item_ids) == len(set(item_ids)) == 150
    attendance = dict(zip(item_ids, staged.column("total_attendance").to_pylist(), strict=True))
    assert [attendance[item_id] for item_id in ids] == [11, 10, 10]


def test_r11_a_cursor_from_the_future_reads_nothing_exits_0_and_warns(world: SyncWorld) -> None:
    """R11: a Modified cursor of 2999-12-31 in the state: 0 records, exit 0, a warning; never rewound."""
    world.run(page_size=PAGE)
    events_id = world.sp_list(EVENTS).id
    path = world.settings.paths.state_dir / STATE_FILE_NAME
    with SyncState.open(path) as state:
        link = state.delta_link(events_id)
        state.commit_unchanged(ListCommit(events_id, delta_link=link, modified_cursor="2999-12-31T00:00:00Z"))

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK
    assert result.report["lists"][EVENTS]["items_read"] == 0
    assert [w["code"] for w in result.report["warnings"] if w["list"] == EVENTS] == ["future-cursor"]
    with SyncState.open(path, read_only=True) as state:
        assert state.modified_cursor(events_id) == "2999-12-31T00:00:00Z"


def test_the_demo_mapping_is_the_one_synced(world: SyncWorld) -> None:
    """The mapping comes from the file the config names (written from the demo's own mapping)."""
    result = world.run()
    assert set(result.report["lists"]) == {one.display_name for one in DEMO_SITE_MAPPING.lists}


def test_full_of_some_lists_rereads_them_and_keeps_the_others_key_maps(world: SyncWorld) -> None:
    """`--full --lists X` reads X whole; the lists X looks up keep their keys, so X's lookups resolve."""
    world.run(page_size=PAGE)
    before = world.staged("events")

    result = world.run(full=True, lists=[EVENTS], page_size=PAGE)

    assert result.exit_code == EXIT_OK, result.describe()
    assert set(result.report["lists"]) == {EVENTS} and result.report["lists"][EVENTS]["full_read"] is True
    assert world.staged("events").equals(before)
