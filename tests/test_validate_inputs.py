"""Issue 7, "Tracebacks and hangs in `validate`", each in a child process running `cli.main` from this
checkout: a FIFO or device given as a file, a uint64 Parquet column, a Parquet dictionary that expands
past memory, invalid UTF-8 after the header, a NUL byte, an overlong line, a truncated Parquet, no caps.

Every run must end within its timeout with exit 0, 1 or 2 and, when it fails, exactly the two lines
`Error:` and `Hint:` on stderr (no traceback, no "Exception ignored"). The child's address space is
capped, so a regression that tries to decode a bomb fails with MemoryError instead of filling the machine.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-06-01T00:00:00Z"
CHILD_MEMORY_BYTES = 3 * 2**30
THEMES_HEADER = "theme_code,theme_label,load_id\n"


def cetk(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`cetk ARGS` as a child process of this checkout's code, its address space capped."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))

    environ = {name: value for name, value in os.environ.items() if not name.startswith("CETK_")}
    environ["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-c", "import sys, cli; sys.argv[0] = 'cetk'; cli.main()", *args]
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=environ, timeout=timeout, preexec_fn=cap_memory
    )


def assert_clean_error(result: subprocess.CompletedProcess[str], *message_parts: str) -> list[str]:
    """Exit 2 with exactly `Error:` and `Hint:` on stderr, the message holding each part."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr[-2_000:]
    assert len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Hint: "), lines
    for part in message_parts:
        assert part in lines[0]
    return lines


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "themes.csv"
    os.mkfifo(fifo)
    result = cetk("validate", str(fifo), cwd=tmp_path, timeout=30)
    assert_clean_error(result, f"CSV file {fifo} is a FIFO (named pipe), not a regular file")


def test_a_device_behind_a_csv_name_is_refused(tmp_path: Path) -> None:
    (tmp_path / "themes.csv").symlink_to("/dev/zero")
    result = cetk("validate", "themes.csv", cwd=tmp_path, timeout=30)
    assert_clean_error(result, "CSV file themes.csv is a character device, not a regular file")


def test_a_fifo_in_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "themes.csv").write_text(THEMES_HEADER + "ASB,x,\n", encoding="utf-8")
    os.mkfifo(tmp_path / "areas.csv")
    result = cetk("validate", str(tmp_path), cwd=tmp_path, timeout=30)
    assert_clean_error(result, "areas.csv is a FIFO")


def test_a_directory_named_like_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "themes.csv").mkdir()
    result = cetk("validate", str(tmp_path / "in"), cwd=tmp_path)
    assert_clean_error(result, "themes.csv is a directory, not a regular file")


def test_a_uint64_parquet_column_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "themes.parquet"
    table = pa.table(
        {"theme_code": ["ASB"], "theme_label": ["x"], "load_id": pa.array([2**64 - 1], pa.uint64())}
    )
    pq.write_table(table, path)
    events = tmp_path / "events.parquet"
    pq.write_table(pa.table({"total_attendance": pa.array([2**64 - 1, 5], pa.uint64())}), events)
    result = cetk("validate", str(events), "--json", "--as-of", AS_OF, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["counts"]["events"]["wrong-type"] == 1  # beyond Int64: not a valid whole number
    assert cetk("validate", str(path), cwd=tmp_path).returncode == 0


def test_a_parquet_dictionary_that_expands_past_memory_is_refused(tmp_path: Path) -> None:
    rows = 200_000
    long_value = pa.array(["x" * 1_000_000])  # 200,000 rows of 1 MB each: 200 GB decoded, 50 kB on disk
    label = pa.DictionaryArray.from_arrays(pa.array(np.zeros(rows, dtype=np.int32)), long_value)
    table = pa.table({"theme_code": pa.array(["ASB"] * rows), "theme_label": label})
    path = tmp_path / "themes.parquet"
    pq.write_table(table, path, store_schema=False)  # no Arrow schema: a reader would decode it plainly
    assert path.stat().st_size < 200_000
    result = cetk("validate", str(path), cwd=tmp_path)
    assert_clean_error(result, "column 'theme_label' holds more than 512 MiB of text in rows 0-65,535")


@pytest.mark.parametrize("bad_row", [2, 400_000])  # in the first read block, and far past it
def test_invalid_utf8_after_the_header_is_one_clean_error(tmp_path: Path, bad_row: int) -> None:
    path = tmp_path / "themes.csv"
    rows = ["ASB,x,\n"] * bad_row
    data = (THEMES_HEADER + "".join(rows[:-1])).encode() + b"ASB,caf\xe9,\n"
    path.write_bytes(data)
    result = cetk("validate", str(path), cwd=tmp_path)
    lines = assert_clean_error(
        result, f"CSV file {path} is not UTF-8 text (row {bad_row + 1}, column 'theme_label')"
    )
    assert "Exception ignored" not in result.stderr and "UTF-8" in lines[1]


def test_a_ragged_row_that_is_not_utf8_is_one_clean_error(tmp_path: Path) -> None:
    """pyarrow's invalid-row callback decodes the row first; undecodable, it printed "Exception ignored"."""
    path = tmp_path / "themes.csv"
    path.write_bytes(THEMES_HEADER.encode() + b"ASB,x,\nASB,caf\xe9,,PLANTED-1@example.com\n")
    result = cetk("validate", str(path), cwd=tmp_path)
    assert_clean_error(result, f"CSV file {path}: row 3 (the header is row 1) has 4 fields, the header has 3")
    assert "Exception ignored" not in result.stderr and "PLANTED" not in result.stderr


def test_a_nul_byte_is_refused_as_not_text(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_bytes(THEMES_HEADER.encode() + b"ASB,x\x00y,\n")
    result = cetk("validate", str(path), cwd=tmp_path)
    assert_clean_error(result, f"CSV file {path} holds a NUL byte (at byte 36)")
    utf16 = tmp_path / "areas.csv"
    utf16.write_bytes("lpt_code,lpt_name\r\nSTAFFORD,Stafford\r\n".encode("utf-16"))
    assert_clean_error(cetk("validate", str(utf16), cwd=tmp_path), "holds a NUL byte (at byte 3)")
    later = tmp_path / "later" / "themes.csv"  # past the first read block: named by row and column
    later.parent.mkdir()
    later.write_bytes(THEMES_HEADER.encode() + b"ASB,x,\n" * 400_000 + b"ASB,x\x00y,\n")
    message = f"CSV file {later} holds a NUL byte (row 400,002, column 'theme_label'): it is not text"
    assert_clean_error(cetk("validate", str(later), cwd=tmp_path), message)


def test_an_overlong_single_line_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    with path.open("wb") as handle:
        handle.write(THEMES_HEADER.encode() + b"ASB,")
        for _ in range(40):
            handle.write(b"y" * 2**20)  # 40 MiB without a line break
    result = cetk("validate", str(path), cwd=tmp_path)
    assert_clean_error(result, "has a row longer than 2 MiB")


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_truncated_parquet_is_a_clean_error(tmp_path: Path, cut: float) -> None:
    whole = tmp_path / "whole.parquet"
    pq.write_table(pa.table({"theme_code": ["ASB"] * 1000, "theme_label": ["x"] * 1000}), whole)
    data = whole.read_bytes()
    path = tmp_path / "themes.parquet"
    path.write_bytes(data[: int(len(data) * cut)])
    result = cetk("validate", str(path), cwd=tmp_path)
    assert_clean_error(
        result, f"Parquet file {path} cannot be read: it is not a Parquet file, or it is truncated"
    )


def test_a_corrupt_parquet_page_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "themes.parquet"
    pq.write_table(pa.table({"theme_code": ["ASB"] * 1000, "theme_label": ["x"] * 1000}), path)
    data = bytearray(path.read_bytes())
    data[4:200] = b"\xff" * 196  # the pages, not the footer
    path.write_bytes(bytes(data))
    result = cetk("validate", str(path), cwd=tmp_path)
    assert_clean_error(result, f"Parquet file {path} cannot be read")


def test_file_size_and_row_caps_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_text(THEMES_HEADER + "ASB,x,\n" * 200, encoding="utf-8")
    too_big = cetk("validate", str(path), "--max-file-size", "1KiB", cwd=tmp_path)
    assert_clean_error(too_big, f"CSV file {path} is larger than the 1 KiB limit")
    assert "--max-file-size" in too_big.stderr
    too_long = cetk("validate", str(path), "--max-rows", "100", cwd=tmp_path)
    assert_clean_error(too_long, f"CSV file {path} has more than 100 rows, the limit")


def test_problems_beyond_the_cap_are_counted_not_listed(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    path.write_text(THEMES_HEADER + "".join(f"BAD_{n},x,\n" for n in range(50)), encoding="utf-8")
    result = cetk("validate", str(path), "--json", "--max-problems", "5", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert (report["problems_total"], report["problems_not_listed"], len(report["problems"])) == (50, 45, 5)
    plain = cetk("validate", str(path), "--max-problems", "5", cwd=tmp_path)
    assert "The report lists 5 of them and counts all (45 not listed" in plain.stdout
    assert plain.stderr.splitlines()[0] == "Error: validation found 50 problems in 50 rows"


def test_a_csv_without_a_header_is_named_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "ccr.csv"
    first = "c1,2024-05-01T11:00:00Z,PLANTED-1@example.com,MUSLIM,07700 900111"
    path.write_text(
        first + "\nc2,2024-05-01T11:00:00Z,PLANTED-2@example.com,NONE,07700 900222\n", encoding="utf-8"
    )
    for extra in ([], ["--json"]):
        result = cetk("validate", str(path), *extra, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert "header-looks-like-data" in result.stdout
        output = result.stdout + result.stderr
        for value in ("PLANTED", "MUSLIM", "07700", "c1", "c2,"):
            assert value not in output
    report = json.loads(result.stdout)
    assert report["problems"][0]["message"] == (
        f"the first row of {path} does not look like a header (values, not column names)"
    )


def test_a_20000_column_header_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "themes.csv"
    names = ["theme_code", "theme_label", "load_id", *(f"extra_{n}" for n in range(20_000))]
    path.write_text(
        ",".join(names) + "\n" + ",".join(["ASB", "x", ""] + ["1"] * 20_000) + "\n", encoding="utf-8"
    )
    result = cetk("validate", str(path), "--json", cwd=tmp_path)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["counts"] == {"themes": {"unexpected-column": 20_000}}
