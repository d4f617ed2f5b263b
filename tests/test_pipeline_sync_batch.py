"""`pipeline.sync` with pages gathered into one normalise call (pipeline/sync_batch.py) against the same sync
a page a call (`batch_items=1`, as before batching): the same staged bytes, quarantine, state and run-report
counts through a full read, a delta whose items repeat across pages (an item changed twice, one changed
then deleted) with deletions, a 410 in the middle of a list's delta read, a 410 on its first request and a
run with no changes. Pages of 7 items, so a batch spans pages and a list spans batches."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import pipeline.sync_list
from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.faults.plan import FaultPlan, FaultRule
from pipeline.sync import sync
from pipeline.sync_batch import Batch, Content, PageBatches
from tests.connectors.conftest import ManualTime
from tests.sync_world import demo_world, write_settings
from tests.test_pipeline_sync_arrow import left_behind
from transforms.page_read import ArrowItems

PAGE = 7
EVENTS, CCRS = "Engagement Events", "Community Contact Records"
WAYS: tuple[dict[str, Any], ...] = (
    {"batch_items": 1},
    {"batch_items": 25},
    {},
)  # a page a call; a few pages a call; the sync's own


@pytest.fixture(scope="module")
def force() -> Force:
    # invalid rows (and officers without a staff number, so without a key), so the quarantine has rows
    return generate_force(seed=17, events=120, ccrs=160, officers=50, invalid_fraction=0.08)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    """normalise_page calls of the sync, per way (the index in WAYS of the run under way, at -1)."""
    counted: Counter[int] = Counter()
    real = pipeline.sync_list.normalise_page

    def normalise_page(items: Any, *args: Any, **kwargs: Any) -> Any:
        counted[counted[-1]] += 1
        return real(items, *args, **kwargs)

    monkeypatch.setattr(pipeline.sync_list, "normalise_page", normalise_page)
    return counted


def scenario(force: Force, root: Path, calls: Counter[int]) -> tuple[list[list[dict[str, Any]]], list[int]]:
    """What each way left behind after each run, and how many 410s each way's runs met."""
    expire_at: list[int] = []  # the events delta request (of the run under way) before which links expire
    seen: list[int] = [0]
    worlds: list[Any] = []

    def before_events_delta(_seconds: float) -> None:  # the fault plan's latency "sleep": no sleeping
        seen[0] += 1
        if expire_at and seen[0] == expire_at[0]:
            store = worlds[0].emu.stack.store
            store.expire_delta_tokens(worlds[0].sp_list(EVENTS))

    outcomes: list[list[dict[str, Any]]] = [[] for _ in WAYS]
    gone = [0 for _ in WAYS]
    with demo_world(force, root / "site", ManualTime()) as world:
        worlds.append(world)
        events = world.sp_list(EVENTS)
        rule = FaultRule(service="graph", path=f"/lists/{events.id}/items/delta", latency_ms=1)
        FaultPlan(rules=[rule], sleep=before_events_delta).install(world.emu.emulator)
        store, ccrs = world.emu.stack.store, world.sp_list(CCRS)
        settings = [
            write_settings(root / str(n), world.emu, DEMO_SITE_MAPPING, world.site_path)
            for n in range(len(WAYS))
        ]

        officers = world.sp_list("Officers")  # keyed by a column: one with no key, two with one key, on
        staff = [item.id for item in store.items(officers)]  # pages other than the last's keyless two
        store.update_item(officers, staff[3], {"StaffNumber": None})
        same = store.items(officers)[20].fields["StaffNumber"]
        store.update_item(officers, staff[10], {"StaffNumber": same})

        def run_each() -> None:
            epoch = events.delta_epoch
            for n, options in enumerate(WAYS):
                events.delta_epoch = epoch  # every way's saved link is as good as the first way's was
                seen[0], calls[-1] = 0, n
                before = len(world.emu.emulator.request_log)
                result = sync(settings[n], sleep=world.waits, clock=world.clock.time, jitter=lambda: 0.0,
                              page_size=PAGE, **options)  # fmt: skip
                gone[n] += sum(r.status == 410 for r in world.emu.emulator.request_log[before:])
                outcomes[n].append(left_behind(world, settings[n], result.report))

        run_each()
        ids = world.item_ids(EVENTS)
        for item_id in ids[3:17]:  # two pages of changes
            store.update_item(events, item_id, {"field_7": 4321})
        store.update_item(events, ids[3], {"field_7": 99})  # changed again: repeated on a later page
        for item_id in ids[90:96]:  # ... a page with no deletion, so only the repeat parts it from the others
            store.update_item(events, item_id, {"field_7": 4321})
        store.update_item(events, ids[30], {"field_7": 5})
        store.delete_item(events, ids[30])  # changed, then deleted
        for item_id in ids[20:25]:
            store.delete_item(events, item_id)
        store.update_item(events, ids[92], {"field_7": 8})  # on the deletions' page, and in the batch before
        for item_id in world.item_ids(CCRS)[:12]:
            store.update_item(ccrs, item_id, {"InfoSubmitted": True})
        store.delete_item(ccrs, world.item_ids(CCRS)[7])
        world.clock.advance(60)
        run_each()

        for item_id in world.item_ids(EVENTS)[40:60]:  # three pages of changes; the links expire before
            store.update_item(events, item_id, {"field_7": 1234})  # the second: a full read from there
        world.clock.advance(60)
        expire_at.append(2)
        run_each()
        expire_at.clear()

        store.update_item(events, world.item_ids(EVENTS)[70], {"field_7": 777})
        store.expire_delta_tokens(events)  # a 410 on the first request
        world.clock.advance(60)
        run_each()

        run_each()
    return outcomes, gone


def test_pages_normalised_together_stage_what_a_page_a_call_stages(
    force: Force, tmp_path: Path, calls: Counter[int]
) -> None:
    (one_by_one, few, sync_own), gone = scenario(force, tmp_path, calls)

    for step, (alone, *together) in enumerate(zip(one_by_one, few, sync_own, strict=True)):
        for other in together:
            assert other["files"] == alone["files"], step
            assert other["state"] == alone["state"], step
            assert other["report"] == alone["report"], step
    assert all(run["report"]["status"] == "partial" for run in one_by_one)  # done, some rows quarantined
    assert gone == [2, 2, 2]  # each way met the 410 in the middle of its delta read and on its first request
    assert any(name.startswith("quarantine/") for name in one_by_one[0]["files"])
    assert one_by_one[0]["report"]["counts"]["tables"]["officers"]["quarantined"] > 0
    delta = one_by_one[1]["report"]["lists"][EVENTS]
    assert delta["items_deleted"] == 6 and delta["full_read"] is False
    # the item changed twice counts once per page it came on, as a page a call always counted it
    assert delta["items_read"] == 14 + 1 + 6 + 1
    assert one_by_one[2]["report"]["lists"][EVENTS]["full_read"] is True  # the 410 mid-read: all of it
    assert one_by_one[2]["report"]["lists"][EVENTS]["items_read"] == 120 - 6
    assert calls[0] > calls[1] > calls[2] > 0  # batching happened, more with bigger batches


def arrow_page(*ids: str, deleted: bool = False) -> ArrowItems:
    items = [{"id": one, "fields": {"Title": f"item {one}"}} for one in ids]
    if deleted:
        items = [{**item, "deleted": {"state": "deleted"}} for item in items]
    return ArrowItems((pa.array(items),), lambda: items)


def ids_of(batch: Batch) -> list[str]:
    return [str(item["id"]) for part in batch.parts for item in as_dicts(part)]


def as_dicts(content: Content) -> Any:
    return content.as_dicts() if isinstance(content, ArrowItems) else content


def test_pages_gather_until_the_limit_and_the_rest_waits_for_the_flush() -> None:
    batches = PageBatches(5)
    assert batches.add(arrow_page("1", "2")) == []
    ready = batches.add(arrow_page("3", "4", "5"))
    assert [ids_of(batch) for batch in ready] == [["1", "2", "3", "4", "5"]]
    content = ready[0].content
    assert isinstance(content, ArrowItems) and content.pages is not None
    assert len(content.pages) == 2  # one call, two pages
    assert batches.add(arrow_page("6")) == []
    assert [ids_of(batch) for batch in batches.flush()] == [["6"]]
    assert batches.flush() == []


def test_a_page_that_cannot_join_comes_after_the_pages_before_it_alone() -> None:
    """A repeated item starts a new batch; a page with a deletion, a repeat within itself or read as dicts
    is normalised alone, after what came before it (the later version of an item wins)."""
    batches = PageBatches(100)
    assert batches.add(arrow_page("1", "2")) == []
    assert [ids_of(batch) for batch in batches.add(arrow_page("2", "3"))] == [["1", "2"]]
    deletion = arrow_page("3", "9", deleted=True)
    assert [ids_of(batch) for batch in batches.add(deletion)] == [["2", "3"], ["3", "9"]]
    assert batches.add(arrow_page("4")) == []
    assert [ids_of(batch) for batch in batches.add(arrow_page("5", "5"))] == [["4"], ["5", "5"]]
    dicts: list[dict[str, Any]] = [{"id": "6", "fields": {}}]
    assert batches.add(arrow_page("7")) == []
    assert [ids_of(batch) for batch in batches.add(dicts)] == [["7"], ["6"]]
    refused = ArrowItems(None, lambda: [{"id": "8", "fields": {}}])  # the Arrow reader refused the page
    assert [ids_of(batch) for batch in batches.add(refused)] == [["8"]]


def test_a_410_forgets_the_pages_gathered() -> None:
    batches = PageBatches(100)
    batches.add(arrow_page("1", "2"))
    batches.discard()
    assert batches.add(arrow_page("1")) == []  # not a repeat: the batch starts afresh
    assert [ids_of(batch) for batch in batches.flush()] == [["1"]]


def test_a_batch_holds_at_least_one_item() -> None:
    with pytest.raises(ValueError, match="at least one"):
        PageBatches(0)
