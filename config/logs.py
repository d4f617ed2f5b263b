"""Logging to stderr, with every record redacted: Authorization headers, bearer tokens, secret parameters
(named as config/secrets.py's table names them), credentials in URLs (user:password@ and the query
parameters config/urls.py names), JWTs, private key blocks, and the values of the secrets the run loaded.
The same redaction serves what `cetk config show` prints (Redactor.redact_data).

Nothing here is process-wide state of ours: the caller builds a Redactor (from the loaded Settings) and
installs it for the run; installing returns the function that removes it again.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any

from config.secrets import MASK, SECRET_KEY_NAMES, SECRET_KEY_SUFFIXES, Secret
from config.settings import Settings
from config.urls import CREDENTIAL_QUERY_KEYS

_AUTHORIZATION = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+|basic\s+)?[^\s\"',}]+")
# A parameter (key=value, "key": "value", key: value) named as config/secrets.py's table names a secret
# has its value masked. An absent value (None) or one already masked stays, so a log never suggests a
# secret is set.
_SECRET_NAME = "|".join(
    [*map(re.escape, SECRET_KEY_NAMES), rf"[A-Za-z0-9_]*(?:{'|'.join(map(re.escape, SECRET_KEY_SUFFIXES))})"]
)
_PARAMETER = re.compile(
    rf"(?i)(?<![A-Za-z0-9_])([\"']?(?:{_SECRET_NAME})[\"']?\s*[:=]\s*[\"']?)"
    rf"(?!None\b)(?!\*\*\*)(?!Secret\('\*\*\*'\))[^\s\"'&,}}]+"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
# In a URL: the user:password@ (or token@) part, and the value of a credential query/fragment parameter.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@\"']+@")
_URL_PARAMETER = re.compile(
    rf"(?i)([?&#;](?:{'|'.join(map(re.escape, sorted(CREDENTIAL_QUERY_KEYS)))})=)(?!\*\*\*)[^\s&#\"']+"
)
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?")
_PRIVATE_KEY = re.compile(
    r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----).*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL
)
_HANDLER_MARK = "_cetk"
_FACTORY_MARK = "_cetk_previous"

Uninstall = Callable[[], None]


def redact(text: str, secret_values: Iterable[str] = ()) -> str:
    """Mask Authorization headers, bearer tokens, secret parameters, URL credentials, JWTs, private key
    blocks, and each of `secret_values`."""
    for value in sorted(secret_values, key=len, reverse=True):
        text = text.replace(value, MASK)
    text = _PRIVATE_KEY.sub(lambda match: f"{match.group(1)}{MASK}{match.group(2)}", text)
    text = _AUTHORIZATION.sub(lambda match: f"{match.group(1)}{match.group(2) or ''}{MASK}", text)
    text = _BEARER.sub(lambda match: f"{match.group(1)}{MASK}", text)
    text = _URL_USERINFO.sub(lambda match: f"{match.group(1)}{MASK}@", text)
    text = _URL_PARAMETER.sub(lambda match: f"{match.group(1)}{MASK}", text)
    text = _JWT.sub(MASK, text)
    return _PARAMETER.sub(lambda match: f"{match.group(1)}{MASK}", text)


class Redactor:
    """The redaction of one run: the patterns, plus the secret values it was given."""

    def __init__(self, secrets: Iterable[Secret | None] = ()) -> None:
        self._values = frozenset(secret.reveal() for secret in secrets if secret is not None)

    @classmethod
    def for_settings(cls, settings: Settings) -> Redactor:
        """Redacts every secret the loaded settings hold."""
        return cls(getattr(settings.secrets, item.name) for item in fields(settings.secrets))

    def redact(self, text: str) -> str:
        return redact(text, self._values)

    def redact_data(self, value: Any) -> Any:
        """The same value with every string in it (dict keys, values, list items) redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_data(key): self.redact_data(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(item) for item in value]
        return value

    def redact_record(self, record: logging.LogRecord) -> None:
        """The record's message (arguments merged in) and exception text, redacted in place."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: logging reports it later, with the raw text
            message = str(record.msg)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None


class RedactingFilter(logging.Filter):
    """A handler filter that rewrites each record through the redactor."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        self.redactor.redact_record(record)
        return True


def install_redaction(redactor: Redactor) -> Uninstall:
    """Redact every record when it is made, so every handler (files, pytest's caplog) sees masked text.

    Installing again replaces the previous cetk redaction rather than stacking on it.
    """
    current = logging.getLogRecordFactory()
    previous = getattr(current, _FACTORY_MARK, current)

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        redactor.redact_record(record)
        return record

    setattr(factory, _FACTORY_MARK, previous)
    logging.setLogRecordFactory(factory)

    def uninstall() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)

    return uninstall


def configure_logging(level: str, redactor: Redactor) -> Uninstall:
    """One stderr handler on the root logger at `level`, and redaction of every record; returns the undo."""
    remove_redaction = install_redaction(redactor)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(existing)
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(level)

    def undo() -> None:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        remove_redaction()

    return undo
