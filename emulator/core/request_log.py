"""The emulator's request log: a ring buffer of the newest records, none holding a credential.

What is kept of a request: service, method, path, the query string with credential values masked, the
headers with credential headers masked (and any token-looking value in the others), the status, and
the body's size. Bodies are never kept: a sign-in form carries `client_secret` or `client_assertion`.
The masking is the product's own (connectors/redaction.py), so the emulator and cetk agree on what a
credential is.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from connectors.redaction import CREDENTIAL_QUERY_KEYS, MASK, redact_text, redact_url

DEFAULT_LOG_LIMIT = 10_000
# Headers that carry a credential by definition; any other header whose name has a word from the
# product's credential names (key, token, secret, password, signature, ...) is masked as well.
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-requestdigest"}
)
_NAME_WORDS = re.compile(r"[-_.\s]+")


@dataclass(frozen=True)
class RequestRecord:
    """One line of the request log; never holds bodies or credentials."""

    at: datetime
    service: str
    method: str
    path: str
    query: str  # as sent, with the values of credential parameters masked
    status: int
    headers: Mapping[str, str]  # lower-cased names; credential values masked
    body_bytes: int


def redact_query(raw_query: str) -> str:
    """The query string with credential values (`client_secret=`, `sig=`, `code=`, ...) masked."""
    if not raw_query:
        return ""
    return redact_url("/?" + raw_query).partition("?")[2]


def is_credential_header(name: str) -> bool:
    lowered = name.lower()
    if lowered in CREDENTIAL_HEADERS or "auth" in lowered:
        return True
    return any(word in CREDENTIAL_QUERY_KEYS for word in _NAME_WORDS.split(lowered))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {
        name: MASK if is_credential_header(name) else redact_text(value) for name, value in headers.items()
    }


class RequestLog:
    """The newest `limit` records, thread-safe; `dropped` counts the older ones let go."""

    def __init__(self, limit: int = DEFAULT_LOG_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the request log needs room for at least one record")
        self._records: deque[RequestRecord] = deque(maxlen=limit)
        self._dropped = 0
        self._lock = threading.Lock()

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            if len(self._records) == self._records.maxlen:
                self._dropped += 1
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    @property
    def dropped(self) -> int:
        with self._lock:
            return self._dropped

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
            self._dropped = 0
