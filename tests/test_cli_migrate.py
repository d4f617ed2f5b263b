"""`cetk migrate forms` and `cetk migrate forms init`: thin over the pipeline, --json is the library's result,
exit codes 0/1, an unmapped question stops the run naming it, and CSV written is safe against formulas (S4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cli import app
from config.loader import load
from pipeline import MigrateOptions, migrate_forms
from pipeline.migrate_rows import UnmappedQuestions
from transforms.forms_mapping import load_forms_mapping

KEY = "c" * 40  # a fake key, long enough for privacy.require_key
runner = CliRunner()
HEADER = ["ID", "Start time", "Completion time", "Email", "Name", "Date of contact", "Setting", "Comments"]
ROWS = [
    ["1", "2024-05-01 09:00:00", "2024-05-01 09:05:00", "pc.one@force.police.uk", "PC One", "01/05/2024", "Patrol", "=1+1"],
    ["2", "2024-05-02 09:00:00", "2024-05-02 09:05:00", "pc.one@force.police.uk", "PC One", "02/05/2024", "Door knock", ""],
    ["=HYPERLINK(\"http://x\")", "2024-05-03 09:00:00", "2024-05-03 09:05:00", "anonymous", "", "03/05/2024", "Patrol", ""],
    ["4", "2024-05-04 09:00:00", "2024-05-04 09:05:00", "pc.two@force.police.uk", "PC Two", "04/05/2024", "On a boat", ""],
]  # fmt: skip


def csv_text(rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"') else value

    return "\r\n".join(",".join(cell(v) for v in row) for row in [HEADER, *rows]) + "\r\n"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "=north_2024.csv").write_text(csv_text(ROWS), encoding="utf-8")
    config = {"paths": {"staging_dir": "staging", "quarantine_dir": "quarantine", "state_dir": "state"}}
    (tmp_path / "cetk.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    monkeypatch.setenv("CETK_PSEUDONYMISATION_KEY", KEY)
    return tmp_path


def reviewed_mapping(world: Path) -> Path:
    """`init`, then the review: the form's LPT and the three flags it never asked."""
    result = runner.invoke(
        app, ["migrate", "forms", "init", "=north_2024.csv", "--csv-times", "none", "--out", "m.yaml"]
    )
    assert result.exit_code == 0, result.output
    text = (world / "m.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    document["forms"][0]["files"] = ["=north_*"]  # every year's export of this form
    document["forms"][0]["constants"] = {
        "lpt_code": "STOKE_N",
        "information_submitted": False,
        "smart_alert_signup": False,
        "diversity_consent": False,  # the form asked no diversity questions
    }
    (world / "m.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return world / "m.yaml"


def test_init_proposes_a_mapping_for_review(world: Path) -> None:
    result = runner.invoke(
        app, ["migrate", "forms", "init", "=north_2024.csv", "--csv-times", "none", "--json"]
    )
    assert result.exit_code == 0, result.output
    proposal = json.loads(result.stdout)
    mapping = load_forms_mapping(proposal["mapping"], "proposed")
    questions = {q.text: q for q in mapping.forms[0].questions}
    assert questions["Date of contact"].to == "recorded_local_date"
    assert dict(questions["Setting"].choices) == {"Door knock": "DOOR_KNOCK", "Patrol": "PATROL"}
    assert questions["Comments"].ignore and "=1+1" not in proposal["mapping"]
    assert proposal["forms"] == {"north_2024": ["=north_2024.csv"]}


def test_migrate_json_equals_the_library_result_and_exits_1_with_quarantine(world: Path) -> None:
    mapping = reviewed_mapping(world)
    args = ["migrate", "forms", "=north_2024.csv", "--mapping", str(mapping), "--csv-times", "none"]
    result = runner.invoke(app, [*args, "--dry-run", "--json"])
    settings = load(
        world / "cetk.yaml", environ={"CETK_PSEUDONYMISATION_KEY": KEY}, keyring=None, strict=False
    )
    settings = settings.settings
    library = migrate_forms(
        [Path("=north_2024.csv")], mapping, settings, MigrateOptions(csv_time_locale=None), dry_run=True
    )
    assert result.exit_code == 1 and json.loads(result.stdout) == library.to_dict()
    report = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert (report["read"], report["written"], report["quarantined"], report["duplicates"]) == (4, 2, 2, 0)
    assert report["quarantined_by_rule"] == {"missing-value": 2, "unknown-label": 1}  # row 5 breaks both
    quarantine = Path(report["quarantine_file"]).read_text(encoding="utf-8-sig")
    lines = quarantine.splitlines()[1:]
    assert lines and all(line.startswith("'=north_2024.csv,") for line in lines)  # S4: a formula stays text
    assert "On a boat" not in quarantine and "pc.two" not in quarantine
    assert "Quarantined 2" in runner.invoke(app, args).stdout


def test_an_unmapped_question_stops_the_run_and_names_it(world: Path) -> None:
    mapping = reviewed_mapping(world)
    (world / "=north_2025.csv").write_text(
        csv_text([]).replace("Comments", "Comments,Anything else?"), encoding="utf-8"
    )
    args = ["migrate", "forms", "=north_2025.csv", "--mapping", str(mapping), "--csv-times", "none"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and isinstance(result.exception, UnmappedQuestions)
    assert "=north_2025.csv: 'Anything else?'" in str(result.exception)
    assert not (world / "staging").exists()


def test_migrate_needs_a_mapping_and_a_known_target(world: Path) -> None:
    assert runner.invoke(app, ["migrate", "forms", "=north_2024.csv"]).exit_code == 2
    mapping = reviewed_mapping(world)
    assert (
        runner.invoke(
            app, ["migrate", "forms", "=north_2024.csv", "--mapping", str(mapping), "--to", "x"]
        ).exit_code
        == 2
    )
