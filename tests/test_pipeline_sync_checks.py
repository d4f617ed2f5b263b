"""pipeline.sync_checks.split_page: every row with an error is held back, however many there are."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from pipeline.sync_checks import split_page
from powerbi_dataset.model import DATASET
from transforms.report import DEFAULT_MAX_LISTED


def test_every_row_with_an_error_is_held_back_beyond_the_report_s_listing_cap() -> None:
    """A batch of pages can find more problems than a report lists (DEFAULT_MAX_LISTED): a problem left
    unlisted would stage its row."""
    themes = DATASET.table("themes")
    rows = DEFAULT_MAX_LISTED + 5
    table = pa.table(
        {"theme_code": [f"T{n}" for n in range(rows)], "theme_label": pa.nulls(rows, pa.string())}
    )
    as_of = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)

    split = split_page({"themes": table}, themes, [], dataset=DATASET, as_of=as_of)["themes"]

    assert split.valid.num_rows == 0
    assert split.invalid.num_rows == rows
