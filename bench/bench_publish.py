"""Publishing a million rows and more on the emulator's clock: POSTs per table, duration against the minimum the
documented push limits allow, and the client's CPU per 10,000-row chunk.

    .venv/bin/python -m bench.bench_publish [--scenario one-million-and-one|one-million|two-tables] [--cpu-only]

Each scenario publishes through the real PushSink, PowerBIClient and publish state to the HTTPS emulator on a
manual clock (time passes only when the pacer sleeps; the service answers in no time). The minimum is
computed here independently of powerbi_dataset/pacing.py: the greedy schedule that sends every POST, in the
same order, at the earliest moment the three documented sliding-window limits allow (120 POSTs in any 60 s;
120 in any hour once a table holds 250,000 rows; 1,000,000 rows in any hour). For window limits the greedy
schedule is optimal: no schedule sends its i-th POST earlier. Figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
import timeit
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pyarrow as pa

from connectors.http import RetryPolicy, build_session
from connectors.powerbi import PowerBIClient, wire_row
from connectors.publish_state import PublishState
from emulator.testing import DEFAULT_TENANT, running_emulator
from powerbi_dataset.model import DATASET, LOADS
from powerbi_dataset.publish import PublishOptions, PushSink
from powerbi_dataset.publish_load import json_rows
from powerbi_dataset.publish_steps import PostLoad
from powerbi_dataset.schema import Column, Dataset, Table

AUDIENCE = "https://analysis.windows.net/powerbi/api"
FACTS = Table(
    "facts",
    "One key per row",
    (Column("fact_id", "String", "Key", required=True), Column("load_id", "String", "Load", max_length=64)),
    key=("fact_id",),
)
LINES = Table(
    "lines",
    "Rows of a second large table",
    (Column("line_id", "String", "Key", required=True), Column("load_id", "String", "Load", max_length=64)),
    key=("line_id",),
)
SCENARIOS: dict[str, dict[str, int]] = {
    "one-million-and-one": {"facts": 1_000_001},
    "one-million": {"facts": 1_000_000},
    "two-tables": {"facts": 1_000_000, "lines": 1_340_000},  # the demo force's CCR : CCR issue ratio
}


class ManualTime:
    def __init__(self) -> None:
        import datetime as dt

        self._now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)

    def now(self) -> Any:
        return self._now

    def time(self) -> float:
        return float(self._now.timestamp())

    def sleep(self, seconds: float) -> None:
        import datetime as dt

        self._now += dt.timedelta(seconds=seconds)


def minimum_seconds(posts: list[tuple[str, int]], large_rows: int = 250_000) -> float:
    """The greedy earliest-feasible schedule under the documented limits (no margin, answers take no time)."""
    sent: list[tuple[float, int]] = []
    stored: Counter[str] = Counter()
    now = 0.0
    for table, rows in posts:
        while True:
            minute = [at for at, _ in sent if at > now - 60]
            hour = [(at, n) for at, n in sent if at > now - 3_600]
            large = any(count >= large_rows for count in stored.values())
            waits = [now]
            if len(minute) >= 120:
                waits.append(minute[-120] + 60)
            if large and len(hour) >= 120:
                waits.append(hour[-120][0] + 3_600)
            excess = sum(n for _, n in hour) + rows - 1_000_000
            for at, n in hour:
                if excess <= 0:
                    break
                excess -= n
                waits.append(at + 3_600)
            if max(waits) == now:
                break
            now = max(waits)
        sent.append((now, rows))
        stored[table] += rows
    return now


def run_scenario(name: str) -> dict[str, Any]:
    sizes = SCENARIOS[name]
    tables = tuple(table for table in (FACTS, LINES) if table.name in sizes)
    dataset = Dataset("Bench", (*tables, LOADS))
    staged = {
        table.name: pa.table(
            {table.key[0]: [f"k{i}" for i in range(rows)], "load_id": pa.nulls(rows, pa.string())}
        )
        for table, rows in ((t, sizes[t.name]) for t in tables)
    }
    clock = ManualTime()
    with ExitStack() as stack, tempfile.TemporaryDirectory() as state_dir:
        emu = stack.enter_context(running_emulator(https=True, clock=clock))
        group = emu.powerbi.create_group("Bench", members={"bench-app": "Contributor"})  # type: ignore[call-arg]
        token = emu.stack.tokens.issue(
            audience=AUDIENCE, client_id="bench-app", tenant=DEFAULT_TENANT, lifetime_seconds=86_400
        )
        session = build_session(
            lambda: token, user_agent="NONISV|Bench|cetk/0.1.0", ca_bundle=emu.ca_file, retries=RetryPolicy(),
            sleep=clock.sleep, clock=clock.time, jitter=lambda: 0.0,
        )  # fmt: skip
        store = PublishState.open(Path(state_dir))
        sink = PushSink(
            PowerBIClient(session, emu.url("powerbi", ""), group),
            store,
            options=PublishOptions("Bench"),
            dataset=dataset,
            clock=clock.time,
            sleep=clock.sleep,
        )
        started = time.perf_counter()
        plan = sink.plan(staged)
        load = next(step for step in plan.steps if isinstance(step, PostLoad))
        for step in plan.steps:
            step.apply()
        wall = time.perf_counter() - started
        store.close()
        posts = [r for r in emu.emulator.request_log if r.method == "POST" and r.path.endswith("/rows")]
    per_table = Counter(r.path.split("/tables/")[1].split("/")[0] for r in posts)
    simulated = (posts[-1].at - posts[0].at).total_seconds()
    minimum = minimum_seconds(sink.post_sizes(load.changes))
    return {
        "scenario": name,
        "rows": sizes,
        "posts_per_table": dict(per_table),
        "ceil_rows_over_10000": {table: math.ceil(rows / 10_000) for table, rows in sizes.items()},
        "refused_429": sum(1 for r in posts if r.status == 429),
        "planned_seconds": round(load.expected_seconds, 2),
        "simulated_seconds": round(simulated, 2),
        "minimum_seconds": round(minimum, 2),
        "ratio": round(simulated / minimum, 5) if minimum else None,
        "wall_seconds": round(wall, 1),
    }


def cpu_per_chunk(repeat: int = 5) -> dict[str, Any]:
    """Client CPU for one 10,000-row chunk of CCRs: Arrow to rows, the client's checks, serialisation.

    Timed with the process's CPU clock (time.process_time), not the wall clock, so a busy shared machine
    does not inflate the figures (it still slows them a little: caches are shared)."""
    from powerbi_dataset.changes import LoadRequest, plan_load
    from tests.powerbi_dataset.publish_world import ccr_staged

    staged = ccr_staged(10_000)
    changes = plan_load(DATASET, staged, {}, LoadRequest("20261102T090000000000Z", 1))
    chunk = next(load.rows for load in changes.tables if load.table == "ccr")
    rows = json_rows(chunk)
    wired = [wire_row(row, index, "ccr") for index, row in enumerate(rows)]
    body = {"rows": wired}
    timings: dict[str, float | None] = {
        "arrow_to_rows_ms": timeit.timeit(lambda: json_rows(chunk), number=repeat, timer=time.process_time)
        / repeat
        * 1e3,
        "client_checks_ms": timeit.timeit(
            lambda: [wire_row(row, index, "ccr") for index, row in enumerate(rows)],
            number=repeat,
            timer=time.process_time,
        )
        / repeat
        * 1e3,
        "json_dumps_ms": timeit.timeit(
            lambda: json.dumps(body).encode(), number=repeat, timer=time.process_time
        )
        / repeat
        * 1e3,
    }
    try:
        import orjson

        timings["orjson_dumps_ms"] = (
            timeit.timeit(lambda: orjson.dumps(body), number=repeat, timer=time.process_time) / repeat * 1e3
        )
    except ImportError:
        timings["orjson_dumps_ms"] = None
    timings["body_bytes"] = len(json.dumps(body))
    return {key: round(value, 1) if isinstance(value, float) else value for key, value in timings.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--cpu-only", action="store_true")
    arguments = parser.parse_args()
    print(json.dumps({"cpu_per_10000_row_chunk": cpu_per_chunk()}))
    if arguments.cpu_only:
        return
    for name in arguments.scenario or list(SCENARIOS):
        print(json.dumps(run_scenario(name)), flush=True)


if __name__ == "__main__":
    main()
