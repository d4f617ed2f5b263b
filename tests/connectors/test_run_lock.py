"""R14: one run at a time, between real processes, synchronised by pipes (never by sleeping)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connectors.run_lock import LOCK_FILE_NAME, RunLock, lock_holder
from errors import ExitCode, RunLocked

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 30  # a guard against a hang (a blocking lock), not a timed assertion

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from connectors.run_lock import RunLock
    with RunLock(Path(sys.argv[1])):
        print("locked", flush=True)
        sys.stdin.read()  # hold the lock until the parent closes our stdin
    print("released", flush=True)
    """
)
CONTENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from connectors.run_lock import RunLock
    from errors import RunLocked
    try:
        with RunLock(Path(sys.argv[1])):
            print("acquired", flush=True)
    except RunLocked as error:
        print(f"{error.holder_pid}|{error}", flush=True)
        sys.exit(3)
    """
)


def start(script: str, lock: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def wait_for(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdout is not None
    assert process.stdout.readline().strip() == line


@pytest.fixture
def lock_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / LOCK_FILE_NAME


def test_a_second_process_is_refused_while_the_first_holds_the_lock(lock_path: Path) -> None:
    with start(HOLDER, lock_path) as holder:
        wait_for(holder, "locked")
        contender = subprocess.run(
            [sys.executable, "-c", CONTENDER, str(lock_path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=TIMEOUT_SECONDS,
        )
        assert contender.returncode == 3
        pid, message = contender.stdout.strip().split("|", 1)
        assert int(pid) == holder.pid
        assert str(lock_path) in message and f"pid {holder.pid}" in message and "started" in message
        assert holder.stdin is not None
        holder.stdin.close()
        wait_for(holder, "released")
    # once the holder has finished, the next run goes ahead
    after = subprocess.run(
        [sys.executable, "-c", CONTENDER, str(lock_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=TIMEOUT_SECONDS,
    )
    assert (after.returncode, after.stdout.strip()) == (0, "acquired")


def test_this_process_is_refused_while_another_process_holds_the_lock(lock_path: Path) -> None:
    with start(HOLDER, lock_path) as holder:
        wait_for(holder, "locked")
        with pytest.raises(RunLocked) as refused, RunLock(lock_path):
            pass
        assert refused.value.holder_pid == holder.pid
        assert refused.value.lock_path == str(lock_path)
        assert (
            refused.value.exit_code == ExitCode.LOCKED == 3
        )  # the CLI exits 3: "another run holds the lock"
        assert dt.datetime.fromisoformat(refused.value.holder_started_utc or "").tzinfo is not None
        holder_seen = lock_holder(lock_path)
        assert holder_seen is not None and holder_seen.pid == holder.pid
        assert holder.stdin is not None
        holder.stdin.close()


def test_a_lock_left_by_a_killed_process_does_not_block(lock_path: Path) -> None:
    with start(HOLDER, lock_path) as holder:
        wait_for(holder, "locked")
        os.kill(holder.pid, signal.SIGKILL)
        assert holder.wait(TIMEOUT_SECONDS) == -signal.SIGKILL
    assert json.loads(lock_path.read_text())["pid"] == holder.pid  # the dead run's details are still there
    assert lock_holder(lock_path) is None  # ... but it no longer runs
    with RunLock(lock_path) as lock:
        assert lock.is_held
        assert json.loads(lock_path.read_text())["pid"] == os.getpid()


def test_two_locks_in_one_process_exclude_each_other(lock_path: Path) -> None:
    clock = lambda: dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)  # noqa: E731
    first = RunLock(lock_path, clock=clock)
    first.acquire()
    with pytest.raises(RunLocked, match=r"started 2026-11-30T02:00:00\+00:00"), RunLock(lock_path):
        pass
    first.release()
    with RunLock(lock_path):  # released on leaving the block
        pass


def test_lock_file_is_private_and_names_no_holder_once_released(lock_path: Path) -> None:
    with RunLock(lock_path):
        assert stat.S_IMODE(lock_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(lock_path.parent.stat().st_mode) == 0o700
    assert lock_path.exists()  # never deleted: deleting would let two runs lock two files
    assert lock_path.read_text() == ""
    assert lock_holder(lock_path) is None
    assert lock_holder(lock_path.parent / "absent.lock") is None
