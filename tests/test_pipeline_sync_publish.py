"""`cetk sync` end to end (issue 9, item 7): read, stage, then publish (powerbi.mode: push) or refresh
(powerbi.mode: refresh), with one run report; a sync in which nothing changed builds and posts nothing."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pytest

from config.settings import PublishMode
from emulator.demo.force import Force, generate_force
from errors import ExitCode
from pipeline import build_published
from powerbi_dataset.model import DATASET
from tests.connectors.conftest import ManualTime
from tests.powerbi_dataset.publish_world import view_differences
from tests.sync_world import SyncWorld, demo_world

IMPORT_MODEL = "Community Engagement (import)"
PUBLISH_MODULE = importlib.import_module("pipeline.publish")  # `pipeline.publish` names the function


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=23, events=60, ccrs=120, officers=30, invalid_fraction=0)


@dataclass
class PowerBIWorld:
    sync: SyncWorld
    group: str

    def use(self, mode: PublishMode, **changes: object) -> None:
        """Point the settings at this workspace with `powerbi.mode: mode`."""
        self.sync.settings = replace(
            self.sync.settings, powerbi_workspace_id=self.group, powerbi_mode=mode, **changes
        )

    def push_dataset_id(self) -> str:
        found = [
            d["id"] for d in self.sync.emu.powerbi.datasets(self.group) if d["name"] == "Community Engagement"
        ]
        assert len(found) == 1, found
        return found[0]

    def stored(self) -> dict[str, list[dict[str, object]]]:
        dataset_id = self.push_dataset_id()
        return {
            table.name: self.sync.emu.powerbi.rows(self.group, dataset_id, table.name)
            for table in DATASET.published_tables
        }

    def row_posts(self) -> int:
        """Row POSTs the emulator received during the last run (the `_loads` commit row included)."""
        log = self.sync.emu.emulator.request_log[self.sync.seen :]
        return sum(
            1 for r in log if r.service == "powerbi" and r.method == "POST" and r.path.endswith("/rows")
        )


@pytest.fixture
def world(force: Force, tmp_path: Path) -> Iterator[PowerBIWorld]:
    with demo_world(force, tmp_path, ManualTime()) as made:
        yield PowerBIWorld(made, made.emu.powerbi.create_group("Community Engagement"))


def published_tables(world: PowerBIWorld) -> dict[str, pa.Table]:
    """What a publish of the staged tables posts (and `cetk report` shows): build_published of them."""
    return build_published(world.sync.staging).arrow


def test_push_mode_publishes_what_was_staged_and_a_rerun_without_changes_builds_and_posts_nothing(
    world: PowerBIWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.use("push")

    first = world.sync.run()

    assert first.exit_code == ExitCode.OK, first.describe()
    published = first.report["publish"]
    assert published["mode"] == "push" and published["status"] == "published"
    assert published["rows"] > 0 and world.row_posts() == published["posts"]
    assert view_differences(world.stored(), published_tables(world)) == {}  # what the report shows
    assert "published to 'Community Engagement'" in first.describe()

    real = PUBLISH_MODULE.build_published
    builds: list[tuple[object, ...]] = []

    def watched(*args: object, **kwargs: object) -> object:
        builds.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(PUBLISH_MODULE, "build_published", watched)

    second = world.sync.run()

    assert second.exit_code == ExitCode.OK
    assert second.report["publish"]["status"] == "unchanged" and "nothing the published" in str(
        second.report["publish"]["reason"]
    )
    assert builds == []  # nothing changed at source: the published tables are not even built
    assert world.row_posts() == 0 and second.report["publish"]["posts"] == 0  # no row POSTs
    assert "published to 'Community Engagement': unchanged, 0 row(s) in 0 POST(s)" in second.describe()
    assert view_differences(world.stored(), published_tables(world)) == {}


def test_a_change_at_source_reaches_the_push_dataset_in_the_next_sync(world: PowerBIWorld) -> None:
    world.use("push")
    world.sync.run()
    events = world.sync.sp_list("Engagement Events")
    store = world.sync.emu.stack.store
    gone = store.items(events)[0]
    store.delete_item(events, gone.id)

    result = world.sync.run()

    assert result.exit_code == ExitCode.OK, result.describe()
    assert result.report["publish"]["tables"]["events"]["tombstones"] >= 1
    assert view_differences(world.stored(), published_tables(world)) == {}


def test_a_first_sync_of_some_lists_publishes_nothing_until_the_figures_tables_are_staged(
    world: PowerBIWorld,
) -> None:
    world.use("push")

    first = world.sync.run(lists=["LPTs", "Officers"])

    assert first.exit_code == ExitCode.OK, first.describe()
    assert first.report["publish"]["status"] == "not published"
    waiting = [w for w in first.report["warnings"] if w["code"] == "publish-waiting"]
    assert (
        len(waiting) == 1
        and "events, event_issues, ccr, ccr_issues, you_said_we_did" in waiting[0]["message"]
    )
    assert world.sync.emu.powerbi.datasets(world.group) == []  # not even the dataset was created

    second = world.sync.run()

    assert second.report["publish"]["status"] == "published"
    assert view_differences(world.stored(), published_tables(world)) == {}


def test_refresh_mode_starts_a_refresh_of_the_import_model_after_staging(world: PowerBIWorld) -> None:
    model = world.sync.emu.powerbi.add_import_dataset(world.group, IMPORT_MODEL)
    world.use("refresh", powerbi_refresh_dataset=IMPORT_MODEL)

    result = world.sync.run()

    assert result.exit_code == ExitCode.OK, result.describe()
    assert result.report["publish"]["mode"] == "refresh"
    assert result.report["publish"]["action"] == "started"
    assert len(world.sync.emu.powerbi.refresh_history(world.group, model)) == 1
    assert not any(d["name"] == "Community Engagement" for d in world.sync.emu.powerbi.datasets(world.group))


def test_off_mode_stages_only(world: PowerBIWorld) -> None:
    world.use("off")

    result = world.sync.run()

    assert result.exit_code == ExitCode.OK
    assert result.report["publish"] is None
    assert world.sync.emu.powerbi.datasets(world.group) == []


def test_a_mode_the_settings_cannot_carry_out_fails_before_any_list_is_read(world: PowerBIWorld) -> None:
    world.use("refresh")  # no powerbi.refresh_dataset

    result = world.sync.run()

    assert result.exit_code == ExitCode.FAILED
    assert result.error is not None and "powerbi.refresh_dataset" in result.error.message
    assert result.report["lists"] == {}
