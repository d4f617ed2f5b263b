"""Reading Forms exports: the emulator's demo exports end to end, then layout, CSV, values and privacy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from connectors.forms_export import RESPONSE_SCHEMA, FormsExport, ReadOptions, parse_export, read_export
from connectors.forms_guard import InputLimits
from emulator.demo.force import generate_force
from emulator.demo.forms import FORMULA_LOOKING, VARIANTS, write_forms_exports
from errors import SourceFormatError
from tests.connectors.forms_fixtures import FORMS_HEADER, xlsx_bytes

KEY = b"test-pseudonym-key-0123456789abcdef"
US = ReadOptions(locale="en-US")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    force = generate_force(seed=11, events=300, ccrs=3000)
    directory = tmp_path_factory.mktemp("forms")
    write_forms_exports(force, directory)
    personal = sorted(
        {detail for officer in force.officer_details for detail in (officer.email, officer.display_name)}
    )
    return directory, personal


def csv_export(
    text: str, name: str = "export.csv", options: ReadOptions = US, encoding: str = "utf-8"
) -> FormsExport:
    return parse_export(text.encode(encoding), name, options)


CSV_HEADER = "ID,Start time,Completion time,Email,Name,Question one\r\n"


# The emulator's demo exports ---------------------------------------------------------------------


def test_demo_xlsx_and_csv_of_each_form_read_the_same(demo: tuple[Path, list[str]]) -> None:
    directory, _ = demo
    for index in (1, 2, 3):
        for part in (1, 2):
            stem = directory / f"forms_export_0{index}_part{part}"
            from_xlsx = read_export(stem.with_suffix(".xlsx"), ReadOptions(pseudonym_key=KEY))
            from_csv = read_export(stem.with_suffix(".csv"), ReadOptions(locale="en-US", pseudonym_key=KEY))
            assert from_xlsx.row_count > 50 and from_xlsx.problems == () and from_csv.problems == ()
            assert from_xlsx.responses.equals(from_csv.responses)
            assert from_xlsx.answers.equals(from_csv.answers)
            assert from_xlsx.questions == from_csv.questions
            assert from_xlsx.responses.schema == RESPONSE_SCHEMA


def test_demo_layouts_follow_each_forms_wording(demo: tuple[Path, list[str]]) -> None:
    directory, _ = demo
    for index, variant in enumerate(VARIANTS, start=1):
        export = read_export(directory / f"forms_export_0{index}_part1.xlsx")
        assert [question.text for question in export.questions] == [q.text for q in variant.form.questions]
        issues = next(q for q in export.questions if q.text == variant.question_to("theme_code"))
        assert issues.multi_select and export.answers.column(issues.name).type == pa.list_(pa.string())
        assert all(q.multi_select == (q is issues) for q in export.questions)
        answers = [a for a in export.answers.column(issues.name).to_pylist() if a]
        assert answers and all(option and not option.endswith(";") for a in answers for option in a)
        has_last_modified = export.responses.column("last_modified_time_utc").null_count != export.row_count
        assert has_last_modified == variant.has_last_modified


def test_demo_times_are_london_wall_clock_converted_to_utc(demo: tuple[Path, list[str]]) -> None:
    directory, _ = demo
    export = read_export(directory / "forms_export_01_part1.csv", US)
    starts = export.responses.column("start_time_utc").to_pylist()
    ends = export.responses.column("completion_time_utc").to_pylist()
    assert all(
        start.utcoffset() == timedelta(0) and start < end for start, end in zip(starts, ends, strict=True)
    )
    raw = (directory / "forms_export_01_part1.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    local = datetime.strptime(raw.split(",")[2], "%m/%d/%y %H:%M:%S")
    assert ends[0] == local.replace(tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)


def test_demo_csv_read_as_en_gb_is_a_clear_locale_error(demo: tuple[Path, list[str]]) -> None:
    directory, _ = demo
    with pytest.raises(SourceFormatError, match="is not an en-GB date-time but reads as en-US") as caught:
        read_export(directory / "forms_export_02_part1.csv")
    assert "'Start time' in row" in caught.value.message
    assert caught.value.hint == "read the export with locale en-US (its dates are month-first)"


def test_demo_formula_looking_answers_stay_text(demo: tuple[Path, list[str]]) -> None:
    directory, _ = demo
    found: set[str] = set()
    for path in sorted(directory.iterdir()):
        export = read_export(path, US if path.suffix == ".csv" else ReadOptions())
        for column in export.answers.columns:
            if column.type == pa.string():
                found |= {value for value in column.to_pylist() if value in FORMULA_LOOKING}
    assert {"=1+1", "+SUM(A1)", "-2+3", "@x"} <= found


def test_demo_anonymous_respondents_have_no_pseudonym(demo: tuple[Path, list[str]]) -> None:
    directory, _ = demo
    export = read_export(directory / "forms_export_01_part1.xlsx", ReadOptions(pseudonym_key=KEY))
    rows = export.responses.to_pylist()
    anonymous = [row for row in rows if row["is_anonymous"]]
    named = [row for row in rows if not row["is_anonymous"]]
    assert anonymous and named
    assert all(
        row["respondent_email_key"] is None and row["respondent_name_key"] is None for row in anonymous
    )
    assert all(len(row["respondent_email_key"]) == 64 and row["respondent_name_key"] for row in named)


@pytest.mark.parametrize("key", [None, KEY])
def test_demo_email_and_name_never_leave_the_reader_in_clear(
    demo: tuple[Path, list[str]], key: bytes | None
) -> None:
    directory, personal = demo
    for path in sorted(directory.iterdir()):
        export = read_export(
            path, ReadOptions(locale="en-US" if path.suffix == ".csv" else "en-GB", pseudonym_key=key)
        )
        text = repr(export) + repr(export.responses.to_pylist()) + repr(export.answers.column_names)
        assert not [value for value in personal if value in text], path.name
        if key is None:
            assert export.responses.column("respondent_email_key").null_count == export.row_count


def test_the_pseudonym_key_is_not_in_the_options_repr() -> None:
    assert KEY.decode() not in repr(ReadOptions(pseudonym_key=KEY))


# Layout ------------------------------------------------------------------------------------------


def test_a_missing_id_column_is_a_clear_error() -> None:
    with pytest.raises(SourceFormatError, match="no ID column") as caught:
        parse_export(xlsx_bytes([("Start time", "Completion time", "Q"), (45000.1, 45000.2, "x")]), "a.xlsx")
    assert "first column is headed 'Start time'" in caught.value.message


def test_a_missing_completion_time_column_is_a_clear_error() -> None:
    with pytest.raises(SourceFormatError, match="no Completion time column"):
        parse_export(xlsx_bytes([("Id", "Start time", "Q"), (1, 45000.1, "x")]), "a.xlsx")


def test_the_legacy_id_header_and_a_later_name_question_are_read() -> None:
    rows = [
        ("Id", "Start time", "Completion time", "Email", "Name", "Name"),
        (7, 45000.1, 45000.2, "a@b.c", "", "Park"),
    ]
    export = parse_export(xlsx_bytes(rows), "a.xlsx")
    assert export.responses.column("response_id").to_pylist() == ["7"]
    assert [(q.position, q.text, q.name) for q in export.questions] == [(6, "Name", "Name")]
    assert export.answers.to_pylist() == [{"Name": "Park"}]


def test_quiz_columns_are_ignored_and_listed() -> None:
    header = ("ID", "Start time", "Completion time", "Email", "Name", "Total points", "Quiz feedback", "Q1",
              "Points - Q1", "Feedback - Q1", "Points - not a question")  # fmt: skip
    export = parse_export(
        xlsx_bytes([header, (1, 45000.1, 45000.2, "anonymous", "", 3, "ok", "A", 3, "good", "x")]), "a.xlsx"
    )
    assert [q.text for q in export.questions] == ["Q1", "Points - not a question"]
    assert export.ignored_columns == ("Total points", "Quiz feedback", "Points - Q1", "Feedback - Q1")


def test_questions_with_the_same_wording_are_kept_apart() -> None:
    header = (*FORMS_HEADER[:5], "Comments", "Age", "Comments")
    export = parse_export(
        xlsx_bytes([header, (1, 45000.1, 45000.2, "anonymous", "", "first", "30", "second")]), "a.xlsx"
    )
    assert [(q.position, q.name) for q in export.questions] == [
        (6, "Comments #1"),
        (7, "Age"),
        (8, "Comments #2"),
    ]
    assert export.answers.to_pylist() == [{"Comments #1": "first", "Age": "30", "Comments #2": "second"}]
    assert export.notes == (
        "2 questions share the wording 'Comments'; kept apart as 'Comments' #1..#2 in column order",
    )


def test_a_header_gap_is_an_error_and_trailing_empty_headers_are_dropped() -> None:
    with pytest.raises(SourceFormatError, match="column 6 has no header"):
        parse_export(xlsx_bytes([(*FORMS_HEADER[:5], None, "Q")]), "a.xlsx")
    export = csv_export(
        "ID,Start time,Completion time,Email,Name,Q,,\r\n1,1/2/23 9:00,1/2/23 9:05,anonymous,,x,,\r\n"
    )
    assert [q.text for q in export.questions] == ["Q"] and export.problems == ()


def test_more_questions_than_a_form_can_have_is_an_error() -> None:
    header = (*FORMS_HEADER[:5], *[f"Q{n}" for n in range(4)])
    with pytest.raises(SourceFormatError, match="4 question columns, more than the 3"):
        parse_export(xlsx_bytes([header]), "a.xlsx", ReadOptions(limits=InputLimits(max_question_columns=3)))


def test_more_rows_than_the_limit_are_refused() -> None:
    rows = [FORMS_HEADER] + [(n, 45000.1, 45000.2, "anonymous", "", "x") for n in range(1, 6)]
    limits = InputLimits(max_rows=4)
    with pytest.raises(SourceFormatError, match="more than 4 responses"):
        parse_export(xlsx_bytes(rows), "a.xlsx", ReadOptions(limits=limits, batch_cells=12))


def test_an_empty_file_and_a_header_only_file() -> None:
    with pytest.raises(SourceFormatError, match="is empty"):
        parse_export(b"", "a.csv")
    export = csv_export(CSV_HEADER)
    assert (
        export.row_count == 0 and export.answers.num_rows == 0 and export.questions[0].text == "Question one"
    )


def test_an_unknown_locale_is_refused() -> None:
    with pytest.raises(SourceFormatError, match="unknown locale 'fr-FR'"):
        parse_export(xlsx_bytes(), "a.xlsx", ReadOptions(locale="fr-FR"))  # type: ignore[arg-type]


def test_keep_questions_holds_only_those_answers_and_still_lists_every_question() -> None:
    text = "ID,Start time,Completion time,Email,Name,Issues,Comments,Age\r\n1,9/25/26 9:00:00,9/25/26 9:05:00,,,A;B;,hello,30\r\n"
    export = csv_export(
        text, options=ReadOptions(locale="en-US", keep_questions=frozenset({"Issues", "Age"}))
    )
    assert [q.text for q in export.questions] == ["Issues", "Comments", "Age"]
    assert export.answers.column_names == ["Issues", "Age"]
    assert export.questions[0].multi_select and export.answers.column("Issues").to_pylist() == [["A", "B"]]
