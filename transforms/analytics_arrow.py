"""The published tables as publishing takes them: Arrow, in the model's published schema.

Pure. `build_analytics` returns pandas frames of the published columns without `load_id` (publish stamps
it on every row); `published_arrow` types them as the model declares (powerbi_dataset.derive.arrow_schema,
purpose "published") with `load_id` empty, so the sink compares and posts exactly the report's values.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset

__all__ = ["published_arrow"]


def published_arrow(tables: Mapping[str, pd.DataFrame], dataset: Dataset = DATASET) -> dict[str, pa.Table]:
    """Each published frame as an Arrow table of its published schema (a missing column is empty)."""
    converted: dict[str, pa.Table] = {}
    for name, frame in tables.items():
        schema = arrow_schema(dataset.table(name), "published")
        arrays = []
        for schema_field in schema:
            if schema_field.name in frame:
                values = frame[schema_field.name]
                arrays.append(pa.array(values.astype(object).where(values.notna(), None), schema_field.type))
            else:
                arrays.append(pa.nulls(len(frame), schema_field.type))
        converted[name] = pa.Table.from_arrays(arrays, schema=schema)
    return converted
