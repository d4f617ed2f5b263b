"""Serialised listItem JSON per item and query shape, cached until the item changes, rendered ahead of time.

Paging a large list is mostly serialising items; each item's bytes are kept per query shape (while the
store holds the same Item object) and the next page of an unfiltered read is rendered in the background.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from emulator.graph.query import ItemQuery
from emulator.graph.serialise import Projection, dumps, item_json, lookup_keys
from emulator.lists.store import Item, ListStore, SpList

_MAX_CACHED_VARIANTS = 4
_MAX_PENDING_PREFETCHES = 4
Variant = tuple[object, ...]


class FragmentCache:
    """Serialised JSON per item and query shape; an entry is valid while the store holds the same Item object."""

    def __init__(self) -> None:
        self._variants: dict[Variant, dict[int, tuple[Item, bytes]]] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: dict[Variant, Future[None]] = {}

    def prefetch(self, key: Variant, job: Callable[[], None]) -> None:
        """Serialise the next page in the background while the client reads this one."""
        with self._lock:
            if key in self._pending or len(self._pending) >= _MAX_PENDING_PREFETCHES:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-prefetch")
            future = self._executor.submit(job)
            self._pending[key] = future
        future.add_done_callback(lambda _: self._forget(key))

    def wait(self, key: Variant) -> None:
        """Let a prefetch of this page finish first, rather than serialising the same items twice."""
        with self._lock:
            future = self._pending.get(key)
        if future is not None:
            future.result()

    def wait_all(self) -> None:
        with self._lock:
            futures = list(self._pending.values())
        for future in futures:
            future.result()

    def _forget(self, key: Variant) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def variant(self, key: Variant) -> dict[int, tuple[Item, bytes]]:
        with self._lock:
            found = self._variants.get(key)
            if found is None:
                if len(self._variants) >= _MAX_CACHED_VARIANTS:
                    self._variants.pop(next(iter(self._variants)))
                found = self._variants[key] = {}
            return found

    def clear(self) -> None:
        with self._lock:
            self._variants.clear()


class ItemRenderer:
    """Renders listItems for one store the way a query asks, through the fragment cache."""

    def __init__(self, store: ListStore, cache: FragmentCache, lookup_threshold: int) -> None:
        self.store, self.cache, self.lookup_threshold = store, cache, lookup_threshold

    def projection(self, sp_list: SpList, query: ItemQuery, *, multi_item: bool) -> Projection:
        """Which fields to write; multi-item reads drop lookup columns past the threshold."""
        omitted: frozenset[str] = frozenset()
        if multi_item and query.expand_fields:
            keys = lookup_keys(sp_list, query.field_select)
            omitted = frozenset(keys[self.lookup_threshold :])
        return Projection(query.field_select, omitted)

    def fragment(
        self, item: Item, sp_list: SpList, query: ItemQuery, projection: Projection, *, delta: bool
    ) -> bytes:
        body = item_json(
            item,
            sp_list,
            self.store.site_timezone,
            projection if query.expand_fields else None,
            with_modifier=not delta,
        )
        if query.item_select is not None:
            keep = query.item_select | {"@odata.etag", "id", "fields"}
            body = {key: value for key, value in body.items() if key in keep}
        return dumps(body)

    def variant(self, sp_list: SpList, query: ItemQuery, *, delta: bool) -> Variant:
        """The cache key of one query shape."""
        projection = self.projection(sp_list, query, multi_item=True)
        return (
            sp_list.id,
            query.expand_fields,
            query.field_select,
            query.item_select,
            projection.omitted_lookups,
            delta,
        )

    def fragments(self, items: list[Item], sp_list: SpList, query: ItemQuery, *, delta: bool) -> list[bytes]:
        projection = self.projection(sp_list, query, multi_item=True)
        cache = self.cache.variant(self.variant(sp_list, query, delta=delta))
        out = []
        for item in items:
            hit = cache.get(item.int_id)
            if hit is None or hit[0] is not item:
                hit = (item, self.fragment(item, sp_list, query, projection, delta=delta))
                cache[item.int_id] = hit
            out.append(hit[1])
        return out
