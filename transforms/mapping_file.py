"""Reading and writing the user-supplied mapping files (list and Forms mappings) safely.

A mapping file comes from a person or a proposal tool, so it is read by config.safe_yaml: checked before
it is expanded (size, nesting depth and node count capped, anchors and aliases refused, keys unique, only
`true`/`false` read as booleans so a choice labelled `Yes` or `No` stays text). Errors are ConfigErrors
that name the file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from config.safe_yaml import YamlLimits, parse_yaml, safe_dump
from errors import ConfigError

MAX_FILE_BYTES = 1_000_000  # a mapping for dozens of lists with hundreds of choices is ~50 kB
MAX_DEPTH = 10  # the deepest mapping entry (lists -> list -> columns -> column -> choices) is 6
MAX_NODES = 100_000
LIMITS = YamlLimits(max_bytes=MAX_FILE_BYTES, max_depth=MAX_DEPTH, max_nodes=MAX_NODES)
HINT = "see docs/mapping.md for the mapping file format"


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
    """The parsed document, after the size, depth, node, anchor and duplicate-key checks."""
    return parse_yaml(text, source, limits=LIMITS, hint=HINT)


def write_yaml(document: Mapping[str, Any], header: str) -> str:
    """Block style for the structure, flow style for leaf entries such as `{to: status, type: choice}`."""
    return safe_dump(document, header)


def fail(source: str, message: str, where: str | None = None) -> NoReturn:
    place = f"{source}: {where}" if where else source
    raise ConfigError(f"{place}: {message}", hint=HINT)


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
