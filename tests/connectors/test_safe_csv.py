"""Safe CSV output: S4 formula injection, RFC 4180 quoting, atomic 0600 writes, S8 output names."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import os
import stat
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.forms_export import ReadOptions, parse_export
from connectors.safe_csv import csv_field, neutralise_formula, output_path, write_csv, write_table_csv
from errors import SourceFormatError

S4_TEXT = ["=1+1", "+SUM(A1)", "-2+3", "@x", "\t=x", "\r=x", "\x00=x"]


def read_back(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("text", S4_TEXT)
def test_s4_text_that_a_spreadsheet_would_evaluate_gets_a_leading_quote(text: str) -> None:
    assert neutralise_formula(text) == "'" + text
    assert csv_field(text) == "'" + text


@pytest.mark.parametrize("text", ["1+1", "SUM(A1)", "a=b", "", "'=already", " =x", "5", "£5"])
def test_other_text_is_unchanged(text: str) -> None:
    assert csv_field(text) == text


def test_s4_numbers_stay_numbers() -> None:
    assert [csv_field(value) for value in (-5, -5.5, 0, decimal.Decimal("-1.50"))] == [
        "-5",
        "-5.5",
        "0",
        "-1.50",
    ]


def test_other_values() -> None:
    assert csv_field(None) == ""
    assert csv_field(True) == "true"
    assert csv_field(dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.UTC)) == "2024-03-01T09:30:00+00:00"
    assert csv_field(dt.date(2024, 3, 1)) == "2024-03-01"
    assert csv_field(["Drugs", "ASB"]) == "Drugs;ASB;"
    assert csv_field(["-x"]) == "'-x;"


def test_s4_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "quarantine.csv"
    rows = [[text, -5] for text in S4_TEXT] + [['say "hi", twice\nplease', 3.25]]
    assert write_csv(path, ["answer", "attendance"], rows, private=True) == len(rows)
    raw = path.read_bytes()
    assert raw.startswith(b"answer,attendance\r\n")
    assert b"\r\n'-2+3,-5\r\n" in raw
    assert b'"say ""hi"", twice\nplease",3.25\r\n' in raw  # RFC 4180: quotes doubled, line break quoted
    back = read_back(path)
    assert back[1:] == [["'" + text, "-5"] for text in S4_TEXT] + [['say "hi", twice\nplease', "3.25"]]


def test_headers_are_neutralised_too(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["=cmd", "ok"], [])
    assert read_back(path) == [["'=cmd", "ok"]]


def test_quarantine_files_are_private_and_others_readable(tmp_path: Path) -> None:
    private, shared = tmp_path / "quarantine.csv", tmp_path / "report.csv"
    write_csv(private, ["a"], [["x"]], private=True)
    write_csv(shared, ["a"], [["x"]])
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644


def test_byte_order_mark_for_excel(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    write_csv(path, ["a"], [["é"]], byte_order_mark=True)
    assert path.read_bytes().startswith(b"\xef\xbb\xbfa\r\n")
    assert path.read_bytes().decode("utf-8-sig") == "a\r\né\r\n"


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "quarantine.csv"
    write_csv(path, ["a"], [["old"]])

    def rows_then_crash():  # type: ignore[no-untyped-def]
        yield ["new"]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_csv(path, ["a"], rows_then_crash())
    assert read_back(path) == [["a"], ["old"]]
    assert os.listdir(tmp_path) == ["quarantine.csv"]


def test_the_replacement_is_atomic_through_a_temporary_in_the_same_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(source: str, target: Path) -> None:
        calls.append((str(Path(source).parent), Path(source).name))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    write_csv(tmp_path / "out.csv", ["a"], [["x"]])
    assert calls and calls[0][0] == str(tmp_path) and calls[0][1].startswith(".out.csv.")


def test_an_arrow_table_keeps_numbers_numeric(tmp_path: Path) -> None:
    table = pa.table(
        {
            "row": pa.array([2, 3], pa.int64()),
            "answer": ["=1+1", "fine"],
            "score": [-5.0, None],
            "issues": pa.array([["@x", "b"], None], pa.list_(pa.string())),
        }
    )
    path = tmp_path / "q.csv"
    assert write_table_csv(path, table, private=True) == 2
    assert read_back(path) == [
        ["row", "answer", "score", "issues"],
        ["2", "'=1+1", "-5.0", "'@x;b;"],
        ["3", "fine", "", ""],
    ]


def test_s4_formula_text_read_from_an_export_is_neutralised_on_the_way_out(tmp_path: Path) -> None:
    header = "ID,Start time,Completion time,Email,Name,Comments\r\n"
    text = header + "".join(
        f'{n},1/2/23 9:00,1/2/23 9:05,anonymous,,"{v}"\r\n' for n, v in enumerate(S4_TEXT[:4], 1)
    )
    export = parse_export(text.encode(), "a.csv", ReadOptions())
    assert export.answers.column("Comments").to_pylist() == S4_TEXT[:4]  # the reader keeps them as text
    path = tmp_path / "out.csv"
    write_table_csv(path, export.answers)
    assert [row[0] for row in read_back(path)[1:]] == ["'" + text for text in S4_TEXT[:4]]


@pytest.mark.parametrize("name", ["../../etc/x", "..", "a/b.csv", "a\\b.csv", "", "x\x00.csv"])
def test_s8_output_names_cannot_leave_the_output_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(SourceFormatError, match="would leave the output folder"):
        output_path(tmp_path, name)


def test_s8_a_plain_name_stays_inside(tmp_path: Path) -> None:
    assert output_path(tmp_path, "forms_quarantine_01.csv") == tmp_path.resolve() / "forms_quarantine_01.csv"


def test_s8_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "escape.csv").symlink_to(tmp_path / "elsewhere.csv")
    with pytest.raises(SourceFormatError, match="would leave"):
        output_path(tmp_path / "out", "escape.csv")


def test_csv_module_reads_what_we_write_with_excel_dialect(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    write_csv(path, ["a", "b"], [["1,2", "x"]])
    assert list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), dialect="excel")) == [
        ["a", "b"],
        ["1,2", "x"],
    ]
