"""Read canonical tables from local Parquet or CSV files (CSV: every column as text, empty = null)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection
from importlib.resources import files
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from errors import SourceFormatError

SUFFIXES = (".csv", ".parquet")
# RFC 4180 allows line breaks inside quoted fields (free text has them); without this Arrow splits the
# file into blocks at any newline, and a quoted line break across a block boundary reads as a broken row.
PARSE_OPTIONS = pa_csv.ParseOptions(newlines_in_values=True)


def sample_data_dir() -> Path:
    """The bundled sample data set: powerbi_dataset/sample/, one CSV per table (file stem = table name)."""
    return Path(str(files("powerbi_dataset").joinpath("sample")))


def read_csv_table(path: Path) -> pa.Table:
    """A CSV as all-string columns; empty cells are null, nothing is inferred (validation types it)."""
    try:
        # the header only; the first block is read, not the file
        with pa_csv.open_csv(path, parse_options=PARSE_OPTIONS) as reader:
            header = reader.schema.names
    except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
        raise _csv_error(path, exc, []) from None
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise SourceFormatError(
            f"CSV file {path} repeats a column name in its header: {', '.join(map(repr, repeated))}",
            hint="give every column its own name (cetk schema show lists the model's columns)",
        )
    convert = pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    try:
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(encoding="utf-8"),
            parse_options=PARSE_OPTIONS,
            convert_options=convert,
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise _csv_error(path, exc, header) from None


def _csv_error(path: Path, exc: BaseException, header: list[str]) -> SourceFormatError:
    """The reader's error without the row text Arrow quotes (it may hold personal data), with row or line."""
    text = _first_line(exc)
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text:
        column = re.search(r"column #(\d+)", text)
        where = [f"line {line}" for line in [_first_non_utf8_line(path)] if line is not None]
        if column and int(column.group(1)) < len(header):
            where.append(f"column {header[int(column.group(1))]!r}")
        return SourceFormatError(
            f"CSV file {path} is not UTF-8 text" + (f" ({', '.join(where)})" if where else ""),
            hint="save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)')",
        )
    if "straddl" in text:  # one row is bigger than Arrow's read block
        block = pa_csv.ReadOptions().block_size
        return SourceFormatError(
            f"CSV file {path} has a row longer than {block // 2**20} MiB, far beyond any column's limit",
            hint="text cells are capped at 4,000 chars (Power BI); find and shorten the oversized cell",
        )
    if isinstance(exc, pa.ArrowInvalid) and "CSV parse error" in text:
        row = _first_invalid_row(path, header)
        if row is not None and row.number is not None:
            return SourceFormatError(
                f"CSV file {path}: row {row.number} (the header is row 1) has {row.actual_columns} field{'' if row.actual_columns == 1 else 's'}, "
                f"the header has {row.expected_columns}",
                hint="quote fields that hold commas or line breaks, and give every row the header's columns",
            )
        reason = text.split(":")[1].strip() if text.count(":") > 1 else "a row is malformed"
        return SourceFormatError(f"CSV file {path} cannot be parsed: {reason}")
    return SourceFormatError(f"CSV file {path} cannot be read: {text}")


def _first_invalid_row(path: Path, header: list[str]) -> pa_csv.InvalidRow | None:
    """The first row with the wrong number of fields; single-threaded, so Arrow numbers the rows."""
    found: list[pa_csv.InvalidRow] = []

    def keep_first(row: pa_csv.InvalidRow) -> str:
        found.append(row)
        return "error"

    with contextlib.suppress(pa.ArrowInvalid, OSError):  # the error is the one already being reported
        pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=keep_first),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in header}),
        )
    return found[0] if found else None


def _first_non_utf8_line(path: Path) -> int | None:
    try:
        with path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError:
                    return number
    except OSError:
        return None
    return None


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
