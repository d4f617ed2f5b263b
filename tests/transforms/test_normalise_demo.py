"""The demo force's lists, served by the emulator and read through the HTTP seam, normalised with its own
mapping: no planted personal detail survives, demographics only with consent, and validation reads the
tables as the model's."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pytest

from emulator.demo.force import Force, generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from powerbi_dataset.model import DATASET, DEMOGRAPHIC_COLUMNS
from tests.transforms.demo_lists import DemoSite, normalise_site, read_demo_site
from transforms.masking import MASK
from transforms.normalise import NormalisedPage
from transforms.problems import CHECKS
from transforms.validate import validate_dataset

KEY = b"demo-force-pseudonymisation-key!"


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=7, events=300, ccrs=400, invalid_fraction=0.04)


@pytest.fixture(scope="module")
def site(force: Force) -> DemoSite:
    return read_demo_site(force)


@pytest.fixture(scope="module")
def pages(site: DemoSite) -> dict[str, NormalisedPage]:
    return normalise_site(site, KEY)


def cells(pages: dict[str, NormalisedPage]) -> Iterator[str]:
    """Every text cell of every table, then every field of every problem."""
    for page in pages.values():
        for table in page.tables.values():
            for column in table.columns:
                if pa.types.is_string(column.type):
                    yield from (value for value in column.to_pylist() if value is not None)
        for problem in page.problems.problems:
            yield from (problem.key, problem.column, problem.message, problem.value)


def test_the_site_carries_the_planted_personal_details(force: Force, site: DemoSite) -> None:
    raw = json.dumps(site.items)
    assert force.planted_pii and all(detail in raw for detail in force.planted_pii)
    assert all(name in raw for name in force.identities["display_name"][:20])


def test_no_planted_personal_detail_survives_normalisation(
    force: Force, pages: dict[str, NormalisedPage]
) -> None:
    text = "\n".join(cells(pages))
    assert [detail for detail in force.planted_pii if detail in text] == []
    people = [*force.identities["display_name"], *force.identities["email"]]
    assert [detail for detail in people if detail in text] == []
    staff_numbers = set(force.identities["staff_number"])
    assert staff_numbers.isdisjoint(cells(pages))
    notes = [note for note in force.event_notes.values() if note]
    assert notes and not any(note in text for note in notes)


def test_free_text_that_held_personal_details_is_kept_with_placeholders(
    pages: dict[str, NormalisedPage],
) -> None:
    removed = [
        p for page in pages.values() for p in page.problems.problems if p.code == "personal-detail-removed"
    ]
    assert removed and {p.column for p in removed} <= {
        "event_name",
        "you_said",
        "we_did",
        "not_actioned_reason",
    }
    table = pages["You Said We Did"].tables["you_said_we_did"]
    texts = table.column("you_said").to_pylist() + table.column("we_did").to_pylist()
    assert any("[" in (text or "") for text in texts)


def test_demographics_are_kept_only_with_consent_and_the_rest_are_counted(
    site: DemoSite, pages: dict[str, NormalisedPage]
) -> None:
    ccr = pages["Community Contact Records"].tables["ccr"].to_pylist()
    assert any(row["ethnicity_2021"] for row in ccr)
    for row in ccr:
        if row["diversity_consent"] is not True:
            assert all(row[name] is None for name in DEMOGRAPHIC_COLUMNS), row["ccr_id"]
    mapping = DEMO_SITE_MAPPING.list_mapping("Community Contact Records")
    sources = {c.to[0]: c.name for c in mapping.columns if c.to and c.to[0] in DEMOGRAPHIC_COLUMNS}
    expected = Counter()
    for item in site.items["Community Contact Records"]:
        fields = item["fields"]
        if fields.get("Diversity_x0020_Consent") is not True:
            expected.update(name for name, source in sources.items() if fields.get(source) is not None)
    assert sum(expected.values()) > 0  # the demo's injected consent-gate errors
    counted = Counter(p.column for p in pages["Community Contact Records"].problems.problems
                      if p.code == "removed-without-consent")  # fmt: skip
    assert counted == expected


def test_the_tables_validate_as_the_model_with_no_shape_problems(
    force: Force, pages: dict[str, NormalisedPage]
) -> None:
    tables = {name: table for page in pages.values() for name, table in page.tables.items()}
    assert set(tables) == {
        "areas", "officers", "events", "event_officers", "event_communities", "event_issues", "ccr", "ccr_issues",
        "you_said_we_did",
    }  # fmt: skip
    report = validate_dataset(tables, DATASET, as_of=force.as_of)
    shape = {"missing-column", "unexpected-column", "duplicate-column", "unknown-table", "wrong-type"}
    assert [p for p in report.problems if p.code in shape] == []
    assert report.rows_checked["ccr"] == 400


def test_injected_errors_surface_as_catalogue_problems_with_masked_values(
    pages: dict[str, NormalisedPage],
) -> None:
    problems = [p for page in pages.values() for p in page.problems.problems]
    known = {check.code for check in CHECKS}
    assert {p.code for p in problems} <= known
    religion = [p for p in problems if p.column == "religion" and p.code == "unknown-label"]
    assert religion and {p.value for p in religion} == {MASK}  # a demographic answer is never shown
    event_types = [p for p in problems if p.column == "event_type" and p.code == "unknown-label"]
    assert event_types and {p.value for p in event_types} == {MASK}  # not one of the column's codes


def test_lookups_and_people_resolve_across_lists(pages: dict[str, NormalisedPage]) -> None:
    events = pages["Engagement Events"].tables["events"]
    officers = set(pages["Officers"].tables["officers"].column("officer_key").to_pylist())
    assert set(events.column("lpt_code").drop_null().to_pylist()) <= {
        row["lpt_code"] for row in pages["LPTs"].tables["areas"].to_pylist()
    }
    linked = set(pages["Engagement Events"].tables["event_officers"].column("officer_key").to_pylist())
    assert linked and linked <= officers
    ccr_events = set(
        pages["Community Contact Records"].tables["ccr"].column("event_id").drop_null().to_pylist()
    )
    assert ccr_events and ccr_events <= set(events.column("event_id").to_pylist())
