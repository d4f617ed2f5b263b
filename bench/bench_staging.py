"""Benchmark staging: a 500,000-row events table written and merged page by page, with peak RSS.

Run by hand: `.venv/bin/python -m bench.bench_staging [--rows N] [--page-rows N] [--row-group-rows N]`;
record the figures in docs/performance.md (## Staging). Each scenario runs in its own child process,
so its peak RSS (ru_maxrss) is its own: the interpreter and imports, plus what staging holds.
Pages are generated column by column (never as Python dicts), in a shuffled item order (the worst case:
every run needs sorting and every merge step draws on every run) and, for `full-list-order`, in item
id order, as a list read arrives.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.staging import ROW_GROUP_ROWS, StagedTableWriter, staged_path
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import EVENTS

SEED = 20_261_130
SCENARIOS = (
    "imports",
    "full",
    "full-again",
    "full-list-order",
    "incremental",
    "incremental-none",
    "in-memory",
)
CHANGED_SHARE = 0.01
DELETED_SHARE = 0.001


def item_keys(numbers: np.ndarray) -> pa.Array:
    digits = pa.array(numbers).cast(pa.string())
    return pc.binary_join_element_wise("sp:5f0c1e7a-3b2d-4c55-9a1e-6f7b8c9d0e1f:", digits, "")


def page(numbers: np.ndarray, version: int) -> pa.RecordBatch:
    """Rows of the events staging schema for these item numbers; `version` changes the values."""
    schema = arrow_schema(EVENTS, "staging")
    text = pa.array(numbers + version).cast(pa.string())
    columns: list[pa.Array] = []
    for column, field in zip(EVENTS.columns, schema, strict=True):
        kind = field.type
        if column.name == "event_id":
            columns.append(item_keys(numbers))
        elif column.name == "source_system":  # a list's rows (a full snapshot carries any other's)
            columns.append(pa.array(["sp_list"] * len(numbers), kind))
        elif column.codes:
            codes = pa.array([code.code for code in column.codes])
            columns.append(codes.take(pa.array((numbers + version) % len(codes))))
        elif pa.types.is_string(kind):
            columns.append(pc.binary_join_element_wise(f"{column.name} ", text, ""))
        elif pa.types.is_int64(kind):
            columns.append(pa.array(numbers % 100 + version, kind))
        elif pa.types.is_float64(kind):
            columns.append(pa.array(52.5 + (numbers % 1000) / 2000.0, kind))
        elif pa.types.is_boolean(kind):
            columns.append(pa.array((numbers + version) % 2 == 0, kind))
        else:
            columns.append(pa.array(1_750_000_000_000_000 + numbers * 60_000_000 + version, kind))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def iter_pages(numbers: np.ndarray, page_rows: int, version: int) -> Iterator[pa.RecordBatch]:
    for start in range(0, len(numbers), page_rows):
        yield page(numbers[start : start + page_rows], version)


def run_scenario(
    name: str, directory: Path, rows: int, page_rows: int, row_group_rows: int
) -> dict[str, object]:
    chance = np.random.default_rng(SEED)
    numbers = chance.permutation(np.arange(1, rows + 1, dtype=np.int64))
    started = time.perf_counter()
    result: dict[str, object] = {"scenario": name}
    if name in ("full", "full-again", "full-list-order"):
        if name == "full-list-order":  # items in id order, as a list is read: runs arrive sorted
            numbers = np.sort(numbers)
        with StagedTableWriter(directory, EVENTS, incremental=False, row_group_rows=row_group_rows) as writer:
            for batch in iter_pages(numbers, page_rows, version=1):
                writer.add(batch)
            prepared = writer.prepare()
        prepared.publish()
        result.update(changed=prepared.changed, rows=prepared.rows, input_rows=rows)
    elif name in ("incremental", "incremental-none"):
        changed = numbers[: int(rows * CHANGED_SHARE)] if name == "incremental" else numbers[:0]
        deleted = numbers[-int(rows * DELETED_SHARE) :] if name == "incremental" else numbers[:0]
        with StagedTableWriter(directory, EVENTS, incremental=True, row_group_rows=row_group_rows) as writer:
            for batch in iter_pages(changed, page_rows, version=2):
                writer.add(batch)
            writer.drop(item_keys(deleted).to_pylist())
            prepared = writer.prepare()
        prepared.publish()
        result.update(changed=prepared.changed, rows=prepared.rows, input_rows=len(changed) + len(deleted))
    elif name == "in-memory":  # what holding the whole table would take: the yardstick, not the method
        table = pa.Table.from_batches(list(iter_pages(numbers, page_rows, version=1)))
        result.update(rows=table.num_rows, table_mib=round(table.nbytes / 2**20, 1))
    result["seconds"] = round(time.perf_counter() - started, 2)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 2)
    result["peak_rss_mib"] = round(usage.ru_maxrss / 1024, 1)
    result["arrow_peak_mib"] = round(pa.default_memory_pool().max_memory() / 2**20, 1)
    path = staged_path(directory, "events")
    if path.exists():
        result["file_mib"] = round(path.stat().st_size / 2**20, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--page-rows", type=int, default=5_000)
    parser.add_argument("--row-group-rows", type=int, default=ROW_GROUP_ROWS)
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.scenario:
        figures = run_scenario(
            options.scenario, options.dir, options.rows, options.page_rows, options.row_group_rows
        )
        print(json.dumps(figures))
        return
    print(
        f"# {options.rows:,} rows of events ({len(EVENTS.columns)} columns), pages of {options.page_rows:,}, "
        f"row groups of {options.row_group_rows:,}; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pyarrow {pa.__version__}"
    )
    with tempfile.TemporaryDirectory(prefix="bench-staging-") as directory:
        for name in SCENARIOS:
            command = [sys.executable, "-m", "bench.bench_staging", "--scenario", name, "--dir", directory]
            command += ["--rows", str(options.rows), "--page-rows", str(options.page_rows)]
            command += ["--row-group-rows", str(options.row_group_rows)]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            print(output.strip())


if __name__ == "__main__":
    main()
