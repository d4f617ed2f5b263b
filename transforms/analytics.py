"""The published form of the staged tables, and the analytics tables built from them.

`build_analytics(staged, geography, options)` is pure: staged canonical tables in (pandas frames in the
staging schema), every published table out, in the shape Power BI receives (without load_id): free text
scrubbed again, event points rounded, CCRs as areas only, unpublished columns dropped, and the tables
cetk derives: issue_top5, word_cloud, ccr_demographics_agg (disclosure control) and yswd_evaluation.
The report and publishing read the same value, so the report shows what would be published. Rules:
docs/report.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from errors import SourceFormatError
from powerbi_dataset.model import DATASET
from transforms.demographics import protect_demographics
from transforms.disclosure import DisclosurePolicy
from transforms.geography import Geography
from transforms.geography_points import PointPolicy, publishable_ccr_areas, publishable_event_points
from transforms.scrub import DEFAULT_SCRUBBER, Scrubber
from transforms.theme_summary import top_issues, word_frequencies
from transforms.theme_taxonomy import Taxonomy
from transforms.themes import ccr_issues as classify_ccr_issues
from transforms.themes import event_issues as classify_event_issues
from transforms.yswd import as_model_dtypes, evaluate_actions, raised_issues

__all__ = [
    "FREE_TEXT_COLUMNS",
    "Analytics",
    "AnalyticsOptions",
    "build_analytics",
    "frames_from_arrow",
    "resolve_issues",
]

# Free text that is published (scrubbed at ingest, and again here: the scrubber runs on any text).
FREE_TEXT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "events": ("event_name",),
    "you_said_we_did": ("you_said", "we_did", "not_actioned_reason"),
}
TOP_LEVELS = {
    "EVENTS": ("FORCE", "LPT", "MONTH", "LPT_MONTH", "EVENT"),
    "CCRS": ("FORCE", "LPT", "MONTH", "LPT_MONTH"),
}
BY_LEVEL: Mapping[str, list[str]] = {
    "FORCE": [],
    "LPT": ["lpt_code"],
    "MONTH": ["month"],
    "LPT_MONTH": ["lpt_code", "month"],
    "EVENT": ["event_id"],
}
REQUIRED_TABLES = ("events", "event_issues", "ccr", "ccr_issues", "you_said_we_did")


@dataclass(frozen=True)
class AnalyticsOptions:
    policy: DisclosurePolicy = field(default_factory=DisclosurePolicy)
    points: PointPolicy = field(default_factory=PointPolicy)
    evaluation_weeks: int = 8
    taxonomy: Taxonomy | None = None  # needed only where free text is classified (issue_text_columns)
    # Staged free-text columns to classify where a parent has no structured issue rows: e.g.
    # {"events": "issues_note"}. The model stages none today (docs/report.md, "Which issues win").
    issue_text_columns: Mapping[str, str] = field(default_factory=dict)
    scrubber: Scrubber = DEFAULT_SCRUBBER


@dataclass(frozen=True)
class Analytics:
    """Every published table (published columns, without load_id) and what the report shows beside them."""

    tables: dict[str, pd.DataFrame]
    demographics_force: pd.DataFrame  # force-level totals protected with ccr_demographics_agg
    issue_origin: dict[str, dict[str, int]]  # bridge -> {"structured": parents, "free_text": parents}
    data_end: pd.Timestamp | None  # the last event or CCR date in the data
    options: AnalyticsOptions


def frames_from_arrow(tables: Mapping[str, pa.Table]) -> dict[str, pd.DataFrame]:
    """Arrow tables as pandas frames with nullable dtypes (string, Int64, Float64, boolean, UTC datetimes)."""
    mapping = {
        pa.string(): pd.StringDtype(),
        pa.large_string(): pd.StringDtype(),
        pa.int64(): pd.Int64Dtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
    }
    frames = {}
    for name, table in tables.items():
        frame = table.to_pandas(types_mapper=mapping.get)
        for column, kind in zip(table.column_names, table.schema.types, strict=True):
            if pa.types.is_timestamp(kind):
                frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
        frames[name] = frame
    return frames


def build_analytics(
    staged: Mapping[str, pd.DataFrame], geography: Geography, options: AnalyticsOptions | None = None
) -> Analytics:
    """The published tables from the staged ones (see the module docstring)."""
    options = options or AnalyticsOptions()
    missing = [name for name in REQUIRED_TABLES if name not in staged]
    if missing:
        raise SourceFormatError(
            f"no staged table {', '.join(missing)} to build the published figures from",
            hint="run `cetk sync` (or the Forms migration) first: it stages one Parquet file per table",
        )
    tables = {name: _scrubbed(name, frame, options.scrubber) for name, frame in staged.items()}
    tables["events"] = publishable_event_points(tables["events"], geography, options.points)
    tables["ccr"] = publishable_ccr_areas(tables["ccr"], geography)
    origin: dict[str, dict[str, int]] = {}
    tables["event_issues"], origin["event_issues"] = resolve_issues(
        tables["event_issues"], tables["events"], "event_id", options, text_table="events"
    )
    tables["ccr_issues"], origin["ccr_issues"] = resolve_issues(
        tables["ccr_issues"], tables["ccr"], "ccr_id", options, text_table="ccr"
    )
    data_end = _data_end(tables["events"], tables["ccr"])
    tables["issue_top5"] = issue_top5(tables)
    tables["word_cloud"] = word_cloud(tables, options)
    demographics = protect_demographics(staged["ccr"], options.policy)
    tables["ccr_demographics_agg"] = demographics.lpt
    raised = raised_issues(tables["events"], tables["event_issues"], tables["ccr"], tables["ccr_issues"])
    tables["yswd_evaluation"] = evaluate_actions(
        tables["you_said_we_did"],
        tables["events"],
        raised,
        weeks=options.evaluation_weeks,
        policy=options.policy,
        data_end=data_end,
    )
    published = {name: _published_columns(name, frame) for name, frame in tables.items() if _is_table(name)}
    return Analytics(published, demographics.force, origin, data_end, options)


def _is_table(name: str) -> bool:
    return name in {table.name for table in DATASET.published_tables}


def _published_columns(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Only the columns Power BI receives, in the model's order (load_id is stamped by publish)."""
    columns = [c.name for c in DATASET.table(name).published_columns if c.name != "load_id"]
    return frame.reindex(columns=columns).reset_index(drop=True)


def _scrubbed(name: str, frame: pd.DataFrame, scrubber: Scrubber) -> pd.DataFrame:
    columns = [column for column in FREE_TEXT_COLUMNS.get(name, ()) if column in frame]
    if not columns:
        return frame
    result = frame.copy()
    for column in columns:
        result[column] = scrubber.scrub(frame[column].astype("string")).text.astype("string")
    return result


def resolve_issues(
    structured: pd.DataFrame,
    parents: pd.DataFrame,
    id_column: str,
    options: AnalyticsOptions,
    *,
    text_table: str,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Issue rows: the structured choices win; free text is classified only for parents without any.

    The officer picked the structured themes in the app, so they are what was raised; a free-text note
    fills in only where a parent has no structured row and the staged table carries a text column named
    in `options.issue_text_columns`. Returns the rows and how many parents each kind covers.
    """
    rows = structured.copy()
    covered = set(rows[id_column].dropna().astype(str))
    text_column = options.issue_text_columns.get(text_table)
    from_text = 0
    if text_column is not None and text_column in parents:
        if options.taxonomy is None:
            raise ValueError("classifying free-text issues needs options.taxonomy")
        uncovered = parents[~parents[id_column].astype(str).isin(covered)]
        classify = classify_event_issues if id_column == "event_id" else classify_ccr_issues
        found = classify(
            uncovered,
            options.taxonomy,
            text_column=text_column,
            id_column=id_column,
            scrubber=options.scrubber,
        )
        if id_column == "event_id":
            found = found[found["rank"].notna()]  # the model's rank is 1-5: the top five only
        from_text = int(found[id_column].nunique())
        rows = pd.concat([rows, found.reindex(columns=rows.columns)], ignore_index=True)
    return rows, {"structured": len(covered), "free_text": from_text}


def issue_top5(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """issue_top5 rows: the top five themes per group at each level, for event and CCR issues."""
    events = tables["events"]
    completed = events[events["status"].astype("string") == "COMPLETED"]
    sources = {
        "EVENTS": (tables["event_issues"], completed, "event_id", "start_local_date"),
        "CCRS": (tables["ccr_issues"], tables["ccr"], "ccr_id", "recorded_local_date"),
    }
    parts = []
    for issues_from, (issues, facts, id_column, date_column) in sources.items():
        for level in TOP_LEVELS[issues_from]:
            by = BY_LEVEL[level]
            top = top_issues(issues, facts, id_column=id_column, by=by, date_column=date_column)
            if top.empty:
                continue
            top = top.assign(issues_from=issues_from, level=level)
            top["group_id"] = _group_ids(top, level)
            parts.append(top)
    columns = [c.name for c in DATASET.table("issue_top5").columns if c.name != "load_id"]
    if not parts:
        return as_model_dtypes(pd.DataFrame(columns=columns), "issue_top5")
    result = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    return as_model_dtypes(result, "issue_top5")


def _group_ids(top: pd.DataFrame, level: str) -> pd.Series:
    if level == "FORCE":
        return pd.Series("FORCE", index=top.index, dtype="string")
    if level == "EVENT":
        return top["event_id"].astype("string")
    month = pd.to_datetime(top["month"], utc=True).dt.strftime("%Y-%m") if "month" in top else None
    if level == "LPT":
        return top["lpt_code"].astype("string")
    if level == "MONTH":
        return pd.Series(month, index=top.index, dtype="string")
    return (top["lpt_code"].astype("string") + "/" + pd.Series(month, index=top.index)).astype("string")


def word_cloud(tables: Mapping[str, pd.DataFrame], options: AnalyticsOptions) -> pd.DataFrame:
    """word_cloud rows: labels of the themes raised at events and keywords of what the public said."""
    words = word_frequencies(
        tables["you_said_we_did"]["you_said"].astype("string"),
        tables["event_issues"]["theme_code"].astype("string"),
        min_rows=options.policy.threshold,
        scrubber=options.scrubber,
    )
    words["source"] = words["source"].str.upper()
    return as_model_dtypes(words[["word", "source", "count"]], "word_cloud")


def _data_end(events: pd.DataFrame, ccr: pd.DataFrame) -> pd.Timestamp | None:
    dates = pd.concat(
        [
            pd.to_datetime(events.loc[events["status"] == "COMPLETED", "start_local_date"], utc=True),
            pd.to_datetime(ccr["recorded_local_date"], utc=True),
        ]
    ).dropna()
    return None if dates.empty else pd.Timestamp(dates.max())
