"""Text that may reach a log or an error message, with credentials taken out: URLs, service messages."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from config.urls import CREDENTIAL_QUERY_KEYS, MASK, redact_url

# The query parameters that carry a credential, and redact_url, are config's (config/urls.py): config refuses
# them in configured URLs, and what connectors log masks them.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?")
_BEARER = re.compile(r"(?i)\b(bearer\s+)\S+")
_NAMED = re.compile(  # name=value, name: value and JSON "name": "value"
    r"(?i)\b("
    + "|".join(re.escape(k) for k in sorted(CREDENTIAL_QUERY_KEYS))
    + r")([\"']?\s*[=:]\s*[\"']?)[^\s&,;\"']+"
)
MAX_SERVICE_MESSAGE_CHARS = 300


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


def install_log_filter(*logger_names: str) -> Callable[[], None]:
    """Attach one RedactingLogFilter to each named logger; returns the function that takes off what it added.

    Idempotent: a logger that already has one gets no second. The filter holds no secret (only patterns), so
    one left on for the life of the process (SignIn's case) masks but never lets a test pass another's;
    tests restore every logger's filters after each test all the same (tests/conftest.py).
    """
    added: list[tuple[logging.Logger, RedactingLogFilter]] = []
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingLogFilter) for existing in logger.filters):
            log_filter = RedactingLogFilter()
            logger.addFilter(log_filter)
            added.append((logger, log_filter))

    def uninstall() -> None:
        for logger, log_filter in added:
            logger.removeFilter(log_filter)

    return uninstall


__all__ = [
    "CREDENTIAL_QUERY_KEYS",
    "MASK",
    "MAX_SERVICE_MESSAGE_CHARS",
    "RedactingLogFilter",
    "install_log_filter",
    "redact_text",
    "redact_url",
    "scrub_text",
]
