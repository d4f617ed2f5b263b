"""A canonical Parquet file read in record batches (pyarrow.parquet.ParquetFile.iter_batches).

Only the model's columns are read. Text columns are read dictionary-encoded and their decoded size is
checked before anything decodes them, so a small file whose dictionary repeats a long value millions of
times is refused instead of filling memory; nested columns (lists, structs, maps) are refused, as no
model column holds one. Every pyarrow error becomes a SourceFormatError with a hint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.input_guard import GuardedFile, describe_size, open_regular_file
from connectors.read_limits import ReadLimits, iter_capped, too_many_rows
from errors import SourceFormatError
from transforms.masking import printable, shown_name

WHAT = "Parquet file"
CORRUPT_HINT = (
    "write the file again (e.g. pyarrow.parquet.write_table); it is truncated, corrupt or not Parquet"
)


@dataclass
class ParquetSource:
    """A Parquet file as a TableSource (transforms/table_run.py): header(), then batches(positions)."""

    path: Path
    limits: ReadLimits
    _header: list[str] | None = None

    @property
    def label(self) -> str:
        return str(self.path)

    def _open(self) -> GuardedFile:
        return open_regular_file(self.path, what=WHAT, max_bytes=self.limits.max_file_bytes)

    def _file(self, guard: GuardedFile, text_columns: Sequence[str] = ()) -> pq.ParquetFile:
        """The Parquet file read natively (pyarrow's threads never call back into Python)."""
        try:
            return pq.ParquetFile(guard.reopen_path(), read_dictionary=list(text_columns) or None)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise self._error(guard, exc) from None

    def header(self) -> list[str]:
        if self._header is None:
            with self._open() as guard:
                parquet = self._file(guard)
                if parquet.metadata.num_rows > self.limits.max_rows:
                    raise too_many_rows(self.path, WHAT, self.limits.max_rows)
                self._header = list(parquet.schema_arrow.names)
        return self._header

    def batches(self, positions: Sequence[int]) -> Iterator[pa.RecordBatch]:
        header = self.header()
        if not header:
            return
        with self._open() as guard:
            schema = self._file(guard).schema_arrow
            read = list(positions) or [0]  # no column wanted: the first one still counts the rows
            for position in positions:
                self._refuse_nested(schema.field(position), position)
            names = [header[position] for position in read]
            text = [header[position] for position in read if _is_text(schema.field(position).type)]
            parquet = self._file(guard, text)
            batches = parquet.iter_batches(
                batch_size=self.limits.parquet_batch_rows, columns=names, use_threads=False
            )
            for first_row, batch in iter_capped(
                batches,
                path=self.path,
                what=WHAT,
                max_rows=self.limits.max_rows,
                mapped=partial(self._error, guard),
            ):
                guard.raise_if_grown()
                self._check_decoded_size(batch, read, first_row)
                yield batch if positions else batch.select([])

    def _refuse_nested(self, field: pa.Field, position: int) -> None:
        kind = field.type
        if pa.types.is_nested(kind) or (pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type)):
            name = shown_name(field.name, position, ())
            raise SourceFormatError(
                f"{WHAT} {self.path}: column {name!r} holds {printable(str(kind))[:80]} values; "
                "every column of the model holds single values",
                hint="write the column as a plain type (text, number, boolean or timestamp)",
            )

    def _check_decoded_size(self, batch: pa.RecordBatch, positions: Sequence[int], first_row: int) -> None:
        """Refuse a batch whose text would decode to more than the cap (checked before decoding)."""
        for index, position in enumerate(positions):
            column = batch.column(index)
            if pa.types.is_dictionary(column.type) and _is_text(column.type.value_type):
                lengths = pc.binary_length(column.dictionary).cast(pa.int64())
                size = pc.sum(pc.take(lengths, column.indices)).as_py() or 0
            elif _is_text(column.type):
                size = column.nbytes
            else:
                continue
            if size > self.limits.max_batch_text_bytes:
                shown = shown_name(self.header()[position], position, ())
                raise SourceFormatError(
                    f"{WHAT} {self.path}: column {shown!r} holds more than "
                    f"{describe_size(self.limits.max_batch_text_bytes)} of text in rows "
                    f"{first_row:,}-{first_row + batch.num_rows - 1:,} (a long value repeated by a dictionary?)",
                    hint="text cells are capped at 4,000 chars (Power BI); check how the file was written",
                )

    def _error(self, guard: GuardedFile, exc: BaseException) -> SourceFormatError:
        refusal = guard.refusal()
        if refusal is not None:
            return refusal
        text = str(exc).lower()
        if "magic" in text or "size" in text and "footer" in text:
            reason = "it is not a Parquet file, or it is truncated (no Parquet footer)"
        elif "utf8" in text or "utf-8" in text:
            reason = "a text column holds bytes that are not UTF-8"
        elif "memory" in text or "capacity" in text or "overflow" in text:
            reason = "a column is too large to read"
        else:
            reason = "it is corrupt or uses a feature pyarrow cannot read"
        return SourceFormatError(
            f"{WHAT} {self.path} cannot be read: {reason} ({type(exc).__name__})", hint=CORRUPT_HINT
        )


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )
