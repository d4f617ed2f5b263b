"""A `themes` table as a CSV file: every theme of the model, plus rows given by the test."""

from __future__ import annotations

from pathlib import Path

from powerbi_dataset.codes import THEMES


def themes_csv(path: Path, *extra_rows: str, every_theme: bool = True) -> Path:
    """theme_code,theme_label,load_id; the model's themes first (unless every_theme=False), then extra_rows."""
    lines = ["theme_code,theme_label,load_id"]
    if every_theme:
        lines += [f"{code.code},{code.label.replace(',', ' ')}," for code in THEMES]
    path.write_text("\n".join([*lines, *extra_rows]) + "\n", encoding="utf-8")
    return path
