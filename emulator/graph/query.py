"""OData query options for Graph list items: $expand=fields($select=...), $select, $top and $filter."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from emulator.core.http import Request, ServiceError
from emulator.lists.store import Item, ListColumn, Lookup, Person, SpList

HONOR_NONINDEXED = "honornonindexedquerieswarningmayfailrandomly"
NOT_INDEXED_MESSAGE = (
    "Field '{name}' cannot be referenced in filter or orderby as it is not indexed. Provide the "
    "'Prefer: HonorNonIndexedQueriesWarningMayFailRandomly' header to allow this, but be warned that such "
    "queries may fail on large lists."
)  # microsoft-apis.md §2.2, quoted from issues microsoftgraph/microsoft-graph-docs#2279


class QueryError(ValueError):
    """A query option Graph would refuse with 400 invalidRequest."""


@dataclass(frozen=True)
class ItemQuery:
    expand_fields: bool
    field_select: frozenset[str] | None
    item_select: frozenset[str] | None
    top: int
    predicate: Callable[[Item], bool] | None


@dataclass(frozen=True)
class QueryLimits:
    """The page sizes one Graph service allows; `parse` reads a request's options within them."""

    default_top: int
    max_top: int

    def parse(self, request: Request, sp_list: SpList) -> ItemQuery:
        try:
            return parse_item_query(request, sp_list, default_top=self.default_top, max_top=self.max_top)
        except QueryError as error:
            raise ServiceError(400, "invalidRequest", str(error)) from error


def option(request: Request, name: str) -> str | None:
    """A query option given either as `$name` or as `name` (Graph accepts both)."""
    return request.param("$" + name, request.param(name))


def parse_item_query(request: Request, sp_list: SpList, *, default_top: int, max_top: int) -> ItemQuery:
    expand_fields, field_select = _parse_expand(option(request, "expand") or "")
    raw_select = option(request, "select")
    item_select = frozenset(_split(raw_select)) if raw_select else None
    top = default_top
    raw_top = option(request, "top")
    if raw_top is not None:
        if not raw_top.strip().isdecimal() or int(raw_top) < 1:  # isdigit() passes "²", which int() refuses
            raise QueryError(f"Invalid value '{raw_top}' for $top")
        top = min(int(raw_top), max_top)
    raw_filter = option(request, "filter")
    honour = HONOR_NONINDEXED in (request.header("prefer") or "").lower().replace(" ", "")
    predicate = compile_filter(raw_filter, sp_list, honour_nonindexed=honour) if raw_filter else None
    return ItemQuery(expand_fields, field_select, item_select, top, predicate)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


_EXPAND = re.compile(r"^\s*fields\s*(?:\((?P<inner>.*)\))?\s*$", re.IGNORECASE)


def _parse_expand(text: str) -> tuple[bool, frozenset[str] | None]:
    if not text.strip():
        return False, None
    for part in _top_level_split(text):
        found = _EXPAND.match(part)
        if not found:
            continue
        inner = found.group("inner")
        if not inner:
            return True, None
        key, _, value = inner.partition("=")
        if key.strip().lower() not in ("$select", "select"):
            raise QueryError(f"Unsupported option in $expand=fields({inner})")
        return True, frozenset(_split(value))
    return False, None


def _top_level_split(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


_CLAUSE = re.compile(
    r"^\s*(?:fields/(?P<name>\w+)\s+(?P<op>eq|ne|lt|gt|le|ge)\s+(?P<literal>.+?)"
    r"|startswith\(\s*fields/(?P<sname>\w+)\s*,\s*(?P<sliteral>'(?:[^']|'')*')\s*\))\s*$",
    re.IGNORECASE,
)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "ge": lambda a, b: a >= b,
}  # fmt: skip


def compile_filter(text: str, sp_list: SpList, *, honour_nonindexed: bool) -> Callable[[Item], bool]:
    """Clauses on `fields/<Col>` joined by `and`; a non-indexed column needs the Prefer opt-in."""
    tests = [
        _compile_clause(clause, sp_list, honour_nonindexed) for clause in re.split(r"\s+and\s+", text.strip())
    ]
    if len(tests) == 1:
        return tests[0]
    return lambda item: all(test(item) for test in tests)


def _compile_clause(clause: str, sp_list: SpList, honour_nonindexed: bool) -> Callable[[Item], bool]:
    found = _CLAUSE.match(clause)
    if not found:
        raise QueryError(f"Invalid filter clause: {clause}")
    name = found.group("name") or found.group("sname")
    column, lookup_id = _column(sp_list, name)
    if not column.indexed and not honour_nonindexed:
        raise QueryError(NOT_INDEXED_MESSAGE.format(name=name))
    position = sp_list.positions[column.name]
    if found.group("sname"):
        prefix = _literal(found.group("sliteral"))
        if not isinstance(prefix, str):
            raise QueryError(f"startswith needs a string: {clause}")
        return lambda item: isinstance(value := item.values[position], str) and value.startswith(prefix)
    compare = _OPS[found.group("op").lower()]
    wanted = _coerce(column, _literal(found.group("literal")), lookup_id)

    def test(item: Item) -> bool:
        value = _comparable(column, item.values[position], lookup_id)
        if value is None or wanted is None:
            return compare(value, wanted) if found.group("op").lower() in ("eq", "ne") else False
        try:
            return compare(value, wanted)
        except TypeError:
            return False

    return test


def _column(sp_list: SpList, name: str) -> tuple[ListColumn, bool]:
    column = sp_list.by_name.get(name)
    if column is not None:
        return column, False
    if name.endswith("LookupId"):
        column = sp_list.by_name.get(name[: -len("LookupId")])
        if column is not None and column.type in ("lookup", "person"):
            return column, True
    raise QueryError(f"Field '{name}' is not recognized")


def _literal(text: str) -> object:
    text = text.strip()
    if text.startswith("'") and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return _parse_datetime(text)
    except ValueError as error:
        raise QueryError(f"Invalid literal in filter: {text}") from error


def _parse_datetime(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _coerce(column: ListColumn, literal: object, lookup_id: bool) -> object:
    if literal is None:
        return None
    try:
        if column.type == "dateTime" and isinstance(literal, str):
            return _parse_datetime(literal)
        if column.type == "dateOnly" and isinstance(literal, str):
            return _parse_datetime(literal).date() if "T" in literal else date.fromisoformat(literal)
        if lookup_id or column.type in ("lookup", "person"):
            return int(str(literal))
    except ValueError as error:
        raise QueryError(f"Invalid value {literal!r} for field '{column.name}'") from error
    return literal


def _comparable(column: ListColumn, value: object, lookup_id: bool) -> object:
    if isinstance(value, Lookup | Person):
        return value.lookup_id
    return value
