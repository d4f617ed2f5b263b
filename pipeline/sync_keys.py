"""What one list's sync remembers of the items it reads, bounded by the page and the quarantine, not the list.

The commit needs every item key read (the list's key map, for lookups into it on later runs): those go to
an ItemKeyLog on disk. A deleted item's key comes from the committed key map, queried for that page's
deleted ids only (not the whole map loaded up front). The quarantine re-check needs to know which of its
held items were read or deleted this run: the held items are few, so they are looked for in the log.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from connectors.item_key_log import ItemKeyLog
from connectors.sync_state import SyncState
from transforms.normalise import NormalisedPage


class RunKeys:
    """`with RunKeys(state, list_id, spill_folder) as keys:` `keys.page(normalised)` for each page read."""

    def __init__(self, state: SyncState, list_id: str, spill_folder: Path) -> None:
        self._state = state
        self._list_id = list_id
        self.read = ItemKeyLog(spill_folder)  # item id -> key of every item read this run
        self.deleted_ids: list[str] = []  # bounded by the deletions, not the list
        self._deleted_keys: set[str] = set()

    def page(self, normalised: NormalisedPage) -> list[str]:
        """Record a page's keys and deletions; returns the deleted items' committed keys."""
        self.read.add(normalised.item_keys)
        deleted: Sequence[str] = normalised.deleted_item_ids
        self.deleted_ids.extend(deleted)
        known = self._state.item_keys_of(self._list_id, deleted) if deleted else {}
        keys = [known[item] for item in deleted if item in known]
        self._deleted_keys.update(keys)
        return keys

    def read_or_deleted(self, candidates: Collection[Any]) -> set[Any]:
        """Which of `candidates` (item keys, e.g. the quarantined items) were read or deleted this run."""
        wanted = set(candidates)
        return self.read.keys_among(wanted) | (wanted & self._deleted_keys)

    def close(self) -> None:
        self.read.close()

    def __enter__(self) -> RunKeys:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
