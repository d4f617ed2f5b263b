"""One run at a time (R14): an exclusive, non-blocking flock on a lock file in the state directory.

The kernel releases a flock when its holder dies, so a lock file left by a killed run never blocks the
next one; the file is therefore never deleted (deleting it would let two runs lock two different
files). The holder writes its pid and start time into the file, so a refused run can name them.
POSIX only (fcntl): the scheduler runbook runs cetk on Linux or in WSL.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from errors import RunLocked

LOCK_FILE_NAME = "cetk-run.lock"
LAST_RUN_FILE = "last-run.json"  # the last run's report (connectors/run_report.py), which `cetk status` names
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class LockHolder:
    """Who holds the lock, as the holder wrote it; fields are None when the file could not be read."""

    pid: int | None
    started_utc: str | None

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "pid unknown"
        started = f"started {self.started_utc}" if self.started_utc else "start time unknown"
        return f"{pid}, {started}"


class RunLock:
    """`with RunLock(state_dir / LOCK_FILE_NAME):` holds the run lock, or raises RunLocked at once."""

    def __init__(self, path: Path, *, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.path = path
        self._clock = clock
        self._descriptor: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(descriptor)
            os.close(descriptor)
            raise RunLocked(
                f"another cetk run holds the lock {self.path} ({holder.describe()})",
                lock_path=str(self.path),
                holder_pid=holder.pid,
                holder_started_utc=holder.started_utc,
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        details = {"pid": os.getpid(), "started_utc": self._clock().isoformat()}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(details).encode("utf-8"), 0)
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        try:
            os.ftruncate(descriptor, 0)  # the file no longer names a holder that has gone
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)

    @property
    def is_held(self) -> bool:
        return self._descriptor is not None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def lock_holder(path: Path) -> LockHolder | None:
    """The run that seems to hold the lock (its file names a live pid), else None. Informational only.

    It never takes the lock itself, not even shared: a probe must not make a starting run fail.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        holder = _read_holder(descriptor)
    finally:
        os.close(descriptor)
    return holder if holder.pid is not None and _is_alive(holder.pid) else None


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _read_holder(descriptor: int) -> LockHolder:
    try:
        text = os.pread(descriptor, 4096, 0).decode("utf-8")
        value = json.loads(text)
        pid = value.get("pid")
        started = value.get("started_utc")
        return LockHolder(
            pid if isinstance(pid, int) else None, started if isinstance(started, str) else None
        )
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return LockHolder(None, None)  # the holder is between truncating and writing its details
