"""kill -9 of a real publishing process at an exact point, then a rerun: reports see the source (R1).

The publisher runs in a child process against the HTTPS emulator on a socket. It is stopped at a point
chosen in its publish state (a pipe says it is there; it blocks until killed) or, for "the service stored
the rows but the answer never arrived", killed by the emulator itself right after it stored them. No sleeps:
the parent waits for the child's line or the emulator's event, then sends SIGKILL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from emulator.core.http import Request, Response
from powerbi_dataset.publish_steps import PostLoad
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import (
    DATASET_NAME,
    Publisher,
    ccr_staged,
    check_relationships,
    view_differences,
    write_staged,
)

ROOT = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_SECONDS = 120


@dataclass
class KillAfterStore:
    """A fault injector: SIGKILL the child once the emulator has stored its nth POST to a table's rows."""

    path_end: str = ""
    nth: int = 0
    pid: int | None = None
    seen: int = 0
    killed: threading.Event = field(default_factory=threading.Event)

    def before(self, service: Any, request: Request, now: Any) -> Response | None:
        return None

    def after(self, service: Any, request: Request, response: Response) -> Response:
        if (
            self.pid
            and request.method == "POST"
            and request.path.endswith(self.path_end)
            and response.status == 200
        ):
            self.seen += 1
            if self.seen == self.nth:
                os.kill(self.pid, signal.SIGKILL)
                self.killed.set()
                response.drop_connection = True
        return response


@dataclass(frozen=True)
class Stop:
    """Where the child dies: in its publish state (`method`, before/after its nth call) or at the service."""

    method: str  # a PublishState method, or "service"
    nth: int
    when: str = "before"
    table: str = ""  # count only calls (or stored POSTs) for this table

    def describe(self) -> str:
        if self.method == "service":
            return f"killed when the service had stored POST {self.nth} to {self.table or 'any table'}"
        return f"killed {self.when} state.{self.method} #{self.nth}"


@pytest.fixture
def killer() -> KillAfterStore:
    return KillAfterStore()


@pytest.fixture
def publisher(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path, killer: KillAfterStore
) -> Publisher:
    return Publisher(
        open_workspace(start_emulator, clock, waits, faults=killer), tmp_path / "state", clock, waits
    )


def run_child(
    publisher: Publisher,
    staged_dir: Path,
    chunk_rows: int,
    stop: Stop,
    killer: KillAfterStore,
    compact: tuple[str, ...] = (),
) -> None:
    """Start the child publisher and kill it with SIGKILL at `stop`."""
    workspace = publisher.workspace
    arguments = {
        "powerbi_url": workspace.emu.url("powerbi", ""),
        "ca_file": str(workspace.emu.ca_file),
        "group": workspace.group,
        "state_dir": str(publisher.state_dir),
        "staged": str(staged_dir),
        "dataset": DATASET_NAME,
        "chunk_rows": chunk_rows,
        "clock": publisher.clock.time(),
        "compact": list(compact),
        "stop": None
        if stop.method == "service"
        else {"method": stop.method, "nth": stop.nth, "when": stop.when, "table": stop.table},
    }
    environment = {**os.environ, "CETK_TEST_TOKEN": workspace.token(), "PYTHONPATH": str(ROOT)}
    if stop.method == "service":
        killer.path_end, killer.nth, killer.seen = (
            f"/tables/{stop.table}/rows" if stop.table else "/rows",
            stop.nth,
            0,
        )
        killer.killed.clear()
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.powerbi_dataset.publish_child", json.dumps(arguments)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=environment,
    )
    killer.pid = child.pid
    try:
        if stop.method == "service":
            assert killer.killed.wait(CHILD_TIMEOUT_SECONDS), (
                "the child never made the POST it was to die after"
            )
        else:
            line = _read_line(child)
            assert line.startswith(f"stopped {stop.method} {stop.nth}"), (
                line,
                child.stderr.read() if child.stderr else "",
            )
            child.send_signal(signal.SIGKILL)
        child.wait(CHILD_TIMEOUT_SECONDS)
        assert child.returncode == -signal.SIGKILL, child.stderr.read() if child.stderr else ""
    finally:
        killer.pid = None
        if child.poll() is None:
            child.kill()
            child.wait()
        for stream in (child.stdin, child.stdout, child.stderr):
            if stream is not None:
                stream.close()


def _read_line(child: subprocess.Popen[str]) -> str:
    found: list[str] = []
    reader = threading.Thread(target=lambda: found.append(child.stdout.readline() if child.stdout else ""))
    reader.start()
    reader.join(CHILD_TIMEOUT_SECONDS)
    return found[0] if found else ""


def visible_keys(stored: Mapping[str, Any], table: str = "ccr") -> list[str]:
    from powerbi_dataset.model import DATASET
    from powerbi_dataset.report_view import shown_rows

    return [row["ccr_id"] for row in shown_rows(stored, DATASET)[table]]


def test_r1_killed_after_chunk_3_acknowledged_before_the_state_write(
    publisher: Publisher, killer: KillAfterStore, tmp_path: Path
) -> None:
    staged = ccr_staged(25_000)
    stop = Stop("chunk_acked", 3, "before", table="ccr")
    run_child(publisher, write_staged(staged, tmp_path / "staged"), 5_000, stop, killer)
    stored_before = publisher.stored()
    assert (
        len(stored_before["ccr"]) == 15_000 and stored_before["_loads"] == []
    )  # 3 chunks stored, none committed

    publisher.publish(staged, chunk_rows=5_000)  # the rerun

    stored = publisher.stored()
    assert len(stored["_loads"]) == 1  # exactly one committed load
    keys = visible_keys(stored)
    assert len(keys) == 25_000 and len(set(keys)) == 25_000  # all seen, no duplicate ccr_id
    assert len(stored["ccr"]) > 25_000  # the dead load's rows are still stored: orphans, not counted
    assert view_differences(stored, staged) == {}
    assert check_relationships(stored) == []


STATE_STOPS = (
    ("chunk_sent", "after"),  # the chunk is recorded as sent; the POST never leaves
    ("chunk_acked", "before"),  # acknowledged, not recorded (R1)
    ("chunk_acked", "after"),
    ("deleting_rows", "after"),
)
COMMIT_STOPS = (
    Stop("committing", 1, "after"),  # about to post the commit row
    Stop("committed", 1, "before"),  # the commit row was acknowledged, not recorded
    Stop("service", 1, table="_loads"),  # the commit row stored, its answer lost
)


def random_stop(rng: random.Random, chunks: int) -> Stop:
    kind = rng.random()
    if kind < 0.2:
        return rng.choice(COMMIT_STOPS)
    if kind < 0.4:
        return Stop("service", rng.randint(1, chunks), table="")
    method, when = rng.choice(STATE_STOPS[:3])
    return Stop(method, rng.randint(1, chunks), when)


def changed(staged: Mapping[str, pa.Table], rng: random.Random) -> dict[str, pa.Table]:
    """The source after some edits at source: CCRs deleted and others changed, an officer changed."""
    out = dict(staged)
    ccr = staged["ccr"].to_pandas()
    drop = set(rng.sample(list(ccr["ccr_id"]), k=max(1, len(ccr) // 50)))
    ccr = ccr[~ccr["ccr_id"].isin(drop)].reset_index(drop=True)
    for index in rng.sample(range(len(ccr)), k=max(1, len(ccr) // 40)):
        ccr.loc[index, "information_submitted"] = not bool(ccr.loc[index, "information_submitted"])
    issues = staged["ccr_issues"].to_pandas()
    issues = issues[~issues["ccr_id"].isin(drop)]
    officers = staged["officers"].to_pandas()
    officers.loc[rng.randrange(len(officers)), "active"] = False
    for name, frame in (("ccr", ccr), ("ccr_issues", issues), ("officers", officers)):
        out[name] = pa.Table.from_pandas(frame, schema=staged[name].schema, preserve_index=False)
    return out


def planned_chunks(
    publisher: Publisher, source: Mapping[str, pa.Table], chunk_rows: int, compact: tuple[str, ...]
) -> int:
    """How many row POSTs the child's load will make (its plan, made here without writing anything)."""
    sink, store = publisher.sink(chunk_rows=chunk_rows, compact=frozenset(compact))
    try:
        loads = [step for step in sink.plan(source).steps if isinstance(step, PostLoad)]
    finally:
        store.close()
    return loads[0].posts - 1 if loads else 0


@pytest.mark.parametrize("seed", range(32))
def test_kill_9_at_a_random_point_then_rerun_shows_the_source(
    seed: int, publisher: Publisher, killer: KillAfterStore, tmp_path: Path
) -> None:
    rng = random.Random(f"crash-trial-{seed}")
    ccrs, chunk_rows = rng.randint(300, 1_200), rng.choice((200, 300, 500))
    first = ccr_staged(ccrs, salt=str(seed))
    source, compact = first, ()
    if rng.random() < 0.5:  # an incremental load dies, after a load was committed
        publisher.publish(first, chunk_rows=chunk_rows)
        source = changed(first, rng)
        if rng.random() < 0.4:  # and it compacts a table: DeleteRows, then the table's rows again
            compact = (rng.choice(("ccr", "ccr_issues", "officers")),)
    chunks = planned_chunks(publisher, source, chunk_rows, compact)
    stop = Stop("deleting_rows", 1, "after") if compact and rng.random() < 0.5 else random_stop(rng, chunks)
    run_child(publisher, write_staged(source, tmp_path / "staged"), chunk_rows, stop, killer, compact)
    final = changed(source, rng) if rng.random() < 0.5 else source  # the source may move on meanwhile

    publisher.publish(final, chunk_rows=chunk_rows)

    stored = publisher.stored()
    assert view_differences(stored, final) == {}, stop.describe()
    assert check_relationships(stored) == [], stop.describe()
    assert len(set(visible_keys(stored))) == len(visible_keys(stored)) == final["ccr"].num_rows


@pytest.mark.parametrize(
    "stop", [Stop("deleting_rows", 1, "after"), Stop("chunk_acked", 2, "after", table="ccr")]
)
def test_a_compaction_killed_midway_is_done_again_by_the_rerun(
    stop: Stop, publisher: Publisher, killer: KillAfterStore, tmp_path: Path
) -> None:
    staged = ccr_staged(1_200)
    publisher.publish(staged, chunk_rows=500)
    source = changed(staged, random.Random(5))
    publisher.publish(source, chunk_rows=500)  # ccr now holds two loads' versions

    run_child(publisher, write_staged(source, tmp_path / "staged"), 500, stop, killer, compact=("ccr",))
    publisher.publish(source, chunk_rows=500)

    stored = publisher.stored()
    assert view_differences(stored, source) == {}
    assert check_relationships(stored) == []
    assert len(stored["ccr"]) == source["ccr"].num_rows  # compacted: only the current versions are stored
