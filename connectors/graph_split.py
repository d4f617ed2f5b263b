"""Reading more lookup-type columns than Graph returns in one multi-item read, and merging them by item id.

SharePoint's list-view lookup threshold (12, UNCONFIRMED number: microsoft-apis.md §2.2) silently drops
lookup, person and managed-metadata columns past the 12th (Created By and Modified By count) from
multi-item reads. So the columns are planned into requests of at most 12 lookup-type columns each, the
other columns riding once with the first; the extra requests page through the list in step with the
first, and their fields are merged into its items by id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.http import Page
from connectors.list_items import BUILT_IN_LOOKUPS, without_annotations

LOOKUP_THRESHOLD = 12  # SharePoint Online's list-view lookup threshold (UNCONFIRMED number; a setting)

ReadOne = Callable[[str], "dict[str, Any] | None"]  # one item with every selected column, None when gone


@dataclass(frozen=True)
class ColumnPlan:
    """Which `fields` each request selects: the first carries the non-lookup columns once."""

    requests: tuple[tuple[str, ...], ...]

    @property
    def first(self) -> tuple[str, ...]:
        return self.requests[0]

    @property
    def extra(self) -> tuple[tuple[str, ...], ...]:
        return self.requests[1:]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(name for request in self.requests for name in request)


def plan_columns(select: Sequence[str], lookup_columns: Collection[str], threshold: int) -> ColumnPlan:
    """`select` (deduplicated, in order) split so no request names more than `threshold` lookup-type columns."""
    if threshold < 1:
        raise ValueError("the lookup threshold must be at least 1")
    wanted = list(dict.fromkeys(select))
    lookups = [name for name in wanted if name in lookup_columns or name in BUILT_IN_LOOKUPS]
    others = [name for name in wanted if name not in lookups]
    chunks = [lookups[start : start + threshold] for start in range(0, len(lookups), threshold)] or [[]]
    return ColumnPlan((tuple(others + chunks[0]), *(tuple(chunk) for chunk in chunks[1:])))


def fields_expansion(columns: Sequence[str]) -> str:
    """The `$expand` value: only these columns (all default fields when none are named)."""
    return f"fields($select={','.join(columns)})" if columns else "fields"


def deletion(item_id: str) -> dict[str, Any]:
    """How an item found gone while merging is handed on: as a delta feed reports a deleted item."""
    return {"id": item_id, "deleted": {"state": "deleted"}}


def _order(item_id: object) -> float:
    text = str(item_id)
    return int(text) if text.isdecimal() else math.inf


def _etag(item: dict[str, Any]) -> object:
    return item.get("eTag") or item.get("@odata.etag")


class Lockstep:
    """One extra request's pages, read only as far as the items being merged need (ids ascend)."""

    def __init__(self, pages: Iterator[Page]) -> None:
        self._pages = pages
        self._buffer: dict[str, dict[str, Any]] = {}
        self._high = -math.inf
        self._done = False

    def take(self, item_id: str) -> dict[str, Any] | None:
        """The item with this id from this request's pages, or None once they have passed it without it."""
        wanted = _order(item_id)
        while not self._done and self._high < wanted:
            page = next(self._pages, None)
            if page is None:
                self._done = True
                break
            for item in page.items:
                self._buffer[str(item.get("id"))] = without_annotations(item)
                self._high = max(self._high, _order(item.get("id")))
        return self._buffer.pop(item_id, None)


def merge_in_step(
    items: list[dict[str, Any]], extras: list[Lockstep], read_one: ReadOne
) -> list[dict[str, Any]]:
    """Each live item with the extra requests' fields; an item they disagree on (changed in between, or
    missing) is read again on its own, where no threshold applies, and becomes a deletion if it is gone."""
    merged = []
    for item in items:
        if "deleted" in item:
            merged.append(item)
            continue
        item_id = str(item.get("id"))
        parts = [extra.take(item_id) for extra in extras]
        if all(part is not None and _etag(part) == _etag(item) for part in parts):
            fields = dict(item.get("fields") or {})
            for part in parts:
                fields.update((part or {}).get("fields") or {})
            merged.append({**item, "fields": fields})
        else:
            merged.append(read_one(item_id) or deletion(item_id))
    return merged
