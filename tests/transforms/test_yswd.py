"""'You said, we did': figures on actions and the before/after evaluation, on hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from powerbi_dataset.model import DATASET
from transforms.disclosure import DisclosurePolicy
from transforms.validate import validate
from transforms.yswd import (
    NOT_ENDED,
    actions_by,
    days_to_action,
    evaluate_actions,
    protect_count,
    raised_issues,
)

WARD = "E05000001"
OTHER_WARD = "E05000002"


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def raised_rows(*groups: tuple[int, str, str, str, str]) -> pd.DataFrame:
    """(how many, date, lpt, ward, theme) groups as raised_issues rows."""
    rows = [(day(date), lpt, ward, theme, "EVENT") for n, date, lpt, ward, theme in groups for _ in range(n)]
    frame = pd.DataFrame(rows, columns=["date", "lpt_code", "ward_code", "theme_code", "source"])
    return frame.astype({"lpt_code": "string", "ward_code": "string", "theme_code": "string"})


ACTIONS = pd.DataFrame(
    {
        "action_id": ["a1", "a2", "a3"],
        "event_id": ["e1", None, "e1"],
        "lpt_code": ["MOORLANDS", "STAFFORD", "MOORLANDS"],
        "theme_code": ["ASB", "DRUGS", "ASB"],
        "we_did_type": ["PATROL_PLAN", "MEDIA_APPEAL", "PATROL_PLAN"],
        "status": ["COMPLETED", "COMPLETED", "OPEN"],
        "raised_date": [day("2026-02-01"), day("2026-03-01"), day("2026-03-01")],
        "actioned_date": [day("2026-03-01"), day("2026-03-20"), None],
    }
).convert_dtypes()
EVENTS = pd.DataFrame({"event_id": ["e1"], "ward_code": [WARD]}).convert_dtypes()
# a1 acts on 1 March: with two-week windows, before is 15-28 Feb and after is 1-14 March.
RAISED = raised_rows(
    (12, "2026-02-15", "MOORLANDS", WARD, "ASB"),  # before, in a1's ward
    (10, "2026-02-28", "MOORLANDS", OTHER_WARD, "ASB"),  # before, elsewhere in its LPT
    (3, "2026-03-01", "MOORLANDS", WARD, "ASB"),  # after (the action's own day counts after)
    (14, "2026-03-14", "MOORLANDS", OTHER_WARD, "ASB"),  # after
    (9, "2026-02-14", "MOORLANDS", WARD, "ASB"),  # a day before the window: not counted
    (9, "2026-03-15", "MOORLANDS", WARD, "ASB"),  # the day after the window: not counted
    (20, "2026-02-20", "MOORLANDS", WARD, "DRUGS"),  # another theme
    (20, "2026-02-20", "STAFFORD", "E05000003", "ASB"),  # another LPT
)


def evaluated(
    weeks: int = 2, end: str = "2026-03-25", policy: DisclosurePolicy | None = None
) -> pd.DataFrame:
    return evaluate_actions(
        ACTIONS, EVENTS, RAISED, weeks=weeks, policy=policy or DisclosurePolicy(), data_end=day(end)
    )


def rows(frame: pd.DataFrame, *columns: str) -> list[tuple[object, ...]]:
    return [
        tuple(None if pd.isna(v) else v for v in row) for row in frame[list(columns)].itertuples(index=False)
    ]


def test_completed_actions_get_before_and_after_counts_in_their_ward_and_lpt() -> None:
    result = evaluated()
    assert rows(
        result, "action_id", "area_level", "area_code", "before_count", "after_count", "comparison"
    ) == [
        ("a1", "LPT", "MOORLANDS", 20, 15, "FEWER_AFTER"),  # 22 -> 20, 17 -> 15
        ("a1", "WARD", WARD, 10, None, "NOT_COMPARABLE"),  # 12 -> 10; 3 is suppressed
        ("a2", "LPT", "STAFFORD", None, None, "NOT_COMPARABLE"),  # no event, so no ward; after not ended
    ]
    assert rows(result, "before_display", "after_display", "after_complete") == [
        ("20", "15", True),
        ("10", "[c]", True),
        ("[c]", NOT_ENDED, False),
    ]


def test_when_no_completed_action_has_a_ward_only_lpt_rows_are_made() -> None:
    no_wards = pd.DataFrame({"event_id": ["e1"], "ward_code": [None]}).astype("string")
    result = evaluate_actions(
        ACTIONS, no_wards, RAISED, weeks=2, policy=DisclosurePolicy(), data_end=day("2026-03-25")
    )
    # an empty WARD level once added rows of nothing but NA (publish refused them: an empty key)
    assert rows(result, "action_id", "area_level", "area_code") == [
        ("a1", "LPT", "MOORLANDS"),
        ("a2", "LPT", "STAFFORD"),
    ]


def test_the_window_is_configurable() -> None:
    # One week: before is 22-28 Feb (10 elsewhere in the LPT), after is 1-7 March (3 in the ward).
    result = evaluated(weeks=1)
    assert rows(result, "area_level", "before_count", "after_count")[:2] == [
        ("LPT", 10, None),
        ("WARD", None, None),
    ]
    assert set(result["weeks"]) == {1}
    with pytest.raises(ValueError, match="at least one week"):
        evaluated(weeks=0)


def test_the_policy_sets_the_threshold_and_rounding() -> None:
    result = evaluated(policy=DisclosurePolicy(threshold=3, rounding_base=1))
    assert rows(result, "before_count", "after_count")[:2] == [(22, 17), (12, 3)]


def test_the_table_is_valid_against_the_model() -> None:
    table = evaluated()
    report = validate(
        table.assign(load_id=pd.Series([None] * len(table), dtype="string")), DATASET.table("yswd_evaluation")
    )
    assert report.problems == ()


def test_raised_issues_are_completed_events_and_ccrs_without_no_issues() -> None:
    events = pd.DataFrame(
        {
            "event_id": ["e1", "e2"],
            "status": ["COMPLETED", "PLANNED"],
            "start_local_date": [day("2026-01-01"), day("2026-01-02")],
            "lpt_code": ["MOORLANDS", "MOORLANDS"],
            "ward_code": [WARD, WARD],
        }
    )
    event_issues = pd.DataFrame({"event_id": ["e1", "e1", "e2"], "theme_code": ["ASB", "DRUGS", "ASB"]})
    ccr = pd.DataFrame(
        {
            "ccr_id": ["c1", "c2"],
            "recorded_local_date": [day("2026-01-03"), day("2026-01-04")],
            "lpt_code": ["STAFFORD", "STAFFORD"],
            "ward_code": [None, OTHER_WARD],
        }
    )
    ccr_issues = pd.DataFrame({"ccr_id": ["c1", "c2"], "theme_code": ["NOISE", "NO_ISSUES"]})
    raised = raised_issues(events, event_issues, ccr, ccr_issues)
    assert sorted(rows(raised, "source", "theme_code", "lpt_code")) == [
        ("CCR", "NOISE", "STAFFORD"),
        ("EVENT", "ASB", "MOORLANDS"),
        ("EVENT", "DRUGS", "MOORLANDS"),
    ]


def test_days_to_action_and_actions_by_type_and_status() -> None:
    assert days_to_action(ACTIONS).tolist() == [28, 19]
    table = actions_by(ACTIONS, "we_did_type")
    assert table.to_dict(orient="index") == {
        "MEDIA_APPEAL": {"COMPLETED": 1, "OPEN": 0},
        "PATROL_PLAN": {"COMPLETED": 1, "OPEN": 1},
    }


@pytest.mark.parametrize(("value", "expected"), [(0, None), (9, None), (10, 10), (12, 10), (13, 15)])
def test_a_count_on_its_own_is_suppressed_under_ten_and_rounded_to_five(
    value: int, expected: int | None
) -> None:
    assert protect_count(value, DisclosurePolicy()) == expected
