"""Generate the demo force's synthetic reference geography (config/reference/demo/), deterministically.

LPT areas are the Voronoi cells of the demo LPT centres inside the force box; each LPT is split into
12 ward cells around seeds drawn (seeded) near its centre, so wards are small in town and large in the
country. Only + - * / and the seeded Mersenne Twister are used, so the output is byte-identical on
every platform; tests/transforms/test_geography_reference.py regenerates and compares.

Run: `.venv/bin/python -m bench.make_demo_geography [--out DIR]`.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

from emulator.demo.reference import (
    LAT_RANGE,
    LON_RANGE,
    LPT_CENTRES,
    LPT_CODES,
    WARDS_PER_LPT,
    lsoa_codes,
    ward_codes,
)
from powerbi_dataset import codes as c

Point = tuple[float, float]  # (x, y) = (lon * LON_SCALE, lat): roughly equal-distance units
LON_SCALE = 0.605  # cos(52.8 deg), written out so no libm call can differ between platforms
DECIMALS = 5  # about 1 m; enough for a map, small files
SEED_SPREAD = 0.09  # degrees of latitude around the LPT centre where ward seeds are drawn
SEED_SEPARATION = 0.008
WARD_SUFFIXES = (
    "Central",
    "Abbey",
    "Brook",
    "Castle",
    "Dale",
    "Forest",
    "Green",
    "Heath",
    "Hill",
    "Manor",
    "Park",
    "Vale",
)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "config" / "reference" / "demo"
LPT_DETAILS = {code: (name, base, authority) for code, name, base, authority in c.LPTS}


def clip(polygon: Sequence[Point], normal: Point, offset: float) -> list[Point]:
    """The part of a convex polygon where normal . p <= offset (Sutherland-Hodgman, one edge)."""
    result: list[Point] = []
    for index, p in enumerate(polygon):
        q = polygon[(index + 1) % len(polygon)]
        fp = normal[0] * p[0] + normal[1] * p[1] - offset
        fq = normal[0] * q[0] + normal[1] * q[1] - offset
        if fp <= 0:
            result.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            t = fp / (fp - fq)
            result.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return result


def voronoi_cell(region: Sequence[Point], site: Point, others: Sequence[Point]) -> list[Point]:
    """Points of `region` at least as close to `site` as to any of `others`."""
    cell = list(region)
    for other in others:
        normal = (2 * (other[0] - site[0]), 2 * (other[1] - site[1]))
        offset = other[0] ** 2 + other[1] ** 2 - site[0] ** 2 - site[1] ** 2
        cell = clip(cell, normal, offset)
    return cell


def inside_convex(polygon: Sequence[Point], point: Point) -> bool:
    for index, p in enumerate(polygon):
        q = polygon[(index + 1) % len(polygon)]
        if (q[0] - p[0]) * (point[1] - p[1]) - (q[1] - p[1]) * (point[0] - p[0]) < 0:
            return False
    return True


def ward_seeds(lpt_code: str, cell: Sequence[Point], centre: Point) -> list[Point]:
    rng = random.Random(f"cetk-demo-geography:{lpt_code}")
    seeds: list[Point] = []
    while len(seeds) < WARDS_PER_LPT:
        reach = SEED_SPREAD * rng.random()  # most seeds land near the centre: small town wards
        point = (centre[0] + reach * (2 * rng.random() - 1), centre[1] + reach * (2 * rng.random() - 1))
        far_enough = all((point[0] - s[0]) ** 2 + (point[1] - s[1]) ** 2 >= SEED_SEPARATION**2 for s in seeds)
        if inside_convex(cell, point) and far_enough:
            seeds.append(point)
    return sorted(seeds, key=lambda s: ((s[0] - centre[0]) ** 2 + (s[1] - centre[1]) ** 2, s))


def ring(polygon: Sequence[Point]) -> list[list[float]]:
    """A closed GeoJSON ring of [lon, lat], counter-clockwise (RFC 7946), rounded, no repeated vertex."""
    points: list[list[float]] = []
    for x, y in polygon:
        vertex = [round(x / LON_SCALE, DECIMALS), round(y, DECIMALS)]
        if not points or vertex != points[-1]:
            points.append(vertex)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return [*points, points[0]]


def feature(code: str, properties: dict[str, str], polygon: Sequence[Point]) -> str:
    body = {"type": "Feature", "id": code, "properties": {"code": code, **properties}}
    body["geometry"] = {"type": "Polygon", "coordinates": [ring(polygon)]}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def collection(features: Sequence[str]) -> bytes:
    return ('{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n").encode("utf-8")


def build_files() -> dict[str, bytes]:
    """File name -> contents of the demo reference geography."""
    west, east = LON_RANGE[0] * LON_SCALE, LON_RANGE[1] * LON_SCALE
    south, north = LAT_RANGE
    box = [(west, south), (east, south), (east, north), (west, north)]
    centres = {code: (LPT_CENTRES[code][1] * LON_SCALE, LPT_CENTRES[code][0]) for code in LPT_CODES}
    lpt_features, ward_features = [], []
    ward_lines, lsoa_lines = ["ward_code,ward_name,lpt_code,local_authority"], ["lsoa21_code,ward_code"]
    for code in LPT_CODES:
        name, base, authority = LPT_DETAILS[code]
        cell = voronoi_cell(box, centres[code], [centres[o] for o in LPT_CODES if o != code])
        lpt_features.append(
            feature(code, {"name": name, "lpt_code": code, "local_authority": authority}, cell)
        )
        seeds = ward_seeds(code, cell, centres[code])
        for ward_code, seed, suffix in zip(ward_codes(code), seeds, WARD_SUFFIXES, strict=True):
            ward_name = f"{base} {suffix}"
            polygon = voronoi_cell(cell, seed, [s for s in seeds if s != seed])
            properties = {"name": ward_name, "lpt_code": code, "local_authority": authority}
            ward_features.append(feature(ward_code, properties, polygon))
            ward_lines.append(f"{ward_code},{ward_name},{code},{authority}")
            lsoa_lines += [f"{lsoa},{ward_code}" for lsoa in lsoa_codes(ward_code)]
    return {
        "lpts.geojson": collection(lpt_features),
        "wards.geojson": collection(ward_features),
        "wards.csv": ("\n".join(ward_lines) + "\n").encode("utf-8"),
        "lsoas.csv": ("\n".join(lsoa_lines) + "\n").encode("utf-8"),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.make_demo_geography", description=__doc__)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="folder to write (default: %(default)s)"
    )
    out = parser.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    for name, content in build_files().items():
        (out / name).write_bytes(content)
        print(f"{out / name}: {len(content):,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
