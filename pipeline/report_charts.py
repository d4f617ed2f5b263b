"""The report's charts, drawn offline: matplotlib figures as inline SVG, the word cloud as a base64 PNG.

No pyplot (its global figure registry is process-wide state): each chart builds its own `Figure`. Text
is drawn as paths (svg.fonttype "path"), so the SVG needs no font from the reader, and the SVG carries no
date and a fixed hash salt, so the same figures give the same bytes. The map is drawn from the reference
boundary files: polygons and rounded points, no tiles, no network.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from transforms.geography import Boundaries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib and wordcloud (with Pillow and fontTools, ~30 MB) are imported by the functions that draw:
# every command imports the pipeline package, and a scheduled sync must not carry a plotting library.

__all__ = ["bar_chart", "histogram", "line_chart", "map_chart", "word_cloud_png"]

BAR_COLOUR = "#1f5f8b"
SECOND_COLOUR = "#d08a1c"
WIDTH_INCHES = 7.5
SVG_STYLE: Any = {"svg.fonttype": "path", "svg.hashsalt": "cetk-report", "font.size": 9.0}
WORD_CLOUD_SEED = 11  # the layout is random; a fixed seed gives the same picture for the same counts


def _svg(figure: Figure) -> str:
    import matplotlib

    with matplotlib.rc_context(SVG_STYLE):
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG sits inside HTML


def _figure(height: float) -> Figure:
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(SVG_STYLE):
        return Figure(figsize=(WIDTH_INCHES, height), layout="constrained")


def bar_chart(values: pd.Series, title: str, *, xlabel: str = "") -> str:
    """Horizontal bars, one per index label, largest at the top (labels as given, values as numbers)."""
    data = pd.to_numeric(values, errors="coerce").fillna(0)
    figure = _figure(max(1.6, 0.32 * len(data) + 0.9))
    axes = figure.add_subplot()
    labels = [str(label) for label in data.index][::-1]
    axes.barh(labels, data.to_numpy(dtype=float)[::-1], color=BAR_COLOUR)
    axes.set_title(title, loc="left")
    axes.set_xlabel(xlabel)
    axes.spines[["top", "right"]].set_visible(False)
    if data.empty:
        axes.text(0.5, 0.5, "No data", transform=axes.transAxes, ha="center")
    return _svg(figure)


def line_chart(frame: pd.DataFrame, title: str, *, ylabel: str = "") -> str:
    """One line per column over the index (months as YYYY-MM labels)."""
    figure = _figure(2.8)
    axes = figure.add_subplot()
    positions = np.arange(len(frame.index))
    for number, column in enumerate(frame.columns):
        colour = BAR_COLOUR if number == 0 else SECOND_COLOUR
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        axes.plot(positions, values, marker="o", markersize=2.5, color=colour, label=str(column))
    step = max(1, len(positions) // 12)
    axes.set_xticks(positions[::step], [str(label) for label in frame.index][::step], rotation=45, ha="right")
    axes.set_title(title, loc="left")
    axes.set_ylabel(ylabel)
    axes.spines[["top", "right"]].set_visible(False)
    if len(frame.columns) > 1:
        axes.legend(frameon=False)
    if frame.empty:
        axes.text(0.5, 0.5, "No data", transform=axes.transAxes, ha="center")
    return _svg(figure)


def histogram(values: pd.Series, title: str, *, xlabel: str) -> str:
    """How many of something (officers) have each count (submissions), in whole-number bins."""
    data = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=float)
    figure = _figure(2.6)
    axes = figure.add_subplot()
    top = int(data.max()) if data.size else 1
    axes.hist(data, bins=np.arange(0.5, top + 1.5, max(1, top // 30)).tolist(), color=BAR_COLOUR)
    axes.set_title(title, loc="left")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("Officers")
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def map_chart(
    wards: Boundaries,
    lpts: Boundaries,
    title: str,
    *,
    shade: Mapping[str, float] | None = None,
    shade_label: str = "",
    points: pd.DataFrame | None = None,
) -> str:
    """Ward polygons (shaded by `shade`, ward code -> value), LPT outlines and optional lon/lat points."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize

    figure = _figure(5.2)
    axes = figure.add_subplot()
    polygons = [ring for area in wards.areas for ring in area.rings]
    owners = [area.code for area in wards.areas for _ring in area.rings]
    values = np.array([float((shade or {}).get(code, 0.0)) for code in owners])
    collection = PolyCollection(polygons, edgecolors="#ffffff", linewidths=0.4)
    if shade is not None:
        collection.set_array(values)
        collection.set_cmap("Blues")
        collection.set_norm(Normalize(vmin=0.0, vmax=max(1.0, float(values.max(initial=0.0)))))
        figure.colorbar(collection, ax=axes, shrink=0.6, label=shade_label)
    else:
        collection.set_facecolor("#e8eef3")
    axes.add_collection(collection)
    outlines = [ring for area in lpts.areas for ring in area.rings]
    axes.add_collection(PolyCollection(outlines, facecolors="none", edgecolors="#333333", linewidths=0.9))
    if points is not None and not points.empty:
        axes.scatter(points["lon"], points["lat"], s=6, color=SECOND_COLOUR, alpha=0.7, label="Events")
        axes.legend(frameon=False, loc="lower left")
    axes.autoscale_view()
    axes.set_aspect(1.6)  # about 1 / cos(52.8°): degrees of longitude are shorter this far north
    axes.set_axis_off()
    axes.set_title(title, loc="left")
    return _svg(figure)


def word_cloud_png(weights: Mapping[str, int]) -> str | None:
    """A word cloud as a data: URL (PNG), or None with no words; drawn with the wordcloud package's font."""
    if not weights:
        return None
    from wordcloud import WordCloud

    cloud = WordCloud(
        width=900,
        height=420,
        background_color="white",
        colormap="viridis",
        random_state=WORD_CLOUD_SEED,
        prefer_horizontal=0.95,
        collocations=False,
    )
    image = cloud.generate_from_frequencies(dict(weights)).to_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
