"""The dashboard's figures computed from the published tables, one function per model measure.

Power BI evaluates the DAX of `DATASET.measures`; the offline report and the tests evaluate these pandas
functions, which follow the same definitions (filters, distinct counts, DATEDIFF in days). Every model
measure has exactly one function here (tests/transforms/test_dashboard.py checks the two lists agree and
computes each figure from a small hand-made data set). The breakdowns the pages slice by (LPT, type,
month, ...) are the same functions applied to a slice of the tables (`sliced`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from powerbi_dataset.model import DAYS_TO_ACTION_BUCKETS
from transforms.yswd import OPEN_STATUSES, days_to_action

__all__ = ["MEASURES", "Tables", "measure_values", "monthly", "per_group", "sliced"]

Tables = Mapping[str, pd.DataFrame]
Figure = Callable[[Tables], float | None]


def _completed(tables: Tables) -> pd.DataFrame:
    events = tables["events"]
    return events[events["status"].astype("string") == "COMPLETED"]


def _completed_ids(tables: Tables) -> pd.Series:
    return _completed(tables)["event_id"]


def _count_true(frame: pd.DataFrame, column: str) -> int:
    return int(frame[column].astype("boolean").fillna(False).sum())


def _sum(values: pd.Series) -> int:
    return int(pd.to_numeric(values).fillna(0).sum())


def _actions_with_status(tables: Tables, *statuses: str) -> int:
    return int(tables["you_said_we_did"]["status"].astype("string").isin(statuses).sum())


def _diversity_consent_rate(tables: Tables) -> float | None:
    ccr = tables["ccr"]
    return None if ccr.empty else _count_true(ccr, "diversity_consent") / len(ccr)  # DIVIDE: blank on 0


def _median_days(tables: Tables) -> float | None:
    days = days_to_action(tables["you_said_we_did"])
    return None if days.empty else float(days.median())


def _bucket(low: int, high: int | None) -> Figure:
    def count(tables: Tables) -> float | None:
        days = days_to_action(tables["you_said_we_did"])
        inside = days >= low if high is None else (days >= low) & (days <= high)
        return int(inside.sum())

    return count


MEASURES: dict[str, Figure] = {
    "Events completed": lambda t: len(_completed(t)),
    "Total attendance": lambda t: _sum(_completed(t)["total_attendance"]),
    "Officers involved": lambda t: _sum(_completed(t)["officers_present"]),
    "Distinct officers": lambda t: int(t["event_officers"]["officer_key"].nunique()),
    "CCRs": lambda t: len(t["ccr"]),
    "Information submitted": lambda t: _count_true(t["ccr"], "information_submitted"),
    "Smart Alert sign-ups": lambda t: _count_true(t["ccr"], "smart_alert_signup"),
    "Diversity consent rate": _diversity_consent_rate,
    "Events recorded": lambda t: len(t["events"]),
    "Officers submitting events": lambda t: int(t["events"]["created_by_officer_key"].nunique()),
    "Intelligence submissions": lambda t: _sum(_completed(t)["intel_submissions"]),
    "Events suitable for publishing": lambda t: _count_true(_completed(t), "suitable_for_publishing"),
    "Community links": lambda t: int(t["event_communities"]["event_id"].isin(_completed_ids(t)).sum()),
    "Officer attendances linked": lambda t: len(t["event_officers"]),
    "CCRs at events": lambda t: int(t["ccr"]["event_id"].notna().sum()),
    "CCR officers": lambda t: int(t["ccr"]["officer_key"].nunique()),
    "CCRs raising an issue": lambda t: int(
        t["ccr_issues"].loc[t["ccr_issues"]["theme_code"].astype("string") != "NO_ISSUES", "ccr_id"].nunique()
    ),
    "Actions": lambda t: len(t["you_said_we_did"]),
    "Actions completed": lambda t: _actions_with_status(t, "COMPLETED"),
    "Issues still open": lambda t: _actions_with_status(t, *OPEN_STATUSES),
    "Median days to action": _median_days,
    **{name: _bucket(low, high) for name, low, high in DAYS_TO_ACTION_BUCKETS},
    "Actions evaluated": lambda t: int(t["yswd_evaluation"]["action_id"].nunique()),
}

# Which table's rows a slice on each fact applies to, and how the filter reaches the bridges (as the
# model's relationships carry a filter from the one side to the many side).
_CHILDREN = {
    "events": (
        ("event_officers", "event_id"),
        ("event_communities", "event_id"),
        ("event_issues", "event_id"),
    ),
    "ccr": (("ccr_issues", "ccr_id"),),
}


def measure_values(tables: Tables) -> dict[str, float | None]:
    """Every model measure over the whole of the published tables."""
    return {name: figure(tables) for name, figure in MEASURES.items()}


def sliced(tables: Tables, table: str, keep: pd.Series) -> dict[str, pd.DataFrame]:
    """The tables with `table` filtered to the rows `keep` marks, and its bridges filtered with it."""
    result = dict(tables)
    kept = tables[table][keep.fillna(False).astype(bool).to_numpy()]
    result[table] = kept
    for child, key in _CHILDREN.get(table, ()):
        if child in tables:
            result[child] = tables[child][tables[child][key].isin(kept[key])]
    return result


def per_group(tables: Tables, table: str, column: str, names: tuple[str, ...]) -> pd.DataFrame:
    """The measures `names`, one row per value of `table`.`column` (sorted; missing values left out)."""
    values = tables[table][column].astype("string")
    rows = {}
    for value in sorted(values.dropna().unique()):
        part = sliced(tables, table, values == value)
        rows[str(value)] = [MEASURES[name](part) for name in names]
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(names))


def monthly(tables: Tables, table: str, date_column: str, names: tuple[str, ...]) -> pd.DataFrame:
    """The measures `names` per calendar month of a local-date column (index: YYYY-MM)."""
    months = pd.to_datetime(tables[table][date_column], utc=True).dt.strftime("%Y-%m").astype("string")
    frame = dict(tables)
    frame[table] = tables[table].assign(_month=months)
    result = per_group(frame, table, "_month", names)
    result.index.name = "month"
    return result
