"""The model's column kinds, once: each Power BI dataType with its Arrow, Python and pandas types.

derive.py reads `storage` (the Arrow schema of staged Parquet), transforms/coerce.py reads `checked`
(what validation parses values into), and a pandas frame of the model uses `pandas`.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass

import pyarrow as pa

from powerbi_dataset.schema import Kind


@dataclass(frozen=True)
class KindTypes:
    storage: pa.DataType  # the Arrow type a staged column of this kind has
    checked: pa.DataType  # the Arrow type validation parses into (Decimal is checked as a float)
    python: type  # what a stored value is in Python (to_pylist of a `storage` array)
    pandas: str  # the nullable pandas dtype


UTC_MICROS = pa.timestamp("us", tz="UTC")

KIND_TYPES: dict[Kind, KindTypes] = {
    "Int64": KindTypes(pa.int64(), pa.int64(), int, "Int64"),
    "Double": KindTypes(pa.float64(), pa.float64(), float, "Float64"),
    # Power BI Decimal is precision 28, scale 4 (api-dataset-properties); it is range-checked as a float
    "Decimal": KindTypes(pa.decimal128(28, 4), pa.float64(), decimal.Decimal, "Float64"),
    "Boolean": KindTypes(pa.bool_(), pa.bool_(), bool, "boolean"),
    "DateTime": KindTypes(UTC_MICROS, UTC_MICROS, dt.datetime, "datetime64[us, UTC]"),
    "String": KindTypes(pa.string(), pa.string(), str, "string"),
}
