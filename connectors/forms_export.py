"""Read a legacy Microsoft Forms export (.xlsx or .csv) safely into Arrow tables with row problems.

`read_export(path)` does the I/O (regular file, size limit) and `parse_export(data, name)` the pure
parse: guard (forms_guard), rows (forms_sources, or forms_stream for big sheets), layout
(forms_layout), tables (forms_tables), values (forms_values).
Email and Name never leave the reader in clear: keyed-HMAC pseudonyms with a key, else null.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from connectors.forms_arrow import read_columns, read_header
from connectors.forms_guard import check_size, check_xlsx, read_guarded_bytes, refuse
from connectors.forms_layout import Question, read_layout
from connectors.forms_problems import RowProblem
from connectors.forms_rows import Batch
from connectors.forms_sources import (
    SheetReader,
    calamine_sheet_rows,
    csv_rows,
    decode_csv,
    detect_delimiter,
)
from connectors.forms_stream import stream_sheet_rows
from connectors.forms_tables import (
    RESPONSE_SCHEMA,
    TIME_FIELDS,
    FileFormat,
    FormsExport,
    ReadOptions,
    TableBuilder,
)
from connectors.forms_values import LOCALES
from errors import SourceFormatError

__all__ = [
    "RESPONSE_SCHEMA",
    "FormsExport",
    "Question",
    "ReadOptions",
    "RowProblem",
    "parse_export",
    "read_export",
]
SUFFIX_FORMATS: dict[str, FileFormat] = {".xlsx": "xlsx", ".csv": "csv"}
DEFAULT_OPTIONS = ReadOptions()


def read_export(path: Path, options: ReadOptions = DEFAULT_OPTIONS) -> FormsExport:
    """Read and parse one export file from disk."""
    data = read_guarded_bytes(path, options.limits)
    return parse_export(data, path.name, options)


def parse_export(
    data: bytes,
    name: str,
    options: ReadOptions = DEFAULT_OPTIONS,
    *,
    sheet_reader: SheetReader | None = None,
) -> FormsExport:
    """Parse an export's bytes; `name` (the file name) picks the format and names the file in errors.

    `sheet_reader` replaces the workbook row source (tests use it to prove the guard runs first);
    by default python-calamine, or the streaming reader for sheets past `calamine_max_cells`.
    """
    if options.locale is not None and options.locale not in LOCALES:
        raise SourceFormatError(f"unknown locale {options.locale!r}", hint=f"use one of {', '.join(LOCALES)}")
    check_size(data, name, options.limits)
    file_format = _file_format(name)
    if not data.strip():
        raise SourceFormatError(f"Forms export {name} is empty", hint="export the responses again")
    notes: list[str] = []
    date1904 = False
    if file_format == "xlsx":
        facts = check_xlsx(data, name, options.limits)
        date1904 = facts.date1904
        if facts.sheet_count > 1:
            notes.append(f"the workbook has {facts.sheet_count} sheets; the first was read")
        if sheet_reader is None and facts.cell_count <= options.calamine_max_cells:
            export = _read_arrow(data, name, options, date1904, notes)
            if export is not None:
                return export
        if sheet_reader is None:
            sheet_reader = (
                partial(stream_sheet_rows, date1904=date1904)
                if facts.cell_count > options.calamine_max_cells
                else calamine_sheet_rows
            )
        rows = sheet_reader(data, name)
    else:
        if data.startswith(b"PK\x03\x04"):
            raise refuse(name, "it is a zip container (an .xlsx?) named .csv")
        decoded = decode_csv(data, name)
        notes += [decoded.note] if decoded.note else []
        rows = csv_rows(decoded.text, detect_delimiter(decoded.text, name), name)
    builder = TableBuilder(name, file_format, options, date1904)
    with collector_paused():
        return builder.build(rows, notes)


def _read_arrow(
    data: bytes, name: str, options: ReadOptions, date1904: bool, notes: list[str]
) -> FormsExport | None:
    """The export read through Arrow columns (connectors/forms_arrow.py), or None to read it cell by cell."""
    header = read_header(data, name, date1904=date1904)
    if header is None:
        return None
    builder = TableBuilder(name, "xlsx", options, date1904)
    layout = read_layout(header, name, options.limits)  # a bad header is the same error either way
    wanted = {
        layout.metadata[field] for field in ("response_id", "email", "name") if field in layout.metadata
    }
    wanted |= {question.position - 1 for question in builder.kept_questions(layout)}
    times = {layout.metadata[field] for field in TIME_FIELDS if field in layout.metadata}
    sheet = read_columns(data, layout, frozenset(wanted), frozenset(times))
    if sheet is None:
        return None
    builder.width = layout.width
    for number, fields in sheet.ragged:
        builder.ragged(number, fields)
    batches = [Batch(sheet.numbers, sheet.columns)] if sheet.numbers else []
    with collector_paused():
        return builder.assemble(layout, batches, notes)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while cells become columns, then as it was (never forced on).

    Reading makes millions of short-lived lists and tuples with no cycles among them; each 700 of them
    would start a collection that walks the young objects, and the older ones ever more often, for
    nothing (about 0.5 s of 6 per 100,000 rows, docs/performance.md). Reference counting still frees
    every one of them as before; only cycles wait, until the collector is back on.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _file_format(name: str) -> FileFormat:
    suffix = Path(name).suffix.lower()
    if suffix in (".xlsm", ".xltm", ".xlam"):
        raise refuse(
            name, "macro-enabled workbooks are not read", hint="save it as an Excel Workbook (.xlsx)"
        )
    if suffix not in SUFFIX_FORMATS:
        raise refuse(name, f"only .xlsx and .csv exports are read, not {suffix or 'a file without a suffix'}")
    return SUFFIX_FORMATS[suffix]
