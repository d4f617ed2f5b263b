"""Graph's response shapes: the error body, a collection page from pre-serialised items, and paging links.

Links carry opaque, signed tokens ($skiptoken, delta tokens), so a tampered or hand-built one is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from urllib.parse import quote, unquote

from emulator.core.http import Request, Response
from emulator.graph.serialise import dumps

_TOKEN_KEY = secrets.token_bytes(16)


def graph_error(
    now: datetime,
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    *,
    client_request_id: str | None = None,
) -> Response:
    """Graph's error body; `client_request_id` is the one the client sent, echoed as Graph does."""
    ids = {"request-id": str(uuid.uuid4()), "client-request-id": client_request_id or str(uuid.uuid4())}
    inner = {
        "request-id": ids["request-id"],
        "date": now.strftime("%Y-%m-%dT%H:%M:%S"),
        "client-request-id": ids["client-request-id"],
    }
    return Response.json(
        status, {"error": {"code": code, "message": message, "innerError": inner}}, {**ids, **(headers or {})}
    )


def collection(context: str, values: list[bytes], links: dict[str, str]) -> Response:
    """A page of items already serialised to JSON, with `@odata.nextLink` or `@odata.deltaLink`."""
    head = dumps({"@odata.context": context})[:-1]
    tail = b"".join(b',"' + name.encode() + b'":' + dumps(url) for name, url in links.items())
    body = head + b',"value":[' + b",".join(values) + b"]" + tail + b"}"
    return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})


def sign(text: str) -> str:
    """An opaque, tamper-evident token for links the service hands out."""
    mac = hmac.new(_TOKEN_KEY, text.encode(), hashlib.sha256).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{text}&s={mac}".encode()).decode().rstrip("=")


def unsign(token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return None
    text, _, mac = raw.rpartition("&s=")
    expected = hmac.new(_TOKEN_KEY, text.encode(), hashlib.sha256).hexdigest()[:16]
    return text if hmac.compare_digest(mac, expected) else None


def link(request: Request, replace: dict[str, str], drop: Iterable[str] = ()) -> str:
    """This request's absolute URL with query options replaced (others kept verbatim, in order)."""
    removed = {name.lower() for name in (*replace, *drop)}
    kept = [
        part
        for part in request.raw_query.split("&")
        if part and unquote(part.split("=")[0]).lower() not in removed
    ]
    kept.extend(f"{name}={quote(value, safe='')}" for name, value in replace.items())
    path = quote(request.path, safe="/:,$()'!*@")
    return f"{request.base_url}{path}?{'&'.join(kept)}"
