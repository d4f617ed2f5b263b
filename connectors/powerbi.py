"""Power BI REST for one workspace: datasets, push tables and rows, refreshes of import datasets.

    client = PowerBIClient(session, settings.endpoints.powerbi, settings.powerbi_workspace_id)
    dataset = client.dataset_by_name("Community Engagement") or client.create_dataset(definition)
    client.post_rows(dataset.id, "events", rows)   # <= 10,000 rows; a 429 is resent, a timeout never

Paths, bodies and limits: microsoft-apis.md §1 and the swagger. Build the session with
`token_hosts=("analysis.windows.net", <the powerbi host>)` so a 307 to another cluster keeps the token.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import requests

from connectors.http import (
    RequestStats,
    ServiceSession,
    iter_pages,
    parse_error_body,
    raise_for_error,
    read_json,
)
from connectors.redaction import redact_url, scrub_text
from connectors.service_errors import transport_error
from errors import AmbiguousWriteError, ConnectorError, RequestRefusedError, ThrottledError
from powerbi_dataset.workspace import DatasetInfo, Group, RefreshAttempt, RefreshRecord, TableInfo

# learn.microsoft.com/power-bi/developer/embedded/push-datasets-limitations (microsoft-apis.md §1.4)
MAX_ROWS_PER_POST = 10_000
MAX_STRING_CHARS = 4_000
# Fields of DatasetRefreshRequest besides notifyOption (swagger; `timeout` from asynchronous-refresh.md).
ENHANCED_REFRESH_FIELDS = frozenset(
    {
        "type",
        "commitMode",
        "maxParallelism",
        "retryCount",
        "objects",
        "applyRefreshPolicy",
        "effectiveDate",
        "timeout",
    }
)
NOTIFY_OPTIONS = frozenset({"NoNotification", "MailOnFailure", "MailOnCompletion"})
# Answers that say the request itself is wrong (413: an oversized POST, sql-bi/Pbi-PushDataset#9).
REFUSED_STATUSES = frozenset({400, 409, 413, 422})
_PLAIN_TYPES = (type(None), bool, int)
__all__ = [
    "MAX_ROWS_PER_POST",
    "MAX_STRING_CHARS",
    "DatasetInfo",
    "Group",
    "PowerBIClient",
    "RefreshAttempt",
    "RefreshRecord",
    "TableInfo",
    "wire_row",
]


class PowerBIClient:
    """One workspace of Power BI REST through a cetk session; every call is one request (reads: one a page)."""

    def __init__(self, session: ServiceSession, powerbi_url: str, workspace_id: str) -> None:
        self._session = session
        self._root = powerbi_url.rstrip("/")
        self._group_url = f"{self._root}/v1.0/myorg/groups/{quote(workspace_id, safe='')}"
        self.workspace_id = workspace_id

    @property
    def stats(self) -> RequestStats:
        """What the client's session did: requests, resends (after 429), time spent waiting."""
        return self._session.stats

    # groups / datasets / tables -------------------------------------------------------------------

    def get_group(self) -> Group:
        """The configured workspace: its capacity says whether the 8-refreshes-a-day limit applies."""
        return Group.from_json(read_json(self._call("GET", self._group_url)))

    def datasets(self) -> list[DatasetInfo]:
        return [DatasetInfo.from_json(item) for item in self._items(f"{self._group_url}/datasets")]

    def dataset_by_name(self, name: str) -> DatasetInfo | None:
        """The dataset with this exact name; a ConnectorError if the workspace holds two (Power BI allows it)."""
        found = [dataset for dataset in self.datasets() if dataset.name == name]
        if len(found) > 1:
            raise ConnectorError(
                f"workspace {self.workspace_id} holds {len(found)} datasets named '{name}'",
                hint="delete or rename the extra ones in Power BI, so cetk knows which one to use",
            )
        return found[0] if found else None

    def create_dataset(
        self, definition: Mapping[str, Any], *, retention: Literal["None", "basicFIFO"] = "None"
    ) -> DatasetInfo:
        """PostDatasetInGroup with a CreateDatasetRequest; the retention policy is fixed at creation."""
        response = self._call(
            "POST",
            f"{self._group_url}/datasets",
            params={"defaultRetentionPolicy": retention},
            json=dict(definition),
        )
        return DatasetInfo.from_json(read_json(response))

    def delete_dataset(self, dataset_id: str) -> None:
        self._call("DELETE", self._dataset_url(dataset_id))

    def tables(self, dataset_id: str) -> list[TableInfo]:
        return [TableInfo.from_json(item) for item in self._items(f"{self._dataset_url(dataset_id)}/tables")]

    def put_table(self, dataset_id: str, table: Mapping[str, Any]) -> None:
        """PutTableInGroup: replaces the columns and measures of an EXISTING table (Power BI adds none)."""
        self._call("PUT", self._table_url(dataset_id, str(table["name"])), json=dict(table))

    # rows -----------------------------------------------------------------------------------------

    def post_rows(self, dataset_id: str, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """PostRowsInGroup. Refused locally (ValueError, nothing sent): more than 10,000 rows, a string over
        4,000 characters, a naive datetime, NaN or a value JSON cannot carry. Datetimes go as ISO-8601 UTC.

        A 429 is resent by the session after Retry-After (not written). A timeout, a dropped connection or a
        5xx raises AmbiguousWriteError and is never resent: the rows MAY have been written.
        """
        if len(rows) > MAX_ROWS_PER_POST:
            raise ValueError(f"{len(rows)} rows for table '{table}': at most {MAX_ROWS_PER_POST} per POST")
        body = {"rows": [wire_row(row, index, table) for index, row in enumerate(rows)]}
        url = f"{self._table_url(dataset_id, table)}/rows"
        try:
            self._call("POST", url, json=body, sent=body["rows"])
        except ThrottledError as error:
            if error.status == 429:
                raise  # still throttled after the session's resends: nothing was written
            raise _ambiguous(error) from error
        except ConnectorError as error:
            if error.status is None or error.status >= 500:
                raise _ambiguous(error) from error
            raise

    def delete_rows(self, dataset_id: str, table: str) -> None:
        """DeleteRowsInGroup: empties the whole table (there is no per-row delete)."""
        self._call("DELETE", f"{self._table_url(dataset_id, table)}/rows")

    # refreshes --------------------------------------------------------------------------------------

    def refresh(
        self, dataset_id: str, *, notify: str | None = None, enhanced: Mapping[str, Any] | None = None
    ) -> str | None:
        """RefreshDatasetInGroup; returns the request id Power BI gives enhanced refreshes (else None).

        A standard refresh sends `notifyOption` (the swagger requires it): NoNotification unless `notify`
        says otherwise (a service principal may only say NoNotification). An enhanced refresh sends its
        fields and no notifyOption (asynchronous-refresh.md; the swagger predates this).
        """
        if notify is not None and notify not in NOTIFY_OPTIONS:
            raise ValueError(f"notify {notify!r} is not one of {', '.join(sorted(NOTIFY_OPTIONS))}")
        if enhanced:
            unknown = set(enhanced) - ENHANCED_REFRESH_FIELDS
            if unknown:
                raise ValueError(f"unknown enhanced refresh fields: {', '.join(sorted(unknown))}")
            if notify is not None:
                raise ValueError("an enhanced refresh takes no notifyOption")
            body: dict[str, Any] = dict(enhanced)
        else:
            body = {"notifyOption": notify or "NoNotification"}
        response = self._call("POST", f"{self._dataset_url(dataset_id)}/refreshes", json=body)
        return response.headers.get("x-ms-request-id") or None

    def refresh_history(self, dataset_id: str, *, top: int | None = None) -> list[RefreshRecord]:
        """The newest refreshes first (Power BI keeps the last 60 unless `top` says fewer)."""
        if top is not None and top < 1:
            raise ValueError("top must be at least 1")
        params = {"$top": str(top)} if top is not None else None
        url = f"{self._dataset_url(dataset_id)}/refreshes"
        return [RefreshRecord.from_json(item) for item in self._items(url, params)]

    # the wire -----------------------------------------------------------------------------------------

    def _dataset_url(self, dataset_id: str) -> str:
        return f"{self._group_url}/datasets/{quote(dataset_id, safe='')}"

    def _table_url(self, dataset_id: str, table: str) -> str:
        return f"{self._dataset_url(dataset_id)}/tables/{quote(table, safe='')}"

    def _items(self, url: str, params: Mapping[str, str] | None = None) -> Iterator[Any]:
        for page in iter_pages(self._session, url, params):
            yield from page.items

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        sent: Sequence[Mapping[str, Any]] = (),
    ) -> requests.Response:
        """One request through the session's retries; a refusal as RequestRefusedError with the service's
        message (values the request carried masked), anything else typed by raise_for_error."""
        try:
            response = self._session.request(method, url, params=params, json=json)
        except requests.RequestException as exc:
            raise transport_error(method, url, exc) from exc
        if response.status_code in REFUSED_STATUSES:
            raise _refused(method, url, response, sent)
        return raise_for_error(response, now=self._session.clock())


def wire_row(row: Mapping[str, Any], index: int, table: str) -> dict[str, Any]:
    """A row as Power BI takes it: JSON values, datetimes as ISO-8601 UTC, nothing truncated or guessed."""
    wired: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, _PLAIN_TYPES):
            wired[key] = value
        elif isinstance(value, str):
            if len(value) > MAX_STRING_CHARS:
                raise ValueError(
                    f"table '{table}', row {index}, column '{key}': {len(value)} characters, over Power BI's "
                    f"{MAX_STRING_CHARS} (never truncated: quarantine the row before publishing)"
                )
            wired[key] = value
        else:
            wired[key] = _wire_value(value, f"table '{table}', row {index}, column '{key}'")
    return wired


def _wire_value(value: Any, where: str) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: NaN or infinity (Power BI refuses them; send None for no value)")
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{where}: a datetime without a time zone (cetk stores UTC; attach it)")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise ValueError(f"{where}: a {type(value).__name__} cannot be sent to Power BI")


def _refused(
    method: str, url: str, response: requests.Response, sent: Sequence[Mapping[str, Any]]
) -> RequestRefusedError:
    found = parse_error_body(response)
    texts = [found.message] if found.message else []
    try:
        error = response.json().get("error", {})
        texts += [d["message"] for d in error.get("details", []) if isinstance(d.get("message"), str)]
    except (ValueError, AttributeError, TypeError):
        pass  # no JSON body: the status and code say what there is
    detail = _masked("; ".join(text for text in texts if text), sent)
    reason = f"HTTP {response.status_code}" + (f" {found.code}" if found.code else "")
    message = f"{method} {redact_url(url)} refused: {reason}" + (f": {detail}" if detail else "")
    if found.request_id:
        message += f" (request id {scrub_text(found.request_id)})"
    return RequestRefusedError(
        message,
        status=response.status_code,
        service_code=found.code,
        request_id=found.request_id,
        hint="nothing was applied; fix what the message names (the model, or the rows) and run again",
    )


def _masked(text: str, sent: Sequence[Mapping[str, Any]]) -> str:
    """The service's text with every string value the request carried replaced by ***: a validation message
    may quote a row, and rows can hold personal data. Column and table names stay readable."""
    if not text or not sent:
        return scrub_text(text)
    values = {value for row in sent for value in row.values() if isinstance(value, str) and len(value) > 2}
    names = {str(key) for row in sent for key in row}
    for value in sorted(values - names, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return scrub_text(text)


def _ambiguous(error: ConnectorError) -> AmbiguousWriteError:
    outcome = f"HTTP {error.status}" if error.status is not None else "no answer"
    return AmbiguousWriteError(
        f"{error.message} ({outcome}: the rows may have been written; not resent)",
        status=error.status,
        service_code=error.service_code,
        request_id=error.request_id,
    )
