"""The cetk command line (`cetk = "cli:main"`): each command parses its options, calls one library function
and renders the result, or `--json` of that same result. The only module that prints or exits.

Options of the top-level command travel in typer's context object (a `Run`), never in module state.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from config.analytics_settings import is_analytics_problem
from config.loader import Loaded, effective_log_level, load, parse_overrides
from config.logs import Redactor, configure_logging
from config.report import effective_settings
from config.settings import LOG_LEVELS, cetk_version
from connectors.input_guard import describe_size
from connectors.read_limits import DEFAULT_LIMITS, ReadLimits, parse_size
from errors import CetkError, ExitCode
from powerbi_dataset.dictionary import schema_summary
from powerbi_dataset.export import ArrowPurpose, ExportFormat, export_text
from powerbi_dataset.model import DATASET
from powerbi_dataset.refresh import DEFAULT_POLL_SECONDS, DEFAULT_TIMEOUT_SECONDS, RefreshResult
from transforms.masking import printable
from transforms.report import DEFAULT_MAX_LISTED, Problem, Report

# Start-up: this module imports only what typer needs to build the commands (their options' types and
# defaults) and what every command renders with; each command imports its pipeline function when it runs
# (`from pipeline import ...` in its body), so `cetk --help` or `cetk status` never loads pandas, Graph or
# the Power BI client (docs/architecture.md, "Lazy imports"; tests/test_startup.py).
if TYPE_CHECKING:
    from rich.progress import Progress

    from connectors.forms_values import Locale
    from emulator.serve import DemoEnvironment
    from pipeline import ProgressEvent
    from transforms.masking import Fingerprinter

DEMO_NOTE = (
    "The sample data set contains deliberate errors, so the report above shows what validation catches; "
    "`cetk demo --sample` exits 0 all the same."
)

app = typer.Typer(
    name="cetk",
    no_args_is_help=True,
    rich_markup_mode="markdown",  # joins the docstrings' wrapped lines; `code` keeps examples verbatim
    add_completion=False,
    pretty_exceptions_enable=False,  # bugs print a plain traceback; never typer's locals display
)
config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)
schema_app = typer.Typer(help="Show and export the canonical model.", no_args_is_help=True)
migrate_app = typer.Typer(help="Migrate legacy data into the model and the live lists.", no_args_is_help=True)
mapping_app = typer.Typer(help="Propose the list mapping from the site's lists.", no_args_is_help=True)
emulator_app = typer.Typer(
    help="The local Microsoft emulator: rehearse syncs, migrations and publishing with no tenant.",
    no_args_is_help=True,
)


# --- the run: options of the top-level command, logging, output ------------------------------------


@dataclass
class Run:
    """One invocation: the top-level options, and the logging and redaction installed for it."""

    quiet: bool = False
    config_path: Path | None = None
    log_level_flag: str | None = None
    redactor: Redactor = field(default_factory=Redactor)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def start_logging(self, level: str, redactor: Redactor) -> None:
        self.redactor = redactor
        self._undo.append(configure_logging(level, redactor))

    def use_settings(self, loaded: Loaded) -> None:
        """Once settings are loaded: their log level (flag > env > file) and their secrets redacted."""
        self.start_logging(loaded.settings.log_level, Redactor.for_settings(loaded.settings))

    def close(self) -> None:
        while self._undo:
            self._undo.pop()()

    def progress(self, message: str) -> None:
        """A progress line on stderr, shown only to a person at a terminal and never with --quiet."""
        stderr = Console(stderr=True, highlight=False)
        if not self.quiet and stderr.is_terminal:
            stderr.print(message, markup=False)

    def on_progress(self, event: ProgressEvent) -> None:
        self.progress(event.describe())


def print_json(value: Any) -> None:
    """The library's return value as JSON on stdout (no markup, no wrapping)."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def print_text(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


class Described(Protocol):
    """A library result a command renders: its text for a person, its dict for --json."""

    def describe(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def show(result: Described, as_json: bool) -> None:
    """`--json` prints the result's dict, else its description: every command's output, one way."""
    if as_json:
        print_json(result.to_dict())
    else:
        print_text(result.describe())


def print_table(table: Table) -> None:
    Console(highlight=False, soft_wrap=False).print(table)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"cetk {cetk_version()}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="DEBUG, INFO, WARNING (default), ERROR; or CETK_LOG_LEVEL."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Hide progress messages on stderr.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: CETK_CONFIG, else ./cetk.yaml).")
    ] = None,
) -> None:
    """Community engagement toolkit: SharePoint lists and Forms exports into a canonical model and Power BI.

    Example: `cetk schema show events`
    """
    if log_level is not None and log_level.upper() not in LOG_LEVELS:  # a bad flag is a usage error: exit 2
        raise typer.BadParameter(
            f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    run = ctx.ensure_object(Run)
    run.quiet, run.config_path, run.log_level_flag = quiet, config, log_level
    ctx.call_on_close(run.close)
    run.start_logging(effective_log_level(log_level, os.environ, config), Redactor())


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point, and the one place a run's exit code is chosen (errors.ExitCode):
    0 ok, 1 data problems found (ValidationFailed), 2 could not do the job (any other CetkError, as
    `Error:` and `Hint:` on stderr; a usage error, from typer; a bug, with its traceback), 3 locked,
    4 timed out, 130 interrupted."""
    run = Run()
    try:
        app(args=argv, prog_name="cetk", obj=run)
    except CetkError as error:
        message, hint = (" ".join(run.redactor.redact(text).split()) for text in (error.message, error.hint))
        sys.stderr.write(f"Error: {printable(message)}\nHint: {printable(hint)}\n")
        sys.stderr.flush()
        sys.exit(int(error.exit_code))
    except Exception:  # a bug: its traceback stays (never typer's locals), and the run did not do its job
        traceback.print_exc()
        sys.exit(int(ExitCode.FAILED))


# --- cetk init, cetk config show ---------------------------------------------------------------------


@app.command("init")
def init(
    path: Annotated[
        Path | None,
        typer.Argument(help="Where to write the config (default: CETK_CONFIG, else ./cetk.yaml)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would be written (the plan); write nothing.")
    ] = False,
) -> None:
    """Write an annotated example config file (it holds no secrets; they come from the environment).

    Example: `cetk init cetk.yaml --dry-run`
    """
    from pipeline import apply, plan_init

    plan = plan_init(path, os.environ, force=force)
    if dry_run:
        print_text(plan.describe())
        return
    for step in apply(plan):
        print_text(f"{step.done()}; edit it, then run `cetk config show`.")


@config_app.command("show")
def config_show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a setting for this run: KEY=VALUE (never a secret). Repeatable."
        ),
    ] = None,
) -> None:
    """Show the effective settings, where each value came from (flag, env, file, default), and the secrets as set/not set.

    Secret values are never printed. Problems that would stop a run are listed at the end.

    Example: `cetk config show --set auth.mode=device_code --json`
    """
    run = ctx.ensure_object(Run)
    overrides = parse_overrides(set_values or [])
    if run.log_level_flag is not None:  # --log-level is the flag of the log_level setting
        overrides["log_level"] = run.log_level_flag
    loaded = load(run.config_path, os.environ, overrides, strict=False)
    run.use_settings(loaded)
    result = effective_settings(loaded)
    if as_json:
        print_json(result)
        return
    print_text(f"Config file: {result['config_file'] or '(none: defaults and environment only)'}")
    table = Table(title="Settings", title_justify="left")
    for heading in ("Setting", "Value", "Source", "Environment variable"):
        table.add_column(heading, overflow="fold")
    for key, item in result["settings"].items():
        value = "" if item["value"] is None else str(item["value"])
        table.add_row(Text(key), Text(value), Text(item["source"]), Text(item["env_var"]))
    for key, value in result["derived"].items():
        table.add_row(Text(key), Text(str(value or "")), Text("derived"), Text(""))
    print_table(table)
    secrets = Table(
        "Secret", "Status", "Source", "Environment variable", title="Secrets", title_justify="left"
    )
    for name, item in result["secrets"].items():
        secrets.add_row(Text(name), Text(item["status"]), Text(item["source"]), Text(item["env_var"]))
    print_table(secrets)
    for problem in result["problems"]:
        print_text(f"Problem: {problem['message']} (hint: {problem['hint']})")


# --- cetk schema show, cetk schema export ------------------------------------------------------------


@schema_app.command("show")
def schema_show(
    table: Annotated[str | None, typer.Argument(help="One table; all tables when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Show the canonical tables and their columns: kind, required, number of codes, personal-data class.

    Example: `cetk schema show ccr --json`
    """
    summary = schema_summary(DATASET, table)
    if as_json:
        print_json(summary)
        return
    for item in summary["tables"]:
        title = f"{item['name']} ({item['grain']}, {item['publish_mode']}; key {', '.join(item['key'])})"
        columns = Table(
            "Column", "Kind", "Required", "Codes", "Personal", "Published", "Description", title=title
        )
        columns.title_justify = "left"
        for column in item["columns"]:
            columns.add_row(
                Text(column["name"]),
                Text(column["kind"]),
                "yes" if column["required"] else "no",
                str(column["codes"] or ""),
                Text(column["personal"]),
                "yes" if column["published"] else "no",
                Text(column["description"]),
            )
        print_table(columns)


@schema_app.command("export")
def schema_export(
    ctx: typer.Context,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format", help="powerbi: push dataset JSON; arrow: Arrow schemas JSON; markdown: dictionary."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    purpose: Annotated[
        ArrowPurpose, typer.Option("--purpose", help="Arrow only: staging (all columns) or published.")
    ] = ArrowPurpose.staging,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --output: say what would be written, write nothing.")
    ] = False,
) -> None:
    """Export the model: the Power BI CreateDatasetRequest body, the Arrow schemas, or the Markdown data dictionary.

    Example: `cetk schema export --format powerbi --output dataset.json`
    """
    from pipeline import apply, plan_schema_export

    if output is None:
        print_text(export_text(export_format, purpose))
        return
    plan = plan_schema_export(export_format, purpose, output)
    if dry_run:
        print_text(plan.describe())
        return
    apply(plan, on_progress=ctx.ensure_object(Run).on_progress)


# --- cetk validate, cetk demo ------------------------------------------------------------------------


StableFingerprints = Annotated[
    bool,
    typer.Option(
        "--stable-fingerprints",
        help="Fingerprint keys with the pseudonymisation key (CETK_PSEUDONYMISATION_KEY or the keyring) so "
        "they match across runs; default: a random salt for this report.",
    ),
]


@app.command("validate")
def validate(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="A .csv or .parquet file (table = file stem), or a directory of them.")
    ],
    table: Annotated[
        str | None, typer.Option("--table", help="Model table the file holds, if not its stem.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Run time for 'not in the future' rules (ISO 8601; default now)."),
    ] = None,
    max_problems: Annotated[
        int, typer.Option("--max-problems", min=1, help="Problems listed (counts stay exact beyond it).")
    ] = DEFAULT_MAX_LISTED,
    max_rows: Annotated[
        int, typer.Option("--max-rows", min=1, help="Rows per file; a file with more is refused.")
    ] = DEFAULT_LIMITS.max_rows,
    max_file_size: Annotated[
        str, typer.Option("--max-file-size", help="Largest file read, e.g. 500MiB or 4GiB.")
    ] = describe_size(DEFAULT_LIMITS.max_file_bytes),
    stable: StableFingerprints = False,
) -> None:
    """Validate canonical-shape files against the model: exit 0 when valid, 1 when problems are found,
    2 when a file cannot be read.

    Files are read in batches, so memory does not grow with the file. CSV cells are read as text (empty or whitespace-only = null) and parsed by the model's kinds. The report counts problems by table and rule; values are masked and keys fingerprinted.

    Example: `cetk validate staging/ --as-of 2026-03-31T00:00:00Z`
    """
    from pipeline import parse_as_of, raise_if_invalid, validate_files

    run = ctx.ensure_object(Run)
    try:
        size = parse_size(max_file_size)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--max-file-size") from None
    report = validate_files(
        path,
        table=table,
        as_of=parse_as_of(as_of),
        on_progress=run.on_progress,
        limits=ReadLimits(max_file_bytes=size, max_rows=max_rows),
        max_problems=max_problems,
        fingerprinter=_fingerprinter(run, stable),
    )
    if as_json:
        print_json(report.to_dict())
    else:
        render_report(report)
    raise_if_invalid(report)


@app.command("demo")
def demo(
    ctx: typer.Context,
    out: Annotated[
        Path,
        typer.Option("--out", help="Where the demo leaves its staging, state, emulator files and report."),
    ] = Path("demo-output"),
    events: Annotated[
        int, typer.Option("--events", min=1, help="Engagement events in the demo force.")
    ] = 300,
    ccrs: Annotated[
        int, typer.Option("--ccrs", min=1, help="Community contact records in the demo force.")
    ] = 1500,
    sample: Annotated[
        bool,
        typer.Option(
            "--sample", help="Only validate the bundled sample data set and show its report (offline)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="With --sample: run time for 'not in the future' rules.")
    ] = None,
    stable: StableFingerprints = False,
) -> None:
    """The whole pipeline on the local emulator's demo force: sync (read, stage, quarantine, publish to the
    push dataset), refresh of the import model, then the offline HTML report; a summary and the paths.

    No tenant and no network: the emulator runs as a child process on loopback. The demo force carries
    deliberate errors, so rows go to quarantine and the demo still exits 0; it exits 2 when a stage failed.
    With --sample it only validates the bundled sample data set (its errors are deliberate; exits 0).

    Example: `cetk demo --out demo-output`   (then open demo-output/report/report.html)
    """
    from pipeline import parse_as_of, run_demo, validate_sample

    run = ctx.ensure_object(Run)
    if sample:
        report = validate_sample(
            parse_as_of(as_of), on_progress=run.on_progress, fingerprinter=_fingerprinter(run, stable)
        )
        if as_json:
            print_json(report.to_dict())
            return
        render_report(report)
        print_text(DEMO_NOTE)
        return
    result = run_demo(out, events=events, ccrs=ccrs, on_progress=run.on_progress)
    show(result, as_json)
    raise typer.Exit(int(result.exit_code))


def _fingerprinter(run: Run, stable: bool) -> Fingerprinter | None:
    """--stable-fingerprints: the settings' pseudonymisation key (a ConfigError when it is not set)."""
    from pipeline import stable_fingerprinter

    if not stable:
        return None
    loaded = load(run.config_path, os.environ, strict=False)
    run.use_settings(loaded)
    return stable_fingerprinter(loaded.settings)


def render_report(report: Report) -> None:
    """Exact counts per table and rule, each with one example (row, key fingerprint, column, value as the
    masking rule shows it); input text is escaped before it reaches the terminal."""
    rows = sum(report.rows_checked.values())
    tables = len(report.rows_checked)
    print_text(f"Checked {rows:,} rows in {tables} table(s): {report.total_problems:,} problem(s).")
    if report.problems_not_listed:
        print_text(
            f"The report lists {len(report.problems):,} of them and counts all "
            f"({report.problems_not_listed:,} not listed; --max-problems lists more)."
        )
    if report.total_problems:
        table = Table(
            title="Problems by table and rule (values masked, keys fingerprinted; rows count from 0)",
            title_justify="left",
        )
        for heading in ("Table", "Rule", "Count", "Example: row, key, column, value"):
            table.add_column(heading, overflow="fold", justify="right" if heading == "Count" else "left")
        firsts: dict[tuple[str, str], Problem] = {}
        for problem in report.problems:
            firsts.setdefault((problem.table, problem.code), problem)
        for name, by_code in report.counts().items():
            for code, count in by_code.items():
                first = firsts.get((name, code))
                example, message = ("(not listed)", "") if first is None else _example(first)
                rule = Text(code)
                rule.append(f"\n{message}", style="dim")
                table.add_row(Text(printable(name)), rule, f"{count:,}", Text(printable(example)))
        print_table(table)
    if report.skipped_rules:
        print_text("Rules not checked (their inputs are missing): " + ", ".join(report.skipped_rules))


def _example(problem: Problem) -> tuple[str, str]:
    where = "table" if problem.row < 0 else f"row {problem.row}"
    value = f"value {problem.value!r}" if problem.value else ""
    return ", ".join(part for part in (where, problem.key, problem.column, value) if part), problem.message


# --- cetk status ------------------------------------------------------------------------------------


@app.command("status")
def status_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many runs to show, newest first.")] = 20,
) -> None:
    """Show the run ledger: the last runs with start, end, status, row counts, requests and errors.

    It only reads (the sync state, opened read-only); with no state yet it says so and exits 0.

    Example: `cetk status --limit 5`
    """
    from pipeline import status

    run = ctx.ensure_object(Run)
    overrides = {"log_level": run.log_level_flag} if run.log_level_flag is not None else {}
    loaded = load(run.config_path, os.environ, overrides, strict=False)
    run.use_settings(loaded)
    result = status(loaded.settings.paths.state_dir, limit=limit)
    if as_json:
        print_json(result)
        return
    print_text(result["message"])
    if result["running"]:
        running = result["running"]
        print_text(f"A run is in progress: pid {running['pid']}, started {running['started_utc']}.")
    if not result["runs"]:
        return
    table = Table(title=f"Runs ({result['state_file']})", title_justify="left")
    for heading in ("Run", "Kind", "Started (UTC)", "Ended (UTC)", "Status"):
        table.add_column(heading, justify="right" if heading == "Run" else "left", no_wrap=True)
    for heading in ("Read", "Valid", "Quarantined", "Deleted", "Requests"):
        table.add_column(heading, justify="right", no_wrap=True)
    errors = []
    for item in result["runs"]:
        totals = item["counts"]["totals"]
        table.add_row(
            str(item["run_id"]),
            Text(item["kind"]),
            _short_time(item["started_utc"]),
            _short_time(item["ended_utc"]),
            Text(item["status"]),
            *(str(totals[name]) for name in ("read", "valid", "quarantined", "deleted")),
            str(item["counts"]["requests"]),
        )
        if item["error"]:
            errors.append(f"Run {item['run_id']}: {item['error']['code']}: {item['error']['message']}")
    console = Console(highlight=False, soft_wrap=False)
    if not console.is_terminal:  # a file or pipe: full rows, not wrapped to 80 columns
        console = Console(highlight=False, soft_wrap=False, width=160)
    console.print(table)
    for line in errors:
        print_text(printable(line))


def _short_time(text: str | None) -> str:
    """An ISO UTC time as `2026-11-30 02:00:05`; empty for a run that has not ended."""
    return text[:19].replace("T", " ") if text else ""


# --- cetk publish ----------------------------------------------------------------------------------------


@app.command("publish")
def publish_command(
    ctx: typer.Context,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the plan (steps, rows and POSTs per table, expected duration)."
        ),
    ] = False,
    recreate: Annotated[
        bool,
        typer.Option(
            "--recreate",
            help="Delete the dataset and create it again (a change PutTable cannot make; reports must be re-pointed).",
        ),
    ] = False,
    compact: Annotated[
        list[str] | None,
        typer.Option(
            "--compact", help="Empty TABLE and load its current rows now (a maintenance window). Repeatable."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Build the published tables and compare them even when nothing they are built from changed.",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the plan or the publish report as JSON.")
    ] = False,
) -> None:
    """Publish the staged tables to the Power BI push dataset, as one load committed by its `_loads` row.

    Only changed rows are posted (a run with no change posts nothing), in chunks of at most 10,000, paced
    under the push limits; reports see a load only once every chunk was acknowledged. A crash or a POST
    with no answer never duplicates a row: the next load posts the changes again (docs/publishing.md).
    When nothing the tables are built from changed since the last complete publish (staged files,
    settings, geography, model, code), nothing is built either: "unchanged" (--force builds anyway).
    Exit codes: 0 published (or nothing to publish), 2 could not publish (nothing committed for this
    load), 3 another run holds the lock.

    Example: `cetk publish --dry-run`
    """
    from pipeline import publish

    run = ctx.ensure_object(Run)
    loaded = load(run.config_path, os.environ)
    run.use_settings(loaded)
    result = publish(
        loaded.settings,
        recreate=recreate,
        compact=tuple(compact or ()),
        force=force,
        dry_run=dry_run,
        on_progress=run.on_progress,
    )
    show(result, as_json)


# --- cetk report -----------------------------------------------------------------------------------------


@app.command("report")
def report_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Directory to write report.html into.")] = Path("report"),
    staging: Annotated[
        Path | None,
        typer.Option(
            "--staging",
            help="Staging directory to read (with its quarantine/ and state/); default: the config's paths.",
        ),
    ] = None,
    geography: Annotated[
        Path | None,
        typer.Option(
            "--geography",
            help="Folder with wards.csv, lsoas.csv, wards.geojson, lpts.geojson (overrides geography.dir).",
        ),
    ] = None,
    weeks: Annotated[
        int | None,
        typer.Option(
            "--weeks",
            min=1,
            max=52,
            help="Evaluation window: weeks before and after an action (overrides report.evaluation_weeks).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build the report; say what would be written.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write an offline HTML report of what would be published, from the staged tables.

    Five dashboard pages, the 'You said, we did' evaluation and a data-quality page, built exactly as
    `cetk publish` builds what it posts (the same geography.dir, evaluation weeks and disclosure settings).
    One self-contained file: no script, no CDN, no network. See docs/report.md.

    Example: `cetk report --out build/report`
    """
    from pipeline import report

    run = ctx.ensure_object(Run)
    overrides = {
        "log_level": run.log_level_flag,
        "geography.dir": geography,
        "report.evaluation_weeks": weeks,
    }
    loaded = load(run.config_path, os.environ, overrides, strict=False)
    run.use_settings(loaded)
    for problem in loaded.problems:  # the report needs no sign-in settings, but these it uses
        if is_analytics_problem(problem):
            raise problem
    run.progress(f"Building the report from {staging or loaded.settings.paths.staging_dir} ...")
    result = report(loaded.settings, out, staging=staging, dry_run=dry_run)
    show(result, as_json)


# --- cetk sync ----------------------------------------------------------------------------------------


@app.command("sync")
def sync_command(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Read every list whole and rebuild the staged tables (and a corrupt state)."
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check the lists' columns and say how each would be read; write nothing."
        ),
    ] = False,
    lists: Annotated[
        list[str] | None,
        typer.Option("--lists", help="Only these lists (display names, comma-separated or repeated)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the run report (or the plan) as JSON.")
    ] = False,
) -> None:
    """Sync the mapped SharePoint lists into staged Parquet (minimised, validated; bad rows quarantined).

    The first run reads every list; later runs read only what changed (deleted items included). A list
    whose mapped column is gone or retyped stops with the diff; the others go on. A JSON run report is
    always written (state_dir/runs/). Exit codes: 0 ok, 1 done but rows were quarantined, 2 failed
    (a list stopped, sign-in, a service or config error), 3 another run holds the lock.

    Example: `cetk sync --lists "Engagement Events" --json`   (first: `cetk sync --dry-run`)
    """
    from pipeline import plan_sync, sync

    run = ctx.ensure_object(Run)
    overrides = {"log_level": run.log_level_flag} if run.log_level_flag is not None else {}
    loaded = load(run.config_path, os.environ, overrides)
    run.use_settings(loaded)
    names = [name.strip() for item in lists or [] for name in item.split(",") if name.strip()] or None
    if dry_run:
        plan = plan_sync(loaded.settings, full=full, lists=names)
        show(plan, as_json)
        return
    result = sync(loaded.settings, full=full, lists=names, on_progress=run.on_progress)
    show(result, as_json)
    if result.error is not None:
        message, hint = (
            " ".join(run.redactor.redact(text).split()) for text in (result.error.message, result.error.hint)
        )
        sys.stderr.write(f"Error: {printable(message)}\nHint: {printable(hint)}\n")
        sys.stderr.flush()
    raise typer.Exit(result.exit_code)


# --- cetk check, cetk mapping propose -----------------------------------------------------------------


@app.command("check")
def check_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check that a sync can run: config, sign-in per resource, the site and its lists (and the permission to
    read them), the mapping against the live columns, and access to the Power BI workspace.

    Every check runs; it reads only. Exit 0 when none failed (warnings allowed), 2 when one did.

    Example: `cetk check --json`
    """
    from pipeline import check

    run = ctx.ensure_object(Run)
    overrides = {"log_level": run.log_level_flag} if run.log_level_flag is not None else {}
    loaded = load(run.config_path, os.environ, overrides, strict=False)
    run.use_settings(loaded)
    report = check(loaded)
    if as_json:
        print_json(report.to_dict())
    else:
        table = Table(title="cetk check", title_justify="left")
        for heading in ("Area", "Item", "Status", "Detail"):
            table.add_column(heading, overflow="fold")
        for one in report.checks:
            style = {"ok": "green", "warning": "yellow", "failed": "red"}[one.status]
            table.add_row(
                Text(one.area), Text(one.item), Text(one.status, style=style), Text(printable(one.detail))
            )
        console = Console(highlight=False, soft_wrap=False)
        if not console.is_terminal:
            console = Console(highlight=False, soft_wrap=False, width=160)
        console.print(table)
    raise typer.Exit(report.exit_code)


@mapping_app.command("propose")
def mapping_propose(
    ctx: typer.Context,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write it (default: sharepoint.mapping_file).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the proposal; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the proposal's summary as JSON.")] = False,
) -> None:
    """Read the site's lists and columns and write a proposed mapping file, each entry with a confidence, for a
    person to review before the first sync (docs/mapping.md). An existing file is kept unless --force.

    Example: `cetk mapping propose --out proposed-mapping.yaml`
    """
    from pipeline import apply, plan_mapping_propose

    run = ctx.ensure_object(Run)
    overrides = {"log_level": run.log_level_flag} if run.log_level_flag is not None else {}
    loaded = load(run.config_path, os.environ, overrides)
    run.use_settings(loaded)
    proposed = plan_mapping_propose(loaded.settings, out, force=force)
    if not dry_run:
        apply(proposed.plan, on_progress=run.on_progress)
    if as_json:
        print_json({"written": not dry_run, **proposed.to_dict()})
    else:
        print_text(proposed.describe(written=not dry_run))


# --- cetk refresh ----------------------------------------------------------------------------------------


@app.command("refresh")
def refresh_command(
    ctx: typer.Context,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Name of the import-mode dataset (default: powerbi.refresh_dataset)."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until it completes: exit 0 done, 2 failed, 4 timed out.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="With --wait: give up waiting after SECONDS.")
    ] = DEFAULT_TIMEOUT_SECONDS,
    poll: Annotated[
        float, typer.Option("--poll", min=0.001, help="With --wait: read the refresh history every SECONDS.")
    ] = DEFAULT_POLL_SECONDS,
    refresh_type: Annotated[
        str | None,
        typer.Option("--type", help="Enhanced refresh (Premium only): Full, DataOnly, Calculate, ..."),
    ] = None,
    commit_mode: Annotated[
        str | None, typer.Option("--commit-mode", help="Enhanced refresh: Transactional or PartialBatch.")
    ] = None,
    tables: Annotated[
        list[str] | None, typer.Option("--table", help="Enhanced refresh: only this table. Repeatable.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say whether it would start or attach, and the budget left.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Refresh an import-mode dataset: attach to a refresh already running, keep to 8 a day on shared capacity.

    Without --wait it starts the refresh and exits 0. With --wait it polls the refresh history and exits 0
    when the refresh completed, 2 when it failed or was disabled (with Power BI's reason and the likely fix),
    4 when --timeout passed first. A refresh Power BI or the daily budget refuses exits like any error.

    Example: `cetk refresh --dataset "Community Engagement (import)" --wait --timeout 3600`
    """
    from pipeline import refresh

    run = ctx.ensure_object(Run)
    loaded = load(run.config_path, os.environ)
    run.use_settings(loaded)
    enhanced: dict[str, Any] = {}
    if refresh_type:
        enhanced["type"] = refresh_type
    if commit_mode:
        enhanced["commitMode"] = commit_mode
    if tables:
        enhanced["objects"] = [{"table": name} for name in tables]
    result = refresh(
        loaded.settings,
        dataset,
        wait=wait,
        timeout_seconds=timeout,
        poll_seconds=poll,
        enhanced=enhanced or None,
        dry_run=dry_run,
        on_progress=run.on_progress,
    )
    show(result, as_json)
    if isinstance(result, RefreshResult) and result.exit_code:
        raise typer.Exit(result.exit_code)


# --- cetk migrate forms -----------------------------------------------------------------------------


class ProgressBar:
    """A bar on stderr for MigrateProgress events, only for a person at a terminal and never with --quiet."""

    def __init__(self, run: Run) -> None:
        console = Console(stderr=True, highlight=False)
        self.bar: Progress | None = None
        if console.is_terminal and not run.quiet:  # rich.progress only then: ~0.1 s to import
            from rich.progress import Progress

            self.bar = Progress(console=console, transient=True)
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> ProgressBar:
        if self.bar is not None:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()

    def on_progress(self, event: ProgressEvent) -> None:
        from pipeline import MigrateProgress

        if self.bar is None or not isinstance(event, MigrateProgress):
            return
        if event.phase not in self.tasks:
            label = "Reading exports" if event.phase == "read" else f"Writing to {event.what}"
            self.tasks[event.phase] = self.bar.add_task(label, total=event.total)
        self.bar.update(self.tasks[event.phase], completed=event.done, total=event.total)


@migrate_app.command("forms")
def migrate_forms_command(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Forms exports (.xlsx, .csv); `init FILE...` proposes a mapping.")
    ],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="The reviewed Forms mapping (docs/mapping.md).")
    ] = None,
    to: Annotated[
        str, typer.Option("--to", help="staging (Parquet beside the sync's) or list (the live CCR list).")
    ] = "staging",
    list_mapping: Annotated[
        Path | None,
        typer.Option("--list-mapping", help="--to list: the list mapping (how CCR columns are written)."),
    ] = None,
    locale: Annotated[
        str, typer.Option("--locale", help="How d/m/y answers read: en-GB, en-US or none.")
    ] = "en-GB",
    csv_times: Annotated[
        str,
        typer.Option(
            "--csv-times", help="How CSV exports write times: en-US (Forms' m/d/yy), en-GB or none."
        ),
    ] = "en-US",
    out: Annotated[Path | None, typer.Option("--out", help="init: write the proposed mapping here.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Read, map and check; write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Migrate legacy Microsoft Forms exports, once per response; `init` proposes the mapping to review.

    Exit 0 when every response was written or was already there, 1 when some were quarantined (the
    quarantine CSV says where and why), 2 when the service refused some. Rerunning writes nothing new.

    Example: `cetk migrate forms init exports/*.xlsx --out forms-mapping.yaml`

    Example: `cetk migrate forms exports/*.xlsx --mapping forms-mapping.yaml --to list --dry-run`
    """
    from pipeline import MigrateOptions, migrate_forms, propose_forms_mapping

    run = ctx.ensure_object(Run)
    choice: dict[str, Locale | None] = {"en-gb": "en-GB", "en-us": "en-US", "none": None}
    if locale.lower() not in choice or csv_times.lower() not in choice:
        raise typer.BadParameter("use en-GB, en-US or none", param_hint="--locale / --csv-times")
    if files and files[0] == Path("init"):
        proposal = propose_forms_mapping(
            files[1:], locale=choice[locale.lower()], csv_time_locale=choice[csv_times.lower()], out=out
        )
        print_json(proposal.to_dict()) if as_json else print_text(
            proposal.text if out is None else proposal.describe()
        )
        return
    if mapping is None:
        raise typer.BadParameter("give the reviewed mapping (or run `init` first)", param_hint="--mapping")
    if to not in ("staging", "list"):
        raise typer.BadParameter("use staging or list", param_hint="--to")
    loaded = load(run.config_path, os.environ, strict=to == "list")  # staging needs no sign-in settings
    run.use_settings(loaded)
    options = MigrateOptions(
        target="list" if to == "list" else "staging", locale=choice[locale.lower()],
        csv_time_locale=choice[csv_times.lower()], list_mapping=list_mapping,
    )  # fmt: skip
    with ProgressBar(run) as bar:
        report = migrate_forms(
            files, mapping, loaded.settings, options, dry_run=dry_run, on_progress=bar.on_progress
        )
    print_json(report.to_dict()) if as_json else print_text(report.describe())
    if report.exit_code:
        raise typer.Exit(int(report.exit_code))


# --- cetk emulator serve -----------------------------------------------------------------------------


@emulator_app.command("serve")
def emulator_serve(
    ctx: typer.Context,
    port: Annotated[
        int, typer.Option("--port", help="Port on the loopback interface (0 = any free port).")
    ] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Loopback address to bind: 127.0.0.1, ::1 or localhost.")
    ] = ("127.0.0.1"),
    https: Annotated[
        bool,
        typer.Option(
            "--https", help="Serve HTTPS with a generated CA, and require sign-in (MSAL needs https)."
        ),
    ] = False,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the demo force; the same seed gives the same data.")
    ] = 7,
    events: Annotated[int, typer.Option("--events", min=1, help="Engagement events to generate.")] = 2000,
    ccrs: Annotated[
        int, typer.Option("--ccrs", min=1, help="Community contact records to generate.")
    ] = 10000,
    latency_ms: Annotated[
        int, typer.Option("--latency-ms", min=0, help="Latency added to every request.")
    ] = 0,
    faults: Annotated[
        Path | None,
        typer.Option(
            "--faults", help="Fault plan (YAML or JSON); a bad one stops the command naming the file."
        ),
    ] = None,
    state_dir: Annotated[
        Path,
        typer.Option("--state-dir", help="Where the CA, app credential, Forms exports and cetk.yaml go."),
    ] = Path(".cetk-emulator"),
    refresh_seconds: Annotated[
        float,
        typer.Option(
            "--refresh-seconds", min=0, help="How long a dataset refresh runs (real ones take minutes)."
        ),
    ] = 60.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the connection details as one JSON line.")
    ] = False,
) -> None:
    """Serve the emulator with a demo force loaded, until Ctrl-C.

    It writes STATE_DIR/cetk.yaml pointing every endpoint at the emulator (auth mode none over http;
    certificate sign-in with --https), legacy Forms exports under STATE_DIR/forms, and the CA file to
    trust with --https. Faults (429 with Retry-After, 503, dropped connections after commit, RU budgets)
    come from --faults; see docs/emulator.md. Nothing answers until the demo tenant is loaded; the last
    line on stdout, `ready <base URL>`, comes once every file is written.

    Example: `cetk emulator serve --https --events 500 --ccrs 2000 --faults faults.yaml`
    """
    from emulator.serve import ServeOptions, serving  # the product's only use of the emulator

    run = ctx.ensure_object(Run)
    options = ServeOptions(
        host=host,
        port=port,
        https=https,
        seed=seed,
        events=events,
        ccrs=ccrs,
        latency_ms=latency_ms,
        faults_file=faults,
        state_dir=state_dir,
        refresh_seconds=refresh_seconds,
    )
    run.progress(f"Generating the demo force ({events} events, {ccrs} CCRs) and starting the emulator")
    with serving(options) as (_server, _stack, environment):
        try:  # Ctrl-C as soon as the details are out is a clean stop, not an abort
            if as_json:
                print_json(environment.to_dict())
            else:
                print_text(describe_environment(environment))
            print_text(f"ready {environment.base_url}")  # last: the tenant is loaded and every file written
            threading.Event().wait()
        except KeyboardInterrupt:
            run.progress("Stopping the emulator")


def describe_environment(environment: DemoEnvironment) -> str:
    lists = "\n".join(f"  {name}: {count} items" for name, count in environment.list_items.items())
    trust = f"\nTrust its CA: export REQUESTS_CA_BUNDLE={environment.ca_file}" if environment.ca_file else ""
    return (
        f"Emulator listening on {environment.base_url}\n"
        f"SharePoint site: {environment.site_url}\n{lists}\n"
        f"Power BI workspace: {environment.workspace_id}\n"
        f"Legacy Forms exports: {len(environment.forms_exports)} files\n"
        f"Client config: {environment.config_file}{trust}\n"
        f"Try: cetk --config {environment.config_file} config show\n"
        f"Sync it (list mapping: {environment.list_mapping_file}): export CETK_PSEUDONYMISATION_KEY=<16+ random "
        f"characters>; cetk --config {environment.config_file} sync\n"
        "Press Ctrl-C to stop."
    )


app.add_typer(config_app, name="config")
app.add_typer(schema_app, name="schema")
app.add_typer(migrate_app, name="migrate")
app.add_typer(mapping_app, name="mapping")
app.add_typer(emulator_app, name="emulator")
