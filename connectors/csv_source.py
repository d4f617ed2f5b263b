"""A canonical CSV read in record batches (pyarrow.csv.open_csv): every column as text, empty = null.

The header is read first (one block, no values converted); the rows are then read with generated
column names and only the columns asked for, so repeated or odd header names never reach pyarrow's
column selection. Memory per batch is bounded by the block size, which is also the longest row accepted.
Every pyarrow error becomes a SourceFormatError naming the file, the row and the column, never the text
Arrow quotes from the row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from connectors.input_guard import GuardedFile, describe_size, open_regular_file
from connectors.read_limits import ReadLimits, too_many_rows
from errors import SourceFormatError
from transforms.masking import shown_name

WHAT = "CSV file"
UTF8_HINT = "save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)')"
_ROW = re.compile(r"Row #(\d+)")
_COLUMN = re.compile(r"column #(\d+)")


@dataclass
class CsvSource:
    """A CSV file as a TableSource (transforms/table_run.py): header(), then batches(positions)."""

    path: Path
    limits: ReadLimits
    _header: list[str] | None = None

    @property
    def label(self) -> str:
        return str(self.path)

    def _open(self) -> GuardedFile:
        return open_regular_file(self.path, what=WHAT, max_bytes=self.limits.max_file_bytes, text=True)

    def _read_options(self, **names: object) -> pa_csv.ReadOptions:
        # Single-threaded: Arrow numbers rows (for the messages) only then; the streaming reader is
        # serial anyway (docs/performance.md compares both).
        return pa_csv.ReadOptions(block_size=self.limits.block_bytes, use_threads=False, **names)

    def header(self) -> list[str]:
        """The first row's cells, exactly as written (no value of the file is converted)."""
        if self._header is None:
            with self._open() as guard:
                try:
                    reader = pa_csv.open_csv(
                        guard,
                        read_options=self._read_options(),
                        # rows are not read here: a ragged one is reported by batches()
                        parse_options=pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=_skip),
                        convert_options=pa_csv.ConvertOptions(check_utf8=False),
                    )
                    self._header = list(reader.schema.names)
                except (pa.ArrowException, UnicodeDecodeError, OSError) as exc:
                    raise self._header_error(guard, exc) from None
            guard.raise_if_refused()  # a NUL byte in the first block
        return self._header

    def batches(self, positions: Sequence[int]) -> Iterator[pa.RecordBatch]:
        header = self.header()
        generated = [f"c{index}" for index in range(len(header))]
        wanted = [generated[position] for position in positions] or generated[:1]  # rows still counted
        invalid: list[pa_csv.InvalidRow] = []

        def note(row: pa_csv.InvalidRow) -> str:
            invalid.append(row)
            return "error"

        convert = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in wanted},
            include_columns=wanted,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        )
        parse = pa_csv.ParseOptions(newlines_in_values=True, invalid_row_handler=note)
        options = self._read_options(column_names=generated, skip_rows_after_names=1)
        with self._open() as guard:
            try:
                reader = pa_csv.open_csv(
                    guard, read_options=options, parse_options=parse, convert_options=convert
                )
            except (pa.ArrowException, UnicodeDecodeError, OSError) as exc:
                raise self._rows_error(guard, exc, invalid) from None
            rows = 0
            while True:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                except (pa.ArrowException, UnicodeDecodeError, OSError) as exc:
                    raise self._rows_error(guard, exc, invalid) from None
                rows += batch.num_rows
                if rows > self.limits.max_rows:
                    raise too_many_rows(self.path, WHAT, self.limits.max_rows)
                yield batch if positions else batch.select([])
        guard.raise_if_refused()

    def _header_error(self, guard: GuardedFile, exc: BaseException) -> SourceFormatError:
        refusal = guard.refusal()
        if refusal is not None:
            return refusal
        text = str(exc)
        if isinstance(exc, UnicodeDecodeError) or "UTF8" in text:
            return SourceFormatError(f"the header of {WHAT} {self.path} is not UTF-8 text", hint=UTF8_HINT)
        if "Empty CSV" in text:
            return SourceFormatError(f"{WHAT} {self.path} is empty", hint="a CSV starts with a header row")
        if "straddl" in text:  # the header or a row of the first block is longer than a block
            return self._row_too_long()
        return SourceFormatError(f"the header of {WHAT} {self.path} cannot be read ({type(exc).__name__})")

    def _row_too_long(self) -> SourceFormatError:
        return SourceFormatError(
            f"{WHAT} {self.path} has a row longer than {describe_size(self.limits.block_bytes)}, "
            "far beyond any column's limit",
            hint="text cells are capped at 4,000 chars (Power BI); find and shorten the oversized cell",
        )

    def _rows_error(
        self, guard: GuardedFile, exc: BaseException, invalid: list[pa_csv.InvalidRow]
    ) -> SourceFormatError:
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
        if invalid and invalid[0].number is not None:
            bad = invalid[0]
            fields = f"{bad.actual_columns} field{'' if bad.actual_columns == 1 else 's'}"
            return SourceFormatError(
                f"{WHAT} {self.path}: row {bad.number} (the header is row 1) has {fields}, "
                f"the header has {bad.expected_columns}",
                hint="quote fields that hold commas or line breaks, and give every row the header's columns",
            )
        at = f" at row {row.group(1)}" if row else ""
        return SourceFormatError(
            f"{WHAT} {self.path} cannot be parsed{at} ({type(exc).__name__})",
            hint="check the file is RFC 4180 CSV: comma-separated, quoted fields with doubled quotes",
        )


def _skip(row: pa_csv.InvalidRow) -> str:
    return "skip"
