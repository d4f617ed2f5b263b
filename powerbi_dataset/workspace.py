"""What a Power BI workspace holds, as values: the workspace, its datasets and tables, refresh history.

connectors/powerbi.py reads them from the service's answers; publish and refresh decide on them (so they live
here, below both, and powerbi_dataset never imports connectors). Keys are read case-insensitively (the swagger spells some PascalCase, `IsRefreshable`, where the service sends
camelCase) and `@odata.*`/`odata.*` annotations are ignored (microsoft-apis.md §1.6).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from errors import ConnectorError

ANNOTATION_PREFIXES = ("@odata.", "odata.")


def fields(payload: Any, what: str) -> dict[str, Any]:
    """An object's properties by lower-cased name, without OData annotations."""
    if not isinstance(payload, Mapping):
        raise ConnectorError(
            f"Power BI answered {what} with a {type(payload).__name__}, not an object",
            hint="check endpoints.powerbi: it should be the Power BI REST base URL",
        )
    return {
        str(key).lower(): value
        for key, value in payload.items()
        if not str(key).lower().startswith(ANNOTATION_PREFIXES)
    }


def parse_time(value: Any) -> dt.datetime | None:
    """An ISO-8601 time from the service as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class Group:
    """A workspace (Groups_GetGroup). `is_on_dedicated_capacity` False means shared capacity (Pro)."""

    id: str
    name: str
    is_read_only: bool
    is_on_dedicated_capacity: bool
    capacity_id: str | None

    @classmethod
    def from_json(cls, payload: Any) -> Group:
        found = fields(payload, "a workspace")
        return cls(
            id=str(found.get("id", "")),
            name=str(found.get("name", "")),
            is_read_only=found.get("isreadonly") is True,
            is_on_dedicated_capacity=found.get("isondedicatedcapacity") is True,
            capacity_id=_text(found.get("capacityid")),
        )


@dataclass(frozen=True)
class DatasetInfo:
    """A dataset as listed: push datasets have `add_rows_api_enabled`; import ones are refreshable."""

    id: str
    name: str
    add_rows_api_enabled: bool
    configured_by: str | None
    is_refreshable: bool
    default_retention_policy: str | None
    created_date: dt.datetime | None
    web_url: str | None

    @classmethod
    def from_json(cls, payload: Any) -> DatasetInfo:
        found = fields(payload, "a dataset")
        return cls(
            id=str(found.get("id", "")),
            name=str(found.get("name", "")),
            add_rows_api_enabled=_flag(found.get("addrowsapienabled")) is True,
            configured_by=_text(found.get("configuredby")),
            is_refreshable=_flag(found.get("isrefreshable")) is True,
            default_retention_policy=_text(found.get("defaultretentionpolicy")),
            created_date=parse_time(found.get("createddate")),
            web_url=_text(found.get("weburl")),
        )


@dataclass(frozen=True)
class TableInfo:
    """A push dataset's table. The service lists names only; columns and measures are empty then."""

    name: str
    columns: tuple[Mapping[str, Any], ...]
    measures: tuple[Mapping[str, Any], ...]

    @classmethod
    def from_json(cls, payload: Any) -> TableInfo:
        found = fields(payload, "a table")
        columns = found.get("columns") if isinstance(found.get("columns"), list) else []
        measures = found.get("measures") if isinstance(found.get("measures"), list) else []
        return cls(
            name=str(found.get("name", "")),
            columns=tuple(fields(item, "a column") for item in columns or ()),
            measures=tuple(fields(item, "a measure") for item in measures or ()),
        )


@dataclass(frozen=True)
class RefreshAttempt:
    attempt_id: int | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    type: str | None  # Data or Query
    service_exception_json: str | None

    @classmethod
    def from_json(cls, payload: Any) -> RefreshAttempt:
        found = fields(payload, "a refresh attempt")
        attempt = found.get("attemptid")
        return cls(
            attempt_id=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
            start_time=parse_time(found.get("starttime")),
            end_time=parse_time(found.get("endtime")),
            type=_text(found.get("type")),
            service_exception_json=_text(found.get("serviceexceptionjson")),
        )


@dataclass(frozen=True)
class RefreshRecord:
    """One entry of a dataset's refresh history (Datasets_GetRefreshHistoryInGroup), newest first.

    `status`: Unknown (running, or unknown: no end time), Completed, Failed, Disabled; enhanced refreshes also
    report Cancelled. `service_exception_json` is a JSON document inside a string.
    """

    request_id: str | None
    refresh_type: str | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    status: str
    service_exception_json: str | None
    attempts: tuple[RefreshAttempt, ...]

    @property
    def is_running(self) -> bool:
        return self.status == "Unknown" and self.end_time is None

    @classmethod
    def from_json(cls, payload: Any) -> RefreshRecord:
        found = fields(payload, "a refresh")
        attempts = found.get("refreshattempts")
        return cls(
            request_id=_text(found.get("requestid")),
            refresh_type=_text(found.get("refreshtype")),
            start_time=parse_time(found.get("starttime")),
            end_time=parse_time(found.get("endtime")),
            status=_text(found.get("status")) or "Unknown",
            service_exception_json=_text(found.get("serviceexceptionjson")),
            attempts=tuple(RefreshAttempt.from_json(item) for item in attempts or ())
            if isinstance(attempts, list)
            else (),
        )
