"""`pipeline.sync` with Graph pages decoded straight into Arrow (connectors/graph_arrow.py, on the read-ahead
thread) against the same sync reading them as dicts (`arrow_pages=False`): the same staged bytes, quarantine,
state and run-report counts through a full read, a delta with changes, repeats and deletions, and a 410
resync; the Arrow path is taken for lists read in one request a page, not for one split by the lookup
threshold; pages the reader refuses fall back to dicts with their links."""

from __future__ import annotations

import functools
import hashlib
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import connectors.graph_lists
import pipeline.sync_list
import pipeline.sync_source
import transforms.normalise
from config.settings import Settings
from connectors.graph_lists import GraphLists
from connectors.sync_state import STATE_FILE_NAME, SyncState
from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from pipeline.sync import sync
from tests.connectors.conftest import ManualTime
from tests.sync_world import SyncWorld, demo_world, write_settings
from transforms.page_read import ArrowItems

PAGE = 40
EVENTS, CCRS = "Engagement Events", "Community Contact Records"
FINGERPRINT = re.compile(rb"#[0-9a-f]{12}\b")  # transforms/masking.py, in a quarantine CSV
Outcome = list[dict[str, Any]]  # one entry a run


@pytest.fixture(scope="module")
def force() -> Force:
    # invalid rows, so the quarantine has something to compare
    return generate_force(seed=17, events=120, ccrs=160, officers=50, invalid_fraction=0.08)


@pytest.fixture
def normalised(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, str]]:
    """(list, how its items were read) -> how many items the sync normalised that way: "arrow" when the
    normaliser read Arrow (read_arrow took them), "declined" when it had ArrowItems but read their dicts,
    "dicts" otherwise. Items, not calls: the Arrow way gathers pages into one call (pipeline/sync_batch.py)."""
    seen: Counter[tuple[str, str]] = Counter()
    accepted: list[bool] = []
    real_read, real_normalise = transforms.normalise.read_arrow, pipeline.sync_list.normalise_page

    def read_arrow(*args: Any, **kwargs: Any) -> Any:
        found = real_read(*args, **kwargs)
        accepted.append(found is not None)
        return found

    def normalise_page(items: Any, mapping: Any, *args: Any, **kwargs: Any) -> Any:
        accepted.clear()
        result = real_normalise(items, mapping, *args, **kwargs)
        if isinstance(items, list) and not items:
            return result  # sync_list.table_names: the tables a list feeds, from no items
        how = "dicts" if not isinstance(items, ArrowItems) else "arrow" if accepted == [True] else "declined"
        seen[(mapping.display_name, how)] += len(result.item_keys) + len(result.deleted_item_ids)
        return result

    monkeypatch.setattr(transforms.normalise, "read_arrow", read_arrow)
    monkeypatch.setattr(pipeline.sync_list, "normalise_page", normalise_page)
    return seen


def scenario(force: Force, root: Path, *ways: dict[str, Any]) -> list[Outcome]:
    """A full read, a delta (changes, an item changed twice, deletions), a 410 resync with a change, and a
    run with no changes, of one emulated site by one sync per entry of `ways` (options of `sync`), each
    with its own staging, quarantine and state; after each run, what it left behind."""
    outcomes: list[Outcome] = [[] for _ in ways]
    with demo_world(force, root / "site", ManualTime()) as world:
        store, events, ccrs = world.emu.stack.store, world.sp_list(EVENTS), world.sp_list(CCRS)
        settings = [
            write_settings(root / str(n), world.emu, DEMO_SITE_MAPPING, world.site_path)
            for n in range(len(ways))
        ]

        def run_each() -> None:
            for n, options in enumerate(ways):
                result = sync(settings[n], sleep=world.waits, clock=world.clock.time, jitter=lambda: 0.0,
                              page_size=PAGE, **options)  # fmt: skip
                outcomes[n].append(left_behind(world, settings[n], result.report))

        run_each()
        changed = world.item_ids(EVENTS)[3:9]
        for item_id in changed:
            store.update_item(events, item_id, {"field_7": 4321})
        store.update_item(events, changed[0], {"field_7": 99})  # changed twice: the delta page repeats it
        for item_id in world.item_ids(EVENTS)[20:25]:
            store.delete_item(events, item_id)
        store.delete_item(ccrs, world.item_ids(CCRS)[7])
        world.clock.advance(60)
        run_each()

        store.update_item(events, world.item_ids(EVENTS)[30], {"field_7": 777})
        store.expire_delta_tokens(events)
        world.clock.advance(60)
        world.seen = len(world.emu.emulator.request_log)
        run_each()
        assert sum(r.status == 410 for r in world.last_requests()) == len(ways)

        run_each()
    return outcomes


def left_behind(world: SyncWorld, settings: Settings, report: dict[str, Any]) -> dict[str, Any]:
    """Every staged and quarantine file's bytes (the state database apart; the quarantine CSV's item
    fingerprints, salted afresh for every report, made equal), each list's state, and the run report's
    counts and per-list figures."""
    staging, state_dir = settings.paths.staging_dir, settings.paths.state_dir
    files = {
        str(path.relative_to(staging)): hashlib.sha256(
            FINGERPRINT.sub(b"#fingerprint", path.read_bytes())
            if path.suffix == ".csv"
            else path.read_bytes()
        ).hexdigest()
        for path in sorted(staging.rglob("*"))
        if path.is_file() and state_dir not in path.parents
    }
    with SyncState.open(state_dir / STATE_FILE_NAME, read_only=True) as state:
        lists = {
            name: (state.delta_link(one.id), state.modified_cursor(one.id), state.item_keys(one.id))
            for name, one in world.tenant.lists.items()
        }
    counts = {key: report.get(key) for key in ("status", "counts", "lists")}
    return {"files": files, "state": lists, "report": counts}


def test_a_sync_through_arrow_pages_stages_the_same_bytes_quarantine_state_and_counts_as_dicts(
    force: Force, tmp_path: Path, normalised: Counter[tuple[str, str]]
) -> None:
    through_arrow, as_dicts = scenario(force, tmp_path, {}, {"arrow_pages": False})

    for step, (arrow, dicts) in enumerate(zip(through_arrow, as_dicts, strict=True)):
        assert arrow["files"] == dicts["files"], step
        assert arrow["state"] == dicts["state"], step
        assert arrow["report"] == dicts["report"], step
    first = through_arrow[0]
    assert any(name.startswith("quarantine/") and name.endswith(".csv") for name in first["files"])
    assert first["report"]["counts"]["tables"]["events"]["quarantined"] > 0
    assert through_arrow[1]["report"]["lists"][EVENTS]["items_deleted"] == 5
    assert through_arrow[2]["report"]["lists"][EVENTS]["full_read"] is True  # the 410's full read
    # every list of the demo is read in one request a page: Arrow, bar delta pages with deletions or repeats
    assert normalised[(EVENTS, "arrow")] >= 120 + 115  # the first full read and the 410's (5 deleted)
    assert normalised[(CCRS, "arrow")] >= 160
    assert normalised[(EVENTS, "declined")] >= 1  # the delta page with its repeat and deletions
    for name in {name for name, _how in normalised}:  # the dict way normalised as many items, all as dicts
        through = normalised[(name, "arrow")] + normalised[(name, "declined")]
        if name == "Officers":  # keyed by a mapped column: a batch where two items share a key (or have
            assert through > normalised[(name, "dicts")]  # none) is normalised again page by page
        else:
            assert normalised[(name, "dicts")] == through, name


def test_the_modified_cursor_read_from_arrow_pages_is_the_latest_item_of_the_list(
    force: Force, tmp_path: Path, normalised: Counter[tuple[str, str]]
) -> None:
    def cursor() -> str | None:
        with SyncState.open(world.settings.paths.state_dir / STATE_FILE_NAME, read_only=True) as state:
            return state.modified_cursor(events.id)

    def latest() -> str:
        return max(item.modified for item in store.items(events)).strftime("%Y-%m-%dT%H:%M:%SZ")

    with demo_world(force, tmp_path, ManualTime()) as world:
        store, events = world.emu.stack.store, world.sp_list(EVENTS)
        assert len({item.modified for item in store.items(events)}) > 10  # the items' times differ
        world.run(page_size=PAGE)
        after_full_read = cursor()
        assert after_full_read == latest()
        world.clock.advance(3600)
        store.update_item(
            events, world.item_ids(EVENTS)[50], {"field_7": 5}
        )  # the only change: a page of one
        world.run(page_size=PAGE)
        assert cursor() == latest() > after_full_read
    assert normalised[(EVENTS, "arrow")] == 120 + 1  # the first read, the change


def test_pages_the_reader_refuses_are_read_as_dicts_with_their_links(
    force: Force, tmp_path: Path, normalised: Counter[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every other page refused by the Arrow reader (as a value of an unexpected type, a lone surrogate or a
    duplicate key would be): those pages' items and links come from the dicts; nothing changes."""
    real = connectors.graph_lists.read_page
    calls: list[bool] = []

    def refusing(data: bytes, schema: pa.Schema) -> Any:
        calls.append(len(calls) % 2 == 0)
        return None if calls[-1] else real(data, schema)

    monkeypatch.setattr(connectors.graph_lists, "read_page", refusing)

    through_arrow, as_dicts = scenario(force, tmp_path, {}, {"arrow_pages": False})

    assert through_arrow == as_dicts
    assert calls.count(True) >= 5 and calls.count(False) >= 5
    assert normalised[(EVENTS, "declined")] >= 2 and normalised[(EVENTS, "arrow")] >= 2


def test_lists_split_by_the_lookup_threshold_stay_on_dicts_and_the_others_read_arrow(
    force: Force, tmp_path: Path, normalised: Counter[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A threshold of 3 lookup-type columns (Graph's is 12; the demo's events and CCRs select 4 each, the
    other lists 2 or none): the split lists are merged by id as dicts, the others decoded into Arrow; the
    staged bytes are the dict way's."""
    monkeypatch.setattr(pipeline.sync_source, "GraphLists", functools.partial(GraphLists, lookup_threshold=3))

    through_arrow, as_dicts = scenario(force, tmp_path, {}, {"arrow_pages": False})

    assert through_arrow == as_dicts
    read = {name for name, how in normalised if how != "dicts"}
    assert read == {"LPTs", "Officers", "You Said We Did"}
    assert normalised[(EVENTS, "dicts")] >= 2 * (120 + 115)  # two ways, the first read and the 410's
