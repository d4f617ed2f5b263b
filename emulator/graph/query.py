"""OData query options for Graph list items: $expand=fields($select=...), $select, $top, $filter, $orderby."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.core.http import Request, ServiceError
from emulator.graph.item_fields import (
    HONOR_NONINDEXED,
    NOT_INDEXED_MESSAGE,
    QueryError,
    honours_nonindexed,
    parse_datetime,
    resolve,
)
from emulator.lists.store import Item, SpList

__all__ = ["HONOR_NONINDEXED", "NOT_INDEXED_MESSAGE", "ItemQuery", "QueryError", "QueryLimits", "option"]


@dataclass(frozen=True)
class ItemQuery:
    expand_fields: bool
    field_select: frozenset[str] | None
    item_select: frozenset[str] | None
    top: int
    predicate: Callable[[Item], bool] | None
    order: Callable[[Item], tuple[object, ...]] | None = None  # $orderby as a sort key
    reverse: bool = False  # $orderby ... desc


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
    honour = honours_nonindexed(request.header("prefer"))
    predicate = compile_filter(raw_filter, sp_list, honour_nonindexed=honour) if raw_filter else None
    raw_order = option(request, "orderby")
    order, reverse = (
        compile_order(raw_order, sp_list, honour_nonindexed=honour) if raw_order else (None, False)
    )
    return ItemQuery(expand_fields, field_select, item_select, top, predicate, order, reverse)


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
    r"^\s*(?:(?P<name>(?:fields/)?\w+)\s+(?P<op>eq|ne|lt|gt|le|ge)\s+(?P<literal>.+?)"
    r"|startswith\(\s*(?P<sname>(?:fields/)?\w+)\s*,\s*(?P<sliteral>'(?:[^']|'')*')\s*\))\s*$",
    re.IGNORECASE,
)
_ORDER = re.compile(r"^\s*(?P<name>(?:fields/)?\w+)(?:\s+(?P<direction>asc|desc))?\s*$", re.IGNORECASE)
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b, "lt": lambda a, b: a < b,
    "gt": lambda a, b: a > b, "le": lambda a, b: a <= b, "ge": lambda a, b: a >= b,
}  # fmt: skip


def compile_filter(text: str, sp_list: SpList, *, honour_nonindexed: bool) -> Callable[[Item], bool]:
    """Clauses on `fields/<Col>` or item properties joined by `and`; a non-indexed field needs the opt-in."""
    tests = [
        _compile_clause(clause, sp_list, honour_nonindexed) for clause in re.split(r"\s+and\s+", text.strip())
    ]
    if len(tests) == 1:
        return tests[0]
    return lambda item: all(test(item) for test in tests)


def compile_order(
    text: str, sp_list: SpList, *, honour_nonindexed: bool
) -> tuple[Callable[[Item], tuple[object, ...]], bool]:
    """`$orderby=fields/A desc,fields/B`: a sort key (empty values first, as SharePoint sorts) and reverse.

    Mixed directions are refused (the emulator sorts one way); the item id breaks ties.
    """
    refs, directions = [], set()
    for part in text.split(","):
        found = _ORDER.match(part)
        if not found:
            raise QueryError(f"Invalid $orderby expression: {part.strip()}")
        ref = resolve(sp_list, found.group("name"))
        ref.require_allowed(honour_nonindexed)
        refs.append(ref)
        directions.add((found.group("direction") or "asc").lower())
    if len(directions) > 1:
        raise QueryError("Ordering by several fields in different directions is not supported.")

    def key(item: Item) -> tuple[object, ...]:
        values = [ref.read(item) for ref in refs]
        return (*((value is not None, value) for value in values), item.int_id)

    return key, directions == {"desc"}


def _compile_clause(clause: str, sp_list: SpList, honour_nonindexed: bool) -> Callable[[Item], bool]:
    found = _CLAUSE.match(clause)
    if not found:
        raise QueryError(f"Invalid filter clause: {clause}")
    ref = resolve(sp_list, found.group("name") or found.group("sname"))
    ref.require_allowed(honour_nonindexed)
    if found.group("sname"):
        prefix = _literal(found.group("sliteral"))
        if not isinstance(prefix, str):
            raise QueryError(f"startswith needs a string: {clause}")
        return lambda item: isinstance(value := ref.read(item), str) and value.startswith(prefix)
    op = found.group("op").lower()
    compare = _OPS[op]
    wanted = ref.coerce(_literal(found.group("literal")))

    def test(item: Item) -> bool:
        value = ref.read(item)
        if value is None or wanted is None:
            return compare(value, wanted) if op in ("eq", "ne") else False
        try:
            return compare(value, wanted)
        except TypeError:
            return False

    return test


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
        return parse_datetime(text)
    except ValueError as error:
        raise QueryError(f"Invalid literal in filter: {text}") from error
