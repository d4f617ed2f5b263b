"""Publishing under the service's faults and limits: R2 (an ambiguous commit), R6 (1,000,001 rows paced under
every push limit), R7 (a 429 resent once after Retry-After), an uncertain commit. On the emulator's clock."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from powerbi_dataset.model import LOADS
from powerbi_dataset.publish_steps import PostLoad
from powerbi_dataset.schema import Column, Dataset, Table
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import Publisher, ccr_staged, check_relationships, view_differences


def rows_fault(table: str, **fault: Any) -> dict[str, Any]:
    return {"rules": [{"service": "powerbi", "method": "POST", "path": f"/tables/{table}/rows$", **fault}]}


def publisher_with(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, path: Path, faults: Any = None, **kw: Any
) -> Publisher:
    return Publisher(
        open_workspace(start_emulator, clock, waits, faults=faults), path / "state", clock, waits, **kw
    )


def duplicates(rows: list[dict[str, Any]], *columns: str) -> int:
    counts = Counter(tuple(row[column] for column in columns) for row in rows)
    return sum(count - 1 for count in counts.values() if count > 1)


def test_r2_an_ambiguous_chunk_is_never_resent_into_its_load_and_a_new_load_commits(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path
) -> None:
    staged = ccr_staged(10_000 + 1_234)
    publisher = publisher_with(
        start_emulator, clock, waits, tmp_path, rows_fault("ccr", drop_after_commit={"nth": 2})
    )

    sink = publisher.publish(staged, chunk_rows=5_000)

    stored = publisher.stored()
    by_load = Counter(row["load_seq"] for row in stored["ccr"])
    first, second = sorted(by_load)
    assert by_load[first] == 10_000  # chunks 1 and 2 of the dead load, each once: chunk 2 was not resent
    assert by_load[second] == 11_234  # the new load posted every row again
    assert duplicates(stored["ccr"], "load_seq", "ccr_id") == 0
    assert [row["load_seq"] for row in stored["_loads"]] == [second]  # only the new load is committed
    assert sink.result.loads_abandoned and sink.result.loads_started == 2
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []


def test_an_ambiguous_commit_makes_the_next_load_post_its_keys_again(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path
) -> None:
    staged = ccr_staged(700)
    publisher = publisher_with(
        start_emulator, clock, waits, tmp_path, rows_fault("_loads", drop_after_commit={"nth": 1})
    )

    sink = publisher.publish(staged, chunk_rows=500)

    stored = publisher.stored()
    assert len(stored["_loads"]) == 2  # the first commit row was stored although its answer was lost
    assert sink.result.loads_started == 2 and len(sink.result.loads_abandoned) == 1
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []


def test_r7_a_429_on_chunk_4_is_resent_once_after_retry_after_and_stored_once(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path
) -> None:
    staged = ccr_staged(3_000)
    faults = rows_fault("ccr", throttle={"sequence": [200, 200, 200, 429], "retry_after": 10})
    publisher = publisher_with(start_emulator, clock, waits, tmp_path, faults)

    publisher.publish(staged, chunk_rows=500)

    posts = publisher.workspace.posts("/tables/ccr/rows")
    assert [post.status for post in posts] == [200, 200, 200, 429, 200, 200, 200]
    assert (posts[4].at - posts[3].at).total_seconds() >= 10.0
    assert waits.seconds.count(10.0) == 1
    stored = publisher.stored()
    assert duplicates(stored["ccr"], "ccr_id") == 0 and len(stored["ccr"]) == 3_000
    assert view_differences(stored, staged) == {}


KEY = Table(
    "facts",
    "One key per row",
    (
        Column("fact_id", "String", "Key", required=True, max_length=20),
        Column("load_id", "String", "Load", max_length=64),
    ),
    key=("fact_id",),
)
THIN = Dataset("Thin", (KEY, LOADS))


def sliding_max(times: list[dt.datetime], seconds: float) -> int:
    """The most POSTs in any window (t - seconds, t] ending at a POST."""
    window = dt.timedelta(seconds=seconds)
    return max(sum(1 for other in times if at - window < other <= at) for at in times)


def test_r6_a_million_and_one_rows_keep_every_push_limit_and_the_plan_says_over_an_hour(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path
) -> None:
    rows = 1_000_001
    staged = {
        "facts": pa.table({"fact_id": [f"f{i}" for i in range(rows)], "load_id": pa.nulls(rows, pa.string())})
    }
    publisher = publisher_with(start_emulator, clock, waits, tmp_path, dataset=THIN)
    pending: list[int] = []
    emulator = publisher.workspace.emu.powerbi
    emulator.rows_hook = lambda: pending.append(
        max(d.pending_posts for g in emulator._groups.values() for d in g.datasets.values())
    )
    sink, store = publisher.sink()
    plan = sink.plan(staged)
    load = next(step for step in plan.steps if isinstance(step, PostLoad))

    assert load.expected_seconds > 3_600  # more than a million rows cannot go in one hour
    assert load.tables[0].posts == 101
    for step in plan.steps:
        step.apply()
    store.close()

    posts = publisher.workspace.posts("/rows")
    assert all(post.status == 200 for post in posts)  # paced: the service never had to refuse one
    assert len(posts) == 101 + 1  # ceil(1,000,001 / 10,000) chunks and the commit
    assert max(post.body_bytes for post in posts) < 10_001 * 120  # and no request over 10,000 rows
    times = [post.at for post in posts]
    assert sliding_max(times, 60) <= 120
    large_from = times[25]  # after 25 chunks the table holds 250,000 rows
    assert sliding_max([at for at in times if at >= large_from], 3_600) <= 120
    assert max(pending) == 1  # one POST pending at a time (the limit is 5)
    duration = (times[-1] - times[0]).total_seconds()
    assert 3_600 <= duration <= 3_600 * 1.02  # the minimum the rows-per-hour limit allows
    assert len(publisher.stored()["facts"]) == rows
