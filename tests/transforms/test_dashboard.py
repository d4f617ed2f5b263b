"""Every dashboard figure (the model's measures) computed from a small hand-made data set with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from powerbi_dataset.model import DATASET
from transforms.dashboard import MEASURES, measure_values, monthly, per_group


def frame(columns: str, rows: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns.split()).convert_dtypes()


def day(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text, tz="UTC")


EVENTS = frame(
    "event_id status lpt_code start_local_date total_attendance officers_present intel_submissions "
    "suitable_for_publishing created_by_officer_key",
    [
        ("e1", "COMPLETED", "LEEK", day("2026-01-10"), 20, 2, 1, True, "k1"),
        ("e2", "COMPLETED", "STONE", day("2026-02-03"), 5, 1, 0, False, "k2"),
        ("e3", "PLANNED", "LEEK", day("2026-02-20"), None, 1, None, None, "k1"),
        ("e4", "CANCELLED", "STONE", day("2026-01-15"), 7, 3, 4, True, "k3"),
    ],
)
EVENT_OFFICERS = frame("event_id officer_key", [("e1", "k1"), ("e1", "k2"), ("e2", "k2"), ("e4", "k4")])
EVENT_COMMUNITIES = frame(
    "event_id community_code",
    [("e1", "RESIDENTS"), ("e1", "BUSINESSES"), ("e3", "RESIDENTS"), ("e4", "FAITH")],
)
CCR = frame(
    "ccr_id information_submitted smart_alert_signup diversity_consent event_id officer_key",
    [
        ("c1", True, False, True, "e1", "k1"),
        ("c2", False, True, False, None, "k1"),
        ("c3", None, False, True, None, "k5"),
        ("c4", True, None, False, "e2", "k2"),
    ],
)
CCR_ISSUES = frame("ccr_id theme_code", [("c1", "ASB"), ("c1", "DRUGS"), ("c2", "NO_ISSUES"), ("c3", "ASB")])
# Days from raised to actioned for the completed ones: 0, 4, 7, 28, 29, 120 (the buckets' edges).
ACTIONS = frame(
    "action_id status raised_date actioned_date",
    [
        ("a1", "COMPLETED", day("2026-03-01"), day("2026-03-01")),
        ("a2", "COMPLETED", day("2026-01-01"), day("2026-01-05")),
        ("a3", "COMPLETED", day("2026-01-01"), day("2026-01-08")),
        ("a4", "COMPLETED", day("2026-01-01"), day("2026-01-29")),
        ("a5", "COMPLETED", day("2026-01-01"), day("2026-01-30")),
        ("a6", "COMPLETED", day("2026-01-01"), day("2026-05-01")),
        ("a7", "OPEN", day("2026-04-01"), None),
        ("a8", "IN_PROGRESS", day("2026-04-02"), None),
        ("a9", "NOT_ACTIONED", day("2026-04-03"), None),
    ],
)
EVALUATION = frame("action_id area_level", [("a1", "LPT"), ("a1", "WARD"), ("a2", "LPT")])
TABLES = {
    "events": EVENTS,
    "event_officers": EVENT_OFFICERS,
    "event_communities": EVENT_COMMUNITIES,
    "ccr": CCR,
    "ccr_issues": CCR_ISSUES,
    "you_said_we_did": ACTIONS,
    "yswd_evaluation": EVALUATION,
}

KNOWN = {
    "Events completed": 2,  # e1, e2
    "Total attendance": 25,  # 20 + 5: planned and cancelled events do not count
    "Officers involved": 3,  # 2 + 1
    "Distinct officers": 3,  # k1, k2, k4
    "CCRs": 4,
    "Information submitted": 2,  # c1, c4 (c3's empty answer is not a yes)
    "Smart Alert sign-ups": 1,
    "Diversity consent rate": 0.5,
    "Events recorded": 4,
    "Officers submitting events": 3,  # k1, k2, k3
    "Intelligence submissions": 1,  # e4's 4 are at a cancelled event
    "Events suitable for publishing": 1,  # e1 (e4 is cancelled)
    "Community links": 2,  # e1's two; e3 is planned, e4 cancelled
    "Officer attendances linked": 4,
    "CCRs at events": 2,
    "CCR officers": 3,  # k1, k2, k5
    "CCRs raising an issue": 2,  # c1, c3 (c2 said no issues)
    "Actions": 9,
    "Actions completed": 6,
    "Issues still open": 2,  # open and in progress; not actioned is closed
    "Median days to action": 17.5,  # median of 0, 4, 7, 28, 29, 120
    "Actioned within 7 days": 3,  # 0, 4, 7
    "Actioned in 8 to 28 days": 1,  # 28
    "Actioned in 29 to 90 days": 1,  # 29
    "Actioned after 90 days": 1,  # 120
    "Actions evaluated": 2,  # a1 (two areas), a2
}


def test_every_model_measure_has_one_figure_here_and_a_known_answer() -> None:
    names = [measure.name for measure in DATASET.measures]
    assert sorted(MEASURES) == sorted(names)
    assert sorted(KNOWN) == sorted(names)


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_each_figure_gives_the_known_answer(name: str) -> None:
    assert MEASURES[name](TABLES) == pytest.approx(KNOWN[name])


def test_blank_figures_on_empty_tables_as_dax_divide_and_medianx_give() -> None:
    empty = {name: table.iloc[0:0] for name, table in TABLES.items()}
    values = measure_values(empty)
    assert values["Diversity consent rate"] is None
    assert values["Median days to action"] is None
    assert values["Events completed"] == 0


def test_per_lpt_slices_carry_the_filter_to_the_bridges() -> None:
    table = per_group(
        TABLES, "events", "lpt_code", ("Events completed", "Total attendance", "Community links")
    )
    assert table.to_dict(orient="index") == {
        "LEEK": {"Events completed": 1, "Total attendance": 20, "Community links": 2},
        "STONE": {"Events completed": 1, "Total attendance": 5, "Community links": 0},
    }


def test_monthly_groups_by_the_local_date_month() -> None:
    table = monthly(TABLES, "events", "start_local_date", ("Events recorded", "Events completed"))
    assert table.to_dict(orient="index") == {
        "2026-01": {"Events recorded": 2, "Events completed": 1},
        "2026-02": {"Events recorded": 2, "Events completed": 1},
    }
