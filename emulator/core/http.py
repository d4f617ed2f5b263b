"""Transport-neutral request/response values, the refusal handlers raise, the one JSON body parser, a router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

# Nesting levels a JSON body may have. OData's readers default to 100 (MessageQuotas.MaxNestingDepth); what
# Graph, SharePoint and Power BI allow is UNCONFIRMED. It keeps json.loads (and anything walking the value
# afterwards) far from Python's recursion limit.
MAX_JSON_DEPTH = 100
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonBodyError(ValueError):
    """A request body that is not JSON the emulator will read (a ValueError, as json.loads raises)."""


class JsonTooDeep(JsonBodyError):
    """Nested deeper than the cap: refused before json.loads could exhaust the recursion limit."""


def parse_json(body: bytes | str, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """json.loads with a depth cap; every error is a ValueError (JsonTooDeep for nesting past the cap)."""
    text = body if isinstance(body, str) else body.decode(json.detect_encoding(body))
    if text.count("[") + text.count("{") > max_depth:  # fewer openers than the cap cannot nest past it
        _check_depth(text, max_depth)
    return json.loads(text)


def _check_depth(text: str, max_depth: int) -> None:
    """Strip strings, keep the brackets, then peel innermost pairs level by level, each pass at C speed."""
    skeleton = _NOT_A_BRACKET.sub("", _JSON_STRING.sub("", text))
    for _level in range(max_depth):
        peeled = skeleton.replace("[]", "").replace("{}", "")
        if not peeled:
            return
        if (
            peeled == skeleton
        ):  # brackets that do not pair up: not JSON, and json.loads must not recurse on it
            raise JsonBodyError("The body is not valid JSON: its brackets do not match.")
        skeleton = peeled
    raise JsonTooDeep(f"The body is nested deeper than {max_depth} levels.")


class ServiceError(Exception):
    """A refusal raised inside a handler; the service answers it in its own error shape."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, dict(headers or {})


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded path, relative to the service's mount point
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes
    base_url: str  # scheme://host:port + mount prefix, for building absolute links
    raw_query: str = ""
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body as JSON (None when empty), parsed once with the depth cap; ValueError when it is not."""
        if "value" not in self._parsed:
            self._parsed["value"] = parse_json(self.body) if self.body else None
        return self._parsed["value"]

    @staticmethod
    def parse_query(raw_query: str) -> dict[str, list[str]]:
        return parse_qs(raw_query, keep_blank_values=True)


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop_connection: bool = False  # close the socket without answering (the ambiguous commit)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(payload, separators=(",", ":")).encode(), merged)

    @classmethod
    def empty(cls, status: int, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}))


Handler = Callable[[Request, dict[str, str]], Response]
_PARAM = re.compile(r"\{(\w+)(:path)?\}")


@dataclass
class Router:
    """Routes `METHOD /path/{param}` templates; `{name}` matches one segment, `{name:path}` several."""

    routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)

    def add(self, method: str, template: str, handler: Handler) -> None:
        escaped = re.escape(template).replace(r"\{", "{").replace(r"\}", "}").replace(r"\:", ":")
        pattern = "^" + _PARAM.sub(_param_regex, escaped) + "$"
        self.routes.append((method.upper(), re.compile(pattern), handler))

    def match(self, method: str, path: str) -> RouteMatch | None:
        """The route for this method and path; `handler` is None when only other methods serve the path."""
        path_known = False
        for route_method, pattern, handler in self.routes:
            found = pattern.match(path)
            if found:
                if route_method == method.upper():
                    return RouteMatch(handler, found.groupdict())
                path_known = True
        return RouteMatch(None, {}) if path_known else None


@dataclass(frozen=True)
class RouteMatch:
    handler: Handler | None
    params: dict[str, str]


def _param_regex(match: re.Match[str]) -> str:
    return f"(?P<{match.group(1)}>.+)" if match.group(2) else f"(?P<{match.group(1)}>[^/]+)"
