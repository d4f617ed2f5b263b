"""A publisher in its own process, to be killed with SIGKILL at an exact point (tests/powerbi_dataset/test_crash.py).

    python -m tests.powerbi_dataset.publish_child '{"base_url": ..., "stop": {"method": "chunk_acked", ...}}'

It reads the staged Parquet files, signs nothing (the parent hands it a token in CETK_TEST_TOKEN), and
publishes through the real client and the real publish state. When the publish state is about to run (or
has just run) the `stop` method for the `nth` time, it prints `stopped <method> <nth>` on stdout and
blocks reading stdin, so the parent can kill it at exactly that point; without a stop it publishes to the end.
Its clock starts at the parent's manual time and moves only when the pacer sleeps.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from connectors.http import RetryPolicy, build_session
from connectors.powerbi import PowerBIClient
from connectors.publish_state import PublishState
from powerbi_dataset.publish import PublishOptions, PushSink


class FakeTime:
    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class StoppingState:
    """The real PublishState, stopping the process around the nth call of one method."""

    def __init__(self, state: PublishState, method: str, nth: int, when: str, table: str = "") -> None:
        self._state, self._method, self._nth, self._when, self._table = state, method, nth, when, table
        self._calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._state, name)
        if name != self._method:
            return attribute

        def stopping(*args: Any, **kwargs: Any) -> Any:
            if self._table and (len(args) < 2 or args[1] != self._table):  # chunk_*(seq, table, ...)
                return attribute(*args, **kwargs)
            self._calls += 1
            if self._calls == self._nth and self._when == "before":
                _stop(name, self._calls)
            result = attribute(*args, **kwargs)
            if self._calls == self._nth and self._when == "after":
                _stop(name, self._calls)
            return result

        return stopping


def _stop(method: str, nth: int) -> None:
    sys.stdout.write(f"stopped {method} {nth}\n")
    sys.stdout.flush()
    sys.stdin.read()  # blocks until the parent kills the process
    os._exit(99)  # the parent closed stdin without killing: never carry on from a stop


def main(arguments: dict[str, Any]) -> None:
    clock = FakeTime(float(arguments["clock"]))
    token = os.environ["CETK_TEST_TOKEN"]
    session = build_session(
        lambda: token,
        user_agent="NONISV|Test Constabulary|cetk/0.1.0",
        ca_bundle=arguments["ca_file"],
        retries=RetryPolicy(),
        sleep=clock.sleep,
        clock=clock.time,
        jitter=lambda: 0.0,
        timeout=(5.0, 30.0),
    )
    client = PowerBIClient(session, arguments["powerbi_url"], arguments["group"])
    staged = {path.stem: pq.read_table(path) for path in sorted(Path(arguments["staged"]).glob("*.parquet"))}
    state = PublishState.open(Path(arguments["state_dir"]))
    stop = arguments.get("stop")
    store: Any = (
        StoppingState(state, stop["method"], stop["nth"], stop["when"], stop.get("table", ""))
        if stop
        else state
    )
    sink = PushSink(
        client,
        store,
        options=PublishOptions(
            arguments["dataset"],
            chunk_rows=int(arguments["chunk_rows"]),
            compact=frozenset(arguments.get("compact", ())),
        ),
        clock=clock.time,
        sleep=clock.sleep,
    )
    for step in sink.plan(staged).steps:
        step.apply()
    sys.stdout.write(json.dumps(sink.result.to_dict()) + "\n")


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
