"""Read canonical tables from local Parquet or CSV files (CSV: every column as text, empty = null)."""

from __future__ import annotations

from collections.abc import Collection
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from errors import SourceFormatError

SUFFIXES = (".csv", ".parquet")


def sample_data_dir() -> Path:
    """The bundled sample data set: powerbi_dataset/sample/, one CSV per table (file stem = table name)."""
    return Path(str(files("powerbi_dataset").joinpath("sample")))


def read_csv_table(path: Path) -> pa.Table:
    """A CSV as all-string columns; empty cells are null, nothing is inferred (validation types it)."""
    try:
        with pa_csv.open_csv(path) as reader:  # the header only; the first block is read, not the file
            header = reader.schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise SourceFormatError(f"CSV file {path} cannot be read: {_first_line(exc)}") from None
    if len(set(header)) != len(header):
        raise SourceFormatError(f"CSV file {path} repeats a column name in its header")
    convert = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        return pa_csv.read_csv(
            path, read_options=pa_csv.ReadOptions(encoding="utf-8"), convert_options=convert
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceFormatError(f"CSV file {path} cannot be read: {_first_line(exc)}") from None


def read_parquet_table(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceFormatError(f"Parquet file {path} cannot be read: {_first_line(exc)}") from None


def read_table_file(path: Path) -> pa.Table:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_table(path)
    if suffix == ".parquet":
        return read_parquet_table(path)
    raise SourceFormatError(
        f"{path} is neither .csv nor .parquet", hint="pass a CSV or Parquet file, or a directory"
    )


def read_tables(
    path: Path, table: str | None = None, *, only: Collection[str] | None = None
) -> dict[str, pa.Table]:
    """{table name: table} from one file (name = file stem unless `table`) or a directory of files.

    `only` keeps a directory's files whose stem is one of those names (others are not read).
    """
    if path.is_dir():
        if table is not None:
            raise SourceFormatError(
                f"--table names one table, but {path} is a directory",
                hint="pass the file itself with --table",
            )
        found = sorted(
            item
            for item in path.iterdir()
            if item.is_file() and item.suffix.lower() in SUFFIXES and (only is None or item.stem in only)
        )
        stems = [item.stem for item in found]
        repeated = sorted({stem for stem in stems if stems.count(stem) > 1})
        if repeated:
            raise SourceFormatError(f"directory {path} holds more than one file for {', '.join(repeated)}")
        if not found:
            raise SourceFormatError(f"directory {path} holds no .csv or .parquet files")
        return {item.stem: read_table_file(item) for item in found}
    if not path.exists():
        raise SourceFormatError(f"{path} not found", hint="pass an existing file or directory")
    return {table or path.stem: read_table_file(path)}


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
