"""`cetk sync`, `cetk check` and `cetk mapping propose` on the command line, against `cetk emulator serve`'s demo tenant and the cetk.yaml it writes
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
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.serve import DemoEnvironment, ServeOptions, serving
from transforms.list_mapping import load_mapping

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


def test_check_reports_every_area_and_exits_0_on_the_demo(demo: DemoEnvironment) -> None:
    code, out, _err = cetk(demo, "check", "--json")

    report = json.loads(out)
    assert code == 0 and report["ok"] is True, out
    rows = {(one["area"], one["item"]): one for one in report["checks"]}
    assert rows[("sign-in", "Microsoft Graph")]["detail"] == "token acquired"
    assert rows[("sign-in", "Power BI")]["status"] == "ok"
    assert rows[("site", demo.site_url)]["status"] == "ok"
    assert {item for area, item in rows if area == "list"} == set(demo.list_items)
    assert rows[("list", "Engagement Events")]["status"] == "warning"  # the demo's legacy labels
    assert "FUN_RUN" in rows[("list", "Engagement Events")]["detail"]
    assert rows[("powerbi", demo.workspace_id)]["status"] == "ok"


def test_check_without_the_pseudonymisation_key_fails_with_exit_2(demo: DemoEnvironment) -> None:
    result = runner.invoke(app, ["--config", demo.config_file, "check"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert "pseudonymisation key" in result.stdout and "failed" in result.stdout


def test_mapping_propose_writes_a_mapping_of_the_demo_lists_and_keeps_an_existing_file(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    target = tmp_path / "proposed.yaml"
    code, out, _err = cetk(demo, "mapping", "propose", "--out", str(target))

    assert code == 0, out
    assert out.startswith(f"Wrote {target}")
    proposed = load_mapping(target.read_text(encoding="utf-8"), target.name)
    expected = {one.display_name: one.table for one in DEMO_SITE_MAPPING.lists}
    assert {one.display_name: one.table for one in proposed.lists} == expected
    assert all(column.confidence is not None for one in proposed.lists for column in one.columns)

    dry, text, _ = cetk(demo, "mapping", "propose", "--out", str(tmp_path / "other.yaml"), "--dry-run")
    assert dry == 0 and text.startswith("Would create") and not (tmp_path / "other.yaml").exists()
    refused = runner.invoke(
        app, ["--config", demo.config_file, "mapping", "propose", "--out", str(target)], env=KEY
    )
    assert refused.exit_code != 0 and "already exists" in str(refused.exception)
