"""The streaming worksheet reader (R19) gives the cells python-calamine gives, without holding the sheet."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from defusedxml import DefusedXmlException
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904

import connectors.forms_export as forms_export
from connectors.forms_export import ReadOptions, parse_export, read_export
from connectors.forms_sources import calamine_sheet_rows
from connectors.forms_stream import stream_sheet_rows
from connectors.xlsx_parts import custom_format_kind
from emulator.demo.force import generate_force
from emulator.demo.forms import write_forms_exports
from errors import SourceFormatError
from tests.connectors.forms_fixtures import FORMS_HEADER, RawCell, xlsx_bytes, xlsx_parts, zip_bytes

STREAM = ReadOptions(calamine_max_cells=0, pseudonym_key=b"k" * 32)
CALAMINE = ReadOptions(pseudonym_key=b"k" * 32)


def both_rows(data: bytes, *, date1904: bool = False) -> tuple[list[object], list[object]]:
    calamine = [(number, [c for c in cells]) for number, cells in calamine_sheet_rows(data, "a.xlsx")]
    streamed = list(stream_sheet_rows(data, "a.xlsx", date1904=date1904))
    width = max(len(cells) for _, cells in calamine)
    return calamine, [(number, cells + [""] * (width - len(cells))) for number, cells in streamed]


def test_demo_exports_read_the_same_streamed(tmp_path: Path) -> None:
    force = generate_force(seed=5, events=300, ccrs=3000)
    for path in write_forms_exports(force, tmp_path):
        if path.suffix == ".xlsx":
            calamine, streamed = read_export(path, CALAMINE), read_export(path, STREAM)
            assert calamine.responses.equals(streamed.responses), path.name
            assert calamine.answers.equals(streamed.answers), path.name
            assert (calamine.questions, calamine.problems) == (streamed.questions, streamed.problems)


def openpyxl_workbook(epoch: object = None) -> bytes:
    """Shared strings, rich text, numbers, booleans, formulas, date, time and duration formats."""
    workbook = openpyxl.Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ID", "Text", "Number", "Flag", "Formula", "When"])
    values = [
        (1, "plain", 5, True, "=1+1", datetime(2024, 3, 31, 1, 30), "m/d/yy h:mm"),
        (
            2,
            CellRichText([TextBlock(InlineFont(b=True), "bold"), " and plain"]),
            2.5,
            False,
            "",
            date(2024, 1, 2),
            "yyyy-mm-dd",
        ),
        (3, "=looks like a formula", -7, None, None, time(9, 30), "h:mm"),
        (4, "dd/mm", 0.1, None, None, 1.5, "[h]:mm:ss"),
        (5, "custom", 45000.5, None, None, 45000.5, "dd/mm/yyyy\\ hh:mm"),
        (6, "quoted", 45000.5, None, None, 45000.5, '"day"0.00'),
    ]
    for number, (row_id, text, amount, flag, formula, when, number_format) in enumerate(values, start=2):
        sheet.append([row_id, text, amount, flag, None, when])
        sheet.cell(number, 6).number_format = number_format
        if number == 3:
            sheet.cell(number, 2).data_type = "s"
        if formula:
            sheet.cell(number, 5).value = formula
    sheet.cell(4, 2).data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904])
def test_cells_of_every_kind_match_calamine(epoch: object) -> None:
    data = openpyxl_workbook(epoch)
    calamine, streamed = both_rows(data, date1904=epoch is not None)
    assert streamed == calamine
    assert calamine[1][1][5] == datetime(2024, 3, 31, 1, 30)
    assert calamine[2][1][1] == "bold and plain" and calamine[2][1][5] == date(2024, 1, 2)
    assert calamine[3][1][5] == time(9, 30) and calamine[4][1][5] == timedelta(days=1.5)
    assert calamine[6][1][5] == 45000.5  # "day" is quoted text, not a date token


def test_crafted_cells_match_calamine() -> None:
    rows = [
        ("ID", "A", "B"),
        (1, RawCell("<f>1+1</f><v>7</v>"), RawCell("<f>1+1</f>")),
        (2, RawCell("<v>#DIV/0!</v>", ' t="e"'), RawCell("<v>2024-03-01T09:30:00</v>", ' t="d"')),
        (
            3,
            RawCell("<v>=2+2</v>", ' t="str"'),
            RawCell("<is><r><t>a</t></r><r><t>b</t></r></is>", ' t="inlineStr"'),
        ),
    ]
    calamine, streamed = both_rows(xlsx_bytes(rows))
    assert streamed == calamine
    assert [cells[1:] for _, cells in calamine] == [
        ["A", "B"],
        [7.0, ""],  # the cached value, never evaluated (1+1 would be 2)
        ["", datetime(2024, 3, 1, 9, 30)],  # an error value reads as empty
        ["=2+2", "ab"],
    ]


def test_shared_strings_with_phonetic_guides_match_calamine() -> None:
    shared = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<si><t>ID</t></si><si><r><t>To</t></r><r><t>kyo</t></r><rPh sb='0' eb='1'><t>とうきょう</t></rPh></si>"
        "</sst>"
    )
    rows = [(RawCell("<v>0</v>", ' t="s"'), RawCell("<v>1</v>", ' t="s"'))]
    calamine, streamed = both_rows(zip_bytes(xlsx_parts(rows, shared_strings=shared)))
    assert streamed == calamine == [(1, ["ID", "Tokyo"])]


def test_data_that_starts_in_column_b_and_skips_rows() -> None:
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="3"><c r="B3" t="inlineStr"><is><t>ID</t></is></c><c r="C3" t="inlineStr"><is><t>Q</t></is></c></row>'
        b'<row r="7"><c r="B7"><v>1</v></c><c r="D7"><v>2</v></c></row>'
        b"</sheetData></worksheet>"
    )
    data = zip_bytes(parts)
    calamine = [(n, cells) for n, cells in calamine_sheet_rows(data, "a.xlsx") if any(c != "" for c in cells)]
    streamed = list(stream_sheet_rows(data, "a.xlsx", date1904=False))
    assert calamine == [(3, ["ID", "Q", ""]), (7, [1.0, "", 2.0])]
    assert streamed == [(3, ["ID", "Q"]), (7, [1.0, "", 2.0])]


def test_the_stream_refuses_a_dtd_on_its_own() -> None:
    """Called without the guard in front, the streaming parser still refuses DTDs and entities."""
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY e "x">]><worksheet><sheetData/></worksheet>'
    )
    with pytest.raises(SourceFormatError, match=r"\(DTDForbidden\)") as caught:
        list(stream_sheet_rows(zip_bytes(parts), "a.xlsx", date1904=False))
    assert isinstance(caught.value.__context__, DefusedXmlException)


def test_big_sheets_are_streamed_and_small_ones_go_to_calamine(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def spy(data: bytes, source: str, *, date1904: bool):  # type: ignore[no-untyped-def]
        calls.append(source)
        return stream_sheet_rows(data, source, date1904=date1904)

    monkeypatch.setattr(forms_export, "stream_sheet_rows", spy)
    data = xlsx_bytes([FORMS_HEADER, (1, 45000.1, 45000.2, "anonymous", "", "x")])  # 12 cells
    parse_export(data, "small.xlsx", ReadOptions(calamine_max_cells=12))
    assert calls == []
    parse_export(data, "big.xlsx", ReadOptions(calamine_max_cells=11))
    assert calls == ["big.xlsx"]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("dd/mm/yyyy", "date"),
        ("h:mm AM/PM", "date"),
        ("[h]:mm:ss", "duration"),
        ("[mm]:ss", "duration"),
        ("0.00", "number"),
        ('"d"0', "number"),
        ("\\d0", "number"),
        ("[Red]0.00", "number"),
        ("[$-809]dd mmmm yyyy", "date"),
        ("0;[Red]-0;yyyy", "number"),  # only the first section counts
        ("General", "number"),
    ],
)
def test_custom_number_format_kinds(code: str, kind: str) -> None:
    assert custom_format_kind(code) == kind
