"""Text that may reach a log or an error message, with credentials taken out: URLs, service messages."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
# Query parameters that carry a credential somewhere in the Microsoft stack (OAuth, SAS, API keys); a delta
# `token` is no credential but is opaque and long, so it is masked too.
CREDENTIAL_QUERY_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "client_assertion",
        "code",
        "device_code",
        "password",
        "passphrase",
        "secret",
        "sig",
        "signature",
        "key",
        "api_key",
        "api-key",
        "apikey",
        "token",
    }
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?")
_BEARER = re.compile(r"(?i)\b(bearer\s+)\S+")
_NAMED = re.compile(  # name=value, name: value and JSON "name": "value"
    r"(?i)\b("
    + "|".join(re.escape(k) for k in sorted(CREDENTIAL_QUERY_KEYS))
    + r")([\"']?\s*[=:]\s*[\"']?)[^\s&,;\"']+"
)
MAX_SERVICE_MESSAGE_CHARS = 300


def redact_url(url: str) -> str:
    """The URL with user:password and credential query values masked; everything else kept as sent."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _redact_pair(pair: str) -> str:
    name, separator, _value = pair.partition("=")
    if separator and unquote(name).strip().lower() in CREDENTIAL_QUERY_KEYS:
        return f"{name}={MASK}"
    return pair


def redact_text(text: str, *known_secrets: str | None) -> str:
    """The text without JWTs, bearer values, credential-named values or the given secrets."""
    for secret in known_secrets:
        if secret:
            text = text.replace(secret, MASK)
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}{MASK}", text)
    return _NAMED.sub(lambda match: f"{match.group(1)}{match.group(2)}{MASK}", text)


def scrub_text(text: str, *known_secrets: str | None) -> str:
    """redact_text() on one line of at most MAX_SERVICE_MESSAGE_CHARS, for an error message."""
    text = " ".join(redact_text(text, *known_secrets).split())
    if len(text) > MAX_SERVICE_MESSAGE_CHARS:
        text = text[: MAX_SERVICE_MESSAGE_CHARS - 1] + "…"
    return text


class RedactingLogFilter(logging.Filter):
    """Masks credentials in a library's own log records: MSAL's DEBUG token-cache event shows the device code."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: logging reports it itself
            return True
        record.msg, record.args = redact_text(message), None
        return True


def install_log_filter(*logger_names: str) -> None:
    """Attach one RedactingLogFilter to each named logger (idempotent: a second call adds nothing)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingLogFilter) for existing in logger.filters):
            logger.addFilter(RedactingLogFilter())
