"""The data dictionary (docs/data-dictionary.md), generated from the Dataset declaration; never hand-edited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from powerbi_dataset import codes as code_lists
from powerbi_dataset.derive import Purpose, arrow_schema
from powerbi_dataset.schema import REF_SUFFIX, Code, Column, Dataset, Table
from powerbi_dataset.versioning import publish_columns

GENERATED_NOTE = (
    "Generated from `powerbi_dataset/model.py` by `cetk schema export --format markdown`. "
    "Do not edit by hand: change the model, then run `make data-dictionary`."
)


def data_dictionary_markdown(dataset: Dataset) -> str:
    """The whole data dictionary as Markdown: tables, columns, codes, rules, relationships, measures."""
    names = _code_list_names(dataset)
    usage = _code_list_usage(dataset)
    shared = {codes for codes, users in usage.items() if len(users) > 1}
    lines = [f"# Data dictionary: {dataset.name}", "", GENERATED_NOTE, "", "## Tables", ""]
    lines += [
        "| Table | Grain | Publish mode | Published | Key | Columns | Description |",
        "|---|---|---|---|---|---|---|",
    ]
    for table in dataset.tables:
        lines.append(
            f"| [`{table.name}`](#table-{_anchor(table.name)}) | {_grain(table)} | {table.publish_mode} | "
            f"{_yes(table.published)} | {_key(table)} | {len(table.columns)} | {_cell(table.description)} |"
        )
    for table in dataset.tables:
        lines += ["", *_table_section(table, dataset, names, shared)]
    lines += ["", *_relationships(dataset), "", *_measures(dataset), "", *_shared_codes(names, usage, shared)]
    return "\n".join(lines).rstrip() + "\n"


def schema_summary(dataset: Dataset, table: str | None = None) -> dict[str, Any]:
    """Tables and columns as data (for `cetk schema show --json`); one table when `table` is named."""
    tables = (dataset.table(table),) if table else dataset.tables
    return {
        "dataset": dataset.name,
        "tables": [
            {
                "name": item.name,
                "description": item.description,
                "key": list(item.key),
                "grain": "row-level" if item.row_level else "aggregated",
                "publish_mode": item.publish_mode,
                "published": item.published,
                "rules": [rule.code for rule in item.rules],
                "columns": [
                    {
                        "name": column.name,
                        "kind": column.kind,
                        "required": column.required,
                        "codes": len(column.codes),
                        "personal": column.personal,
                        "published": column.published,
                        "description": column.description,
                    }
                    for column in item.columns
                ],
            }
            for item in tables
        ],
    }


def arrow_schemas_document(dataset: Dataset, purpose: Purpose = "staging") -> dict[str, Any]:
    """The Arrow schema of every table as JSON-ready data: field name, type, nullable, metadata."""
    tables: dict[str, Any] = {}
    for table in dataset.tables if purpose == "staging" else dataset.published_tables:
        schema = arrow_schema(table, purpose)
        tables[table.name] = {
            "metadata": _decoded(schema.metadata),
            "fields": [
                {
                    "name": item.name,
                    "type": str(item.type),
                    "nullable": item.nullable,
                    "metadata": _decoded(item.metadata),
                }
                for item in schema
            ],
        }
    return {"dataset": dataset.name, "purpose": purpose, "tables": tables}


def _decoded(metadata: dict[bytes, bytes] | None) -> dict[str, str]:
    return {key.decode(): value.decode() for key, value in (metadata or {}).items()}


def _table_section(
    table: Table, dataset: Dataset, names: dict[tuple[Code, ...], str], shared: set[tuple[Code, ...]]
) -> list[str]:
    lines = [f"## Table `{table.name}`", "", table.description, ""]
    mode = table.publish_mode + (f" (with `{table.parent}`)" if table.parent else "")
    lines += [
        f"- Key: {_key(table)}",
        f"- Grain: {_grain(table)}",
        f"- Publish mode: {mode}",
        f"- Published to Power BI: {_yes(table.published)}",
        "",
        "| Column | Kind | Required | Rule | Personal data | Published | Description |",
        "|---|---|---|---|---|---|---|",
    ]
    for column in table.columns:
        lines.append(
            f"| `{column.name}` | {column.kind}{' (date)' if column.date_only else ''} | {_yes(column.required)} | "
            f"{_column_rule(column, names, shared)} | {column.personal} | {_yes(column.published)} | "
            f"{_cell(column.description)} |"
        )
    added = publish_columns(table, dataset) if table.published else ()
    if added:
        lines += ["", "Columns publish adds (hidden in reports; docs/publishing.md):", ""]
        lines += ["| Column | Kind | Description |", "|---|---|---|"]
        lines += [f"| `{column.name}` | {column.kind} | {_cell(column.description)} |" for column in added]
    local = [column for column in table.columns if column.codes and column.codes not in shared]
    for column in local:
        lines += ["", f"Codes for `{column.name}`:", "", *_code_table(column.codes)]
    if table.rules:
        lines += ["", "Cross-field rules:", "", "| Code | Message | Condition |", "|---|---|---|"]
        lines += [
            f"| `{rule.code}` | {_cell(rule.message)} | {_cell(rule.describe())} |" for rule in table.rules
        ]
    measures = [measure for measure in dataset.measures if measure.table == table.name]
    if measures:
        lines += [
            "",
            "Measures: " + ", ".join(f"{measure.name}" for measure in measures) + " (see Measures).",
        ]
    return lines


def _column_rule(column: Column, names: dict[tuple[Code, ...], str], shared: set[tuple[Code, ...]]) -> str:
    parts: list[str] = []
    if column.codes:
        name = names[column.codes]
        target = f"#codes-{_anchor(name)}" if column.codes in shared else ""
        label = f"[{name}]({target})" if target else name
        parts.append(f"one of {len(column.codes)} codes ({label})")
    if column.minimum is not None or column.maximum is not None:
        parts.append(f"range {_bound(column, column.minimum)} to {_bound(column, column.maximum)}")
    if column.kind == "String" and not column.codes and (column.max_length is not None or not column.pattern):
        parts.append(f"max {column.effective_max_length} chars")
    if column.pattern:
        parts.append(f"pattern `{column.pattern}`")
    return _cell("; ".join(parts)) or "—"


def _bound(column: Column, value: float | None) -> str:
    if value is None:
        return "any"
    if column.kind == "DateTime":
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value:g}" if column.kind == "Double" else f"{int(value):,}"


def _relationships(dataset: Dataset) -> list[str]:
    lines = ["## Relationships", "", "Many-to-one, from a foreign key to the key of a dimension or fact."]
    lines += [
        "Power BI joins them on the version refs publish adds (`<column>_ref`, unique across loads), so they",
        "hold however many loads' rows a table keeps (docs/publishing.md).",
        "",
        "| Name | From | To | Joined in Power BI on | Cross filtering |",
        "|---|---|---|---|---|",
    ]
    for item in dataset.relationships:
        joined = f"`{item.from_column}{REF_SUFFIX}` = `{item.to_column}{REF_SUFFIX}`"
        lines.append(
            f"| {item.name} | `{item.from_table}.{item.from_column}` | `{item.to_table}.{item.to_column}` | "
            f"{joined} | {item.cross_filtering} |"
        )
    return lines


def _measures(dataset: Dataset) -> list[str]:
    lines = ["## Measures", ""]
    lines += [
        "Each measure is published as CALCULATE(its DAX, the route of its table): only the versions of the",
        "latest committed load are counted, never a superseded, deleted or uncommitted row",
        "(powerbi_dataset/routing.py; docs/publishing.md).",
        "",
        "| Name | Table | Format | DAX | Description |",
        "|---|---|---|---|---|",
    ]
    for item in dataset.measures:
        lines.append(
            f"| {item.name} | `{item.table}` | {_cell(item.format_string or '')} | `{_cell(item.expression)}` | "
            f"{_cell(item.description)} |"
        )
    return lines


def _shared_codes(
    names: dict[tuple[Code, ...], str],
    usage: dict[tuple[Code, ...], list[str]],
    shared: set[tuple[Code, ...]],
) -> list[str]:
    lines = ["## Appendix: code lists used by more than one column", ""]
    for codes in sorted(shared, key=lambda item: names[item]):
        lines += [f"### Codes: {names[codes]}", "", "Used by " + _list(usage[codes]) + ".", ""]
        lines += [*_code_table(codes), ""]
    return lines


def _code_table(codes: tuple[Code, ...]) -> list[str]:
    return ["| Code | Label |", "|---|---|", *(f"| `{code.code}` | {_cell(code.label)} |" for code in codes)]


def _code_list_names(dataset: Dataset) -> dict[tuple[Code, ...], str]:
    """Each code list named after its constant in powerbi_dataset/codes.py, else after its first column."""
    names: dict[tuple[Code, ...], str] = {}
    for attribute, value in vars(code_lists).items():
        if (
            attribute.isupper()
            and isinstance(value, tuple)
            and value
            and all(isinstance(v, Code) for v in value)
        ):
            names.setdefault(value, attribute)
    for table in dataset.tables:
        for column in table.columns:
            if column.codes:
                names.setdefault(column.codes, f"{table.name}.{column.name}")
    return names


def _code_list_usage(dataset: Dataset) -> dict[tuple[Code, ...], list[str]]:
    usage: dict[tuple[Code, ...], list[str]] = {}
    for table in dataset.tables:
        for column in table.columns:
            if column.codes:
                usage.setdefault(column.codes, []).append(f"{table.name}.{column.name}")
    return usage


def _grain(table: Table) -> str:
    return "row-level" if table.row_level else "aggregated (disclosure control)"


def _key(table: Table) -> str:
    return ", ".join(f"`{name}`" for name in table.key) or "—"


def _list(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _anchor(text: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces as hyphens."""
    return "".join(ch for ch in text.lower().replace(" ", "-") if ch.isalnum() or ch in "-_")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
