"""The per-force list mapping: which SharePoint list and column feeds which canonical table and column.

Every force builds its lists a little differently, so nothing about list or column names is hard-coded:
a versioned YAML file (format: docs/mapping.md) says, per list, its canonical table and key, and per
column (by internal name) its type and target, choice labels to codes, lookups to lists, multi-valued
columns to bridge tables, or that it is deliberately ignored. Pure: text in, values out;
transforms/list_mapping_check.py holds a mapping against the canonical model.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from transforms.mapping_file import Entry, MappingProblem, fail, read_version, read_yaml, write_yaml
from transforms.sharepoint_fields import FIELD_SHAPES, SHAREPOINT_TYPES, SharePointType, types_compatible

__all__ = [
    "BUILT_IN_COLUMNS",
    "FIELD_SHAPES",
    "ITEM_KEY_TEMPLATE",
    "FILLED_BY_SYNC",
    "MAPPING_VERSION",
    "ColumnMapping",
    "ListMapping",
    "MappingProblem",
    "PeopleMapping",
    "SharePointType",
    "SiteMapping",
    "dump_mapping",
    "item_key",
    "load_mapping",
    "types_compatible",
    "unmapped_columns",
]

MAPPING_VERSION = 1
# A list's canonical key when no column carries it: the list GUID and the item id (model.py's ids).
ITEM_KEY_TEMPLATE = "sp:{list_id}:{item_id}"
# Built-in columns a list may map, by their mapping key: Created By, Modified By, Created, Modified.
BUILT_IN_COLUMNS = {"author": "Author", "editor": "Editor", "created": "Created", "modified": "Modified"}
# Lineage columns of model.py that the sync fills itself (source list, item id, version, publish load).
FILLED_BY_SYNC = frozenset({"source_system", "source_item_id", "source_version", "load_id"})
HEADER = "# cetk list mapping: SharePoint lists -> canonical tables. Format: docs/mapping.md\n"
_COLUMN_KEYS = frozenset(
    {"to", "type", "choices", "lookup_list", "bridge", "rank", "display", "ignore", "confidence"}
)
_IGNORED_KEYS = frozenset({"ignore", "type", "display", "confidence"})
_LIST_KEYS = frozenset({"list", "table", "key", "columns", *BUILT_IN_COLUMNS})


@dataclass(frozen=True)
class ColumnMapping:
    """One list column, by internal name: where its values go, or why they go nowhere."""

    name: str  # internal name: the key under an item's `fields` (e.g. "Event_x0020_Start")
    type: SharePointType | None = None  # required unless ignored
    to: tuple[str, ...] = ()  # canonical column(s); a location feeds (latitude, longitude)
    choices: tuple[tuple[str, str], ...] = ()  # choice label -> canonical code
    lookup_list: str | None = None  # lookups: the mapped list (display name) whose key they resolve to
    bridge: str | None = None  # multi-valued columns: the bridge table keyed on (list key, target)
    rank: str | None = None  # bridge column that takes each value's 1-based position
    display: str | None = None  # the display name when the mapping was written (renames show in checks)
    ignore: str | None = None  # why the column deliberately never leaves the source
    confidence: float | None = None  # a proposal's confidence; a reviewed file may leave it out

    @property
    def is_ignored(self) -> bool:
        return self.ignore is not None

    @property
    def codes_by_label(self) -> dict[str, str]:
        return dict(self.choices)


@dataclass(frozen=True)
class ListMapping:
    display_name: str  # the list's display name (`list:` in the file)
    table: str
    key: str  # the canonical key column: from the column mapped to it, else ITEM_KEY_TEMPLATE
    columns: tuple[ColumnMapping, ...]
    author: str | None = None  # canonical columns fed by the built-in columns
    editor: str | None = None
    created: str | None = None
    modified: str | None = None

    def column(self, name: str) -> ColumnMapping:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"list {self.display_name!r} maps no column {name!r}")

    @property
    def built_ins(self) -> dict[str, str]:
        """Mapping key ("author") -> canonical column, for the built-ins this list maps."""
        values = {
            "author": self.author,
            "editor": self.editor,
            "created": self.created,
            "modified": self.modified,
        }
        return {name: target for name, target in values.items() if target is not None}


@dataclass(frozen=True)
class PeopleMapping:
    """How person columns become officer keys: a list naming each officer's account and staff number."""

    list: str  # display name of a mapped list
    account: str  # its person column (internal name)
    staff_number: str  # its text column; officer_key = transforms.privacy.officer_key(staff number, key)


@dataclass(frozen=True)
class SiteMapping:
    lists: tuple[ListMapping, ...]
    people: PeopleMapping | None = None
    version: int = MAPPING_VERSION
    source: str = field(default="mapping.yaml", compare=False)  # the file, for messages

    def list_mapping(self, display_name: str) -> ListMapping:
        for one in self.lists:
            if one.display_name == display_name:
                return one
        raise KeyError(f"{self.source} maps no list {display_name!r}")


def item_key(list_id: str, item_id: str | int) -> str:
    return ITEM_KEY_TEMPLATE.format(list_id=list_id, item_id=item_id)


def load_mapping(text: str, source_name: str) -> SiteMapping:
    """Read a list mapping file; a malformed one is a ConfigError naming the file, list and column."""
    document = read_yaml(text, source_name)
    read_version(document, source_name, MAPPING_VERSION, "list mapping")
    top = Entry(document, source_name, "the file", frozenset({"version", "people", "lists"}))
    lists = tuple(_list(raw, source_name, index) for index, raw in enumerate(top.items("lists"), 1))
    names = [one.display_name for one in lists]
    for name in {name for name in names if names.count(name) > 1}:
        fail(source_name, "is mapped more than once", f"list '{name}'")
    people = None
    if top.has("people"):
        entry = Entry(
            top.raw["people"], source_name, "people", frozenset({"list", "account", "staff_number"})
        )
        people = PeopleMapping(entry.text("list"), entry.text("account"), entry.text("staff_number"))
    return SiteMapping(lists, people, MAPPING_VERSION, source_name)


def dump_mapping(mapping: SiteMapping) -> str:
    """The mapping as a file; load_mapping reads it back to an equal value."""
    document: dict[str, Any] = {"version": mapping.version}
    if mapping.people is not None:
        people = mapping.people
        document["people"] = {
            "list": people.list,
            "account": people.account,
            "staff_number": people.staff_number,
        }
    document["lists"] = [
        {"list": one.display_name, "table": one.table, "key": one.key, **one.built_ins,
         "columns": {column.name: _column_document(column) for column in one.columns}}
        for one in mapping.lists
    ]  # fmt: skip
    return write_yaml(document, HEADER)


def _list(raw: Any, source: str, index: int) -> ListMapping:
    name = raw.get("list") if isinstance(raw, dict) else None
    where = f"list '{name}'" if isinstance(name, str) else f"lists[{index}]"
    entry = Entry(raw, source, where, _LIST_KEYS)
    columns = tuple(_column(name, value, source, where) for name, value in entry.entries("columns").items())
    built_ins = {key: entry.optional_text(key) for key in BUILT_IN_COLUMNS}
    return ListMapping(entry.text("list"), entry.text("table"), entry.text("key"), columns, **built_ins)


def _column(name: str, raw: Any, source: str, list_where: str) -> ColumnMapping:
    where = f"{list_where}, column '{name}'"
    ignored = isinstance(raw, dict) and "ignore" in raw
    entry = Entry(raw, source, where, _IGNORED_KEYS if ignored else _COLUMN_KEYS)
    kind = entry.optional_text("type")
    if kind is not None and kind not in SHAREPOINT_TYPES:
        fail(source, f"type '{kind}' is none of: {', '.join(SHAREPOINT_TYPES)}", where)
    if ignored:
        return ColumnMapping(name, kind, display=entry.optional_text("display"),
                             ignore=entry.text("ignore"), confidence=entry.confidence())  # fmt: skip
    if kind is None:
        fail(source, "'type' is required (or 'ignore' with the reason)", where)
    return ColumnMapping(
        name,
        kind,
        to=entry.texts("to"),
        choices=entry.pairs("choices", (str,)),
        lookup_list=entry.optional_text("lookup_list"),
        bridge=entry.optional_text("bridge"),
        rank=entry.optional_text("rank"),
        display=entry.optional_text("display"),
        confidence=entry.confidence(),
    )


def _column_document(column: ColumnMapping) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ignore": column.ignore,
        "to": (column.to[0] if len(column.to) == 1 else list(column.to)) if column.to else None,
        "type": column.type,
        "choices": dict(column.choices) or None,
        "lookup_list": column.lookup_list,
        "bridge": column.bridge,
        "rank": column.rank,
        "display": column.display,
        "confidence": column.confidence,
    }
    return {key: value for key, value in fields.items() if value is not None}


def unmapped_columns(one: ListMapping, live_columns: Iterable[str]) -> tuple[str, ...]:
    """Live column names the mapping neither maps nor ignores (new columns a check warns about)."""
    known = {column.name for column in one.columns}
    return tuple(name for name in live_columns if name not in known)
