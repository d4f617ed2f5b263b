"""The guard in front of the Forms reader: S5-S9 with crafted files, each refused before calamine runs."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import connectors.forms_export as forms_export
from connectors.forms_export import ReadOptions, parse_export, read_export
from connectors.forms_guard import MIB, InputLimits, check_xlsx
from connectors.forms_sources import Cell, calamine_sheet_rows
from errors import SourceFormatError
from tests.connectors.forms_fixtures import (
    BILLION_LAUGHS,
    CONTENT_TYPES,
    MAIN_XLSM,
    XXE_PASSWD,
    overlapping_zip_bomb,
    xlsx_bytes,
    xlsx_parts,
    zip_bytes,
)


class SheetReaderSpy:
    """Stands in for calamine: records whether the parser was ever reached."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, data: bytes, source: str) -> Iterator[tuple[int, list[Cell]]]:
        self.calls.append(source)
        return calamine_sheet_rows(data, source)


# every way parse_export reaches a worksheet parser on its own: fastexcel's Arrow columns (and the
# header read before them), python-calamine, the streaming reader
DEFAULT_PARSERS = ("read_header", "read_columns", "calamine_sheet_rows", "stream_sheet_rows")


def refused(data: bytes, name: str = "export.xlsx", limits: InputLimits | None = None) -> str:
    """Parse through a spy, then the default way with every parser spied on; assert the file was
    refused the same way both times and no parser was ever called; return the message."""
    spy = SheetReaderSpy()
    options = ReadOptions(limits=limits or InputLimits())
    with pytest.raises(SourceFormatError) as caught:
        parse_export(data, name, options, sheet_reader=spy)
    assert spy.calls == [], "the parser was called before the guard refused the file"
    with pytest.MonkeyPatch.context() as patch:
        reached = spy_on_default_parsers(patch)
        with pytest.raises(SourceFormatError) as by_default:
            parse_export(data, name, options)
    assert reached == [], "a parser was called before the guard refused the file"
    assert by_default.value.message == caught.value.message
    assert caught.value.hint
    assert name in caught.value.message
    return caught.value.message


def spy_on_default_parsers(patch: pytest.MonkeyPatch) -> list[str]:
    reached: list[str] = []
    for parser in DEFAULT_PARSERS:
        real = getattr(forms_export, parser)

        def recording(*args: Any, _real: Any = real, _name: str = parser, **kwargs: Any) -> Any:
            reached.append(_name)
            return _real(*args, **kwargs)

        patch.setattr(forms_export, parser, recording)
    return reached


def test_a_plain_workbook_passes_the_guard_and_reaches_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = SheetReaderSpy()
    export = parse_export(xlsx_bytes(), "export.xlsx", sheet_reader=spy)
    assert spy.calls == ["export.xlsx"] and export.row_count == 1
    reached = spy_on_default_parsers(monkeypatch)
    assert parse_export(xlsx_bytes(), "export.xlsx").row_count == 1
    assert reached == ["read_header", "read_columns"]  # the Arrow way, python-calamine not needed


# S5: XML bomb ------------------------------------------------------------------------------------


def test_s5_billion_laughs_in_shared_strings_is_refused() -> None:
    data = zip_bytes(xlsx_parts(shared_strings=BILLION_LAUGHS))
    assert "'xl/sharedStrings.xml' declares a DTD" in refused(data)


def test_s5_quadratic_blowup_is_refused() -> None:
    big = os.urandom(50_000).hex()  # incompressible, so the ratio check stays quiet
    bomb = (
        f'<?xml version="1.0"?>\n<!DOCTYPE sst [<!ENTITY a "{big}">]>\n'
        f"<sst><si><t>{'&a;' * 1000}</t></si></sst>"
    )
    assert "declares a DTD" in refused(zip_bytes(xlsx_parts(shared_strings=bomb)))


def test_a_dtd_in_utf16_is_refused_by_defusedxml() -> None:
    """The byte scan looks for ASCII `<!DOCTYPE`; UTF-16 hides it, defusedxml's parse of the prolog does not."""
    parts = xlsx_parts(shared_strings="<sst/>")
    parts["xl/sharedStrings.xml"] = BILLION_LAUGHS.replace('<?xml version="1.0"?>', "").encode("utf-16")
    assert "'xl/sharedStrings.xml' declares a DTD or entities" in refused(zip_bytes(parts))


def test_a_dtd_after_the_root_element_is_refused_by_the_byte_scan() -> None:
    """Past the root start tag the prolog check stops; the scan still finds a (malformed) DTD."""
    parts = xlsx_parts()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        "<sheetData>", '<!DOCTYPE x [<!ENTITY e "e">]><sheetData>'
    ).encode()
    assert "'xl/worksheets/sheet1.xml' declares a DTD" in refused(zip_bytes(parts))


def test_a_dtd_across_two_scan_chunks_is_found() -> None:
    parts = xlsx_parts()
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    prefix = sheet[: sheet.index("<sheetData>")]
    padding = "<!--" + "x" * (MIB - 4 - len(prefix) - len("<!---->")) + "-->"
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(
        "<sheetData>", f"{padding}<!DOCTYPE x><sheetData>"
    ).encode()
    assert parts["xl/worksheets/sheet1.xml"].index(b"<!DOCTYPE") == MIB - 4  # split by the 1 MiB chunks
    assert "declares a DTD" in refused(zip_bytes(parts, compression=zipfile.ZIP_STORED))


@pytest.mark.parametrize("prolog", [b"not xml at all", b"<?xml version='1.0'?><<worksheet/>"])
def test_an_xml_part_that_is_not_xml_is_refused(prolog: bytes) -> None:
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = prolog
    assert "not well-formed XML" in refused(zip_bytes(parts))


@pytest.mark.parametrize("head", [b"", b"<?xml version='1.0'?><!--" + b"x" * MIB + b"--><worksheet/>"])
def test_an_xml_part_without_a_root_element_in_its_first_mebibyte_is_refused(head: bytes) -> None:
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = head
    assert "has no root element in its first" in refused(zip_bytes(parts, compression=zipfile.ZIP_STORED))


def test_a_malformed_sheet_body_is_the_parsers_clean_error() -> None:
    """Past the prolog, well-formedness is calamine's business: its error becomes a SourceFormatError."""
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = (
        b"<worksheet><sheetData><row><c r='A1' t='s'><v>9</v></c></row></sheetData>"
    )
    with pytest.raises(SourceFormatError, match="cannot be read as a workbook"):
        parse_export(zip_bytes(parts), "export.xlsx")


# S6: zip bomb --------------------------------------------------------------------------------


def test_s6_small_file_expanding_past_a_gigabyte_is_refused() -> None:
    bomb = overlapping_zip_bomb()
    assert len(bomb) < 42 * 1024
    assert sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 2**30
    assert "refused" in refused(bomb)


def test_s6_total_uncompressed_size_over_the_limit_is_refused() -> None:
    parts = xlsx_parts()
    parts["xl/media/noise.bin"] = os.urandom(2 * MIB)  # incompressible: the ratio check stays quiet
    limits = InputLimits(max_uncompressed_bytes=MIB, max_file_bytes=10 * MIB)
    assert "expands to more than 1 MiB" in refused(zip_bytes(parts), limits=limits)


def test_s6_10001_entries_are_refused() -> None:
    parts = xlsx_parts()
    parts.update({f"xl/media/empty{number}.bin": b"" for number in range(10_001 - len(parts))})
    assert "10,001 zip entries" in refused(zip_bytes(parts, compression=zipfile.ZIP_STORED))


def test_s6_compression_ratio_of_1000_to_1_is_refused() -> None:
    parts = xlsx_parts()
    parts["xl/media/zeros.bin"] = bytes(10 * MIB)
    data = zip_bytes(parts)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/media/zeros.bin")
    assert info.file_size / info.compress_size > 900
    assert "'xl/media/zeros.bin' expands more than 100:1" in refused(data)


# S7: external entity ------------------------------------------------------------------------------


def test_s7_external_entity_is_refused_and_never_resolved() -> None:
    message = refused(zip_bytes(xlsx_parts(shared_strings=XXE_PASSWD)))
    assert "declares a DTD" in message
    assert "root:" not in message and "/bin/" not in message


def test_s7_external_entity_in_the_worksheet_is_refused() -> None:
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = XXE_PASSWD.replace("sst", "worksheet").encode()
    assert "'xl/worksheets/sheet1.xml' declares a DTD" in refused(zip_bytes(parts))


# S8: entry names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ["../a", "xl/../../a", "/etc/x", "xl\\..\\a", "C:/x", "c:x"])
def test_s8_entry_names_that_leave_the_archive_are_refused(entry: str) -> None:
    parts = xlsx_parts()
    parts[entry] = b"x"
    assert "is absolute or leaves its folder" in refused(zip_bytes(parts))


def test_duplicate_entry_names_are_refused() -> None:
    """Two parts with one name: the guard and the parser might read different ones."""
    buffer = io.BytesIO(zip_bytes(xlsx_parts()))
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    assert "appears twice" in refused(buffer.getvalue())


# S9: size limits ---------------------------------------------------------------------------------


def test_s9_a_60_mb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(60 * 10**6)
    with pytest.raises(SourceFormatError, match="larger than the 50 MiB limit"):
        read_export(path)


def test_s9_the_size_limit_applies_to_bytes_handed_in() -> None:
    message = refused(b"ID,Start time\n" + b"x" * 200, "export.csv", InputLimits(max_file_bytes=100))
    assert "larger than the" in message


# Macros --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["export.xlsm", "export.XLTM"])
def test_macro_enabled_names_are_refused(name: str) -> None:
    assert "macro" in refused(xlsx_bytes(), name)


def test_macro_names_are_refused_by_the_zip_guard_itself() -> None:
    with pytest.raises(SourceFormatError, match="macro-enabled"):
        check_xlsx(xlsx_bytes(), "export.xlsm", InputLimits())


def test_a_vba_project_inside_an_xlsx_is_refused() -> None:
    parts = xlsx_parts()
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 not really"
    assert "carries macros" in refused(zip_bytes(parts))


def test_an_excel4_macro_sheet_is_refused() -> None:
    parts = xlsx_parts()
    parts["xl/macrosheets/sheet1.xml"] = b"<xm:macrosheet xmlns:xm='x'/>"
    assert "carries macros" in refused(zip_bytes(parts))


def test_a_macro_content_type_is_refused() -> None:
    parts = xlsx_parts(main_content_type=MAIN_XLSM)
    assert "declares macro content" in refused(zip_bytes(parts))


# Container shape -------------------------------------------------------------------------------------


def test_not_a_zip_is_refused() -> None:
    assert "not a zip container" in refused(b"ID,Start time\n1,2\n")


def test_an_old_xls_or_password_protected_file_is_refused() -> None:
    message = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "password-protected" in message


def test_a_zip_without_a_workbook_is_refused() -> None:
    parts = {"[Content_Types].xml": CONTENT_TYPES.format(main="x", extra="").encode(), "a.txt": b"x"}
    assert "not an Excel workbook" in refused(zip_bytes(parts))


def test_a_damaged_zip_is_refused() -> None:
    assert "damaged" in refused(b"PK\x03\x04" + bytes(100))


def test_a_corrupt_entry_is_refused_before_the_parser() -> None:
    data = bytearray(zip_bytes(xlsx_parts(), compression=zipfile.ZIP_STORED))
    start = data.index(b"<sheetData>")
    data[start + 1] = ord("X")  # the stored bytes no longer match the entry's CRC
    assert "is damaged" in refused(bytes(data))


def test_an_unsupported_compression_method_is_refused() -> None:
    assert "unsupported compression" in refused(zip_bytes(xlsx_parts(), compression=zipfile.ZIP_BZIP2))


def test_an_encrypted_entry_is_refused() -> None:
    data = bytearray(zip_bytes(xlsx_parts()))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general purpose flag, bit 0: encrypted
    assert "is encrypted" in refused(bytes(data))


def test_a_zip_named_csv_is_refused() -> None:
    assert "named .csv" in refused(xlsx_bytes(), "export.csv")


@pytest.mark.parametrize("name", ["export.xls", "export.txt", "export"])
def test_other_suffixes_are_refused(name: str) -> None:
    assert "only .xlsx and .csv" in refused(xlsx_bytes(), name)


# Files on disk -------------------------------------------------------------------------------------


def test_a_symbolic_link_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "real.xlsx"
    target.write_bytes(xlsx_bytes())
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)
    assert read_export(target).row_count == 1
    with pytest.raises(SourceFormatError, match="symbolic link") as caught:
        read_export(link)
    assert "readlink" in caught.value.hint


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)
    with pytest.raises(SourceFormatError, match="not a regular file"):
        read_export(fifo)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "export.csv"
    folder.mkdir()
    with pytest.raises(SourceFormatError, match="not a regular file"):
        read_export(folder)


def test_a_device_is_refused() -> None:
    with pytest.raises(SourceFormatError, match="not a regular file"):
        read_export(Path("/dev/zero"))


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match="does not exist"):
        read_export(tmp_path / "nowhere.xlsx")
