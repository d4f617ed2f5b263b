"""Cells of Forms exports: CSV encodings and delimiters, Excel dates and formulas, row problems."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from connectors import forms_problems as codes
from connectors.forms_export import FormsExport, ReadOptions, parse_export
from errors import SourceFormatError
from tests.connectors.forms_fixtures import FORMS_HEADER, RawCell, xlsx_bytes

US = ReadOptions(locale="en-US")
GB = ReadOptions(locale="en-GB")
CSV_HEADER = "ID,Start time,Completion time,Email,Name,Question one\r\n"
ROW = "1,9/25/26 9:00:00,9/25/26 9:05:00,anonymous,,{answer}\r\n"


def flat(export: FormsExport) -> list[tuple[int, str, str]]:
    return [(problem.row, problem.column, problem.code) for problem in export.problems]


def answers(export: FormsExport, name: str = "Question one") -> list[object]:
    return export.answers.column(name).to_pylist()


# CSV -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_csv_unicode_encodings(encoding: str) -> None:
    data = (CSV_HEADER + ROW.format(answer="Café – naïve")).encode(encoding)
    export = parse_export(data, "a.csv", US)
    assert answers(export) == ["Café – naïve"] and export.notes == ()


def test_csv_that_is_not_utf8_falls_back_to_cp1252_with_a_note() -> None:
    export = parse_export((CSV_HEADER + ROW.format(answer="Café £5")).encode("cp1252"), "a.csv", US)
    assert answers(export) == ["Café £5"]
    assert export.notes == (
        "not valid UTF-8: read as Windows-1252 (cp1252), Excel's 'CSV (Comma delimited)'",
    )


def test_csv_in_neither_encoding_is_refused() -> None:
    with pytest.raises(SourceFormatError, match=rf"is not cp1252 text \(byte {len(CSV_HEADER) + 2}\)"):
        parse_export(CSV_HEADER.encode() + b"1,\x81\x8d\xff", "a.csv", US)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_the_character_after_the_id_header(delimiter: str) -> None:
    text = (
        (CSV_HEADER + ROW.format(answer="A, B and C")).replace(",", delimiter) if delimiter != "," else None
    )
    if text is None:
        text = CSV_HEADER + ROW.format(answer='"A, B and C"')
    else:
        text = text.replace("A" + delimiter + " B", "A, B")
    export = parse_export(text.encode(), "a.csv", US)
    assert answers(export) == ["A, B and C"] and export.problems == ()


def test_csv_with_a_quoted_id_header_and_quoted_line_breaks() -> None:
    text = '"ID","Start time","Completion time","Email","Name","Question one"\r\n'
    text += '1,9/25/26 9:00:00,9/25/26 9:05:00,anonymous,,"two\r\nlines"\r\n' + ROW.replace(
        "1,", "2,", 1
    ).format(answer="x")
    export = parse_export(text.encode(), "a.csv", US)
    assert answers(export) == ["two\r\nlines", "x"]
    assert export.responses.column("row_number").to_pylist() == [2, 3]  # records, not lines


def test_csv_without_an_id_header_is_refused() -> None:
    with pytest.raises(SourceFormatError, match="does not start with an ID column"):
        parse_export(b"Start time,ID\r\n1,2\r\n", "a.csv", US)


def test_csv_bad_quoting_names_the_record() -> None:
    with pytest.raises(SourceFormatError, match=r"record 3 cannot be parsed \(bad quoting\)") as caught:
        parse_export((CSV_HEADER + ROW.format(answer="ok") + '2,a,b,c,d,"x"y\r\n').encode(), "a.csv", US)
    assert '"x"y' not in caught.value.message


def test_csv_short_and_long_rows_are_ragged_row_problems() -> None:
    text = CSV_HEADER + "1,9/25/26 9:00:00,9/25/26 9:05:00,anonymous\r\n" + ROW.format(answer="x,extra")
    export = parse_export(text.encode(), "a.csv", US)
    assert flat(export) == [(2, "", codes.RAGGED_ROW), (3, "", codes.RAGGED_ROW)]
    assert answers(export) == [None, "x"]


def test_csv_blank_lines_are_not_responses() -> None:
    export = parse_export((CSV_HEADER + "\r\n" + ROW.format(answer="x") + ",,,,,\r\n").encode(), "a.csv", US)
    assert export.row_count == 1 and export.responses.column("row_number").to_pylist() == [3]


# Dates and times --------------------------------------------------------------------------------------


def test_r17_ambiguous_csv_dates_are_row_problems_without_a_locale() -> None:
    text = CSV_HEADER + "1,03/04/2023 10:00,25/04/2023 10:05,anonymous,,x\r\n"
    export = parse_export(text.encode(), "a.csv", ReadOptions(locale=None))
    assert flat(export) == [(2, "Start time", codes.AMBIGUOUS_DATE)]
    assert export.responses.column("start_time_utc").to_pylist() == [None]
    assert export.responses.column("completion_time_utc").to_pylist() == [
        datetime(2023, 4, 25, 9, 5, tzinfo=UTC)
    ]
    configured = parse_export(text.encode(), "a.csv", GB)
    assert configured.problems == ()
    assert configured.responses.column("start_time_utc").to_pylist() == [
        datetime(2023, 4, 3, 9, 0, tzinfo=UTC)
    ]


def test_r15_bst_gap_and_overlap_in_an_export_are_flagged() -> None:
    text = CSV_HEADER + "1,30/03/2025 01:30,26/10/2025 01:30,anonymous,,x\r\n"
    export = parse_export(text.encode(), "a.csv", GB)
    assert flat(export) == [
        (2, "Completion time", codes.AMBIGUOUS_LOCAL_TIME),
        (2, "Start time", codes.NONEXISTENT_LOCAL_TIME),
    ]
    assert export.responses.column("start_time_utc").null_count == 1


def test_bad_times_are_row_problems_without_their_value() -> None:
    text = CSV_HEADER + "1,sometime,9/25/26 9:05:00,anonymous,,x\r\n"
    export = parse_export(text.encode(), "a.csv", US)
    assert flat(export) == [(2, "Start time", codes.BAD_DATETIME)]
    assert "sometime" not in repr(export.problems)


def test_excel_serials_in_unformatted_time_cells_use_the_workbooks_date_system() -> None:
    rows = [FORMS_HEADER, (1, 45000.5, 45000.75, "anonymous", "", "x")]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert export.responses.column("start_time_utc").to_pylist() == [datetime(2023, 3, 15, 12, tzinfo=UTC)]
    mac = parse_export(xlsx_bytes(rows, date1904=True), "a.xlsx")
    assert mac.responses.column("start_time_utc").to_pylist() == [datetime(2027, 3, 16, 12, tzinfo=UTC)]


def test_excel_date_cells_in_a_1904_workbook() -> None:
    workbook = openpyxl.Workbook()
    workbook.epoch = CALENDAR_MAC_1904
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(FORMS_HEADER))
    sheet.append([1, datetime(2024, 1, 10, 9, 30), datetime(2024, 1, 10, 9, 35), "anonymous", None, "x"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    export = parse_export(buffer.getvalue(), "a.xlsx")
    assert export.responses.column("start_time_utc").to_pylist() == [datetime(2024, 1, 10, 9, 30, tzinfo=UTC)]


def test_an_excel_serial_for_the_phantom_leap_day_is_a_bad_datetime() -> None:
    export = parse_export(xlsx_bytes([FORMS_HEADER, (1, 60, 45000.75, "anonymous", "", "x")]), "a.xlsx")
    assert flat(export) == [(2, "Start time", codes.BAD_DATETIME)]


# Text, numbers, formulas ------------------------------------------------------------------------------------


def test_formula_looking_text_stays_text_and_formulas_are_never_evaluated() -> None:
    rows = [
        (*FORMS_HEADER[:5], "Text", "Formula"),
        (1, 45000.1, 45000.2, "anonymous", "", "=1+1", RawCell("<f>1+1</f><v>7</v>")),
        (2, 45000.1, 45000.2, "anonymous", "", "+SUM(A1)", RawCell("<f>1+1</f>")),
        (3, 45000.1, 45000.2, "anonymous", "", "@x", RawCell("<v>=2+2</v>", ' t="str"')),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert answers(export, "Text") == ["=1+1", "+SUM(A1)", "@x"]
    assert answers(export, "Formula") == ["7", None, "=2+2"]  # the cached value, never 2


def test_numbers_and_other_cells_become_text() -> None:
    rows = [
        (*FORMS_HEADER[:5], "Rating", "Mixed"),
        (1, 45000.1, 45000.2, "anonymous", "", 5, 2.5),
        (2, 45000.1, 45000.2, "anonymous", "", 4.5, True),
        (3, 45000.1, 45000.2, "anonymous", "", None, "text"),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert answers(export, "Rating") == ["5", "4.5", None]
    assert answers(export, "Mixed") == ["2.5", "TRUE", "text"]
    assert export.responses.column("response_id").to_pylist() == ["1", "2", "3"]


def test_s9_a_4001_character_answer_is_a_row_problem_and_kept_whole() -> None:
    long_answer = "x" * 4001
    rows = [
        FORMS_HEADER,
        (1, 45000.1, 45000.2, "anonymous", "", "x" * 4000),
        (2, 45000.1, 45000.2, "anonymous", "", long_answer),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert flat(export) == [(3, "Question one", codes.TEXT_TOO_LONG)]
    assert answers(export)[1] == long_answer
    assert long_answer not in export.problems[0].message


def test_a_response_without_an_id_is_a_row_problem() -> None:
    export = parse_export(
        xlsx_bytes([FORMS_HEADER, (None, 45000.1, 45000.2, "anonymous", "", "x")]), "a.xlsx"
    )
    assert flat(export) == [(2, "ID", codes.MISSING_RESPONSE_ID)]


def test_values_past_the_header_in_a_workbook_are_ragged_rows() -> None:
    rows = [
        FORMS_HEADER,
        (1, 45000.1, 45000.2, "anonymous", "", "x", None),
        (2, 45000.1, 45000.2, "anonymous", "", "y", "z"),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert flat(export) == [(3, "", codes.RAGGED_ROW)]
    assert answers(export) == ["x", "y"]


def test_multi_select_detection_can_be_switched_off() -> None:
    rows = [
        FORMS_HEADER,
        (1, 45000.1, 45000.2, "anonymous", "", "A;B;"),
        (2, 45000.1, 45000.2, "anonymous", "", None),
    ]
    assert answers(parse_export(xlsx_bytes(rows), "a.xlsx")) == [["A", "B"], None]
    assert answers(parse_export(xlsx_bytes(rows), "a.xlsx", ReadOptions(detect_multi_select=False))) == [
        "A;B;",
        None,
    ]


def test_a_column_with_one_answer_without_a_semicolon_is_not_multi_select() -> None:
    rows = [
        FORMS_HEADER,
        (1, 45000.1, 45000.2, "anonymous", "", "A;B;"),
        (2, 45000.1, 45000.2, "anonymous", "", "fine"),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert answers(export) == ["A;B;", "fine"] and not export.questions[0].multi_select


def test_email_without_a_name_and_no_respondent_at_all() -> None:
    rows = [
        FORMS_HEADER,
        (1, 45000.1, 45000.2, "Officer@Force.police.uk", "", "x"),
        (2, 45000.1, 45000.2, "ANONYMOUS", "", "x"),
        (3, 45000.1, 45000.2, None, None, "x"),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx", ReadOptions(pseudonym_key=b"k" * 32))
    responses = export.responses.to_pylist()
    assert [row["is_anonymous"] for row in responses] == [False, True, True]
    assert responses[0]["respondent_email_key"] and responses[0]["respondent_name_key"] is None
