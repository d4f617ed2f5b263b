"""Transport-neutral request/response values, the refusal handlers raise, and a small path router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


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

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

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
