"""A push-mode `cetk sync` (and a `cetk publish`) in which nothing changed: CPU and wall, with the skip of
the published tables' build (pipeline/publish_inputs.py) and without it, side by side in one run.

The emulator (`cetk emulator serve --https`, the demo force, as `make demo` starts it) runs in its own child
process; the syncs run in this process, one after another, so `time.process_time` is the sync's own CPU.
Two syncs (not timed) stage every list and publish (before a fix to the quarantine's re-check, the demo
force's second sync staged one event more than its first; two keep the figures comparable). Then, `--rounds` times, alternating which goes
first:
  - with the skip: `pipeline.sync(settings)` as shipped (the publish finds the inputs digest unchanged);
  - without it:  the same sync with `pipeline.publish.inputs_recorded` answering False, so the publish
    builds the published tables and compares them with the state, as every run did before: this tree's
    code path of before plus the digest (measured apart below, ~0.01 s), so the saving is if anything
    understated.
and the same two ways for `pipeline.publish(settings)` (`cetk publish` with and without `--force`).
Medians are printed, with each run's publish status as a check that both did what they claim.

Run by hand: `.venv/bin/python -m bench.bench_push_skip [--events 300] [--ccrs 1500] [--rounds 5]`.
Results go in docs/performance.md ("A sync with nothing changed").
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from config.loader import load
from pipeline import publish, sync
from pipeline.demo import _emulator
from pipeline.publish_inputs import published_inputs

PUBLISH_MODULE = importlib.import_module("pipeline.publish")  # `pipeline.publish` names the function


def timed(function: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = function()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def without_skip(function: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        real = PUBLISH_MODULE.inputs_recorded
        PUBLISH_MODULE.inputs_recorded = lambda store, inputs: False
        try:
            return function()
        finally:
            PUBLISH_MODULE.inputs_recorded = real

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300)  # the demo's (pipeline/demo.py run_demo)
    parser.add_argument("--ccrs", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    with (
        tempfile.TemporaryDirectory() as folder,
        _emulator(Path(folder) / "emulator", events=options.events, ccrs=options.ccrs) as config_file,
    ):
        overrides = {
            "paths.staging_dir": f"{folder}/staging",
            "paths.quarantine_dir": f"{folder}/staging/quarantine",
            "paths.state_dir": f"{folder}/state",
        }
        environment = {**os.environ, "CETK_PSEUDONYMISATION_KEY": secrets.token_hex(32)}
        settings = load(config_file, environment, overrides).settings
        for warm in ("first", "second"):  # as before the re-check fix (module docstring)
            done = sync(settings).report["publish"]
            print(f"{warm} sync (not timed): publish {done['status']}, {done['rows']} rows")
        cases: dict[str, Callable[[], Any]] = {
            "sync, skip": lambda: sync(settings).report["publish"]["status"],
            "sync, no skip (before)": without_skip(lambda: sync(settings).report["publish"]["status"]),
            "publish, skip": lambda: publish(settings).to_dict()["status"],
            "publish --force (before)": lambda: publish(settings, force=True).to_dict()["status"],
        }
        results: dict[str, list[tuple[float, float, Any]]] = {name: [] for name in cases}
        names = list(cases)
        for round_number in range(options.rounds):
            order = names if round_number % 2 == 0 else list(reversed(names))
            for name in order:
                results[name].append(timed(cases[name]))
            print(f"round {round_number + 1}: load average {os.getloadavg()[0]:.1f}")
        digest_cpu = [timed(lambda: published_inputs(settings))[0] for _ in range(5)]
    print(f"{'case':<26} {'CPU median':>10} {'wall median':>11}  statuses")
    for name, runs in results.items():
        cpu = statistics.median(run[0] for run in runs)
        wall = statistics.median(run[1] for run in runs)
        print(f"{name:<26} {cpu:>9.2f}s {wall:>10.2f}s  {sorted({str(run[2]) for run in runs})}")
    print(f"inputs digest alone: {statistics.median(digest_cpu) * 1000:.1f} ms CPU (median of 5)")


if __name__ == "__main__":
    main()
