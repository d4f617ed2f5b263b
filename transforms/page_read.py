"""A page of items as the normaliser reads it: ids, deletions, the mapped `fields` values as Arrow arrays,
the item properties as text, the `fields` keys present; from Python dicts or from Arrow.

    schema = page_schema(mapping)                         # what a Graph page body is decoded to
    items = ArrowItems((value,), as_dicts)                # connectors.graph_arrow.decode_items builds these
    page = read_arrow(items, wanted, properties)          # None: the dict path reads the page instead

Graph pages decoded straight into Arrow (pyarrow's JSON reader, explicit schema, other keys inferred)
skip building, converting and freeing some 300,000 Python objects a page. The Arrow path reads exactly
what the dict path (read_dicts) would, or declines the page: a deletion, a repeated, missing or empty
id, a number the dicts would hold differently (beyond 2**53 or negative zero), or a page the reader
refused (a value of another JSON type than the mapping's, a lone surrogate, a duplicate key...). A
declined page is read as dicts, so every case the dict path handles stays handled exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from transforms.field_values import SPECS, STRING, Read, read_items
from transforms.list_mapping import ListMapping
from transforms.normalise_fields import first_texts, latest_items
from transforms.normalise_plan import ColumnPlan, plan_list
from transforms.sharepoint_fields import FIELD_SHAPES, SharePointType

__all__ = [
    "BUILT_IN_SOURCES", "ITEM_PROPERTIES", "ArrowItems", "PageRead", "combine", "field_key",
    "latest_modified", "page_schema", "plain_ids", "read_arrow", "read_dicts", "wanted_fields",
]  # fmt: skip

# Item properties the normaliser reads (eTag, its annotation twin, the two timestamps), as text.
ITEM_PROPERTIES = ("eTag", "@odata.etag", "createdDateTime", "lastModifiedDateTime")
# Item properties (microsoft-apis.md §2.2) the built-in columns are read from, then the `fields` fallback.
BUILT_IN_SOURCES = {
    "author": ("AuthorLookupId",),
    "editor": ("EditorLookupId",),
    "created": ("createdDateTime", "Created"),
    "modified": ("lastModifiedDateTime", "Modified"),
}
MAX_EXACT = 2.0**53  # a JSON integer beyond this is held by the dicts as an int, which Arrow cannot take
Dicts = Callable[[], Sequence[Mapping[str, Any]]]


@dataclass(frozen=True)
class ArrowItems:
    """One or more Graph pages of items decoded into Arrow: per page, the items of its `value` as a
    struct array (the explicit schema's members first, any other key inferred), or None when the
    reader refused a page; `as_dicts` decodes the same pages as Python dicts, for the dict path."""

    pages: tuple[pa.StructArray, ...] | None
    as_dicts: Dicts


@dataclass(frozen=True)
class PageRead:
    """What the normaliser reads of a page, however it was decoded."""

    ids: list[str]  # the live items' ids, in order of last appearance
    deleted: tuple[str, ...]
    reads: dict[str, Read]  # `fields` key -> its values as read (transforms.field_values)
    raw: Callable[[str], list[Any]]  # a `fields` key's JSON values, to show a wrong one
    texts: Callable[[Sequence[str], str], Read]  # normalise_fields.first_texts of the live items
    field_keys: Callable[[], set[str]]  # every key the live items' `fields` carry


def page_schema(mapping: ListMapping, dataset: Dataset = DATASET) -> pa.Schema:
    """The Arrow schema a Graph page body of this list is decoded to: `value` a list of items with the
    properties as text and `fields` holding each mapped key with the Arrow type its SharePoint type is
    read as (field_values.SPECS); the paging links as text. Other keys (the people list's account and
    staff number, annotations, a deletion) are inferred by the reader, so they are there only when sent."""
    plan = plan_list(mapping, dataset)
    wanted = wanted_fields(mapping, (*plan.columns, *plan.bridges))
    item = pa.struct([
        ("id", STRING), *((name, STRING) for name in ITEM_PROPERTIES),
        ("fields", pa.struct([(key, SPECS[kind].raw) for key, kind in wanted.items()])),
    ])  # fmt: skip
    return pa.schema([("@odata.nextLink", STRING), ("@odata.deltaLink", STRING), ("value", pa.list_(item))])


def wanted_fields(mapping: ListMapping, columns: Sequence[ColumnPlan]) -> dict[str, SharePointType]:
    """`fields` key -> SharePoint type of every planned column, and of Created By / Modified By."""
    wanted: dict[str, SharePointType] = {field_key(one): one.kind for one in columns}
    wanted.update({BUILT_IN_SOURCES[n][0]: "person" for n in ("author", "editor") if n in mapping.built_ins})
    return wanted


def field_key(one: ColumnPlan) -> str:
    """The `fields` key a planned column's value sits under."""
    return FIELD_SHAPES[one.kind].field_key(one.name)


def combine(pages: Sequence[ArrowItems]) -> ArrowItems:
    """Several decoded pages as one (the Arrow path only when every page decoded)."""
    decoded = [one.pages for one in pages]
    arrays = None if any(one is None for one in decoded) else tuple(a for one in decoded for a in one or ())

    def as_dicts() -> list[Mapping[str, Any]]:
        return [item for one in pages for item in one.as_dicts()]

    return ArrowItems(arrays, as_dicts)


def read_dicts(
    page_items: Sequence[Mapping[str, Any]],
    list_name: str,
    wanted: Mapping[str, SharePointType],
    properties: Sequence[str],
) -> PageRead:
    """The page as Python dicts (as the connectors yield them)."""
    live, ids, deleted = latest_items(page_items, list_name)
    fields: list[Mapping[str, Any]] = [item.get("fields") or {} for item in live]
    reads, texts = read_items(live, properties, fields, wanted)
    return PageRead(
        ids,
        deleted,
        reads,
        lambda key: [values.get(key) for values in fields],
        lambda names, fallback: first_texts(live, fields, names, fallback, texts),
        lambda: set().union(*fields) if fields else set(),
    )


def read_arrow(
    items: ArrowItems, wanted: Mapping[str, SharePointType], properties: Sequence[str]
) -> PageRead | None:
    """The page read from Arrow, equal to read_dicts of `items.as_dicts()`; None when that is not sure."""
    ids = _plain_ids(items)
    if ids is None or items.pages is None:
        return None
    fields = [pc.struct_field(page, "fields") for page in items.pages]
    reads: dict[str, Read] = {}
    clean = np.zeros(len(ids), dtype=np.bool_)
    for key, kind in wanted.items():
        spec = SPECS[kind]
        raw = _joined([pc.struct_field(values, key).cast(spec.raw) for values in fields], spec.raw)
        if not _exact_numbers(raw):
            return None
        reads[key] = Read(spec.extract(raw), clean)
    texts = {
        name: _joined([pc.struct_field(page, name) for page in items.pages], STRING) for name in properties
    }

    def dicts_texts(names: Sequence[str], fallback: str) -> Read:
        found = pc.coalesce(*(_non_empty(texts[name]) for name in names))
        if not found.null_count:
            return Read(found, clean)
        return read_dicts(items.as_dicts(), "", wanted, properties).texts(names, fallback)

    return PageRead(
        ids.to_pylist(),
        (),
        reads,
        lambda key: read_dicts(items.as_dicts(), "", wanted, properties).raw(key),
        dicts_texts,
        lambda: {name for values in fields for name in _names(values.type)} if len(ids) else set(),
    )


def plain_ids(items: ArrowItems) -> list[str] | None:
    """The items' ids when read_arrow would read every one of them as it is (each page decoded, no
    deletion, every id present, not empty and there once), in order; else None."""
    ids = _plain_ids(items)
    return None if ids is None else ids.to_pylist()


def _plain_ids(items: ArrowItems) -> pa.Array | None:
    if items.pages is None or any("deleted" in _names(page.type) for page in items.pages):
        return None
    ids = _joined([pc.struct_field(page, "id") for page in items.pages], STRING)
    if ids.null_count or (len(ids) and not pc.all(pc.not_equal(ids, "")).as_py()):
        return None
    if pc.count_distinct(ids).as_py() != len(ids):
        return None  # a delta page repeating an item: the dict path keeps the latest
    return ids


def _names(kind: pa.DataType) -> list[str]:
    return [kind.field(index).name for index in range(kind.num_fields)]


def _joined(arrays: Sequence[pa.Array], kind: pa.DataType) -> pa.Array:
    if len(arrays) == 1:
        return arrays[0]
    return pa.concat_arrays(arrays) if arrays else pa.array([], kind)


def _non_empty(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.not_equal(text, ""), text, pa.scalar(None, STRING))


def _exact_numbers(raw: pa.Array) -> bool:
    """Whether every double read holds what the dicts would: an integer literal beyond 2**53 is a
    Python int there (Arrow's conversion refuses it), and `-0` is the int 0 there (Arrow reads -0.0)."""
    doubles = [leaf for leaf in _leaves(raw) if pa.types.is_floating(leaf.type)]
    for leaf in doubles:
        if len(leaf) == leaf.null_count:
            continue
        size = pc.abs(leaf)
        if pc.max(size).as_py() >= MAX_EXACT:
            return False
        zeros = pc.equal(leaf, 0.0)
        if pc.any(zeros).as_py():
            values = leaf.filter(zeros).to_numpy(zero_copy_only=False)
            if np.signbit(values).any():
                return False
    return True


def _leaves(array: pa.Array) -> list[pa.Array]:
    if pa.types.is_struct(array.type):
        return [
            leaf
            for index in range(array.type.num_fields)
            for leaf in _leaves(pc.struct_field(array, [index]))
        ]
    if pa.types.is_list(array.type):
        return _leaves(pc.list_flatten(array))
    return [array]


def latest_modified(items: Sequence[Mapping[str, Any]] | ArrowItems) -> str | None:
    """The latest non-empty `lastModifiedDateTime` of the items (the Modified cursor's candidate), from
    their dicts or, the same, from Arrow unless a page was refused or an id is missing or repeated (the
    dicts hold a repeated item once, so the latest of the others could differ); UTF-8 orders as text."""
    if isinstance(items, ArrowItems) and items.pages is not None:
        ids = _joined([pc.struct_field(page, "id") for page in items.pages], STRING)
        if not ids.null_count and pc.count_distinct(ids).as_py() == len(ids):
            modified = _joined(
                [pc.struct_field(page, "lastModifiedDateTime") for page in items.pages], STRING
            )
            latest: str | None = pc.max(_non_empty(modified)).as_py()
            return latest
    dicts = items.as_dicts() if isinstance(items, ArrowItems) else items
    seen = [str(item["lastModifiedDateTime"]) for item in dicts if item.get("lastModifiedDateTime")]
    return max(seen, default=None)


def arrow_staff_numbers(items: ArrowItems, account: str, staff_number: str) -> dict[str, str] | None:
    """normalise.people_staff_numbers from Arrow (every item, in order: a later one wins), or None when
    a page holds the two keys as anything but text."""
    if items.pages is None:
        return None
    found: dict[str, str] = {}
    for page in items.pages:
        fields = pc.struct_field(page, "fields")
        present = _names(fields.type)
        pair = []
        for key in (account, staff_number):
            if key not in present:
                pair.append([None] * len(page))
                continue
            values = pc.struct_field(fields, key)
            if not (pa.types.is_string(values.type) or pa.types.is_null(values.type)):
                return None
            pair.append(values.to_pylist())
        for user, staff in zip(*pair, strict=True):
            if user is not None and isinstance(staff, str) and staff.strip():
                found[user] = staff
    return found
