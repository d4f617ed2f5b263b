"""ItemKeyLog: a sync's item keys kept on disk, a bounded buffer in memory, read back in order."""

from __future__ import annotations

from pathlib import Path

from connectors.item_key_log import ItemKeyLog


def page(start: int, count: int, version: int = 1) -> dict[str, str]:
    return {str(n): f"sp:list-guid:{n}:v{version}" for n in range(start, start + count)}


def test_keys_come_back_in_the_order_added_with_at_most_a_buffer_in_memory(tmp_path: Path) -> None:
    with ItemKeyLog(tmp_path, buffer_rows=25) as log:
        for start in range(0, 200, 10):
            log.add(page(start, 10))
            assert log.buffered < 25 + 10  # flushed to disk once the buffer is full
        log.add({})
        assert len(log) == 200
        expected = [(str(n), f"sp:list-guid:{n}:v1") for n in range(200)]
        assert list(log) == expected
        assert list(log) == expected  # read again: the commit may iterate twice
        log.add(page(5, 1, version=2))  # added after a read: kept too, after the others
        assert list(log)[-1] == ("5", "sp:list-guid:5:v2") and len(log) == 201


def test_keys_among_finds_only_the_keys_added(tmp_path: Path) -> None:
    with ItemKeyLog(tmp_path, buffer_rows=7) as log:
        log.add(page(0, 30))
        wanted = {"sp:list-guid:3:v1", "sp:list-guid:29:v1", "sp:list-guid:99:v1"}
        assert log.keys_among(wanted) == {"sp:list-guid:3:v1", "sp:list-guid:29:v1"}
        assert log.keys_among(set()) == set()


def test_closing_removes_its_files(tmp_path: Path) -> None:
    log = ItemKeyLog(tmp_path, buffer_rows=3)
    log.add(page(0, 10))
    assert any(tmp_path.iterdir())
    log.close()
    assert list(tmp_path.iterdir()) == []
