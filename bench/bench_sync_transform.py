"""Benchmark the sync's transform stage on recorded Graph pages: decode, normalise, validate, write Parquet.

Run by hand: `.venv/bin/python -m bench.bench_sync_transform [--events N] [--ccrs N] [--repeat K]
[--compare REV] [--decoders ...] [--keep DIR] [--calls sync 1 ...] [--validate page|list]`; record the
figures in docs/performance.md (## Sync transform stage). Target 150,000 items/s, floor 50,000.

By default it measures the sync's own configuration: pages decoded into Arrow gathered for each normalise
call as the sync gathers them (pipeline.sync_batch.PageBatches, up to BATCH_ITEMS items; `--calls 1` is a
page a call, as the sync did before; several `--calls` are each measured in every round, side by side),
and every call's tables validated and parted as the sync parts them (pipeline.sync_checks.split_page;
`--validate list` validates each list's staged tables once instead, as the figures before 2026-12-01 did).

Recording (once, not timed): the demo force is seeded into the emulator, served over loopback, and every
list is paged with `$expand=fields&$top=5000` (requests, following `@odata.nextLink`); each page's body is
kept as the bytes Graph sent, in a temporary directory (or `--keep DIR`, reused when it holds a manifest).
Timed, in a child process per replay (so its peak RSS is its own and excludes the recording): for each
decoder (the standard library's json and orjson, plain, with the cyclic collector paused during the
decode, paused for the whole call from decode to Parquet write, or, as the sync does, orjson with its json
fallback and the collector paused for each whole list; or, since i8-decode, page bytes decoded straight
into Arrow by connectors.graph_arrow, the collector paused per list), every list in mapping order is read
back page by page: bytes decoded, items normalised (transforms.normalise), each table validated
(transforms.validate), written as a Parquet row group with the staged files' writer options (zstd;
connectors.staging; since 2026-12-01, pyarrow's defaults before) and dropped (freeing is timed too).
Lookup keys and staff numbers come from the lists read before, as a sync does. `--compare REV` replays
REV's `transforms` package (exported with git archive, first on PYTHONPATH) in the same rounds,
alternating which side goes first, so before and after are measured side by side on the same machine at
the same moment (this checkout's `connectors` and `pipeline` serve both sides).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import requests

from connectors.staging import writer_options
from emulator.demo.force import generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import seed_lists
from emulator.testing import EmulatorOptions, ManualClock, running_emulator
from pipeline.sync_batch import BATCH_ITEMS, PageBatches
from pipeline.sync_checks import split_page
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
        default_factory=lambda: dict.fromkeys(
            ("read", "decode", "normalise", "validate", "write", "free"), 0.0
        )
    )
    per_list: dict[str, tuple[int, float]] = field(default_factory=dict)
    problems: int = 0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def transform(
    directory: Path,
    manifest: dict[str, Any],
    loads: Loads,
    out: Path,
    per_page: bool,
    pages_per_call: int | None,
    pause_per_call: bool = False,
    pause_per_list: bool = False,
    items_per_call: int = BATCH_ITEMS,
) -> Timing:
    """One pass over the recorded lists. Pages decoded into Arrow are gathered for each normalise_page
    call as the sync gathers them (pipeline.sync_batch.PageBatches, up to `items_per_call` items), or
    `pages_per_call` pages at a time when given (always for the dict decoders: 1 when not given). With
    `per_page`, each call's tables are validated and parted as the sync parts them
    (pipeline.sync_checks.split_page); else each list's staged candidate tables are validated once."""
    timing = Timing()
    into_arrow = isinstance(loads, IntoArrow)
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
        if pause_per_list:  # as the sync does (pipeline.sync_list.collector_paused)
            gc.disable()
        calls = _calls(directory, info["pages"], loads, loads.schema(one) if into_arrow else None, timing,
                       pages_per_call, items_per_call, pause_per_call)  # fmt: skip
        for items in calls:
            clock = CLOCK()
            if one.display_name == people.list:
                staff.update(people_staff_numbers(items, people))
                context = NormaliseContext(info["id"], KEY, lookup_keys, staff)
            page = normalise_page(items, one, context)
            keys.update(page.item_keys)
            timing.seconds["normalise"] += (now := CLOCK()) - clock
            if per_page:
                splits = split_page(page.tables, DATASET.table(one.table), page.problems.problems,
                                    dataset=DATASET, as_of=as_of)  # fmt: skip
                timing.problems += sum(len(split.problems) for split in splits.values())
            timing.seconds["validate"] += (clock := CLOCK()) - now
            for table_name, table in page.tables.items():
                writer = writers.get(table_name)
                if writer is None:
                    # the staged files' writer options (the sync's sorted spills and their merge are
                    # measured by bench_staging)
                    options = writer_options(DATASET.table(table_name))
                    writer = writers[table_name] = pq.ParquetWriter(
                        out / f"{table_name}.parquet", table.schema, **options
                    )
                writer.write_table(table)
                staged.setdefault(table_name, []).append(table)
            timing.seconds["write"] += CLOCK() - clock
            timing.problems += len(page.problems.problems)
            list_items += _count(items) if into_arrow else len(items)
            clock = CLOCK()
            del items, page  # freeing the decoded pages is part of the stage's cost
            timing.seconds["free"] += CLOCK() - clock
            if pause_per_call:
                gc.enable()
        clock = CLOCK()
        for table_name, tables in staged.items() if not per_page else ():
            candidate = pa.concat_tables(tables)
            timing.problems += len(validate(candidate, DATASET.table(table_name), as_of=as_of).problems)
        timing.seconds["validate"] += CLOCK() - clock
        if pause_per_list:
            gc.enable()
        lookup_keys[one.display_name] = keys
        timing.per_list[one.display_name] = (list_items, CLOCK() - list_start)
        timing.items += list_items
    for writer in writers.values():
        writer.close()
    return timing


def _calls(
    directory: Path,
    names: list[str],
    loads: Loads,
    schema: pa.Schema | None,
    timing: Timing,
    pages_per_call: int | None,
    items_per_call: int,
    pause_per_call: bool,
) -> Iterator[Any]:
    """Each normalise call's items: pages read and decoded (timed), then gathered."""
    if isinstance(loads, IntoArrow) and pages_per_call is None:  # as the sync gathers them
        batches = PageBatches(items_per_call)
        for name in names:
            for batch in batches.add(_decode(directory / name, loads, schema, timing)):
                yield batch.content
        for batch in batches.flush():
            yield batch.content
        return
    step = pages_per_call or 1
    for start in range(0, len(names), step):
        if pause_per_call:  # from the decode until the call's items are dropped (see PER_CALL)
            gc.disable()
        decoded = [_decode(directory / name, loads, schema, timing) for name in names[start : start + step]]
        if isinstance(loads, IntoArrow):
            yield loads.combine(decoded) if len(decoded) > 1 else decoded[0]
        else:
            yield [item for body in decoded for item in body["value"]]


def _decode(path: Path, loads: Loads, schema: pa.Schema | None, timing: Timing) -> Any:
    clock = CLOCK()
    data = path.read_bytes()
    timing.seconds["read"] += (now := CLOCK()) - clock
    decoded = loads.decode(data, schema) if isinstance(loads, IntoArrow) else loads(data)
    timing.seconds["decode"] += CLOCK() - now
    return decoded


def _count(items: Any) -> int:
    """How many items decoded pages hold (Arrow, or dicts where the Arrow path declined a page)."""
    return sum(map(len, items.pages)) if items.pages is not None else len(items.as_dicts())


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


class IntoArrow:
    """The decoder of branch i8-decode: page bytes straight into Arrow (connectors.graph_arrow), the sync's
    decoder (orjson, json fallback) for a page the Arrow path declines; normalise_page takes the pages."""

    def __init__(self) -> None:
        import transforms.normalise

        if not hasattr(transforms.normalise, "ArrowItems"):  # transforms that read dicts only (--compare)
            raise ImportError("normalise_page does not read Arrow pages")
        from connectors.graph_arrow import decode_items
        from transforms.page_read import combine, page_schema

        self.decode, self.combine, self.schema = decode_items, combine, page_schema


SYNC_CALLS = "sync"  # --calls: pages gathered for a call as the sync gathers them


def calls_option(value: str) -> str:
    if value != SYNC_CALLS and not (value.isdigit() and int(value) > 0):
        raise argparse.ArgumentTypeError(f"'{SYNC_CALLS}' or a number of pages, not {value!r}")
    return value


PER_CALL = "collector paused per call"
PER_LIST = "collector paused per list"
SYNC = f"orjson with json fallback, {PER_LIST} (the sync)"
ARROW = f"pages into Arrow, orjson fallback, {PER_LIST}"
DECODERS = (
    "json",
    "json, collector paused",
    "orjson",
    "orjson, collector paused",
    f"json, {PER_CALL}",
    f"orjson, {PER_CALL}",
    SYNC,
    ARROW,
)


def decoders() -> dict[str, Loads]:
    found: dict[str, Loads] = {"json": json.loads, "json, collector paused": paused_collector(json.loads)}
    found[f"json, {PER_CALL}"] = json.loads
    try:
        import orjson

        found["orjson"] = orjson.loads
        found["orjson, collector paused"] = paused_collector(orjson.loads)
        found[f"orjson, {PER_CALL}"] = orjson.loads
        from connectors.graph_lists import decode_json

        found[SYNC] = decode_json
    except ImportError:  # the bench says so instead of failing
        print("orjson is not installed: only the standard library's json is measured", file=sys.stderr)
    # transforms of a revision before i8-decode (--compare) cannot read Arrow pages: not measured there
    with contextlib.suppress(ImportError):
        found[ARROW] = IntoArrow()  # type: ignore[assignment]
    return found


def reference_seconds() -> float:
    """CPU seconds of a fixed pure-Python loop, to compare machines and moments."""
    start = CLOCK()
    sum(range(10_000_000))
    return CLOCK() - start


def replay(
    directory: Path, names: list[str], per_page: bool, pages_per_call: int | None, items_per_call: int
) -> dict[str, Any]:
    """One pass per decoder over the recorded pages, in this process; figures as JSON-ready data."""
    manifest = json.loads((directory / "manifest.json").read_text())
    found = decoders()
    passes = {}
    for name in [name for name in names if name in found]:
        minimise.clear_memo()  # each pass scrubs as a first run would
        out = directory / f"out-{os.getpid()}-{name.split(',')[0]}"
        out.mkdir(exist_ok=True)
        timing = transform(
            directory,
            manifest,
            found[name],
            out,
            per_page,
            pages_per_call,
            PER_CALL in name,
            PER_LIST in name,
            items_per_call,
        )
        shutil.rmtree(out)
        passes[name] = {"items": timing.items, "seconds": timing.seconds, "problems": timing.problems,
                        "per_list": timing.per_list}  # fmt: skip
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "passes": passes,
        "peak_mib": peak,
        "reference": reference_seconds(),
        "transforms": transforms_from(),
    }


def transforms_from() -> str:
    import transforms

    return str(Path(transforms.__file__).parent)


def run_side(
    directory: Path, side: str, calls: str, arguments: argparse.Namespace, before: Path | None
) -> dict[str, Any]:
    """One replay in a child process (its own peak RSS, no recording in it), its pages gathered for each
    normalise call as `calls` says ("sync", or a number of pages). The `before` side runs the transforms
    package exported from git (`--compare REV`) ahead of this checkout on PYTHONPATH, from a working
    directory outside the checkout so that nothing else shadows it."""
    here = Path(__file__).resolve().parent.parent
    path = [str(before)] if side == "before" and before is not None else []
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join([*path, str(here)])}
    command = [sys.executable, "-m", "bench.bench_sync_transform", "--child", str(directory),
               "--decoders", *arguments.decoders, "--validate", arguments.validate,
               "--items-per-call", str(arguments.items_per_call), "--calls", calls]  # fmt: skip
    done = subprocess.run(command, env=environ, cwd=directory, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"the {side} replay failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def export(revision: str, into: Path) -> Path:
    """The transforms package as it was at `revision` (git archive), to run the old code side by side."""
    here = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(here), "archive", revision, "transforms"], capture_output=True,
                             check=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def report(side: str, name: str, runs: list[dict[str, Any]], peaks: list[float]) -> None:
    totals = [sum(run["seconds"].values()) for run in runs]
    best = runs[totals.index(min(totals))]
    items = best["items"]
    median = statistics.median(totals)
    phases = ", ".join(f"{phase} {seconds:.2f} s" for phase, seconds in best["seconds"].items())
    print(f"\n[{side}] {name}: {items:,} items; best {min(totals):.2f} s ({items / min(totals):,.0f} items/s), "
          f"median {median:.2f} s ({items / median:,.0f} items/s); problems {best['problems']:,}; "
          f"peak RSS {max(peaks):,.0f} MiB")  # fmt: skip
    print(f"  best run by phase: {phases}")
    for list_name, (count, seconds) in best["per_list"].items():
        print(f"  {list_name:<28} {count:>8,} items {seconds:7.2f} s {count / seconds:>10,.0f} items/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--ccrs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--calls",
        nargs="+",
        default=[SYNC_CALLS],
        type=calls_option,
        help="how pages are gathered for each normalise_page call, each measured in every round: 'sync' "
        "(default: as the sync gathers them, pipeline.sync_batch, up to --items-per-call items; the dict "
        "decoders a page a call) or a number of Graph pages",
    )
    parser.add_argument(
        "--pages-per-call", type=int, help="the same as --calls N (the figures recorded before --calls)"
    )
    parser.add_argument(
        "--items-per-call",
        type=int,
        default=BATCH_ITEMS,
        help=f"items the sync gathers at most for a call (default: the sync's, {BATCH_ITEMS:,})",
    )
    parser.add_argument(
        "--validate",
        choices=("list", "page"),
        default="page",
        help="validate and part every call's tables as the sync does (page, the default) or validate each "
        "list's staged tables once (list, the figures recorded before 2026-12-01)",
    )
    parser.add_argument(
        "--keep", type=Path, help="record into (or replay from) this directory instead of a temporary one"
    )
    parser.add_argument("--compare", metavar="REV", help="also replay the transforms of git revision REV")
    parser.add_argument("--decoders", nargs="+", default=list(DECODERS), choices=list(DECODERS))
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # one replay, JSON on stdout
    arguments = parser.parse_args()
    if arguments.child is not None:
        (calls,) = arguments.calls
        pages = None if calls == SYNC_CALLS else int(calls)
        figures = replay(
            arguments.child, arguments.decoders, arguments.validate == "page", pages, arguments.items_per_call
        )
        print(json.dumps(figures))
        return
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}, pyarrow {pa.__version__}"
    )
    keep = arguments.keep
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.nullcontext(str(keep))
        if keep
        else tempfile.TemporaryDirectory(prefix="cetk-bench-") as temporary,
        tempfile.TemporaryDirectory(prefix="cetk-bench-before-") as before_directory,
    ):
        directory = Path(temporary)
        saved = directory / "manifest.json"
        started = time.perf_counter()
        if not saved.exists():
            saved.write_text(json.dumps(record(directory, arguments.events, arguments.ccrs)))
        manifest = json.loads(saved.read_text())
        size = sum(path.stat().st_size for path in directory.glob("list*.json"))
        items = sum(info["items"] for info in manifest["lists"].values())
        print(f"recorded {items:,} items in {sum(len(i['pages']) for i in manifest['lists'].values())} pages, "
              f"{size / 1e6:.1f} MB, in {time.perf_counter() - started:.1f} s (wall)")  # fmt: skip
        before = export(arguments.compare, Path(before_directory)) if arguments.compare else None
        if arguments.pages_per_call is not None:
            arguments.calls = [str(arguments.pages_per_call)]
        sides = [
            (side, calls)
            for side in (["after", "before"] if before is not None else ["after"])
            for calls in arguments.calls
        ]
        results: dict[tuple[str, str], list[dict[str, Any]]] = {side: [] for side in sides}
        for round_ in range(arguments.repeat):
            for side, calls in sides if round_ % 2 == 0 else sides[::-1]:  # alternate who goes first
                results[(side, calls)].append(run_side(directory, side, calls, arguments, before))
                print(f"round {round_ + 1} {side}, calls {calls}: load average {os.getloadavg()[0]:.1f}",
                      file=sys.stderr)  # fmt: skip
        for (side, calls), runs in results.items():
            gathered = "as the sync gathers them" if calls == SYNC_CALLS else f"{calls} page(s) a call"
            if side == "before":
                print(f"\n== before: transforms of {arguments.compare}; pages {gathered}")
            else:
                print(f"\n== after: this checkout's transforms; pages {gathered}")
            for name in [name for name in arguments.decoders if name in runs[0]["passes"]]:
                report(f"{side}, {calls}", name, [run["passes"][name] for run in runs],
                       [run["peak_mib"] for run in runs])  # fmt: skip
            references = ", ".join(f"{run['reference']:.2f}" for run in runs)
            print(f"  reference (sum(range(10_000_000)), CPU s per replay): {references}")
    print(f"load average at the end: {', '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
