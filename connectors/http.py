"""The HTTP seam every connector is built on: one import for the session, calls, errors and paging.

    session = build_session(sign_in.token_provider("graph"), user_agent=settings.user_agent, ca_bundle=...)
    for page in iter_pages(session, f"{graph}/v1.0/sites/{site}/lists/{list_id}/items", {"$top": "5000"}):
        ...

Rules (docs/connectors.md): GETs are resent after 429, 5xx and transport errors; writes only after 429.
Retry-After is honoured up to RetryPolicy.retry_after_max_seconds; RateLimit-* headers pace the session.
"""

from __future__ import annotations

from connectors.paging import Page, iter_pages, parse_page
from connectors.redaction import redact_url
from connectors.retry import (
    IDEMPOTENT_METHODS,
    RETRY_STATUSES,
    RequestStats,
    RetryPolicy,
    parse_retry_after,
)
from connectors.service_errors import ServiceError, parse_error_body, raise_for_error
from connectors.transport import (
    DEFAULT_TIMEOUT,
    ServiceSession,
    TokenProvider,
    build_session,
    read_json,
    send,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT_METHODS",
    "RETRY_STATUSES",
    "Page",
    "RequestStats",
    "RetryPolicy",
    "ServiceError",
    "ServiceSession",
    "TokenProvider",
    "build_session",
    "iter_pages",
    "parse_error_body",
    "parse_page",
    "parse_retry_after",
    "raise_for_error",
    "read_json",
    "redact_url",
    "send",
]
