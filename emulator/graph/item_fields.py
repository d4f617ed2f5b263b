"""What `$filter` and `$orderby` may name on list items: `fields/<Col>`, the built-ins, and item properties.

A list column is indexed when its definition says so; among the built-ins only `ID` is indexed unless the
list indexes `Modified` or `Created` too (`SpList.builtin_indexes`). The item properties
`lastModifiedDateTime` and `createdDateTime` stand for the `Modified` and `Created` fields. A reference to
a non-indexed field needs the `Prefer: HonorNonIndexedQueriesWarningMayFailRandomly` opt-in
(microsoft-apis.md §2.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from emulator.lists.store import Item, ListColumn, Lookup, Person, SpList

HONOR_NONINDEXED = "honornonindexedquerieswarningmayfailrandomly"
NOT_INDEXED_MESSAGE = (
    "Field '{name}' cannot be referenced in filter or orderby as it is not indexed. Provide the "
    "'Prefer: HonorNonIndexedQueriesWarningMayFailRandomly' header to allow this, but be warned that such "
    "queries may fail on large lists."
)  # microsoft-apis.md §2.2, quoted from issues microsoftgraph/microsoft-graph-docs#2279
ITEM_PROPERTIES = {"lastModifiedDateTime": "Modified", "createdDateTime": "Created", "id": "ID"}


class QueryError(ValueError):
    """A query option Graph would refuse with 400 invalidRequest."""


Kind = str  # a ColumnType, or "id" for the item id


@dataclass(frozen=True)
class FieldRef:
    """One field a query names: its SharePoint name, whether it is indexed, and how to read it off an item."""

    name: str
    kind: Kind
    indexed: bool
    read: Callable[[Item], object]

    def require_allowed(self, honour_nonindexed: bool) -> None:
        if not self.indexed and not honour_nonindexed:
            raise QueryError(NOT_INDEXED_MESSAGE.format(name=self.name))

    def coerce(self, literal: object) -> object:
        """A filter literal as the comparable value of this field."""
        if literal is None:
            return None
        try:
            if self.kind == "dateTime" and isinstance(literal, str):
                return parse_datetime(literal)
            if self.kind == "dateOnly" and isinstance(literal, str):
                return parse_datetime(literal).date() if "T" in literal else date.fromisoformat(literal)
            if self.kind in ("lookup", "person", "id"):
                return int(str(literal))
        except ValueError as error:
            raise QueryError(f"Invalid value {literal!r} for field '{self.name}'") from error
        return literal


def honours_nonindexed(prefer_header: str | None) -> bool:
    return HONOR_NONINDEXED in (prefer_header or "").lower().replace(" ", "")


def resolve(sp_list: SpList, expression: str) -> FieldRef:
    """`fields/<name>` (a column, `<lookup>LookupId` or a built-in) or an item property; else QueryError."""
    if not expression.startswith("fields/"):
        built_in = ITEM_PROPERTIES.get(expression)
        if built_in is None:
            raise QueryError(f"Property '{expression}' cannot be used in filter or orderby")
        return _built_in(sp_list, built_in)
    name = expression.removeprefix("fields/")
    column = sp_list.by_name.get(name)
    if column is not None:
        return _column_ref(sp_list, column, name)
    base = name.removesuffix("LookupId")
    column = sp_list.by_name.get(base)
    if name != base and column is not None and column.type in ("lookup", "person"):
        return _column_ref(sp_list, column, name)
    if name in ("ID", "Modified", "Created", "AuthorLookupId", "EditorLookupId"):
        return _built_in(sp_list, name)
    raise QueryError(f"Field '{name}' is not recognized")


def _column_ref(sp_list: SpList, column: ListColumn, name: str) -> FieldRef:
    position = sp_list.positions[column.name]

    def read(item: Item) -> object:
        value = item.values[position]
        return value.lookup_id if isinstance(value, Lookup | Person) else value

    return FieldRef(name, column.type, column.indexed, read)


def _built_in(sp_list: SpList, name: str) -> FieldRef:
    indexed = name in sp_list.builtin_indexes
    readers: dict[str, tuple[Kind, Callable[[Item], object]]] = {
        "ID": ("id", lambda item: item.int_id),
        "Modified": ("dateTime", lambda item: item.modified),
        "Created": ("dateTime", lambda item: item.created),
        "AuthorLookupId": ("person", lambda item: item.author.lookup_id),
        "EditorLookupId": ("person", lambda item: item.editor.lookup_id),
    }
    kind, read = readers[name]
    return FieldRef(name, kind, indexed, read)


def parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
