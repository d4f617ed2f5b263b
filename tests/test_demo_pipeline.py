"""`cetk demo` (what `make demo` runs): the whole pipeline on the emulator's demo force, in a child process
as a newcomer runs it: sync with publish, refresh with wait, the report; a summary and every path."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from emulator.serve import DEMO_IMPORT_DATASET_NAME
from errors import CetkError
from pipeline.demo import DEMO_IMPORT_DATASET, run_demo
from tests.test_cli_process import cetk


def test_the_demo_runs_sync_publish_refresh_and_report_and_says_where_everything_is(tmp_path: Path) -> None:
    out = tmp_path / "demo"

    # A hang guard, not a speed test: the demo's target is 2 minutes (docs/performance.md), and under a
    # loaded test run its publish and report each build the published tables.
    result = cetk(
        "demo", "--out", str(out), "--events", "60", "--ccrs", "200", "--json", cwd=tmp_path, timeout=120
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert list(summary["stage_seconds"]) == ["emulator", "sync and publish", "refresh", "report"]
    report = summary["sync"]["report"]
    assert report["status"] == "partial"  # the demo force's deliberate errors are quarantined
    assert report["counts"]["totals"]["quarantined"] > 0
    published = report["publish"]
    assert published["mode"] == "push" and published["status"] == "published"
    staged_events = pq.read_table(Path(summary["staging_dir"]) / "events.parquet")
    assert published["tables"]["events"]["rows"] == staged_events.num_rows
    assert summary["refresh"]["status"] == "Completed"
    assert Path(summary["report_file"]).is_file() and Path(summary["run_report"]).is_file()
    assert any(Path(summary["quarantine_dir"]).glob("*.csv"))
    assert "CETK_PSEUDONYMISATION_KEY" not in result.stdout + result.stderr


def test_the_demo_refreshes_the_model_the_emulator_serves() -> None:
    assert DEMO_IMPORT_DATASET == DEMO_IMPORT_DATASET_NAME


def test_an_emulator_that_cannot_start_is_one_clean_error_naming_its_log(tmp_path: Path) -> None:
    with pytest.raises(CetkError, match="the demo emulator did not start") as raised:
        run_demo(tmp_path / "demo", events=0)  # refused by `cetk emulator serve` (--events min 1)
    assert str(tmp_path / "demo" / "emulator.log") in raised.value.hint
