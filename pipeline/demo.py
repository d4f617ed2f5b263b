"""`cetk demo` (and `make demo`): the whole pipeline, offline, against the local emulator and its demo force.

The emulator runs as a child process (`cetk emulator serve`), as an operator would run it: the product
never imports the emulator (docs/architecture.md), it only reads the cetk.yaml the emulator writes. Then
the same functions the scheduled commands call run in order: `sync` (read the lists, stage, quarantine,
publish the staged tables to the push dataset), `refresh` of the import-mode dataset with a wait, and
`report` (the offline HTML report, built with the settings publish used). The pseudonymisation key is a
fresh random one held in memory for this run only: demo pseudonyms are meaningless outside it, and no
key is ever written to disk.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.loader import load
from config.settings import Settings
from errors import CetkError, ExitCode
from pipeline.progress import DemoStage, OnProgress, ignore_progress
from pipeline.refresh import refresh
from pipeline.report import report as write_report
from pipeline.sync import sync
from powerbi_dataset.refresh import RefreshResult

# The import-mode dataset `cetk emulator serve` adds beside the push dataset (emulator/serve.py)
DEMO_IMPORT_DATASET = "Community Engagement (import)"
KEY_VARIABLE = "CETK_PSEUDONYMISATION_KEY"
READY_PREFIX = "ready "
START_TIMEOUT_SECONDS = 120.0
EMULATOR_LOG = "emulator.log"
REFRESH_SECONDS = 3  # the emulated import model's refresh: real ones take minutes, the demo need not wait


@dataclass(frozen=True)
class DemoResult:
    """What the demo did and where it left everything."""

    out_dir: Path
    sync: dict[str, Any]
    refresh: dict[str, Any]
    report: dict[str, Any]
    staging_dir: Path
    quarantine_dir: Path
    run_report: str | None
    report_file: Path
    seconds: float
    exit_code: ExitCode
    stage_seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "seconds": round(self.seconds, 1),
            "stage_seconds": self.stage_seconds,
            "exit_code": int(self.exit_code),
            "staging_dir": str(self.staging_dir),
            "quarantine_dir": str(self.quarantine_dir),
            "run_report": self.run_report,
            "report_file": str(self.report_file),
            "sync": self.sync,
            "refresh": self.refresh,
            "report": self.report,
        }

    def describe(self) -> str:
        totals = (self.sync.get("report") or {}).get("counts", {}).get("totals", {})
        published = (self.sync.get("report") or {}).get("publish") or {}
        staged = sorted(path.name for path in self.staging_dir.glob("*.parquet"))
        quarantined = sorted(path.name for path in self.quarantine_dir.glob("*.csv"))
        lines = [
            f"Demo finished in {self.seconds:.0f} s (exit {int(self.exit_code)}): "
            + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in self.stage_seconds.items())
            + ".",
            "Sync: {read} items read, {valid} valid, {quarantined} quarantined, {deleted} deleted.".format(
                **{name: totals.get(name, 0) for name in ("read", "valid", "quarantined", "deleted")}
            ),
            f"Publish: {published.get('status', 'not run')}"
            + (
                f", {published.get('rows', 0):,} rows in {published.get('posts', 0)} POSTs"
                if published
                else ""
            ),
            f"Refresh of '{DEMO_IMPORT_DATASET}': {self.refresh.get('status', 'not run')}",
            f"Staged tables ({len(staged)}): {self.staging_dir}",
            f"Quarantine files ({len(quarantined)}): {self.quarantine_dir}",
            f"Run report: {self.run_report or '(none)'}",
            f"HTML report: {self.report_file}",
            "The demo force carries deliberate errors: the quarantined rows and the drift warnings are"
            " expected (each quarantine CSV gives the item, the column and the rule).",
        ]
        return "\n".join(lines)


def run_demo(
    out_dir: Path,
    *,
    events: int = 300,
    ccrs: int = 1500,
    on_progress: OnProgress = ignore_progress,
    environ: Mapping[str, str] | None = None,
) -> DemoResult:
    """Serve the emulator, then sync (with publish), refresh and report into `out_dir`; stop the emulator."""
    started = time.monotonic()
    out_dir = out_dir.resolve()
    stages: dict[str, float] = {}
    mark = [started]

    def stage(name: str, message: str) -> None:
        now = time.monotonic()
        if stages:
            stages[next(reversed(stages))] = round(now - mark[0], 1)
        stages[name], mark[0] = 0.0, now
        on_progress(DemoStage(message))

    stage("emulator", f"Starting the emulator with a demo force ({events} events, {ccrs} CCRs)")
    with _emulator(out_dir / "emulator", events=events, ccrs=ccrs) as config_file:
        settings = _settings(config_file, out_dir, environ if environ is not None else os.environ)
        stage("sync and publish", "Syncing the lists into staging and publishing to the push dataset")
        synced = sync(settings, on_progress=on_progress)
        stage("refresh", f"Refreshing '{DEMO_IMPORT_DATASET}' and waiting for it")
        refreshed = refresh(settings, DEMO_IMPORT_DATASET, wait=True, timeout_seconds=60, poll_seconds=0.5)
        if not isinstance(refreshed, RefreshResult):  # only a dry run returns the plan
            raise TypeError("refresh without dry_run returned a plan")
        stage("report", "Writing the offline HTML report")
        report = write_report(settings, out_dir / "report")  # the options publish used
        stage("stop", "Stopping the emulator")
    stages.pop("stop")
    # The demo force carries deliberate errors, so quarantined rows are the demo working: only a failed
    # stage (or a lock held) is a failure here
    failed = (
        synced.exit_code not in (ExitCode.OK, ExitCode.DATA_PROBLEMS) or refreshed.exit_code != ExitCode.OK
    )
    exit_code = ExitCode.FAILED if failed else ExitCode.OK
    return DemoResult(
        out_dir=out_dir,
        sync=synced.to_dict(),
        refresh=refreshed.to_dict(),
        report=report.to_dict(),
        staging_dir=settings.paths.staging_dir,
        quarantine_dir=settings.paths.quarantine_dir,
        run_report=str(synced.report_file) if synced.report_file else None,
        report_file=report.path,
        seconds=time.monotonic() - started,
        stage_seconds=stages,
        exit_code=ExitCode(exit_code),
    )


def _settings(config_file: Path, out_dir: Path, environ: Mapping[str, str]) -> Settings:
    """The emulator's cetk.yaml, with this demo's folders and a random key for this run only."""
    environment = {**environ, KEY_VARIABLE: environ.get(KEY_VARIABLE) or secrets.token_hex(32)}
    overrides = {
        "paths.staging_dir": str(out_dir / "staging"),
        "paths.quarantine_dir": str(out_dir / "staging" / "quarantine"),
        "paths.state_dir": str(out_dir / "state"),
    }
    return load(config_file, environment, overrides).settings


@contextmanager
def _emulator(state_dir: Path, *, events: int, ccrs: int) -> Iterator[Path]:
    """`cetk emulator serve --https` in a child process until its ready line; stopped on the way out.

    Its stderr goes to a file beside its state (a pipe nobody reads could fill and stall it)."""
    command = [
        sys.executable, "-c", "import cli; cli.main()", "emulator", "serve", "--https", "--port", "0",
        "--events", str(events), "--ccrs", str(ccrs), "--state-dir", str(state_dir),
        "--refresh-seconds", str(REFRESH_SECONDS),
    ]  # fmt: skip
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    log_file = state_dir.parent / EMULATOR_LOG
    with log_file.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(  # noqa: S603 - our own console entry point, no shell
            command, stdout=subprocess.PIPE, stderr=log, text=True, cwd=Path(__file__).parent.parent
        )
        try:
            _wait_until_ready(child, log_file)
            yield state_dir / "cetk.yaml"
        finally:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            if child.stdout is not None:
                child.stdout.close()


def _wait_until_ready(child: subprocess.Popen[str], log_file: Path) -> None:
    """Read the child's stdout up to `ready <url>`; its exit first is a CetkError with its last error line."""
    assert child.stdout is not None  # noqa: S101 - Popen(stdout=PIPE) always has it
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    for line in child.stdout:
        if line.startswith(READY_PREFIX):
            return
        if time.monotonic() > deadline:
            break
    with suppress(subprocess.TimeoutExpired):  # neither ready nor gone: the caller stops it
        child.wait(timeout=10)
    error = log_file.read_text(encoding="utf-8", errors="replace")
    last = next((line for line in reversed(error.splitlines()) if line.startswith("Error:")), "")
    raise CetkError(
        "the demo emulator did not start" + (f": {last.removeprefix('Error: ')}" if last else ""),
        hint=f"see {log_file}, or run `cetk emulator serve --https --port 0` yourself",
    )
