"""What cetk publishes, built once for `cetk report` and `cetk publish` alike (docs/publishing.md).

    staged Parquet --check_boundary (the files' own marks)--> build_analytics (scrub, round points, areas
    only, resolved issues, issue_top5, word_cloud, ccr_demographics_agg, yswd_evaluation) --> published

The report renders `published.analytics`; publish posts `published.arrow`, the same values typed as the
model publishes them. Both take their options from one place (`analytics_options(settings)`) and their
reference geography from `geography.dir` (`geography_files(settings)`), so the report shows exactly what
a publish would post.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from config.settings import Settings
from connectors.reference_files import (
    GeographyFiles,
    demo_geography_files,
    geography_files_in,
    load_geography,
)
from connectors.staged_files import STAGED_SUFFIX
from connectors.staged_read import in_staging_schema, read_staged_files
from powerbi_dataset.boundary import check_boundary
from powerbi_dataset.model import DATASET
from transforms.analytics import (
    REQUIRED_TABLES,
    Analytics,
    AnalyticsOptions,
    build_analytics,
    frames_from_arrow,
)
from transforms.analytics_arrow import published_arrow
from transforms.disclosure import DisclosurePolicy
from transforms.geography import Geography

__all__ = [
    "DEMO_GEOGRAPHY_NOTE",
    "Published",
    "analytics_options",
    "build_published",
    "geography_files",
    "not_staged_for_figures",
]

DEMO_GEOGRAPHY_NOTE = (
    "geography.dir is not set: the demo force's synthetic reference geography was used "
    "(wards and LPT boundaries); set geography.dir to the force's own files (docs/geography.md)."
)


@dataclass(frozen=True)
class Published:
    """The published tables (as the report shows them and as publish posts them) and what they came from."""

    staged: dict[str, pd.DataFrame]  # the staged tables read, in the staging schema
    analytics: Analytics  # every published table, pandas, without load_id
    reference: Geography
    notes: tuple[str, ...]  # said beside the result: e.g. the demo geography was used

    @property
    def arrow(self) -> dict[str, pa.Table]:
        """The published tables in the model's published schema: what the sink compares and posts."""
        return published_arrow(self.analytics.tables)


def analytics_options(settings: Settings) -> AnalyticsOptions:
    """The one place AnalyticsOptions are built from settings: the report and publish both use it."""
    chosen = settings.analytics
    policy = DisclosurePolicy(
        threshold=chosen.disclosure_threshold,
        rounding_base=chosen.disclosure_rounding_base,
        min_percentage_base=chosen.disclosure_min_percentage_base,
    )
    return AnalyticsOptions(policy=policy, evaluation_weeks=chosen.evaluation_weeks)


def geography_files(settings: Settings) -> GeographyFiles | None:
    """The reference files `geography.dir` names; None when it is not set (the demo force's are used)."""
    folder = settings.analytics.geography_dir
    return geography_files_in(folder) if folder is not None else None


def not_staged_for_figures(staging_dir: Path) -> list[str]:
    """The tables the published figures are built from that have no staged file (empty: all staged)."""
    return [name for name in REQUIRED_TABLES if not (staging_dir / f"{name}{STAGED_SUFFIX}").is_file()]


def build_published(
    staging_dir: Path, geography: GeographyFiles | None = None, options: AnalyticsOptions | None = None
) -> Published:
    """Read the staged tables and build every published table from them.

    Refused before anything is built (never published in part): a staged value the boundary refuses
    (DataRefusedError), a missing staging directory, or a table the figures need that is not staged
    (SourceFormatError naming it): derived tables built from a part of the data would be wrong, and the
    protected form of a table depends on the others (event issues on the events, the evaluation on all).
    """
    files = read_staged_files(staging_dir)  # each staged file read once
    staged_arrow = in_staging_schema(staging_dir, files)
    # The files as written, with their own field metadata: a column a file marks special-category is
    # refused here even if the model does not mark it (in_staging_schema casts to the model's schema).
    check_boundary(DATASET, files)
    staged = frames_from_arrow(staged_arrow)
    notes = () if geography is not None else (DEMO_GEOGRAPHY_NOTE,)
    reference = load_geography(geography or demo_geography_files())
    analytics = build_analytics(staged, reference, options)
    return Published(staged, analytics, reference, notes)
