"""Benchmark `cetk migrate forms`' read + map + validate against pandas+openpyxl on the same file (issue 10).

Run by hand: `.venv/bin/python -m bench.bench_forms_migrate [--repeat K] [--skip-r19] [--compare REV]`
(`--compare main`: only cetk, REV's tree from git archive against this checkout, rounds alternating which
goes first, CPU time per child); record the figures
in docs/performance.md (## Forms migration). The exports are bench/bench_forms_read.py's (cached in
--cache-dir). Each measurement runs in its own child process; peak RSS is that child's VmHWM.

- cetk: pipeline.migrate_rows.read_and_map: guard, the worksheet as Arrow columns by fastexcel
  (python-calamine's cells where those cannot be matched, the streaming reader for big sheets), the
  tables, London to UTC, HMAC pseudonyms, the Forms mapping, dedupe by migration key, validation of the
  CCR and issue tables against the model, the quarantine split. Nothing is written.
- pandas+openpyxl: pandas.read_excel(engine="openpyxl"), then the same mapping with pandas (.map on the
  coded columns, split and explode for the checkbox question, HMAC per distinct email, London to UTC);
  no validation and no dedupe, so it does less work than cetk.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_forms_read import ROOT, _rss_kib, generate_export

KEY = b"b" * 40  # a fake key, long enough for privacy.require_key
SETTING_CODES = {"Street": "PATROL", "Community event": "OTHER", "Home visit": "DOOR_KNOCK",
                 "Shop or business": "BUSINESS_VISIT", "School": "OTHER"}  # fmt: skip
THEME_CODES = {"Antisocial behaviour": "ASB", "Drugs": "DRUGS", "Speeding and road safety": "SPEEDING_ROAD_SAFETY",
               "Burglary": "BURGLARY", "Fraud and scams": "FRAUD_SCAMS", "Litter": "FLY_TIPPING_ENVIRONMENTAL"}  # fmt: skip
ETHNICITY_CODES = {"White - British (W1)": "W_BRITISH", "Indian (A1)": "A_INDIAN", "Caribbean (B1)": "B_CARIBBEAN",
                   "Any other White background (W9)": "W_OTHER"}  # fmt: skip
KINDS = ["choice", "multi", "text", "rating", "setting", "ethnicity"]
# kind -> the canonical column the first questions of that kind feed (the rest are ignored)
TARGETS = {"setting": ["contact_setting"], "multi": ["theme_code"], "ethnicity": ["ethnicity_2021"],
           "rating": ["confidence_understands_issues", "confidence_deals_with_asb"]}  # fmt: skip


def question_text(number: int) -> str:
    kind = KINDS[(number - 1) % len(KINDS)]
    return f"Q{number}: {kind} question number {number}"


def bench_mapping(questions: int) -> Any:
    from transforms.forms_mapping import FormMapping, FormsMapping, QuestionMapping

    taken: dict[str, int] = {}
    entries = []
    for number in range(1, questions + 1):
        text, kind = question_text(number), KINDS[(number - 1) % len(KINDS)]
        targets = TARGETS.get(kind, [])
        index = taken.get(kind, 0)
        taken[kind] = index + 1
        if index >= len(targets):
            entries.append(QuestionMapping(text, ignore="not in the model"))
        elif kind == "setting":
            entries.append(QuestionMapping(text, to=targets[index], choices=tuple(SETTING_CODES.items())))
        elif kind == "multi":
            entries.append(QuestionMapping(text, to=targets[index], choices=tuple(THEME_CODES.items()),
                                           multi=True, bridge="ccr_issues"))  # fmt: skip
        elif kind == "ethnicity":
            entries.append(QuestionMapping(text, to=targets[index], choices=tuple(ETHNICITY_CODES.items())))
        else:
            entries.append(QuestionMapping(text, to=targets[index]))
    constants = (("lpt_code", "STOKE_N"), ("information_submitted", False), ("smart_alert_signup", False),
                 ("diversity_consent", True))  # fmt: skip
    form = FormMapping("bench", "ccr", tuple(entries), files=("forms_*",), constants=constants,
                       completion_time="recorded_utc", respondent="officer_key")  # fmt: skip
    return FormsMapping((form,))


def child(job: str, path: str) -> dict[str, float]:
    baseline = _rss_kib("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    figures: dict[str, float] = {}
    questions = int(Path(path).stem.split("x")[-1])
    if job == "cetk":
        from connectors.forms_export import ReadOptions
        from connectors.forms_guard import MIB, InputLimits
        from pipeline.migrate_rows import read_and_map

        figures["import_cpu_seconds"] = time.process_time() - cpu_started  # the pipeline package, pyarrow...
        limits = InputLimits(max_file_bytes=100 * MIB, max_uncompressed_bytes=1024 * MIB)
        options = ReadOptions(limits=limits, pseudonym_key=KEY)
        rows = read_and_map([Path(path)], bench_mapping(questions), options, options)
        figures.update(rows=rows.read, valid=rows.mapped, quarantined=rows.quarantined)
    else:
        figures.update(_pandas(path, questions))
    figures["seconds"] = time.perf_counter() - started
    figures["cpu_seconds"] = time.process_time() - cpu_started  # this process's CPU: less moved by load
    figures["peak_rss_mib"] = _rss_kib("VmHWM") / 1024
    figures["rss_growth_mib"] = (_rss_kib("VmHWM") - baseline) / 1024
    return figures


def _pandas(path: str, questions: int) -> dict[str, float]:
    import pandas as pd

    frame = pd.read_excel(path, engine="openpyxl")
    names = {kind: [question_text(n) for n in range(1, questions + 1) if KINDS[(n - 1) % len(KINDS)] == kind]
             for kind in KINDS}  # fmt: skip
    keys = {email: hmac.new(KEY, email.strip().casefold().encode(), hashlib.sha256).hexdigest()[:16]
            for email in frame["Email"].dropna().unique() if email != "anonymous"}  # fmt: skip
    completed = pd.to_datetime(frame["Completion time"]).dt.tz_localize(
        "Europe/London", ambiguous="NaT", nonexistent="NaT"
    )
    out = pd.DataFrame({
        "ccr_id": "forms:bench:" + frame["ID"].astype(str),
        "recorded_utc": completed.dt.tz_convert("UTC"),
        "recorded_local_date": completed.dt.normalize(),
        "officer_key": frame["Email"].map(keys),
        "contact_setting": frame[names["setting"][0]].map(SETTING_CODES),
        "ethnicity_2021": frame[names["ethnicity"][0]].map(ETHNICITY_CODES),
        "confidence_understands_issues": pd.to_numeric(frame[names["rating"][0]], errors="coerce"),
        "confidence_deals_with_asb": pd.to_numeric(frame[names["rating"][1]], errors="coerce"),
        "source_system": "forms_legacy",
    })  # fmt: skip
    themes = frame[names["multi"][0]].str.split(";").explode().str.strip()
    issues = pd.DataFrame(
        {"ccr_id": out["ccr_id"].reindex(themes.index), "theme_code": themes.map(THEME_CODES)}
    )
    issues = issues.dropna().drop_duplicates()
    return {"rows": float(len(out)), "issues": float(len(issues))}


def measure(job: str, path: Path, root: Path = ROOT) -> dict[str, float]:
    """One measurement in a child process; `root` is the checkout whose code it runs (first on sys.path)."""
    # this file's child(), with the product's packages (and bench_forms_read) from `root`
    command = [sys.executable, str(Path(__file__).resolve()), "--child", job, str(path)]
    environment = {**os.environ, "PYTHONPATH": str(root)}
    output = subprocess.run(
        command, cwd=root, env=environment, check=True, capture_output=True, text=True
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def export_revision(revision: str, into: Path) -> Path:
    """The whole tree of git revision `revision` (git archive), to run its code side by side with this one."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def compare(revision: str, export: Path, rounds: int) -> None:
    """cetk of `revision` and of this checkout on the same file, alternating which goes first each round."""
    with tempfile.TemporaryDirectory(prefix="cetk-bench-compare-") as directory:
        before_root = export_revision(revision, Path(directory))
        for root in (before_root, ROOT):  # as installed: this machine sets PYTHONDONTWRITEBYTECODE, so a
            # fresh export would compile every module from source in every child
            subprocess.run([sys.executable, "-m", "compileall", "-q", "-x", r"/(\.venv|\.git)/", str(root)],
                           check=True)  # fmt: skip
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for number in range(rounds):
            sides = [("before", before_root), ("after", ROOT)]
            for side, root in sides if number % 2 == 0 else reversed(sides):
                runs[side].append(measure("cetk", export, root))
                print(f"round {number + 1} {side}: {runs[side][-1]['cpu_seconds']:.2f} s CPU, "
                      f"{runs[side][-1]['seconds']:.2f} s wall, load {os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    rows = runs["after"][0]["rows"]
    for side, label in (("before", revision), ("after", "this checkout")):
        cpu = statistics.median(run["cpu_seconds"] for run in runs[side])
        work = statistics.median(_work(run) for run in runs[side])
        wall = statistics.median(run["seconds"] for run in runs[side])
        print(f"{label}: median CPU {cpu:.2f} s ({rows / cpu:,.0f} rows/s), without imports {work:.2f} s "
              f"({rows / work:,.0f} rows/s); median wall {wall:.2f} s ({rows / wall:,.0f} rows/s), "
              f"peak RSS {max(r['peak_rss_mib'] for r in runs[side]):.0f} MiB")  # fmt: skip
    for name, seconds in (("CPU", lambda run: run["cpu_seconds"]), ("CPU without imports", _work)):
        ratios = [seconds(b) / seconds(a) for b, a in zip(runs["before"], runs["after"], strict=True)]
        print(f"{name}, before / after per round: {[round(r, 2) for r in ratios]}, "
              f"median {statistics.median(ratios):.2f}x")  # fmt: skip


def _work(run: dict[str, float]) -> float:
    """A child's CPU seconds after its imports: the reading, mapping and validating."""
    return run["cpu_seconds"] - run["import_cpu_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (median quoted)")
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/cetk-bench-forms"))
    parser.add_argument("--skip-r19", action="store_true")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument(
        "--compare", metavar="REV", help="time git revision REV's cetk against this one, only"
    )
    parser.add_argument("--child", nargs=2, metavar=("JOB", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}")
    print(f"load average before: {os.getloadavg()}")
    export = generate_export(args.cache_dir / "forms_100000x20.xlsx", 100_000, 20)
    if args.compare:
        compare(args.compare, export, args.repeat)
        print(f"load average after: {os.getloadavg()}")
        return
    ours, theirs = [], []
    for _ in range(args.repeat):  # interleaved, so machine load falls on both alike
        ours.append(measure("cetk", export))
        if not args.skip_pandas:
            theirs.append(measure("pandas", export))
    rows = ours[0]["rows"]
    cetk_seconds = statistics.median(run["seconds"] for run in ours)
    print(f"cetk read+map+validate: runs {[round(r['seconds'], 2) for r in ours]} s, median {cetk_seconds:.2f} s, "
          f"{rows / cetk_seconds:,.0f} rows/s (CPU {statistics.median(r['cpu_seconds'] for r in ours):.2f} s), valid {ours[0]['valid']:.0f}, quarantined {ours[0]['quarantined']:.0f}, "
          f"peak RSS {max(r['peak_rss_mib'] for r in ours):.0f} MiB")  # fmt: skip
    if theirs:
        pandas_seconds = statistics.median(run["seconds"] for run in theirs)
        print(f"pandas+openpyxl read+map: runs {[round(r['seconds'], 2) for r in theirs]} s, median "
              f"{pandas_seconds:.2f} s, {rows / pandas_seconds:,.0f} rows/s "
              f"(CPU {statistics.median(r['cpu_seconds'] for r in theirs):.2f} s), "
              f"peak RSS {max(r['peak_rss_mib'] for r in theirs):.0f} MiB")  # fmt: skip
        print(f"ratio (pandas time / cetk time): {pandas_seconds / cetk_seconds:.1f}x")
        cpu_ratio = statistics.median(r["cpu_seconds"] for r in theirs) / statistics.median(
            r["cpu_seconds"] for r in ours
        )
        print(f"ratio of CPU time: {cpu_ratio:.1f}x")
    if not args.skip_r19:
        big = generate_export(args.cache_dir / "forms_50000x195.xlsx", 50_000, 195)
        figures = measure("cetk", big)
        print(f"R19 200 columns x 50,000 rows read+map+validate: {figures['seconds']:.1f} s, "
              f"peak RSS {figures['peak_rss_mib']:.0f} MiB")  # fmt: skip
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
