"""You said, we did: the figures on actions, and the evaluation of completed actions (association only).

The evaluation counts, for each completed action, the events and CCRs that raised the same theme in the
same ward (when the action's event has one) and the same LPT, in the N weeks before the action and the N
weeks from it on. Counts go out under the disclosure policy (under the threshold suppressed, the rest
rounded). It shows an association in time, never a cause: docs/report.md lists what else moves the counts.
"""

from __future__ import annotations

import pandas as pd

from powerbi_dataset.model import DATASET, DAYS_TO_ACTION_BUCKETS
from transforms.disclosure import DisclosurePolicy
from transforms.disclosure_lines import round_to_base

__all__ = [
    "NOT_ENDED",
    "OPEN_STATUSES",
    "actions_by",
    "as_model_dtypes",
    "days_to_action",
    "days_to_action_buckets",
    "evaluate_actions",
    "protect_count",
    "raised_issues",
]

OPEN_STATUSES = ("OPEN", "IN_PROGRESS")
NOT_ENDED = "not ended"  # after_display while the weeks after the action are still running
EVALUATION_COLUMNS = tuple(c.name for c in DATASET.table("yswd_evaluation").columns if c.name != "load_id")


def as_model_dtypes(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Nullable pandas dtypes for the table's declared columns (as staged tables read), index reset."""
    dtypes = {
        "String": pd.StringDtype(),
        "Int64": pd.Int64Dtype(),
        "Double": pd.Float64Dtype(),
        "Boolean": pd.BooleanDtype(),
    }
    result = frame.copy()
    for column in DATASET.table(table).columns:
        if column.name not in result:
            continue
        if column.kind == "DateTime":
            result[column.name] = pd.to_datetime(result[column.name], utc=True).astype("datetime64[us, UTC]")
        elif column.kind in dtypes:
            result[column.name] = result[column.name].astype(dtypes[column.kind])
    return result.reset_index(drop=True)


def protect_count(value: int, policy: DisclosurePolicy) -> int | None:
    """One count published on its own (no total is published with it): None under the threshold, else rounded."""
    return None if value < policy.threshold else round_to_base(int(value), policy.rounding_base)


def actions_by(actions: pd.DataFrame, rows: str, columns: str = "status") -> pd.DataFrame:
    """Actions counted by two columns (e.g. we_did_type x status), every row and column present in the data."""
    table = pd.crosstab(actions[rows].astype("string"), actions[columns].astype("string"))
    return table.astype("int64")


def days_to_action(actions: pd.DataFrame) -> pd.Series:
    """Days from raised to actioned for completed actions with an actioned date (DAX DATEDIFF ... DAY)."""
    done = actions[(actions["status"] == "COMPLETED") & actions["actioned_date"].notna()]
    raised = pd.to_datetime(done["raised_date"], utc=True)
    actioned = pd.to_datetime(done["actioned_date"], utc=True)
    return (actioned.dt.normalize() - raised.dt.normalize()).dt.days.astype("int64")


def days_to_action_buckets(actions: pd.DataFrame) -> pd.Series:
    """Completed actions per bucket of days to action (the model's DAYS_TO_ACTION_BUCKETS), in order."""
    days = days_to_action(actions)
    counts = {}
    for name, low, high in DAYS_TO_ACTION_BUCKETS:
        inside = days >= low if high is None else (days >= low) & (days <= high)
        counts[name] = int(inside.sum())
    return pd.Series(counts, dtype="int64")


def raised_issues(
    events: pd.DataFrame, event_issues: pd.DataFrame, ccr: pd.DataFrame, ccr_issues: pd.DataFrame
) -> pd.DataFrame:
    """One row per completed event or CCR raising a theme: date, lpt_code, ward_code, theme_code, source.

    NO_ISSUES is not an issue raised and is left out.
    """
    completed = events[events["status"] == "COMPLETED"]
    from_events = event_issues.merge(
        completed[["event_id", "start_local_date", "lpt_code", "ward_code"]], on="event_id"
    ).rename(columns={"start_local_date": "date"})
    from_ccr = ccr_issues.merge(
        ccr[["ccr_id", "recorded_local_date", "lpt_code", "ward_code"]], on="ccr_id"
    ).rename(columns={"recorded_local_date": "date"})
    columns = ["date", "lpt_code", "ward_code", "theme_code"]
    raised = pd.concat(
        [from_events[columns].assign(source="EVENT"), from_ccr[columns].assign(source="CCR")],
        ignore_index=True,
    )
    raised = raised[raised["theme_code"] != "NO_ISSUES"]
    raised["date"] = pd.to_datetime(raised["date"], utc=True)
    return raised.reset_index(drop=True)


def evaluate_actions(
    actions: pd.DataFrame,
    events: pd.DataFrame,
    raised: pd.DataFrame,
    *,
    weeks: int,
    policy: DisclosurePolicy,
    data_end: pd.Timestamp | None,
) -> pd.DataFrame:
    """yswd_evaluation rows: per completed action and area level, the theme raised before and after.

    Before: the `weeks` weeks up to the day before the action; after: the `weeks` weeks from the action's
    day on. The after count waits until those weeks have ended by `data_end` (the last date in the data).
    """
    if weeks < 1:
        raise ValueError("the evaluation window needs at least one week")
    done = actions[(actions["status"] == "COMPLETED") & actions["actioned_date"].notna()].copy()
    done["actioned_date"] = pd.to_datetime(done["actioned_date"], utc=True)
    wards = events[["event_id", "ward_code"]].rename(columns={"ward_code": "event_ward"})
    done = done.merge(wards, on="event_id", how="left")
    with_ward = done[done["event_ward"].notna()]
    levels = [
        done.assign(area_level="LPT", area_code=done["lpt_code"].astype("string")),
        # area_code from the filtered frame: assigning `done`'s column to an empty frame would adopt its
        # index and add rows of nothing but NA (no completed action with a ward)
        with_ward.assign(area_level="WARD", area_code=with_ward["event_ward"].astype("string")),
    ]
    rows = pd.concat(levels, ignore_index=True)
    if rows.empty:
        return as_model_dtypes(pd.DataFrame(columns=list(EVALUATION_COLUMNS)), "yswd_evaluation")
    span = pd.Timedelta(weeks=weeks)
    rows["before"] = _window_counts(rows, raised, -span)
    rows["after"] = _window_counts(rows, raised, span)
    end = pd.Timestamp(data_end) if data_end is not None else None
    rows["after_complete"] = [
        end is not None and day + span - pd.Timedelta(days=1) <= end for day in rows["actioned_date"]
    ]
    before = [protect_count(int(value), policy) for value in rows["before"]]
    after = [
        protect_count(int(value), policy) if complete else None
        for value, complete in zip(rows["after"], rows["after_complete"], strict=True)
    ]
    result = pd.DataFrame(
        {
            "action_id": rows["action_id"],
            "area_level": rows["area_level"],
            "area_code": rows["area_code"],
            "lpt_code": rows["lpt_code"],
            "theme_code": rows["theme_code"],
            "actioned_date": rows["actioned_date"],
            "weeks": weeks,
            "before_count": pd.array(before, dtype="Int64"),
            "after_count": pd.array(after, dtype="Int64"),
            "before_display": [policy.display(value) for value in before],
            "after_display": [
                policy.display(value) if complete else NOT_ENDED
                for value, complete in zip(after, rows["after_complete"], strict=True)
            ],
            "after_complete": rows["after_complete"].astype(bool),
            "comparison": [_compare(b, a) for b, a in zip(before, after, strict=True)],
        }
    )
    result = result.sort_values(["actioned_date", "action_id", "area_level"], kind="stable")
    return as_model_dtypes(result, "yswd_evaluation")


def _window_counts(rows: pd.DataFrame, raised: pd.DataFrame, span: pd.Timedelta) -> pd.Series:
    """Raised rows of the row's theme in its area, in [day - span, day) (span < 0) or [day, day + span)."""
    counts = pd.Series(0, index=rows.index, dtype="int64")
    for level, area in (("LPT", "lpt_code"), ("WARD", "ward_code")):
        subset = rows[rows["area_level"] == level]
        if subset.empty:
            continue
        keyed = raised[raised[area].notna()][["date", "theme_code", area]].rename(columns={area: "area_code"})
        joined = (
            subset[["area_code", "theme_code", "actioned_date"]]
            .reset_index()
            .merge(
                keyed.astype({"area_code": "string", "theme_code": "string"}).assign(),
                on=["area_code", "theme_code"],
            )
        )
        start = joined["actioned_date"] + (span if span < pd.Timedelta(0) else pd.Timedelta(0))
        stop = joined["actioned_date"] + (span if span > pd.Timedelta(0) else pd.Timedelta(0))
        inside = (joined["date"] >= start) & (joined["date"] < stop)
        counts = counts.add(joined[inside].groupby("index").size(), fill_value=0).astype("int64")
    return counts


def _compare(before: int | None, after: int | None) -> str:
    """From the published (rounded) counts only, so the comparison reveals nothing the counts do not."""
    if before is None or after is None:
        return "NOT_COMPARABLE"
    if after < before:
        return "FEWER_AFTER"
    if after > before:
        return "MORE_AFTER"
    return "NO_CHANGE"
