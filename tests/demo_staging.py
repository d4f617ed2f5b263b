"""The staged output of a sync of the demo force, for the report's tests (a stand-in until `cetk sync`).

The demo force's lists are served by the emulator and read through the product's HTTP seam
(tests/transforms/demo_lists.py), normalised with the demo mapping, validated as a dataset, and written
as a sync writes them: valid rows to staged Parquet (connectors/staging.py), invalid rows with their
reasons to the quarantine, inside a recorded run (ledger row and run report, with one schema-drift
warning as a sync that met an unmapped column records it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from config.settings import Paths
from connectors.quarantine import Quarantine, split_by_problems
from connectors.run_report import recorded_run
from connectors.staging import StagedTableWriter
from emulator.demo.force import Force, generate_force
from pipeline import ReportResult, build_report
from powerbi_dataset.model import DATASET
from tests.transforms.demo_lists import normalise_site, read_demo_site
from transforms.validate import validate_dataset

KEY = b"demo-force-pseudonymisation-key!"
SYNC_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REPORT_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
DRIFT_WARNING = "list Engagement Events: new column 'Notes' is not mapped"


def stage_demo_force(force: Force, paths: Paths, *, clock: datetime) -> dict[str, int]:
    """Stage the demo force under `paths`; returns the staged rows per table."""
    pages = normalise_site(read_demo_site(force), KEY)
    tables: dict[str, pa.Table] = {
        name: table for page in pages.values() for name, table in page.tables.items()
    }
    problems = validate_dataset(tables, DATASET, as_of=force.as_of).problems
    staged: dict[str, int] = {}
    with recorded_run(paths, "sync", {"demo": True}, clock=lambda: clock) as run:
        assert run.state is not None
        for name, table in tables.items():
            split = split_by_problems(table, [p for p in problems if p.table == name])
            files = Quarantine(paths.quarantine_dir).replace_quarantine(name, split.invalid, split.problems)
            run.quarantined(files)
            with StagedTableWriter(paths.staging_dir, DATASET.table(name), incremental=False) as writer:
                writer.add(split.valid.cast(writer.schema))
                prepared = writer.prepare()
            prepared.publish()
            run.staged_snapshot(prepared)
            run.count(
                name, read=table.num_rows, valid=split.valid.num_rows, quarantined=split.invalid.num_rows
            )
            staged[name] = split.valid.num_rows
        run.warn("schema-drift", DRIFT_WARNING, list_name="Engagement Events")
    return staged


@dataclass(frozen=True)
class DemoReport:
    force: Force
    paths: Paths
    out_dir: Path
    staged: dict[str, int]
    result: ReportResult

    @property
    def html(self) -> str:
        return self.result.path.read_text(encoding="utf-8")


def build_demo_report(root: Path) -> DemoReport:
    """Stage the demo force (with its deliberate errors) under `root` and write the report from it."""
    force = generate_force(seed=7, events=300, ccrs=400, invalid_fraction=0.04)
    paths = Paths(root / "staging", root / "staging" / "quarantine", root / "staging" / "state")
    staged = stage_demo_force(force, paths, clock=SYNC_TIME)
    out_dir = root / "report"
    result = build_report(paths, out_dir, clock=lambda: REPORT_TIME)
    return DemoReport(force, paths, out_dir, staged, result)
