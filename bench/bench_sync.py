"""`cetk sync` of a large events list from the emulator over loopback, against a raw paging loop on the same
emulator in the same run; then the same sync with 100 ms of latency on every request.

The emulator (the demo force's site, its events list grown to --items by repeating the demo's events) runs
in its own spawned process, driven over a pipe; each client runs in a fresh (spawned) process too, so its
peak RSS is its own and the bench's process does no work while a client is timed. Order:
  0. a raw loop, not timed, so the emulator's page cache is warm before either side is measured;
  1. raw:  requests + orjson (json when orjson is missing), following @odata.nextLink over the request the
           sync's full read makes, `.../items/delta?$expand=fields($select=<the mapped columns>)&$top=5000`
           (the emulator caches each query shape's pages apart: the same shape, the same cache); no
           processing at all;
  2. sync: `pipeline.sync(settings, lists=["Engagement Events"], full=True)` (sign-in none, loopback): read,
           normalise, minimise, validate, stage Parquet, quarantine, commit; after a first sync of the
           lookup lists (LPTs, Officers) so the events' lookups resolve. Its RSS is traced page by page;
  3. raw again; the ratio is the sync's items/s over the mean of the two raw runs' items/s;
  4. an incremental sync after --changes items changed, with no latency and with 100 ms of latency;
  5. a full sync with 100 ms of latency.
Wall and CPU seconds (the child's own, `resource.getrusage`) are reported for each client.
Targets (issue 8): the sync at >= 90% of the raw loop's items/s; peak RSS of the sync <= 400 MB.

Run by hand: `.venv/bin/python -m bench.bench_sync [--items N] [--changes K] [--latency-ms 100]`.
Results go in docs/performance.md (## Sync end to end).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import yaml

EVENTS = "Engagement Events"
KEY = "bench-key-" * 4  # a fixed, fake key: the bench needs one, never a real one
PAGE_SIZE = 5000


def grow(store: Any, events: Any, count: int) -> None:
    """Repeat the demo's events (their field values as stored) until the list holds `count` items."""
    template = [(item.fields, item.author) for item in store.items(events)]
    for number in range(count - len(template)):
        fields, author = template[number % len(template)]
        store.add_item(events, fields, author=author)  # Created By: an officer, as the app records it


def emulator_child(items: int, commands: Any) -> None:
    """The emulator in its own process: serves until told to stop; changes items and latency on command."""
    from emulator.build import EmulatorOptions, build_emulator
    from emulator.core.clock import SystemClock
    from emulator.core.server import start_server
    from emulator.demo.force import generate_force
    from emulator.demo.lists import seed_lists
    from emulator.testing import FaultPlan, FaultRule

    plan = FaultPlan()
    stack = build_emulator(clock=SystemClock(), faults=plan, options=EmulatorOptions(require_auth=False))
    began = time.perf_counter()
    now = dt.datetime.now(dt.UTC)  # the force's "today", so its rules about the future hold on this clock
    force = generate_force(seed=7, events=500, ccrs=10, officers=200, invalid_fraction=0, as_of=now)
    tenant = seed_lists(stack.store, force)
    events = tenant.lists[EVENTS]
    grow(stack.store, events, items)
    loaded = time.perf_counter() - began
    with start_server(stack.emulator) as server:
        commands.send({"base_url": server.base_url, "site_path": tenant.site.path, "site_id": tenant.site.id,
                       "events_id": events.id, "loaded_seconds": loaded})  # fmt: skip
        while True:
            command, argument = commands.recv()
            if command == "stop":
                break
            if command == "change":  # the first `argument` items get a new value
                count, value = argument
                for item in stack.store.items(events)[:count]:
                    stack.store.update_item(events, item.id, {"field_7": value})
            elif command == "latency":
                plan.rules[:] = [FaultRule(latency_ms=argument)] if argument else []
            commands.send("done")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    commands.send({"peak_mb": usage.ru_maxrss / 1024, "cpu": usage.ru_utime + usage.ru_stime})


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def raw_child(url: str, results: Any) -> None:
    loads: Callable[[bytes], Any] = json.loads
    decoder = "json"
    try:
        import orjson

        loads, decoder = orjson.loads, "orjson"
    except ImportError:  # pragma: no cover - the bench says which it used
        pass
    items = pages = 0
    began, cpu = time.perf_counter(), _cpu()
    with requests.Session() as session:
        next_url: str | None = url
        while next_url:
            response = session.get(next_url, timeout=300)
            response.raise_for_status()
            body = loads(response.content)
            items += len(body["value"])
            pages += 1
            next_url = body.get("@odata.nextLink")
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put({"items": items, "pages": pages, "seconds": seconds, "cpu": _cpu() - cpu, "peak_mb": peak,
                 "decoder": decoder})  # fmt: skip


def sync_child(config: str, lists: list[str], full: bool, results: Any) -> None:
    import pyarrow as pa

    from config.loader import load
    from pipeline.progress import ListSyncing
    from pipeline.sync import sync

    settings = load(Path(config), {"CETK_PSEUDONYMISATION_KEY": KEY}, keyring=None).settings
    trace: list[tuple[int, float, float]] = []  # items read, RSS MB, Arrow bytes allocated MB, per page

    def on_progress(event: object) -> None:
        if isinstance(event, ListSyncing):
            trace.append((event.items, _rss_mb(), pa.total_allocated_bytes() / 2**20))

    began, cpu = time.perf_counter(), _cpu()
    if os.environ.get("CETK_BENCH_PROFILE"):  # where a child's time goes, on stderr
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            result = sync(settings, lists=lists, full=full, on_progress=on_progress)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
    else:
        result = sync(settings, lists=lists, full=full, on_progress=on_progress)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = result.report
    results.put({
        "seconds": seconds, "cpu": _cpu() - cpu, "peak_mb": peak, "exit_code": result.exit_code,
        "requests": report["counts"]["requests"], "status": report["status"], "trace": trace,
        "items": sum(entry.get("items_read", 0) for entry in report["lists"].values()),
    })  # fmt: skip


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: its RSS is its own
    results = context.Queue()
    child = context.Process(target=target, args=(*args, results))
    child.start()
    found: dict[str, Any] = results.get()
    child.join()
    return found


def show_raw(name: str, raw: dict[str, Any]) -> None:
    print(f"{name} ({raw['decoder']}): {raw['items']:,} items, {raw['pages']} pages, {raw['seconds']:.1f} s "
          f"(CPU {raw['cpu']:.1f} s), {raw['items'] / raw['seconds']:,.0f} items/s, "
          f"peak RSS {raw['peak_mb']:,.0f} MB, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


def show_sync(name: str, run: dict[str, Any]) -> None:
    print(f"{name}: {run['items']:,} items, {run['requests']} requests, {run['seconds']:.1f} s "
          f"(CPU {run['cpu']:.1f} s), {run['items'] / max(run['seconds'], 1e-9):,.0f} items/s, "
          f"peak RSS {run['peak_mb']:,.0f} MB, exit {run['exit_code']} ({run['status']}), "
          f"load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip


def show_trace(trace: list[tuple[int, float, float]]) -> None:
    """RSS at about every tenth of the list: flat when memory is bounded by the page, not the list."""
    if not trace:
        return
    step = max(1, len(trace) // 10)
    marks = [*trace[::step], trace[-1]] if (len(trace) - 1) % step else trace[::step]
    print("  RSS by items read: " + ", ".join(f"{items:,}: {rss:,.0f} MB (Arrow {arrow:,.0f})"
                                              for items, rss, arrow in marks), flush=True)  # fmt: skip


def main() -> None:
    from emulator.demo.list_mapping import DEMO_SITE_MAPPING
    from transforms.list_mapping import dump_mapping
    from transforms.normalise import selected_columns

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", flush=True)  # fmt: skip
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    emulator = context.Process(target=emulator_child, args=(args.items, theirs))
    emulator.start()

    def command(name: str, argument: Any = None) -> None:
        ours.send((name, argument))
        assert ours.recv() == "done"

    ready = ours.recv()
    base_url = ready["base_url"]
    print(
        f"emulator (own process) loaded {args.items:,} events in {ready['loaded_seconds']:.0f} s", flush=True
    )
    try:
        with tempfile.TemporaryDirectory(prefix="cetk-bench-sync-") as scratch:
            root = Path(scratch)
            (root / "mapping.yaml").write_text(dump_mapping(DEMO_SITE_MAPPING), encoding="utf-8")
            config = {
                "auth": {"mode": "none"},
                "endpoints": {"authority": f"{base_url}/login", "graph": f"{base_url}/graph",
                              "powerbi": f"{base_url}/powerbi"},
                "sharepoint": {"site_url": f"{base_url}/sharepoint{ready['site_path']}"},
                "paths": {"staging_dir": str(root / "staging"), "quarantine_dir": str(root / "quarantine"),
                          "state_dir": str(root / "state")},
            }  # fmt: skip
            config_file = str(root / "cetk.yaml")
            (root / "cetk.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
            select = ",".join(
                selected_columns(DEMO_SITE_MAPPING.list_mapping(EVENTS), DEMO_SITE_MAPPING.people)
            )
            url = (
                f"{base_url}/graph/v1.0/sites/{ready['site_id']}/lists/{ready['events_id']}/items/delta"
                f"?$expand=fields($select={select})&$top={PAGE_SIZE}"
            )
            lookups = in_child(sync_child, config_file, ["LPTs", "Officers"], False)
            print(f"lookup lists first: {lookups['items']} items, {lookups['seconds']:.1f} s", flush=True)
            show_raw(
                "warm-up raw loop (not counted: fills the emulator's page cache)", in_child(raw_child, url)
            )
            raw = in_child(raw_child, url)
            show_raw("raw", raw)
            full = in_child(sync_child, config_file, [EVENTS], True)
            show_sync("sync", full)
            show_trace(full["trace"])
            for csv_file in sorted(
                (root / "quarantine").glob("*.csv")
            ):  # the demo's rows should all be valid
                with csv_file.open(encoding="utf-8", newline="") as handle:
                    rules = Counter((line["column"], line["rule"]) for line in csv.DictReader(handle))
                if rules:
                    print(f"  quarantined in {csv_file.stem}: {dict(rules.most_common(3))}")
            raw_again = in_child(raw_child, url)
            show_raw("raw again", raw_again)
            raw_rate = (raw["items"] / raw["seconds"] + raw_again["items"] / raw_again["seconds"]) / 2
            ratio = (full["items"] / full["seconds"]) / raw_rate
            cpu_ratio = full["cpu"] / ((raw["cpu"] + raw_again["cpu"]) / 2)
            print(f"sync / mean raw items/s: {ratio:.0%} (target >= 90%); sync CPU / raw CPU: {cpu_ratio:.1f}x; "
                  f"sync peak RSS {full['peak_mb']:,.0f} MB (target <= 400 MB)", flush=True)  # fmt: skip
            for latency in (0, args.latency_ms):
                command("change", (args.changes, latency + 1))
                command("latency", latency)
                changed = in_child(sync_child, config_file, [EVENTS], False)
                show_sync(f"incremental, {args.changes:,} changed, latency {latency} ms", changed)
            command("latency", args.latency_ms)
            slow = in_child(sync_child, config_file, [EVENTS], True)
            show_sync(f"full read, latency {args.latency_ms} ms", slow)
            show_trace(slow["trace"])
    finally:
        ours.send(("stop", None))
        final = ours.recv()
        emulator.join()
    print(f"emulator process: peak RSS {final['peak_mb']:,.0f} MB, CPU {final['cpu']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
