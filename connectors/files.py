"""Canonical tables in local files: a .csv or .parquet file, or a directory of them (one per table,
the table named by the file stem). Files are opened as streaming sources (connectors/csv_source.py,
connectors/parquet_source.py) behind the guards of connectors/input_guard.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from importlib.resources import files
from pathlib import Path

import pyarrow as pa

from connectors.csv_source import CsvSource
from connectors.input_guard import check_regular_file
from connectors.parquet_source import ParquetSource
from connectors.read_limits import DEFAULT_LIMITS, ReadLimits
from errors import SourceFormatError
from transforms.masking import shown_names

SUFFIXES = (".csv", ".parquet")
FileSource = CsvSource | ParquetSource


def sample_data_dir() -> Path:
    """The bundled sample data set: powerbi_dataset/sample/, one CSV per table (file stem = table name)."""
    return Path(str(files("powerbi_dataset").joinpath("sample")))


def open_source(path: Path, limits: ReadLimits = DEFAULT_LIMITS) -> FileSource:
    """A file as a streaming table source, once it is known to be a regular file within the size cap."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SourceFormatError(
            f"{path} is neither .csv nor .parquet", hint="pass a CSV or Parquet file, or a directory"
        )
    what = "CSV file" if suffix == ".csv" else "Parquet file"
    check_regular_file(path, what=what, max_bytes=limits.max_file_bytes)
    return CsvSource(path, limits) if suffix == ".csv" else ParquetSource(path, limits)


def open_sources(
    path: Path,
    table: str | None = None,
    *,
    only: Collection[str] | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> dict[str, FileSource]:
    """{table name: source} for one file (name = file stem unless `table`) or a directory of files.

    `only` keeps a directory's files whose stem is one of those names (others are not opened). Every
    file is checked (a regular file, within the size cap) before any is read.
    """
    if not path.is_dir():
        if not path.exists() and not path.is_symlink():
            raise SourceFormatError(f"{path} not found", hint="pass an existing file or directory")
        return {table or path.stem: open_source(path, limits)}
    if table is not None:
        raise SourceFormatError(
            f"--table names one table, but {path} is a directory", hint="pass the file itself with --table"
        )
    found = sorted(
        item
        for item in path.iterdir()
        if item.suffix.lower() in SUFFIXES and (only is None or item.stem in only)
    )
    repeated = sorted(stem for stem, count in Counter(item.stem for item in found).items() if count > 1)
    if repeated:
        raise SourceFormatError(f"directory {path} holds more than one file for {', '.join(repeated)}")
    if not found:
        raise SourceFormatError(f"directory {path} holds no .csv or .parquet files")
    return {item.stem: open_source(item, limits) for item in found}


def read_tables(
    path: Path,
    table: str | None = None,
    *,
    only: Collection[str] | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> dict[str, pa.Table]:
    """Whole tables in memory (CSV: every column text, empty = null), for small files and tests;
    `cetk validate` streams instead (pipeline.validate_files)."""
    tables = {}
    for name, source in open_sources(path, table, only=only, limits=limits).items():
        header = source.header()
        repeated = [name for name, count in Counter(header).items() if count > 1]
        if repeated:
            shown = [
                shown for name, shown in zip(header, shown_names(header, ()), strict=True) if name in repeated
            ]
            raise SourceFormatError(
                f"{source.label} repeats a column name in its header: {', '.join(map(repr, dict.fromkeys(shown)))}",
                hint="give every column its own name (cetk schema show lists the model's columns)",
            )
        batches = list(source.batches(range(len(header))))
        arrays = [
            pa.chunked_array([batch.column(i) for batch in batches], _type(batches, i))
            for i in range(len(header))
        ]
        tables[name] = pa.table(arrays, names=header) if header else pa.table({})
    return tables


def _type(batches: list[pa.RecordBatch], index: int) -> pa.DataType | None:
    return batches[0].schema.field(index).type if batches else pa.string()
