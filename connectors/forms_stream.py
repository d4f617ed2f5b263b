"""A bounded-memory row source for big worksheets (R19), giving the cells python-calamine would give.

python-calamine loads a whole sheet before its first row (about 100 bytes a cell: 1 GB for
200 x 50,000), so sheets past `ReadOptions.calamine_max_cells` are streamed here instead: the
worksheet XML is inflated 1 MiB at a time and parsed with expat under defusedxml's rules (no DTD,
no entities), yielding rows as they complete. Cached values only: formulas are never evaluated.
The other parts a sheet's cells need (the first sheet's name, shared strings, style kinds):
connectors/xlsx_parts.py.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from io import BytesIO
from typing import NoReturn
from xml.parsers import expat

from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from connectors.forms_sources import Cell, SheetRows
from connectors.forms_values import excel_serial_to_local
from connectors.xlsx_parts import LazySharedStrings, first_sheet_part, shared_strings, style_kinds
from errors import SourceFormatError

CHUNK_BYTES = 2**20
HEADER_CHUNK_BYTES = 2**16
UNREADABLE = (expat.ExpatError, KeyError, ValueError, IndexError)  # what a damaged workbook raises here


def stream_sheet_rows(data: bytes, source: str, *, date1904: bool) -> SheetRows:
    """The first worksheet's rows, numbered as Excel numbers them, a chunk of XML at a time."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheet_part = first_sheet_part(archive, source)
        shared = shared_strings(archive)
        kinds = style_kinds(archive)
        handler = _SheetHandler(shared, kinds, date1904)
        parser = _sheet_parser(handler)
        try:
            with archive.open(sheet_part) as part:
                while chunk := part.read(CHUNK_BYTES):
                    parser.Parse(chunk, False)
                    yield from handler.take_rows()
                parser.Parse(b"", True)
        except UNREADABLE as exc:
            raise _unreadable(source, exc) from None
        yield from handler.take_rows()


def first_sheet_row(data: bytes, source: str, *, date1904: bool) -> tuple[int, int, list[Cell]] | None:
    """The first worksheet's first row as stream_sheet_rows gives it, reading only what it needs.

    Returns (row number, 0-based column of its first value, its cells from that column on).
    The worksheet XML is parsed 64 KiB at a time until a row completes, and the shared strings only
    up to the highest index that row uses (Excel writes them in order of first use: the header's come
    first). None for a sheet without rows.
    """
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheet_part = first_sheet_part(archive, source)
        shared = LazySharedStrings(archive)
        handler = _SheetHandler(shared, style_kinds(archive), date1904)
        parser = _sheet_parser(handler)
        try:
            with archive.open(sheet_part) as part:
                while not handler.rows and (chunk := part.read(HEADER_CHUNK_BYTES)):
                    parser.Parse(chunk, False)
        except UNREADABLE as exc:
            raise _unreadable(source, exc) from None
        finally:
            shared.close()
        if not handler.rows or handler.first_column is None:
            return None
        number, cells = handler.rows[0]
        return number, handler.first_column, cells


class _SheetHandler:
    """expat callbacks for <row>, <c>, <v>, <is><t>: one cell in flight, finished rows queued."""

    def __init__(self, shared: Sequence[str] | LazySharedStrings, kinds: list[str], date1904: bool) -> None:
        self.shared, self.kinds, self.date1904 = shared, kinds, date1904
        self.rows: list[tuple[int, list[Cell]]] = []
        self.row_number = 0
        self.cells: list[Cell] = []
        self.column = -1
        self.cell_type = "n"
        self.style = 0
        self.parts: list[str] | None = None  # text of <v> or <t> being read
        self.value: list[str] | None = None
        self.phonetic = False
        self.first_column: int | None = None  # the header's first column: rows are read from it

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "c":
            reference = attributes.get("r")
            self.column = _column_index(reference) if reference else self.column + 1
            self.cell_type = attributes.get("t", "n")
            self.style = int(attributes.get("s", 0))
            self.value = None
        elif local == "v" or (local == "t" and not self.phonetic):
            self.parts = []
        elif local == "row":
            reference = attributes.get("r")
            self.row_number = int(reference) if reference else self.row_number + 1
            self.cells, self.column = [], -1
        elif local == "rPh":
            self.phonetic = True

    def text(self, content: str) -> None:
        if self.parts is not None:
            self.parts.append(content)

    def end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local == "v" or (local == "t" and not self.phonetic):
            self.value = (self.value or []) + (self.parts or [])
            self.parts = None
        elif local == "c":
            cells = self.cells
            if self.column >= len(cells):
                cells.extend([""] * (self.column - len(cells) + 1))
            cells[self.column] = self._cell()
        elif local == "row":
            if self.first_column is None:
                self.first_column = next((i for i, cell in enumerate(self.cells) if cell != ""), 0)
            self.rows.append((self.row_number, self.cells[self.first_column :]))
        elif local == "rPh":
            self.phonetic = False

    def take_rows(self) -> Iterator[tuple[int, list[Cell]]]:
        rows, self.rows = self.rows, []
        return iter(rows)

    def _cell(self) -> Cell:
        if self.value is None:
            return ""  # a formula without a cached value, or an empty styled cell
        text = "".join(self.value)
        cell_type = self.cell_type
        if not text and cell_type != "inlineStr":
            return ""  # openpyxl writes a formula's missing cached value as an empty <v/>
        if cell_type == "s":
            return self.shared[int(text)]
        if cell_type in ("inlineStr", "str"):
            return text
        if cell_type == "b":
            return text == "1"
        if cell_type == "e":
            return ""  # an error value (#DIV/0!): python-calamine gives "" too
        if cell_type == "d":
            return dt.datetime.fromisoformat(text)
        number = float(text)
        kind = self.kinds[self.style] if self.style < len(self.kinds) else "number"
        if kind == "number":
            return number
        if kind == "duration":
            return dt.timedelta(days=number)
        return _excel_date(number, self.date1904)


def _excel_date(serial: float, date1904: bool) -> Cell:
    """As python-calamine gives a date-formatted number: a time below 1, a date when whole."""
    if 0 <= serial < 1:
        seconds = round(serial * 86_400)
        return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    local = excel_serial_to_local(serial, date1904=date1904)
    if local is None:
        return serial
    return local.date() if serial.is_integer() else local


def _column_index(reference: str) -> int:
    index = 0
    for character in reference:
        if character <= "9":
            break
        index = index * 26 + ord(character.upper()) - 64
    return index - 1


def _unreadable(source: str, error: Exception) -> SourceFormatError:
    return SourceFormatError(
        f"Forms export {source} cannot be read as a workbook ({type(error).__name__})",
        hint="open it in Excel and save it again as an Excel Workbook (.xlsx)",
    )


def _sheet_parser(handler: _SheetHandler) -> expat.XMLParserType:
    parser = _defused_expat()
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.text
    return parser


def _defused_expat() -> expat.XMLParserType:
    """An expat parser with defusedxml's refusals: DTDs, entity declarations, external references."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def forbid_dtd(name: str, *_: object) -> NoReturn:
        raise DTDForbidden(name, None, None)

    def forbid_entity(name: str, *_: object) -> NoReturn:
        raise EntitiesForbidden(name, None, None, None, None, None)

    def forbid_external(
        context: str, base: str | None, system_id: str | None, public_id: str | None
    ) -> NoReturn:
        raise ExternalReferenceForbidden(context, base, system_id, public_id)

    parser.StartDoctypeDeclHandler = forbid_dtd
    parser.EntityDeclHandler = forbid_entity
    parser.UnparsedEntityDeclHandler = forbid_entity
    parser.ExternalEntityRefHandler = forbid_external
    return parser
