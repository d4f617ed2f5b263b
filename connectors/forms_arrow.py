"""The first worksheet as Arrow columns from native code (fastexcel), when they equal python-calamine's cells.

python-calamine hands over a Python object per cell (2.5 million for 100,000 responses of 20 questions),
which cost more than parsing the XML. fastexcel runs the same Rust calamine and returns Arrow columns.
Its cells are only used where they are provably the ones the cell-by-cell reader would get; anything
else returns None and the reader goes the python-calamine way (`connectors/forms_sources.py`):

- the header is row 1 from column A (the stream reader reads it, with its calamine-equal cell model);
- each column read is of one kind: text, numbers or booleans become text by the reader's rules
  (`forms_rows.cell_text`), date-times stay date-times for the time columns only and must be real
  dates (from 1900-03-01: earlier serials are Excel's phantom days and bare times of day);
- columns whose values are not used (questions the mapping ignores, values past the header) are read as
  text, only to find blank rows and values past the header.

The guard (`connectors/forms_guard.py`) has run before this is called; fastexcel reads the bytes the
guard checked, from memory, and never evaluates a formula (cached values only, as calamine).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias
from xml.etree.ElementTree import ParseError

import fastexcel
import pyarrow as pa
import pyarrow.compute as pc
from fastexcel import DType
from fastexcel._fastexcel import ColumnInfoNoDtype

from connectors.forms_layout import Layout
from connectors.forms_rows import numbers_as_text
from connectors.forms_sources import Cell
from connectors.forms_stream import first_sheet_row
from errors import SourceFormatError

TEXT_KINDS = frozenset({"string", "float", "int", "boolean", "null"})
TIME_CELL_KINDS = frozenset({"string", "float", "int", "boolean", "null"})  # handed on as Python cells
FIRST_REAL_DATE = dt.datetime(1900, 3, 1)  # before it, calamine's date-times are phantom days or times of day
# "Could not determine dtype for column N, falling back to string": an empty column, said as a warning
logging.getLogger("fastexcel").setLevel(logging.ERROR)

Column: TypeAlias = Sequence[Cell] | pa.Array


@dataclass(frozen=True)
class ArrowRows:
    """The responses under the header: row numbers, one column per header column, ragged rows."""

    numbers: list[int]
    columns: list[Column]  # text arrays, timestamp arrays (time columns) or cells; () for columns not used
    ragged: list[tuple[int, int]]  # (row number, fields in the row) for values past the header
    width: int  # the sheet's width, as python-calamine pads each row to


def read_header(data: bytes, source: str, *, date1904: bool) -> list[Cell] | None:
    """The header's cells when it is row 1 from column A (the layout the fast path needs), else None."""
    try:
        first = first_sheet_row(data, source, date1904=date1904)
    except (SourceFormatError, ParseError):
        return None  # python-calamine will say what is wrong, as it always has
    if first is None or first[0] != 1 or first[1] != 0 or all(cell == "" for cell in first[2]):
        return None
    return first[2]


def read_columns(
    data: bytes, layout: Layout, wanted: frozenset[int], times: frozenset[int]
) -> ArrowRows | None:
    """The sheet's rows as columns, or None when they might differ from python-calamine's cells.

    `wanted` are the 0-based header columns whose values are used (as text), `times` those read as
    date-times. They and any columns past the header are turned into Arrow; the other columns only
    when a row is empty in all of those, to tell a blank row from one with answers elsewhere.
    """
    used = wanted | times
    loaded = _load(data, lambda index: index in used or index >= layout.width, {})
    if loaded is None:
        return None
    infos, selected, batch = loaded
    if (
        not infos
        or len(infos) < layout.width
        or any(info.absolute_index != index for index, info in enumerate(infos))
    ):
        return None  # the sheet does not start in column A: the header would not line up
    at = {info.index: position for position, info in enumerate(selected)}
    columns: list[Column] = []
    for index in range(layout.width):
        if index in times:
            column = _time_column(batch.column(at[index]), selected[at[index]].dtype)
        elif index in wanted:
            column = _text_column(batch.column(at[index]), selected[at[index]].dtype)
        else:
            column = ()
        if column is None:
            return None
        columns.append(column)
    blank = _blank(batch.columns)
    others = [index for index in range(layout.width) if index not in used]
    if others and pc.any(blank).as_py():  # rare: read the other columns too, as text, to be sure
        rest = _load(data, lambda index: index in others, {index: "string" for index in others})
        if rest is None:
            return None
        blank = pc.and_(blank, _blank(rest[2].columns))
    ragged = _past_header([batch.column(at[i]) for i in range(layout.width, len(infos))], len(blank))
    keep = pc.invert(blank)
    numbers = pc.add(pc.indices_nonzero(keep), 2).to_pylist()  # the header is row 1
    ragged_rows = [(number, len(infos)) for number in pc.add(pc.indices_nonzero(ragged), 2).to_pylist()]
    kept = [column if isinstance(column, tuple) else _filter(column, keep) for column in columns]
    return ArrowRows(numbers, kept, ragged_rows, len(infos))


def _load(
    data: bytes, chosen: Callable[[int], bool], dtypes: dict[str | int, DType]
) -> tuple[list[ColumnInfoNoDtype], list[fastexcel.ColumnInfo], pa.RecordBatch] | None:
    """The first sheet, header at its first row, only the chosen columns (by 0-based index) as Arrow.

    Every column's kind is taken from all its cells, and a column of more than one kind is an error
    (None): fastexcel would otherwise coerce cells to the kind its sample saw.
    """
    every: dict[int, ColumnInfoNoDtype] = {}  # available_columns() would type the unchosen ones too

    def choose(info: ColumnInfoNoDtype) -> bool:
        every[info.index] = info
        return chosen(info.index)

    try:
        sheet = fastexcel.read_excel(data).load_sheet(
            0,
            header_row=0,
            schema_sample_rows=None,
            dtype_coercion="strict",
            use_columns=choose,
            dtypes=dtypes or None,
        )
        batch = sheet.to_arrow()
        return [every[index] for index in sorted(every)], sheet.selected_columns, batch
    except fastexcel.FastExcelError:  # a column of mixed kinds, a cell calamine cannot read: the cell way
        return None


def _text_column(array: pa.Array, kind: str) -> pa.Array | None:
    """A column as the reader's text: cell_text's rules, vectorised (tests compare them cell by cell)."""
    if kind not in TEXT_KINDS:
        return None  # date-times, dates, durations as answers: rare, and python-calamine's types differ
    if kind == "string":
        return array
    if kind == "null":
        return pa.nulls(len(array), pa.string())
    if kind == "boolean":
        return pc.if_else(array, "TRUE", "FALSE")
    return numbers_as_text(array)


def _time_column(array: pa.Array, kind: str) -> Column | None:
    """Date-times as naive timestamps (all real dates), or any other kind as the Python cells it holds."""
    if kind == "datetime":
        earliest = pc.min(array).as_py()
        if earliest is not None and earliest < FIRST_REAL_DATE:
            return None
        return array
    if kind in TIME_CELL_KINDS:
        cells: list[Cell] = array.to_pylist()  # text, serial numbers: parsed cell by cell, as always
        return cells
    return None


def _blank(columns: Sequence[pa.Array]) -> pa.BooleanArray:
    """Rows whose every cell is empty or empty text (python-calamine's "" and fastexcel's null alike)."""
    blank = pa.array([True] * (len(columns[0]) if columns else 0), pa.bool_())
    for array in columns:
        blank = pc.and_(blank, _empty(array))
    return blank


def _past_header(columns: Sequence[pa.Array], rows: int) -> pa.BooleanArray:
    past = pa.array([False] * rows, pa.bool_())
    for array in columns:
        past = pc.or_(past, pc.invert(_empty(array)))
    return past


def _empty(array: pa.Array) -> pa.BooleanArray:
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return pc.fill_null(pc.equal(array, ""), True)
    return pc.is_null(array)


def _filter(column: Column, keep: pa.BooleanArray) -> Column:
    if isinstance(column, pa.Array):
        return column.filter(keep)
    cells: list[Cell] = [cell for cell, kept in zip(column, keep.to_pylist(), strict=True) if kept]
    return cells
