"""Locations made safe to publish: event points rounded or snapped to a grid, CCRs as area codes only.

Event points go out rounded to 3 dp (about 100 m), or, with `snap_min_events`, at the centre of the
smallest grid cell that holds at least that many events (docs/geography.md). CCRs never carry a point:
only ward and LSOA codes. Location checks are row problems in a Report, never exceptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from errors import ConfigError
from transforms.geography import Geography, locate
from transforms.report import Problem, Report

__all__ = [
    "PointPolicy",
    "check_ccr_areas",
    "check_event_locations",
    "publishable_ccr_areas",
    "publishable_event_points",
    "snap_to_grid",
]

LOCATION_WORDS = ("lat", "lon", "lng", "latitude", "longitude", "location", "easting", "northing", "postcode")


@dataclass(frozen=True)
class PointPolicy:
    decimals: int = 3  # about 110 m of latitude, 70 m of longitude here
    snap_min_events: int | None = None  # None: round only; N: snap to a grid cell holding >= N events
    cell_lat_degrees: float = 0.01  # about 1.1 km
    cell_lon_degrees: float = 0.015  # about 1.0 km at 52.8 N
    max_doublings: int = 3  # coarsest cell: 8 x 8 base cells; events still alone there lose their point

    def __post_init__(self) -> None:
        if not 0 <= self.decimals <= 6 or (self.snap_min_events is not None and self.snap_min_events < 1):
            raise ConfigError(
                "point policy: decimals must be 0-6 and snap_min_events at least 1",
                hint="publish points at 3 decimals (about 100 m) or snap with a minimum of e.g. 5 events",
            )
        if self.cell_lat_degrees <= 0 or self.cell_lon_degrees <= 0 or self.max_doublings < 0:
            raise ConfigError("point policy: grid cells must be positive", hint="docs/geography.md")


def publishable_event_points(
    events: pd.DataFrame, geography: Geography, policy: PointPolicy | None = None
) -> pd.DataFrame:
    """Events with ward_code derived from the location, and location_lat/lon made safe to publish.

    ward_code comes from the precise point (before rounding); where the point is missing or falls in
    no ward, the source ward_code is kept. Points are then rounded, or snapped to grid-cell centres.
    """
    policy = policy or PointPolicy()
    result = events.copy()
    lat = pd.to_numeric(events["location_lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(events["location_lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    derived = locate(lat, lon, geography.ward_boundaries)
    source = (
        events["ward_code"].astype("string")
        if "ward_code" in events
        else pd.Series(pd.NA, index=events.index)
    )
    result["ward_code"] = derived.set_axis(events.index).fillna(source).astype("string")
    if policy.snap_min_events is None:
        new_lat, new_lon = np.round(lat, policy.decimals), np.round(lon, policy.decimals)
    else:
        new_lat, new_lon = snap_to_grid(lat, lon, policy)
    result["location_lat"] = pd.array(new_lat, dtype="Float64")
    result["location_lon"] = pd.array(new_lon, dtype="Float64")
    return result


def snap_to_grid(lat: np.ndarray, lon: np.ndarray, policy: PointPolicy) -> tuple[np.ndarray, np.ndarray]:
    """Centre of the smallest grid cell (base, 2x, 4x, ...) holding >= snap_min_events points; else NaN.

    The centre of the cell, not the mean of its points, so the published point depends on no one
    event's exact position. Cells are aligned to whole multiples of the cell size (origin 0, 0).
    """
    assert policy.snap_min_events is not None
    out_lat = np.full(len(lat), np.nan)
    out_lon = np.full(len(lon), np.nan)
    pending = np.isfinite(lat) & np.isfinite(lon)
    for doubling in range(policy.max_doublings + 1):
        size_lat = policy.cell_lat_degrees * 2**doubling
        size_lon = policy.cell_lon_degrees * 2**doubling
        row = np.floor(np.where(pending, lat, 0) / size_lat)
        column = np.floor(np.where(pending, lon, 0) / size_lon)
        cells = pd.Series(list(zip(row, column, strict=True)))
        sizes = cells[pending].value_counts()
        enough = pending & (cells.map(sizes).fillna(0).to_numpy() >= policy.snap_min_events)
        out_lat[enough] = (row[enough] + 0.5) * size_lat
        out_lon[enough] = (column[enough] + 0.5) * size_lon
        pending &= ~enough
    decimals = 6
    return np.round(out_lat, decimals), np.round(out_lon, decimals)


def check_event_locations(events: pd.DataFrame, geography: Geography) -> Report:
    """Row problems for events whose point lies outside their LPT's boundary (or outside every LPT)."""
    lat = pd.to_numeric(events["location_lat"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    lon = pd.to_numeric(events["location_lon"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    found = _objects(locate(lat, lon, geography.lpt_boundaries))
    declared = _objects(events["lpt_code"].astype("string"))
    keys = (
        events["event_id"].astype("string").fillna("")
        if "event_id" in events
        else pd.Series([""] * len(events))
    )
    problems = []
    for row, (has_point, lpt, where, key) in enumerate(
        zip(np.isfinite(lat) & np.isfinite(lon), declared, found, keys, strict=True)
    ):
        if not has_point or lpt is None or where == lpt:
            continue
        code, message = (
            ("location-outside-force", "the location is outside every LPT boundary")
            if where is None
            else ("location-outside-lpt", f"the location is in {where}, not in the event's LPT")
        )
        problems.append(Problem("events", row, str(key), "location_lat", code, message, ""))
    return Report(tuple(problems), {"events": len(events)})


def publishable_ccr_areas(ccr: pd.DataFrame, geography: Geography) -> pd.DataFrame:
    """CCRs with every point-like column dropped and ward_code filled from the LSOA lookup."""
    dropped = [name for name in ccr.columns if _is_location_column(name)]
    result = ccr.drop(columns=dropped)
    if "lsoa21_code" in result and "ward_code" in result:
        ward_of = geography.lsoas.set_index("lsoa21_code")["ward_code"]
        from_lsoa = result["lsoa21_code"].astype("string").map(ward_of)
        result["ward_code"] = result["ward_code"].astype("string").fillna(from_lsoa.astype("string"))
    return result


def check_ccr_areas(ccr: pd.DataFrame, geography: Geography) -> Report:
    """Row problems: unknown ward or LSOA code, an LSOA outside the ward, a ward outside the LPT."""
    wards = dict(zip(geography.wards["ward_code"], geography.wards["lpt_code"], strict=True))
    ward_of = dict(zip(geography.lsoas["lsoa21_code"], geography.lsoas["ward_code"], strict=True))
    problems = []
    keys = ccr["ccr_id"].astype("string").fillna("") if "ccr_id" in ccr else pd.Series([""] * len(ccr))
    rows = zip(
        _objects(ccr["lpt_code"].astype("string")),
        _objects(ccr["ward_code"].astype("string")),
        _objects(ccr["lsoa21_code"].astype("string")),
        keys,
        strict=True,
    )
    for row, (lpt, ward, lsoa, key) in enumerate(rows):
        found: list[tuple[str, str, str]] = []
        if lsoa is not None and lsoa not in ward_of:
            found.append(("lsoa21_code", "unknown-lsoa", "LSOA code is not in the reference lookup"))
        elif lsoa is not None and ward is not None and ward_of[lsoa] != ward:
            found.append(("lsoa21_code", "lsoa-outside-ward", "the LSOA is not in the CCR's ward"))
        if ward is not None and ward not in wards:
            found.append(("ward_code", "unknown-ward", "ward code is not in the reference lookup"))
        elif ward is not None and lpt is not None and wards[ward] != lpt:
            found.append(("ward_code", "ward-outside-lpt", "the ward is not in the CCR's LPT"))
        problems += [
            Problem("ccr", row, str(key), column, code, message, "") for column, code, message in found
        ]
    return Report(tuple(problems), {"ccr": len(ccr)})


def _objects(values: pd.Series) -> list[object]:
    """Plain values with None for missing (pandas' NA would need care in every comparison)."""
    return [None if pd.isna(value) else value for value in values.tolist()]


def _is_location_column(name: object) -> bool:
    words = re.split(r"[^a-z]+", str(name).lower())
    return any(word in LOCATION_WORDS for word in words)
