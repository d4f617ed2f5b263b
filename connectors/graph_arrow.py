"""A Graph list-items page body decoded straight into Arrow, for transforms.normalise.

    schema = page_schema(mapping)                       # transforms.page_read
    items = decode_items(response.content, schema)      # ArrowItems: Arrow, with the dicts as fallback
    normalise_page(items, mapping, context)

pyarrow's JSON reader parses the body (one JSON object) with the explicit schema of the mapped
columns; keys it does not name (annotations, a deletion, unselected item properties) are inferred, so
the normaliser can tell which were sent. Decoding into Arrow skips the Python objects of a page (some
300,000 for 5,000 items: building, converting and freeing them were about 40 % of the transform stage,
docs/performance.md). A body the reader refuses (a value of another JSON type than the mapping's, a
type that changes between items, a lone surrogate escape, a duplicate key, invalid UTF-8) is left to
`loads` (connectors.graph_lists.decode_json) when the normaliser asks for it, so such a page is read
exactly as before, problems and errors included.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.json as pa_json

from connectors.graph_lists import decode_json
from connectors.paging import Loads
from transforms.page_read import ArrowItems

__all__ = ["decode_items"]


def decode_items(data: bytes, schema: pa.Schema, loads: Loads = decode_json) -> ArrowItems:
    """The items (`value`) of one Graph page body, in Arrow when the reader takes it; `as_dicts` of
    the result decodes the body with `loads` (once, on demand)."""
    decoded: list[Sequence[Mapping[str, Any]]] = []

    def as_dicts() -> Sequence[Mapping[str, Any]]:
        if not decoded:
            decoded.append(loads(data)["value"])
        return decoded[0]

    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    # one block holds the whole body (the reader would otherwise split it at newlines); one thread: the
    # sync's other work runs beside it
    reading = pa_json.ReadOptions(use_threads=False, block_size=max(len(data), 1) + 1)
    try:
        table = pa_json.read_json(io.BytesIO(data), read_options=reading, parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return ArrowItems(None, as_dicts)
    if table.num_rows != 1 or table.column("value").null_count:
        return ArrowItems(None, as_dicts)
    value = table.column("value").combine_chunks()
    return ArrowItems((value.flatten(),), as_dicts)
