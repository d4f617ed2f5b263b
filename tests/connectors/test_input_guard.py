"""connectors/input_guard.py: regular files only (checked before opening, and again on the opened file),
a size cap before and while reading, NUL bytes in text noted, refusals that name the file, never its text."""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from connectors.input_guard import (
    check_regular_file,
    describe_size,
    open_regular_file,
    read_guarded_bytes,
)
from errors import SourceFormatError


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert read_guarded_bytes(path, what="CSV file", max_bytes=100) == b"a,b\n1,2\n"
    with open_regular_file(path, what="CSV file", max_bytes=100, text=True) as guard:
        assert guard.read(3) == b"a,b"
        assert guard.tell() == 3
        guard.seek(0)
        assert guard.read() == b"a,b\n1,2\n"
    assert guard.refusal() is None


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda path: os.mkfifo(path), "a FIFO (named pipe)"),
        (lambda path: path.mkdir(), "a directory"),
        (lambda path: path.symlink_to("/dev/null"), "a character device"),
    ],
)
def test_anything_but_a_regular_file_is_refused_before_it_is_opened(
    tmp_path: Path, make: object, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "input.csv"
    make(path)  # type: ignore[operator]
    opened: list[object] = []
    monkeypatch.setattr(os, "open", lambda *args, **kwargs: opened.append(args))
    with pytest.raises(SourceFormatError, match=re.escape(f"CSV file {path} is {kind}, not a regular file")):
        open_regular_file(path, what="CSV file", max_bytes=100)
    assert opened == []  # a FIFO opened for reading would wait for a writer


def test_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        with pytest.raises(SourceFormatError, match="is a socket, not a regular file"):
            check_regular_file(path, what="CSV file", max_bytes=100)


def test_a_symbolic_link_is_followed_unless_the_reader_refuses_links(tmp_path: Path) -> None:
    target = tmp_path / "real.csv"
    target.write_bytes(b"x")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert read_guarded_bytes(link, what="CSV file", max_bytes=10) == b"x"
    with pytest.raises(SourceFormatError, match="is a symbolic link, not a regular file"):
        read_guarded_bytes(link, what="CSV file", max_bytes=10, follow_symlinks=False)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SourceFormatError, match=f"^CSV file {tmp_path / 'no.csv'} not found$"):
        check_regular_file(tmp_path / "no.csv", what="CSV file", max_bytes=1)


def test_the_size_cap_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(b"x" * 2_048)
    with pytest.raises(SourceFormatError, match="is larger than the 1 KiB limit") as caught:
        check_regular_file(path, what="CSV file", max_bytes=1_024)
    assert "--max-file-size" in caught.value.hint


def test_a_file_that_grows_past_the_cap_while_read_stops_at_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "growing.csv"
    path.write_bytes(b"x" * 1_000)
    guard = open_regular_file(path, what="CSV file", max_bytes=1_024)
    with path.open("ab") as more:
        more.write(b"y" * 5_000)
    with guard:
        data = guard.read()
    assert data == b"x" * 1_000 + b"y" * 24
    assert guard.over_limit
    with pytest.raises(SourceFormatError, match="is larger than the 1 KiB limit"):
        guard.raise_if_refused()


def test_a_file_exactly_at_the_cap_is_read(tmp_path: Path) -> None:
    path = tmp_path / "exact.csv"
    path.write_bytes(b"z" * 1_024)
    assert read_guarded_bytes(path, what="CSV file", max_bytes=1_024) == b"z" * 1_024


def test_text_stops_at_a_nul_byte_and_names_its_offset(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,\x002\n")
    with open_regular_file(path, what="CSV file", max_bytes=100, text=True) as guard:
        assert guard.read() == b"a,b\n1,"
    with pytest.raises(SourceFormatError, match=r"holds a NUL byte \(at byte 6\): it is not text") as caught:
        guard.raise_if_refused()
    assert "UTF-16" in caught.value.hint
    with open_regular_file(path, what="Parquet file", max_bytes=100) as binary:  # binary: NULs are data
        assert binary.read() == path.read_bytes()


def test_a_file_swapped_after_the_check_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "swap.csv"
    path.write_bytes(b"a\n")
    other = tmp_path / "other.csv"
    other.write_bytes(b"b\n")
    real_open = os.open

    def swap_then_open(name: object, flags: int, *args: object) -> int:
        os.replace(other, path)  # another file now has the checked name
        return real_open(name, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", swap_then_open)
    with pytest.raises(SourceFormatError, match="changed while it was being opened"):
        open_regular_file(path, what="CSV file", max_bytes=100)


@pytest.mark.parametrize(
    ("size", "shown"), [(300, "300 bytes"), (1_536, "1.5 KiB"), (8 * 2**20, "8 MiB"), (4 * 2**30, "4 GiB")]
)
def test_sizes_are_described_in_binary_units(size: int, shown: str) -> None:
    assert describe_size(size) == shown


def test_a_native_reader_reopens_exactly_the_checked_file(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(b"checked\n")
    with open_regular_file(path, what="CSV file", max_bytes=100) as guard:
        path.unlink()
        path.write_bytes(b"swapped in\n")  # the name now points elsewhere
        with open(guard.reopen_path(), "rb") as native:
            assert native.read() == b"checked\n"


def test_a_file_grown_past_the_cap_is_refused_between_batches(tmp_path: Path) -> None:
    path = tmp_path / "growing.csv"
    path.write_bytes(b"x" * 10)
    with open_regular_file(path, what="CSV file", max_bytes=100) as guard:
        guard.raise_if_grown()
        with path.open("ab") as more:
            more.write(b"y" * 200)
        with pytest.raises(SourceFormatError, match="is larger than the 100 bytes limit"):
            guard.raise_if_grown()
