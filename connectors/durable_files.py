"""Durable files: a file's hash, and a temporary file made the real one crash-safely (fsync, rename, fsync
of the folder). Used by staging (connectors/staging.py) and the quarantine."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PRIVATE_FILE_MODE = 0o600  # staged rows are minimised but still personal (pseudonyms, consented answers)
HASH_CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str | None:
    """sha256 of a file's bytes, read in chunks; None when there is no file."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def replace_durably(temporary: Path, path: Path) -> None:
    os.chmod(temporary, PRIVATE_FILE_MODE)
    os.replace(temporary, path)
    fsync_directory(path.parent)


def fsync_file(path: Path) -> None:
    _fsync(path, os.O_RDWR)


def fsync_directory(directory: Path) -> None:
    """Make a rename itself durable (POSIX: the directory entry lives in the directory)."""
    _fsync(directory, os.O_RDONLY)


def _fsync(path: Path, flags: int) -> None:
    descriptor = os.open(path, flags)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
