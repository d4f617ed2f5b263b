"""`cetk sync` of a large events list from the emulator over loopback, against a raw paging loop on the same
emulator in the same run; then the same sync with 100 ms of latency on every request.

The emulator (the demo force's site, its events list grown to --items by repeating the demo's events) runs
in this process; each client runs in a fresh (spawned) process, so its peak RSS is its own:
  1. raw:  requests + orjson (json when orjson is missing), following @odata.nextLink over the same
           `.../items?$expand=fields($select=<the mapped columns>)&$top=5000`; no processing at all.
  2. sync: `pipeline.sync(settings, lists=["Engagement Events"], full=True)` (sign-in none, loopback): read,
           normalise, minimise, validate, stage Parquet, quarantine, commit; after a first sync of the
           lookup lists (LPTs, Officers) so the events' lookups resolve.
  3. an incremental sync after --changes items changed, with no latency and with 100 ms of latency.
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
from pathlib import Path
from typing import Any

import requests
import yaml

from emulator.build import EmulatorOptions, build_emulator
from emulator.core.clock import SystemClock
from emulator.core.server import start_server
from emulator.demo.force import generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import seed_lists
from emulator.testing import FaultPlan, FaultRule
from transforms.list_mapping import dump_mapping
from transforms.normalise import selected_columns

EVENTS = "Engagement Events"
KEY = "bench-key-" * 4  # a fixed, fake key: the bench needs one, never a real one


def grow(store: Any, events: Any, count: int) -> None:
    """Repeat the demo's events (their field values as stored) until the list holds `count` items."""
    template = [(item.fields, item.author) for item in store.items(events)]
    for number in range(count - len(template)):
        fields, author = template[number % len(template)]
        store.add_item(events, fields, author=author)  # Created By: an officer, as the app records it


def raw_child(url: str, results: Any) -> None:
    try:
        import orjson

        loads, decoder = orjson.loads, "orjson"
    except ImportError:  # pragma: no cover - the bench says which it used
        loads, decoder = json.loads, "json"
    items = pages = 0
    began = time.perf_counter()
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
    results.put({"items": items, "pages": pages, "seconds": seconds, "peak_mb": peak, "decoder": decoder})


def sync_child(config: str, lists: list[str], full: bool, results: Any) -> None:
    from config.loader import load
    from pipeline.sync import sync

    settings = load(Path(config), {"CETK_PSEUDONYMISATION_KEY": KEY}, keyring=None).settings
    began = time.perf_counter()
    if os.environ.get("CETK_BENCH_PROFILE"):  # where a child's time goes, on stderr
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            result = sync(settings, lists=lists, full=full)
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    else:
        result = sync(settings, lists=lists, full=full)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = result.report
    results.put({
        "seconds": seconds, "peak_mb": peak, "exit_code": result.exit_code, "requests": report["counts"]["requests"],
        "items": sum(entry.get("items_read", 0) for entry in report["lists"].values()), "status": report["status"],
    })  # fmt: skip


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: its RSS is its own
    results = context.Queue()
    child = context.Process(target=target, args=(*args, results))
    child.start()
    found: dict[str, Any] = results.get()
    child.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=int, default=100)
    args = parser.parse_args()
    plan = FaultPlan()
    stack = build_emulator(clock=SystemClock(), faults=plan, options=EmulatorOptions(require_auth=False))
    began = time.perf_counter()
    now = dt.datetime.now(dt.UTC)  # the force's "today", so its rules about the future hold on this clock
    force = generate_force(seed=7, events=500, ccrs=10, officers=200, invalid_fraction=0, as_of=now)
    tenant = seed_lists(stack.store, force)
    events = tenant.lists[EVENTS]
    grow(stack.store, events, args.items)
    print(
        f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"
    )
    print(f"loaded {args.items:,} events in {time.perf_counter() - began:.0f} s")
    with (
        tempfile.TemporaryDirectory(prefix="cetk-bench-sync-") as scratch,
        start_server(stack.emulator) as server,
    ):
        root = Path(scratch)
        (root / "mapping.yaml").write_text(dump_mapping(DEMO_SITE_MAPPING), encoding="utf-8")
        config = {
            "auth": {"mode": "none"},
            "endpoints": {"authority": f"{server.base_url}/login", "graph": f"{server.base_url}/graph",
                          "powerbi": f"{server.base_url}/powerbi"},
            "sharepoint": {"site_url": f"{server.base_url}/sharepoint{tenant.site.path}"},
            "paths": {"staging_dir": str(root / "staging"), "quarantine_dir": str(root / "quarantine"),
                      "state_dir": str(root / "state")},
        }  # fmt: skip
        (root / "cetk.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        select = ",".join(selected_columns(DEMO_SITE_MAPPING.list_mapping(EVENTS), DEMO_SITE_MAPPING.people))
        url = (
            f"{server.base_url}/graph/v1.0/sites/{tenant.site.id}/lists/{events.id}/items"
            f"?$expand=fields($select={select})&$top=5000"
        )
        lookups = in_child(sync_child, str(root / "cetk.yaml"), ["LPTs", "Officers"], False)
        print(f"lookup lists first: {lookups['items']} items, {lookups['seconds']:.1f} s")
        raw = in_child(raw_child, url)
        print(f"raw ({raw['decoder']}): {raw['items']:,} items, {raw['pages']} pages, {raw['seconds']:.1f} s, "
              f"{raw['items'] / raw['seconds']:,.0f} items/s, peak RSS {raw['peak_mb']:,.0f} MB")  # fmt: skip
        full = in_child(sync_child, str(root / "cetk.yaml"), [EVENTS], True)
        print(f"sync: {full['items']:,} items, {full['requests']} requests, {full['seconds']:.1f} s, "
              f"{full['items'] / full['seconds']:,.0f} items/s, peak RSS {full['peak_mb']:,.0f} MB, "
              f"exit {full['exit_code']} ({full['status']})")  # fmt: skip
        for csv_file in sorted((root / "quarantine").glob("*.csv")):  # the demo's rows should all be valid
            with csv_file.open(encoding="utf-8", newline="") as handle:
                rules = Counter((line["column"], line["rule"]) for line in csv.DictReader(handle))
            print(f"  quarantined in {csv_file.stem}: {dict(rules.most_common(3))}")
        raw_again = in_child(raw_child, url)
        ratio = (full["items"] / full["seconds"]) / (raw["items"] / raw["seconds"])
        ratio_again = (full["items"] / full["seconds"]) / (raw_again["items"] / raw_again["seconds"])
        print(f"raw again: {raw_again['seconds']:.1f} s; sync / raw items/s: {ratio:.0%} (against the second raw "
              f"run: {ratio_again:.0%}); target >= 90%; peak RSS target <= 400 MB")  # fmt: skip
        ids = [item.id for item in stack.store.items(events)[: args.changes]]
        for latency in (0, args.latency_ms):
            for item_id in ids:
                stack.store.update_item(events, item_id, {"field_7": latency + 1})
            plan.rules[:] = [FaultRule(latency_ms=latency)] if latency else []
            changed = in_child(sync_child, str(root / "cetk.yaml"), [EVENTS], False)
            print(f"incremental, {args.changes:,} changed, latency {latency} ms: {changed['items']:,} items, "
                  f"{changed['requests']} requests, {changed['seconds']:.2f} s")  # fmt: skip
        plan.rules[:] = [FaultRule(latency_ms=args.latency_ms)]
        slow = in_child(sync_child, str(root / "cetk.yaml"), [EVENTS], True)
        print(f"full read, latency {args.latency_ms} ms: {slow['items']:,} items, {slow['requests']} requests, "
              f"{slow['seconds']:.1f} s")  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"emulator process peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
