"""Guards an untrusted Forms export before any parser sees it (reliability-security.md S5-S9).

A file must be a regular file within the size limit; an .xlsx is opened with `zipfile` and never
extracted: entry count, sizes, compression ratios, entry names, macros and every XML part's prolog
(defusedxml) are checked before python-calamine is handed the bytes. Refusals name the file and the
reason, never its content.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from errors import SourceFormatError

MIB = 2**20
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and any password-protected Office file
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")
MACRO_CONTENT_TYPE_MARKERS = ("macroenabled", "vbaproject", "macrosheet")
MACRO_PART_NAMES = ("vbaproject.bin",)
MACRO_PART_FOLDERS = ("xl/macrosheets/",)
XML_SUFFIXES = (".xml", ".rels")
SCAN_CHUNK_BYTES = MIB
DOCTYPE = b"<!DOCTYPE"
WORKSHEET_FOLDER = "xl/worksheets/"
_DRIVE = re.compile(r"^[A-Za-z]:")
HINT_RESAVE = "open the file in Excel and save it as an Excel Workbook (.xlsx), or export the responses again"


@dataclass(frozen=True)
class InputLimits:
    """Limits on an untrusted export (reliability-security.md, "Untrusted input files")."""

    max_file_bytes: int = 50 * MIB
    max_zip_entries: int = 1_000
    max_uncompressed_bytes: int = 200 * MIB  # the sum over every entry of an .xlsx
    max_compression_ratio: float = 100.0  # per entry, uncompressed : compressed
    max_question_columns: int = 200  # Forms' own maximum per form (microsoft-apis.md §4.1)
    max_rows: int = 1_000_000
    max_text_chars: int = 4_000  # Power BI's string cap: a longer cell is a row problem, never cut


@dataclass(frozen=True)
class WorkbookFacts:
    """What the guard learnt from an .xlsx on the way: the date system and the sheet count."""

    date1904: bool
    sheet_count: int
    cell_count: int  # an estimate, never below the <c> tags in the worksheets, to choose the row source


def refuse(name: str, reason: str, hint: str = HINT_RESAVE) -> SourceFormatError:
    return SourceFormatError(f"Forms export {name} refused: {reason}", hint=hint)


def read_guarded_bytes(path: Path, limits: InputLimits) -> bytes:
    """The bytes of a regular file (no symlink, FIFO, device or directory) no larger than the limit."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # NONBLOCK: a FIFO must not hang us
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        raise SourceFormatError(
            f"Forms export {path} does not exist", hint="check the path and the file name"
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise refuse(
                str(path),
                "it is a symbolic link, and cetk reads only regular files",
                hint="pass the path of the file the link points to (readlink -f shows it)",
            ) from None
        raise SourceFormatError(f"Forms export {path} cannot be opened: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise refuse(
            str(path),
            "it is not a regular file (a directory, FIFO, socket or device)",
            hint="pass an .xlsx or .csv file saved on disk",
        )
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limits.max_file_bytes + 1)  # never more than the limit, even if it grows
    check_size(data, str(path), limits)
    return data


def check_size(data: bytes, name: str, limits: InputLimits) -> None:
    if len(data) > limits.max_file_bytes:
        raise refuse(
            name,
            f"it is larger than the {limits.max_file_bytes / MIB:g} MiB limit",
            hint="split the export, or raise the limit (max_file_bytes) if the file is trusted",
        )


def check_xlsx(data: bytes, name: str, limits: InputLimits) -> WorkbookFacts:
    """Refuse anything but a plain, macro-free .xlsx within the limits; never extracts an entry."""
    if name.lower().endswith(MACRO_SUFFIXES):
        raise refuse(name, "macro-enabled workbooks are not read", hint=_HINT_MACRO)
    if data.startswith(OLE_MAGIC):
        raise refuse(
            name,
            "it is an old .xls workbook or a password-protected file, not an .xlsx",
            hint="remove the password and save it as an Excel Workbook (.xlsx)",
        )
    if not data.startswith(ZIP_MAGIC):
        raise refuse(name, "it is not an .xlsx workbook (not a zip container)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise refuse(name, "its zip container is damaged") from None
    with archive:
        entries = archive.infolist()
        _check_entries(entries, name, limits)
        _check_content_types(archive, name)
        cells = 0
        for entry in entries:
            if entry.filename.lower().endswith(XML_SUFFIXES):
                cells += _check_xml_part(archive, entry, name)
        return _workbook_facts(archive, name, cells)


def _check_entries(entries: list[zipfile.ZipInfo], name: str, limits: InputLimits) -> None:
    if len(entries) > limits.max_zip_entries:
        raise refuse(
            name, f"it holds {len(entries):,} zip entries, more than the {limits.max_zip_entries:,} allowed"
        )
    seen: set[str] = set()
    total = 0
    for entry in entries:
        entry_name = entry.filename
        _check_entry_name(entry_name, name)
        if entry_name.lower() in seen:
            raise refuse(name, f"the zip entry {entry_name!r} appears twice")
        seen.add(entry_name.lower())
        lowered = entry_name.lower()
        if lowered.rsplit("/", 1)[-1] in MACRO_PART_NAMES or lowered.startswith(MACRO_PART_FOLDERS):
            raise refuse(name, f"it carries macros (zip entry {entry_name!r})", hint=_HINT_MACRO)
        if entry.flag_bits & 0x1:
            raise refuse(name, f"the zip entry {entry_name!r} is encrypted")
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refuse(name, f"the zip entry {entry_name!r} uses an unsupported compression method")
        if entry.file_size > limits.max_compression_ratio * max(entry.compress_size, 1):
            raise refuse(
                name,
                f"the zip entry {entry_name!r} expands more than {limits.max_compression_ratio:g}:1 (a zip bomb?)",
            )
        total += entry.file_size
        if total > limits.max_uncompressed_bytes:
            raise refuse(
                name,
                f"it expands to more than {limits.max_uncompressed_bytes / MIB:g} MiB",
                hint="split the export, or raise the limit (max_uncompressed_bytes) if the file is trusted",
            )


def _check_entry_name(entry_name: str, name: str) -> None:
    """zipfile already cuts a name at NUL; what is left must be relative and stay in its folder."""
    if (
        entry_name.startswith("/")
        or "\\" in entry_name
        or _DRIVE.match(entry_name)
        or ".." in entry_name.split("/")
    ):
        raise refuse(name, f"the zip entry name {entry_name!r} is absolute or leaves its folder")


def _check_content_types(archive: zipfile.ZipFile, name: str) -> None:
    try:
        raw = archive.read("[Content_Types].xml")
        archive.getinfo("xl/workbook.xml")
    except KeyError:
        raise refuse(
            name, "it is not an Excel workbook (no [Content_Types].xml or xl/workbook.xml)"
        ) from None
    _check_prolog(raw, "[Content_Types].xml", name)
    root = _parse_xml(raw, "[Content_Types].xml", name)
    for element in root.iter():
        content_type = element.get("ContentType", "").lower()
        if any(marker in content_type for marker in MACRO_CONTENT_TYPE_MARKERS):
            raise refuse(name, f"it declares macro content ({content_type})", hint=_HINT_MACRO)


def _check_xml_part(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, name: str) -> int:
    """defusedxml reads the prolog (where any DTD must be); a byte scan covers the rest of the part.

    Reading the whole part through zipfile also checks its CRC and declared size. Returns the
    number of cell tags seen in a worksheet part (0 for other parts).
    """
    is_worksheet = entry.filename.startswith(WORKSHEET_FOLDER)
    cells = 0
    try:
        with archive.open(entry) as part:
            first = part.read(SCAN_CHUNK_BYTES)
            _check_prolog(first, entry.filename, name)
            tail = b""
            chunk = first
            while chunk:
                if DOCTYPE in chunk or DOCTYPE in tail + chunk[: len(DOCTYPE)]:  # one across two chunks too
                    raise refuse(name, f"the XML part {entry.filename!r} declares a DTD", hint=_HINT_XML)
                if is_worksheet:  # every <c> cell tag and a few others (<col>, <cfRule>): an upper bound,
                    cells += chunk.count(b"<c")  # which can only make the reader stream sooner; one pass
                tail = chunk[-len(DOCTYPE) :]
                chunk = part.read(SCAN_CHUNK_BYTES)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise refuse(name, f"the zip entry {entry.filename!r} is damaged ({type(exc).__name__})") from None
    return cells


class _PrologEnd(Exception):
    """Raised at the root element's start tag: past it, XML allows no DTD."""


class _PrologTarget:
    def start(self, tag: str, attributes: dict[str, str]) -> None:
        raise _PrologEnd

    def close(self) -> None:
        return None


def _check_prolog(head: bytes, part: str, name: str) -> None:
    parser = safe_xml.DefusedXMLParser(target=_PrologTarget(), forbid_dtd=True)
    try:
        parser.feed(head)  # a prefix of the part: never closed, the root start tag ends the check
    except _PrologEnd:
        return
    except DefusedXmlException:
        raise refuse(name, f"the XML part {part!r} declares a DTD or entities", hint=_HINT_XML) from None
    except ParseError:
        raise refuse(name, f"the XML part {part!r} is not well-formed XML") from None
    raise refuse(name, f"the XML part {part!r} has no root element in its first {len(head):,} bytes")


def _parse_xml(raw: bytes, part: str, name: str) -> Element:
    try:
        root: Element = safe_xml.fromstring(raw, forbid_dtd=True)
    except (DefusedXmlException, ParseError):
        raise refuse(name, f"the XML part {part!r} is not well-formed XML") from None
    return root


def _workbook_facts(archive: zipfile.ZipFile, name: str, cells: int) -> WorkbookFacts:
    root = _parse_xml(archive.read("xl/workbook.xml"), "xl/workbook.xml", name)
    date1904 = False
    sheet_count = 0
    for element in root.iter():
        local_name = element.tag.rsplit("}", 1)[-1]
        if local_name == "workbookPr":
            date1904 = element.get("date1904", "0").lower() in ("1", "true")
        elif local_name == "sheet":
            sheet_count += 1
    return WorkbookFacts(date1904=date1904, sheet_count=sheet_count, cell_count=cells)


_HINT_MACRO = "save the workbook as an Excel Workbook (.xlsx) without macros, or export the responses again"
_HINT_XML = "export the responses from Forms again; cetk refuses XML with DTDs or entities (XML bombs, XXE)"
