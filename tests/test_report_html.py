"""The report's HTML helpers: every data value escaped, numbers formatted, images only as PNG data: URLs."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.report_html import Page, document, image, kpis, table

HOSTILE = '<script>alert("x")</script><img src="https://example.invalid/a.png">'


def test_table_cells_captions_and_headings_are_escaped() -> None:
    frame = pd.DataFrame({HOSTILE: [HOSTILE], "count": [1234]})
    html = table(frame, HOSTILE)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html and '<td class="n">1,234</td>' in html


def test_missing_values_are_blank_and_numbers_read_as_people_read_them() -> None:
    frame = pd.DataFrame({"a": pd.array([None, 2], dtype="Int64"), "b": [0.25, 3.0], "c": [True, False]})
    html = table(frame, "t")
    assert '<td class="n"></td>' in html and ">0.2<" in html and ">3<" in html and ">yes<" in html
    assert "–" in kpis({"Median days to action": None}) and "12,345" in kpis({"Events": 12345})


def test_tables_say_when_rows_are_left_out() -> None:
    html = table(pd.DataFrame({"n": range(5)}), "Rows", limit=2)
    assert "Rows (first 2 of 5)" in html and html.count("<tr>") == 3


def test_images_are_png_data_urls_only() -> None:
    with pytest.raises(ValueError, match="PNG data"):
        image("https://example.invalid/cloud.png", "cloud")
    assert "nothing to show" in image(None, "Word cloud")


def test_the_document_has_no_script_and_forbids_fetching() -> None:
    html = document(HOSTILE, HOSTILE, [Page("p1", HOSTILE, "<p>body</p>")], footer=[HOSTILE])
    assert "<script" not in html and "default-src 'none'" in html
    assert '<section class="page" id="p1">' in html and 'href="#p1"' in html
