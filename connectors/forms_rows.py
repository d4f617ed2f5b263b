"""Rows of an export into column batches, and spreadsheet cells into text (the answers are text)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.forms_sources import Cell

WHOLE_NUMBER_LIMIT = 2.0**53  # whole floats below this are written without ".0"
REPR_SMALL, REPR_LARGE = 1e-4, 1e15  # outside these, Arrow's float text can differ from repr's
OPTIONS_TYPE = pa.list_(pa.string())


@dataclass(frozen=True)
class Batch:
    numbers: list[int]  # row numbers in the file
    columns: Sequence[Sequence[Cell] | pa.Array]  # per header column: its cells, or Arrow (forms_arrow)


def iter_batches(
    rows: Iterator[tuple[int, list[Cell]]],
    width: int,
    size: int,
    on_ragged: Callable[[int, int], None],
    *,
    strict_width: bool,
) -> Iterator[Batch]:
    """Rows padded or cut to the header's width, blank rows left out, transposed into column batches.

    `on_ragged(row_number, field_count)` hears of a row with values past the header (and, with
    `strict_width`, as in CSV, of a row with fewer fields than the header).
    """
    numbers: list[int] = []
    kept: list[list[Cell]] = []
    for number, cells in rows:
        if not any(cells) and cells.count("") + cells.count(None) == len(cells):  # a truthy cell is not blank
            continue
        if len(cells) != width:
            extra = cells[width:]
            if (strict_width and len(cells) < width) or extra.count("") + extra.count(None) != len(extra):
                on_ragged(number, len(cells))
            cells = cells[:width] + [None] * (width - len(cells))
        numbers.append(number)
        kept.append(cells)
        if len(kept) >= size:
            yield Batch(numbers, list(zip(*kept, strict=True)))
            numbers, kept = [], []
    if kept:
        yield Batch(numbers, list(zip(*kept, strict=True)))


def text_array(cells: Sequence[Cell] | pa.Array) -> pa.Array:
    """Cells as text: all-text and all-number columns stay vectorised, mixed ones go cell by cell.

    An Arrow array is already text (connectors/forms_arrow.py made it by these rules) and is kept.
    """
    if isinstance(cells, pa.Array):
        return cells
    try:
        return pa.array(cells, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    present = [None if cell == "" else cell for cell in cells]
    try:
        inferred = pa.array(present)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([cell_text(cell) for cell in cells], pa.string())
    if pa.types.is_integer(inferred.type) or pa.types.is_floating(inferred.type):
        return numbers_as_text(inferred)
    return pa.array([cell_text(cell) for cell in cells], pa.string())


def numbers_as_text(numbers: pa.Array) -> pa.StringArray:
    """An integer or floating-point array as cell_text writes numbers: whole ones without '.0'."""
    if pa.types.is_integer(numbers.type):
        return pc.cast(numbers, pa.string())
    whole = pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), WHOLE_NUMBER_LIMIT))
    as_integer = pc.cast(pc.if_else(whole, numbers, 0.0), pa.int64())
    texts = pc.if_else(whole, pc.cast(as_integer, pa.string()), pc.cast(numbers, pa.string()))
    # Arrow and Python's repr agree on the shortest digits but not on when to write an exponent: Python
    # writes one below 1e-4 and from 1e16, Arrow from 1e-7 and 1e15. The few numbers there get repr.
    size = pc.abs(numbers)
    apart = pc.and_(pc.invert(whole), pc.or_(pc.less(size, REPR_SMALL), pc.greater_equal(size, REPR_LARGE)))
    apart = pc.and_(apart, pc.not_equal(size, 0.0))
    if not pc.any(apart).as_py():
        return texts
    written = [repr(number) for number in numbers.filter(apart).to_pylist()]
    return pc.replace_with_mask(texts, apart, pa.array(written, pa.string()))


def cell_text(cell: Cell) -> str | None:
    """A non-text cell as text: whole numbers without '.0', dates and times in ISO 8601."""
    if cell is None or isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() and abs(cell) < WHOLE_NUMBER_LIMIT else repr(cell)
    if isinstance(cell, dt.datetime | dt.date | dt.time):
        return cell.isoformat()
    return str(cell)


def trimmed_texts(cells: Sequence[Cell] | pa.Array) -> pa.StringArray:
    """trimmed_text of every cell, vectorised (Arrow's Unicode whitespace is str.strip's: tested)."""
    trimmed = pc.utf8_trim_whitespace(text_array(cells))
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def trimmed_text(cell: Cell) -> str | None:
    text = cell if type(cell) is str else cell_text(cell)
    return (text.strip() or None) if text is not None else None


def empty_as_null(array: pa.StringArray) -> pa.StringArray:
    """Empty strings as nulls, sharing the text buffers (a new validity bitmap is all that is built)."""
    empty = pc.fill_null(pc.equal(array, ""), False)
    if not pc.any(empty).as_py():
        return array
    if array.offset:  # a slice: a fresh bitmap would not line up with its buffers
        return pc.if_else(empty, pa.scalar(None, pa.string()), array)
    present = pc.and_(pc.is_valid(array), pc.invert(empty))
    _, offsets, text = array.buffers()
    return pa.StringArray.from_buffers(len(array), offsets, text, null_bitmap=present.buffers()[1])


def split_options(answers: pa.StringArray) -> pa.ListArray:
    """Checkbox answers (`A;B;`) as lists of options, trimmed, empty options dropped; vectorised."""
    parts = pc.split_pattern(answers, pattern=";")
    options = pc.utf8_trim_whitespace(parts.flatten())
    keep = pc.not_equal(options, "")
    owners = pc.list_parent_indices(parts).filter(keep).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(np.bincount(owners, minlength=len(answers)))]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), options.filter(keep), mask=pc.is_null(answers))
