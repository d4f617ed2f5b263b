"""`cetk report` from a staged sync of the demo force: pages, figures, disclosure, no personal detail, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cli import app, main
from config.settings import Paths
from connectors.reference_files import demo_geography_files
from connectors.staging import staged_path
from errors import ConfigError, SourceFormatError
from pipeline import build_report
from pipeline.published import DEMO_GEOGRAPHY_NOTE
from powerbi_dataset.model import DATASET
from tests.demo_staging import DRIFT_LABEL, DemoReport

PAGES = ["events", "outcomes", "submissions", "ccr-outcomes", "ccr-submissions", "evaluation", "quality"]
runner = CliRunner()


def test_the_report_has_the_five_pages_the_evaluation_and_data_quality(demo_report: DemoReport) -> None:
    result = demo_report.result
    assert result.written and result.path == demo_report.out_dir / "report.html"
    assert [anchor for anchor, _title in result.pages] == PAGES
    html = demo_report.html
    for anchor in PAGES:
        assert f'<section class="page" id="{anchor}">' in html and f'href="#{anchor}"' in html
    assert html.count("<svg") >= 10  # charts and two maps, inline
    assert 'src="data:image/png;base64,' in html  # the word cloud
    assert "Association, not cause." in html


def test_the_result_carries_every_measure_and_published_row_counts(demo_report: DemoReport) -> None:
    result = demo_report.result
    value = json.loads(json.dumps(result.to_dict()))
    assert value["figures"]["Events recorded"] == demo_report.staged["events"]
    assert value["figures"]["CCRs"] == demo_report.staged["ccr"]
    assert value["published_rows"]["events"] == demo_report.staged["events"]
    assert value["published_rows"]["yswd_evaluation"] > 0 and value["published_rows"]["issue_top5"] > 0
    assert sorted(value["figures"]) == sorted(measure.name for measure in DATASET.measures)
    assert value["notes"] == [DEMO_GEOGRAPHY_NOTE]  # no geography.dir: the demo's files, said so
    assert DEMO_GEOGRAPHY_NOTE.replace("'", "&#x27;") in demo_report.html


def test_disclosure_control_is_applied_in_the_report(demo_report: DemoReport) -> None:
    html = demo_report.html
    assert demo_report.result.suppressed_cells > 0 and "[c]" in html
    # Special-category answers appear only as categories of the aggregate, never beside a row id.
    ccr_ids = pq.read_table(staged_path(demo_report.paths.staging_dir, "ccr"), columns=["ccr_id"])
    assert not [ccr_id for ccr_id in ccr_ids.column("ccr_id").to_pylist() if ccr_id in html]


def test_no_planted_personal_detail_or_officer_identity_is_in_the_report(demo_report: DemoReport) -> None:
    html = demo_report.html
    force = demo_report.force
    assert force.planted_pii
    assert [detail for detail in force.planted_pii if detail in html] == []
    identities = force.identities
    for column in ("display_name", "email"):
        assert [value for value in identities[column].astype(str) if value in html] == [], column
    # Staff numbers are short digit strings: look for them as words of the text, outside charts and images.
    text = re.sub(r'<svg.*?</svg>|src="data:[^"]*"', " ", html, flags=re.DOTALL)
    found = [number for number in identities["staff_number"].astype(str) if re.search(rf"\b{number}\b", text)]
    assert found == []
    keys = pq.read_table(staged_path(demo_report.paths.staging_dir, "officers"), columns=["officer_key"])
    assert [key for key in keys.column("officer_key").to_pylist() if key in html] == []  # pseudonyms too


def test_the_report_refers_to_nothing_outside_itself(demo_report: DemoReport) -> None:
    html = demo_report.html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    sources = re.findall(r'\bsrc="([^"]*)"', html)
    assert sources and all(source.startswith("data:image/png;base64,") for source in sources)
    links = re.findall(r'\bhref="([^"]*)"', html)
    assert links and all(link.startswith(("#", "data:image/png;base64,")) for link in links)  # a colour bar
    assert all(url.startswith("#") for url in re.findall(r"url\(([^)]*)\)", html))
    assert "default-src 'none'" in html  # and the page forbids any fetch it might still make


def test_the_data_quality_page_reads_quarantine_drift_and_the_ledger(demo_report: DemoReport) -> None:
    html = demo_report.html
    quality = html[html.index('id="quality"') :]
    assert demo_report.result.quarantined_rows > 0 and demo_report.result.drift_warnings >= 1
    assert "no-issues-exclusive" in quality  # a rule the demo's deliberate errors break
    assert DRIFT_LABEL.replace("'", "&#x27;") in quality  # the unmapped choice label the sync met
    assert "partial" in quality and "2026-11-02 09:00:00" in quality  # the recorded run


def test_dry_run_builds_but_writes_nothing(demo_report: DemoReport, tmp_path: Path) -> None:
    out = tmp_path / "nowhere"
    result = build_report(demo_report.paths, out, dry_run=True)
    assert not result.written and not out.exists() and result.size_bytes > 0


def test_no_staging_directory_is_an_actionable_error(tmp_path: Path) -> None:
    paths = Paths(tmp_path / "missing", tmp_path / "missing" / "quarantine", tmp_path / "missing" / "state")
    with pytest.raises(SourceFormatError, match="no staging directory") as caught:
        build_report(paths, tmp_path / "out")
    assert "cetk sync" in caught.value.hint


def test_an_out_path_that_is_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory", encoding="utf-8")
    paths = Paths(tmp_path / "missing", tmp_path / "missing" / "quarantine", tmp_path / "missing" / "state")
    with pytest.raises(ConfigError, match="is a file, not a directory"):
        build_report(paths, taken)


def test_cli_report_json_is_the_library_result(demo_report: DemoReport, tmp_path: Path) -> None:
    out = tmp_path / "cli-report"
    staging = str(demo_report.paths.staging_dir)
    geography = str(demo_geography_files().ward_lookup.parent)
    result = runner.invoke(
        app,
        [
            "report",
            "--staging",
            staging,
            "--out",
            str(out),
            "--json",
            "--weeks",
            "4",
            "--geography",
            geography,
        ],
    )
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)
    assert value["notes"] == []  # the geography was named
    assert value["path"] == str(out / "report.html") and (out / "report.html").is_file()
    assert [page["anchor"] for page in value["pages"]] == PAGES
    assert "4 weeks before the action" in (out / "report.html").read_text(encoding="utf-8")
    plain = runner.invoke(app, ["report", "--staging", staging, "--out", str(out), "--dry-run"])
    assert plain.exit_code == 0 and plain.stdout.startswith(f"Would write {out / 'report.html'}")


def test_cli_report_without_staging_exits_2_with_error_and_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", "--staging", str(tmp_path / "none"), "--out", str(tmp_path / "out")])
    assert exited.value.code == 2
    stderr = capsys.readouterr().err
    assert "Error: no staging directory at" in stderr and "Hint: run `cetk sync`" in stderr
