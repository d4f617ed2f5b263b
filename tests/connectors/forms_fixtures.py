"""Builders for crafted Forms exports: minimal .xlsx parts, XML attacks and zip bombs, built in memory.

Nothing here is committed as a binary: each test builds the file it needs.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "{extra}</Types>"
)
MAIN_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
MAIN_XLSM = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<workbookPr date1904="{date1904}"/><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>{extra}</Relationships>'
)
SHARED_STRINGS_REL = (
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/>'
)
SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{rows}</sheetData>'
    "</worksheet>"
)
FORMS_HEADER = ("ID", "Start time", "Completion time", "Email", "Name", "Question one")

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">' for n in range(1, 10)
    )
    + ']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>&lol9;</t></si></sst>"
)
XXE_PASSWD = (
    '<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    "<si><t>&xxe;</t></si></sst>"
)


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def cell_xml(reference: str, value: object) -> str:
    """A cell: text as an inline string (never a formula), numbers as numbers, RawCell as given."""
    if value is None:
        return ""
    if isinstance(value, RawCell):
        return f'<c r="{reference}"{value.attributes}>{value.inner}</c>'
    if isinstance(value, bool):
        return f'<c r="{reference}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{reference}"><v>{value!r}</v></c>'
    return f'<c r="{reference}" t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


class RawCell:
    def __init__(self, inner: str, attributes: str = "") -> None:
        self.inner, self.attributes = inner, attributes


def sheet_xml(rows: Sequence[Sequence[object]]) -> str:
    body = []
    for number, row in enumerate(rows, start=1):
        cells = "".join(cell_xml(f"{column_letter(i)}{number}", value) for i, value in enumerate(row))
        body.append(f'<row r="{number}">{cells}</row>')
    return SHEET.format(rows="".join(body))


def xlsx_parts(
    rows: Sequence[Sequence[object]] = (FORMS_HEADER, (1, 45000.5, 45000.75, "anonymous", "", "Yes")),
    *,
    date1904: bool = False,
    main_content_type: str = MAIN_XLSX,
    shared_strings: str | None = None,
) -> dict[str, bytes]:
    """The parts of a minimal workbook calamine reads; tests change or add parts before zipping."""
    parts = {
        "[Content_Types].xml": CONTENT_TYPES.format(main=main_content_type, extra=""),
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": WORKBOOK.format(date1904=int(date1904)),
        "xl/_rels/workbook.xml.rels": WORKBOOK_RELS.format(
            extra=SHARED_STRINGS_REL if shared_strings else ""
        ),
        "xl/worksheets/sheet1.xml": sheet_xml(rows),
    }
    if shared_strings is not None:
        parts["xl/sharedStrings.xml"] = shared_strings
    return {name: text.encode("utf-8") for name, text in parts.items()}


def zip_bytes(parts: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in parts.items():
            archive.writestr(
                zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, compress_type=compression
            )
    return buffer.getvalue()


def xlsx_bytes(rows: Sequence[Sequence[object]] | None = None, **options: object) -> bytes:
    parts = xlsx_parts(**options) if rows is None else xlsx_parts(rows, **options)  # type: ignore[arg-type]
    return zip_bytes(parts)


def overlapping_zip_bomb(*, entries: int = 52, entry_bytes: int = 21 * 2**20) -> bytes:
    """~25 KB whose central directory lists `entries` names over one deflated run of zeros (> 1 GB).

    Every entry shares one local file (David Fifield's overlap idea, simplified): zipfile lists them
    all, a reader that trusted the sizes would inflate entries * entry_bytes.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(2**20)
    deflated = b"".join(compressor.compress(chunk) for _ in range(entry_bytes // 2**20)) + compressor.flush()
    crc = 0
    for _ in range(entry_bytes // 2**20):
        crc = zlib.crc32(chunk, crc)
    name = b"xl/worksheets/sheet1.xml"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated), entry_bytes, len(name), 0
    )
    body = local + name + deflated
    central = b""
    for number in range(entries):
        entry_name = f"xl/worksheets/sheet{number + 1}.xml".encode()
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(deflated), entry_bytes,
            len(entry_name), 0, 0, 0, 0, 0, 0,
        ) + entry_name  # fmt: skip
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, entries, entries, len(central), len(body), 0)
    return body + central + end
