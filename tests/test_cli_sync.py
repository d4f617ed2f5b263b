"""`cetk sync` on the command line, against `cetk emulator serve`'s demo tenant and the cetk.yaml it writes
(certificate sign-in over HTTPS, Sites.Selected with a read grant): exit codes, --json, --dry-run, --lists,
and the lock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from connectors.run_lock import LOCK_FILE_NAME, RunLock
from emulator.serve import DemoEnvironment, ServeOptions, serving

KEY = {"CETK_PSEUDONYMISATION_KEY": "a-demo-key-of-at-least-sixteen-bytes"}
runner = CliRunner()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoEnvironment]:
    monkeypatch.chdir(tmp_path)  # the demo config's paths (staging/...) are relative to where cetk runs
    options = ServeOptions(port=0, https=True, state_dir=tmp_path / "emulator", events=40, ccrs=90, seed=3)
    with serving(options) as (_server, _stack, environment):
        yield environment


def cetk(environment: DemoEnvironment, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--config", environment.config_file, *args], env=KEY)
    return result.exit_code, result.stdout, result.stderr


def test_sync_with_the_demo_config_stages_every_list_and_exits_1_for_its_quarantined_rows(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    code, out, _err = cetk(demo, "sync", "--json")

    assert code == 1  # the demo force carries deliberate errors: they are quarantined
    result = json.loads(out)
    assert result["exit_code"] == 1 and result["report"]["status"] == "partial"
    assert set(result["report"]["lists"]) == set(demo.list_items)
    for name, count in demo.list_items.items():
        assert result["report"]["lists"][name]["items_read"] == count
    assert (tmp_path / "staging" / "events.parquet").exists()
    assert (tmp_path / "staging" / "quarantine" / "events.csv").exists()
    assert Path(result["report_file"]).exists()

    again, text, _ = cetk(demo, "sync")

    assert again == 1 and "Sync partial" in text and "0 read" in text


def test_dry_run_reads_columns_and_links_and_writes_nothing(demo: DemoEnvironment, tmp_path: Path) -> None:
    code, out, _err = cetk(demo, "sync", "--dry-run", "--json")

    assert code == 0
    plan = json.loads(out)
    assert {one["list"] for one in plan["lists"]} == set(demo.list_items)
    assert {one["read"] for one in plan["lists"]} == {"full"}
    assert not (tmp_path / "staging").exists()


def test_lists_limits_the_run_and_an_unknown_list_fails_with_exit_2(demo: DemoEnvironment) -> None:
    code, out, _err = cetk(demo, "sync", "--lists", "LPTs,Officers", "--json")
    assert code == 1, out  # some of the demo's officers are quarantined
    assert set(json.loads(out)["report"]["lists"]) == {"LPTs", "Officers"}

    code, _out, err = cetk(demo, "sync", "--lists", "Events")
    assert code == 2
    assert "Error: --lists names a list the mapping" in err and "Engagement Events" in err


def test_a_second_run_while_the_lock_is_held_exits_3_with_a_clear_message(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    """R14 at the command line: exit 3 and a message naming the lock file and the run holding it."""
    state = tmp_path / "staging" / "state"
    state.mkdir(parents=True)
    with RunLock(state / LOCK_FILE_NAME):
        code, _out, err = cetk(demo, "sync")
    assert code == 3
    assert f"Error: another cetk run holds the lock staging/state/{LOCK_FILE_NAME}" in err and "Hint:" in err
    assert not (tmp_path / "staging" / "events.parquet").exists()
