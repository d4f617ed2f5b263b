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
`loads` (decode_json) when the normaliser asks for it, so such a page is read exactly as before,
problems and errors included. The reader releases the interpreter lock while it parses: on the sync's
read-ahead thread (pipeline/prefetch.py) the decode runs beside the main thread's work.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json

from connectors.paging import Loads
from transforms.page_read import ArrowItems

__all__ = ["ArrowPage", "decode_items", "decode_json", "read_page"]

NEXT_LINK, DELTA_LINK = "@odata.nextLink", "@odata.deltaLink"
# top-level keys of other collection shapes paging.parse_page reads: a body holding one goes the dict way
_OTHER_SHAPES = frozenset({"d", "odata.nextLink"})


def decode_json(data: bytes) -> Any:
    """A Graph body decoded by orjson (two to three times faster than `json` on a 5,000-item page, the
    sync's largest cost before normalising); what orjson refuses and `json` accepts (a byte-order mark, a
    lone surrogate escape, NaN) is decoded by `json` as before. Integers beyond 64 bits come back as
    floats (Graph sends none: ids are text, numbers are doubles)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


@dataclass(frozen=True)
class ArrowPage:
    """One Graph page read by pyarrow's reader: its items (the struct array of `value`) and its links."""

    items: pa.StructArray
    next_link: str | None
    delta_link: str | None


def read_page(data: bytes, schema: pa.Schema) -> ArrowPage | None:
    """The page in Arrow, or None when the reader refuses the body or it is not a plain `value`
    collection (the caller then decodes it as dicts, errors included)."""
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    # one block holds the whole body (the reader would otherwise split it at newlines); one thread: the
    # sync's other work runs beside it
    reading = pa_json.ReadOptions(use_threads=False, block_size=max(len(data), 1) + 1)
    try:
        table = pa_json.read_json(io.BytesIO(data), read_options=reading, parse_options=options)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    if table.num_rows != 1 or table.column("value").null_count or _OTHER_SHAPES & set(table.column_names):
        return None
    value = table.column("value").combine_chunks()
    return ArrowPage(value.flatten(), _link(table, NEXT_LINK), _link(table, DELTA_LINK))


def decode_items(data: bytes, schema: pa.Schema, loads: Loads = decode_json) -> ArrowItems:
    """The items (`value`) of one Graph page body, in Arrow when the reader takes it; `as_dicts` of
    the result decodes the body with `loads` (once, on demand)."""

    @functools.cache
    def as_dicts() -> Sequence[Mapping[str, Any]]:
        return loads(data)["value"]  # type: ignore[no-any-return]

    page = read_page(data, schema)
    return ArrowItems(None if page is None else (page.items,), as_dicts)


def _link(table: pa.Table, name: str) -> str | None:
    """paging._link of a top-level link: text, not empty, or None."""
    value = table.column(name)[0].as_py()
    return value if isinstance(value, str) and value else None
