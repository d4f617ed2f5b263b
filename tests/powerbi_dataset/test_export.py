"""The Power BI definition validates against Microsoft's swagger and is pinned by a golden file."""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonschema
import pytest

from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.dictionary import arrow_schemas_document, schema_summary
from powerbi_dataset.export import json_text
from powerbi_dataset.model import DATASET

ECMA_ASTRAL = "\\u10000-\\u10FFFF"  # ECMA regex text; Python's re needs the 8-digit form
PYTHON_ASTRAL = "\\U00010000-\\U0010FFFF"
STRICT_DEFINITIONS = ("CreateDatasetRequest", "Table", "Column", "Measure", "Relationship")


def create_dataset_schema(swagger: dict[str, Any]) -> dict[str, Any]:
    """CreateDatasetRequest as a JSON Schema: $refs resolved in place, patterns made Python-readable.

    The service rejects properties it does not know (microsoft-apis.md §1.2), so the definitions the
    body uses are made strict with additionalProperties: false.
    """
    definitions = copy.deepcopy(swagger["definitions"])

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: fix_pattern(value) if key == "pattern" else fix(value) for key, value in node.items()
            }
        if isinstance(node, list):
            return [fix(item) for item in node]
        return node

    def fix_pattern(pattern: Any) -> Any:
        return pattern.replace(ECMA_ASTRAL, PYTHON_ASTRAL) if isinstance(pattern, str) else pattern

    definitions = fix(definitions)
    for name in STRICT_DEFINITIONS:
        definitions[name]["additionalProperties"] = False
    return {"$ref": "#/definitions/CreateDatasetRequest", "definitions": definitions}


def test_definition_validates_against_the_swagger(powerbi_swagger: dict[str, Any]) -> None:
    schema = create_dataset_schema(powerbi_swagger)
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(powerbi_definition(DATASET)), key=lambda error: list(error.path))
    assert not errors, [f"{list(error.path)}: {error.message}" for error in errors]


def test_the_swagger_check_catches_a_bad_definition(powerbi_swagger: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(create_dataset_schema(powerbi_swagger))
    bad = powerbi_definition(DATASET)
    bad["tables"][0]["name"] = "bad.name"
    bad["tables"][0]["columns"][0]["compatibilityLevel"] = 1500
    del bad["tables"][1]["columns"][0]["dataType"]
    messages = [error.message for error in validator.iter_errors(bad)]
    assert any("does not match" in message for message in messages)
    assert any("compatibilityLevel" in message for message in messages)
    assert any("'dataType' is a required property" in message for message in messages)
    astral = powerbi_definition(DATASET)
    astral["tables"][0]["name"] = "table\U0001f600"  # a name outside the BMP is allowed by the service
    assert not list(validator.iter_errors(astral))


def test_definition_matches_golden_file(golden: Any) -> None:
    golden("powerbi_dataset.json", json_text(powerbi_definition(DATASET)))


def test_definition_publishes_no_unpublished_or_special_category_column() -> None:
    definition = powerbi_definition(DATASET)
    published = {
        (table["name"], column["name"]) for table in definition["tables"] for column in table["columns"]
    }
    for table in DATASET.tables:
        for column in table.columns:
            if not column.published or (table.row_level and column.personal == "special-category"):
                assert (table.name, column.name) not in published


def test_arrow_document_is_json_and_follows_purpose() -> None:
    staging = arrow_schemas_document(DATASET, "staging")
    published = arrow_schemas_document(DATASET, "published")
    json.dumps(staging)
    ccr_staging = {field["name"] for field in staging["tables"]["ccr"]["fields"]}
    ccr_published = {field["name"] for field in published["tables"]["ccr"]["fields"]}
    assert "religion" in ccr_staging and "religion" not in ccr_published
    event_id = staging["tables"]["events"]["fields"][0]
    assert event_id["name"] == "event_id"
    assert event_id["type"] == "string"
    assert event_id["nullable"] is False
    assert event_id["metadata"]["personal"] == "none"


def test_schema_summary_one_table_and_unknown_table() -> None:
    summary = schema_summary(DATASET, "themes")
    assert [table["name"] for table in summary["tables"]] == ["themes"]
    assert summary["tables"][0]["columns"][0] == {
        "name": "theme_code",
        "kind": "String",
        "required": True,
        "codes": len(DATASET.table("themes").column("theme_code").codes),
        "personal": "none",
        "published": True,
        "description": "Theme code, primary key",
    }
    from errors import ModelError

    with pytest.raises(ModelError, match="no table 'nope'"):
        schema_summary(DATASET, "nope")
