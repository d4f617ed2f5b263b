"""A publish with nothing changed builds nothing and posts nothing (docs/publishing.md, "When nothing
changed"): the digest of what the published tables are built from (pipeline/publish_inputs.py) equals the
one the publish state recorded with the last complete publish, the state is settled and the workspace still
holds that dataset. Anything else builds and compares as before.

Each test stages a small demo force on disk and publishes it through `pipeline.publish_staged` into the
HTTPS emulator's Power BI; `build_published` is watched where the publish calls it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from connectors.publish_state import PublishState
from connectors.reference_files import demo_geography_files
from emulator.demo.force import Force
from errors import SourceFormatError
from pipeline import build_published, publish, publish_staged
from pipeline.publish import PublishPlanned
from pipeline.published import Published
from powerbi_dataset.push_api import PushClient
from tests.connectors.conftest import ManualTime, StartEmulator, Waits, clock, start_emulator, tls_dir, waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import (
    DATASET_NAME,
    copy_demo_geography,
    demo_force,
    view_differences,
)
from tests.test_pipeline_publish_published import World

__all__ = ["clock", "start_emulator", "tls_dir", "waits"]  # the emulator fixtures, used below

PUBLISH_MODULE = importlib.import_module("pipeline.publish")  # `pipeline.publish` names the function
SMALL = {"events": 40, "ccrs": 80}  # every published table still holds rows; each build costs less


@dataclass
class Builds:
    """build_published as the publish calls it, counted."""

    calls: int = 0


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    counted = Builds()
    real = PUBLISH_MODULE.build_published

    def watched(*args: Any, **kwargs: Any) -> Published:
        counted.calls += 1
        built: Published = real(*args, **kwargs)
        return built

    monkeypatch.setattr(PUBLISH_MODULE, "build_published", watched)
    return counted


@pytest.fixture
def world(start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path) -> World:
    return World(open_workspace(start_emulator, clock, waits), tmp_path, clock, waits)


def small_force(seed: int = 7) -> Force:
    return demo_force(seed=seed, **SMALL)


def run(world: World, client: PushClient | None = None, **options: Any) -> dict[str, Any]:
    settings = options.pop("settings", None) or world.settings()
    return publish_staged(
        settings,
        client=client or world.workspace.client,
        clock=world.clock.time,
        sleep=world.waits,
        **options,
    ).to_dict()


def requests_since(world: World, before: int) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in world.workspace.emu.emulator.request_log[before:]]


def row_posts(requests: Sequence[tuple[str, str]]) -> int:
    return sum(1 for method, path in requests if method == "POST" and path.endswith("/rows"))


def test_a_rerun_with_nothing_changed_builds_nothing_and_posts_nothing(world: World, builds: Builds) -> None:
    world.stage(small_force())
    first = run(world)
    assert first["status"] == "published" and builds.calls == 1
    before = len(world.workspace.emu.emulator.request_log)

    again = run(world)

    assert builds.calls == 1  # not built again
    assert again["status"] == "unchanged" and again["rows"] == 0 and again["posts"] == 0
    assert again["dataset_id"] == first["dataset_id"] and first["load_id"] in again["reason"]
    assert "--force" in again["reason"]
    requests = requests_since(world, before)
    assert row_posts(requests) == 0 and {method for method, _path in requests} == {"GET"}
    assert len(requests) == 2  # the workspace's datasets, and the dataset's tables
    assert view_differences(world.stored(), build_published(world.root / "staging").arrow) == {}


def test_force_builds_and_compares_and_a_dry_run_says_it_would_skip(world: World, builds: Builds) -> None:
    world.stage(small_force())
    run(world)

    planned = publish(world.settings(), dry_run=True, client=world.workspace.client)

    assert isinstance(planned, PublishPlanned) and builds.calls == 1
    assert planned.unchanged is not None and planned.plan.steps == ()
    assert planned.describe().startswith(
        "Would skip the build and post nothing: nothing the published tables"
    )
    assert planned.to_dict()["unchanged"] == planned.unchanged

    forced_plan = publish(world.settings(), dry_run=True, force=True, client=world.workspace.client)
    assert isinstance(forced_plan, PublishPlanned) and forced_plan.unchanged is None
    assert builds.calls == 2

    forced = run(world, force=True)

    assert builds.calls == 3
    assert forced["status"] == "nothing to publish" and forced["posts"] == 0  # built, compared: no change


@pytest.mark.parametrize("option", [{"recreate": True}, {"compact": ("ccr",)}])
def test_recreate_and_compact_never_skip(world: World, builds: Builds, option: dict[str, Any]) -> None:
    world.stage(small_force())
    run(world)

    planned = publish(world.settings(), dry_run=True, client=world.workspace.client, **option)

    assert isinstance(planned, PublishPlanned) and planned.unchanged is None and builds.calls == 2
    assert "post_load" in [step.to_dict()["step"] for step in planned.plan.steps]


def test_a_change_in_a_staged_file_is_built_and_posted(world: World, builds: Builds) -> None:
    world.stage(small_force())
    run(world)
    world.stage(small_force(seed=8))  # another force: every staged file's bytes differ

    changed = run(world)

    assert builds.calls == 2 and changed["status"] == "published" and changed["posts"] > 0
    assert view_differences(world.stored(), build_published(world.root / "staging").arrow) == {}
    assert run(world)["status"] == "unchanged" and builds.calls == 2  # recorded again


def test_a_staged_file_removed_is_noticed(world: World, builds: Builds) -> None:
    staging = world.stage(small_force())
    run(world)
    (staging / "you_said_we_did.parquet").unlink()

    with pytest.raises(SourceFormatError, match="no staged table you_said_we_did"):
        run(world)  # built, and refused by the build as before: never "unchanged"

    assert builds.calls == 2


def test_a_setting_that_shapes_the_tables_rebuilds(world: World, builds: Builds) -> None:
    world.stage(small_force())
    run(world)

    stricter = run(world, settings=world.settings(CETK_DISCLOSURE_THRESHOLD="20"))
    assert builds.calls == 2 and stricter["status"] != "unchanged"

    weeks = run(
        world, settings=world.settings(CETK_DISCLOSURE_THRESHOLD="20", CETK_REPORT_EVALUATION_WEEKS="4")
    )
    assert builds.calls == 3 and weeks["status"] == "published"
    assert "yswd_evaluation" in weeks["tables"]  # the evaluation's rows change with its weeks


def test_a_change_in_a_geography_file_rebuilds(world: World, builds: Builds, tmp_path: Path) -> None:
    world.stage(small_force())
    folder = copy_demo_geography(tmp_path / "geography")
    settings = world.settings(CETK_GEOGRAPHY_DIR=str(folder))
    run(world, settings=settings)
    assert run(world, settings=settings)["status"] == "unchanged" and builds.calls == 1

    boundaries = folder / demo_geography_files().ward_boundaries.name
    same = json.dumps(json.loads(boundaries.read_text(encoding="utf-8")), indent=1)
    boundaries.write_text(same, encoding="utf-8")  # the same wards in other bytes: built again to find out

    again = run(world, settings=settings)

    assert builds.calls == 2 and again["status"] == "nothing to publish"


def test_the_demo_geography_and_a_folder_of_the_same_files_are_different_inputs(
    world: World, builds: Builds, tmp_path: Path
) -> None:
    world.stage(small_force())
    run(world)
    folder = copy_demo_geography(tmp_path / "geography")

    run(world, settings=world.settings(CETK_GEOGRAPHY_DIR=str(folder)))  # the published notes differ

    assert builds.calls == 2


class CrashAfterCommitPost:
    """A client that delivers the `_loads` commit row, then dies before its answer is recorded: the load is
    left uncertain, and the service may show it."""

    def __init__(self, client: PushClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def post_rows(self, dataset_id: str, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self._client.post_rows(dataset_id, table, rows)
        if table == "_loads":
            raise KeyboardInterrupt  # as a kill would, after the request reached the service


def test_a_publish_interrupted_during_its_commit_is_finished_by_the_next_run_even_with_the_old_inputs(
    world: World, builds: Builds
) -> None:
    first = small_force()
    world.stage(first)
    run(world)
    world.stage(small_force(seed=8))
    with pytest.raises(KeyboardInterrupt):
        run(world, client=CrashAfterCommitPost(world.workspace.client))
    with PublishState.open(world.root / "state") as state:
        assert [load.status for load in state.loads("uncertain")] == ["uncertain"]
    world.stage(first)  # the change at source undone: the inputs are those of the first publish again

    resumed = run(world)

    assert builds.calls == 3 and resumed["status"] == "published"  # the uncertain load's keys posted again
    assert view_differences(world.stored(), build_published(world.root / "staging").arrow) == {}
    with PublishState.open(world.root / "state") as state:
        assert state.loads("open", "committing", "uncertain") == []
    assert run(world)["status"] == "unchanged" and builds.calls == 3


def test_a_dataset_deleted_in_the_service_is_created_and_loaded_again(world: World, builds: Builds) -> None:
    world.stage(small_force())
    first = run(world)
    world.workspace.client.delete_dataset(first["dataset_id"])

    again = run(world)

    assert builds.calls == 2 and again["status"] == "published"
    assert again["dataset_id"] != first["dataset_id"] and "Created the push dataset" in again["steps"][0]
    assert view_differences(world.stored(), build_published(world.root / "staging").arrow) == {}


def test_a_dataset_replaced_by_another_of_its_name_is_adopted_and_restated(
    world: World, builds: Builds
) -> None:
    world.stage(small_force())
    first = run(world)
    world.workspace.client.delete_dataset(first["dataset_id"])
    planned = publish(world.settings(), dry_run=True, client=world.workspace.client)
    assert isinstance(planned, PublishPlanned)
    world.workspace.client.create_dataset(planned.sink.definition)  # made by someone else, empty

    again = run(world)

    assert builds.calls == 3 and again["status"] == "published"
    assert any(step.startswith("Adopted dataset") for step in again["steps"])
    assert view_differences(world.stored(), build_published(world.root / "staging").arrow) == {}
    assert again["dataset"] == DATASET_NAME


class KilledDuringRows:
    """A client whose process is killed right after its second row POST reached the service, before the
    publish state recorded anything more: with `PublishState.abandon` dying too, the load stays `open`, as
    after kill -9 (tests/powerbi_dataset/test_crash.py does it with a real child process)."""

    def __init__(self, client: PushClient) -> None:
        self._client = client
        self.posts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def post_rows(self, dataset_id: str, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self._client.post_rows(dataset_id, table, rows)
        self.posts += 1
        if self.posts == 2:
            raise KeyboardInterrupt


def test_a_load_left_open_by_a_kill_is_settled_by_the_next_run_even_with_the_old_inputs(
    world: World, builds: Builds, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = small_force()
    world.stage(first)
    run(world)
    world.stage(small_force(seed=8))
    with monkeypatch.context() as killed:

        def dies(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        killed.setattr(PublishState, "abandon", dies)
        with pytest.raises(KeyboardInterrupt):
            run(world, client=KilledDuringRows(world.workspace.client))
    with PublishState.open(world.root / "state") as state:
        assert [load.status for load in state.loads("open")] == ["open"]
    world.stage(first)

    resumed = run(world)

    assert builds.calls == 3  # built: the open load settled (abandoned), the first load's rows still shown
    assert resumed["status"] == "nothing to publish" and resumed["posts"] == 0
    with PublishState.open(world.root / "state") as state:
        assert state.loads("open", "committing", "uncertain") == []
    assert view_differences(world.stored(), build_published(world.root / "staging").arrow) == {}
    assert run(world)["status"] == "unchanged" and builds.calls == 3
