"""The one reader of user-supplied YAML (config file, list and Forms mappings, theme taxonomy, fault plans).

The document is built straight from the parser's event stream, so every check runs before anything is
expanded or nested: anchors and aliases (the "billion laughs" lever) are refused at the first one, depth
and node count are capped as the events arrive (5,000 nested brackets stop at the cap, never a
RecursionError), size is capped before parsing (a file is read no further than the cap), repeated keys
and explicit tags (!!python/object, !!binary, ...) are refused, and a caller's key check runs on each key
as it is read. Plain scalars follow the YAML 1.2 core schema (only true/false are booleans, so `Yes`,
`No` and `On` stay text), or stay the text as written (`typed=False`, for settings). Every problem is a
ConfigError naming the source and line; it quotes no text from the document beyond one character.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from errors import ConfigError

KeyPath = tuple[Hashable, ...]  # the keys (and list indexes) from the top of the document to a node
KeyCheck = Callable[[KeyPath, int], None]  # (path to the key just read, its line); raise to refuse it
ValueCheck = Callable[[KeyPath, object, int], None]  # (path, scalar value, line) for every scalar value

_STR = "tag:yaml.org,2002:str"
_TYPED_TAGS = {
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
}
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}
# YAML 1.2.2 core schema, section 10.3.2.
_NULL = re.compile(r"(?:null|Null|NULL|~|)\Z")
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_INT = re.compile(r"[-+]?[0-9]+\Z")
_OCTAL = re.compile(r"0o[0-7]+\Z")
_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_QUOTED = re.compile(r"'([^']*)'")
_ONE_ESCAPED_CHARACTER = re.compile(r"\\(?:[^xuU]|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})")
_NOTHING = object()


@dataclass(frozen=True)
class YamlLimits:
    """Caps on one document; each caller picks them for what its files hold."""

    max_bytes: int = 1_000_000
    max_depth: int = 10  # nested mappings and lists, the top one counted
    max_nodes: int = 100_000  # keys, values and list items


def read_yaml_file(
    path: Path,
    source: str,
    *,
    limits: YamlLimits = YamlLimits(),
    hint: str | None = None,
    typed: bool = True,
    check_key: KeyCheck | None = None,
    check_value: ValueCheck | None = None,
) -> Any:
    """The document in a regular file, read no further than limits.max_bytes; see parse_yaml."""
    raw = _read_capped(path, source, limits.max_bytes, hint)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        _fail(source, "not UTF-8 text", hint or "save the file as UTF-8", line)
    return parse_yaml(
        text, source, limits=limits, hint=hint, typed=typed, check_key=check_key, check_value=check_value
    )


def parse_yaml(
    text: str,
    source: str,
    *,
    limits: YamlLimits = YamlLimits(),
    hint: str | None = None,
    typed: bool = True,
    check_key: KeyCheck | None = None,
    check_value: ValueCheck | None = None,
) -> Any:
    """The one document in `text` (None when empty), or a ConfigError naming `source` and the line.

    typed=False keeps every scalar as the text written (null, ~ and empty still read as None).
    check_key and check_value run as each key and scalar is read, before the rest of the document.
    """
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > limits.max_bytes:
        _fail(source, f"the file is {size:,} bytes; at most {limits.max_bytes:,} are read", hint)
    builder = _Builder(source, limits, hint, typed, check_key, check_value)
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            builder.take(event)
    except yaml.reader.ReaderError as error:
        line = text[: error.position].count("\n") + 1
        _fail(source, f"holds a character YAML does not allow (U+{error.character:04X})", hint, line)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = _without_quoted_text(error.problem or error.context or "")
        _fail(source, f"not valid YAML: {problem}", hint, mark.line + 1 if mark is not None else None)
    except yaml.YAMLError:
        _fail(source, "not valid YAML", hint)
    return builder.result()


def safe_dump(document: Mapping[str, Any], header: str = "") -> str:
    """Block style for the structure, flow style for leaves; text that parse_yaml would type is quoted."""
    body = yaml.dump(
        dict(document),
        Dumper=_QuotingDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=110,
    )
    return header + body


class _QuotingDumper(yaml.SafeDumper):
    """SafeDumper that also quotes text the YAML 1.2 core schema reads as another type (0o17, 1e5)."""


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:int", re.compile(r"^(?:0o[0-7]+|[-+]?[0-9]+)$"), list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$"),
        list("-+.0123456789"),
    ),
):
    _QuotingDumper.add_implicit_resolver(_tag, _pattern, _first)


class _Builder:
    """Builds the document from parser events, checking each event before it adds anything."""

    def __init__(
        self,
        source: str,
        limits: YamlLimits,
        hint: str | None,
        typed: bool,
        check_key: KeyCheck | None,
        check_value: ValueCheck | None,
    ) -> None:
        self.source, self.limits, self.hint, self.typed = source, limits, hint, typed
        self.check_key, self.check_value = check_key, check_value
        # Open collections: (the list or dict, the key awaiting its value or _NOTHING, the path to it).
        self.stack: list[tuple[list[Any] | dict[Hashable, Any], object, KeyPath]] = []
        self.document: object = _NOTHING
        self.documents = self.nodes = 0

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        _fail(self.source, message, self.hint, line)

    def result(self) -> Any:
        return None if self.document is _NOTHING else self.document

    def take(self, event: yaml.Event) -> None:
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, yaml.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                self.fail("holds more than one YAML document (a second '---')", line)
        if isinstance(event, yaml.AliasEvent):
            self.fail("aliases (*name) are not allowed", line)
        if not isinstance(event, yaml.NodeEvent):
            if isinstance(event, yaml.CollectionEndEvent):
                self._add(self.stack.pop()[0], line)
            return
        if event.anchor is not None:
            self.fail("anchors (&name) are not allowed", line)
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            self.fail(f"more than {self.limits.max_nodes:,} entries", line)
        if isinstance(event, yaml.CollectionStartEvent):
            if len(self.stack) + 1 > self.limits.max_depth:
                self.fail(f"nested deeper than {self.limits.max_depth} levels", line)
            if event.tag is not None and event.tag != "!" and event.tag not in _COLLECTION_TAGS:
                self._refuse_tag(line)
            if self.stack and self._awaits_key():
                self.fail("a key must be a single value, not a list or mapping", line)
            container: list[Any] | dict[Hashable, Any] = (
                [] if isinstance(event, yaml.SequenceStartEvent) else {}
            )
            self.stack.append((container, _NOTHING, self._path_here()))
        elif isinstance(event, yaml.ScalarEvent):
            self._add(self._scalar(event, line), line, scalar=True)

    def _awaits_key(self) -> bool:
        container, key, _path = self.stack[-1]
        return isinstance(container, dict) and key is _NOTHING

    def _path_here(self) -> KeyPath:
        """The path of the node about to be added to the innermost open collection."""
        if not self.stack:
            return ()
        container, key, path = self.stack[-1]
        return (*path, len(container)) if isinstance(container, list) else (*path, key)

    def _add(self, value: object, line: int | None, *, scalar: bool = False) -> None:
        if not self.stack:
            self.document = value
            if scalar and self.check_value is not None:
                self.check_value((), value, line or 0)
            return
        container, key, path = self.stack[-1]
        if isinstance(container, list):
            if scalar and self.check_value is not None:
                self.check_value((*path, len(container)), value, line or 0)
            container.append(value)
        elif key is _NOTHING:
            if not isinstance(value, Hashable):
                self.fail("a key must be a single value, not a list or mapping", line)
            if value in container:
                self.fail("a key is repeated (duplicate key)", line)
            if self.check_key is not None:
                self.check_key((*path, value), line or 0)
            self.stack[-1] = (container, value, path)
        else:
            if scalar and self.check_value is not None:
                self.check_value((*path, key), value, line or 0)
            container[key] = value
            self.stack[-1] = (container, _NOTHING, path)

    def _scalar(self, event: yaml.ScalarEvent, line: int | None) -> object:
        text, tag = event.value, event.tag
        plain = event.implicit[0] and tag is None
        if tag is None or tag == "!":
            if not plain:
                return text  # quoted, block or '!'-tagged: text
            if _NULL.match(text):
                return None
            return self._typed(text, line) if self.typed else text
        if tag == _STR:
            return text
        if tag not in _TYPED_TAGS:
            self._refuse_tag(line)
        value = self._typed(text, line) if _NULL.match(text) is None else None
        expected = tag.rsplit(":", 1)[1]
        found = {type(None): "null", bool: "bool", int: "int", float: "float"}.get(type(value), "str")
        if found != expected:
            self.fail(f"a value tagged !!{expected} is not one", line)
        return value if self.typed else text

    def _typed(self, text: str, line: int | None) -> object:
        if _BOOL.match(text):
            return text.lower() == "true"
        try:
            if _INT.match(text):
                return int(text)
            if _OCTAL.match(text):
                return int(text[2:], 8)
            if _HEX.match(text):
                return int(text[2:], 16)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            self.fail("a number too long to read", line)
        if _FLOAT.match(text):
            return float(text)
        if _INFINITY.match(text):
            return -math.inf if text.startswith("-") else math.inf
        if _NAN.match(text):
            return math.nan
        return text

    def _refuse_tag(self, line: int | None) -> NoReturn:
        self.fail("explicit tags (such as !!python/object or !!binary) are not allowed", line)


def _read_capped(path: Path, source: str, max_bytes: int, hint: str | None) -> bytes:
    """At most max_bytes + 1 bytes of a regular file; never blocks on a FIFO or reads a device."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        _fail(source, f"cannot be read ({error.strerror})", hint)
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        _fail(source, "is not a regular file", hint)
    with os.fdopen(descriptor, "rb") as handle:
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        _fail(source, f"the file is over {max_bytes:,} bytes, the most that is read", hint)
    return raw


def _without_quoted_text(problem: str) -> str:
    """The parser's problem text with quoted document text longer than one character taken out."""

    def keep_short(match: re.Match[str]) -> str:
        quoted = match.group(1)
        if quoted.startswith("<") or len(quoted) == 1 or _ONE_ESCAPED_CHARACTER.fullmatch(quoted):
            return match.group(0)  # a token name such as '<block end>', or one character
        return "(text not shown)"

    return _QUOTED.sub(keep_short, problem)


def _fail(source: str, message: str, hint: str | None, line: int | None = None) -> NoReturn:
    where = f"{source}, line {line}" if line is not None else source
    raise ConfigError(f"{where}: {message}", hint=hint)
