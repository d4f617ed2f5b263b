"""Theme classifier accuracy on the labelled sample, and scrub/classify throughput on demo free text.

Run by hand:
  .venv/bin/python -m bench.bench_themes accuracy          # micro and per-theme precision/recall
  .venv/bin/python -m bench.bench_themes speed [--rows N] [--repeat K]
Record the figures in docs/themes.md (accuracy) and docs/performance.md (speed).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from emulator.demo.force import generate_force
from transforms.scrub import scrub
from transforms.theme_taxonomy import load_taxonomy
from transforms.themes import classify

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "transforms" / "data" / "theme_labels.csv"


def _scores(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def accuracy() -> None:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = classify(pd.Series([row["text"] for row in rows]), load_taxonomy())
    predicted = found.groupby("row")["theme_code"].apply(set).to_dict()
    for part in ("tune", "holdout", "all"):
        chosen = [i for i, row in enumerate(rows) if part == "all" or row["split"] == part]
        tp, fp, fn = Counter[str](), Counter[str](), Counter[str]()
        for i in chosen:
            expected, got = set(rows[i]["themes"].split(";")), predicted.get(i, set())
            tp.update(expected & got)
            fp.update(got - expected)
            fn.update(expected - got)
        precision, recall = _scores(sum(tp.values()), sum(fp.values()), sum(fn.values()))
        print(f"\n{part}: {len(chosen)} texts, micro precision {precision:.3f}, recall {recall:.3f}")
        if part == "tune":
            continue
        print("| theme | labelled | precision | recall |\n|---|---|---|---|")
        for code in sorted(set(tp) | set(fp) | set(fn)):
            p, r = _scores(tp[code], fp[code], fn[code])
            print(f"| {code} | {tp[code] + fn[code]} | {p:.2f} | {r:.2f} |")


def demo_texts(rows: int) -> list[str]:
    """`rows` free texts of the demo force (its event notes, event names and "You said"), repeated as needed."""
    force = generate_force(seed=7, events=2000, ccrs=50, invalid_fraction=0)
    actions = force.tables["you_said_we_did"]
    pool = [*map(str, force.event_notes.values()), *map(str, force.tables["events"]["event_name"]),
            *map(str, actions["you_said"])]  # fmt: skip
    return (pool * (rows // len(pool) + 1))[:rows]


def speed(rows: int, repeat: int) -> None:
    texts = pd.Series(demo_texts(rows))
    taxonomy = load_taxonomy()
    classify(texts.head(10), taxonomy)  # builds the cached patterns
    for name, run in (
        ("scrub", lambda: scrub(texts)),
        ("classify (scrub included)", lambda: classify(texts, taxonomy)),
    ):
        seconds = []
        for _ in range(repeat):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds)
        print(
            f"{name}: {rows} texts, best {min(seconds):.2f} s, median {median:.2f} s, {rows / median:,.0f} texts/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_themes", description=__doc__)
    parser.add_argument("what", choices=("accuracy", "speed"))
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.what == "accuracy":
        accuracy()
    else:
        speed(args.rows, args.repeat)


if __name__ == "__main__":
    main()
