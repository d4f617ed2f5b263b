"""`cetk schema ...`: show the canonical model and export it for Power BI, Arrow or as the data dictionary."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.output import json_text, print_json, print_text, progress, stdout
from errors import CetkError
from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.dictionary import arrow_schemas_document, data_dictionary_markdown, schema_summary
from powerbi_dataset.model import DATASET

schema_app = typer.Typer(help="Show and export the canonical model.", no_args_is_help=True)


class ExportFormat(StrEnum):
    powerbi = "powerbi"
    arrow = "arrow"
    markdown = "markdown"


class ArrowPurpose(StrEnum):
    staging = "staging"
    published = "published"


def export_text(export_format: ExportFormat, purpose: ArrowPurpose = ArrowPurpose.staging) -> str:
    """The exported model as text, exactly what `cetk schema export` writes."""
    if export_format is ExportFormat.powerbi:
        return json_text(powerbi_definition(DATASET))
    if export_format is ExportFormat.arrow:
        return json_text(arrow_schemas_document(DATASET, purpose.value))
    return data_dictionary_markdown(DATASET)


@schema_app.command("show")
def show(
    table: Annotated[str | None, typer.Argument(help="One table; all tables when omitted.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Show the canonical tables and their columns: kind, required, number of codes, personal-data class.

    Example: cetk schema show ccr --json
    """
    summary = schema_summary(DATASET, table)
    if as_json:
        print_json(summary)
        return
    for item in summary["tables"]:
        stdout.print(_columns_table(item))


def _columns_table(item: dict[str, Any]) -> Table:
    title = f"{item['name']} ({item['grain']}, {item['publish_mode']}; key {', '.join(item['key'])})"
    table = Table("Column", "Kind", "Required", "Codes", "Personal", "Published", "Description", title=title)
    table.title_justify = "left"
    for column in item["columns"]:
        table.add_row(
            Text(column["name"]),
            Text(column["kind"]),
            "yes" if column["required"] else "no",
            str(column["codes"] or ""),
            Text(column["personal"]),
            "yes" if column["published"] else "no",
            Text(column["description"]),
        )
    return table


@schema_app.command("export")
def export(
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

    Example: cetk schema export --format powerbi --output dataset.json
    """
    text = export_text(export_format, purpose)
    if output is None:
        print_text(text)
        return
    if dry_run:
        action = "replace" if output.exists() else "create"
        print_text(f"Would {action} {output} ({len(text.encode('utf-8'))} bytes of {export_format.value}).")
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CetkError(f"cannot write {output}: {exc.strerror}", hint="choose a writable path") from None
    progress(f"Wrote {output}")
