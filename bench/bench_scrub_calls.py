"""Benchmark the scrubber alone on the calls one pass of the sync's transform stage makes.

Run by hand: `.venv/bin/python -m bench.bench_scrub_calls --pages DIR [--compare REV] [--repeat K]`, where
DIR holds pages recorded by `bench.bench_sync_transform --keep DIR`, or `--rows N` for one call of N demo
texts (the pool of bench_themes, repeated); record the figures in docs/performance.md (## Sync transform
stage).

One pass of the transform stage (pages decoded into Arrow, gathered as the sync gathers them, the
scrubber's memo emptied first) is run once, untimed, to capture the texts of every
`Scrubber.scrub_arrow` call. Then each call is timed in CPU seconds (`time.process_time`: the machine
is shared) with this checkout's scrubber and with `transforms/scrub.py` of git revision REV (loaded
beside it as another module; both use this checkout's lexicon), the two sides interleaved in every
round, alternating which goes first. Both sides must give the same texts and counts on every call.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from bench import bench_sync_transform as stage
from bench.bench_themes import demo_texts
from transforms import minimise
from transforms import scrub as here

CLOCK = time.process_time


def captured_calls(pages: Path) -> list[list[str | None]]:
    """The texts of each scrub_arrow call of one pass over the recorded pages."""
    calls: list[list[str | None]] = []
    original = here.Scrubber.scrub_arrow

    def spy(self: here.Scrubber, texts: Any) -> Any:
        calls.append(texts.to_pylist())
        return original(self, texts)

    manifest = json.loads((pages / "manifest.json").read_text())
    minimise.clear_memo()
    with tempfile.TemporaryDirectory(prefix="cetk-bench-scrub-") as out:
        here.Scrubber.scrub_arrow = spy  # type: ignore[method-assign]
        try:
            decoder: Any = stage.IntoArrow()  # what the bench's own pass hands transform for Arrow pages
            stage.transform(pages, manifest, decoder, Path(out), True, None, False, True)
        finally:
            here.Scrubber.scrub_arrow = original  # type: ignore[method-assign]
    return calls


def scrub_module_of(revision: str, into: Path) -> ModuleType:
    """transforms/scrub.py as it was at `revision`, imported as a module of its own."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "-C", str(root), "show", f"{revision}:transforms/scrub.py"],
                            capture_output=True, check=True, text=True).stdout  # fmt: skip
    path = into / "scrub_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("scrub_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pages", type=Path, help="pages kept by bench_sync_transform --keep")
    source.add_argument("--rows", type=int, help="one call of this many demo texts instead")
    parser.add_argument("--compare", default="main", metavar="REV")
    parser.add_argument("--repeat", type=int, default=7)
    arguments = parser.parse_args()
    calls = (
        captured_calls(arguments.pages)
        if arguments.rows is None
        else [list[str | None](demo_texts(arguments.rows))]
    )
    arrays = [pa.array(texts, pa.string()) for texts in calls]
    print(f"{len(calls)} scrubber calls, texts: {', '.join(str(len(texts)) for texts in calls)}")
    with tempfile.TemporaryDirectory(prefix="cetk-bench-scrub-") as directory:
        before = scrub_module_of(arguments.compare, Path(directory))
        sides = {"before": before.Scrubber(), "after": here.Scrubber()}
        for array in arrays:
            a_text, a_counts = sides["after"].scrub_arrow(array)
            b_text, b_counts = sides["before"].scrub_arrow(array)
            if not a_text.equals(b_text) or a_counts != b_counts:
                sys.exit("the two scrubbers differ on a call")
        seconds: dict[str, list[list[float]]] = {side: [[] for _ in arrays] for side in sides}
        for round_ in range(arguments.repeat):
            order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
            for index, array in enumerate(arrays):
                for side in order:
                    start = CLOCK()
                    sides[side].scrub_arrow(array)
                    seconds[side][index].append(CLOCK() - start)
    totals = {}
    for side, per_call in seconds.items():
        medians = [statistics.median(values) * 1000 for values in per_call]
        totals[side] = sum(medians)
        print(f"{side:>6} ({arguments.compare if side == 'before' else 'this checkout'}): "
              f"{' '.join(f'{ms:6.1f}' for ms in medians)} ms a call (median of {arguments.repeat}), "
              f"total {totals[side]:.1f} ms")  # fmt: skip
    print(f"after / before: {totals['after'] / totals['before']:.2f}; outputs equal on every call")
    print(f"load average at the end: {', '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
