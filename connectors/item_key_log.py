"""The item keys a sync reads (item id -> canonical key), kept on disk instead of in a dict of every item.

A full read of a list of a million items meets a million keys; the commit records them all in the sync
state (connectors/sync_state.py, `pending_item_keys`). Held as a Python dict they cost about 200 bytes an
item; here a page's keys are buffered as two Arrow string arrays and written, `buffer_rows` at a time, as
Arrow IPC files (one batch each) in a private temporary folder. Iterating reads the file back a batch at a time,
so memory is bounded by the buffer, not by the list.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

BUFFER_ROWS = 65_536  # keys held in memory before they are appended to the file
SCHEMA = pa.schema([pa.field("item_id", pa.string()), pa.field("canonical_key", pa.string())])


class ItemKeyLog:
    """`with ItemKeyLog(folder) as log:` add a page's keys with `add`; iterate for (item id, key) pairs in
    the order added (a later pair for an id supersedes an earlier one when the state applies them)."""

    def __init__(self, folder: Path, *, buffer_rows: int | None = None) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._folder = Path(tempfile.mkdtemp(dir=folder, prefix=".spill-item-keys-"))
        self._segments: list[Path] = []
        self._buffer_rows = buffer_rows or BUFFER_ROWS
        self._ids: list[pa.Array] = []
        self._keys: list[pa.Array] = []
        self.buffered = 0  # pairs in memory now
        self.count = 0  # pairs added in all

    def add(self, keys: Mapping[str, str]) -> None:
        """A page's item id -> key pairs."""
        if not keys:
            return
        self._ids.append(pa.array(list(keys), pa.string()))
        self._keys.append(pa.array(list(keys.values()), pa.string()))
        self.buffered += len(keys)
        self.count += len(keys)
        if self.buffered >= self._buffer_rows:
            self._flush()

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for batch in self._batches():
            yield from zip(batch.column(0).to_pylist(), batch.column(1).to_pylist(), strict=True)

    def __len__(self) -> int:
        return self.count

    def keys_among(self, values: Collection[Any]) -> set[Any]:
        """Which of `values` (canonical keys) were read: a small set (the quarantined items) checked
        against every key added, a batch at a time."""
        if not values:
            return set()
        wanted = pa.array(list(values), pa.string())
        found: set[Any] = set()
        for batch in self._batches():
            keys = batch.column(1)
            found.update(keys.filter(pc.is_in(keys, value_set=wanted)).to_pylist())
        return found

    def close(self) -> None:
        self._ids, self._keys, self.buffered = [], [], 0
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> ItemKeyLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _flush(self) -> None:
        if not self.buffered:
            return
        batch = pa.record_batch([pa.concat_arrays(self._ids), pa.concat_arrays(self._keys)], schema=SCHEMA)
        path = self._folder / f"keys-{len(self._segments):06d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, SCHEMA) as writer:
            writer.write_batch(batch)
        self._segments.append(path)
        self._ids, self._keys, self.buffered = [], [], 0

    def _batches(self) -> Iterator[pa.RecordBatch]:
        self._flush()
        for path in self._segments:
            with pa.OSFile(str(path), "rb") as source:
                reader = pa.ipc.open_file(source)
                for index in range(reader.num_record_batches):
                    yield reader.get_batch(index)
