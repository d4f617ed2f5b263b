"""Logging to stderr with a filter that redacts tokens, credentials and every registered Secret value."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping

from config.secrets import MASK, registered_secret_values
from config.settings import FIELDS_BY_KEY, LOG_LEVELS
from errors import ConfigError

SENSITIVE_NAMES = (
    "client_secret",
    "client_assertion",
    "access_token",
    "refresh_token",
    "password",
    "passphrase",
)
_AUTHORIZATION = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+|basic\s+)?[^\s\"',}]+")
# An absent value (None) or one already masked stays as it is, so a log never suggests a secret is set.
_NAMED = re.compile(
    r"(?i)([\"']?(?:"
    + "|".join(SENSITIVE_NAMES)
    + r")[\"']?\s*[:=]\s*[\"']?)(?!None\b)(?!\*\*\*)[^\s\"'&,}]+"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact(text: str) -> str:
    """Mask Authorization headers, token and secret parameters, and every known Secret value."""
    for value in sorted(registered_secret_values(), key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _AUTHORIZATION.sub(lambda match: f"{match.group(1)}{match.group(2) or ''}{MASK}", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}{MASK}", text)
    return _NAMED.sub(lambda match: f"{match.group(1)}{MASK}", text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) and exception text through redact()."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: logging reports it later, with the raw text
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_installed_factory: list[object] = []


def install_redaction() -> None:
    """Redact every record when it is made, so every handler (files, pytest's caplog) sees the masked text."""
    if _installed_factory:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        RedactingFilter().filter(record)
        return record

    logging.setLogRecordFactory(factory)
    _installed_factory.append(factory)


def resolve_log_level(flag: str | None, environ: Mapping[str, str]) -> str:
    """--log-level, else CETK_LOG_LEVEL, else the default (the config file's value applies once loaded)."""
    level = (
        flag or environ.get(FIELDS_BY_KEY["log_level"].env_var) or str(FIELDS_BY_KEY["log_level"].default)
    ).upper()
    if level not in LOG_LEVELS:
        raise ConfigError(
            f"setting 'log_level': '{level}' is not one of {', '.join(LOG_LEVELS)}",
            hint="pass --log-level DEBUG|INFO|WARNING|ERROR|CRITICAL or set CETK_LOG_LEVEL",
        )
    return level


def configure_logging(level: str) -> None:
    """One stderr handler on the root logger, with redaction applied to every record."""
    install_redaction()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_cetk", False)]:
        root.removeHandler(existing)
    handler._cetk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
