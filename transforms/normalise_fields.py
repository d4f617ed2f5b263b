"""A page's items and `fields` keys: ids, repeats and deletions, item keys, what a read selects, and the
columns the items carry beyond the mapping (annotation keys and built-ins left out).

Graph writes OData annotations beside the values (`@odata.etag`, `<Col>@odata.type` on multi-valued
columns, microsoft-apis.md §2.4) and a set of built-in keys on every item (§2.3). Neither is a list
column; anything else the mapping neither maps nor ignores is reported, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from errors import SourceFormatError
from transforms.field_values import Read
from transforms.list_mapping import BUILT_IN_COLUMNS, ListMapping, PeopleMapping, item_key
from transforms.sharepoint_fields import FIELD_SHAPES

__all__ = [
    "BUILT_IN_FIELDS",
    "first_texts",
    "is_annotation",
    "item_keys",
    "latest_items",
    "selected_columns",
    "unmapped_fields",
    "unmapped_names",
]

LOOKUP_SUFFIX = "LookupId"
# Keys Graph puts in `fields` on every item (microsoft-apis.md §2.3; `_`-prefixed compliance keys too).
BUILT_IN_FIELDS = frozenset({
    "id", "ContentType", "Modified", "Created", "Author", "Editor", "AppAuthor", "AppEditor", "Attachments",
    "Edit", "LinkTitle", "LinkTitleNoMenu", "ItemChildCount", "FolderChildCount", "DocIcon", "ComplianceAssetId",
})  # fmt: skip
LOCATION_SIBLINGS = frozenset(name for name, _kind in FIELD_SHAPES["location"].siblings)


def is_annotation(key: str) -> bool:
    """An OData annotation (`@odata.etag`, `Officers@odata.type`): SharePoint names never hold '@'
    (an internal name writes it as `_x0040_`)."""
    return "@" in key


def unmapped_fields(fields: Sequence[Mapping[str, Any]], mapping: ListMapping) -> tuple[str, ...]:
    """Column names the items carry that the mapping does not mention, sorted."""
    return unmapped_names(set().union(*fields) if fields else set(), mapping)


def unmapped_names(present: set[str], mapping: ListMapping) -> tuple[str, ...]:
    """Of the `fields` keys present, the column names the mapping does not mention, sorted."""
    known = {column.name for column in mapping.columns}
    siblings = (
        LOCATION_SIBLINGS if any(column.type == "location" for column in mapping.columns) else frozenset()
    )
    found = set()
    for key in present:
        if is_annotation(key) or key.startswith("_") or key in siblings:
            continue
        name = key[: -len(LOOKUP_SUFFIX)] if key.endswith(LOOKUP_SUFFIX) else key
        if name not in known and key not in known and name not in BUILT_IN_FIELDS:
            found.add(name)
    return tuple(sorted(found))


def selected_columns(mapping: ListMapping, people: PeopleMapping | None = None) -> tuple[str, ...]:
    """The internal names a read of this list asks for (`$expand=fields($select=...)`): the mapped columns,
    Created By / Modified By when mapped (Created and Modified come from the item itself), and for the
    people list its account and staff number columns. Ignored columns are never asked for."""
    names = [column.name for column in mapping.columns if not column.is_ignored]
    names += [BUILT_IN_COLUMNS[name] for name in ("author", "editor") if name in mapping.built_ins]
    if people is not None and people.list == mapping.display_name:
        names += [people.account, people.staff_number]
    return tuple(dict.fromkeys(names))


def latest_items(
    items: Sequence[Mapping[str, Any]], list_name: str
) -> tuple[list[Mapping[str, Any]], list[str], tuple[str, ...]]:
    """Items in order of their last appearance (a delta page may repeat one), their ids, the deleted ids."""
    found = [item.get("id") for item in items]
    if set(map(type, found)) <= {str} and "" not in found:
        ids = cast(list[str], found)
    else:
        ids = [_item_id(item_id, position, list_name) for position, item_id in enumerate(found)]
    if len(set(ids)) == len(ids) and not any(["deleted" in item for item in items]):
        return list(items), ids, ()  # a full read: nothing repeated or deleted
    latest: dict[str, Mapping[str, Any]] = {}
    for item_id, item in zip(ids, items, strict=True):
        latest.pop(item_id, None)
        latest[item_id] = item
    live = [(item_id, item) for item_id, item in latest.items() if "deleted" not in item]
    deleted = tuple(item_id for item_id, item in latest.items() if "deleted" in item)
    return [item for _id, item in live], [item_id for item_id, _item in live], deleted


def _item_id(item_id: object, position: int, list_name: str) -> str:
    if isinstance(item_id, bool) or not isinstance(item_id, str | int) or str(item_id) == "":
        raise SourceFormatError(
            f"list '{list_name}': item {position} of the page has no id",
            hint="the connector must pass Graph listItems as they came (each has an `id`)",
        )
    return str(item_id)


def item_keys(list_id: str, ids: Sequence[str]) -> pa.Array:
    """item_key(list_id, id) for every id, joined by Arrow rather than formatted one by one."""
    marker = "\x00"
    before, after = item_key(list_id, marker).split(marker)
    return pc.binary_join_element_wise(before, pa.array(ids, pa.string()), after, "")


def first_texts(
    items: Sequence[Mapping[str, Any]],
    fields: Sequence[Mapping[str, Any]],
    item_properties: Sequence[str],
    field_key: str,
    read: Mapping[str, pa.Array] | None = None,
) -> Read:
    """Per item, `item[p1] or item[p2] ... or fields[field_key]` (an item property, else its `fields`
    fallback) as text; a value that is not text is empty and marked wrong.

    Graph puts these properties (eTag, createdDateTime, ...) on every item, so they are taken from `read`
    (the properties as text, transforms.field_values.read_items) when every item has one; otherwise, or
    when a property is not text, the page is read item by item.
    """
    if read is not None:
        # `or` passes over an empty text as it does over a missing one
        found = pc.coalesce(*(_non_empty(read[name]) for name in item_properties))
        if not found.null_count:
            return Read(found, np.zeros(len(items), dtype=np.bool_))
    values = [
        next((item.get(name) for name in item_properties if item.get(name)), None) or values.get(field_key)
        for item, values in zip(items, fields, strict=True)
    ]
    return _texts(values)


def _non_empty(text: pa.Array) -> pa.Array:
    return pc.if_else(pc.not_equal(text, ""), text, pa.scalar(None, pa.string()))


def _texts(values: list[Any]) -> Read:
    """Values that should all be text, as a string array; anything else is empty and marked wrong."""
    try:
        return Read(pa.array(values, pa.string()), np.zeros(len(values), dtype=np.bool_))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        wrong = np.fromiter((v is not None and not isinstance(v, str) for v in values), np.bool_, len(values))
        return Read(
            pa.array(
                [None if bad else v for v, bad in zip(values, wrong.tolist(), strict=True)], pa.string()
            ),
            wrong,
        )
