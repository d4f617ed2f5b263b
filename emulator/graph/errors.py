"""The error a Graph handler raises; GraphService turns it into Graph's JSON error shape."""

from __future__ import annotations

from collections.abc import Mapping


class GraphError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, dict(headers or {})
