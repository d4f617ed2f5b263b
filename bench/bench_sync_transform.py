"""Benchmark the sync's transform stage on recorded Graph pages: decode, normalise, validate, write Parquet.

Run by hand: `.venv/bin/python -m bench.bench_sync_transform [--events N] [--ccrs N] [--repeat K]`; record
the figures in docs/performance.md (## Sync transform stage). Target 150,000 items/s, floor 50,000.

Recording (once, not timed): the demo force is seeded into the emulator, served over loopback, and every
list is paged with `$expand=fields&$top=5000` through `connectors.http.iter_pages`; each page's body is
kept as the bytes Graph sent, in a temporary directory. Timed: for each decoder (the standard library's
json and orjson, side by side in the same process), every list in mapping order is read back page by
page: bytes decoded, items normalised (transforms.normalise), each table validated (transforms.validate)
and written as a Parquet row group (pyarrow). Lookup keys and staff numbers come from the lists read
before, as a sync does.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from emulator.demo.force import generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import seed_lists
from emulator.testing import EmulatorOptions, ManualClock, running_emulator
from powerbi_dataset.model import DATASET
from transforms import minimise
from transforms.normalise import NormaliseContext, normalise_page, people_staff_numbers, selected_columns
from transforms.validate import validate

KEY = b"bench-pseudonymisation-key-32-by"
PAGE_SIZE = 5000
# Item properties the normaliser reads (a connector asks for these and `fields` only; contract §2).
ITEM_PROPERTIES = "id,eTag,createdDateTime,lastModifiedDateTime"
Loads = Callable[[bytes], Any]
# CPU time of this process: on a shared 2-core machine wall time mostly measures the neighbours.
CLOCK = time.process_time


def record(directory: Path, events: int, ccrs: int) -> dict[str, Any]:
    """Serve the demo force and keep every page's body; returns the manifest (list ids, page files)."""
    force = generate_force(events=events, ccrs=ccrs)
    manifest: dict[str, Any] = {"lists": {}}
    clock = ManualClock(force.as_of)
    with running_emulator(clock=clock, options=EmulatorOptions(require_auth=False)) as emu:
        tenant = seed_lists(emu.stack.store, force)
        session = requests.Session()
        for index, one in enumerate(DEMO_SITE_MAPPING.lists):
            sp_list = tenant.lists[one.display_name]
            url: str | None = emu.url("graph", f"/v1.0/sites/{tenant.site.id}/lists/{sp_list.id}/items")
            select = ",".join(selected_columns(one, DEMO_SITE_MAPPING.people))
            url = f"{url}?$select={ITEM_PROPERTIES}&$expand=fields($select={select})&$top={PAGE_SIZE}"
            pages = []
            while url:
                response = session.get(url, timeout=120)
                response.raise_for_status()
                path = directory / f"list{index}-page{len(pages):04d}.json"
                path.write_bytes(response.content)
                pages.append(path.name)
                url = json.loads(response.content).get("@odata.nextLink")
            manifest["lists"][one.display_name] = {
                "id": sp_list.id,
                "pages": pages,
                "items": sp_list.live_count,
            }
    manifest["as_of"] = force.as_of.isoformat()
    return manifest


@dataclass
class Timing:
    items: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("read", "decode", "normalise", "validate", "write"), 0.0)
    )
    per_list: dict[str, tuple[int, float]] = field(default_factory=dict)
    problems: int = 0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def transform(
    directory: Path, manifest: dict[str, Any], loads: Loads, out: Path, per_page: bool, pages_per_call: int
) -> Timing:
    """One pass over the recorded lists, `pages_per_call` Graph pages to each normalise_page call (the
    sync streams: a call never holds more than those pages). Validation runs on each list's candidate
    tables once they are staged (contract §3), or with `per_page` on every call's tables as they come."""
    timing = Timing()
    lookup_keys: dict[str, dict[str, str]] = {}
    staff: dict[str, str] = {}
    as_of = datetime.fromisoformat(manifest["as_of"])
    writers: dict[str, pq.ParquetWriter] = {}
    people = DEMO_SITE_MAPPING.people
    assert people is not None
    for one in DEMO_SITE_MAPPING.lists:
        info = manifest["lists"][one.display_name]
        list_start = CLOCK()
        list_items = 0
        keys: dict[str, str] = {}
        staged: dict[str, list[pa.Table]] = {}
        context = NormaliseContext(info["id"], KEY, lookup_keys, staff)
        batches = [
            info["pages"][i : i + pages_per_call] for i in range(0, len(info["pages"]), pages_per_call)
        ]
        for batch in batches:
            items = []
            for name in batch:
                clock = CLOCK()
                data = (directory / name).read_bytes()
                timing.seconds["read"] += (now := CLOCK()) - clock
                items.extend(loads(data)["value"])
                timing.seconds["decode"] += CLOCK() - now
            clock = CLOCK()
            if one.display_name == people.list:
                staff.update(people_staff_numbers(items, people))
                context = NormaliseContext(info["id"], KEY, lookup_keys, staff)
            page = normalise_page(items, one, context)
            keys.update(page.item_keys)
            timing.seconds["normalise"] += (now := CLOCK()) - clock
            for table_name, table in page.tables.items() if per_page else ():
                timing.problems += len(validate(table, DATASET.table(table_name), as_of=as_of).problems)
            timing.seconds["validate"] += (clock := CLOCK()) - now
            for table_name, table in page.tables.items():
                writer = writers.get(table_name)
                if writer is None:
                    writer = writers[table_name] = pq.ParquetWriter(
                        out / f"{table_name}.parquet", table.schema
                    )
                writer.write_table(table)
                staged.setdefault(table_name, []).append(table)
            timing.seconds["write"] += CLOCK() - clock
            timing.problems += len(page.problems.problems)
            list_items += len(items)
        clock = CLOCK()
        for table_name, tables in staged.items() if not per_page else ():
            candidate = pa.concat_tables(tables)
            timing.problems += len(validate(candidate, DATASET.table(table_name), as_of=as_of).problems)
        timing.seconds["validate"] += CLOCK() - clock
        lookup_keys[one.display_name] = keys
        timing.per_list[one.display_name] = (list_items, CLOCK() - list_start)
        timing.items += list_items
    for writer in writers.values():
        writer.close()
    return timing


def paused_collector(loads: Loads) -> Loads:
    """`loads` with Python's cyclic garbage collector paused: a decoded JSON tree holds no cycles, yet its
    many new containers trigger collections that walk every object still alive."""

    def decode(data: bytes) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return loads(data)
        finally:
            if enabled:
                gc.enable()

    return decode


def decoders() -> dict[str, Loads]:
    found: dict[str, Loads] = {"json": json.loads, "json, collector paused": paused_collector(json.loads)}
    try:
        import orjson

        found["orjson"] = orjson.loads
        found["orjson, collector paused"] = paused_collector(orjson.loads)
    except ImportError:  # the bench says so instead of failing
        print("orjson is not installed: only the standard library's json is measured")
    return found


def reference_seconds() -> float:
    """CPU seconds of a fixed pure-Python loop, to compare machines and moments."""
    start = CLOCK()
    sum(range(10_000_000))
    return CLOCK() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--ccrs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pages-per-call", type=int, default=1, help="Graph pages per normalise_page call")
    parser.add_argument(
        "--validate",
        choices=("list", "page"),
        default="list",
        help="validate each list's staged tables once (default) or every page",
    )
    parser.add_argument(
        "--keep", type=Path, help="record into (or replay from) this directory instead of a temporary one"
    )
    arguments = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}, pyarrow {pa.__version__}"
    )
    keep = arguments.keep
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.nullcontext(str(keep))
        if keep
        else tempfile.TemporaryDirectory(prefix="cetk-bench-") as temporary
    ):
        directory = Path(temporary)
        saved = directory / "manifest.json"
        started = time.perf_counter()
        if saved.exists():
            manifest = json.loads(saved.read_text())
        else:
            manifest = record(directory, arguments.events, arguments.ccrs)
            saved.write_text(json.dumps(manifest))
        size = sum(path.stat().st_size for path in directory.glob("list*.json"))
        items = sum(info["items"] for info in manifest["lists"].values())
        print(f"recorded {items:,} items in {sum(len(i['pages']) for i in manifest['lists'].values())} pages, "
              f"{size / 1e6:.1f} MB, in {time.perf_counter() - started:.1f} s (wall)")  # fmt: skip
        results: dict[str, list[Timing]] = {name: [] for name in decoders()}
        for _round in range(arguments.repeat):
            for name, loads in decoders().items():
                minimise.clear_memo()  # each round scrubs as a first run would
                out = directory / f"out-{name.split(',')[0]}"
                out.mkdir(exist_ok=True)
                results[name].append(
                    transform(
                        directory,
                        manifest,
                        loads,
                        out,
                        arguments.validate == "page",
                        arguments.pages_per_call,
                    )
                )
        for name, timings in results.items():
            best = min(timings, key=lambda timing: timing.total)
            median = statistics.median(timing.total for timing in timings)
            phases = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in best.seconds.items())
            print(f"\n{name}: {best.items:,} items; best {best.total:.2f} s ({best.items / best.total:,.0f} items/s), "
                  f"median {median:.2f} s ({best.items / median:,.0f} items/s); problems {best.problems:,}")  # fmt: skip
            print(f"  best run by phase: {phases}")
            for list_name, (count, seconds) in best.per_list.items():
                print(
                    f"  {list_name:<28} {count:>8,} items {seconds:7.2f} s {count / seconds:>10,.0f} items/s"
                )
    print(f"\nreference: sum(range(10_000_000)) took {reference_seconds():.2f} s of CPU")
    print(
        f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB (recording included)"
    )


if __name__ == "__main__":
    main()
