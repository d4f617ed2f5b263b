"""The demo force: deterministic, canonical in shape, realistic, and its manifest names every error."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter

import pandas as pd
import pytest

from emulator.demo.force import AS_OF, CANONICAL_TABLES, Force, generate_force
from emulator.demo.reference import DEMO_OFFICER_KEY
from powerbi_dataset.model import DATASET, DEMOGRAPHIC_COLUMNS
from tests.manifest import FINGERPRINTER, expected, reported
from transforms.validate import validate_dataset

DTYPE_BY_KIND = {
    "String": "string",
    "Int64": "Int64",
    "Double": "Float64",
    "Boolean": "boolean",
    "DateTime": "datetime64[us, UTC]",
}


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=7, events=2000, ccrs=10000)


@pytest.fixture(scope="module")
def clean() -> Force:
    return generate_force(seed=7, events=2000, ccrs=10000, invalid_fraction=0)


def manifest(force: Force) -> Counter[tuple[str, str, str, str]]:
    return expected((e.table, e.key, e.column, e.code) for e in force.injected)


def check_dataset(force: Force) -> Counter[tuple[str, str, str, str]]:
    """What the real validator reports for the force, in the manifest's terms."""
    report = validate_dataset(force.tables, as_of=force.as_of, fingerprinter=FINGERPRINTER)
    assert report.skipped_rules == ()
    return reported(report)


def test_same_arguments_give_the_same_force() -> None:
    first = generate_force(seed=3, events=150, ccrs=200)
    second = generate_force(seed=3, events=150, ccrs=200)
    for name in CANONICAL_TABLES:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    assert first.injected == second.injected
    assert first.planted_pii == second.planted_pii
    other = generate_force(seed=4, events=150, ccrs=200)
    assert not first.tables["events"]["event_name"].equals(other.tables["events"]["event_name"])


def test_every_canonical_table_has_the_model_columns_and_types(force: Force) -> None:
    assert set(force.tables) == set(CANONICAL_TABLES)
    assert "_loads" not in force.tables and "ccr_demographics_agg" not in force.tables
    for name, frame in force.tables.items():
        table = DATASET.table(name)
        assert tuple(frame.columns) == table.column_names
        for column in table.columns:
            assert str(frame[column.name].dtype) == DTYPE_BY_KIND[column.kind], (name, column.name)


def test_clean_variant_has_no_problems_and_no_manifest(clean: Force) -> None:
    assert clean.injected == []
    assert check_dataset(clean) == Counter()


def test_each_injected_error_triggers_exactly_its_recorded_codes(force: Force) -> None:
    assert len(force.injected) > 0
    assert check_dataset(force) == manifest(force)


def test_clean_rows_are_the_same_rows_as_in_the_dirty_variant(force: Force, clean: Force) -> None:
    touched = {e.key for e in force.injected if e.table == "areas"}
    assert not touched
    pd.testing.assert_frame_equal(force.tables["themes"], clean.tables["themes"])
    assert len(force.tables["events"]) >= len(clean.tables["events"])


def test_manifest_covers_every_rule_code_of_the_tables(force: Force) -> None:
    codes = {e.code for e in force.injected}
    declared = {rule.code for name in CANONICAL_TABLES for rule in DATASET.table(name).rules}
    generic = {"missing-value", "unknown-code", "out-of-range", "too-long", "bad-format", "not-a-date",
               "duplicate-key", "orphan-reference"}  # fmt: skip
    assert declared | generic <= codes


def test_events_look_like_a_force(clean: Force) -> None:
    events = clean.tables["events"]
    assert set(events["lpt_code"]) == {code.code for code in DATASET.table("areas").column("lpt_code").codes}
    past = events[events["status"].isin(["COMPLETED", "CANCELLED"])]
    assert (past["end_utc"] <= AS_OF).all()
    planned = events[events["status"] == "PLANNED"]
    assert len(planned) > 0 and (planned["start_utc"] > AS_OF).all()
    assert (planned["start_utc"] < AS_OF + pd.Timedelta(days=60)).all()
    assert (events["status"] == "COMPLETED").mean() > 0.85
    assert events["start_utc"].min() > AS_OF - pd.Timedelta(days=940)
    months = events["start_local_date"].dt.month.value_counts()
    assert months[7] > 1.3 * months[12]  # summer busier than Christmas
    assert events["event_type"].value_counts().index[0] in ("BEAT_SURGERY", "COMMUNITY_MEETING")
    attendance = events["total_attendance"].dropna()
    assert attendance.max() > 10 * attendance.median()  # long-tailed
    linked = clean.tables["event_officers"].groupby("event_id").size()
    assert (events.set_index("event_id")["officers_present"].reindex(linked.index) >= linked).all()
    lat = events["location_lat"].dropna()
    assert lat.between(52.40, 53.25).all() and (lat.round(3) == lat).all()


def test_officers_are_pcso_and_pc_heavy_with_keyed_pseudonyms(clean: Force) -> None:
    officers = clean.tables["officers"]
    assert 380 <= len(officers) <= 420
    assert officers["role"].isin(["PCSO", "PC"]).mean() > 0.6
    row = clean.identities.iloc[0]
    digest = hmac.new(DEMO_OFFICER_KEY, str(row["staff_number"]).encode(), hashlib.sha256).hexdigest()[:16]
    assert row["officer_key"] == digest
    assert set(clean.identities["officer_key"]) == set(officers["officer_key"])


def test_identities_never_reach_canonical_tables(force: Force) -> None:
    secrets = set(force.identities["display_name"]) | set(force.identities["email"])
    for frame in force.tables.values():
        for column in frame.columns:
            if str(frame[column].dtype) == "string":
                assert not secrets & set(frame[column].dropna()), column


def test_ccr_rules_hold_in_the_clean_data(clean: Force) -> None:
    ccr = clean.tables["ccr"]
    assert 0.35 <= ccr["diversity_consent"].mean() <= 0.45
    unconsented = ccr[~ccr["diversity_consent"]]
    assert unconsented[list(DEMOGRAPHIC_COLUMNS)].isna().all().all()
    assert ccr.loc[ccr["age_band"] == "U16", "gender_same_as_birth"].isna().all()
    assert ccr.loc[ccr["health_condition_12m"] != "Y", "activity_limited"].isna().all()
    at_event = ccr["contact_setting"] == "EVENT"
    assert (at_event == ccr["event_id"].notna()).all()
    assert 0.30 <= at_event.mean() <= 0.40
    consented = ccr[ccr["diversity_consent"]]
    assert consented["ethnicity_2021"].value_counts(normalize=True)["W_BRITISH"] > 0.7
    assert ccr["lsoa21_code"].dropna().str.fullmatch(r"E01\d{6}").all()


def test_issue_profiles_differ_by_lpt(clean: Force) -> None:
    issues = clean.tables["ccr_issues"].merge(clean.tables["ccr"][["ccr_id", "lpt_code"]], on="ccr_id")
    issues = issues[issues["theme_code"] != "NO_ISSUES"]
    top = {
        lpt: tuple(group["theme_code"].value_counts().index[:5]) for lpt, group in issues.groupby("lpt_code")
    }
    assert len(set(top.values())) >= 8


def test_actions_are_about_one_per_five_events(clean: Force) -> None:
    actions = clean.tables["you_said_we_did"]
    assert len(actions) == len(clean.tables["events"]) // 5
    at_event = actions[actions["origin"] == "EVENT"]
    assert at_event["event_id"].isin(clean.tables["events"]["event_id"]).all()


def test_planted_pii_is_recorded_and_really_planted(force: Force) -> None:
    assert len(force.planted_pii) >= 30
    texts = [force.tables["events"]["event_name"], force.tables["you_said_we_did"]["you_said"],
             force.tables["you_said_we_did"]["we_did"]]  # fmt: skip
    corpus = "\n".join("\n".join(series.dropna()) for series in texts) + "\n".join(force.event_notes.values())
    for detail in force.planted_pii:
        assert detail in corpus
    canonical = "\n".join("\n".join(series.dropna()) for series in texts)
    assert any(detail in canonical for detail in force.planted_pii)
    kinds = {"phone": r"07700 900\d{3}", "email": r"@example\.com", "vrm": r"^[A-Z]{2}\d{2} [A-Z]{3}$"}
    for pattern in kinds.values():
        assert pd.Series(force.planted_pii).str.contains(pattern).any()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_manifest_is_exact_for_other_seeds_and_sizes(seed: int) -> None:
    small = generate_force(seed=seed, events=120, ccrs=250, invalid_fraction=0.1, officers=60)
    assert check_dataset(small) == manifest(small)
