"""A bounded-memory row source for big worksheets (R19), giving the cells python-calamine would give.

python-calamine loads a whole sheet before its first row (about 100 bytes a cell: 1 GB for
200 x 50,000), so sheets past `ReadOptions.calamine_max_cells` are streamed here instead: the
worksheet XML is inflated 1 MiB at a time and parsed with expat under defusedxml's rules (no DTD,
no entities), yielding rows as they complete. Cached values only: formulas are never evaluated.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections.abc import Iterator, Sequence
from io import BytesIO
from typing import IO, NoReturn
from xml.etree.ElementTree import Element
from xml.parsers import expat

import defusedxml.ElementTree as safe_xml
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from connectors.forms_sources import Cell, SheetRows
from connectors.forms_values import excel_serial_to_local
from errors import SourceFormatError

CHUNK_BYTES = 2**20
HEADER_CHUNK_BYTES = 2**16
BUILTIN_DATE_FORMATS = frozenset({*range(14, 23), 45, 47})  # ECMA-376 18.8.30, as calamine reads them
BUILTIN_DURATION_FORMATS = frozenset({46})  # [h]:mm:ss
DATE_TOKENS = frozenset("dmhysDMHYS")
DURATION_TOKENS = frozenset("hmsHMS")
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def stream_sheet_rows(data: bytes, source: str, *, date1904: bool) -> SheetRows:
    """The first worksheet's rows, numbered as Excel numbers them, a chunk of XML at a time."""
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheet_part = _first_sheet_part(archive, source)
        shared = _shared_strings(archive)
        kinds = _style_kinds(archive)
        handler = _SheetHandler(shared, kinds, date1904)
        parser = _defused_expat()
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text
        try:
            with archive.open(sheet_part) as part:
                while chunk := part.read(CHUNK_BYTES):
                    parser.Parse(chunk, False)
                    yield from handler.take_rows()
                parser.Parse(b"", True)
        except (expat.ExpatError, KeyError, ValueError, IndexError) as exc:
            raise SourceFormatError(
                f"Forms export {source} cannot be read as a workbook ({type(exc).__name__})",
                hint="open it in Excel and save it again as an Excel Workbook (.xlsx)",
            ) from None
        yield from handler.take_rows()


def first_sheet_row(data: bytes, source: str, *, date1904: bool) -> tuple[int, int, list[Cell]] | None:
    """The first worksheet's first row as stream_sheet_rows gives it, reading only what it needs.

    Returns (row number, 0-based column of its first value, its cells from that column on).
    The worksheet XML is parsed 64 KiB at a time until a row completes, and the shared strings only
    up to the highest index that row uses (Excel writes them in order of first use: the header's come
    first). None for a sheet without rows.
    """
    with zipfile.ZipFile(BytesIO(data)) as archive:
        sheet_part = _first_sheet_part(archive, source)
        shared = _LazySharedStrings(archive)
        handler = _SheetHandler(shared, _style_kinds(archive), date1904)
        parser = _defused_expat()
        parser.StartElementHandler = handler.start
        parser.EndElementHandler = handler.end
        parser.CharacterDataHandler = handler.text
        try:
            with archive.open(sheet_part) as part:
                while not handler.rows and (chunk := part.read(HEADER_CHUNK_BYTES)):
                    parser.Parse(chunk, False)
        except (expat.ExpatError, KeyError, ValueError, IndexError) as exc:
            raise SourceFormatError(
                f"Forms export {source} cannot be read as a workbook ({type(exc).__name__})",
                hint="open it in Excel and save it again as an Excel Workbook (.xlsx)",
            ) from None
        finally:
            shared.close()
        if not handler.rows or handler.first_column is None:
            return None
        number, cells = handler.rows[0]
        return number, handler.first_column, cells


class _LazySharedStrings:
    """The shared string table read item by item only as far as an index asks (iterparse, elements cleared)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.strings: list[str] = []
        try:
            self.part: IO[bytes] | None = archive.open("xl/sharedStrings.xml")
        except KeyError:
            self.part = None
        self.items = (
            safe_xml.iterparse(self.part, events=("end",), forbid_dtd=True) if self.part is not None else None
        )

    def __getitem__(self, index: int) -> str:
        while len(self.strings) <= index and self.items is not None:
            element = next(((e for _, e in self.items if _local(e) == "si")), None)
            if element is None:
                self.items = None
                break
            self.strings.append(_item_text(element))
            element.clear()
        return self.strings[index]  # past the table: IndexError, a damaged workbook as in stream_sheet_rows

    def close(self) -> None:
        if self.part is not None:
            self.part.close()


class _SheetHandler:
    """expat callbacks for <row>, <c>, <v>, <is><t>: one cell in flight, finished rows queued."""

    def __init__(self, shared: Sequence[str] | _LazySharedStrings, kinds: list[str], date1904: bool) -> None:
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


def _xml(archive: zipfile.ZipFile, part: str) -> Element | None:
    try:
        raw = archive.read(part)
    except KeyError:
        return None
    root: Element = safe_xml.fromstring(raw, forbid_dtd=True)
    return root


def _local(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def _first_sheet_part(archive: zipfile.ZipFile, source: str) -> str:
    workbook, relationships = _xml(archive, "xl/workbook.xml"), _xml(archive, "xl/_rels/workbook.xml.rels")
    sheet = next((e for e in workbook.iter() if _local(e) == "sheet"), None) if workbook is not None else None
    wanted = sheet.get(f"{{{RELATIONSHIPS_NS}}}id") if sheet is not None else None
    for relationship in relationships.iter() if relationships is not None else ():
        if relationship.get("Id") == wanted and wanted is not None:
            target = relationship.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    raise SourceFormatError(f"Forms export {source} has no worksheet", hint="export the responses again")


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """The shared string table, item by item (iterparse, elements cleared): rich-text runs joined."""
    try:
        part = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings: list[str] = []
    with part:
        for _, element in safe_xml.iterparse(part, events=("end",), forbid_dtd=True):
            if _local(element) == "si":
                strings.append(_item_text(element))
                element.clear()
    return strings


def _item_text(item: Element) -> str:
    """An <si>'s text: its <t>, or its runs' <t>s; phonetic guides (<rPh>) are not part of it."""
    parts: list[str] = []
    for child in item:
        name = _local(child)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(run.text or "" for run in child if _local(run) == "t")
    return "".join(parts)


def _style_kinds(archive: zipfile.ZipFile) -> list[str]:
    """Per cell style index: "date", "duration" or "number", from numFmtId as calamine decides."""
    root = _xml(archive, "xl/styles.xml")
    if root is None:
        return []
    custom = {
        int(e.get("numFmtId", "0")): e.get("formatCode", "") for e in root.iter() if _local(e) == "numFmt"
    }
    cell_formats = next((e for e in root if _local(e) == "cellXfs"), None)
    kinds = []
    for xf in cell_formats if cell_formats is not None else ():
        format_id = int(xf.get("numFmtId", "0"))
        if format_id in BUILTIN_DURATION_FORMATS:
            kinds.append("duration")
        elif format_id in BUILTIN_DATE_FORMATS:
            kinds.append("date")
        else:
            kinds.append(_custom_format_kind(custom.get(format_id, "")))
    return kinds


def _custom_format_kind(code: str) -> str:
    """A custom number format's kind: date tokens outside quotes, escapes and [brackets] make a date."""
    escaped = quoted = False
    bracket = ""
    in_bracket = False
    for character in code.split(";", 1)[0]:
        if escaped:
            escaped = False
        elif quoted:
            quoted = character != '"'
        elif character in "\\_":
            escaped = True
        elif character == '"':
            quoted = True
        elif character == "[":
            in_bracket, bracket = True, ""
        elif character == "]":
            in_bracket = False
            if bracket and set(bracket) <= DURATION_TOKENS and len(set(bracket.lower())) == 1:
                return "duration"
        elif in_bracket:
            bracket += character
        elif character in DATE_TOKENS:
            return "date"
    return "number"
