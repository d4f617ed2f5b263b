"""What the emulated Power BI service refuses in dataset definitions and pushed rows.

Rules and numbers: microsoft-apis.md §1.2 (properties, table name pattern, data types), §1.4 (limits).
Violations raise `Rejection`, which the service turns into its HTTP answer.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from emulator.core.http import Request
from emulator.powerbi.model import PowerBIOptions, TableState

# Table/relationship name pattern from the swagger, with its astral range written the Python way.
TABLE_NAME = re.compile(
    r"^[\x09\x0A\x0D\x20\x23\x2D\x30-\x39\x40-\x5A\x5E-\x5F\x61-\x7A\x7E-\uD7FF\uE000-\uFFFD"
    r"\U00010000-\U0010FFFF]{1,100}$"
)
COLUMN_NAME = re.compile(r"^[\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]+$")
# dataType names are matched case-insensitively and `bool` is an alias (the swagger's own examples use both).
DATA_TYPES = {name: name for name in ("int64", "double", "boolean", "datetime", "string", "decimal")} | {
    "bool": "boolean"
}
TYPE_NAME = "Microsoft.PowerBI.ServiceContracts.Api.{}"
PROPERTIES = {
    "Dataset": {"name", "tables", "relationships", "datasources", "defaultMode"},
    "Table": {"name", "columns", "rows", "measures", "isHidden", "description", "source"},
    "Column": {"name", "dataType", "formatString", "sortByColumn", "dataCategory", "isHidden", "summarizeBy"},
    "Measure": {"name", "expression", "formatString", "description", "isHidden"},
    "Relationship": {"name", "fromTable", "fromColumn", "toTable", "toColumn", "crossFilteringBehavior"},
    "PostRowsRequest": {"rows"},
}
DEFAULT_MODES = {"AsAzure", "AsOnPrem", "Push", "Streaming", "PushStreaming"}
US_DATE = re.compile(
    r"^\d{1,2}/\d{1,2}/\d{4}( \d{1,2}:\d{2}(:\d{2})?( [AP]M)?)?$"
)  # the swagger's own example


class Rejection(Exception):
    def __init__(self, status: int, payload: dict[str, Any], retry_after: int | None = None) -> None:
        super().__init__(str(payload))
        self.status = status
        self.payload = payload
        self.retry_after = retry_after


def invalid(options: PowerBIOptions, message: str) -> Rejection:
    return Rejection(
        options.validation_status, {"error": {"code": options.validation_code, "message": message}}
    )


def unknown_property(key: str, type_name: str, target: str) -> Rejection:
    """The documented answer to a property the type does not define (§1.2, sql-bi/Pbi-PushDataset#1)."""
    detail = (
        f"The property '{key}' does not exist on type '{type_name}'. Make sure to only use property names that "
        "are defined by the type."
    )
    payload = {
        "code": "BadRequest",
        "message": "Bad Request",
        "details": [{"message": detail, "target": target}],
    }
    return Rejection(400, {"error": payload})


def check_properties(
    kind: str, value: Any, options: PowerBIOptions, target: str = "dataset"
) -> dict[str, Any]:
    """The object itself; unknown properties are refused with the body the service sends (§1.2).

    The documented case is the Dataset with target `dataset`; other types and targets are extrapolated.
    """
    if not isinstance(value, dict):
        raise invalid(options, f"Expected a JSON object for {kind}.")
    for key in value:
        if key not in PROPERTIES[kind]:
            raise unknown_property(key, TYPE_NAME.format(kind), target)
    return value


def check_table(raw: Any, options: PowerBIOptions) -> TableState:
    table = check_properties("Table", raw, options)
    name = table.get("name")
    if not isinstance(name, str) or not TABLE_NAME.match(name):
        raise invalid(
            options, f"Table name '{name}' is invalid: 1-100 characters without . , / ( ) ' \" and similar."
        )
    columns = table.get("columns")
    if not isinstance(columns, list):
        raise invalid(options, f"Table '{name}' needs a 'columns' array.")
    if len(columns) > options.max_columns:
        raise invalid(
            options, f"Table '{name}' has {len(columns)} columns; the maximum is {options.max_columns}."
        )
    seen: set[str] = set()
    for raw_column in columns:
        column = check_properties("Column", raw_column, options)
        column_name, data_type = column.get("name"), column.get("dataType")
        if not isinstance(column_name, str) or not COLUMN_NAME.match(column_name):
            raise invalid(options, f"Column name '{column_name}' in table '{name}' is invalid.")
        if not isinstance(data_type, str) or data_type.lower() not in DATA_TYPES:
            raise invalid(options, f"Column '{column_name}' has unsupported dataType '{data_type}'.")
        if column_name.lower() in seen:
            raise invalid(options, f"Column '{column_name}' appears twice in table '{name}'.")
        seen.add(column_name.lower())
    measures = table.get("measures") or []
    for measure in measures:
        check_properties("Measure", measure, options)
        if not isinstance(measure.get("name"), str) or not isinstance(measure.get("expression"), str):
            raise invalid(options, f"Each measure of table '{name}' needs a name and an expression.")
    extra: dict[str, Any] = {k: table[k] for k in ("isHidden", "description") if k in table}
    state = TableState(name, [dict(c) for c in columns], [dict(m) for m in measures], [], extra)
    state.rows.extend(check_rows(table.get("rows") or [], state, options))
    return state


def check_dataset(
    raw: Any, options: PowerBIOptions
) -> tuple[str, str, list[TableState], list[dict[str, Any]]]:
    """Name, defaultMode, tables and relationships of a valid CreateDatasetRequest."""
    body = check_properties("Dataset", raw, options)
    name, tables = body.get("name"), body.get("tables")
    if not isinstance(name, str) or not name:
        raise invalid(options, "The dataset needs a 'name'.")
    if not isinstance(tables, list):
        raise invalid(options, "The dataset needs a 'tables' array.")
    if len(tables) > options.max_tables:
        raise invalid(options, f"The dataset has {len(tables)} tables; the maximum is {options.max_tables}.")
    mode = body.get("defaultMode", "Push")
    if mode not in DEFAULT_MODES:
        raise invalid(options, f"defaultMode '{mode}' is not one of {sorted(DEFAULT_MODES)}.")
    states = [check_table(t, options) for t in tables]
    names = [t.name.lower() for t in states]
    if len(set(names)) != len(names):
        raise invalid(options, "Table names must be unique within a dataset.")
    relationships = body.get("relationships") or []
    if len(relationships) > options.max_relationships:
        raise invalid(
            options, f"{len(relationships)} relationships; the maximum is {options.max_relationships}."
        )
    by_name = {t.name.lower(): t for t in states}
    for raw_relationship in relationships:
        relationship = check_properties("Relationship", raw_relationship, options)
        if not TABLE_NAME.match(str(relationship.get("name", ""))):
            raise invalid(options, f"Relationship name '{relationship.get('name')}' is invalid.")
        for end in ("from", "to"):
            table = by_name.get(str(relationship.get(f"{end}Table", "")).lower())
            column = str(relationship.get(f"{end}Column", ""))
            if table is None or column.lower() not in {c.lower() for c in table.column_types()}:
                raise invalid(
                    options, f"Relationship '{relationship.get('name')}' names an unknown {end} table/column."
                )
    return name, str(mode), states, [dict(r) for r in relationships]


def check_rows(rows: list[Any], table: TableState, options: PowerBIOptions) -> list[dict[str, Any]]:
    """The rows as stored: values checked against each column's dataType (§1.2). The table's column types
    are read once, not once a row: a POST holds up to 10,000 rows, and R6's test posts a million."""
    types = table.column_types()
    lowered = {name.lower(): name for name in types}
    return [_check_row(row, table, types, lowered, options) for row in rows]


def _check_row(
    row: Any, table: TableState, types: dict[str, str], lowered: dict[str, str], options: PowerBIOptions
) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise invalid(options, f"Each row for table '{table.name}' must be a JSON object.")
    stored: dict[str, Any] = {}
    for key, value in row.items():
        column = key if key in types else lowered.get(key.lower())
        if column is None:
            if options.unknown_row_columns == "ignore":
                continue
            raise unknown_property(key, table.name, "rows")  # a row's type is its table (extrapolated)
        if isinstance(value, str) and len(value) > options.max_string_chars:
            raise invalid(
                options,
                f"Value for column '{column}' has {len(value)} characters; a string value may hold at most "
                f"{options.max_string_chars}.",
            )
        if value is not None and not _fits(DATA_TYPES[types[column]], value, options):
            raise invalid(options, f"Value for column '{column}' does not match its type {types[column]}.")
        stored[column] = value
    return stored


def _fits(data_type: str, value: Any, options: PowerBIOptions) -> bool:
    if data_type == "int64":
        return isinstance(value, int) and not isinstance(value, bool) and -(2**63) < value < 2**63 - 1
    if data_type in ("double", "decimal"):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and math.isfinite(value)
    if data_type == "boolean":
        return isinstance(value, bool)
    if data_type == "string":
        return isinstance(value, str) and len(value) <= options.max_string_chars
    return isinstance(value, str) and _is_datetime(value)


def _is_datetime(text: str) -> bool:
    if US_DATE.match(text):
        return True
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith(("Z", "z")) else text)
    except ValueError:
        return False
    return True


def request_json(request: Request, options: PowerBIOptions) -> Any:
    try:  # the emulator's one parser, with its depth cap
        return request.json() if request.body else None
    except ValueError as exc:
        raise invalid(options, f"The request body is not valid JSON: {exc}") from exc


def rows_request(body: Any, options: PowerBIOptions) -> dict[str, Any]:
    """A PostRowsRequest: an object whose only property is a `rows` array (others get the documented 400)."""
    request = check_properties("PostRowsRequest", body, options, target="rows")
    if not isinstance(request.get("rows", []), list):
        raise invalid(options, 'The body must be {"rows": [...]}.')
    return request
