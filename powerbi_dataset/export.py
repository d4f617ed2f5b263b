"""The model exported as text, exactly what `cetk schema export` prints or writes."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.dictionary import arrow_schemas_document, data_dictionary_markdown
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset


class ExportFormat(StrEnum):
    powerbi = "powerbi"
    arrow = "arrow"
    markdown = "markdown"


class ArrowPurpose(StrEnum):
    staging = "staging"
    published = "published"


def json_text(value: Any) -> str:
    """JSON as cetk writes it: indented, UTF-8 characters kept, one trailing newline."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def export_text(
    export_format: ExportFormat, purpose: ArrowPurpose = ArrowPurpose.staging, dataset: Dataset = DATASET
) -> str:
    """The Power BI CreateDatasetRequest body, the Arrow schemas (JSON) or the Markdown data dictionary."""
    if export_format is ExportFormat.powerbi:
        return json_text(powerbi_definition(dataset))
    if export_format is ExportFormat.arrow:
        return json_text(arrow_schemas_document(dataset, purpose.value))
    return data_dictionary_markdown(dataset)
