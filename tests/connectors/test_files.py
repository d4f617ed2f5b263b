"""Reading canonical tables from CSV (all text, empty = null) and Parquet files or directories."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.csv_source import CsvSource, first_nul, header_record
from connectors.files import read_tables, sample_data_dir
from connectors.read_limits import ReadLimits
from errors import SourceFormatError


def test_csv_is_read_as_text_with_empty_as_null(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text('event_id,total_attendance,flag\n007,,true\n"x,y","",\n', encoding="utf-8")
    table = read_tables(path)["events"]
    assert table.schema == pa.schema(
        [("event_id", pa.string()), ("total_attendance", pa.string()), ("flag", pa.string())]
    )
    assert table.to_pylist() == [
        {"event_id": "007", "total_attendance": None, "flag": "true"},
        {"event_id": "x,y", "total_attendance": None, "flag": None},
    ]


def test_table_option_names_the_table(tmp_path: Path) -> None:
    path = tmp_path / "export-2026.csv"
    path.write_text("theme_code\nASB\n", encoding="utf-8")
    assert list(read_tables(path, "themes")) == ["themes"]


def test_directory_reads_one_file_per_table(tmp_path: Path) -> None:
    (tmp_path / "themes.csv").write_text("theme_code\nASB\n", encoding="utf-8")
    pq.write_table(pa.table({"lpt_code": ["TAMWORTH"]}), tmp_path / "areas.parquet")
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    tables = read_tables(tmp_path)
    assert sorted(tables) == ["areas", "themes"]
    assert tables["areas"].column("lpt_code").to_pylist() == ["TAMWORTH"]
    assert sorted(read_tables(tmp_path, only=["themes"])) == ["themes"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"themes.csv": "a\n1\n", "themes.parquet": None}, "more than one file for themes"),
        ({}, "holds no .csv or .parquet files"),
        ({"themes.csv": "a,a\n1,2\n"}, "repeats a column name"),
    ],
)
def test_bad_inputs_are_source_format_errors(
    tmp_path: Path, files: dict[str, str | None], message: str
) -> None:
    for name, text in files.items():
        if text is None:
            pq.write_table(pa.table({"a": ["1"]}), tmp_path / name)
        else:
            (tmp_path / name).write_text(text, encoding="utf-8")
    target = tmp_path if len(files) != 1 else tmp_path / next(iter(files))
    with pytest.raises(SourceFormatError, match=message):
        read_tables(target)


def test_missing_path_and_wrong_suffix(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match="not found"):
        read_tables(tmp_path / "missing.csv")
    (tmp_path / "events.xlsx").write_bytes(b"PK")
    with pytest.raises(SourceFormatError, match="neither .csv nor .parquet"):
        read_tables(tmp_path / "events.xlsx")


def test_sample_data_dir_is_inside_the_package() -> None:
    assert sample_data_dir().parts[-2:] == ("powerbi_dataset", "sample")


def test_a_ragged_row_is_named_by_number_and_its_text_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "ccr.csv"
    path.write_text("ccr_id,religion\nc1,NONE\nc2,MUSLIM,Jane Doe 07700900123\n", encoding="utf-8")
    with pytest.raises(SourceFormatError) as caught:
        read_tables(path)
    assert (
        caught.value.message == f"CSV file {path}: row 3 (the header is row 1) has 3 fields, the header has 2"
    )
    assert "quote fields" in caught.value.hint


def test_a_non_utf8_csv_names_the_row_and_column_and_says_how_to_fix_it(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_bytes("theme_code,theme_label\nASB,ok\nASB,caf\xe9\n".encode("latin-1"))
    with pytest.raises(SourceFormatError) as caught:
        read_tables(path)
    assert caught.value.message == f"CSV file {path} is not UTF-8 text (row 3, column 'theme_label')"
    assert "UTF-8" in caught.value.hint


def test_a_repeated_header_names_the_column(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_text("theme_code,theme_label,theme_code\nASB,x,y\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="repeats a column name in its header: 'theme_code'"):
        read_tables(path)


def test_quoted_line_breaks_across_read_blocks_are_one_value(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    rows = "".join(f'T{n},"two\nlines {n}",\n' for n in range(60_000))  # ~1.5 MB: several read blocks
    path.write_text("theme_code,theme_label,load_id\n" + rows, encoding="utf-8")
    table = read_tables(path)["themes"]
    assert table.num_rows == 60_000
    assert table.column("theme_label")[59_999].as_py() == "two\nlines 59999"


def test_a_row_bigger_than_a_read_block_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_text("theme_code,theme_label\nASB," + "x" * 3_000_000 + "\n", encoding="utf-8")
    with pytest.raises(SourceFormatError, match="has a row longer than 1 MiB") as caught:
        read_tables(path, limits=ReadLimits(block_bytes=2**20))
    assert "4,000 chars" in caught.value.hint


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a,b\n1,2\n", {"a": ["1"], "b": ["2"]}),
        (b"\xef\xbb\xbf\r\n\na,b\r\n1,2\r\n", {"a": ["1"], "b": ["2"]}),  # BOM, then empty lines
        (b'"x\ny",b\n1,2\n', {"x\ny": ["1"], "b": ["2"]}),  # a line break inside a quoted name
        (b"a,b", {"a": [], "b": []}),  # only a header, no line break
        (b"a,a,b\n1,2,3\n", None),  # repeated names: read_tables refuses, validate reads by position
    ],
)
def test_the_header_record_is_cut_from_the_bytes(tmp_path: Path, data: bytes, expected: object) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    if expected is None:
        with pytest.raises(SourceFormatError, match="repeats a column name in its header: 'a'"):
            read_tables(path)
        assert CsvSource(path, ReadLimits()).header() == ["a", "a", "b"]
        return
    assert read_tables(path)["t"].to_pydict() == expected


def test_header_record_respects_quotes() -> None:
    assert header_record(b'"a,""b\n",c\r\nrest') == (b'"a,""b\n",c', 0)
    assert header_record(b"\n\r\n\ra\n") == (b"a", 3)
    assert header_record(b'"unterminated\nstill') == (None, 0)


def test_first_nul_finds_the_value_in_a_sliced_string_array() -> None:
    values = pa.array(["ab", "c\x00d", "", None, "e\x00"])
    assert first_nul(values) == 1
    assert first_nul(values.slice(2)) == 2  # "e\x00", counted from the slice
    assert first_nul(values.slice(2, 2)) is None
    assert first_nul(pa.array(["plain", "text"])) is None


def test_a_header_wider_than_pyarrow_s_default_block_is_read(tmp_path: Path) -> None:
    names = [f"extra_column_{n:06d}" for n in range(100_000)]  # ~2 MB of names: beyond a 1 MiB block
    path = tmp_path / "themes.csv"
    path.write_text(",".join(names) + "\n" + ",".join(["1"] * len(names)) + "\n", encoding="utf-8")
    assert CsvSource(path, ReadLimits(block_bytes=4 * 2**20)).header() == names
