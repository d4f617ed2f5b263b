"""The demo force's shipped reference geography: reproducible, a clean partition, and it fits the demo data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.make_demo_geography import build_files
from connectors.reference_files import demo_geography_files, load_geography
from emulator.demo.force import generate_force
from emulator.demo.reference import LAT_RANGE, LON_RANGE
from transforms.geography import Geography, locate
from transforms.geography_points import check_ccr_areas, check_event_locations

MIN_EVENTS_INSIDE_THEIR_LPT = 0.90  # measured 94.2% for the default demo (docs/geography.md)


@pytest.fixture(scope="module")
def geography() -> Geography:
    return load_geography(demo_geography_files())


@pytest.fixture(scope="module")
def demo_tables() -> dict[str, pd.DataFrame]:
    return generate_force(invalid_fraction=0).tables


def test_the_committed_files_are_what_the_generator_makes() -> None:
    files = demo_geography_files()
    on_disk = {path.name: path.read_bytes() for path in vars(files).values()}
    assert build_files() == on_disk, "run `python -m bench.make_demo_geography` and commit the result"
    assert sum(len(content) for content in on_disk.values()) < 100_000  # small enough to draw offline


def test_the_demo_geography_has_10_lpts_120_wards_and_600_lsoas(geography: Geography) -> None:
    assert len(geography.lpt_boundaries.areas) == 10
    assert len(geography.ward_boundaries.areas) == len(geography.wards) == 120
    assert len(geography.lsoas) == 600
    assert set(geography.ward_boundaries.codes) == set(geography.wards["ward_code"])
    parents = {area.code: area.lpt_code for area in geography.ward_boundaries.areas}
    assert parents == dict(zip(geography.wards["ward_code"], geography.wards["lpt_code"], strict=True))


def test_wards_and_lpts_tile_the_force_box_without_gaps_or_overlaps(geography: Geography) -> None:
    lat, lon = np.meshgrid(np.linspace(*LAT_RANGE, 97)[1:-1], np.linspace(*LON_RANGE, 89)[1:-1])
    lat, lon = lat.ravel(), lon.ravel()
    ward = locate(lat, lon, geography.ward_boundaries)
    lpt = locate(lat, lon, geography.lpt_boundaries)
    assert not ward.isna().any() and not lpt.isna().any()
    lpt_of_ward = dict(zip(geography.wards["ward_code"], geography.wards["lpt_code"], strict=True))
    assert (ward.map(lpt_of_ward) == lpt).mean() > 0.995  # only points within rounding of an edge differ
    for boundaries in (geography.ward_boundaries, geography.lpt_boundaries):
        reversed_order = type(boundaries)(boundaries.level, boundaries.areas[::-1])
        # the first match equals the last match almost everywhere: the areas do not overlap
        assert (locate(lat, lon, reversed_order) == locate(lat, lon, boundaries)).mean() > 0.995


def test_every_ward_and_lsoa_the_demo_generator_uses_is_in_the_lookup(
    geography: Geography, demo_tables: dict[str, pd.DataFrame]
) -> None:
    events, ccr = demo_tables["events"], demo_tables["ccr"]
    wards = set(geography.wards["ward_code"])
    assert set(events["ward_code"].dropna()) <= wards
    assert set(ccr["ward_code"].dropna()) <= wards
    assert set(ccr["lsoa21_code"].dropna()) <= set(geography.lsoas["lsoa21_code"])
    assert check_ccr_areas(ccr, geography).valid  # LSOA in its ward, ward in its LPT


def test_most_demo_event_points_fall_inside_their_lpt(
    geography: Geography, demo_tables: dict[str, pd.DataFrame]
) -> None:
    events = demo_tables["events"]
    with_point = int(events["location_lat"].notna().sum())
    report = check_event_locations(events, geography)
    inside = 1 - len(report.problems) / with_point
    # The demo scatters points around each LPT centre regardless of boundaries; the three close
    # Stoke and Newcastle centres account for most misses. A data-quality finding, not hidden.
    assert inside >= MIN_EVENTS_INSIDE_THEIR_LPT, f"{inside:.1%} inside their LPT"
    assert set(report.counts()["events"]) == {"location-outside-lpt"}
