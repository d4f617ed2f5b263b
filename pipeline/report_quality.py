"""The report's evaluation page ("You said, we did", association only) and its data-quality page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from pipeline.report_charts import bar_chart
from pipeline.report_html import Page, figure, kpis, note, section, table
from powerbi_dataset import codes as c
from transforms.analytics import Analytics
from transforms.dashboard import MEASURES
from transforms.theme_summary import THEME_LABELS
from transforms.yswd import actions_by, days_to_action_buckets

__all__ = ["evaluation_page", "quality_page"]

COMPARISONS = {code.code: code.label for code in c.EVALUATION_COMPARISONS}
WE_DID_TYPES = {code.code: code.label for code in c.WE_DID_TYPES}
ASSOCIATION = (
    "Association, not cause. These counts show how often the same theme was raised in the same area "
    "before and after each completed action. Many other things move them: the season, how many events "
    "and contacts took place, other agencies' work, and whether people raise an issue again once it is "
    "dealt with. A fall after an action does not show the action caused it."
)


def evaluation_page(analytics: Analytics) -> Page:
    tables = analytics.tables
    actions = tables["you_said_we_did"]
    evaluation = tables["yswd_evaluation"]
    policy = analytics.options.policy
    names = (
        "Actions",
        "Actions completed",
        "Issues still open",
        "Median days to action",
        "Actions evaluated",
    )
    values = {name: MEASURES[name](tables) for name in names}
    by_type = actions_by(actions, "we_did_type") if not actions.empty else pd.DataFrame()
    by_type = by_type.rename(index=lambda code: WE_DID_TYPES.get(str(code), str(code))).rename_axis(
        "Action type"
    )
    shown = pd.DataFrame(
        {
            "Actioned": pd.to_datetime(evaluation["actioned_date"]).dt.strftime("%Y-%m-%d"),
            "Action": evaluation["action_id"],
            "Area": evaluation["area_level"].map({"LPT": "LPT ", "WARD": "Ward "}) + evaluation["area_code"],
            "Theme": evaluation["theme_code"].map(lambda code: THEME_LABELS.get(str(code), str(code))),
            "Weeks each side": evaluation["weeks"],
            "Raised before": evaluation["before_display"],
            "Raised after": evaluation["after_display"],
            "Published counts compared": evaluation["comparison"].map(
                lambda code: COMPARISONS.get(str(code))
            ),
        }
    ).iloc[::-1]
    summary = (
        evaluation["comparison"]
        .map(lambda code: COMPARISONS.get(str(code), str(code)))
        .value_counts()
        .sort_index()
    )
    body = "".join(
        (
            note(ASSOCIATION),
            kpis(values),
            table(by_type, "Actions by type and status", index=True),
            figure(
                bar_chart(days_to_action_buckets(actions), "Time from raised to actioned"),
                "Completed actions, days from the issue being raised to the action",
            ),
            section(
                "Before and after each completed action",
                note(
                    f"Counts of events and CCRs raising the action's theme in its ward and its LPT, in the "
                    f"{analytics.options.evaluation_weeks} weeks before the action and the same number of "
                    f"weeks from it on. Counts under {policy.threshold} show {policy.suppressed_display}; "
                    f"the rest are rounded to the nearest {policy.rounding_base}. Comparisons use the "
                    "published (rounded) counts only."
                ),
                table(
                    summary.rename("Area rows").rename_axis("Comparison").to_frame(),
                    "Comparisons",
                    index=True,
                ),
                table(shown, "Completed actions, newest first", limit=200),
            ),
        )
    )
    return Page("evaluation", "Evaluation: you said, we did", body)


def quality_page(
    quarantine: Sequence[Mapping[str, Any]],
    warnings: Sequence[Mapping[str, Any]],
    runs: Sequence[Mapping[str, Any]],
    staged_rows: Mapping[str, int],
) -> Page:
    quarantined = pd.DataFrame(list(quarantine), columns=["table", "column", "rule", "rows"])
    drift = [item for item in warnings if "drift" in str(item.get("code", ""))]
    drift_frame = pd.DataFrame(drift, columns=["run_id", "started_utc", "list", "message"])
    run_rows = pd.DataFrame(
        [
            {
                "Run": run.get("run_id"),
                "Kind": run.get("kind"),
                "Started (UTC)": str(run.get("started_utc") or "")[:19].replace("T", " "),
                "Status": run.get("status"),
                **{
                    name.title(): int(run.get("counts", {}).get("totals", {}).get(name, 0))
                    for name in ("read", "valid", "quarantined")
                },
                "Error": (run.get("error") or {}).get("code", ""),
            }
            for run in runs
        ]
    )
    staged = pd.DataFrame(sorted(staged_rows.items()), columns=["Staged table", "Rows"])
    body = "".join(
        (
            kpis(
                {
                    "Rows quarantined (by rule, a row may break several)": int(quarantined["rows"].sum()),
                    "Schema drift warnings": len(drift),
                    "Runs recorded": len(runs),
                }
            ),
            table(staged, "What the report read"),
            table(quarantined, "Quarantine by rule (rows held back, with the rule they broke)"),
            table(drift_frame, "Schema drift in recent runs")
            if drift
            else note("No schema drift in the recent run reports."),
            table(run_rows, "Last runs (newest first)")
            if runs
            else note("No run is recorded in the ledger."),
        )
    )
    return Page("quality", "Data quality", body)
