"""The report's HTML: one self-contained file, pages switched with CSS `:target`, no script, no link out.

Every value from the data is escaped here (`html.escape`); charts come in as SVG text or data: URLs
drawn by pipeline/report_charts.py. Nothing refers to a file or a host: the page makes no request.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Page", "document", "figure", "image", "kpis", "note", "section", "table"]

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1b1b1b;background:#f6f7f9}
header{background:#1f3b57;color:#fff;padding:12px 20px}header h1{font-size:20px;margin:0}
header p{margin:4px 0 0;font-size:13px;opacity:.9}
nav{background:#fff;border-bottom:1px solid #d5d9de;padding:6px 14px}
nav a{display:inline-block;margin:3px 6px;padding:5px 9px;border-radius:4px;color:#1f3b57;text-decoration:none;font-size:14px}
nav a:hover{background:#e6edf3}
main{padding:10px 20px 40px;max-width:1100px}
.page{display:none}.page:target{display:block}
body:not(:has(.page:target)) .page:first-of-type{display:block}
h2{font-size:19px;border-bottom:2px solid #1f3b57;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.kpis{display:flex;flex-wrap:wrap;gap:10px}
.kpi{background:#fff;border:1px solid #d5d9de;border-radius:6px;padding:8px 12px;min-width:140px}
.kpi b{display:block;font-size:22px;color:#1f3b57}.kpi span{font-size:12px;color:#4a4f55}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:4px 0 10px}
th,td{border:1px solid #d5d9de;padding:3px 7px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}caption{text-align:left;font-weight:600;padding:4px 0}
figure{margin:8px 0;background:#fff;border:1px solid #d5d9de;padding:6px;display:inline-block;max-width:100%}
figure svg,figure img{max-width:100%;height:auto}figcaption{font-size:12px;color:#4a4f55}
.note{background:#fff8e1;border-left:4px solid #d08a1c;padding:6px 10px;font-size:13px;margin:8px 0}
"""


@dataclass(frozen=True)
class Page:
    page_id: str  # the anchor: report.html#<page_id>
    title: str
    body: str  # HTML built by the helpers below


def _text(value: object) -> str:
    """A cell as people read it: blanks for missing values, thousands separators, one decimal place."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return ""
        return f"{int(number):,}" if number.is_integer() else f"{number:,.1f}"
    return str(value)


def kpis(values: Mapping[str, object]) -> str:
    cells = "".join(
        f'<div class="kpi"><b>{html.escape(_text(value) or "–")}</b><span>{html.escape(name)}</span></div>'
        for name, value in values.items()
    )
    return f'<div class="kpis">{cells}</div>'


def table(frame: pd.DataFrame, caption: str, *, index: bool = False, limit: int | None = None) -> str:
    """A DataFrame as an escaped HTML table; numbers right-aligned; at most `limit` rows, said so."""
    shown = frame.rename_axis(str(frame.index.name or "")).reset_index() if index else frame
    total = len(shown)
    if limit is not None:
        shown = shown.head(limit)
    numeric = [pd.api.types.is_numeric_dtype(shown[column]) for column in shown.columns]
    head = "".join(
        f'<th class="{"n" if is_number else ""}">{html.escape(str(column))}</th>'
        for column, is_number in zip(shown.columns, numeric, strict=True)
    )
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if is_number else ""}">{html.escape(_text(value))}</td>'
            for value, is_number in zip(row, numeric, strict=True)
        )
        + "</tr>"
        for row in shown.itertuples(index=False)
    )
    more = f" (first {len(shown)} of {total:,})" if len(shown) < total else ""
    empty = "" if total else f'<tr><td colspan="{max(1, len(shown.columns))}">No rows</td></tr>'
    return (
        f"<table><caption>{html.escape(caption + more)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}{empty}</tbody></table>"
    )


def figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def image(data_url: str | None, caption: str) -> str:
    if data_url is None:
        return note(f"{caption}: nothing to show.")
    if not data_url.startswith("data:image/png;base64,"):
        raise ValueError("the report embeds images as PNG data: URLs only")
    return f'<figure><img src="{data_url}" alt="{html.escape(caption)}"><figcaption>{html.escape(caption)}</figcaption></figure>'


def note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>'


def section(title: str, *parts: str) -> str:
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts)


def document(title: str, subtitle: str, pages: Sequence[Page], footer: Iterable[str] = ()) -> str:
    """The whole report: header, page links, one <section> per page (the first shown by default)."""
    links = "".join(f'<a href="#{page.page_id}">{html.escape(page.title)}</a>' for page in pages)
    sections = "".join(
        f'<section class="page" id="{page.page_id}"><h2>{html.escape(page.title)}</h2>{page.body}</section>'
        for page in pages
    )
    notes = "".join(f"<p>{html.escape(line)}</p>" for line in footer)
    return (
        '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p></header>"
        f"<nav>{links}</nav><main>{sections}<footer>{notes}</footer></main></body></html>\n"
    )
