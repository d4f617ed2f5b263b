"""`cetk report`: the offline HTML report of what would be published, from the staged tables.

    staged Parquet --read--> build_analytics (scrub, round points, areas only, disclosure control)
                   --pages-> five dashboard pages + evaluation + data quality --html--> report.html

It reads the staged tables (never raw source data) and builds the published tables through the same
function publishing uses (pipeline/published.py: `build_published`, with the options and reference
geography of the same settings), so the report shows exactly what Power BI would receive. The data-quality page
reads the quarantine's reasons, the run reports' warnings and the run ledger: counts and names only.
`--dry-run` builds the report and says what it would write.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import Paths, Settings
from connectors.reference_files import GeographyFiles
from connectors.staged_read import quarantine_by_rule, run_warnings
from errors import ConfigError
from pipeline.plans import apply
from pipeline.published import analytics_options, build_published, geography_files
from pipeline.report_html import document
from pipeline.report_pages import dashboard_pages, headline_figures
from pipeline.report_quality import evaluation_page, quality_page
from pipeline.status import status
from pipeline.steps import Plan, WriteFile
from pipeline.validation import counted
from transforms.analytics import AnalyticsOptions

__all__ = ["REPORT_FILE_NAME", "ReportResult", "build_report", "report"]

REPORT_FILE_NAME = "report.html"
RUNS_SHOWN = 10


@dataclass(frozen=True)
class ReportResult:
    path: Path
    written: bool  # False with --dry-run
    size_bytes: int
    pages: tuple[tuple[str, str], ...]  # (anchor, title)
    published_rows: dict[str, int]
    suppressed_cells: int  # demographic cells and evaluation counts shown as the suppression marker
    figures: dict[str, float | None]  # every model measure over the published tables
    quarantined_rows: int
    drift_warnings: int
    notes: tuple[str, ...] = ()  # e.g. the demo force's geography was used (geography.dir not set)

    def describe(self) -> str:
        verb = "Wrote" if self.written else "Would write"
        pages = ", ".join(title for _anchor, title in self.pages)
        return "\n".join(
            [
                f"{verb} {self.path} ({self.size_bytes:,} bytes): {pages}.",
                f"{counted(self.suppressed_cells, 'suppressed cell')}; "
                f"{counted(self.quarantined_rows, 'quarantined row')} by rule; "
                f"{counted(self.drift_warnings, 'schema drift warning')}.",
                *(f"Note: {note}" for note in self.notes),
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "written": self.written,
            "size_bytes": self.size_bytes,
            "pages": [{"anchor": anchor, "title": title} for anchor, title in self.pages],
            "published_rows": self.published_rows,
            "suppressed_cells": self.suppressed_cells,
            "figures": self.figures,
            "quarantined_rows": self.quarantined_rows,
            "drift_warnings": self.drift_warnings,
            "notes": list(self.notes),
        }


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def build_report(
    paths: Paths,
    out_dir: Path,
    *,
    geography: GeographyFiles | None = None,
    options: AnalyticsOptions | None = None,
    dry_run: bool = False,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> ReportResult:
    """Build the report from `paths.staging_dir` (and quarantine and state) and write out_dir/report.html.

    `geography` None: the demo force's reference files (said in the result's notes); `options` as
    `pipeline.published.analytics_options(settings)` builds them, the ones publish uses."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"--out {out_dir} is a file, not a directory", hint="name a directory for --out")
    published = build_published(paths.staging_dir, geography, options)
    staged, reference, analytics = published.staged, published.reference, published.analytics
    quarantine = quarantine_by_rule(paths.quarantine_dir)
    warnings = run_warnings(paths.state_dir)
    runs = status(paths.state_dir, limit=RUNS_SHOWN)["runs"]
    staged_rows = {name: len(frame) for name, frame in staged.items()}
    pages = [
        *dashboard_pages(analytics, reference),
        evaluation_page(analytics),
        quality_page(quarantine, warnings, runs, staged_rows),
    ]
    generated = clock().astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    last = analytics.data_end.strftime("%Y-%m-%d") if analytics.data_end is not None else "none"
    html = document(
        "Community engagement: what would be published",
        " ".join(
            [
                f"Generated {generated} from the staged tables in {paths.staging_dir}; data up to {last}.",
                *published.notes,
            ]
        ),
        pages,
        footer=(
            "Built by cetk from the staged tables only, with the disclosure control publishing applies: "
            "free text scrubbed, event points rounded, CCRs by area only, demographics under the 10-5 rule.",
        ),
    )
    content = html.encode("utf-8")
    path = out_dir / REPORT_FILE_NAME
    step = WriteFile(path, content, replace=path.exists(), what="the offline HTML report")
    if not dry_run:
        out_dir.mkdir(parents=True, exist_ok=True)
        apply(Plan((step,)))
    evaluation = analytics.tables["yswd_evaluation"]
    suppressed = int(analytics.tables["ccr_demographics_agg"]["is_suppressed"].astype(bool).sum())
    suppressed += int(
        (evaluation[["before_display", "after_display"]] == analytics.options.policy.suppressed_display)
        .sum()
        .sum()
    )
    return ReportResult(
        path=path,
        written=not dry_run,
        size_bytes=len(content),
        pages=tuple((page.page_id, page.title) for page in pages),
        published_rows={name: len(frame) for name, frame in analytics.tables.items()},
        suppressed_cells=suppressed,
        figures=headline_figures(analytics),
        quarantined_rows=sum(int(item["rows"]) for item in quarantine),
        drift_warnings=sum(1 for item in warnings if "drift" in item["code"]),
        notes=published.notes,
    )


def report(
    settings: Settings,
    out_dir: Path,
    *,
    staging: Path | None = None,
    dry_run: bool = False,
    clock: Callable[[], dt.datetime] = _utc_now,
) -> ReportResult:
    """`cetk report`: the report of `settings`' staged tables (or of `staging`, with its quarantine/ and
    state/), built with the geography and analytics options publish uses (pipeline/published.py)."""
    paths = settings.paths if staging is None else Paths(staging, staging / "quarantine", staging / "state")
    return build_report(
        paths,
        out_dir,
        geography=geography_files(settings),
        options=analytics_options(settings),
        dry_run=dry_run,
        clock=clock,
    )
