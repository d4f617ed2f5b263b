"""Shapes derived from the declaration: Arrow schemas and the Power BI push dataset definition.

Nothing here is written by hand per table; a golden file pins the Power BI output
(tests/golden/powerbi_dataset.json).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from powerbi_dataset.routing import routed_expression
from powerbi_dataset.schema import REF_SUFFIX, Column, Dataset, Table
from powerbi_dataset.versioning import publish_columns

if TYPE_CHECKING:  # the Arrow shapes load pyarrow when first built: `cetk schema show` needs none
    import pyarrow as pa

Purpose = Literal["staging", "published"]


def arrow_field(column: Column) -> pa.Field:
    import pyarrow as pa

    from powerbi_dataset.kinds import KIND_TYPES

    metadata = {"description": column.description, "personal": column.personal}
    return pa.field(
        column.name, KIND_TYPES[column.kind].storage, nullable=not column.required, metadata=metadata
    )


def arrow_schema(table: Table, purpose: Purpose = "staging") -> pa.Schema:
    """Arrow schema of a table; `published` drops the columns Power BI must never receive."""
    import pyarrow as pa

    columns = table.columns if purpose == "staging" else table.published_columns
    return pa.schema([arrow_field(column) for column in columns], metadata={"table": table.name})


def powerbi_column(column: Column, *, hidden: bool = False) -> dict[str, Any]:
    definition: dict[str, Any] = {"name": column.name, "dataType": column.kind}
    if column.format_string:
        definition["formatString"] = column.format_string
    elif column.date_only:
        definition["formatString"] = "yyyy-mm-dd"
    if column.data_category:
        definition["dataCategory"] = column.data_category
    if column.summarize_by:
        definition["summarizeBy"] = column.summarize_by
    if hidden:
        definition["isHidden"] = True
    return definition


def powerbi_table(table: Table, dataset: Dataset) -> dict[str, Any]:
    """One table as Power BI declares it: the published columns, then the hidden columns publish adds
    (versioning.py), and the table's measures routed through the committed loads (routing.py)."""
    definition: dict[str, Any] = {
        "name": table.name,
        "description": table.description,
        "columns": [powerbi_column(column) for column in table.published_columns]
        + [powerbi_column(column, hidden=True) for column in publish_columns(table, dataset)],
    }
    measures = [
        {
            "name": measure.name,
            "expression": routed_expression(measure, dataset),
            "description": measure.description,
            **({"formatString": measure.format_string} if measure.format_string else {}),
        }
        for measure in dataset.measures
        if measure.table == table.name
    ]
    if measures:
        definition["measures"] = measures
    if table.publish_mode == "control":
        definition["isHidden"] = True
    return definition


def powerbi_definition(dataset: Dataset) -> dict[str, Any]:
    """The CreateDatasetRequest body for a push dataset (POST .../groups/{groupId}/datasets).

    Relationships join the version refs (`{column}_ref`), never the natural keys, which repeat across loads.
    """
    return {
        "name": dataset.name,
        "defaultMode": "Push",
        "tables": [powerbi_table(table, dataset) for table in dataset.published_tables],
        "relationships": [
            {
                "name": relationship.name,
                "fromTable": relationship.from_table,
                "fromColumn": relationship.from_column + REF_SUFFIX,
                "toTable": relationship.to_table,
                "toColumn": relationship.to_column + REF_SUFFIX,
                "crossFilteringBehavior": relationship.cross_filtering,
            }
            for relationship in dataset.relationships
        ],
    }
