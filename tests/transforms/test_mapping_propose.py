"""Mapping proposals: the demo site and a differently built second site, reviewed by accepting entries at or
above a confidence; ignore reasons for personal data; sites it cannot map."""

from __future__ import annotations

import pytest

from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.site import CCRS, EVENTS
from emulator.lists.values import ListColumn
from powerbi_dataset import codes as c
from powerbi_dataset.model import DATASET
from tests.transforms.live_columns import demo_live_lists, live_list
from tests.transforms.proposal_review import review
from tests.transforms.variant_site import variant_site
from transforms.list_columns import LiveColumn, LiveList
from transforms.list_mapping import dump_mapping, load_mapping
from transforms.list_mapping_check import check_mapping
from transforms.mapping_propose import REVIEW_BELOW, propose, propose_mapping
from transforms.propose_match import decode_name, label_code, words

ACCEPT = REVIEW_BELOW  # the simulated review accepts what the proposal does not flag


def test_the_demo_site_is_proposed_as_its_own_mapping() -> None:
    proposal = propose(demo_live_lists())
    assert {(one.list_name, one.table) for one in proposal.lists} == {
        (one.display_name, one.table) for one in DEMO_SITE_MAPPING.lists
    }
    assert proposal.unmatched_lists == ()
    assert proposal.mapping.people == DEMO_SITE_MAPPING.people
    result = review(proposal.mapping, DEMO_SITE_MAPPING, ACCEPT)
    assert result.wrong == [] and result.precision() == 1.0
    assert result.coverage >= 0.9  # the rest is flagged for review, below
    assert proposal.problems == ()  # check_mapping finds nothing to fix
    for one, expected in zip(proposal.mapping.lists, DEMO_SITE_MAPPING.lists, strict=True):
        assert one.built_ins == expected.built_ins, one.display_name


def test_a_differently_built_site_is_proposed_without_any_demo_name() -> None:
    lists, expected = variant_site()
    proposal = propose(lists)
    assert {(one.list_name, one.table) for one in proposal.lists} == {
        (one.display_name, one.table) for one in expected.lists
    }
    assert proposal.mapping.people == expected.people
    result = review(proposal.mapping, expected, ACCEPT)
    assert result.wrong == [] and result.precision() == 1.0
    assert result.coverage >= 0.8
    # What it could not tell ("Finish time" is end_utc, "Number attending" total_attendance) is flagged:
    assert any("'field_4'" in line and "confidence 0.60" in line for line in proposal.review)
    assert any("events.end_utc" in problem.message for problem in proposal.problems)


def test_every_entry_carries_a_confidence_and_low_ones_are_listed_for_review() -> None:
    proposal = propose(demo_live_lists())
    entries = [column for one in proposal.mapping.lists for column in one.columns]
    assert entries and all(
        column.confidence is not None and 0 <= column.confidence <= 1 for column in entries
    )
    low = [column for column in entries if column.confidence is not None and column.confidence < REVIEW_BELOW]
    assert low and len(proposal.review) == len(low) + sum(
        one.confidence < REVIEW_BELOW for one in proposal.lists
    )
    ward = proposal.mapping.list_mapping("Engagement Events").column("Ward")
    assert (
        (ward.type, ward.to) == ("term", ("ward_code",))
        and ward.confidence is not None
        and ward.confidence < REVIEW_BELOW
    )


def test_the_proposal_is_a_mapping_file_that_reads_back() -> None:
    mapping = propose_mapping(demo_live_lists())
    again = load_mapping(dump_mapping(mapping), "proposal.yaml")
    assert again == mapping
    assert check_mapping(again, DATASET) == []


def test_columns_that_look_personal_or_free_text_are_ignored_with_a_reason() -> None:
    columns = [
        *EVENTS.columns, ListColumn("ResPhone", "Resident phone", "text"),
        ListColumn("Email_x0020_address", "Email address", "text"), ListColumn("Comments", "Comments", "note"),
        ListColumn("Notes0", "Officer notes", "text"), ListColumn("Gadget", "Gadget", "number"),
    ]  # fmt: skip
    proposal = propose([live_list("Engagement Events", columns)])
    events = proposal.mapping.list_mapping("Engagement Events")
    reasons = {
        column.name: (column.ignore, column.confidence) for column in events.columns if column.is_ignored
    }
    assert reasons["ResPhone"][0] is not None and "personal data" in reasons["ResPhone"][0]
    assert (
        reasons["Email_x0020_address"][0] is not None and "personal data" in reasons["Email_x0020_address"][0]
    )
    assert reasons["Comments"][0] is not None and "free text" in reasons["Comments"][0]
    assert reasons["Notes0"][0] is not None and "free text" in reasons["Notes0"][0]
    assert reasons["Gadget"] == (
        "no canonical column matches; map it by hand if it belongs in the model",
        0.6,
    )
    assert events.column("Title").to == ("event_name",)


def test_a_person_column_never_feeds_anything_but_an_officer_key() -> None:
    columns = [*CCRS.columns, ListColumn("Resident", "Resident", "person")]
    ccr = propose_mapping([live_list("Community Contact Records", columns)]).list_mapping(
        "Community Contact Records"
    )
    assert ccr.column("Officer").to == ("officer_key",)
    assert ccr.column(
        "Resident"
    ).is_ignored  # the one officer key is taken; a person never feeds anything else


@pytest.mark.parametrize(
    "lists",
    [
        [],
        [LiveList("x", "Holiday requests", "Holidays", (LiveColumn("Title", "Title", "text"),
                                                         LiveColumn("Days", "Days", "number")))],
        [LiveList("y", "Blank", "Blank", ())],
        [LiveList("z", "Links", "Links", tuple(LiveColumn(f"c{i}", f"Col {i}", None) for i in range(5)))],
        [LiveList("d1", "Events", "E1", ()), LiveList("d2", "Events", "E2", ())],
    ],
    ids=["no lists", "unrelated list", "no columns", "only untyped columns", "same name twice"],
)  # fmt: skip
def test_a_site_it_cannot_map_gives_an_honest_empty_proposal(lists: list[LiveList]) -> None:
    proposal = propose(lists)
    mapped = {one.display_name for one in proposal.mapping.lists}
    assert set(proposal.unmatched_lists) | mapped == {one.display_name for one in lists}
    assert all(one.confidence < 1 for one in proposal.lists)
    dump_mapping(proposal.mapping)  # still a file a person can edit


def test_internal_names_are_decoded_and_generated_names_carry_no_words() -> None:
    assert decode_name("Event_x0020_Start") == "Event Start"
    assert decode_name("Cost_x0028__x00a3__x0029_") == "Cost(£)"
    assert (
        words("Event_x0020_Start") == ("event", "start")
        and words("field_3") == ()
        and words("LPTs") == ("lpt",)
    )
    assert words("AttendanceEstimated") == ("attendance", "estimated")


def test_choice_labels_find_codes_by_code_label_or_close_wording() -> None:
    assert label_code("Anti-social behaviour", c.THEMES) == ("ASB", 1.0)
    assert label_code("Speeding & road safety", c.THEMES) == ("SPEEDING_ROAD_SAFETY", 1.0)
    assert label_code("PCSO", c.OFFICER_ROLES) == ("PCSO", 1.0)
    assert label_code("Anti social behavior", c.THEMES)[0] == "ASB"
    assert label_code("Lost property", c.THEMES)[0] is None
