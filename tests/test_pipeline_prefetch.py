"""pipeline.prefetch.ReadAhead: the next page read on a thread, in order, errors raised where they belong."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pipeline.prefetch import ReadAhead


def test_items_come_in_order_the_first_on_the_callers_thread() -> None:
    threads: list[str] = []

    def source() -> Iterator[int]:
        for number in range(5):
            threads.append(threading.current_thread().name)
            yield number

    with ReadAhead(source()) as items:
        assert list(items) == [0, 1, 2, 3, 4]
    assert threads[0] == threading.current_thread().name
    assert set(threads[1:]) == {"cetk-read-ahead"}


def test_an_error_while_reading_ahead_is_raised_in_order() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 3 failed")

    with ReadAhead(source()) as items:
        assert next(items) == 1 and next(items) == 2
        with pytest.raises(ValueError, match="page 3 failed"):
            next(items)


def test_closing_early_stops_reading_and_closes_the_source() -> None:
    closed = threading.Event()
    read: list[int] = []

    def source() -> Iterator[int]:
        try:
            for number in range(1_000):
                read.append(number)
                yield number
        finally:
            closed.set()

    with ReadAhead(source(), depth=1) as items:
        assert next(items) == 0 and next(items) == 1
    assert closed.is_set() and len(read) <= 4  # at most the depth and the one being put, not the rest
