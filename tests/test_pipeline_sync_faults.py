"""`pipeline.sync` under faults, end to end on the emulator with the injected clock: a 429 storm (R3), 503s
without Retry-After (R4), the RU budget (R5), a corrupt state (R13) and a second run while one holds the
lock (R14)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.run_lock import LOCK_FILE_NAME, RunLock
from connectors.sync_state import STATE_FILE_NAME, SyncState
from emulator.demo.force import Force, generate_force
from emulator.testing import FaultPlan, FaultRule, Injection, ResourceBudget
from pipeline.sync import EXIT_FAILED, EXIT_LOCKED, EXIT_OK
from tests.connectors.conftest import ManualTime
from tests.connectors.test_http_pacing import most_calls_in_any_minute
from tests.sync_world import SyncWorld, demo_world

PAGE = 50
EVENTS = "Engagement Events"


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=12, events=150, ccrs=120, officers=40, invalid_fraction=0)


@pytest.fixture
def plan() -> FaultPlan:
    return FaultPlan()  # rules are added by each test once the first run is done


@pytest.fixture
def world(force: Force, tmp_path: Path, plan: FaultPlan) -> Iterator[SyncWorld]:
    with demo_world(force, tmp_path, ManualTime(), faults=plan) as made:
        yield made


def snapshot(world: SyncWorld) -> dict[str, str]:
    """Every staged and quarantine file's hash, and each list's saved delta link."""
    found = {
        str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in world.staging.rglob("*.parquet")
    }
    with SyncState.open(world.settings.paths.state_dir / STATE_FILE_NAME, read_only=True) as state:
        for sp_list in world.tenant.lists.values():
            found[sp_list.id] = state.delta_link(sp_list.id) or ""
    return found


def test_r3_a_429_storm_is_waited_out_and_every_item_staged_once(world: SyncWorld, plan: FaultPlan) -> None:
    """R3: the first 5 calls, then every 3rd, get 429 Retry-After: 2; every item is staged once, no request
    is sent before Retry-After has passed, the retries stay within budget, the clock moved 2 s per 429."""
    storm = (429,) * 5 + (200, 200, 429) * 40
    plan.rules.append(FaultRule(service="graph", throttle=Injection(sequence=storm, retry_after_seconds=2)))
    started = world.clock.now()

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK, result.describe()
    log = world.last_requests()
    throttled = sum(1 for record in log if record.status == 429)
    assert throttled >= 5 and result.report["counts"]["retries"] == throttled <= 40
    assert world.waits.seconds == [2.0] * throttled
    assert (world.clock.now() - started).total_seconds() >= 2 * throttled
    for answer, following in zip(log, log[1:], strict=False):
        if answer.status == 429:
            assert (following.at - answer.at).total_seconds() >= 2
    item_ids = world.staged("events").column("source_item_id").to_pylist()
    assert sorted(item_ids, key=int) == world.item_ids(EVENTS)


def test_r4_503s_without_retry_after_fail_the_run_cleanly_and_change_nothing(
    world: SyncWorld, plan: FaultPlan
) -> None:
    """R4: six 503s in a row with no Retry-After: exponential back-off (1, 2, 4, 8, 16 s, no jitter here),
    then a typed error; the run fails (exit 2), the report says why, staged files and links are unchanged."""
    world.run(page_size=PAGE)
    world.emu.stack.store.update_item(world.sp_list(EVENTS), world.item_ids(EVENTS)[0], {"field_7": 1})
    before = snapshot(world)
    plan.rules.append(
        FaultRule(service="graph", path="/items/delta", unavailable=Injection(sequence=(503,) * 6))
    )

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_FAILED
    assert result.error is not None and result.report["status"] == "failed"
    assert result.report["error"]["code"] in {"ConnectorError", "ThrottledError"}
    assert world.waits.seconds[-5:] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert [r.status for r in world.last_requests()].count(503) == 6
    assert snapshot(world) == before


def test_r5_the_sync_paces_itself_under_the_ru_budget_before_any_429(
    world: SyncWorld, plan: FaultPlan
) -> None:
    """R5: with a budget of 16 RU a minute (1 or 2 RU a call; the run needs about 25), the run slows down
    as RateLimit-Remaining falls below 20 % instead of meeting 429s; it finishes with everything staged."""
    plan.budget = ResourceBudget(services=frozenset({"graph"}), rate_limit=16, reset_window_seconds=60,
                                 warning_threshold_percent=80)  # fmt: skip

    result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_OK, result.describe()
    log = world.last_requests()
    assert [record.status for record in log].count(429) == 0
    assert most_calls_in_any_minute([record.at.timestamp() for record in log]) <= 16
    assert world.waits.seconds and result.report["counts"]["retries"] == 0
    assert world.staged("events").num_rows == 150


def test_r13_a_corrupt_state_stops_the_run_until_full(world: SyncWorld) -> None:
    """R13: a truncated or overwritten state file is refused (exit 2, naming the file, hint --full); the
    staged files are left alone; `--full` moves it aside and rebuilds everything."""
    world.run(page_size=PAGE)
    staged = {path.name: path.read_bytes() for path in world.staging.glob("*.parquet")}
    state_file = world.settings.paths.state_dir / STATE_FILE_NAME
    state_file.write_bytes(b"not a database" * 10)

    refused = world.run(page_size=PAGE)

    assert refused.exit_code == EXIT_FAILED
    assert refused.error is not None and type(refused.error).__name__ == "StateError"
    assert str(state_file) in refused.error.message and "--full" in refused.error.hint
    assert {path.name: path.read_bytes() for path in world.staging.glob("*.parquet")} == staged
    assert refused.report["status"] == "failed"

    rebuilt = world.run(page_size=PAGE, full=True)

    assert rebuilt.exit_code == EXIT_OK, rebuilt.describe()
    assert all(entry["full_read"] for entry in rebuilt.report["lists"].values())
    assert {path.name: path.read_bytes() for path in world.staging.glob("*.parquet")} == staged


def test_r14_a_second_run_while_one_holds_the_lock_exits_3_and_touches_nothing(world: SyncWorld) -> None:
    """R14: a run while another holds the lock exits 3 with a message naming the lock and its holder, reads
    nothing and writes no staged file; the report of the refused run is still written."""
    world.run(page_size=PAGE)
    before = snapshot(world)
    world.emu.stack.store.update_item(world.sp_list(EVENTS), world.item_ids(EVENTS)[0], {"field_7": 2})
    lock = world.settings.paths.state_dir / LOCK_FILE_NAME

    with RunLock(lock):
        result = world.run(page_size=PAGE)

    assert result.exit_code == EXIT_LOCKED
    assert result.error is not None and str(lock) in result.error.message
    assert world.last_requests() == []
    assert snapshot(world) == before
    assert result.report["error"]["code"] == "RunLocked"
    assert world.run(page_size=PAGE).exit_code == EXIT_OK  # released: the next run goes ahead
