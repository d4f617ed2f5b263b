"""The report's five dashboard pages (domain-model.md B5), from the published tables only.

Every figure is a model measure computed by transforms/dashboard.py, or a published table (issue_top5,
word_cloud, ccr_demographics_agg with its force totals): the report shows what Power BI would receive.
Officer keys are never listed: officer volume is shown as a distribution.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import pandas as pd

from pipeline.report_charts import bar_chart, histogram, line_chart, map_chart, word_cloud_png
from pipeline.report_html import Page, figure, image, kpis, note, section, table
from powerbi_dataset import codes as c
from transforms.analytics import Analytics
from transforms.dashboard import MEASURES, measure_values, monthly, per_group
from transforms.geography import Geography
from transforms.theme_summary import THEME_LABELS

__all__ = ["dashboard_pages", "headline_figures"]

Tables = Mapping[str, pd.DataFrame]
Labelled = TypeVar("Labelled", pd.DataFrame, pd.Series)
LPT_NAMES = {code.code: code.label for code in c.LPT_CODES}
EVENT_TYPES = {code.code: code.label for code in c.EVENT_TYPES}
WE_DID_TYPES = {code.code: code.label for code in c.WE_DID_TYPES}
VALUE_GAINED = {code.code: code.label for code in c.VALUE_GAINED}
SETTINGS = {code.code: code.label for code in c.CONTACT_SETTINGS}
DIMENSIONS = {code.code: code.label for code in c.DEMOGRAPHIC_DIMENSIONS}


def _figures(tables: Tables, *names: str) -> dict[str, object]:
    return {name: MEASURES[name](tables) for name in names}


def _relabel(frame: Labelled, labels: Mapping[str, str]) -> Labelled:
    return frame.rename(index=lambda code: labels.get(str(code), str(code)))


def _top_five(top: pd.DataFrame, issues_from: str, level: str) -> pd.DataFrame:
    rows = top[(top["issues_from"] == issues_from) & (top["level"] == level)]
    return pd.DataFrame(
        {
            "Group": rows["group_id"].map(lambda code: LPT_NAMES.get(str(code), str(code))),
            "Rank": rows["rank"],
            "Issue": rows["theme_code"].map(lambda code: THEME_LABELS.get(str(code), str(code))),
            "Raised by": rows["count"],
        }
    )


def _events_completed(tables: Tables, geography: Geography) -> Page:
    values = _figures(tables, "Events completed", "Total attendance", "Officers involved", "Community links")
    by_lpt = _relabel(per_group(tables, "events", "lpt_code", tuple(values)), LPT_NAMES).rename_axis("LPT")
    by_type = _relabel(per_group(tables, "events", "event_type", ("Events completed",)), EVENT_TYPES)
    by_month = monthly(tables, "events", "start_local_date", ("Events completed",))
    completed = tables["events"][tables["events"]["status"] == "COMPLETED"]
    points = pd.DataFrame({"lon": completed["location_lon"], "lat": completed["location_lat"]}).dropna()
    recent = completed.sort_values("start_local_date", ascending=False).head(15)
    names = pd.DataFrame(
        {
            "Date": pd.to_datetime(recent["start_local_date"]).dt.strftime("%Y-%m-%d"),
            "LPT": recent["lpt_code"].map(lambda code: LPT_NAMES.get(str(code), str(code))),
            "Type": recent["event_type"].map(lambda code: EVENT_TYPES.get(str(code), str(code))),
            "Event (scrubbed)": recent["event_name"],
        }
    )
    body = "".join(
        (
            kpis(values),
            figure(line_chart(by_month, "Events completed per month"), "Completed events by start month"),
            table(by_lpt, "By local policing team", index=True),
            figure(bar_chart(by_type["Events completed"], "Events completed by type"), "Completed events"),
            figure(
                map_chart(
                    geography.ward_boundaries, geography.lpt_boundaries, "Completed events", points=points
                ),
                "Event locations as published (rounded to about 100 m), over ward and LPT boundaries",
            ),
            table(names, "Latest completed events"),
        )
    )
    return Page("events", "Community events completed", body)


def _event_outcomes(analytics: Analytics) -> Page:
    tables = analytics.tables
    values = _figures(tables, "Intelligence submissions", "Events suitable for publishing", "Actions")
    top = tables["issue_top5"]
    force_top = _top_five(top, "EVENTS", "FORCE")
    words = tables["word_cloud"]
    completed = tables["events"][tables["events"]["status"] == "COMPLETED"]
    value_gained = _relabel(completed["value_gained"].value_counts().sort_index(), VALUE_GAINED)
    actions = tables["you_said_we_did"]["we_did_type"].value_counts()
    body = "".join(
        (
            kpis(values),
            section(
                "Top five issues",
                figure(
                    bar_chart(
                        force_top.set_index("Issue")["Raised by"], "Top five issues at completed events"
                    ),
                    "Completed events raising each theme (whole force)",
                ),
                table(_top_five(top, "EVENTS", "LPT"), "Top five per local policing team"),
            ),
            section(
                "Word cloud",
                image(
                    word_cloud_png(dict(zip(words["word"], words["count"].astype(int), strict=True))),
                    "Theme labels and scrubbed keywords used in at least "
                    f"{analytics.options.policy.threshold} notes",
                ),
            ),
            figure(bar_chart(value_gained, "Value gained (officer's view)"), "Completed events"),
            figure(
                bar_chart(_relabel(actions, WE_DID_TYPES), "'You said, we did' by action type"), "Actions"
            ),
        )
    )
    return Page("outcomes", "Community event outcomes", body)


def _submissions(tables: Tables) -> Page:
    names = (
        "Events recorded",
        "Officers submitting events",
        "Officer attendances linked",
        "Distinct officers",
    )
    values = _figures(tables, *names)
    by_month = monthly(tables, "events", "start_local_date", ("Events recorded", "Events completed"))
    by_type = _relabel(per_group(tables, "events", "event_type", ("Events recorded",)), EVENT_TYPES)
    per_officer = tables["event_officers"]["officer_key"].value_counts()
    body = "".join(
        (
            kpis(values),
            figure(line_chart(by_month, "Events per month"), "Events recorded and completed, by start month"),
            figure(bar_chart(by_type["Events recorded"], "Events recorded by type"), "Events of any status"),
            figure(
                histogram(per_officer, "Officer volume", xlabel="Events an officer is linked to"),
                "Officers by the number of events they attended (pseudonymous keys are never listed)",
            ),
        )
    )
    return Page("submissions", "Engagement submissions analysis", body)


def _demographics(analytics: Analytics) -> str:
    force = analytics.demographics_force
    if force.empty:
        return note("No consenting CCRs: no demographic figures.")
    latest = force["month"].max()
    month = force[force["month"] == latest]
    parts = [
        note(f"Consenting CCRs only, all LPTs, {pd.Timestamp(latest):%B %Y}; disclosure control applied.")
    ]
    for dimension, rows in month.groupby("dimension", sort=False):
        shown = pd.DataFrame(
            {
                "Category": rows["category"],
                "Count": rows["count_display"],
                "Percent": rows["percent"].map(lambda p: "" if pd.isna(p) else f"{p:.0f}%"),
            }
        )
        parts.append(table(shown, DIMENSIONS.get(str(dimension), str(dimension))))
    return "".join(parts)


def _ccr_outcomes(analytics: Analytics, geography: Geography) -> Page:
    tables = analytics.tables
    names = ("CCRs", "Information submitted", "Smart Alert sign-ups", "CCRs raising an issue")
    values = _figures(tables, *names)
    rate = MEASURES["Diversity consent rate"](tables)
    values["Diversity consent rate"] = "" if rate is None else f"{rate:.0%}"
    per_ward = tables["ccr"]["ward_code"].value_counts()
    body = "".join(
        (
            kpis(values),
            table(_top_five(tables["issue_top5"], "CCRS", "FORCE"), "Top five issues raised in CCRs"),
            figure(
                map_chart(
                    geography.ward_boundaries,
                    geography.lpt_boundaries,
                    "CCRs by ward",
                    shade={str(code): float(count) for code, count in per_ward.items()},
                    shade_label="CCRs",
                ),
                "CCRs are published by ward only, never by location",
            ),
            section("Demographics (from the disclosure-controlled aggregate)", _demographics(analytics)),
        )
    )
    return Page("ccr-outcomes", "CCR outcomes", body)


def _ccr_submissions(tables: Tables) -> Page:
    values = _figures(tables, "CCRs", "CCR officers", "CCRs at events")
    by_month = monthly(tables, "ccr", "recorded_local_date", ("CCRs", "CCRs at events"))
    by_lpt = _relabel(
        per_group(tables, "ccr", "lpt_code", ("CCRs", "CCRs at events")), LPT_NAMES
    ).rename_axis("LPT")
    settings = _relabel(tables["ccr"]["contact_setting"].value_counts(), SETTINGS)
    per_officer = tables["ccr"]["officer_key"].value_counts()
    body = "".join(
        (
            kpis(values),
            figure(line_chart(by_month, "CCRs per month"), "All CCRs and those recorded at events"),
            table(by_lpt, "CCRs per local policing team", index=True),
            figure(bar_chart(settings, "Where the contact happened"), "CCRs by contact setting"),
            figure(
                histogram(per_officer, "CCRs per officer", xlabel="CCRs an officer recorded"),
                "Officers by the number of CCRs they recorded",
            ),
        )
    )
    return Page("ccr-submissions", "CCR submissions analysis", body)


def dashboard_pages(analytics: Analytics, geography: Geography) -> list[Page]:
    tables = analytics.tables
    return [
        _events_completed(tables, geography),
        _event_outcomes(analytics),
        _submissions(tables),
        _ccr_outcomes(analytics, geography),
        _ccr_submissions(tables),
    ]


def headline_figures(analytics: Analytics) -> dict[str, float | None]:
    """Every model measure over the published tables (the --json result carries them)."""
    return measure_values(analytics.tables)
