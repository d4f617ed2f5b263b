"""Benchmark validate() on a synthetic 1,000,000-row, 20-column table, typed and as CSV text.

Run by hand: `.venv/bin/python -m bench.bench_validate [--rows N] [--repeat K]`; record the figures
in docs/performance.md (## Validation). `--max-listed N` sets how many problems are built (default: all,
as before the cap existed; the report counts every one either way); `--batch-rows N` checks the table in
record batches of N rows, as files are read (transforms.validate.validate_sources).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.rules import Compare, Condition, MaxSpan, NotAfterAsOf, RequirePresent
from powerbi_dataset.schema import Code, Column, Dataset, Table
from transforms.validate import ArrowSource, validate, validate_sources

BAD_SHARE = 0.01
SEED = 20_240_501
STATUSES = ("PLANNED", "COMPLETED", "CANCELLED")
CATEGORIES = tuple(f"CAT_{n:02d}" for n in range(12))
START_EPOCH = 1_577_836_800  # 2020-01-01T00:00:00Z
AS_OF = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

BENCH_TABLE = Table(
    "bench_events",
    "Synthetic table for the validation benchmark",
    (
        Column("event_id", "String", "Key", required=True, max_length=100),
        Column(
            "status", "String", "Status", required=True, codes=tuple(Code(s, s.title()) for s in STATUSES)
        ),
        Column("category", "String", "Category", required=True, codes=tuple(Code(c, c) for c in CATEGORIES)),
        Column("ward_code", "String", "Ward", pattern=r"E05\d{6}"),
        Column(
            "officer_key", "String", "Officer", required=True, pattern=r"[0-9a-f]{16}", personal="personal"
        ),
        Column("event_name", "String", "Name", required=True, max_length=200),
        Column("notes", "String", "Notes", max_length=1000),
        Column("attendance", "Int64", "Attendance", minimum=0, maximum=100_000),
        Column("officers_present", "Int64", "Officers", required=True, minimum=1, maximum=200),
        Column("rank", "Int64", "Rank", minimum=1, maximum=5),
        Column("lat", "Double", "Latitude", minimum=52.40, maximum=53.25),
        Column("lon", "Double", "Longitude", minimum=-2.50, maximum=-1.55),
        Column("score", "Double", "Score"),
        Column("published", "Boolean", "Published", required=True),
        Column("estimate", "Boolean", "Estimate"),
        Column("start_utc", "DateTime", "Start", required=True, minimum=1_420_070_400.0),
        Column("end_utc", "DateTime", "End", required=True),
        Column("start_local_date", "DateTime", "Start date", required=True, date_only=True),
        Column("created_utc", "DateTime", "Created", required=True),
        Column("modified_utc", "DateTime", "Modified", required=True),
    ),
    key=("event_id",),
    rules=(
        Compare("end-before-start", "end_utc", ">=", "start_utc", "ends before it starts"),
        MaxSpan("duration-too-long", "start_utc", "end_utc", 24, "lasts more than 24 hours"),
        NotAfterAsOf(
            "completed-in-future",
            "end_utc",
            "completed in the future",
            Condition("status", "eq", "COMPLETED"),
        ),
        RequirePresent(
            "attendance-required", Condition("status", "eq", "COMPLETED"), ("attendance",), "needs attendance"
        ),
        Compare("modified-before-created", "modified_utc", ">=", "created_utc", "modified before created"),
    ),
)


def _spoil(rng: np.random.Generator, values: pa.Array, bad: object) -> pa.Array:
    """Replace about 1% of the values with `bad`."""
    hit = pa.array(rng.random(len(values)) < BAD_SHARE)
    return pc.if_else(hit, pa.scalar(bad, values.type), values)


def build_typed(rows: int) -> pa.Table:
    """The synthetic table with proper Arrow types and ~1% bad values in every column."""
    rng = np.random.default_rng(SEED)
    start = START_EPOCH + rng.integers(0, 5 * 365 * 86_400, rows)
    end = start + rng.integers(1_800, 4 * 3_600, rows)
    seconds = pa.timestamp("s", tz="UTC")

    def stamp(epochs: np.ndarray) -> pa.Array:
        return pa.array(epochs, seconds).cast(pa.timestamp("us", tz="UTC"))

    def text(template: str, numbers: np.ndarray) -> pa.Array:
        return pa.array([template.format(n) for n in numbers.tolist()], pa.string())

    columns = {
        "event_id": text("sp:list:{}", np.arange(rows)),
        "status": pa.array(np.array(STATUSES)[rng.integers(0, 3, rows)]),
        "category": pa.array(np.array(CATEGORIES)[rng.integers(0, 12, rows)]),
        "ward_code": text("E05{:06d}", rng.integers(0, 999_999, rows)),
        "officer_key": text("{:016x}", rng.integers(0, 2**62, rows)),
        "event_name": text("Community meeting {}", rng.integers(0, 10_000, rows)),
        "notes": text("Notes about event number {}", rng.integers(0, 10_000, rows)),
        "attendance": pa.array(rng.integers(0, 500, rows)),
        "officers_present": pa.array(rng.integers(1, 10, rows)),
        "rank": pa.array(rng.integers(1, 6, rows)),
        "lat": pa.array(np.round(rng.uniform(52.4, 53.25, rows), 3)),
        "lon": pa.array(np.round(rng.uniform(-2.5, -1.55, rows), 3)),
        "score": pa.array(rng.normal(0, 1, rows)),
        "published": pa.array(rng.random(rows) < 0.5),
        "estimate": pa.array(rng.random(rows) < 0.2),
        "start_utc": stamp(start),
        "end_utc": stamp(end),
        "start_local_date": stamp(start - start % 86_400),
        "created_utc": stamp(start - 86_400),
        "modified_utc": stamp(start - 3_600),
    }
    bad: dict[str, object] = {
        "status": "DONE",
        "category": "CAT_99",
        "ward_code": "W05000001",
        "officer_key": "not-a-key",
        "event_name": None,
        "notes": "x" * 1_001,
        "attendance": -1,
        "officers_present": 0,
        "rank": 9,
        "lat": 51.0,
        "lon": 0.5,
        "published": None,
        "start_utc": dt.datetime(2010, 1, 1, tzinfo=dt.UTC),
        "end_utc": dt.datetime(2019, 1, 1, tzinfo=dt.UTC),
        "start_local_date": dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC),
        "modified_utc": dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
    }
    for name, value in bad.items():
        columns[name] = _spoil(rng, columns[name], value)
    columns["event_id"] = _spoil(rng, columns["event_id"], "sp:list:0")
    return pa.table(columns)


def build_text(typed: pa.Table) -> pa.Table:
    """The same table as a CSV reader gives it: all text, '' for null, ~1% unparseable numbers."""
    rng = np.random.default_rng(SEED + 1)
    columns = {}
    for name in typed.column_names:
        values = typed.column(name).combine_chunks()
        if pa.types.is_timestamp(values.type):
            values = pc.strftime(values, "%Y-%m-%dT%H:%M:%SZ")
        text = pc.fill_null(values.cast(pa.string()), "")
        if name in ("attendance", "lat", "start_utc", "estimate"):
            text = _spoil(rng, text, "n/a")
        columns[name] = text
    return pa.table(columns)


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _machine() -> str:
    cpu = "unknown CPU"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = subprocess.run(["nproc"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"{cores} cores, {cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}, numpy {np.__version__}"
    )


def run(label: str, table: pa.Table, repeat: int, max_listed: int, batch_rows: int | None) -> None:
    timings = []
    report = None
    for _ in range(repeat):
        started = time.perf_counter()
        if batch_rows is None:
            report = validate(table, BENCH_TABLE, as_of=AS_OF, max_listed=max_listed)
        else:
            source = {BENCH_TABLE.name: ArrowSource(table, batch_rows=batch_rows)}
            dataset = Dataset(BENCH_TABLE.name, (BENCH_TABLE,))
            report = validate_sources(source, dataset, as_of=AS_OF, max_listed=max_listed, cross_table=False)
        timings.append(time.perf_counter() - started)
    assert report is not None
    best, median = min(timings), sorted(timings)[len(timings) // 2]
    print(
        f"{label:<6} rows={table.num_rows:,} runs={len(timings)} best={best:.2f}s median={median:.2f}s "
        f"rows/s best={table.num_rows / best:,.0f} median={table.num_rows / median:,.0f} "
        f"problems={report.total_problems:,} listed={len(report.problems):,}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--shape", choices=("both", "typed", "text"), default="both", help="one shape: its own peak RSS"
    )
    parser.add_argument("--max-listed", type=int, default=10**9, help="problems built (default: all)")
    parser.add_argument("--batch-rows", type=int, default=None, help="check in batches of this many rows")
    args = parser.parse_args(argv)
    command = [
        os.path.relpath(sys.executable),
        "-m",
        "bench.bench_validate",
        *(sys.argv[1:] if argv is None else argv),
    ]
    print(f"command: {' '.join(command)}")
    print(f"machine: {_machine()}")
    print(f"date:    {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    typed = build_typed(args.rows)
    inputs = {"typed": typed} if args.shape != "text" else {}
    if args.shape != "typed":
        inputs["text"] = build_text(typed)
        if args.shape == "text":
            del typed
    sizes = ", ".join(f"{label} {table.nbytes / 2**20:,.0f} MiB" for label, table in inputs.items())
    print(f"input:   {len(BENCH_TABLE.columns)} columns, {len(BENCH_TABLE.rules)} rules; {sizes}")
    before = _peak_rss_mib()
    for label, table in inputs.items():
        run(label, table, args.repeat, args.max_listed, args.batch_rows)
    print(
        f"peak RSS: {_peak_rss_mib():,.0f} MiB (after building inputs: {before:,.0f} MiB); "
        f"Arrow pool peak since start {pa.default_memory_pool().max_memory() / 2**20:,.0f} MiB"
    )


if __name__ == "__main__":
    main()
