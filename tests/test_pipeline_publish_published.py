"""`cetk publish` posts what `cetk report` shows (issue 11): `pipeline.published.build_published` of the
staged tables, not the staged tables themselves.

Each test stages the demo force on disk, publishes it through `pipeline.publish_staged` into the HTTPS
emulator's Power BI, and reads back what a report would see there (powerbi_dataset/report_view.py, the
routing rule in Python): the derived tables are there, event points are rounded, free text is scrubbed
even where the staged file was not, and the measures over the published rows are the report's figures.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from config.loader import load
from config.settings import Settings
from emulator.demo.force import Force
from errors import DataRefusedError, SourceFormatError
from pipeline import analytics_options, build_published, build_report, publish, publish_staged
from pipeline.published import DEMO_GEOGRAPHY_NOTE
from powerbi_dataset.model import DATASET
from powerbi_dataset.report_view import report_view
from tests.connectors.conftest import ManualTime, StartEmulator, Waits, clock, start_emulator, tls_dir, waits
from tests.connectors.powerbi_world import Workspace, open_workspace
from tests.powerbi_dataset.publish_world import (
    DATASET_NAME,
    demo_force,
    staged_from_frames,
    view_differences,
    write_staged,
)
from transforms.analytics import frames_from_arrow
from transforms.dashboard import measure_values

__all__ = ["clock", "start_emulator", "tls_dir", "waits"]  # the emulator fixtures, used below

DERIVED = ("issue_top5", "word_cloud", "ccr_demographics_agg", "yswd_evaluation")
PUBLISHED = sorted(table.name for table in DATASET.published_tables if table.publish_mode != "control")


@dataclass
class World:
    workspace: Workspace
    root: Path
    clock: ManualTime
    waits: Waits

    def settings(self, **environ: str) -> Settings:
        base = {
            "CETK_PATHS_STAGING_DIR": str(self.root / "staging"),
            "CETK_PATHS_QUARANTINE_DIR": str(self.root / "staging" / "quarantine"),
            "CETK_PATHS_STATE_DIR": str(self.root / "state"),
        }
        return load(None, {**base, **environ}, keyring=None, strict=False).settings

    def stage(self, force: Force, *, scrubbed: bool = True) -> Path:
        return write_staged(staged_from_frames(force.tables, scrubbed=scrubbed), self.root / "staging")

    def publish(self, settings: Settings) -> dict[str, Any]:
        result = publish_staged(
            settings, client=self.workspace.client, clock=self.clock.time, sleep=self.waits
        ).to_dict()
        assert result["status"] == "published", result
        return result

    def stored(self) -> dict[str, list[dict[str, Any]]]:
        emu, group = self.workspace.emu, self.workspace.group
        found = [d for d in self.workspace.client.datasets() if d.name == DATASET_NAME]
        assert len(found) == 1
        return {
            table.name: emu.powerbi.rows(group, found[0].id, table.name) for table in DATASET.published_tables
        }


@pytest.fixture
def world(start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path) -> World:
    return World(open_workspace(start_emulator, clock, waits), tmp_path, clock, waits)


def test_power_bi_holds_every_published_table_as_build_published_makes_it(world: World) -> None:
    world.stage(demo_force())
    settings = world.settings()

    result = world.publish(settings)

    published = build_published(settings.paths.staging_dir).arrow
    assert sorted(published) == PUBLISHED and sorted(result["tables"]) == PUBLISHED
    stored = world.stored()
    for name in DERIVED:
        assert len(stored[name]) == published[name].num_rows > 0, name
    assert view_differences(stored, published) == {}  # reports see exactly the published tables


def test_a_rerun_posts_nothing_and_derived_rows_are_never_duplicated(world: World) -> None:
    world.stage(demo_force())
    settings = world.settings()
    world.publish(settings)

    again = publish_staged(
        settings, force=True, client=world.workspace.client, clock=world.clock.time, sleep=world.waits
    )  # built again and compared (without --force nothing is built: tests/test_pipeline_publish_skip.py)

    assert again.to_dict()["status"] == "nothing to publish"
    stored = world.stored()
    for name in DERIVED:  # recomputed whole, compared by key: unchanged rows are not posted again
        keys = [tuple(row[k] for k in DATASET.table(name).key) for row in stored[name]]
        assert len(keys) == len(set(keys)), name


def test_event_points_in_power_bi_are_rounded(world: World) -> None:
    force = demo_force()
    events = force.tables["events"].copy()  # the demo's points are at 3 dp; a device's GPS is not
    offsets = pd.Series([0.000137 * (1 + i % 7) for i in range(len(events))], index=events.index)
    events["location_lat"] = events["location_lat"] + offsets
    events["location_lon"] = events["location_lon"] - offsets
    write_staged(staged_from_frames({**force.tables, "events": events}), world.root / "staging")

    world.publish(world.settings())

    staged = events[["location_lat", "location_lon"]].dropna().astype(float)
    precise = set(staged.itertuples(index=False, name=None))
    assert len(precise) > 10 and all(round(lat, 3) != lat for lat, _lon in precise)
    stored = world.stored()["events"]  # every row the service holds, of every version
    points = [(row["location_lat"], row["location_lon"]) for row in stored if row["location_lat"] is not None]
    assert len(points) == len(staged)
    assert [point for point in points if point in precise] == []
    assert all(round(lat, 3) == lat and round(lon, 3) == lon for lat, lon in points)


def test_no_planted_personal_detail_reaches_power_bi_even_from_unscrubbed_staged_text(world: World) -> None:
    force = demo_force()
    staging = world.stage(force, scrubbed=False)  # as a staging written without the ingest scrubber
    raw_text = json.dumps(
        [pq.read_table(path).to_pylist() for path in staging.glob("*.parquet")], default=str
    )
    planted = [detail for detail in force.planted_pii if detail in raw_text]
    assert len(planted) >= 5  # the staged free text does carry them

    world.publish(world.settings())

    received = json.dumps([body for _method, _path, body in world.workspace.bodies.sent])
    received += json.dumps(world.stored())
    found = [
        detail
        for detail in planted
        if re.search(rf"(?<![0-9A-Za-z]){re.escape(detail)}(?![0-9A-Za-z])", received)
    ]
    assert found == []


def test_the_report_figures_are_the_figures_over_what_was_published(world: World) -> None:
    world.stage(demo_force())
    settings = world.settings()
    world.publish(settings)

    report = build_report(settings.paths, world.root / "report", dry_run=True)

    view = report_view(world.stored(), DATASET)
    over_published = measure_values(frames_from_arrow({name: view[name] for name in PUBLISHED}))
    assert report.figures == over_published
    assert sum(1 for value in report.figures.values() if value) > 10  # figures, not a page of empties
    assert report.published_rows == {name: view[name].num_rows for name in PUBLISHED}


def test_publish_uses_the_settings_evaluation_weeks_and_geography(world: World, tmp_path: Path) -> None:
    world.stage(demo_force())
    settings = world.settings(CETK_REPORT_EVALUATION_WEEKS="4")

    world.publish(settings)

    evaluation = world.stored()["yswd_evaluation"]
    assert evaluation and {row["weeks"] for row in evaluation} == {4}
    missing = tmp_path / "no-such-geography"
    with pytest.raises(SourceFormatError, match=f"reference file {missing / 'wards.csv'} cannot be read"):
        publish(world.settings(CETK_GEOGRAPHY_DIR=str(missing)), dry_run=True, client=world.workspace.client)


def test_the_plan_says_when_the_demo_geography_stands_in(world: World) -> None:
    world.stage(demo_force())

    planned = publish(world.settings(), dry_run=True, client=world.workspace.client)

    assert DEMO_GEOGRAPHY_NOTE in planned.describe()


def test_a_table_the_figures_need_that_is_not_staged_refuses_the_publish_before_any_request(
    world: World,
) -> None:
    staging = world.stage(demo_force())
    (staging / "you_said_we_did.parquet").unlink()
    before = len(world.workspace.emu.emulator.request_log)

    with pytest.raises(SourceFormatError, match="no staged table you_said_we_did") as refused:
        world.publish(world.settings())

    assert "cetk sync" in refused.value.hint
    assert world.workspace.emu.emulator.request_log[before:] == []  # not even a sign-in or a GET


@pytest.mark.parametrize("value", ["ten", "0", "2.5"])
def test_a_bad_disclosure_setting_is_a_config_problem_naming_it(value: str) -> None:
    loaded = load(None, {"CETK_DISCLOSURE_THRESHOLD": value}, keyring=None, strict=False)

    problems = [p for p in loaded.problems if "disclosure.threshold" in p.message]
    assert len(problems) == 1 and "CETK_DISCLOSURE_THRESHOLD" in problems[0].message
    assert loaded.settings.analytics.disclosure_threshold == 10  # the default stands in, never the bad value


def test_the_analytics_settings_build_the_options_report_and_publish_use() -> None:
    environ = {
        "CETK_DISCLOSURE_THRESHOLD": "20",
        "CETK_DISCLOSURE_ROUNDING_BASE": "10",
        "CETK_DISCLOSURE_MIN_PERCENTAGE_BASE": "100",
        "CETK_REPORT_EVALUATION_WEEKS": "6",
    }
    options = analytics_options(load(None, environ, keyring=None, strict=False).settings)

    assert (options.policy.threshold, options.policy.rounding_base, options.policy.min_percentage_base) == (
        20,
        10,
        100,
    )
    assert options.evaluation_weeks == 6


def test_a_column_the_staged_file_marks_special_category_refuses_the_publish_before_any_request(
    world: World,
) -> None:
    staging = world.stage(demo_force())
    ccr = pq.read_table(staging / "ccr.parquet")
    index = ccr.schema.get_field_index("ward_code")
    marked = ccr.schema.field(index).with_metadata({b"personal": b"special-category"})
    pq.write_table(ccr.set_column(index, marked, ccr.column(index)), staging / "ccr.parquet")
    before = len(world.workspace.emu.emulator.request_log)

    with pytest.raises(DataRefusedError, match="ccr.ward_code is special-category data"):
        world.publish(world.settings())

    assert world.workspace.emu.emulator.request_log[before:] == []
