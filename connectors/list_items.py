"""Pages of list items as both list connectors hand them on: Graph-shaped items, the delta link, deletions.

The Graph connector (connectors/graph_lists.py) and the SharePoint REST one yield ItemPage values, so the
normaliser reads one shape (issue 8 contract §2). Helpers here keep service annotations out of `fields`
and collapse a delta feed's repeated items to the latest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from transforms.list_mapping import BUILT_IN_COLUMNS, ListMapping
from transforms.page_read import ArrowItems

__all__ = [
    "BUILT_IN_LOOKUPS",
    "LOOKUP_LIKE_TYPES",
    "ItemPage",
    "Selection",
    "Site",
    "collapse_repeats",
    "is_annotation",
    "is_deleted",
    "selection",
    "without_annotations",
]

# Built-in lookup-type columns (Created By, Modified By): they count towards the lookup threshold.
BUILT_IN_LOOKUPS = frozenset({"Author", "Editor", "AuthorLookupId", "EditorLookupId"})
ITEM_ANNOTATIONS_KEPT = frozenset({"@odata.etag"})  # the item's version, which the contract passes on
# Column types the list-view lookup threshold counts: lookups, people and managed metadata.
LOOKUP_LIKE_TYPES = frozenset({"lookup", "multilookup", "person", "multiperson", "term", "multiterm"})


@dataclass(frozen=True)
class Site:
    id: str  # Graph's "{hostname},{siteCollectionGuid},{webGuid}"
    web_url: str
    display_name: str


@dataclass(frozen=True)
class ItemPage:
    """One page of Graph-shaped items of one list.

    An item is {"id", "eTag"/"@odata.etag", "createdDateTime", "lastModifiedDateTime", "fields": {...}}; a
    delta deletion is {"id", "deleted": {"state": "deleted"}} with no fields. `fields` never holds annotation
    keys. `delta_link` is set on the last page of a delta enumeration. `full_enumeration` is True when the
    read enumerates the whole list (a plain read, a first delta run, a 410 restart): items absent from a
    complete full enumeration are deleted at source.

    `content` is the items as dicts, or, when the caller asked for pages decoded into Arrow
    (connectors/graph_arrow.py), as ArrowItems, whose `as_dicts` are the same dicts; `items` is always
    the dicts (decoded on demand from an Arrow page), so a reader that wants dicts needs nothing more.
    """

    list_id: str
    content: list[dict[str, Any]] | ArrowItems
    delta_link: str | None = None
    full_enumeration: bool = False

    @property
    def items(self) -> list[dict[str, Any]]:
        if isinstance(self.content, ArrowItems):
            return cast(list[dict[str, Any]], list(self.content.as_dicts()))
        return self.content

    def is_empty(self) -> bool:
        """Whether the page holds no item (an Arrow page is not decoded again to tell)."""
        content = self.content
        if isinstance(content, ArrowItems) and content.pages is not None:
            return not any(len(page) for page in content.pages)
        return not self.items


@dataclass(frozen=True)
class Selection:
    """What a read of one mapped list asks for: the internal names, and which of them are lookup-type."""

    select: tuple[str, ...]
    lookup_columns: frozenset[str]


def selection(one: ListMapping) -> Selection:
    """Only the columns the mapping uses (ignored ones never leave the source), plus its mapped built-ins."""
    used = [column for column in one.columns if not column.is_ignored]
    built_ins = [BUILT_IN_COLUMNS[name] for name in one.built_ins]
    select = tuple(dict.fromkeys([*(column.name for column in used), *built_ins]))
    lookups = {column.name for column in used if column.type in LOOKUP_LIKE_TYPES}
    return Selection(select, frozenset(lookups | (set(built_ins) & BUILT_IN_LOOKUPS)))


def is_annotation(key: str) -> bool:
    """An OData annotation (`@odata.etag`, `Col@odata.type`, `fields@odata.context`), never a column."""
    return "@" in key


def without_annotations(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item with every annotation dropped from `fields`, and from the item but its `@odata.etag`."""
    # "@" tested inline and `fields` copied then pruned (it holds one or two annotations among its columns):
    # this runs for every item a sync reads, and a call per key cost more than the rest of it together
    out = {key: value for key, value in item.items() if "@" not in key or key in ITEM_ANNOTATIONS_KEPT}
    fields = item.get("fields")
    if isinstance(fields, dict):
        kept = fields.copy()
        for key in [key for key in fields if "@" in key]:
            del kept[key]
        out["fields"] = kept
    elif isinstance(fields, Mapping):
        out["fields"] = {key: value for key, value in fields.items() if not is_annotation(key)}
    return out


def is_deleted(item: Mapping[str, Any]) -> bool:
    return isinstance(item.get("deleted"), Mapping)


def collapse_repeats(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per item id, the last occurrence, in the order of those last occurrences (delta feeds)."""
    listed = list(items)
    if len({str(item.get("id")) for item in listed}) == len(listed):  # no repeats: the usual page
        return listed
    latest: dict[str, dict[str, Any]] = {}
    for item in listed:
        key = str(item.get("id"))
        latest.pop(key, None)
        latest[key] = item
    return list(latest.values())
