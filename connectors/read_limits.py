"""The limits every table reader applies, with their defaults (docs/cli.md#cetk-validate lists them)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.input_guard import GIB, MIB
from errors import SourceFormatError

if TYPE_CHECKING:  # the CLI reads the defaults at start-up; pyarrow loads with the first read
    import pyarrow as pa


@dataclass(frozen=True)
class ReadLimits:
    """Caps on one input file; a file beyond one is refused with a SourceFormatError naming the cap."""

    max_file_bytes: int = 4 * GIB  # ten million CCRs are about 2 GiB of CSV (docs/performance.md)
    max_rows: int = 20_000_000  # per table; cross-batch checks keep 17 bytes per row and key column
    # one CSV read block: the longest row accepted (a model row is at most ~1.2 MB) and, with pyarrow's
    # read-ahead, what sets the memory of a read: 2 MiB cost ~3% more time than 8 MiB and ~200 MiB less
    block_bytes: int = 2 * MIB
    parquet_batch_rows: int = 65_536
    max_batch_text_bytes: int = 512 * MIB  # one Parquet column's decoded text in one batch

    def __post_init__(self) -> None:
        for name in (
            "max_file_bytes",
            "max_rows",
            "block_bytes",
            "parquet_batch_rows",
            "max_batch_text_bytes",
        ):
            if getattr(self, name) < 1:
                raise SourceFormatError(f"the read limit {name} must be at least 1", hint="raise the limit")


DEFAULT_LIMITS = ReadLimits()
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B)?\s*", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """A size in bytes from `500MiB`, `4GiB`, `4G`, `1.5GB` or `1000000` (units are binary)."""
    match = _SIZE.fullmatch(text)
    if match is None or float(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a size such as 500MiB or 4GiB")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def iter_capped(
    batches: Iterator[pa.RecordBatch],
    *,
    path: Path,
    what: str,
    max_rows: int,
    mapped: Callable[[BaseException], SourceFormatError],
) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Each batch with the number of rows before it; a reader error becomes `mapped(error)` and a file
    with more than `max_rows` rows is refused as soon as a batch passes the cap."""
    import pyarrow as pa

    rows = 0
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, UnicodeDecodeError, OSError, ValueError) as exc:
            raise mapped(exc) from None
        if rows + batch.num_rows > max_rows:
            raise too_many_rows(path, what, max_rows)
        yield rows, batch
        rows += batch.num_rows


def too_many_rows(path: Path, what: str, max_rows: int) -> SourceFormatError:
    return SourceFormatError(
        f"{what} {path} has more than {max_rows:,} rows, the limit",
        hint="split the file, or raise the limit (cetk validate --max-rows) if it is expected",
    )
