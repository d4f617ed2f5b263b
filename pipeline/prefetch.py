"""Read ahead: the next page of a list is fetched while this one is normalised, validated and staged.

A sync is a loop of "wait for a page, then work on it"; the service's time and cetk's time add up. With one
page read ahead on a thread they overlap, so a sync runs at about the speed of the slower of the two
(bench/bench_sync.py). The first page is read on the caller's thread: whatever the caller does before
asking for the second (a read of the people list, on the same session) never runs beside a read-ahead.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

Item = TypeVar("Item")
_DONE = object()


class ReadAhead(Generic[Item]):
    """Iterate `source` with `depth` items fetched ahead on one thread; errors are raised where the item
    would have been; closing (or leaving a `with`) stops the thread after the item it is fetching."""

    def __init__(self, source: Iterator[Item], depth: int = 1) -> None:
        self._source = source
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._first = True

    def __iter__(self) -> Iterator[Item]:
        return self

    def __next__(self) -> Item:
        if self._first:  # the first item on the caller's thread; the read-ahead starts after it
            self._first = False
            item = next(self._source)
            self._thread = threading.Thread(target=self._run, name="cetk-read-ahead", daemon=True)
            self._thread.start()
            return item
        found = self._queue.get()
        if found is _DONE:
            self._queue.put(_DONE)  # a later next() ends too
            raise StopIteration
        if isinstance(found, _Failed):
            raise found.error
        return found  # type: ignore[return-value]

    def close(self) -> None:
        self._stop.set()
        while self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(queue.Empty):  # make room, so a blocked put sees the stop
                self._queue.get(timeout=0.05)
        close = getattr(self._source, "close", None)
        if close is not None:
            close()

    def __enter__(self) -> ReadAhead[Item]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            for item in self._source:
                if self._stop.is_set():
                    return
                self._put(item)
        except BaseException as error:  # handed to the caller's thread, raised there
            self._put(_Failed(error))
            return
        self._put(_DONE)

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error
