"""Why a dataset refresh failed, for people: `serviceExceptionJson` decoded into a code, a message and a fix.

Power BI puts a JSON document inside a string (`"{\\"errorCode\\":\\"ModelRefreshFailed_CredentialsNotSpecified\\"}"`,
swagger example), in the history entry and in each refresh attempt; the shapes seen are `{"errorCode",
"errorDescription"}` and an error body `{"error": {"code", "pbi.error": {"code", "details": [...]}}}`
(pbi-tools/pbi-tools#248, migueesc123/PowerBIRESTAPI#178). Text Power BI marks as customer content
(`<ccon>`, `<pi>`, `<pii>`) is masked: it can quote source data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

CUSTOMER_CONTENT = re.compile(r"<(ccon|pii|pi)>.*?</\1>", re.DOTALL)
MESSAGE_DETAIL_CODES = ("DM_ErrorDetailNameCode_UnderlyingErrorMessage",)
# The likely fix, by a fragment of the error code (first match wins); codes from Microsoft's examples and
# issue threads, fixes from troubleshooting-refresh-scenarios.md.
FIXES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("credential", "oauth"),
        "the data source credentials are missing, wrong or expired: in Power BI open the semantic model's "
        "Settings > Data source credentials and sign in again (OAuth sign-ins expire after about 90 days)",
    ),
    (
        ("unbounddatasources", "moniker"),
        "a data source is not bound to a connection: bind it in the semantic model's Settings > Gateway and "
        "cloud connections",
    ),
    (
        ("gateway", "gwpipeline"),
        "the on-premises data gateway is offline, out of date or cannot reach the source: check it in "
        "Manage connections and gateways, and that the semantic model is bound to it",
    ),
    (
        ("timeout", "timedout"),
        "the refresh ran longer than the capacity allows (2 hours on shared capacity, 5 on Premium): refresh "
        "less data (incremental refresh, fewer columns) or move the workspace to Premium",
    ),
    (
        ("memory", "resource", "capacity", "throttl"),
        "the capacity ran out of memory or throttled the refresh: refresh at a quieter time, make the model "
        "smaller, or scale the capacity",
    ),
    (
        ("column", "schema", "rowset"),
        "the source changed shape (a column renamed or removed): update the model's queries in Power BI "
        "Desktop and publish it again",
    ),
)
DISABLED_FIX = "Power BI did not run this refresh (status Disabled, e.g. a selective refresh): check the model's refresh settings"
CANCELLED_FIX = "someone or something cancelled the refresh: start it again when ready"
UNKNOWN_FIX = "open the semantic model's Refresh history in Power BI for the full details"


@dataclass(frozen=True)
class RefreshFailure:
    """A failed refresh explained: Power BI's error code, its message (customer content masked), the fix."""

    status: str
    code: str | None
    message: str | None
    fix: str

    def describe(self) -> str:
        what = self.code or f"refresh {self.status.lower()}"
        text = f"{what}: {self.message}" if self.message else what
        return f"{text}. Likely fix: {self.fix}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decode_failure(status: str, exception_texts: Iterable[str | None]) -> RefreshFailure:
    """The first decodable serviceExceptionJson among `exception_texts` (the entry's, then its attempts')."""
    code: str | None = None
    message: str | None = None
    for text in exception_texts:
        found_code, found_message = _decode(text)
        code, message = code or found_code, message or found_message
        if code:
            break
    if status == "Disabled" and code is None:
        return RefreshFailure(status, None, message, DISABLED_FIX)
    if status == "Cancelled" and code is None:
        return RefreshFailure(status, None, message, CANCELLED_FIX)
    return RefreshFailure(status, code, message, likely_fix(code, message))


def likely_fix(code: str | None, message: str | None) -> str:
    haystack = f"{code or ''} {message or ''}".lower()
    for fragments, fix in FIXES:
        if any(fragment in haystack for fragment in fragments):
            return fix
    return UNKNOWN_FIX


def _decode(text: str | None) -> tuple[str | None, str | None]:
    """(code, message) from one serviceExceptionJson; text that is not JSON is kept as a (masked) message."""
    if not text:
        return None, None
    try:
        document: Any = json.loads(text)
    except ValueError:
        return None, _masked(text)
    if not isinstance(document, Mapping):
        return None, None
    error = document.get("error") if isinstance(document.get("error"), Mapping) else {}
    assert isinstance(error, Mapping)
    pbi = error.get("pbi.error") if isinstance(error.get("pbi.error"), Mapping) else {}
    assert isinstance(pbi, Mapping)
    code = _first_text(document.get("errorCode"), error.get("code"), pbi.get("code"), document.get("code"))
    message = _first_text(
        document.get("errorDescription"),
        document.get("message"),
        error.get("message"),
        _detail_message(pbi.get("details")),
    )
    return code, _masked(message) if message else None


def _detail_message(details: Any) -> str | None:
    for detail in details if isinstance(details, list) else ():
        if isinstance(detail, Mapping) and detail.get("code") in MESSAGE_DETAIL_CODES:
            value = detail.get("detail")
            if isinstance(value, Mapping) and isinstance(value.get("value"), str):
                return str(value["value"])
    return None


def _first_text(*values: Any) -> str | None:
    return next((value for value in values if isinstance(value, str) and value), None)


def _masked(text: str) -> str:
    return " ".join(CUSTOMER_CONTENT.sub("***", text).split())
