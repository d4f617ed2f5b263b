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
  4. an incremental sync after --changes items changed (the list's first items);
  5. with --latency-ms (0: not run) an incremental and a full sync with that latency on every request.
Wall and CPU seconds (the child's own, `resource.getrusage`) are reported for each client, and the sync's
CPU per item beside the raw loop's: on a shared machine the CPU time is the figure to compare.
`--compare REV` also syncs with REV's packages (exported with `git archive`; its own staging and state),
interleaved with this tree's and alternating which goes first, `--rounds N` times; medians are reported.
`--phases` adds the CPU time of the sync's steps (per thread, `time.thread_time`; nested steps count in
both); `--profile FILE` writes cProfile stats of this tree's first full sync (FILE, and FILE.read-ahead
for the read-ahead thread, which cProfile does not follow).
Targets (issue 8): the sync at >= 90% of the raw loop's items/s; peak RSS of the sync <= 400 MB.

Run by hand: `.venv/bin/python -m bench.bench_sync [--items N] [--changes K] [--latency-ms 100]
[--compare main --rounds 2] [--phases] [--profile FILE]`.
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
import statistics
import subprocess
import sys
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


# (module, attribute) of the steps --phases times; a step inside another is counted in both
PHASES = (
    ("pipeline.sync_list", "normalise_page"),
    ("pipeline.sync_list", "split_page"),
    ("pipeline.sync_list", "_stage_page"),
    ("pipeline.sync_list", "commit_list"),
    ("pipeline.sync_keys", "RunKeys.page"),
    ("connectors.staging", "StagedTableWriter.add"),
    ("connectors.staging", "StagedTableWriter.drop"),
    ("connectors.staging", "StagedTableWriter.replace_items"),
    ("connectors.staging", "StagedTableWriter._spill"),
    ("connectors.staging", "StagedTableWriter.prepare"),
    ("connectors.staging", "StagedTableWriter._write"),
    ("connectors.quarantine", "Quarantine.prepare_quarantine"),
    ("connectors.sync_state", "SyncState.begin_commit"),
    ("connectors.sync_state", "SyncState.complete_commit"),
    ("pipeline.prefetch", "ReadAhead.__next__"),
    ("pipeline.prefetch", "ReadAhead._run"),
    ("connectors.graph_lists", "without_annotations"),
    ("connectors.graph_lists", "collapse_repeats"),
    ("connectors.graph_lists", "decode_json"),
    ("connectors.graph_lists", "read_page"),  # a page's body into Arrow (i8-wire), on the read-ahead thread
    ("connectors.paging", "send"),
)


def time_phases() -> dict[str, float]:
    """Wrap each of PHASES to add the CPU time of its thread (`time.thread_time`) spent in it."""
    import importlib

    spent: dict[str, float] = Counter()

    def timed(name: str, function: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - began

        return wrapper

    for module_name, attribute in PHASES:
        owner: Any = importlib.import_module(module_name)
        *path, last = attribute.split(".")
        for part in path:
            owner = getattr(owner, part)
        function = getattr(owner, last, None)
        if function is not None:
            setattr(owner, last, timed(attribute, function))
    return spent


def sync_child(
    config: str, lists: list[str], full: bool, root: str, profile: str, phases: bool, results: Any,
    batch_items: int | None = None,
) -> None:  # fmt: skip
    """One sync in this fresh process; `root`, when given, is a tree whose packages are imported instead
    (another revision, from `git archive`); `profile`, when given, is a file for its cProfile stats;
    `batch_items`, when given, the items a normalise call gathers at most (pipeline/sync_batch.py)."""
    if root:
        sys.path.insert(0, root)
        for finder in list(sys.meta_path):  # the editable install's finder maps the packages to this tree
            if "editable" in str(getattr(finder, "__module__", "")):
                sys.meta_path.remove(finder)
    import pyarrow as pa

    from config.loader import load
    from pipeline.progress import ListSyncing
    from pipeline.sync import sync

    if root:
        import pipeline

        assert str(Path(pipeline.__file__).resolve()).startswith(str(Path(root).resolve())), pipeline.__file__
    settings = load(Path(config), {"CETK_PSEUDONYMISATION_KEY": KEY}, keyring=None).settings
    spent = time_phases() if phases else {}
    trace: list[tuple[int, float, float]] = []  # items read, RSS MB, Arrow bytes allocated MB, per page

    def on_progress(event: object) -> None:
        if isinstance(event, ListSyncing):
            trace.append((event.items, _rss_mb(), pa.total_allocated_bytes() / 2**20))

    options = {} if batch_items is None else {"batch_items": batch_items}
    began, cpu = time.perf_counter(), _cpu()
    if profile:  # where a child's time goes: its stats to `profile` (read them with pstats)
        import cProfile

        from pipeline.prefetch import ReadAhead

        read_ahead = ReadAhead._run  # the read-ahead thread's time too, in a file of its own

        def profiled_run(self: Any) -> None:
            with cProfile.Profile() as thread_profiler:
                read_ahead(self)
            thread_profiler.dump_stats(f"{profile}.read-ahead")

        ReadAhead._run = profiled_run  # type: ignore[method-assign]
        with cProfile.Profile() as profiler:
            result = sync(settings, lists=lists, full=full, on_progress=on_progress, **options)
        profiler.dump_stats(profile)
    else:
        result = sync(settings, lists=lists, full=full, on_progress=on_progress, **options)
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report = result.report
    results.put({
        "seconds": seconds, "cpu": _cpu() - cpu, "peak_mb": peak, "exit_code": result.exit_code,
        "requests": report["counts"]["requests"], "status": report["status"], "trace": trace,
        "items": sum(entry.get("items_read", 0) for entry in report["lists"].values()),
        "phases": dict(spent),
    })  # fmt: skip


def in_child(target: Any, *args: Any, **options: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: its RSS is its own
    results = context.Queue()
    child = context.Process(target=target, args=(*args, results), kwargs=options)
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


def show_phases(run: dict[str, Any]) -> None:
    items = max(int(run["items"]), 1)
    for name, seconds in sorted(run.get("phases", {}).items(), key=lambda entry: -entry[1]):
        print(f"    {name}: {seconds:.2f} s CPU, {seconds / items * 1e6:.1f} µs/item", flush=True)


def show_trace(trace: list[tuple[int, float, float]]) -> None:
    """RSS at about every tenth of the list: flat when memory is bounded by the page, not the list."""
    if not trace:
        return
    step = max(1, len(trace) // 10)
    marks = [*trace[::step], trace[-1]] if (len(trace) - 1) % step else trace[::step]
    print("  RSS by items read: " + ", ".join(f"{items:,}: {rss:,.0f} MB (Arrow {arrow:,.0f})"
                                              for items, rss, arrow in marks), flush=True)  # fmt: skip


def export_tree(revision: str, into: Path) -> Path:
    """`revision`'s files (git archive) in a folder of their own: the "before" side of --compare."""
    tree = into / "compare"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def write_config(folder: Path, base_url: str, ready: dict[str, Any]) -> str:
    """A config of its own per side: its own staging, quarantine and state."""
    folder.mkdir(parents=True, exist_ok=True)
    from emulator.demo.list_mapping import DEMO_SITE_MAPPING
    from transforms.list_mapping import dump_mapping

    (folder / "mapping.yaml").write_text(dump_mapping(DEMO_SITE_MAPPING), encoding="utf-8")
    config = {
        "auth": {"mode": "none"},
        "endpoints": {"authority": f"{base_url}/login", "graph": f"{base_url}/graph",
                      "powerbi": f"{base_url}/powerbi"},
        "sharepoint": {"site_url": f"{base_url}/sharepoint{ready['site_path']}"},
        "paths": {"staging_dir": str(folder / "staging"), "quarantine_dir": str(folder / "quarantine"),
                  "state_dir": str(folder / "state")},
    }  # fmt: skip
    (folder / "cetk.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return str(folder / "cetk.yaml")


def per_item_us(run: dict[str, Any]) -> float:
    return float(run["cpu"]) / max(int(run["items"]), 1) * 1e6


def show_quarantine(folder: Path) -> None:
    for csv_file in sorted((folder / "quarantine").glob("*.csv")):  # the demo's rows should all be valid
        with csv_file.open(encoding="utf-8", newline="") as handle:
            rules = Counter((line["column"], line["rule"]) for line in csv.DictReader(handle))
        if rules:
            print(f"  quarantined in {csv_file.stem}: {dict(rules.most_common(3))}")


def main() -> None:
    from emulator.demo.list_mapping import DEMO_SITE_MAPPING
    from transforms.normalise import selected_columns

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--latency-ms", type=int, default=100, help="0: no runs with latency")
    parser.add_argument("--compare", metavar="REV", help="also time REV's sync (git archive), side by side")
    parser.add_argument("--rounds", type=int, default=1, help="full and incremental syncs per side")
    parser.add_argument("--phases", action="store_true", help="CPU time of the sync's steps (both sides)")
    parser.add_argument("--profile", metavar="FILE", help="cProfile stats of this tree's first full sync")
    parser.add_argument(
        "--batch-items",
        type=int,
        nargs="+",
        help="this tree's sync once per value, side by side, with that many items a normalise call at most "
        "(default: the sync's own, pipeline.sync_batch.BATCH_ITEMS)",
    )
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
            batches = args.batch_items or [None]
            sides: list[tuple[str, str, str]] = [
                (
                    "this tree" if size is None else f"this tree, {size:,} items a call",
                    "",
                    write_config(root / ("this" if index == 0 else f"this-{size}"), base_url, ready),
                )
                for index, size in enumerate(batches)
            ]
            batch_of = {name: size for (name, _, _), size in zip(sides, batches, strict=True)}
            if args.compare:
                tree = export_tree(args.compare, root)
                sides.append((args.compare, str(tree), write_config(root / "compare", base_url, ready)))
            select = ",".join(
                selected_columns(DEMO_SITE_MAPPING.list_mapping(EVENTS), DEMO_SITE_MAPPING.people)
            )
            url = (
                f"{base_url}/graph/v1.0/sites/{ready['site_id']}/lists/{ready['events_id']}/items/delta"
                f"?$expand=fields($select={select})&$top={PAGE_SIZE}"
            )
            for name, tree_root, config_file in sides:
                lookups = in_child(sync_child, config_file, ["LPTs", "Officers"], False, tree_root, "", False)
                print(f"lookup lists first ({name}): {lookups['items']} items, {lookups['seconds']:.1f} s",
                      flush=True)  # fmt: skip
            show_raw(
                "warm-up raw loop (not counted: fills the emulator's page cache)", in_child(raw_child, url)
            )
            raws: list[dict[str, Any]] = []
            fulls: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in sides}
            changes: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in sides}
            profile = args.profile or ""
            for round_number in range(args.rounds):
                raws.append(in_child(raw_child, url))
                show_raw(f"round {round_number + 1}: raw", raws[-1])
                order = sides if round_number % 2 == 0 else sides[::-1]  # alternate who goes first
                for name, tree_root, config_file in order:
                    wanted = profile if not tree_root else ""
                    full = in_child(sync_child, config_file, [EVENTS], True, tree_root, wanted, args.phases,
                                    batch_items=batch_of.get(name))  # fmt: skip
                    profile = "" if wanted else profile
                    fulls[name].append(full)
                    show_sync(
                        f"round {round_number + 1}: sync ({name}), {per_item_us(full):.0f} µs CPU/item", full
                    )
                    show_trace(full["trace"])
                    show_phases(full)
                raws.append(in_child(raw_child, url))
                show_raw(f"round {round_number + 1}: raw again", raws[-1])
            show_quarantine(root / "this")
            raw_rate = statistics.median(raw["items"] / raw["seconds"] for raw in raws)
            raw_us = statistics.median(per_item_us(raw) for raw in raws)
            for name, _, _ in sides:
                rate = statistics.median(run["items"] / run["seconds"] for run in fulls[name])
                us = statistics.median(per_item_us(run) for run in fulls[name])
                peak = max(run["peak_mb"] for run in fulls[name])
                print(f"{name}: sync / median raw items/s: {rate / raw_rate:.0%} (target >= 90%); CPU per item "
                      f"{us:.0f} µs against the raw loop's {raw_us:.0f} µs ({us / raw_us:.1f}x); "
                      f"peak RSS {peak:,.0f} MB (target <= 400 MB)", flush=True)  # fmt: skip
            for round_number in range(args.rounds):
                command("change", (args.changes, round_number + 2))
                order = sides if round_number % 2 == 0 else sides[::-1]
                for name, tree_root, config_file in order:
                    changed = in_child(sync_child, config_file, [EVENTS], False, tree_root, "", args.phases,
                                       batch_items=batch_of.get(name))  # fmt: skip
                    changes[name].append(changed)
                    show_sync(f"incremental, {args.changes:,} changed ({name})", changed)
                    show_phases(changed)
            for name, _, _ in sides:
                cpu = statistics.median(run["cpu"] for run in changes[name])
                print(f"{name}: incremental of {args.changes:,} changes: median CPU {cpu:.1f} s", flush=True)
            if args.latency_ms:
                this_config = sides[0][2]
                command("change", (args.changes, args.rounds + 2))
                command("latency", args.latency_ms)
                changed = in_child(sync_child, this_config, [EVENTS], False, "", "", False)
                show_sync(f"incremental, {args.changes:,} changed, latency {args.latency_ms} ms", changed)
                slow = in_child(sync_child, this_config, [EVENTS], True, "", "", False)
                show_sync(f"full read, latency {args.latency_ms} ms", slow)
                show_trace(slow["trace"])
    finally:
        ours.send(("stop", None))
        final = ours.recv()
        emulator.join()
    print(f"emulator process: peak RSS {final['peak_mb']:,.0f} MB, CPU {final['cpu']:.0f} s", flush=True)


if __name__ == "__main__":
    main()
