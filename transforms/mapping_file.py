"""Reading and writing the user-supplied mapping files (list and Forms mappings) safely.

A mapping file comes from a person or a proposal tool, so it is checked before it is expanded: size,
nesting depth and node count are capped, anchors and aliases (the "billion laughs" lever) are refused,
keys must be unique, and only `true`/`false` read as booleans (YAML 1.1 would turn a choice labelled
`Yes` or `No` into a boolean). Errors are ConfigErrors that name the file and the entry.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import yaml

from errors import ConfigError

MAX_FILE_BYTES = 1_000_000  # a mapping for dozens of lists with hundreds of choices is ~50 kB
MAX_DEPTH = 10  # the deepest mapping entry (lists -> list -> columns -> column -> choices) is 6
MAX_NODES = 100_000
HINT = "see docs/mapping.md for the mapping file format"
_BOOL = "tag:yaml.org,2002:bool"


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and duplicate keys refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[object] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True)
class MappingProblem:
    """One way a mapping file disagrees with the model (or with itself)."""

    source: str  # the file name
    where: str  # e.g. "list 'Engagement Events'"
    entry: str | None  # e.g. "column 'EventStatus'"; None for the list or form itself
    message: str

    def __str__(self) -> str:
        place = f"{self.where}, {self.entry}" if self.entry else self.where
        return f"{self.source}: {place}: {self.message}"


def read_yaml(text: str, source: str) -> Any:
    """The parsed document, after the size, depth, node and anchor checks."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        fail(source, f"the file is {size:,} bytes; a mapping file may be at most {MAX_FILE_BYTES:,}")
    try:
        _check_events(yaml.parse(text, Loader=yaml.SafeLoader), source)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        fail(source, f"{problem}{line}")


def write_yaml(document: Mapping[str, Any], header: str) -> str:
    """Block style for the structure, flow style for leaf entries such as `{to: status, type: choice}`."""
    body = yaml.safe_dump(
        dict(document), sort_keys=False, allow_unicode=True, default_flow_style=None, width=110
    )
    return header + body


def fail(source: str, message: str, where: str | None = None) -> NoReturn:
    place = f"{source}: {where}" if where else source
    raise ConfigError(f"{place}: {message}", hint=HINT)


def _check_events(events: Iterator[yaml.Event], source: str) -> None:
    depth = nodes = 0
    for event in events:
        line = event.start_mark.line + 1 if event.start_mark is not None else 0
        if isinstance(event, yaml.AliasEvent):
            fail(source, f"aliases (*{event.anchor}) are not allowed in a mapping file (line {line})")
        if isinstance(event, yaml.NodeEvent) and event.anchor is not None:
            fail(source, f"anchors (&{event.anchor}) are not allowed in a mapping file (line {line})")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                fail(source, f"nested deeper than {MAX_DEPTH} levels (line {line})")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                fail(source, f"more than {MAX_NODES:,} entries")


class Entry:
    """A mapping read from the file, with the place it came from for error messages."""

    def __init__(self, raw: Any, source: str, where: str, allowed: frozenset[str]) -> None:
        self.source, self.where = source, where
        if not isinstance(raw, dict):
            fail(source, "expected a mapping of keys to values", where)
        unknown = sorted(str(key) for key in raw if key not in allowed)
        if unknown:
            fail(source, f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}", where)
        self.raw: dict[str, Any] = raw

    def has(self, key: str) -> bool:
        return key in self.raw

    def text(self, key: str) -> str:
        value = self.optional_text(key)
        if value is None:
            fail(self.source, f"'{key}' is required", self.where)
        return value

    def optional_text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            fail(
                self.source,
                f"'{key}' must be non-empty text (quote it if it looks like a number)",
                self.where,
            )
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        """A text or a list of texts."""
        value = self.raw.get(key)
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v for v in values):
            fail(self.source, f"'{key}' must be a name or a list of names", self.where)
        return tuple(values)

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if not isinstance(value, bool):
            fail(self.source, f"'{key}' must be true or false", self.where)
        return value

    def confidence(self) -> float | None:
        value = self.raw.get("confidence")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            fail(self.source, "'confidence' must be a number from 0 to 1", self.where)
        return float(value)

    def pairs(self, key: str, values: tuple[type, ...]) -> tuple[tuple[str, Any], ...]:
        """A mapping of text labels to values of the given types, in file order."""
        raw = self.raw.get(key)
        if raw is None:
            return ()
        if not isinstance(raw, dict) or not raw:
            fail(self.source, f"'{key}' must map labels to values", self.where)
        for label, value in raw.items():
            if not isinstance(label, str) or not isinstance(value, values) or value == "":
                fail(
                    self.source,
                    f"'{key}': label {label!r} must be text mapped to {_names(values)}",
                    self.where,
                )
        return tuple(raw.items())

    def entries(self, key: str) -> dict[str, Any]:
        raw = self.raw.get(key)
        if not isinstance(raw, dict) or not raw:
            fail(self.source, f"'{key}' must map names to entries", self.where)
        for name in raw:
            if not isinstance(name, str):
                fail(self.source, f"'{key}': {name!r} must be quoted text", self.where)
        return raw

    def items(self, key: str) -> list[Any]:
        raw = self.raw.get(key)
        if not isinstance(raw, list) or not raw:
            fail(self.source, f"'{key}' must be a non-empty list", self.where)
        return raw


def _names(types: tuple[type, ...]) -> str:
    return " or ".join({"str": "text", "bool": "true/false"}.get(t.__name__, t.__name__) for t in types)


def read_version(document: Any, source: str, supported: int, kind: str) -> None:
    version = document.get("version") if isinstance(document, dict) else None
    if version != supported:
        fail(source, f"a {kind} file starts with `version: {supported}` (found {version!r})")
