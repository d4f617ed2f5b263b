"""The published tables built from staged ones: model shape, scrubbed text, rounded points, top five."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.reference_files import demo_geography_files, load_geography
from emulator.demo.force import Force, generate_force
from errors import SourceFormatError
from powerbi_dataset.model import DATASET
from transforms.analytics import Analytics, AnalyticsOptions, build_analytics, issue_top5, resolve_issues
from transforms.geography import Geography
from transforms.theme_taxonomy import load_taxonomy
from transforms.validate import validate_dataset


@pytest.fixture(scope="module")
def force() -> Force:
    # Unvalidated canonical rows with the planted personal details still in their free text.
    return generate_force(seed=11, events=300, ccrs=400, invalid_fraction=0)


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography(demo_geography_files())


@pytest.fixture(scope="module")
def analytics(force: Force, geography: Geography) -> Analytics:
    return build_analytics(force.tables, geography)


def text_cells(tables: dict[str, pd.DataFrame]) -> str:
    return "\n".join(
        str(value)
        for table in tables.values()
        for column in table.columns
        if table[column].dtype == "string"
        for value in table[column].dropna()
    )


def test_every_published_table_has_the_models_published_columns_and_validates(analytics: Analytics) -> None:
    assert set(analytics.tables) == {table.name for table in DATASET.published_tables} - {"_loads"}
    for name, table in analytics.tables.items():
        published = [c.name for c in DATASET.table(name).published_columns if c.name != "load_id"]
        assert list(table.columns) == published, name
    with_load = {
        name: table.assign(load_id=pd.Series([None] * len(table), dtype="string"))
        for name, table in analytics.tables.items()
    }
    report = validate_dataset(with_load, DATASET)
    unpublished = {(t.name, c.name) for t in DATASET.tables for c in t.columns if not c.published}
    assert [p for p in report.problems if (p.table, p.column) not in unpublished] == []
    assert {p.code for p in report.problems} <= {"missing-column"}
    assert len(analytics.tables["yswd_evaluation"]) > 0 and len(analytics.tables["word_cloud"]) > 0


def test_no_planted_personal_detail_reaches_a_published_table(force: Force, analytics: Analytics) -> None:
    planted_in_input = [detail for detail in force.planted_pii if detail in text_cells(force.tables)]
    assert planted_in_input  # the input still carries them: the analytics scrub again
    assert [detail for detail in force.planted_pii if detail in text_cells(analytics.tables)] == []


def test_event_points_are_rounded_and_ccrs_carry_no_coordinates(analytics: Analytics) -> None:
    events = analytics.tables["events"]
    lat = events["location_lat"].dropna().astype(float)
    assert len(lat) > 0 and all(abs(value * 1000 - round(value * 1000)) < 1e-6 for value in lat)
    assert not {"location_lat", "location_lon"} & set(analytics.tables["ccr"].columns)


def test_missing_staged_tables_are_named(force: Force, geography: Geography) -> None:
    staged = {name: table for name, table in force.tables.items() if name != "ccr_issues"}
    with pytest.raises(SourceFormatError, match="ccr_issues"):
        build_analytics(staged, geography)


def test_issue_top5_on_a_hand_made_month() -> None:
    def day(text: str) -> pd.Timestamp:
        return pd.Timestamp(text, tz="UTC")

    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3", "e4"],
            "status": ["COMPLETED", "COMPLETED", "COMPLETED", "PLANNED"],
            "lpt_code": ["CANNOCK", "CANNOCK", "TAMWORTH", "TAMWORTH"],
            "start_local_date": [day("2026-01-05"), day("2026-01-20"), day("2026-02-02"), day("2026-02-03")],
        }
    ).convert_dtypes()
    event_issues = pd.DataFrame(
        {
            "event_id": ["e1", "e1", "e2", "e3", "e4", "e4"],
            "theme_code": ["ASB", "DRUGS", "ASB", "NOISE", "ASB", "BURGLARY"],
            "rank": [1, 2, 1, 1, 1, 2],
        }
    ).convert_dtypes()
    ccr = pd.DataFrame(
        {"ccr_id": ["c1"], "lpt_code": ["TAMWORTH"], "recorded_local_date": [day("2026-02-10")]}
    ).convert_dtypes()
    ccr_issues = pd.DataFrame({"ccr_id": ["c1"], "theme_code": ["NO_ISSUES"]}).convert_dtypes()
    tables = {"events": events, "event_issues": event_issues, "ccr": ccr, "ccr_issues": ccr_issues}
    top = issue_top5(tables)
    force = top[(top["issues_from"] == "EVENTS") & (top["level"] == "FORCE")]
    assert list(zip(force["theme_code"], force["count"], force["rank"], strict=True)) == [
        ("ASB", 2, 1),  # e1, e2 (e4 is only planned)
        ("NOISE", 1, 2),  # ties on count go to the better rank at the event: 1 at e3
        ("DRUGS", 1, 3),  # 2 at e1
    ]
    months = top[(top["issues_from"] == "EVENTS") & (top["level"] == "LPT_MONTH")]
    assert sorted(set(months["group_id"])) == ["CANNOCK/2026-01", "TAMWORTH/2026-02"]
    assert top[top["issues_from"] == "CCRS"].empty  # "no issues" is never an issue


def test_structured_issues_win_and_free_text_fills_only_parents_without_any() -> None:
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2", "e3"],
            "issues_note": ["Burglary on the estate", "Boy racers speeding on the main road", None],
        }
    ).convert_dtypes()
    structured = pd.DataFrame({"event_id": ["e1"], "theme_code": ["ASB"], "rank": [1]}).convert_dtypes()
    options = AnalyticsOptions(taxonomy=load_taxonomy(), issue_text_columns={"events": "issues_note"})
    rows, origin = resolve_issues(structured, events, "event_id", options, text_table="events")
    assert sorted(zip(rows["event_id"], rows["theme_code"], strict=True)) == [
        ("e1", "ASB"),  # e1's note (burglary) is not read: the officer's choices stand
        ("e2", "SPEEDING_ROAD_SAFETY"),
    ]
    assert origin == {"structured": 1, "free_text": 1}
    without = AnalyticsOptions(issue_text_columns={"events": "issues_note"})
    with pytest.raises(ValueError, match="taxonomy"):
        resolve_issues(structured, events, "event_id", without, text_table="events")
    plain, counted = resolve_issues(structured, events, "event_id", AnalyticsOptions(), text_table="events")
    assert list(plain["event_id"]) == ["e1"] and counted == {"structured": 1, "free_text": 0}
