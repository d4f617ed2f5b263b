"""Reading the reference geography files: the shipped demo set, and a clear error for a bad path."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.reference_files import GeographyFiles, demo_geography_files, load_geography
from errors import SourceFormatError


def test_the_demo_files_ship_inside_the_package() -> None:
    files = demo_geography_files()
    assert all(path.is_file() for path in vars(files).values())
    assert (
        files.ward_boundaries.parent.name == "demo"
        and files.ward_boundaries.parent.parent.name == "reference"
    )
    geography = load_geography(files)
    assert geography.lpt_boundaries.level == "lpt" and geography.ward_boundaries.level == "ward"


def test_a_missing_file_is_a_source_format_error_naming_it(tmp_path: Path) -> None:
    files = demo_geography_files()
    missing = GeographyFiles(
        files.ward_lookup, files.lsoa_lookup, files.ward_boundaries, tmp_path / "none.geojson"
    )
    with pytest.raises(SourceFormatError, match="none.geojson") as caught:
        load_geography(missing)
    assert "config" in caught.value.hint
