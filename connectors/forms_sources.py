"""Row sources for a guarded Forms export: the first worksheet through python-calamine, or CSV text.

Each yields (row number in the file, cells); the header is the first row yielded. Calamine returns a
formula cell's cached value and text cells as text: nothing in a workbook is ever evaluated.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from python_calamine import CalamineError, CalamineWorkbook

from errors import SourceFormatError

Cell = str | float | int | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None
SheetRows = Iterator[tuple[int, list[Cell]]]
SheetReader = Callable[[bytes, str], SheetRows]  # injectable: tests prove the guard runs first

CSV_DELIMITERS = (",", ";", "\t")
UTF8_BOM = codecs.BOM_UTF8
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def calamine_sheet_rows(data: bytes, source: str) -> SheetRows:
    """The first worksheet's rows, numbered as Excel numbers them."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
    except CalamineError as exc:
        raise SourceFormatError(
            f"Forms export {source} cannot be read as a workbook ({type(exc).__name__})",
            hint="open it in Excel and save it again as an Excel Workbook (.xlsx)",
        ) from None
    # python-calamine 0.9's iter_rows starts at the sheet's row 1 (columns at the first used one),
    # whatever `sheet.start` says; tests/connectors/test_forms_stream.py pins this numbering
    # and each row is a new list: handed on as it is, no copy, no Python frame per row
    yield from enumerate(sheet.iter_rows(), start=1)


@dataclass(frozen=True)
class CsvText:
    text: str
    encoding: str
    note: str | None


def decode_csv(data: bytes, source: str) -> CsvText:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252, which is noted."""
    if data.startswith(UTF8_BOM):
        return CsvText(_decode(data[len(UTF8_BOM) :], "utf-8", source), "utf-8-sig", None)
    if data.startswith(UTF16_BOMS):
        return CsvText(_decode(data, "utf-16", source), "utf-16", None)
    try:
        return CsvText(data.decode("utf-8"), "utf-8", None)
    except UnicodeDecodeError:
        pass
    text = _decode(data, "cp1252", source)
    return CsvText(
        text, "cp1252", "not valid UTF-8: read as Windows-1252 (cp1252), Excel's 'CSV (Comma delimited)'"
    )


def _decode(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceFormatError(
            f"Forms export {source} is not {encoding} text (byte {exc.start:,})",
            hint="save it as 'CSV UTF-8 (Comma delimited)' in Excel",
        ) from None


def detect_delimiter(text: str, source: str) -> str:
    """The character after the leading ID header: Forms exports always start with ID (or Id)."""
    line = text.lstrip("\ufeff").split("\n", 1)[0]
    for quote in ('"', ""):
        for header in ("ID", "Id", "id"):
            start = f"{quote}{header}{quote}"
            if line.startswith(start) and line[len(start) : len(start) + 1] in CSV_DELIMITERS:
                return line[len(start)]
    raise SourceFormatError(
        f"Forms export {source} does not start with an ID column followed by ',', ';' or a tab",
        hint="export the responses from Forms again; the first header must be ID",
    )


def csv_rows(text: str, delimiter: str, source: str) -> SheetRows:
    """Records as lists of text, numbered from 1 (the header); a quoted line break stays in its record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):  # noqa: B007 - number is read after the loop
            yield number, list(record)
    except csv.Error as exc:
        reason = (
            "a field is longer than the CSV reader's limit" if "field larger" in str(exc) else "bad quoting"
        )
        raise SourceFormatError(
            f"Forms export {source}: record {number + 1} cannot be parsed ({reason})",
            hint="save the file again from Excel as CSV UTF-8; quote fields holding the delimiter or line breaks",
        ) from None
