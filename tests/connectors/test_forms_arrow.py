"""The Arrow way (fastexcel) reads exactly what python-calamine's cells give, or steps aside for them."""

from __future__ import annotations

import io
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.forms_export as forms_export
from connectors.forms_export import FormsExport, ReadOptions, parse_export
from connectors.forms_rows import cell_text, text_array
from connectors.forms_sources import calamine_sheet_rows
from emulator.demo.force import generate_force
from emulator.demo.forms import write_forms_exports
from errors import SourceFormatError
from tests.connectors.forms_fixtures import FORMS_HEADER, RawCell, xlsx_bytes, xlsx_parts, zip_bytes

OPTIONS = ReadOptions(pseudonym_key=b"k" * 32)


def read_both(
    data: bytes, monkeypatch: pytest.MonkeyPatch, options: ReadOptions = OPTIONS
) -> tuple[FormsExport, bool]:
    """The default read (and whether it went the Arrow way), asserted equal to python-calamine's."""
    taken: list[bool] = []
    real = forms_export.read_columns

    def spy(*args: Any) -> Any:
        result = real(*args)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(forms_export, "read_columns", spy)
    export = parse_export(data, "a.xlsx", options)
    by_cells = parse_export(data, "a.xlsx", options, sheet_reader=calamine_sheet_rows)
    assert export.responses.equals(by_cells.responses)
    assert export.answers.equals(by_cells.answers)
    assert export.answers.schema == by_cells.answers.schema
    assert (export.questions, export.problems, export.notes) == (
        by_cells.questions,
        by_cells.problems,
        by_cells.notes,
    )
    return export, taken == [True]


def workbook(rows: list[list[object]], formats: dict[int, str] | None = None) -> bytes:
    """An openpyxl workbook (shared strings, real date cells), column formats by 1-based column."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for column, number_format in (formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = [*FORMS_HEADER[:5], "Rating", "Issues", "Comment"]
WHEN = datetime(2024, 3, 31, 1, 30)  # BST started at 01:00: a time the clocks skipped


def test_demo_exports_go_the_arrow_way_and_read_as_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    force = generate_force(seed=7, events=200, ccrs=1500)
    paths = [path for path in write_forms_exports(force, tmp_path) if path.suffix == ".xlsx"]
    assert paths
    for path in paths:
        export, arrow = read_both(path.read_bytes(), monkeypatch)
        assert arrow, path.name
        assert export.row_count > 0


def test_real_date_cells_blank_rows_and_values_past_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    rows: list[list[object]] = [
        HEADER,
        [1, WHEN, WHEN, "anonymous", None, 5, "Drugs;Burglary;", "plain"],
        [None] * 8,  # a blank row: not a response, and the next keeps its row number
        [2, datetime(2024, 1, 2, 9, 0, 0, 500_000), datetime(2024, 1, 2), "o@x.uk", "O", 2.5, "Drugs;", ""],
        [3, WHEN, WHEN, "ANONYMOUS", "", 4, None, "kept", "past the header"],
        [None] * 8 + ["only past the header"],
    ]
    export, arrow = read_both(
        workbook(rows, {2: "dd/mm/yyyy hh:mm:ss.000", 3: "dd/mm/yyyy hh:mm"}), monkeypatch
    )
    assert arrow
    assert export.responses.column("row_number").to_pylist() == [2, 4, 5, 6]
    assert [problem.code for problem in export.problems].count("forms-ragged-row") == 2
    assert export.answers.column("Rating").to_pylist() == ["5", "2.5", "4", None]
    assert export.answers.column("Issues").to_pylist()[:2] == [["Drugs", "Burglary"], ["Drugs"]]
    assert export.answers.column("Comment").to_pylist() == ["plain", None, "kept", None]


def test_serial_numbers_and_text_in_time_columns_are_read_cell_by_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [
        FORMS_HEADER,
        (1, 45000.5, "02/01/2024 09:30", "anonymous", "", "x"),
        (2, 45001.25, "", "", "", "y"),
    ]
    export, arrow = read_both(xlsx_bytes(rows), monkeypatch)
    assert arrow
    assert export.responses.column("start_time_utc")[0].as_py() is not None


@pytest.mark.parametrize(
    ("rows", "formats", "why"),
    [
        ([HEADER, [1, WHEN, WHEN, "a@x.uk", "A", 5, "Drugs;", "text"], [2, WHEN, WHEN, "a@x.uk", "A", "five", "Drugs;", 7]],
         {2: "dd/mm/yyyy hh:mm", 3: "dd/mm/yyyy hh:mm"}, "a question with numbers and text"),
        ([HEADER, [1, WHEN, time(9, 30), "a@x.uk", "A", 5, "Drugs;", "text"]],
         {2: "dd/mm/yyyy hh:mm", 3: "h:mm"}, "a time of day in a time column"),
        ([HEADER, [1, WHEN, WHEN, "a@x.uk", "A", 5, "Drugs;", date(2024, 1, 2)]],
         {2: "dd/mm/yyyy hh:mm", 3: "dd/mm/yyyy hh:mm", 8: "yyyy-mm-dd"}, "a date as an answer"),
    ],
)  # fmt: skip
def test_columns_the_arrow_way_cannot_match_go_cell_by_cell(
    rows: list[list[object]], formats: dict[int, str], why: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, arrow = read_both(workbook(rows, formats), monkeypatch)
    assert not arrow, why


def test_an_unused_column_of_mixed_kinds_does_not_stop_the_arrow_way(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        HEADER,
        [1, WHEN, WHEN, "a@x.uk", "A", 5, "Drugs;", "text"],
        [2, WHEN, WHEN, "", "", 4, "Drugs;", 7],
    ]
    options = ReadOptions(pseudonym_key=b"k" * 32, keep_questions=frozenset({"Rating", "Issues"}))
    _, arrow = read_both(workbook(rows, {2: "dd/mm/yyyy hh:mm", 3: "dd/mm/yyyy hh:mm"}), monkeypatch, options)
    assert arrow


def test_a_header_not_at_a1_goes_cell_by_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    parts = xlsx_parts()
    parts["xl/worksheets/sheet1.xml"] = (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        b'<row r="1"><c r="B1" t="inlineStr"><is><t>ID</t></is></c></row>'
        b'<row r="2"><c r="A2"><v>1</v></c></row></sheetData></worksheet>'
    )
    with pytest.raises(SourceFormatError) as by_default:
        parse_export(zip_bytes(parts), "a.xlsx", OPTIONS)
    with pytest.raises(SourceFormatError) as by_cells:
        parse_export(zip_bytes(parts), "a.xlsx", OPTIONS, sheet_reader=calamine_sheet_rows)
    assert by_default.value.message == by_cells.value.message


def test_crafted_cells_read_as_calamine(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        FORMS_HEADER,
        (1, 45000.5, 45000.6, "anonymous", "", RawCell("<f>1+1</f><v>7</v>")),
        (2, 45000.5, 45000.6, "", "", RawCell("<v>=2+2</v>", ' t="str"')),
        (3, 45000.5, 45000.6, "", "", RawCell("<f>1+1</f>")),
        (4, 45000.5, 45000.6, "", "", RawCell("<v>#DIV/0!</v>", ' t="e"')),
    ]
    export, _ = read_both(xlsx_bytes(rows), monkeypatch)
    assert export.answers.column("Question one").to_pylist() == ["7", "=2+2", None, None]


EDGE_NUMBERS = [
    1e-7,
    1e-5,
    -1e-5,
    0.0001,
    2.0**53,
    1e15 + 0.5,
    1e16,
    1e22,
    5e-324,
    -0.0,
    float("inf"),
    float("nan"),
]


@pytest.mark.parametrize(
    "values", [[1.0, 2.5, -7.0, 0.1, 123456789.0, 0.125, None], EDGE_NUMBERS, [True, False, None]]
)
def test_vectorised_numbers_and_booleans_are_cell_text(values: list[object]) -> None:
    """The Arrow way turns a number or boolean column into text as cell_text does each cell."""
    import pyarrow as pa

    from connectors.forms_arrow import _text_column

    kind = "boolean" if isinstance(values[0], bool) else "float"
    assert _text_column(pa.array(values), kind).to_pylist() == [cell_text(v) for v in values]  # type: ignore[union-attr, arg-type]
    assert text_array(values).to_pylist() == [cell_text(v) for v in values]  # type: ignore[arg-type]


def test_a_row_with_answers_only_in_unread_columns_is_still_a_response(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the used columns become Arrow at first; a row empty in all of them is checked in the others."""
    rows = [
        HEADER,
        [1, WHEN, WHEN, "a@x.uk", "A", 5, "Drugs;", "text"],
        [None] * 7 + ["an answer to an unread question"],  # no ID: a response with a problem, not blank
        [None] * 8,  # blank
        [3, WHEN, WHEN, "", "", 4, "Drugs;", None],
    ]
    options = ReadOptions(pseudonym_key=b"k" * 32, keep_questions=frozenset({"Rating"}))
    export, arrow = read_both(
        workbook(rows, {2: "dd/mm/yyyy hh:mm", 3: "dd/mm/yyyy hh:mm"}), monkeypatch, options
    )
    assert arrow
    assert export.responses.column("row_number").to_pylist() == [2, 3, 5]
    missing = [problem.row for problem in export.problems if problem.code == "forms-missing-response-id"]
    assert missing == [3]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.floats() | st.none(), min_size=1, max_size=20))
def test_any_float_column_reads_as_cell_text(values: list[float | None]) -> None:
    """Whatever the floats, the vectorised rule writes each as cell_text would (both read paths agree)."""
    import pyarrow as pa

    from connectors.forms_rows import numbers_as_text

    assert numbers_as_text(pa.array(values, pa.float64())).to_pylist() == [cell_text(v) for v in values]
