"""Failed HTTP answers and transport failures as errors.py types, for Graph, SharePoint, Power BI and Entra ID.

Messages name the request (method and URL, credentials masked), the status, the service's code and request
id. The service's own message is added only where it cannot quote data cetk sent, and never a token.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from connectors.redaction import redact_url, scrub_text
from connectors.retry import IDEMPOTENT_METHODS, throttle_wait_seconds
from errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    ResyncRequiredError,
    ThrottledError,
)

# Answers whose message describes the request's target, not its body: safe to show even for a write.
MESSAGE_SAFE_STATUSES = frozenset({401, 403, 404, 410, 429, 503})
REQUEST_ID_HEADERS = ("request-id", "RequestId", "x-ms-request-id", "SPRequestGuid", "client-request-id")
AMBIGUOUS_WRITE_HINT = (
    "the request was not resent because the service may have applied it; "
    "check the target before trying again (a publish starts a new load)"
)
HINTS_BY_STATUS = {
    401: "the service refused the token: check tenant_id, client_id and the credential (cetk config show)",
    403: (
        "the app signed in but is not allowed here: an admin grants Sites.Selected (read) on the site, "
        "or adds the service principal to the Power BI workspace as Contributor"
    ),
}
_AADSTS = re.compile(r"AADSTS(\d+)")


@dataclass(frozen=True)
class ServiceError:
    """What an error body says, whichever of the Microsoft shapes it has."""

    code: str | None = None
    message: str | None = None
    request_id: str | None = None


def parse_error_body(response: requests.Response) -> ServiceError:
    """Graph, Power BI (`details` or `pbi.error`), SharePoint OData and token refusals, OAuth; else empty."""
    header_id = next(
        (response.headers[name] for name in REQUEST_ID_HEADERS if name in response.headers), None
    )
    try:
        body: Any = json.loads(response.content) if response.content else None
    except ValueError:  # HTML from a proxy, an empty body, a truncated answer
        body = None
    if not isinstance(body, dict):
        return ServiceError(request_id=header_id)
    error = body.get("error", body.get("odata.error"))
    if error is None and isinstance(body.get("error_description"), str):
        # SharePoint's token refusals (401): {"error_description": "Unsupported app only token."}, a fixed
        # text about the token, not an OAuth answer from Entra ID (whose description is never shown).
        return ServiceError(None, _text(body["error_description"]), header_id)
    if isinstance(
        error, str
    ):  # OAuth: {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}
        found = _AADSTS.search(str(body.get("error_description", "")))
        oauth_code = f"{error} (AADSTS{found.group(1)})" if found else error
        return ServiceError(oauth_code, None, _text(body.get("correlation_id")) or header_id)
    if not isinstance(error, dict):
        return ServiceError(None, _text(body.get("message")), header_id)  # Power BI's throttling body
    pbi_error = error.get("pbi.error")
    code = _text(error.get("code")) or (_text(pbi_error.get("code")) if isinstance(pbi_error, dict) else None)
    message = error.get("message")
    if isinstance(message, dict):  # SharePoint: {"lang": "en-US", "value": "..."}
        message = message.get("value")
    inner = error.get("innerError") or error.get("innererror")
    body_id = _text(inner.get("request-id")) if isinstance(inner, dict) else None
    return ServiceError(code, _text(message), body_id or header_id)


def raise_for_error(response: requests.Response, *, now: float | None = None) -> requests.Response:
    """Return a successful answer; raise the errors.py type for any other. `now` dates an HTTP-date Retry-After."""
    status = response.status_code
    if status < 400:
        return response
    request = response.request
    method = (request.method or "GET").upper() if request is not None else "GET"
    url = redact_url(request.url or response.url) if request is not None else redact_url(response.url)
    found = parse_error_body(response)
    reason = f"HTTP {status}" + (f" {found.code}" if found.code else "")
    text = f"{method} {url} failed: {reason}"
    if found.message and (
        method in IDEMPOTENT_METHODS or method == "DELETE" or status in MESSAGE_SAFE_STATUSES
    ):
        text += f": {scrub_text(found.message, _bearer(request))}"
    request_id = found.request_id
    if request_id:
        text += f" (request id {scrub_text(request_id)})"
    elif request is not None and request.headers.get("client-request-id"):
        request_id = request.headers["client-request-id"]  # ours, sent with every request: still traceable
        text += f" (client request id {scrub_text(request_id)})"
    details: dict[str, Any] = {"status": status, "service_code": found.code, "request_id": request_id}
    is_write = method not in IDEMPOTENT_METHODS
    if status in (429, 503):
        wait = throttle_wait_seconds(response.headers, time.time() if now is None else now)
        if wait is not None:
            text += f"; the service asks to wait {wait:.0f} s"
        hint = "the service is throttling this app; run again later or lower the request rate"
        if status == 503 and is_write:
            hint = AMBIGUOUS_WRITE_HINT
        raise ThrottledError(text, retry_after_seconds=wait, hint=hint, **details)
    if status in (401, 403):
        raise AuthError(text, hint=HINTS_BY_STATUS[status], **details)
    if status == 404:
        raise NotFoundError(text, **details)
    if status == 410:
        raise ResyncRequiredError(text, restart_url=response.headers.get("Location"), **details)
    raise ConnectorError(text, hint=AMBIGUOUS_WRITE_HINT if is_write and status >= 500 else None, **details)


def transport_error(method: str, url: str, exc: requests.RequestException) -> ConnectorError:
    """A ConnectorError for a request that got no answer (the caller raises it `from exc`)."""
    method = method.upper()
    if isinstance(exc, requests.exceptions.SSLError):
        what, hint = "the TLS handshake failed", "trust the service's CA: set ca_bundle to its PEM file"
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        what, hint = (
            "could not connect in time",
            "check the network, proxy (HTTPS_PROXY) and endpoint settings",
        )
    elif isinstance(exc, requests.exceptions.Timeout) or isinstance(_reason(exc), ReadTimeoutError):
        what, hint = "timed out waiting for the answer", None
    elif isinstance(exc, requests.exceptions.ConnectionError):
        what, hint = "the connection failed or was dropped", None
    else:
        what, hint = f"could not be sent ({type(exc).__name__})", None
    if hint is None:
        hint = (
            AMBIGUOUS_WRITE_HINT
            if method not in IDEMPOTENT_METHODS
            else ("retry later; if it persists, check the service health and the network")
        )
    return ConnectorError(f"{method} {redact_url(url)}: {what}", hint=hint)


def _reason(exc: requests.RequestException) -> object:
    """The urllib3 error under a MaxRetryError that requests wrapped (a GET that timed out on every attempt)."""
    first = exc.args[0] if exc.args else None
    return getattr(first, "reason", None)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _bearer(request: requests.PreparedRequest | None) -> str | None:
    header = request.headers.get("Authorization") if request is not None else None
    return header.split(" ", 1)[-1] if header else None
