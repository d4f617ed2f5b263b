"""Read the reference geography files the config names (ward and LSOA lookups, ward and LPT boundaries).

I/O only: parsing and geometry live in transforms/geography.py. The demo force's files ship with
cetk in config/reference/demo/ (docs/geography.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from errors import SourceFormatError
from transforms.geography import Geography, parse_boundaries, parse_lsoa_lookup, parse_ward_lookup

__all__ = [
    "GEOGRAPHY_FILE_NAMES",
    "GeographyFiles",
    "demo_geography_files",
    "geography_files_in",
    "load_geography",
]

GEOGRAPHY_FILE_NAMES = ("wards.csv", "lsoas.csv", "wards.geojson", "lpts.geojson")


@dataclass(frozen=True)
class GeographyFiles:
    ward_lookup: Path  # CSV: ward_code, ward_name, lpt_code, local_authority
    lsoa_lookup: Path  # CSV: lsoa21_code, ward_code
    ward_boundaries: Path  # GeoJSON FeatureCollection, one feature per ward
    lpt_boundaries: Path  # GeoJSON FeatureCollection, one feature per LPT


def geography_files_in(folder: Path) -> GeographyFiles:
    """The four reference files of one folder (`geography.dir`), by their fixed names."""
    ward_lookup, lsoa_lookup, ward_boundaries, lpt_boundaries = (
        folder / name for name in GEOGRAPHY_FILE_NAMES
    )
    return GeographyFiles(ward_lookup, lsoa_lookup, ward_boundaries, lpt_boundaries)


def demo_geography_files() -> GeographyFiles:
    """The synthetic reference geography of the demo force, shipped in config/reference/demo/."""
    return geography_files_in(Path(str(files("config.reference").joinpath("demo"))))


def load_geography(paths: GeographyFiles) -> Geography:
    return Geography(
        wards=parse_ward_lookup(_read(paths.ward_lookup), str(paths.ward_lookup)),
        lsoas=parse_lsoa_lookup(_read(paths.lsoa_lookup), str(paths.lsoa_lookup)),
        ward_boundaries=parse_boundaries(
            _read(paths.ward_boundaries), str(paths.ward_boundaries), level="ward"
        ),
        lpt_boundaries=parse_boundaries(_read(paths.lpt_boundaries), str(paths.lpt_boundaries), level="lpt"),
    )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SourceFormatError(
            f"reference file {path} cannot be read ({exc.strerror or type(exc).__name__})",
            hint="check the geography paths in the config (docs/geography.md)",
        ) from None
