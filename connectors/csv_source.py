"""A canonical CSV read in record batches (pyarrow.csv.open_csv): every column as text, empty = null.

The header record is cut from the first block's bytes (quotes respected) and only it is tokenised, so
no data row is parsed or converted to learn the column names. The rows are then read with generated
column names and only the columns asked for, so repeated or odd header names never reach pyarrow's
column selection. Memory per batch is bounded by the block size, which is also the longest row accepted.
No Python callback runs inside pyarrow (its invalid-row handler decodes the row as UTF-8 first, and an
undecodable row printed "Exception ignored"); every pyarrow error becomes a SourceFormatError naming
the file, the row and the column, never the text Arrow quotes from the row.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from connectors.input_guard import GuardedFile, describe_size, open_regular_file
from connectors.read_limits import ReadLimits, iter_capped
from errors import SourceFormatError
from transforms.masking import shown_name

WHAT = "CSV file"
NUL_HINT = "a CSV is UTF-8 text: re-export it as 'CSV UTF-8' (a NUL byte means UTF-16 or a binary file)"
UTF8_HINT = "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)')"
PARSE = pa_csv.ParseOptions(newlines_in_values=True)  # RFC 4180: quoted fields may hold line breaks
_ROW = re.compile(r"Row #(\d+)")
_COLUMN = re.compile(r"column #(\d+)")
_RAGGED = re.compile(r"Row #(\d+): Expected (\d+) columns, got (\d+)")
_QUOTE_OR_NEWLINE = re.compile(rb'["\r\n]')
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_EMPTY_LINES = re.compile(rb"(?:\r\n|\r|\n)+")


def first_nul(values: pa.Array) -> int | None:
    """The index of the first value holding a NUL byte, read straight from the string buffers."""
    if not len(values) or not pa.types.is_string(values.type):
        return None
    _validity, offsets_buffer, data = values.buffers()
    if data is None:
        return None
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[values.offset : values.offset + len(values) + 1]
    text = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    if np.count_nonzero(text) == len(text):
        return None
    at = offsets[0] + int(np.argmin(text))  # the first zero byte
    return int(np.searchsorted(offsets, at, side="right")) - 1


def header_record(head: bytes) -> tuple[bytes | None, int]:
    """The first record of a CSV (without its line break), or None when it does not end within `head`;
    and the number of empty lines before it (pyarrow skips them when reading names, but counts them as
    rows to skip after names). A line break inside quotes is part of a name."""
    if head.startswith(codecs.BOM_UTF8):
        head = head[len(codecs.BOM_UTF8) :]
    blank = _EMPTY_LINES.match(head)
    empty_lines = len(_LINE_BREAK.findall(blank.group())) if blank else 0
    head = head[blank.end() :] if blank else head
    quoted = False
    for match in _QUOTE_OR_NEWLINE.finditer(head):
        if match.group() == b'"':
            quoted = not quoted
        elif not quoted:
            return head[: match.start()], empty_lines
    return None, empty_lines


@dataclass
class CsvSource:
    """A CSV file as a TableSource (transforms/table_run.py): header(), then batches(positions)."""

    path: Path
    limits: ReadLimits
    _header: list[str] | None = None
    _empty_lines: int = 0  # before the header
    _header_only: bool = False  # the file ends within its header record: no rows

    @property
    def label(self) -> str:
        return str(self.path)

    def _open(self) -> GuardedFile:
        return open_regular_file(self.path, what=WHAT, max_bytes=self.limits.max_file_bytes, text=True)

    def header(self) -> list[str]:
        """The first record's cells, exactly as written."""
        if self._header is not None:
            return self._header
        with self._open() as guard:
            head = guard.read(self.limits.block_bytes) or b""
            ended = guard.read(1) == b""
        guard.raise_if_refused()  # a NUL byte in the first block
        record, self._empty_lines = header_record(head)
        if record is None and not ended:
            raise self._row_too_long()
        self._header_only = record is None  # pyarrow cannot skip a header with no line break after it
        try:
            names = (head if record is None else record) + b"\n"
            whole = pa_csv.ReadOptions(block_size=len(names) + 1)  # the header is one block, however wide
            reader = pa_csv.open_csv(io.BytesIO(names), read_options=whole, parse_options=PARSE)
            self._header = list(reader.schema.names)
        except UnicodeDecodeError:
            raise SourceFormatError(
                f"the header of {WHAT} {self.path} is not UTF-8 text", hint=UTF8_HINT
            ) from None
        except pa.ArrowException as exc:
            if "Empty CSV" in str(exc):
                raise SourceFormatError(
                    f"{WHAT} {self.path} is empty", hint="a CSV starts with a header row"
                ) from None
            raise SourceFormatError(
                f"the header of {WHAT} {self.path} cannot be read ({type(exc).__name__})"
            ) from None
        return self._header

    def batches(self, positions: Sequence[int]) -> Iterator[pa.RecordBatch]:
        header = self.header()
        if self._header_only:
            return
        generated = [f"c{index}" for index in range(len(header))]
        wanted = [generated[position] for position in positions] or generated[:1]  # rows still counted
        convert = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in wanted},
            include_columns=wanted,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        # Single-threaded: Arrow numbers rows (for the messages) only then; the streaming reader is
        # serial anyway (docs/performance.md compares both).
        options = pa_csv.ReadOptions(
            block_size=self.limits.block_bytes,
            use_threads=False,
            column_names=generated,
            skip_rows_after_names=1 + self._empty_lines,
        )
        with self._open() as guard, pa.OSFile(guard.reopen_path()) as native:
            try:
                reader = pa_csv.open_csv(
                    native, read_options=options, parse_options=PARSE, convert_options=convert
                )
            except (pa.ArrowException, UnicodeDecodeError, OSError) as exc:
                raise self._rows_error(guard, exc) from None
            for first_row, batch in iter_capped(
                iter(reader),
                path=self.path,
                what=WHAT,
                max_rows=self.limits.max_rows,
                mapped=partial(self._rows_error, guard),
            ):
                guard.raise_if_grown()
                self._refuse_nul(batch, first_row, [header[position] for position in positions])
                yield batch if positions else batch.select([])

    def _refuse_nul(self, batch: pa.RecordBatch, first_row: int, names: Sequence[str]) -> None:
        """A NUL byte in a value read (a text file has none: UTF-16, or binary); the header's first block
        was checked byte by byte."""
        for index, name in enumerate(names):
            row = first_nul(batch.column(index))
            if row is not None:
                column = shown_name(name, self.header().index(name), ())
                raise SourceFormatError(
                    f"{WHAT} {self.path} holds a NUL byte (row {first_row + row + 2:,}, column {column!r}): "
                    "it is not text",
                    hint=NUL_HINT,
                )

    def _row_too_long(self) -> SourceFormatError:
        return SourceFormatError(
            f"{WHAT} {self.path} has a row longer than {describe_size(self.limits.block_bytes)}, "
            "far beyond any column's limit",
            hint="text cells are capped at 4,000 chars (Power BI); find and shorten the oversized cell",
        )

    def _rows_error(self, guard: GuardedFile, exc: BaseException) -> SourceFormatError:
        """The reader's error without the row text Arrow quotes (it may hold personal data)."""
        refusal = guard.refusal()
        if refusal is not None:
            return refusal
        text = str(exc).splitlines()[0] if str(exc) else ""
        row = _ROW.search(text)
        if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text:
            where = [f"row {row.group(1)}"] if row else []
            column = _COLUMN.search(text)
            header = self.header()
            if column and int(column.group(1)) < len(header):
                position = int(column.group(1))
                where.append(f"column {shown_name(header[position], position, ())!r}")
            detail = f" ({', '.join(where)})" if where else ""
            return SourceFormatError(f"{WHAT} {self.path} is not UTF-8 text{detail}", hint=UTF8_HINT)
        if "straddl" in text:  # one row is bigger than a read block
            return self._row_too_long()
        ragged = _RAGGED.search(text)
        if ragged:
            number, expected, actual = ragged.groups()
            fields = f"{actual} field{'' if actual == '1' else 's'}"
            return SourceFormatError(
                f"{WHAT} {self.path}: row {number} (the header is row 1) has {fields}, the header has {expected}",
                hint="quote fields that hold commas or line breaks, and give every row the header's columns",
            )
        at = f" at row {row.group(1)}" if row else ""
        return SourceFormatError(
            f"{WHAT} {self.path} cannot be parsed{at} ({type(exc).__name__})",
            hint="check the file is RFC 4180 CSV: comma-separated, quoted fields with doubled quotes",
        )
