"""Token-endpoint answers in Entra ID's shapes: the success body (microsoft-apis.md §5.4) and OAuth2 errors.

Each error is keyed by its AADSTS number; AADSTS7000215 (bad secret) is documented in §5.1, the device
flow errors follow RFC 8628 names; the other numbers are best known and listed in docs/emulator.md.
"""

from __future__ import annotations

import uuid
from typing import Any

from emulator.core.clock import Clock
from emulator.core.http import Response

NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}

# AADSTS number -> (HTTP status, OAuth2 error, message template)
ERRORS: dict[int, tuple[int, str, str]] = {
    700016: (
        400,
        "unauthorized_client",
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'.",
    ),
    7000215: (
        401,
        "invalid_client",
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "
        "not the client secret ID, for a secret added to app '{client_id}'.",
    ),
    7000218: (
        401,
        "invalid_client",
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
    700027: (401, "invalid_client", "{message}"),
    700023: (401, "invalid_client", "{message}"),
    700021: (401, "invalid_client", "{message}"),
    700024: (401, "invalid_client", "{message}"),
    50027: (401, "invalid_client", "{message}"),
    70003: (400, "unsupported_grant_type", "The app requested an unsupported grant type '{grant}'."),
    70011: (
        400,
        "invalid_scope",
        "The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid; "
        "request one resource per token.",
    ),
    1002012: (
        400,
        "invalid_scope",
        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with "
        "/.default suffixed to the resource identifier (application ID URI).",
    ),
    70016: (
        400,
        "authorization_pending",
        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    ),
    70020: (
        400,
        "expired_token",
        "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
    ),
    70000: (400, "invalid_grant", "The provided value for the '{what}' is not valid."),
    70018: (400, "authorization_declined", "The user declined the sign-in request."),
    900561: (405, "invalid_request", "The endpoint only accepts POST requests."),
}


def oauth_error(clock: Clock, code: int, *, error: str | None = None, **fields: str) -> Response:
    """An Entra-style OAuth2 error body for AADSTS `code`; `error` overrides the OAuth2 error name."""
    status, default_error, template = ERRORS[code]
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = f"{clock.now():%Y-%m-%d %H:%M:%SZ}"
    description = (
        f"AADSTS{code}: {template.format(**fields)} Trace ID: {trace_id} "
        f"Correlation ID: {correlation_id} Timestamp: {stamp}"
    )
    body = {
        "error": error or default_error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    }
    return Response.json(status, body, NO_STORE)


def token_success(lifetime_seconds: int, fields: dict[str, Any]) -> Response:
    body = {
        "token_type": "Bearer",
        "expires_in": lifetime_seconds,
        "ext_expires_in": lifetime_seconds,
        **fields,
    }
    return Response.json(200, body, NO_STORE)
