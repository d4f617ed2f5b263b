"""The staged output of `cetk sync` of the demo force, for the report's tests.

The demo force's lists are seeded into the in-process emulator and `pipeline.sync` runs against them with
the injected clock (tests/sync_world.py): valid rows staged as Parquet, invalid ones quarantined with
their reasons, a ledger row and a run report. The mapping knows the value-gained label "High" as "Great",
so the run also records a schema-drift warning (R18) and quarantines the events using it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from config.settings import Paths
from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from pipeline import ReportResult, build_report
from tests.connectors.conftest import ManualTime
from tests.sync_world import demo_world, write_settings

EVENTS = "Engagement Events"
REPORT_TIME = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
DRIFT_LABEL = "'High'"  # the label the drift warning names


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
    """Sync the demo force (with its deliberate errors) under `root` and write the report from its staging."""
    force = generate_force(seed=7, events=300, ccrs=400, invalid_fraction=0.04)
    with demo_world(force, root, ManualTime()) as world:
        events = DEMO_SITE_MAPPING.list_mapping(EVENTS)
        value = events.column("ValueGained")
        renamed = tuple(("Great" if label == "High" else label, code) for label, code in value.choices)
        columns = tuple(
            dataclasses.replace(value, choices=renamed) if column.name == "ValueGained" else column
            for column in events.columns
        )
        lists = tuple(
            dataclasses.replace(events, columns=columns) if one.display_name == EVENTS else one
            for one in DEMO_SITE_MAPPING.lists
        )
        world.settings = write_settings(
            world.root, world.emu, dataclasses.replace(DEMO_SITE_MAPPING, lists=lists), world.site_path
        )
        synced = world.run()
        paths = world.settings.paths
    staged = {name: int(item["rows"]) for name, item in synced.report["staged"].items()}
    result = build_report(paths, root / "report", clock=lambda: REPORT_TIME)
    return DemoReport(force, paths, root / "report", staged, result)
