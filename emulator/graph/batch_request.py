"""The `$batch` request body checked against Graph's schema before anything in it runs (microsoft-apis.md §2.6).

`{"requests": [{"id", "method", "url", "headers"?, "body"?, "dependsOn"?}]}`: 1 to 20 requests, each id a
non-empty string and unique, method and url strings, the url relative, headers an object of strings,
dependsOn a list of other requests' ids with no cycle, and every write (POST, PUT, PATCH) carrying a
body and a Content-Type. A batch that breaks any rule is one 400 for the whole batch, and nothing in it
runs. Wording: "Invalid batch payload format." (seen from Graph, msgraph-sdk-javascript#1451) and "Write
request id : {id} does not contain Content-Type header or body." (msgraph-sdk-dotnet#2628; a batch-level
failure per Softeria/ms-365-mcp-server#683) are Graph's; the other messages are UNCONFIRMED.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from emulator.core.http import Request, ServiceError

INVALID_PAYLOAD = "Invalid batch payload format."
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})
_ABSOLUTE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:|//)")
_NO_BODY = object()


@dataclass(frozen=True)
class BatchEntry:
    """One request of a batch, checked."""

    id: str
    method: str  # upper-cased
    url: str
    headers: dict[str, str]  # names lower-cased
    body: Any = field(default=_NO_BODY)
    depends_on: tuple[str, ...] = ()

    @property
    def has_body(self) -> bool:
        return self.body is not _NO_BODY and self.body is not None


def parse_batch(request: Request, max_requests: int) -> list[BatchEntry]:
    """The batch's requests in the order they may run (dependencies first), or a ServiceError 400."""
    try:
        document = request.json()
    except ValueError as error:
        raise _refused(INVALID_PAYLOAD) from error
    raw = document.get("requests") if isinstance(document, dict) else None
    if not isinstance(raw, list) or not raw or not all(isinstance(entry, dict) for entry in raw):
        raise _refused(INVALID_PAYLOAD)
    if len(raw) > max_requests:
        raise _refused(f"Number of batch requests exceeds the limit of {max_requests}.")
    entries = [_entry(entry) for entry in raw]
    ids = [entry.id for entry in entries]
    if len(set(ids)) != len(ids):
        raise _refused("Batch request ids must be unique.")
    for entry in entries:
        if any(dep not in ids or dep == entry.id for dep in entry.depends_on):
            raise _refused(f"Request {entry.id} has a dependsOn naming no other request of the batch.")
    return _in_dependency_order(entries)


def _entry(raw: Mapping[str, Any]) -> BatchEntry:
    entry_id, method, url = raw.get("id"), raw.get("method"), raw.get("url")
    headers, depends = raw.get("headers", {}), raw.get("dependsOn", [])
    if not (isinstance(entry_id, str) and entry_id and isinstance(method, str) and isinstance(url, str)):
        raise _refused(INVALID_PAYLOAD)
    if not isinstance(headers, dict) or not all(isinstance(value, str) for value in headers.values()):
        raise _refused(INVALID_PAYLOAD)
    if not isinstance(depends, list) or not all(isinstance(dep, str) for dep in depends):
        raise _refused(INVALID_PAYLOAD)
    if _ABSOLUTE.match(url.strip()):
        raise _refused(
            f"Request {entry_id} has an absolute url; batch urls are relative to the version, e.g. /sites/root."
        )
    entry = BatchEntry(
        id=entry_id,
        method=method.upper(),
        url=url,
        headers={name.lower(): value for name, value in headers.items()},
        body=raw.get("body", _NO_BODY),
        depends_on=tuple(depends),
    )
    if entry.method in WRITE_METHODS and (not entry.has_body or "content-type" not in entry.headers):
        raise _refused(f"Write request id : {entry.id} does not contain Content-Type header or body.")
    if entry.has_body and "content-type" not in entry.headers:  # a body on a GET or DELETE
        raise _refused(f"Write request id : {entry.id} does not contain Content-Type header or body.")
    return entry


def _in_dependency_order(entries: list[BatchEntry]) -> list[BatchEntry]:
    """Waves of requests whose dependencies have all come before, in batch order; a cycle is a 400."""
    ordered: list[BatchEntry] = []
    placed: set[str] = set()
    pending = list(entries)
    while pending:
        ready = [entry for entry in pending if all(dep in placed for dep in entry.depends_on)]
        if not ready:
            raise _refused("The batch's dependsOn references form a cycle.")
        ordered.extend(ready)
        placed.update(entry.id for entry in ready)
        pending = [entry for entry in pending if entry.id not in placed]
    return ordered


def _refused(message: str) -> ServiceError:
    return ServiceError(400, "BadRequest", message)
