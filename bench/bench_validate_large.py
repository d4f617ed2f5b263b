"""Benchmark `cetk validate` on a large canonical CCR CSV (default 2 GiB) in a child process.

The file is generated on disk batch by batch (pyarrow's CSV writer: never the whole file in memory),
with about 0.5% bad values (unknown codes, phone numbers in a code column, repeated keys, times on
date-only columns). Then `cetk validate FILE` runs as a child process and the parent reports its peak
RSS (os.wait4's ru_maxrss for that child alone), wall time and rows/s. The file is deleted afterwards
unless --keep. Record the output in docs/performance.md.

Run by hand:
    .venv/bin/python -m bench.bench_validate_large [--gib 2] [--pythonpath DIR] [--keep]
`--pythonpath DIR` runs another checkout's code on the same file (e.g. the code before streaming).
`--header-columns N` instead times a CSV whose header has N extra columns (the header checks' cost).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from bench.bench_validate import _machine
from powerbi_dataset import codes as c
from powerbi_dataset.model import DATASET

SEED = 20_261_130
BATCH_ROWS = 200_000
BAD_SHARE = 0.005
AS_OF = "2026-06-01T00:00:00Z"
START_EPOCH = 1_640_995_200  # 2022-01-01T00:00:00Z


def _pick(rng: np.random.Generator, choices: list[str], rows: int) -> pa.Array:
    return pa.array(np.array(choices, dtype=object)[rng.integers(0, len(choices), rows)], pa.string())


def _spoil(rng: np.random.Generator, values: pa.Array, bad: str) -> pa.Array:
    hit = pa.array(rng.random(len(values)) < BAD_SHARE)
    return pc.if_else(hit, pa.scalar(bad, pa.string()), values)


def ccr_batch(rng: np.random.Generator, start: int, rows: int) -> pa.RecordBatch:
    """`rows` canonical CCR rows as text, numbered from `start`."""

    def codes(items: tuple[c.Code, ...]) -> list[str]:
        return [item.code for item in items]

    empty = pa.nulls(rows, pa.string())
    recorded = START_EPOCH + rng.integers(0, 4 * 365 * 86_400, rows)
    stamps = pa.array(recorded * 1_000_000, pa.timestamp("us", tz="UTC"))
    consent = rng.random(rows) < 0.6
    health = _pick(rng, codes(c.YES_NO_PNS), rows)
    gated = pa.array(~consent)

    def demographic(values: pa.Array) -> pa.Array:
        return pc.if_else(gated, empty, values)

    identifiers = np.arange(start, start + rows)
    columns = {
        "ccr_id": pa.array([f"ccr-{n:09d}" for n in identifiers.tolist()], pa.string()),
        "recorded_utc": pc.strftime(stamps, "%Y-%m-%dT%H:%M:%SZ"),
        "recorded_local_date": pc.strftime(stamps, "%Y-%m-%d"),
        "lpt_code": _pick(rng, codes(c.LPT_CODES), rows),
        "lsoa21_code": pa.array([f"E01{n:06d}" for n in rng.integers(0, 35_000, rows).tolist()]),
        "ward_code": pa.array([f"E05{n:06d}" for n in rng.integers(0, 9_000, rows).tolist()]),
        "event_id": empty,
        "officer_key": pa.array([f"{n:016x}" for n in rng.integers(0, 2**62, rows).tolist()]),
        "contact_setting": _pick(
            rng, ["PATROL", "DOOR_KNOCK", "BUSINESS_VISIT", "PHONE_ONLINE", "OTHER"], rows
        ),
        "information_submitted": _pick(rng, ["true", "false"], rows),
        "smart_alert_signup": _pick(rng, ["true", "false"], rows),
        "diversity_consent": pa.array(np.where(consent, "true", "false").astype(object), pa.string()),
        "age_band": demographic(_pick(rng, [b for b in codes(c.AGE_BANDS) if b != "U16"], rows)),
        "sex": demographic(_pick(rng, codes(c.SEXES), rows)),
        "gender_same_as_birth": demographic(_pick(rng, codes(c.YES_NO_PNS), rows)),
        "ethnicity_2021": demographic(_pick(rng, codes(c.ETHNICITY_CODES), rows)),
        "religion": demographic(_pick(rng, codes(c.RELIGIONS), rows)),
        "health_condition_12m": demographic(health),
        "activity_limited": demographic(
            pc.if_else(pc.equal(health, "Y"), _pick(rng, codes(c.ACTIVITY_LIMITED), rows), empty)
        ),
        "confidence_understands_issues": _pick(rng, ["1", "2", "3", "4", "5"], rows),
        "confidence_deals_with_asb": _pick(rng, ["1", "2", "3", "4", "5"], rows),
        "citizen_key": empty,
        "source_system": pa.array(["sp_list"] * rows, pa.string()),
        "source_item_id": pa.array([str(n) for n in identifiers.tolist()], pa.string()),
        "source_version": pa.array(["v1"] * rows, pa.string()),
        "load_id": empty,
    }
    columns["lpt_code"] = _spoil(rng, columns["lpt_code"], "STOKE_WEST")
    columns["contact_setting"] = _spoil(rng, columns["contact_setting"], "07700 900123")
    columns["ccr_id"] = _spoil(rng, columns["ccr_id"], f"ccr-{start:09d}")
    columns["recorded_local_date"] = _spoil(rng, columns["recorded_local_date"], "2024-05-01T10:30:00")
    assert list(columns) == list(DATASET.table("ccr").column_names)
    return pa.record_batch(list(columns.values()), names=list(columns))


def write_ccr_csv(path: Path, target_bytes: int) -> int:
    """Write CCR rows until the file reaches `target_bytes`; returns the number of rows."""
    rng = np.random.default_rng(SEED)
    rows = 0
    with pa_csv.CSVWriter(str(path), ccr_batch(rng, 0, 1).schema) as writer:
        while path.stat().st_size < target_bytes:
            writer.write_batch(ccr_batch(rng, rows, BATCH_ROWS))
            rows += BATCH_ROWS
    return rows


def write_wide_csv(path: Path, extra_columns: int) -> None:
    names = ["theme_code", "theme_label", "load_id", *(f"extra_{n}" for n in range(extra_columns))]
    row = ["ASB", "Anti-social behaviour", "", *(["1"] * extra_columns)]
    path.write_text(",".join(names) + "\n" + ",".join(row) + "\n", encoding="utf-8")


def run_validate(
    path: Path, table: str, pythonpath: str | None, extra: tuple[str, ...] = ()
) -> tuple[int, float, int, str]:
    """`cetk validate` as a child: exit code, wall seconds, peak RSS in KiB (that child only), stderr."""
    environ = dict(os.environ)
    if pythonpath:
        environ["PYTHONPATH"] = pythonpath
    command = [sys.executable, "-c", "import cli; cli.main()", "validate", str(path), "--table", table]
    command += ["--as-of", AS_OF, *extra]
    started = time.perf_counter()
    # cwd: `python -c` puts the working directory first on sys.path, before PYTHONPATH
    popen = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "env": environ, "cwd": path.parent}
    with subprocess.Popen(command, **popen) as child:  # type: ignore[call-overload]
        assert child.stderr is not None
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        error = child.stderr.read().decode("utf-8", "replace")
    return child.returncode, seconds, usage.ru_maxrss, error


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gib", type=float, default=2.0, help="size of the generated CSV")
    parser.add_argument("--pythonpath", help="run this checkout's cli instead (PYTHONPATH)")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument(
        "--dir", type=Path, default=None, help="where to write the file (default: a temp dir)"
    )
    parser.add_argument("--header-columns", type=int, default=0, help="time a header this wide instead")
    parser.add_argument("--file", type=Path, help="validate this CCR CSV instead of generating one (kept)")
    parser.add_argument("--json", action="store_true", help="validate with --json (the report on stdout)")
    args = parser.parse_args(argv)
    print(
        f"command: {' '.join([os.path.relpath(sys.executable), '-m', 'bench.bench_validate_large', *sys.argv[1:]])}"
    )
    print(f"machine: {_machine()}")
    print(f"date:    {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()[0]:.1f}")
    folder = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        if args.header_columns:
            path = folder / "themes.csv"
            write_wide_csv(path, args.header_columns)
            code, seconds, peak, error = run_validate(path, "themes", args.pythonpath)
            print(
                f"header:  {args.header_columns + 3:,} columns; exit {code}; {seconds:.2f} s; peak RSS {peak / 1024:,.0f} MiB"
            )
            return
        path = args.file or folder / "ccr.csv"
        started = time.perf_counter()
        if args.file:
            with path.open("rb") as lines:
                rows = sum(chunk.count(b"\n") for chunk in iter(lambda: lines.read(2**24), b"")) - 1
        else:
            rows = write_ccr_csv(path, int(args.gib * 2**30))
        size, ready = path.stat().st_size, time.perf_counter() - started
        print(f"input:   {size / 2**30:.2f} GiB, {rows:,} CCR rows, 28 columns; ready in {ready:.0f} s")
        code, seconds, peak, error = run_validate(
            path, "ccr", args.pythonpath, ("--json",) if args.json else ()
        )
        print(
            f"validate: exit {code}; {seconds:.1f} s wall; {rows / seconds:,.0f} rows/s; {size / seconds / 2**20:,.1f} MiB/s"
        )
        print(f"peak RSS of the child: {peak / 1024:,.0f} MiB")
        print(f"stderr:  {error.strip().splitlines()[0] if error.strip() else ''}")
    finally:
        if args.keep:
            print(f"kept:    {folder}")
        else:
            for item in folder.iterdir():
                item.unlink()
            folder.rmdir()


if __name__ == "__main__":
    main()
