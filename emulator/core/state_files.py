"""Files the emulator leaves on disk (keys, certificates, the demo's config, mappings and exports).

Each file is written into a fresh temporary file opened with O_CREAT | O_EXCL | O_NOFOLLOW and mode 0600
(fchmod'ed, so the umask cannot loosen or tighten it), then renamed over the final name: the content never
sits in an older file with looser permissions, and a symlink planted under the final name (or anywhere a
directory should be) is refused, never followed. Directories the emulator creates are 0700; one that
exists must be a real directory owned by this user.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from errors import EmulatorError

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
_HINT = "remove it (or choose another --state-dir); the emulator writes only real files it owns"


def ensure_private_dir(path: Path) -> Path:
    """`path` as a real directory of this user's: created 0700 (parents too) when missing."""
    try:
        os.mkdir(path, DIRECTORY_MODE)
    except FileNotFoundError:  # parents are the user's business; only the directory itself is checked
        path.parent.mkdir(parents=True, exist_ok=True)
        return ensure_private_dir(path)
    except FileExistsError:
        pass
    else:
        _fix_mode(path)
    _check_directory(path)
    return path


def write_private_file(path: Path, content: bytes) -> None:
    """Write `content` to `path` with mode 0600, replacing a regular file; refuse anything else there."""
    directory = _open_directory(path.parent)
    try:
        try:
            existing = os.stat(path.name, dir_fd=directory, follow_symlinks=False)
        except FileNotFoundError:
            existing = None
        if existing is not None and stat.S_ISLNK(existing.st_mode):
            raise EmulatorError(f"refusing to write {path}: it is a symbolic link", hint=_HINT)
        if existing is not None and not stat.S_ISREG(existing.st_mode):
            raise EmulatorError(f"refusing to write {path}: it is not a regular file", hint=_HINT)
        temporary = f".{path.name}.{secrets.token_hex(8)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        descriptor = os.open(temporary, flags, FILE_MODE, dir_fd=directory)
        try:
            os.fchmod(descriptor, FILE_MODE)
            view = memoryview(content)
            while view:
                view = view[os.write(descriptor, view) :]
        except BaseException:
            os.close(descriptor)
            os.unlink(temporary, dir_fd=directory)
            raise
        os.close(descriptor)
        os.replace(temporary, path.name, src_dir_fd=directory, dst_dir_fd=directory)
    finally:
        os.close(directory)


def check_regular_or_missing(path: Path) -> bool:
    """True when `path` is a regular file, False when it is missing; a symlink or other thing is refused."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(found.st_mode):
        raise EmulatorError(f"refusing to use {path}: it is a symbolic link", hint=_HINT)
    if not stat.S_ISREG(found.st_mode):
        raise EmulatorError(f"refusing to use {path}: it is not a regular file", hint=_HINT)
    return True


def _open_directory(path: Path) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            _check_directory(path)  # names what is wrong (a symlink, a file, another owner) when it can
        raise EmulatorError(f"cannot open the directory {path}: {error.strerror}", hint=_HINT) from error


def _check_directory(path: Path) -> None:
    found = path.lstat()
    if stat.S_ISLNK(found.st_mode):
        raise EmulatorError(f"refusing to write into {path}: it is a symbolic link", hint=_HINT)
    if not stat.S_ISDIR(found.st_mode):
        raise EmulatorError(f"refusing to write into {path}: it is not a directory", hint=_HINT)
    if found.st_uid != os.getuid():
        raise EmulatorError(f"refusing to write into {path}: another user owns it", hint=_HINT)


def _fix_mode(path: Path) -> None:
    """0700 exactly (mkdir's mode passes through the umask), on the directory itself, not a symlink."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        os.fchmod(descriptor, DIRECTORY_MODE)
    finally:
        with contextlib.suppress(OSError):
            os.close(descriptor)
