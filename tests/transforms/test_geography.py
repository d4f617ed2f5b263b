"""Geography: reference parsing, point-in-polygon, points made safe to publish, location checks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from errors import ConfigError, SourceFormatError
from transforms.geography import Geography, locate, parse_boundaries, parse_lsoa_lookup, parse_ward_lookup
from transforms.geography_points import (
    PointPolicy,
    check_ccr_areas,
    check_event_locations,
    publishable_ccr_areas,
    publishable_event_points,
)

SQUARE = [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]]
HOLE = [[1.0, 1.0], [1.0, 3.0], [3.0, 3.0], [3.0, 1.0], [1.0, 1.0]]


def geojson(*features: tuple[str, dict[str, object], str | None]) -> bytes:
    body = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"code": code, "lpt_code": lpt}, "geometry": geometry}
            for code, geometry, lpt in features
        ],
    }
    return json.dumps(body).encode()


def polygon(*rings: list[list[float]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": list(rings)}


def test_locate_uses_the_even_odd_rule_so_holes_and_multipolygons_work() -> None:
    multi = {
        "type": "MultiPolygon",
        "coordinates": [[[[10, 0], [12, 0], [12, 2], [10, 2]]], [[[20, 0], [22, 0], [21, 2], [20, 0]]]],
    }
    areas = parse_boundaries(
        geojson(("RING", polygon(SQUARE, HOLE), None), ("MULTI", multi, None)), "t.geojson", level="ward"
    )
    # (lat, lon): inside the ring, in the hole, outside, in each part of the multipolygon, missing
    lat = [0.5, 2.0, 5.0, 1.0, 0.5, np.nan]
    lon = [0.5, 2.0, 5.0, 11.0, 21.0, 1.0]
    assert locate(lat, lon, areas).tolist() == ["RING", pd.NA, pd.NA, "MULTI", "MULTI", pd.NA]


def test_a_point_on_a_shared_edge_goes_to_exactly_one_area() -> None:
    left = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
    right = [[1.0, 0.0], [2.0, 0.0], [2.0, 1.0], [1.0, 1.0], [1.0, 0.0]]
    areas = parse_boundaries(
        geojson(("L", polygon(left), None), ("R", polygon(right), None)), "t", level="ward"
    )
    assert locate([0.5, 0.5, 0.5], [0.999, 1.0, 1.001], areas).tolist() == ["L", "R", "R"]


def test_overlapping_areas_give_the_first_in_file_order() -> None:
    areas = parse_boundaries(
        geojson(("FIRST", polygon(SQUARE), None), ("SECOND", polygon(SQUARE), None)), "t", level="lpt"
    )
    assert locate([2.0], [2.0], areas).tolist() == ["FIRST"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"{not json", "not UTF-8 JSON"),
        (b'{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        (geojson(("", polygon(SQUARE), None)), "no 'code' property"),
        (geojson(("A", {"type": "Point", "coordinates": [0, 0]}, None)), "not a Polygon"),
        (geojson(("A", polygon([[0, 0], [1, 1]]), None)), "at least 4"),
        (geojson(("A", polygon(SQUARE), None), ("A", polygon(SQUARE), None)), "more than one feature"),
    ],
)
def test_bad_boundary_files_are_source_format_errors(data: bytes, message: str) -> None:
    with pytest.raises(SourceFormatError, match=message) as caught:
        parse_boundaries(data, "wards.geojson", level="ward")
    assert "wards.geojson" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ward_code,ward_name,lpt_code\nE05000001,A,STOKE_N\n", "lacks the column"),
        ("ward_code,ward_name,lpt_code,local_authority\nSECRET-ISH,A,STOKE_N,X\n", "line 2, field ward_code"),
        ("ward_code,ward_name,lpt_code,local_authority\nE05000001,,STOKE_N,X\n", "line 2, field ward_name"),
        (
            "ward_code,ward_name,lpt_code,local_authority\nE05000001,A,STOKE_N,X\nE05000001,B,STOKE_N,X\n",
            "more than once",
        ),
    ],
)
def test_bad_lookups_name_file_line_and_field_but_not_the_value(text: str, message: str) -> None:
    with pytest.raises(SourceFormatError, match=message) as caught:
        parse_ward_lookup(text.encode(), "wards.csv")
    assert "wards.csv" in str(caught.value) and "SECRET-ISH" not in str(caught.value)


def small_geography() -> Geography:
    # Two LPTs side by side (west A, east B), each one ward; lon 0..1 and 1..2, lat 52..53.
    west = [[0.0, 52.0], [1.0, 52.0], [1.0, 53.0], [0.0, 53.0], [0.0, 52.0]]
    east = [[1.0, 52.0], [2.0, 52.0], [2.0, 53.0], [1.0, 53.0], [1.0, 52.0]]
    wards = parse_ward_lookup(
        b"ward_code,ward_name,lpt_code,local_authority\nE05000001,West,A,LA\nE05000002,East,B,LB\n",
        "wards.csv",
    )
    lsoas = parse_lsoa_lookup(
        b"lsoa21_code,ward_code\nE01000001,E05000001\nE01000002,E05000002\n", "lsoas.csv"
    )
    ward_areas = geojson(("E05000001", polygon(west), "A"), ("E05000002", polygon(east), "B"))
    lpt_areas = geojson(("A", polygon(west), "A"), ("B", polygon(east), "B"))
    return Geography(
        wards,
        lsoas,
        parse_boundaries(ward_areas, "wards.geojson", level="ward"),
        parse_boundaries(lpt_areas, "lpts.geojson", level="lpt"),
    )


def events(*rows: tuple[str, str | None, float | None, float | None]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(rows))],
            "lpt_code": pd.array([r[0] for r in rows], dtype="string"),
            "ward_code": pd.array([r[1] for r in rows], dtype="string"),
            "location_lat": pd.array([r[2] for r in rows], dtype="Float64"),
            "location_lon": pd.array([r[3] for r in rows], dtype="Float64"),
        }
    )


def test_event_points_are_rounded_to_3_dp_after_the_ward_is_derived_from_the_precise_point() -> None:
    frame = events(
        ("A", "E05000002", 52.51234, 0.99996), ("B", "E05000002", None, None), ("A", None, 54.0, 0.5)
    )
    published = publishable_event_points(frame, small_geography())
    # 0.99996 is in the west ward, though it rounds to 1.000 (the shared edge)
    assert published["ward_code"].tolist() == ["E05000001", "E05000002", pd.NA]
    assert published["location_lat"].tolist() == [52.512, pd.NA, 54.0]
    assert published["location_lon"].tolist() == [1.0, pd.NA, 0.5]
    assert frame["location_lat"].iloc[0] == 52.51234  # the input is not changed


def test_snapping_publishes_cell_centres_of_cells_with_enough_events_and_withholds_the_rest() -> None:
    busy = [("A", None, 52.5012 + i * 0.0005, 0.5012 + i * 0.0007) for i in range(5)]  # one 0.01 x 0.015 cell
    lonely = [("A", None, 52.9001, 0.1001)]
    policy = PointPolicy(snap_min_events=5, max_doublings=1)
    published = publishable_event_points(events(*busy, *lonely), small_geography(), policy)
    assert published["location_lat"].tolist()[:5] == [52.505] * 5
    assert published["location_lon"].tolist()[:5] == [0.5025] * 5
    assert published["location_lat"].isna().tolist()[5] and published["ward_code"].tolist()[5] == "E05000001"


def test_snapping_coarsens_the_cell_before_it_withholds_a_point() -> None:
    # Three events in three neighbouring base cells, together in one 2x cell: all three keep a point.
    spread = [("A", None, 52.501, 0.491), ("A", None, 52.511, 0.491), ("A", None, 52.501, 0.506)]
    published = publishable_event_points(events(*spread), small_geography(), PointPolicy(snap_min_events=3))
    assert published["location_lat"].tolist() == [52.51] * 3
    assert published["location_lon"].tolist() == [0.495] * 3


def test_event_outside_its_lpt_is_a_row_problem_not_a_crash() -> None:
    frame = events(
        ("A", None, 52.5, 0.5), ("A", None, 52.5, 1.5), ("B", None, 54.0, 1.5), ("B", None, None, None)
    )
    report = check_event_locations(frame, small_geography())
    assert report.flatten(["row", "key", "column", "code"]) == [
        [1, "e1", "location_lat", "location-outside-lpt"],
        [2, "e2", "location_lat", "location-outside-force"],
    ]
    assert all(problem.value == "" for problem in report.problems)


def test_ccrs_keep_only_area_codes_and_get_the_ward_from_the_lsoa() -> None:
    ccr = pd.DataFrame(
        {
            "ccr_id": ["c0", "c1"],
            "lpt_code": ["A", "B"],
            "lsoa21_code": pd.array(["E01000001", "E01000002"], dtype="string"),
            "ward_code": pd.array([None, "E05000002"], dtype="string"),
            "location_lat": [52.5, 52.6],
            "Location Lon": [0.5, 1.5],
            "home_postcode": ["ST1 1AA", "ST2 2BB"],
        }
    )
    published = publishable_ccr_areas(ccr, small_geography())
    assert list(published.columns) == ["ccr_id", "lpt_code", "lsoa21_code", "ward_code"]
    assert published["ward_code"].tolist() == ["E05000001", "E05000002"]


def test_ccr_area_codes_are_checked_against_the_lookup_and_the_lpt() -> None:
    ccr = pd.DataFrame(
        {
            "ccr_id": ["c0", "c1", "c2", "c3"],
            "lpt_code": ["A", "A", "A", "B"],
            "lsoa21_code": [None, "E01999999", "E01000002", None],
            "ward_code": ["E05000001", "E05999999", "E05000001", "E05000001"],
        }
    )
    report = check_ccr_areas(ccr, small_geography())
    assert report.flatten(["row", "column", "code"]) == [
        [1, "lsoa21_code", "unknown-lsoa"],
        [1, "ward_code", "unknown-ward"],
        [2, "lsoa21_code", "lsoa-outside-ward"],
        [3, "ward_code", "ward-outside-lpt"],
    ]


@pytest.mark.parametrize(
    "kwargs", [{"decimals": 7}, {"snap_min_events": 0}, {"cell_lat_degrees": 0.0}, {"max_doublings": -1}]
)
def test_a_bad_point_policy_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        PointPolicy(**kwargs)  # type: ignore[arg-type]
