"""`cetk publish` in a real process against `cetk emulator serve`'s demo tenant: --json is json.dumps of
pipeline.publish's value, it posts what `cetk report` shows (pipeline.build_published), a rerun posts nothing
(and builds nothing, unless --force), a held lock exits 3; a caller that holds the lock (a sync)
publishes through pipeline.publish_staged.

Values that differ between two runs by nature (the load id and sequence number from the clock, the time a
run took) are compared by shape, everything else exactly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.loader import load
from connectors.run_lock import LOCK_FILE_NAME, RunLock
from emulator.serve import ServeOptions, serving
from errors import ExitCode, RunLocked
from pipeline import build_published, publish, publish_staged
from tests.powerbi_dataset.publish_world import demo_staged, write_staged
from tests.test_cli_process import CETK, cetk, child_environment

CLOCK_FIELDS = ("load_id", "duration_seconds", "expected_seconds", "waited_seconds")
# A third of the demo force's default size, every published table still holding rows: these tests are about
# the command (its JSON, rerun, lock), and each publish and check builds the published tables again.
SIZES = {"events": 40, "ccrs": 80}


@pytest.fixture(autouse=True)
def _installed() -> None:
    if not CETK.exists():
        pytest.skip(f"the console script is not installed at {CETK}: run `make dev`")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The demo tenant on a socket, staged tables on disk, and the environment a cetk child needs."""
    with serving(ServeOptions(port=0, events=5, ccrs=5, state_dir=tmp_path / "emulator")) as (_s, _st, env):
        staging = write_staged(demo_staged(**SIZES), tmp_path / "staging")
        yield {
            "CETK_CONFIG": env.config_file,
            "CETK_PATHS_STAGING_DIR": str(staging),
            "CETK_PATHS_STATE_DIR": str(tmp_path / "state"),
        }


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: "<clock>" if key in CLOCK_FIELDS else masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    if isinstance(value, str) and value.startswith("Would post load "):
        return "Would post load <clock>"
    return value


def library(environ: dict[str, str], **options: Any) -> Any:
    settings = load(None, child_environment(environ), keyring=None).settings
    return publish(settings, **options).to_dict()


def test_dry_run_json_is_the_library_plan_and_writes_nothing(demo: dict[str, str], tmp_path: Path) -> None:
    result = cetk("publish", "--dry-run", "--json", env=demo, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert masked(printed) == masked(library(demo, dry_run=True))
    assert [step["step"] for step in printed["steps"]] == ["create_dataset", "post_load"]
    assert not (tmp_path / "state").exists()  # a dry run writes nothing, not even the publish state


def test_publish_reports_what_it_posted_and_a_rerun_posts_nothing(
    demo: dict[str, str], tmp_path: Path
) -> None:
    first = cetk("publish", "--json", env=demo, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    published = build_published(Path(demo["CETK_PATHS_STAGING_DIR"])).arrow  # what `cetk report` shows
    assert report["status"] == "published" and report["load_id"]
    assert {name: item["rows"] for name, item in report["tables"].items()} == {
        name: data.num_rows for name, data in published.items()
    }
    assert set(published) > set(demo_staged(**SIZES))  # the derived tables too
    assert report["posts"] == sum(item["posts"] for item in report["tables"].values()) + 1

    again = cetk("publish", "--json", env=demo, cwd=tmp_path)

    assert again.returncode == 0, again.stderr
    assert masked(json.loads(again.stdout)) == masked(library(demo))
    assert json.loads(again.stdout)["status"] == "unchanged" and json.loads(again.stdout)["posts"] == 0
    text = cetk("publish", env=demo, cwd=tmp_path)
    assert text.stdout.startswith("Publish to 'Community Engagement': unchanged\n  nothing the published")
    planned = cetk("publish", "--dry-run", env=demo, cwd=tmp_path)
    assert planned.returncode == 0 and planned.stdout.startswith("Would skip the build and post nothing: ")
    forced = cetk("publish", "--force", "--json", env=demo, cwd=tmp_path)  # built and compared: no change
    assert forced.returncode == 0, forced.stderr
    assert (
        json.loads(forced.stdout)["status"] == "nothing to publish"
        and json.loads(forced.stdout)["posts"] == 0
    )


def test_a_publish_while_another_run_holds_the_lock_exits_3(demo: dict[str, str], tmp_path: Path) -> None:
    with RunLock(Path(demo["CETK_PATHS_STATE_DIR"]) / LOCK_FILE_NAME):
        result = cetk("publish", env=demo, cwd=tmp_path)

    assert result.returncode == ExitCode.LOCKED
    assert result.stderr.startswith("Error: another cetk run holds the lock ")
    assert "Hint: wait for the other run to finish" in result.stderr and "Traceback" not in result.stderr
    assert os.listdir(demo["CETK_PATHS_STATE_DIR"]) == ["cetk-run.lock"]  # nothing else was written


def test_a_caller_holding_the_run_lock_publishes_through_publish_staged(demo: dict[str, str]) -> None:
    settings = load(None, child_environment(demo), keyring=None).settings
    with RunLock(settings.paths.state_dir / LOCK_FILE_NAME):
        with pytest.raises(RunLocked):
            publish(settings)  # takes the lock itself: refused, even in the process that holds it
        result = publish_staged(settings)

    assert result.to_dict()["status"] == "published"
    assert {name: item["rows"] for name, item in result.to_dict()["tables"].items()} == {
        name: data.num_rows for name, data in build_published(settings.paths.staging_dir).arrow.items()
    }
    assert library(demo)["status"] == "unchanged"  # the lock released; the state recorded the load
