"""Values a SharePoint list column holds, and the check each value passes on its way into the store.

Column types, the value classes (Person, Lookup, Hyperlink, Location, Term) and `check_value`, which
emulator.lists.store applies to every write; all are re-exported from emulator.lists.store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

ColumnType = Literal[
    "text", "note", "choice", "multichoice", "number", "currency", "boolean", "dateTime", "dateOnly",
    "lookup", "multilookup", "person", "multiperson", "hyperlink", "location", "term", "multiterm",
]  # fmt: skip
LOOKUP_TYPES: frozenset[str] = frozenset({"lookup", "multilookup", "person", "multiperson"})
MULTI_TYPES: frozenset[str] = frozenset({"multichoice", "multilookup", "multiperson", "multiterm"})
# Columns the list-view lookup threshold counts: lookups, people and managed metadata (a lookup into the
# site's hidden taxonomy list), besides the built-in Created By and Modified By (microsoft-apis.md §2.2).
THRESHOLD_TYPES: frozenset[str] = LOOKUP_TYPES | {"term", "multiterm"}


@dataclass(frozen=True)
class ListColumn:
    name: str  # internal (API) name, the key in `fields`, e.g. "EventStart" or "Officers_x0020_Present"
    display_name: str
    type: ColumnType
    required: bool = False
    indexed: bool = False
    choices: tuple[str, ...] = ()
    lookup_list: str | None = None  # display name of the target list, for lookup columns
    max_length: int | None = None  # text
    hidden: bool = False


@dataclass(frozen=True)
class Person:
    lookup_id: int
    display_name: str
    email: str


@dataclass(frozen=True)
class Lookup:
    lookup_id: int
    value: str


@dataclass(frozen=True)
class Hyperlink:
    url: str
    description: str


@dataclass(frozen=True)
class Location:
    display_name: str
    street: str = ""
    city: str = ""
    state: str = ""
    country_or_region: str = ""
    postal_code: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Term:
    label: str
    term_guid: str
    wss_id: int


_SCALAR_TYPES: dict[str, tuple[type, ...]] = {
    "text": (str,), "note": (str,), "choice": (str,), "number": (int, float), "currency": (int, float),
    "boolean": (bool,), "lookup": (Lookup,), "person": (Person,), "hyperlink": (Hyperlink,),
    "location": (Location,), "term": (Term,),
}  # fmt: skip
_MULTI_ITEM_TYPES: dict[str, type] = {
    "multichoice": str,
    "multilookup": Lookup,
    "multiperson": Person,
    "multiterm": Term,
}


def check_value(column: ListColumn, value: object) -> object:
    """The value as stored, or ValueError when it does not fit the column."""
    if value is None:
        return None
    kind = column.type
    if kind == "dateTime":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"column {column.name} needs an aware datetime, got {value!r}")
        return utc(value)
    if kind == "dateOnly":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"column {column.name} needs a date, got {value!r}")
        return value
    if kind in _MULTI_ITEM_TYPES:
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, _MULTI_ITEM_TYPES[kind]) for v in value
        ):
            raise ValueError(f"column {column.name} needs a list of {_MULTI_ITEM_TYPES[kind].__name__}")
        if kind == "multichoice" and column.choices and not set(value) <= set(column.choices):
            raise ValueError(f"column {column.name}: {value!r} not among its choices")
        return tuple(value)
    allowed = _SCALAR_TYPES[kind]
    if not isinstance(value, allowed) or (kind in ("number", "currency") and isinstance(value, bool)):
        raise ValueError(f"column {column.name} ({kind}) cannot hold {value!r}")
    if kind == "choice" and column.choices and value not in column.choices:
        raise ValueError(f"column {column.name}: {value!r} is not one of its choices")
    if kind == "text" and isinstance(value, str) and len(value) > (column.max_length or 255):
        raise ValueError(f"column {column.name}: text longer than {column.max_length or 255} characters")
    return value


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
