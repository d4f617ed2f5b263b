"""How long `cetk report` takes, stage by stage, on the demo force staged as Parquet.

Run by hand:
  .venv/bin/python -m bench.bench_report [--events 2000] [--ccrs 10000] [--repeat 2]
Staging is done once and not timed: the demo force's clean canonical tables written with the staging
writer into a temporary directory. Each timed pass builds the report from that directory; times are CPU
seconds of the process (`time.process_time`), since the machine is shared. Record the figures in
docs/performance.md ("Report").
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from config.settings import Paths
from connectors.reference_files import demo_geography_files, load_geography
from connectors.staged_read import read_staged_tables
from connectors.staging import StagedTableWriter
from emulator.demo.force import CANONICAL_TABLES, generate_force
from pipeline.report import build_report
from pipeline.report_html import document
from pipeline.report_pages import dashboard_pages
from pipeline.report_quality import evaluation_page
from powerbi_dataset.model import DATASET
from transforms.analytics import build_analytics, frames_from_arrow


def stage(root: Path, events: int, ccrs: int) -> Paths:
    force = generate_force(events=events, ccrs=ccrs, invalid_fraction=0)
    paths = Paths(root / "staging", root / "staging" / "quarantine", root / "staging" / "state")
    for name in CANONICAL_TABLES:
        with StagedTableWriter(paths.staging_dir, DATASET.table(name), incremental=False) as writer:
            writer.add(pa.Table.from_pandas(force.tables[name], preserve_index=False).cast(writer.schema))
            writer.prepare().publish()
    return paths


def one_pass(paths: Paths, out: Path) -> dict[str, float]:
    times: dict[str, float] = {}
    start = time.process_time()
    staged = frames_from_arrow(read_staged_tables(paths.staging_dir))
    times["read"] = time.process_time() - start
    geography = load_geography(demo_geography_files())
    start = time.process_time()
    analytics = build_analytics(staged, geography)
    times["analytics"] = time.process_time() - start
    start = time.process_time()
    pages = [*dashboard_pages(analytics, geography), evaluation_page(analytics)]
    document("bench", "bench", pages)
    times["pages and charts"] = time.process_time() - start
    start = time.process_time()
    build_report(paths, out)
    times["whole report"] = time.process_time() - start
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--ccrs", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = stage(Path(folder), options.events, options.ccrs)
        reference = time.process_time()
        sum(range(10_000_000))
        print(f"reference sum(range(10_000_000)): {time.process_time() - reference:.2f} s CPU")
        passes = [one_pass(paths, Path(folder) / "report") for _ in range(options.repeat)]
        size = (Path(folder) / "report" / "report.html").stat().st_size
    for name in passes[0]:
        values = [one[name] for one in passes]
        print(f"{name:>18}: best {min(values):6.2f} s, median {statistics.median(values):6.2f} s CPU")
    print(f"report.html: {size:,} bytes ({options.events:,} events, {options.ccrs:,} CCRs)")


if __name__ == "__main__":
    main()
