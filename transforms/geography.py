"""Reference geography: the ward and LSOA lookups, ward and LPT boundaries, and point-in-polygon.

Parsing is pure (bytes in); connectors/reference_files.py reads the files the config names. Formats:
docs/geography.md. Point-in-polygon is even-odd ray casting over every ring of an area (so holes and
multi-part areas work), vectorised over points, with a bounding-box prefilter per area.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from errors import SourceFormatError

__all__ = [
    "Area",
    "Boundaries",
    "Geography",
    "locate",
    "parse_boundaries",
    "parse_lsoa_lookup",
    "parse_ward_lookup",
]

WARD_LOOKUP_COLUMNS = ("ward_code", "ward_name", "lpt_code", "local_authority")
LSOA_LOOKUP_COLUMNS = ("lsoa21_code", "ward_code")
CODE_PATTERNS = {"ward_code": re.compile(r"E05\d{6}"), "lsoa21_code": re.compile(r"E01\d{6}")}
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Area:
    """One boundary: its code, name, parent LPT (wards only) and rings of (lon, lat) vertices."""

    code: str
    name: str
    lpt_code: str | None
    rings: tuple[FloatArray, ...]  # each (n, 2), closed (first vertex repeated last)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        points = np.concatenate(self.rings)
        return (
            float(points[:, 0].min()),
            float(points[:, 1].min()),
            float(points[:, 0].max()),
            float(points[:, 1].max()),
        )


@dataclass(frozen=True)
class Boundaries:
    level: str  # "ward" or "lpt"
    areas: tuple[Area, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(area.code for area in self.areas)


@dataclass(frozen=True)
class Geography:
    wards: pd.DataFrame  # WARD_LOOKUP_COLUMNS
    lsoas: pd.DataFrame  # LSOA_LOOKUP_COLUMNS
    ward_boundaries: Boundaries
    lpt_boundaries: Boundaries


def parse_ward_lookup(data: bytes, source: str) -> pd.DataFrame:
    """The ward lookup CSV: ward_code, ward_name, lpt_code, local_authority (one row per ward)."""
    return _parse_lookup(data, source, WARD_LOOKUP_COLUMNS)


def parse_lsoa_lookup(data: bytes, source: str) -> pd.DataFrame:
    """The LSOA lookup CSV: lsoa21_code, ward_code (one row per LSOA)."""
    return _parse_lookup(data, source, LSOA_LOOKUP_COLUMNS)


def _parse_lookup(data: bytes, source: str, columns: Sequence[str]) -> pd.DataFrame:
    try:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        rows = list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceFormatError(
            f"reference file {source} is not a UTF-8 CSV ({type(exc).__name__})",
            hint="save the lookup as UTF-8 CSV with a header row",
        ) from None
    missing = [name for name in columns if name not in (reader.fieldnames or [])]
    if missing:
        raise SourceFormatError(
            f"reference file {source} lacks the column(s) {', '.join(missing)}",
            hint=f"the header must name {', '.join(columns)} (docs/geography.md)",
        )
    key = columns[0]
    for number, row in enumerate(rows, start=2):
        for name in columns:
            value = (row.get(name) or "").strip()
            pattern = CODE_PATTERNS.get(name)
            if not value or (pattern is not None and not pattern.fullmatch(value)):
                raise SourceFormatError(
                    f"reference file {source}, line {number}, field {name}: missing or not a valid code",
                    hint="ward codes look like E05000001 and LSOA codes like E01000001 (ONS GSS codes)",
                )
    frame = pd.DataFrame(
        [{name: row[name].strip() for name in columns} for row in rows], columns=list(columns)
    )
    repeated = frame[key][frame[key].duplicated()]
    if not repeated.empty:
        raise SourceFormatError(
            f"reference file {source} lists {key} {repeated.iloc[0]} more than once",
            hint="each code must appear on one line only",
        )
    return frame.astype("string")


def parse_boundaries(data: bytes, source: str, *, level: str) -> Boundaries:
    """A GeoJSON FeatureCollection of Polygon or MultiPolygon features with a `code` property."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceFormatError(
            f"boundary file {source} is not UTF-8 JSON ({type(exc).__name__})",
            hint="export the boundaries as GeoJSON (RFC 7946, WGS84 lon/lat)",
        ) from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise SourceFormatError(
            f"boundary file {source} is not a GeoJSON FeatureCollection",
            hint="export the boundaries as one GeoJSON FeatureCollection",
        )
    areas = [_area(feature, source, index) for index, feature in enumerate(document.get("features") or [])]
    codes = [area.code for area in areas]
    if len(set(codes)) != len(codes):
        raise SourceFormatError(
            f"boundary file {source} has a code on more than one feature",
            hint="merge the parts of an area into one MultiPolygon feature",
        )
    return Boundaries(level, tuple(areas))


def _area(feature: Any, source: str, index: int) -> Area:
    where = f"boundary file {source}, feature {index}"
    properties = feature.get("properties") if isinstance(feature, dict) else None
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(properties, dict) or not str(properties.get("code") or "").strip():
        raise SourceFormatError(f"{where}: no 'code' property", hint="give each feature its area code")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        raise SourceFormatError(
            f"{where}: geometry is not a Polygon or MultiPolygon", hint="docs/geography.md"
        )
    assert isinstance(geometry, dict)
    polygons = [geometry["coordinates"]] if kind == "Polygon" else geometry["coordinates"]
    rings = []
    try:
        for polygon in polygons:
            for ring in polygon:
                points = np.asarray(ring, dtype=np.float64)[:, :2]
                if len(points) < 4 or not np.all(np.isfinite(points)):
                    raise ValueError("ring")
                if not np.array_equal(points[0], points[-1]):
                    points = np.vstack([points, points[:1]])
                rings.append(points)
    except (ValueError, TypeError, IndexError):
        raise SourceFormatError(
            f"{where}: a ring is not a list of at least 4 [lon, lat] positions", hint="docs/geography.md"
        ) from None
    name = str(properties.get("name") or properties["code"])
    parent = properties.get("lpt_code")
    return Area(str(properties["code"]).strip(), name, None if parent is None else str(parent), tuple(rings))


def locate(
    lat: Sequence[float] | FloatArray, lon: Sequence[float] | FloatArray, boundaries: Boundaries
) -> pd.Series:
    """The code of the area each point falls in (first in file order on a shared edge); <NA> outside.

    Points with a missing coordinate are <NA>. Linear in points x edges, with a bounding-box prefilter.
    """
    lats = np.asarray(lat, dtype=np.float64)
    lons = np.asarray(lon, dtype=np.float64)
    found = np.full(len(lats), -1, dtype=np.int64)
    valid = np.isfinite(lats) & np.isfinite(lons)
    for number, area in enumerate(boundaries.areas):
        west, south, east, north = area.bbox
        candidates = np.flatnonzero(
            valid & (found < 0) & (lons >= west) & (lons <= east) & (lats >= south) & (lats <= north)
        )
        if candidates.size:
            inside = _inside(lons[candidates], lats[candidates], area.rings)
            found[candidates[inside]] = number
    codes = np.array([*boundaries.codes, None], dtype=object)
    return pd.Series(codes[found], dtype="string")


def _inside(x: FloatArray, y: FloatArray, rings: Sequence[FloatArray]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Even-odd rule: a point is inside when a ray to the east crosses the rings an odd number of times."""
    inside = np.zeros(len(x), dtype=bool)
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:], strict=True):
            if y1 == y2:
                continue  # a horizontal edge is never crossed by a horizontal ray (half-open rule)
            straddles = (y1 > y) != (y2 > y)
            crossing_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
            inside ^= straddles & (x < crossing_x)
    return inside
