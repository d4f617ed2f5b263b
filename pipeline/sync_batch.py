"""Consecutive pages of one list gathered for one normalise call (pipeline/sync_list.py).

    batches = PageBatches(BATCH_ITEMS)
    for content in pages: for batch in batches.add(content): normalise and stage batch.content
    for batch in batches.flush(): ...                      # the last pages, after the read

Normalising, validating and staging cost a fixed amount per call besides the amount per item (the
scrubber's regular expressions are compiled on every call, validation and the staged writers have their
own per-call work), so a 5,000-item Graph page a call leaves a quarter of the transform stage's time on
the table (docs/performance.md, "Sync transform stage").

Only pages that cannot be read differently together than one by one are gathered: pages decoded into
Arrow, with no deletion, each item there once in the whole batch. A page with a deletion, an item already
in the batch (a delta repeats an item changed twice), an id missing, or read as dicts ends the batch
before it and is normalised alone, exactly as page by page: the latest version of an item and a deletion
win as they did, an error names the item's place in its own page, and dict pages (some 300,000 Python
objects each) are never held together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow.compute as pc

from transforms.normalise import NormalisedPage
from transforms.page_read import ArrowItems, combine, plain_ids

__all__ = ["BATCH_ITEMS", "Batch", "Content", "PageBatches", "normalise_batch"]

# Items a normalise call gathers at most: two Graph pages of 5,000 (connectors.graph_lists GRAPH_PAGE_SIZE).
# Measured (docs/performance.md, "Pages normalised together"): the transform stage goes from 50,500 to
# 54,300 items/s (medians) at two pages a call, 62,400 at four; but a sync's peak RSS grows with the batch
# (332, 349 and 442 MB at one, two and four pages, 200,000 items) and the target is 400 MB.
BATCH_ITEMS = 10_000
Content = list[dict[str, Any]] | ArrowItems


@dataclass(frozen=True)
class Batch:
    """Pages to normalise in one call, as one (`content`) and as they came (`parts`)."""

    parts: tuple[Content, ...]

    @property
    def content(self) -> Content:
        if len(self.parts) == 1:
            return self.parts[0]
        return combine([part for part in self.parts if isinstance(part, ArrowItems)])


class PageBatches:
    """Pages gathered until they hold `limit` items (1: every page alone)."""

    def __init__(self, limit: int = BATCH_ITEMS) -> None:
        if limit < 1:
            raise ValueError("a batch holds at least one item")
        self.limit = limit
        self._pages: list[ArrowItems] = []
        self._ids: set[str] = set()

    def add(self, content: Content) -> list[Batch]:
        """The next page of the list (not empty); returns what is to be normalised now, in order."""
        ids = plain_ids(content) if isinstance(content, ArrowItems) else None
        if ids is None or not isinstance(content, ArrowItems):
            return [*self.flush(), Batch((content,))]
        ready = [] if self._ids.isdisjoint(ids) else self.flush()
        self._pages.append(content)
        self._ids.update(ids)
        if len(self._ids) >= self.limit:
            ready.extend(self.flush())
        return ready

    def flush(self) -> list[Batch]:
        """The pages gathered so far, as one batch (none when there are none)."""
        pages, self._pages, self._ids = self._pages, [], set()
        return [Batch(tuple(pages))] if pages else []

    def discard(self) -> None:
        """Forget the pages gathered (a 410 restarts the read: they belong to the expired link's)."""
        self._pages, self._ids = [], set()


def normalise_batch(
    batch: Batch, normalise: Callable[[Content], NormalisedPage], table: str, key: str
) -> list[NormalisedPage]:
    """The batch normalised in one call; page by page instead when a mapped key column gives two of its
    items one key (distinct items, distinct ids: only a mapped key can repeat). Page by page, the later
    page's row replaces the earlier one; in one call validation would see a duplicate key."""
    normalised = normalise(batch.content)
    if len(batch.parts) > 1:
        keys = normalised.tables[table].column(key)
        if pc.count_distinct(keys, mode="all").as_py() != len(keys):
            return [normalise(part) for part in batch.parts]
    return [normalised]
