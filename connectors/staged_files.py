"""The staged tables publish reads: `<staging_dir>/<table>.parquet`, one file per canonical table (docs/sync.md).

A table with no file is not staged (publish leaves what Power BI holds for it as it is); a file that is not
Parquet is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from errors import SourceFormatError

STAGED_SUFFIX = ".parquet"


def read_staged(staging_dir: Path, tables: Collection[str]) -> dict[str, pa.Table]:
    """The staged Parquet file of each named table that has one."""
    staged: dict[str, pa.Table] = {}
    for name in tables:
        path = staging_dir / f"{name}{STAGED_SUFFIX}"
        if not path.is_file():
            continue
        try:
            staged[name] = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise SourceFormatError(
                f"staged file {path} cannot be read as Parquet ({type(exc).__name__})",
                hint="run the sync again to stage it (cetk writes staged files whole, so this one was changed)",
            ) from None
    return staged
