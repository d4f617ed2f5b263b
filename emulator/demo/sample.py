"""The bundled sample data set: a small demo force as one CSV per canonical table plus its manifest.

CSV conventions: header = the model's column names in order, ISO-8601 UTC date-times with `Z`,
booleans `true`/`false`, empty cell = null, UTF-8, `\\n` line endings.
"""

from __future__ import annotations

import csv
import math
from datetime import datetime
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from emulator.demo.force import CANONICAL_TABLES, Force, generate_force

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "powerbi_dataset" / "sample"
MANIFEST_NAME = "expected_problems.csv"
MANIFEST_HEADER = ("table", "key", "column", "code")
SAMPLE_SETTINGS: dict[str, int | float] = {"seed": 7, "events": 300, "ccrs": 400, "invalid_fraction": 0.04}


def sample_force(**overrides: int | float) -> Force:
    settings = {**SAMPLE_SETTINGS, **overrides}
    return generate_force(
        seed=int(settings["seed"]),
        events=int(settings["events"]),
        ccrs=int(settings["ccrs"]),
        invalid_fraction=float(settings["invalid_fraction"]),
    )


def render_cell(value: object) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%dT%H:%M:%S")
            + (f".{value.microsecond:06d}" if value.microsecond else "")
            + "Z"
        )
    return str(value)


def render_table(frame: pd.DataFrame) -> str:
    lines: list[list[str]] = [list(frame.columns)]
    for record in frame.itertuples(index=False, name=None):
        lines.append([render_cell(_plain(value)) for value in record])
    return _csv_text(lines)


def write_sample(directory: Path, **overrides: int | float) -> list[Path]:
    """Write one CSV per canonical table and expected_problems.csv; returns the paths written."""
    force = sample_force(**overrides)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CANONICAL_TABLES:
        path = directory / f"{name}.csv"
        path.write_text(render_table(force.tables[name]), encoding="utf-8", newline="")
        written.append(path)
    manifest = directory / MANIFEST_NAME
    rows = [list(MANIFEST_HEADER)] + [[e.table, e.key, e.column, e.code] for e in force.injected]
    manifest.write_text(_csv_text(rows), encoding="utf-8", newline="")
    return [*written, manifest]


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()  # numpy scalars (bool_, int64, float64) as Python values
    return value


def _csv_text(rows: list[list[str]]) -> str:
    buffer = StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
