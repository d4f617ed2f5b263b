"""Guards every reader of a local input file uses (validate today; the Forms reader and list-sync files
can take the same): a regular file only, checked before it is opened, so a FIFO cannot hang a run and a
device, socket or directory is refused; a size cap checked before reading and enforced while reading (a
file that grows stops at the cap); and, for text, a note of the first NUL byte (a text file has none).

    guard = open_regular_file(path, what="CSV file", max_bytes=limits.max_file_bytes)
    with guard:  # a binary file object: give it to pyarrow, csv, zipfile ...
        ...
    guard.raise_if_refused()  # after reading: over the cap, or a NUL byte in text

Refusals are SourceFormatErrors naming the file and the reason, never its content.
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

from errors import SourceFormatError

KIB = 2**10
MIB = 2**20
GIB = 2**30
OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)  # NONBLOCK: opening never waits
KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISLNK, "a symbolic link"),
)


def describe_size(size: int) -> str:
    """`4 GiB`, `8 MiB`, `1.5 KiB`, `300 bytes`."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit:
            return f"{size / unit:.4g} {name}"
    return f"{size} bytes"


def _kind(mode: int) -> str:
    return next((name for test, name in KINDS if test(mode)), "not a regular file")


def check_regular_file(
    path: Path, *, what: str, max_bytes: int, follow_symlinks: bool = True
) -> os.stat_result:
    """The file's stat, if it is a regular file within the size cap; never opens it."""
    try:
        status = os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        raise SourceFormatError(
            f"{what} {path} not found", hint="pass an existing file or directory"
        ) from None
    except OSError as exc:
        raise SourceFormatError(f"{what} {path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(status.st_mode):
        raise SourceFormatError(
            f"{what} {path} is {_kind(status.st_mode)}, not a regular file",
            hint="pass a file saved on disk (a pipe, device or socket is never read)",
        )
    if status.st_size > max_bytes:
        raise too_big(path, what, max_bytes)
    return status


def too_big(path: Path, what: str, max_bytes: int) -> SourceFormatError:
    return SourceFormatError(
        f"{what} {path} is larger than the {describe_size(max_bytes)} limit",
        hint="split the file, or raise the limit (cetk validate --max-file-size) if it is expected",
    )


def open_regular_file(
    path: Path, *, what: str, max_bytes: int, follow_symlinks: bool = True, text: bool = False
) -> GuardedFile:
    """Open a regular file for reading, refusing anything else before and after opening (the path may be
    swapped in between: the opened file must be the one checked)."""
    checked = check_regular_file(path, what=what, max_bytes=max_bytes, follow_symlinks=follow_symlinks)
    flags = OPEN_FLAGS | (0 if follow_symlinks else os.O_NOFOLLOW)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SourceFormatError(f"{what} {path} is a symbolic link, not a regular file") from None
        raise SourceFormatError(f"{what} {path} cannot be opened: {exc.strerror}") from None
    opened = os.fstat(descriptor)
    if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
        os.close(descriptor)
        raise SourceFormatError(
            f"{what} {path} changed while it was being opened", hint="run again once nothing writes to it"
        )
    return GuardedFile(descriptor, path, what=what, max_bytes=max_bytes, text=text)


class GuardedFile(io.RawIOBase):
    """A read-only regular file that ends at `max_bytes` (setting `over_limit`) and, for text, at the
    first NUL byte (setting `nul_at`). Failures are noted, not raised, so a reader running in a library's
    thread never sees an exception; call raise_if_refused() when the reading stops."""

    def __init__(self, descriptor: int, path: Path, *, what: str, max_bytes: int, text: bool) -> None:
        super().__init__()
        self._descriptor = descriptor
        self.path, self.what, self.max_bytes, self.text = path, what, max_bytes, text
        self.over_limit = False
        self.nul_at: int | None = None
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = os.lseek(self._descriptor, offset, whence)
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.nul_at is not None:
            return 0
        room = self.max_bytes - self._position
        wanted = len(buffer)
        if room <= 0:
            self.over_limit = self.over_limit or os.fstat(self._descriptor).st_size > self.max_bytes
            return 0
        data = os.read(self._descriptor, min(wanted, room + 1))
        if len(data) > room:  # the file grew past the cap since it was checked
            self.over_limit = True
            data = data[:room]
        if self.text and b"\x00" in data:
            cut = data.index(b"\x00")
            self.nul_at = self._position + cut
            data = data[:cut]
        memoryview(buffer)[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._descriptor)
        super().close()

    def reopen_path(self) -> str:
        """A path naming exactly this open file (not whatever the original path names now), for a library
        that opens files natively: it reads without calling back into Python from its own threads."""
        for folder in ("/proc/self/fd", "/dev/fd"):
            if os.path.isdir(folder):
                return f"{folder}/{self._descriptor}"
        raise SourceFormatError(f"{self.what} {self.path}: this system cannot reopen an open file by number")

    def raise_if_grown(self) -> None:
        """Refuse the file once it has grown past the cap (for readers that read it natively)."""
        if os.fstat(self._descriptor).st_size > self.max_bytes:
            self.over_limit = True
            raise too_big(self.path, self.what, self.max_bytes)

    def refusal(self) -> SourceFormatError | None:
        """Why the read stopped early, if it did."""
        if self.over_limit:
            return too_big(self.path, self.what, self.max_bytes)
        if self.nul_at is not None:
            return SourceFormatError(
                f"{self.what} {self.path} holds a NUL byte (at byte {self.nul_at:,}): it is not text",
                hint="a CSV is UTF-8 text: re-export it as 'CSV UTF-8' (a NUL byte means UTF-16 or a binary file)",
            )
        return None

    def raise_if_refused(self) -> None:
        refusal = self.refusal()
        if refusal is not None:
            raise refusal


def read_guarded_bytes(path: Path, *, what: str, max_bytes: int, follow_symlinks: bool = True) -> bytes:
    """The whole of a regular file within the cap (for readers that parse bytes, e.g. an .xlsx)."""
    with open_regular_file(path, what=what, max_bytes=max_bytes, follow_symlinks=follow_symlinks) as guard:
        data = guard.read()
    guard.raise_if_refused()
    return bytes(data or b"")
