"""Benchmark the Forms export reader against pandas.read_excel(engine="openpyxl"), plus R19 and S5/S6.

Run by hand: `.venv/bin/python -m bench.bench_forms_read [--rows N] [--questions Q] [--repeat K]
[--skip-r19] [--skip-security]`; record the figures in docs/performance.md (## Forms export reader).
Generated exports are cached in --cache-dir (openpyxl write-only takes minutes for the big one).
Peak RSS figures come from child processes reading /proc/self/status (VmHWM), one job per child.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
SEED = 20_261_130
CHOICES = ("Strongly agree", "Agree", "Neither agree nor disagree", "Disagree", "Strongly disagree")
SETTINGS = ("Street", "Community event", "Home visit", "Shop or business", "School")
THEMES = (
    "Antisocial behaviour",
    "Drugs",
    "Speeding and road safety",
    "Burglary",
    "Fraud and scams",
    "Litter",
)
ETHNICITY = ("White - British (W1)", "Indian (A1)", "Caribbean (B1)", "Any other White background (W9)")
COMMENTS = ("", "", "Concerned about parking near the school.", "=1+1", "Thanks for the visit.", "@x")


def generate_export(path: Path, rows: int, questions: int) -> Path:
    """A Forms-shaped .xlsx written with openpyxl's write-only mode: real date-times, mixed answers."""
    if path.exists():
        return path
    rng = random.Random(SEED)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Sheet1")
    kinds = ["choice", "multi", "text", "rating", "setting", "ethnicity"]
    header = ["ID", "Start time", "Completion time", "Email", "Name"]
    header += [f"Q{n + 1}: {kinds[n % len(kinds)]} question number {n + 1}" for n in range(questions)]
    sheet.append(header)
    start = dt.datetime(2023, 1, 2, 9, 0)
    for number in range(1, rows + 1):
        completed = start + dt.timedelta(minutes=7 * number)
        anonymous = rng.random() < 0.4
        row: list[object] = [
            number,
            completed - dt.timedelta(minutes=rng.randint(2, 9)),
            completed,
            "anonymous" if anonymous else f"officer{rng.randint(1, 500)}@force.police.uk",
            "" if anonymous else f"Officer {rng.randint(1, 500)}",
        ]
        for n in range(questions):
            kind = kinds[n % len(kinds)]
            if kind == "choice":
                row.append(rng.choice(CHOICES))
            elif kind == "multi":
                row.append("".join(f"{theme};" for theme in rng.sample(THEMES, rng.randint(1, 3))))
            elif kind == "text":
                row.append(rng.choice(COMMENTS))
            elif kind == "rating":
                row.append(rng.randint(1, 5))
            elif kind == "setting":
                row.append(rng.choice(SETTINGS))
            else:
                row.append(rng.choice(ETHNICITY))
        sheet.append(row)
    partial = path.with_suffix(".partial.xlsx")
    workbook.save(partial)
    partial.replace(path)
    return path


def child(job: str, path: str) -> dict[str, float]:
    """Run one measured job in this (child) process and return its figures."""
    baseline = _rss_kib("VmRSS")
    started = time.perf_counter()
    figures: dict[str, float] = {}
    if job == "cetk":
        from connectors.forms_export import ReadOptions, read_export
        from connectors.forms_guard import MIB, InputLimits

        limits = InputLimits(max_file_bytes=100 * MIB, max_uncompressed_bytes=1024 * MIB)
        export = read_export(Path(path), ReadOptions(limits=limits, pseudonym_key=b"bench-key" * 4))
        figures["rows"] = export.row_count
        figures["arrow_mib"] = (export.responses.nbytes + export.answers.nbytes) / 2**20
    elif job == "pandas":
        import pandas as pd

        frame = pd.read_excel(path, engine="openpyxl")
        figures["rows"] = len(frame)
    elif job in ("s5", "s6"):
        from connectors.forms_export import parse_export
        from errors import SourceFormatError
        from tests.connectors.forms_fixtures import (
            BILLION_LAUGHS,
            overlapping_zip_bomb,
            xlsx_parts,
            zip_bytes,
        )

        data = zip_bytes(xlsx_parts(shared_strings=BILLION_LAUGHS)) if job == "s5" else overlapping_zip_bomb()
        figures["file_kib"] = len(data) / 1024
        baseline = _rss_kib("VmRSS")
        started = time.perf_counter()
        try:
            parse_export(data, "bomb.xlsx")
            figures["refused"] = 0
        except SourceFormatError:
            figures["refused"] = 1
    figures["seconds"] = time.perf_counter() - started
    figures["peak_rss_mib"] = _rss_kib("VmHWM") / 1024
    figures["rss_growth_mib"] = (_rss_kib("VmHWM") - baseline) / 1024
    return figures


def measure(job: str, path: Path | str = "") -> dict[str, float]:
    command = [sys.executable, "-m", "bench.bench_forms_read", "--child", job, str(path)]
    output = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each reader (median quoted)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/cetk-bench-forms"))
    parser.add_argument("--skip-r19", action="store_true")
    parser.add_argument("--skip-security", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("JOB", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}"
    )
    print(f"load average before: {os.getloadavg()}")
    export = generate_export(
        args.cache_dir / f"forms_{args.rows}x{args.questions}.xlsx", args.rows, args.questions
    )
    print(f"export: {export} ({export.stat().st_size / 2**20:.1f} MiB)")
    ours, theirs = [], []
    for _ in range(args.repeat):  # interleaved, so machine load falls on both alike
        ours.append(measure("cetk", export))
        theirs.append(measure("pandas", export))
    cetk_seconds = statistics.median(run["seconds"] for run in ours)
    pandas_seconds = statistics.median(run["seconds"] for run in theirs)
    print(
        f"cetk read_export: runs {[round(r['seconds'], 2) for r in ours]} s, median {cetk_seconds:.2f} s, "
        f"{args.rows / cetk_seconds:,.0f} rows/s, peak RSS {max(r['peak_rss_mib'] for r in ours):.0f} MiB"
    )
    print(
        f"pandas+openpyxl: runs {[round(r['seconds'], 2) for r in theirs]} s, median {pandas_seconds:.2f} s, "
        f"{args.rows / pandas_seconds:,.0f} rows/s, peak RSS {max(r['peak_rss_mib'] for r in theirs):.0f} MiB"
    )
    print(f"ratio (pandas time / cetk time): {pandas_seconds / cetk_seconds:.1f}x")
    if not args.skip_r19:
        big = generate_export(args.cache_dir / "forms_50000x195.xlsx", 50_000, 195)
        figures = measure("cetk", big)
        print(
            f"R19 200 columns x 50,000 rows ({big.stat().st_size / 2**20:.1f} MiB): {figures['seconds']:.1f} s, "
            f"peak RSS {figures['peak_rss_mib']:.0f} MiB, Arrow tables {figures['arrow_mib']:.0f} MiB"
        )
    if not args.skip_security:
        for job in ("s5", "s6"):
            figures = measure(job)
            print(
                f"{job.upper()}: {figures['file_kib']:.0f} KiB file refused={bool(figures['refused'])} in "
                f"{figures['seconds'] * 1000:.0f} ms, RSS growth {figures['rss_growth_mib']:.1f} MiB"
            )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
