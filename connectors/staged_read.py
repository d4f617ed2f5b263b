"""Read what a sync left behind, for the report: staged tables, quarantine reasons and run reports.

I/O only, and read-only: the staged Parquet files (connectors/staging.py layout, one `<table>.parquet`
per canonical table), the quarantine's reasons per rule (never a row value: the reasons' masked values
are not read) and the JSON run reports under the state directory (counts, names and warnings).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.quarantine import REASONS, Quarantine
from connectors.run_report import RUNS_DIR
from connectors.staged_files import read_staged
from connectors.staging import staged_path
from errors import SourceFormatError
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import DATASET

__all__ = [
    "in_staging_schema",
    "quarantine_by_rule",
    "read_staged_files",
    "read_staged_tables",
    "staged_table_names",
    "run_warnings",
]


def read_staged_tables(staging_dir: Path) -> dict[str, pa.Table]:
    """Every staged canonical table found in `staging_dir`, cast to its staging schema."""
    return in_staging_schema(staging_dir, read_staged_files(staging_dir))


def staged_table_names() -> list[str]:
    """The canonical tables read from staging: every row-level table of the model."""
    return [model.name for model in DATASET.tables if model.row_level]


def read_staged_files(staging_dir: Path) -> dict[str, pa.Table]:
    """Every staged canonical table's file as written, with its own field metadata (not cast)."""
    if not staging_dir.is_dir():
        raise SourceFormatError(
            f"no staging directory at {staging_dir}",
            hint="run `cetk sync` (or the Forms migration) first, or name the directory with --staging",
        )
    return read_staged(staging_dir, staged_table_names())  # the reader publish uses


def in_staging_schema(staging_dir: Path, files: Mapping[str, pa.Table]) -> dict[str, pa.Table]:
    """Staged files (read_staged_files) cast to their tables' staging schemas; one that lacks the model's
    columns is refused, naming its file."""
    tables: dict[str, pa.Table] = {}
    for name, table in files.items():
        schema = arrow_schema(DATASET.table(name), "staging")
        try:
            tables[name] = table.select(schema.names).cast(schema)
        except (KeyError, ValueError, pa.ArrowException) as exc:
            raise SourceFormatError(
                f"staged table {staged_path(staging_dir, name)} does not have the model's columns "
                f"({type(exc).__name__})",
                hint="run `cetk sync` again: it rewrites the staged tables",
            ) from None
    return tables


def quarantine_by_rule(quarantine_dir: Path) -> list[dict[str, Any]]:
    """Quarantined rows per table, column and rule: [{table, column, rule, rows}], most rows first."""
    store = Quarantine(quarantine_dir)
    counts: Counter[tuple[str, str, str]] = Counter()
    for files in store.files():
        reasons = pq.read_table(files.parquet, columns=[REASONS])[REASONS].to_pylist()
        for row_reasons in reasons:
            counts.update({(files.table, reason["column"], reason["code"]) for reason in row_reasons})
    return [
        {"table": table, "column": column, "rule": rule, "rows": rows}
        for (table, column, rule), rows in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def run_warnings(state_dir: Path, *, limit: int = 20) -> list[dict[str, Any]]:
    """Warnings of the last `limit` run reports (schema drift among them), newest report first."""
    folder = state_dir / RUNS_DIR
    if not folder.is_dir():
        return []
    reports = sorted(folder.glob("*.json"), key=lambda path: path.name, reverse=True)[:limit]  # <run-id>.json
    found = []
    for path in reports:
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # a report being replaced; the ledger still has the run
        for warning in body.get("warnings") or []:
            found.append(
                {
                    "run_id": body.get("run_id"),
                    "started_utc": body.get("started_utc"),
                    "code": str(warning.get("code", "")),
                    "list": warning.get("list"),
                    "message": str(warning.get("message", "")),
                }
            )
    return found
