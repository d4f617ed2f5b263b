"""How list values are written on the wire, where Graph and SharePoint REST agree.

UTC timestamps, date-only values as the site's local midnight in UTC, hyperlinks and managed-metadata
terms (microsoft-apis.md §2.3, §3.2); each service adds its own envelope around these.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from emulator.lists.store import Hyperlink, SpList, Term


def iso_utc(moment: datetime) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`; isoformat is several times faster than strftime on the paging hot path."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="seconds")[:19] + "Z"


@lru_cache(maxsize=4096)
def date_only_utc(day: date, zone: ZoneInfo) -> str:
    """A date-only value as SharePoint returns it: the site's local midnight, converted to UTC."""
    return iso_utc(datetime.combine(day, time(0, 0), tzinfo=zone))


def term_json(term: Term) -> dict[str, Any]:
    """A managed-metadata value as both Graph and SharePoint REST write it."""
    return {"Label": term.label, "TermGuid": term.term_guid, "WssId": term.wss_id}


def value_json(kind: str, value: object, zone: ZoneInfo) -> Any:
    """A single value of a date, date-only, hyperlink or term column; other values are written as stored."""
    if kind == "dateTime":
        assert isinstance(value, datetime)
        return iso_utc(value)
    if kind == "dateOnly":
        assert isinstance(value, date)
        return date_only_utc(value, zone)
    if kind == "hyperlink":
        assert isinstance(value, Hyperlink)
        return {"Description": value.description, "Url": value.url}
    if kind == "term":
        assert isinstance(value, Term)
        return term_json(value)
    return value


def content_type_id(sp_list: SpList) -> str:
    return _content_type_id(sp_list.id)


@lru_cache(maxsize=256)
def _content_type_id(list_id: str) -> str:
    return "0x0100" + uuid.UUID(list_id).hex.upper()
