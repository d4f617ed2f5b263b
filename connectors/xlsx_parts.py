"""The parts of an .xlsx workbook a worksheet's cells depend on, each read under defusedxml's rules:
which part is the first worksheet, the shared string table (whole, or lazily as far as an index asks),
and each cell style's kind (a date, a duration or a number, decided as python-calamine decides it).
The worksheet itself is streamed by connectors/forms_stream.py.
"""

from __future__ import annotations

import posixpath
import zipfile
from typing import IO
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as safe_xml

from errors import SourceFormatError

BUILTIN_DATE_FORMATS = frozenset({*range(14, 23), 45, 47})  # ECMA-376 18.8.30, as calamine reads them
BUILTIN_DURATION_FORMATS = frozenset({46})  # [h]:mm:ss
DATE_TOKENS = frozenset("dmhysDMHYS")
DURATION_TOKENS = frozenset("hmsHMS")
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def part_xml(archive: zipfile.ZipFile, part: str) -> Element | None:
    try:
        raw = archive.read(part)
    except KeyError:
        return None
    root: Element = safe_xml.fromstring(raw, forbid_dtd=True)
    return root


def local_name(element: Element) -> str:
    return element.tag.rpartition("}")[2]


def first_sheet_part(archive: zipfile.ZipFile, source: str) -> str:
    workbook, relationships = (
        part_xml(archive, "xl/workbook.xml"),
        part_xml(archive, "xl/_rels/workbook.xml.rels"),
    )
    sheet = (
        next((e for e in workbook.iter() if local_name(e) == "sheet"), None) if workbook is not None else None
    )
    wanted = sheet.get(f"{{{RELATIONSHIPS_NS}}}id") if sheet is not None else None
    for relationship in relationships.iter() if relationships is not None else ():
        if relationship.get("Id") == wanted and wanted is not None:
            target = relationship.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")
    raise SourceFormatError(f"Forms export {source} has no worksheet", hint="export the responses again")


def shared_strings(archive: zipfile.ZipFile) -> list[str]:
    """The shared string table, item by item (iterparse, elements cleared): rich-text runs joined."""
    try:
        part = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings: list[str] = []
    with part:
        for _, element in safe_xml.iterparse(part, events=("end",), forbid_dtd=True):
            if local_name(element) == "si":
                strings.append(item_text(element))
                element.clear()
    return strings


def item_text(item: Element) -> str:
    """An <si>'s text: its <t>, or its runs' <t>s; phonetic guides (<rPh>) are not part of it."""
    parts: list[str] = []
    for child in item:
        name = local_name(child)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(run.text or "" for run in child if local_name(run) == "t")
    return "".join(parts)


def style_kinds(archive: zipfile.ZipFile) -> list[str]:
    """Per cell style index: "date", "duration" or "number", from numFmtId as calamine decides."""
    root = part_xml(archive, "xl/styles.xml")
    if root is None:
        return []
    custom = {
        int(e.get("numFmtId", "0")): e.get("formatCode", "") for e in root.iter() if local_name(e) == "numFmt"
    }
    cell_formats = next((e for e in root if local_name(e) == "cellXfs"), None)
    kinds = []
    for xf in cell_formats if cell_formats is not None else ():
        format_id = int(xf.get("numFmtId", "0"))
        if format_id in BUILTIN_DURATION_FORMATS:
            kinds.append("duration")
        elif format_id in BUILTIN_DATE_FORMATS:
            kinds.append("date")
        else:
            kinds.append(custom_format_kind(custom.get(format_id, "")))
    return kinds


def custom_format_kind(code: str) -> str:
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


class LazySharedStrings:
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
            element = next(((e for _, e in self.items if local_name(e) == "si")), None)
            if element is None:
                self.items = None
                break
            self.strings.append(item_text(element))
            element.clear()
        return self.strings[index]  # past the table: IndexError, a damaged workbook as in stream_sheet_rows

    def close(self) -> None:
        if self.part is not None:
            self.part.close()
