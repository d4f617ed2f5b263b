"""The sync pauses Python's cyclic collector while it reads a list, and gives it back as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import pipeline.sync_list as sync_list
from emulator.demo.force import Force, generate_force
from pipeline.sync import EXIT_OK, EXIT_QUARANTINED
from pipeline.sync_list import collector_paused
from tests.connectors.conftest import ManualTime
from tests.sync_world import demo_world
from transforms.normalise import normalise_page


@pytest.fixture
def collector_on() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.enable()
    yield
    if enabled:  # as it was, whatever the test did (one test turns it off)
        gc.enable()
    else:
        gc.disable()


@pytest.fixture(scope="module")
def force() -> Force:
    return generate_force(seed=5, events=40, ccrs=60, officers=20, invalid_fraction=0.1)


def test_the_collector_is_back_on_after_the_pause_even_when_it_fails(collector_on: None) -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("a page failed")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off(collector_on: None) -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_pages_are_normalised_with_the_collector_paused_and_it_is_on_after_the_sync(
    force: Force, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    seen: list[bool] = []
    normalise = normalise_page

    def watched(items: Any, *arguments: Any, **options: Any) -> Any:
        if items:  # not the empty call that names a list's tables
            seen.append(gc.isenabled())
        return normalise(items, *arguments, **options)

    monkeypatch.setattr(sync_list, "normalise_page", watched)
    with demo_world(force, tmp_path, ManualTime()) as world:
        result = world.run(page_size=25)

    assert result.exit_code in (EXIT_OK, EXIT_QUARANTINED), result.describe()
    assert len(seen) >= 5 and not any(seen)  # every list (its pages in one batch or more)
    assert gc.isenabled()


def test_reading_a_list_leaves_nothing_for_the_collector_to_find(
    force: Force, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collector_on: None
) -> None:
    """Why the pause is safe on a list of a million items: pages, their normalised tables, validation and
    staging are freed by reference counting as the sync goes (a reference cycle made per page would
    stay until the list is read)."""
    found: list[int] = []
    paused = sync_list.collector_paused

    @contextmanager
    def counted() -> Iterator[None]:
        with paused():
            gc.collect()
            yield
            found.append(gc.collect())

    monkeypatch.setattr(sync_list, "collector_paused", counted)
    with demo_world(force, tmp_path, ManualTime()) as world:
        result = world.run(page_size=10)

    assert result.exit_code in (EXIT_OK, EXIT_QUARANTINED), result.describe()
    assert len(found) == 5 and found == [0] * 5
