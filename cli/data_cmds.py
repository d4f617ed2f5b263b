"""`cetk validate` and `cetk demo`: check canonical-shape files against the model and report by table and rule."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from cli.output import counted, print_json, print_text, progress, stdout
from connectors.files import read_tables, sample_data_dir
from errors import CetkError, SourceFormatError, ValidationFailed
from powerbi_dataset.model import DATASET
from transforms.report import Problem, Report
from transforms.validate import validate_dataset

DEMO_NOTE = (
    "The sample data set contains deliberate errors, so the report above shows what validation catches; "
    "`cetk demo` exits 0 all the same."
)


def parse_as_of(text: str | None) -> dt.datetime:
    """--as-of as an aware UTC datetime; a time without an offset is taken as UTC; default now."""
    if text is None:
        return dt.datetime.now(dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CetkError(
            f"--as-of {text!r} is not an ISO 8601 date-time", hint="e.g. --as-of 2026-03-31T23:59:59Z"
        ) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def validate_path(
    path: Path, table: str | None = None, as_of: dt.datetime | None = None, *, model_tables_only: bool = False
) -> Report:
    """Read a file or directory of canonical tables and validate it against the model."""
    names = [item.name for item in DATASET.tables]
    only = names if model_tables_only else None
    if path.is_file() and (table or path.stem) not in names:  # one file: say how to name its table
        where = f"--table {table!r}" if table else f"the file name {path.name!r}"
        raise SourceFormatError(
            f"{where} does not name a table of the model",
            hint=f"pass --table with one of: {', '.join(names)}",
        )
    tables = read_tables(path, table, only=only)
    progress(f"Validating {sum(t.num_rows for t in tables.values())} rows in {len(tables)} table(s)")
    return validate_dataset(tables, DATASET, as_of=as_of)


def validate(
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
) -> None:
    """Validate canonical-shape files against the model; exit 1 when any problem is found.

    CSV cells are read as text (empty or whitespace-only = null) and parsed by the model's kinds. The report groups problems by table and rule; values are masked.

    Example: cetk validate staging/ --as-of 2026-03-31T00:00:00Z
    """
    report = validate_path(path, table, parse_as_of(as_of))
    if as_json:
        print_json(report.to_dict())
    else:
        render_report(report)
    if not report.valid:
        rows = sum(report.rows_checked.values())
        raise ValidationFailed(
            f"validation found {counted(len(report.problems), 'problem')} in {counted(rows, 'row')}",
            report=report,
            hint="fix the rows named in the report (rules: docs/data-dictionary.md); --json lists every problem",
        )


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Run time for 'not in the future' rules.")
    ] = None,
) -> None:
    """Validate the bundled sample data set and show the report (its errors are deliberate; exits 0).

    Example: cetk demo
    """
    sample = sample_data_dir()
    if not sample.is_dir():
        raise CetkError(
            f"the bundled sample data set is missing ({sample})", hint="reinstall cetk: make install"
        )
    report = validate_path(sample, None, parse_as_of(as_of), model_tables_only=True)
    if as_json:
        print_json(report.to_dict())
        return
    render_report(report)
    print_text(DEMO_NOTE)


def render_report(report: Report) -> None:
    """Counts per table and rule, each with one example (row, key, column, masked value)."""
    rows = sum(report.rows_checked.values())
    tables = len(report.rows_checked)
    print_text(f"Checked {rows} rows in {tables} table(s): {len(report.problems)} problem(s).")
    if report.problems:
        table = Table(
            title="Problems by table and rule (values masked; rows count from 0)", title_justify="left"
        )
        for heading in ("Table", "Rule", "Count", "Example: row, key, column, value"):
            table.add_column(heading, overflow="fold", justify="right" if heading == "Count" else "left")
        firsts: dict[tuple[str, str], Problem] = {}
        for problem in report.problems:
            firsts.setdefault((problem.table, problem.code), problem)
        for name, by_code in report.counts().items():
            for code, count in by_code.items():
                first = firsts[(name, code)]
                where = "table" if first.row < 0 else f"row {first.row}"
                value = f"value {first.value!r}" if first.value else ""
                example = ", ".join(part for part in (where, first.key, first.column, value) if part)
                rule = Text(code)
                rule.append(f"\n{first.message}", style="dim")
                table.add_row(Text(_printable(name)), rule, str(count), Text(_printable(example)))
        stdout.print(table)
    if report.skipped_rules:
        print_text("Rules not checked (their inputs are missing): " + ", ".join(report.skipped_rules))


def _printable(text: str) -> str:
    """Control characters from the input (ESC sequences in a header or value) escaped, not sent to the terminal."""
    return "".join(f"\\x{ord(char):02x}" if unicodedata.category(char) == "Cc" else char for char in text)
