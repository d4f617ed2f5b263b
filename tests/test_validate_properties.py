"""Property-based tests (hypothesis, derandomised, bounded): random bytes, random CSV shapes and random
Parquet schemas fed to `validate`, through the library and through `cli.main` with captured output.

For every input: the library returns a Report or raises a CetkError (nothing else); `cetk validate`
exits 0, 1 or 2 with no traceback and no "Exception ignored"; and no planted value (an email-shaped
`PLANTED-n@example.com`, or a plain token `PLANTEDTOKENn` in data cells) ever appears in the report,
on stdout or on stderr. Inputs are small (bounded time and memory); the deadline is generous.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cli import main
from errors import CetkError, ExitCode
from pipeline import validate_files
from powerbi_dataset.model import DATASET

AS_OF = "2026-06-01T00:00:00Z"
TABLES = ("themes", "ccr", "events", "event_issues")
PROPERTY = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=dt.timedelta(seconds=30),  # generous: one example is two validations and a file write
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

markers = st.integers(min_value=0, max_value=999_999)


def email_marker(number: int) -> str:
    return f"PLANTED-{number:06d}@example.com"


def token_marker(number: int) -> str:
    return f"PLANTEDTOKEN{number:06d}"


@st.composite
def cells(draw: st.DrawFn, planted: list[str]) -> str:
    """A data cell: a plausible value, a planted marker, random text, or a huge field."""
    kind = draw(st.sampled_from(["plausible"] * 3 + ["email", "token"] * 2 + ["text", "tricky", "huge"]))
    if kind == "plausible":
        return draw(
            st.sampled_from(
                [
                    "",
                    " ",
                    "ASB",
                    "NONE",
                    "true",
                    "no",
                    "12",
                    "-1",
                    "2024-05-01T10:00:00Z",
                    "2024-02-30",
                    "c1",
                    "E05000001",
                ]
            )
        )
    if kind in ("email", "token"):
        value = (email_marker if kind == "email" else token_marker)(draw(markers))
        planted.append(value)
        return value
    if kind == "tricky":
        return draw(
            st.sampled_from(["a,b", 'say "hi"', "two\nlines", "\r", "=1+1", "\x1b[31m", "é", "\u202e"])
        )
    if kind == "huge":
        return "x" * draw(st.sampled_from([4_001, 70_000]))
    return draw(st.text(st.characters(exclude_categories=("Cs",)), max_size=12))


@st.composite
def headers(draw: st.DrawFn, table: str, planted: list[str]) -> list[str]:
    """Header cells: mostly the model's names (some left out, reordered, one repeated or an extra name),
    else a first row of values (markers among them), or model names mixed with one value."""
    names = list(DATASET.table(table).column_names)
    mode = draw(st.sampled_from(["model"] * 7 + ["values", "values", "mixed"]))
    if mode == "values":
        header = draw(
            st.lists(
                st.one_of(markers.map(email_marker), st.sampled_from(VALUE_CELLS)), min_size=1, max_size=8
            )
        )
    else:
        header = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names) + 1))
        if draw(st.booleans()):
            header.append(draw(st.sampled_from(["colour", "Notes", "extra_1", "", "ID"])))
        if mode == "mixed":
            header.insert(draw(st.integers(0, len(header))), email_marker(draw(markers)))
    planted.extend(cell for cell in header if cell.startswith("PLANTED-"))
    return header


VALUE_CELLS = [
    "07700 900123",
    "2024-01-01",
    "12.5",
    "ST4 2AB",
    "true",
    "Jane Doe, 14 Acacia Avenue, Stafford",
]


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    table = draw(st.sampled_from(TABLES))
    planted: list[str] = []
    header = draw(headers(table, planted))
    width = len(header) + draw(st.sampled_from([0] * 8 + [1, -1]))  # now and then a ragged row
    rows = draw(
        st.lists(st.lists(cells(planted), min_size=max(width, 0), max_size=max(width, 0)), max_size=8)
    )
    text = io.StringIO()
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    writer = csv.writer(text, quoting=quoting, lineterminator=ending)
    writer.writerow(header)  # a first row of values is one of the headers drawn
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "latin-1"]))
    data = text.getvalue().encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:  # now and then a NUL or stray bytes somewhere
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([b"\x00", b"\xff\xfe", b"\xe9"])) + data[at:]
    return table, data, planted


@st.composite
def random_bytes(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    table = draw(st.sampled_from(TABLES))
    marker = email_marker(draw(markers)).encode()
    head = draw(st.sampled_from([b"", ",".join(DATASET.table(table).column_names).encode() + b"\n"]))
    data = head + draw(st.binary(max_size=600)) + marker + draw(st.binary(max_size=600))
    return table, data, [marker.decode()]


ARROW_TYPES = [
    pa.int8(), pa.int64(), pa.uint32(), pa.uint64(), pa.float32(), pa.float64(), pa.bool_(),
    pa.string(), pa.large_string(), pa.binary(), pa.date32(), pa.timestamp("ms"),
    pa.timestamp("us", tz="UTC"), pa.timestamp("ns", tz="Europe/London"), pa.time64("us"),
    pa.decimal128(10, 2), pa.dictionary(pa.int32(), pa.string()), pa.list_(pa.string()),
    pa.struct([("a", pa.string())]), pa.null(), pa.duration("s"),
]  # fmt: skip


def values_for(kind: pa.DataType, planted: list[str]) -> st.SearchStrategy[Any]:
    text = cells(planted)
    if pa.types.is_integer(kind):
        bits = kind.bit_width
        low, high = (
            (0, 2**bits - 1)
            if pa.types.is_unsigned_integer(kind)
            else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
        )
        return st.integers(low, high)
    if pa.types.is_floating(kind):
        return st.floats(width=32 if kind == pa.float32() else 64)
    if pa.types.is_boolean(kind):
        return st.booleans()
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_dictionary(kind):
        return text
    if pa.types.is_binary(kind):
        return st.one_of(st.binary(max_size=20), text.map(str.encode))
    if pa.types.is_date(kind):
        return st.dates()
    if pa.types.is_timestamp(kind):
        return st.datetimes(min_value=dt.datetime(1700, 1, 1), max_value=dt.datetime(2200, 1, 1))
    if pa.types.is_time(kind):
        return st.times()
    if pa.types.is_decimal(kind):
        return st.decimals(min_value=-99_999_999, max_value=99_999_999, places=2, allow_nan=False)
    if pa.types.is_list(kind):
        return st.lists(text, max_size=3)
    if pa.types.is_struct(kind):
        return text.map(lambda value: {"a": value})
    if pa.types.is_duration(kind):
        return st.timedeltas(max_value=dt.timedelta(days=9_999))
    return st.none()


@st.composite
def parquet_files(draw: st.DrawFn) -> tuple[str, bytes, list[str]]:
    table = draw(st.sampled_from(TABLES))
    planted: list[str] = []
    names = draw(headers(table, planted))
    rows = draw(st.integers(0, 6))
    columns = []
    for _name in names:
        kind = draw(st.sampled_from(ARROW_TYPES))
        values = draw(st.lists(st.one_of(st.none(), values_for(kind, planted)), min_size=rows, max_size=rows))
        try:
            columns.append(pa.array(values, type=kind))
        except (pa.ArrowException, ValueError, TypeError, OverflowError):
            columns.append(pa.nulls(rows, pa.string()))
    buffer = io.BytesIO()
    try:
        pq.write_table(
            pa.table(columns, names=names),
            buffer,
            row_group_size=draw(st.sampled_from([1, 2, 1_000])),
            use_dictionary=draw(st.booleans()),
            store_schema=draw(st.booleans()),
            compression=draw(st.sampled_from(["none", "snappy", "zstd"])),
        )
    except (pa.ArrowException, ValueError, TypeError):
        return table, b"PAR1", planted  # a schema Parquet cannot hold: still an input to refuse cleanly
    data = buffer.getvalue()
    cut = draw(st.sampled_from([None, None, None, 0.5, 0.95]))
    if cut is not None:
        data = data[: int(len(data) * cut)]
    return table, data, planted


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as ended:
            code = int(ended.code or 0) if not isinstance(ended.code, str) else 1
    return code, out.getvalue(), err.getvalue()


def check_input(table: str, suffix: str, data: bytes, planted: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{table}{suffix}"
        path.write_bytes(data)
        try:
            report = validate_files(path, as_of=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
        except CetkError as error:  # could not read: a clean error, its message free of the input
            text = error.message + error.hint
        else:
            text = json.dumps(report.to_dict(), ensure_ascii=False)
        for value in planted:
            assert value not in text
        for extra in ([], ["--json"]):
            code, out, err = run_cli(["validate", str(path), "--as-of", AS_OF, *extra])
            assert code in (ExitCode.OK, ExitCode.DATA_PROBLEMS, ExitCode.FAILED), (code, err)
            event(f"exit {code}" + (f": {' '.join(err.split()[1:6:4])}…" if code == ExitCode.FAILED else ""))
            assert "Traceback" not in err and "Exception ignored" not in err, err
            for value in planted:
                assert value not in out and value not in err
            if code == ExitCode.FAILED:
                assert err.startswith("Error: ") and "\nHint: " in err


def given_files(strategy: st.SearchStrategy[tuple[str, bytes, list[str]]], suffix: str) -> Callable[[], None]:
    @PROPERTY
    @given(strategy)
    def test(case: tuple[str, bytes, list[str]]) -> None:
        table, data, planted = case
        check_input(table, suffix, data, planted)

    return test


test_random_bytes_as_csv = given_files(random_bytes(), ".csv")
test_random_bytes_as_parquet = given_files(random_bytes(), ".parquet")
test_random_csv_shapes = given_files(csv_files(), ".csv")
test_random_parquet_schemas = given_files(parquet_files(), ".parquet")
