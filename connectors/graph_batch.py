"""Create list items through Graph JSON batching (microsoft-apis.md §2.6), resending what Graph did not do.

    batch = GraphBatch(session, settings.endpoints.graph, sleep=time.sleep)
    results = batch.create_items(site_id, list_id, [fields, ...], on_batch=progress)

Each `$batch` POST carries at most MAX_BATCH_REQUESTS creates, chained with `dependsOn` so Graph runs them
in order (Microsoft's advice for writes to one list: fewer throttled sub-requests). The outer answer is 200
whatever happened inside; each inner answer is read on its own:
- 2xx: created (the item id is returned);
- 429 (and 503 with Retry-After): not done; resent in the next round after the longest Retry-After;
- 424 Failed Dependency: not done because an earlier request failed; resent in the next round;
- any other status: refused for good (a bad value), reported with Graph's error code, never resent.
Permissions: application `Sites.Selected` with a write grant on the site (docs/connectors.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from connectors.http import RetryPolicy, parse_retry_after, read_json, send
from errors import ConnectorError, ThrottledError

__all__ = ["MAX_BATCH_REQUESTS", "BatchResult", "GraphBatch"]

MAX_BATCH_REQUESTS = 20  # Graph's JSON batching limit (learn.microsoft.com/graph/json-batching)
RESEND_STATUSES = frozenset({429, 503, 424})
DEFAULT_WAIT_SECONDS = 1.0  # an inner 424 or a 429 without Retry-After: wait this long before resending


@dataclass(frozen=True)
class BatchResult:
    """What became of one create: the new item's id, or Graph's status and error code (never a value)."""

    index: int  # position in the caller's sequence
    item_id: str | None
    status: int
    error_code: str | None = None

    @property
    def created(self) -> bool:
        return self.item_id is not None


class GraphBatch:
    """Writes through one Graph session; builds no network state until called."""

    def __init__(
        self,
        session: requests.Session,
        graph_url: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        batch_size: int = MAX_BATCH_REQUESTS,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_REQUESTS:
            raise ValueError(f"a Graph batch holds 1 to {MAX_BATCH_REQUESTS} requests")
        self.session, self.base = session, graph_url.rstrip("/") + "/v1.0"
        self.policy, self.sleep, self.clock, self.batch_size = (
            policy or RetryPolicy(),
            sleep,
            clock,
            batch_size,
        )

    def create_items(
        self,
        site_id: str,
        list_id: str,
        items: Sequence[Mapping[str, Any]],
        *,
        on_batch: Callable[[Sequence[BatchResult]], None] | None = None,
    ) -> list[BatchResult]:
        """Create each item (its `fields`), batch by batch; `on_batch` hears each batch's settled results."""
        url = f"/sites/{site_id}/lists/{quote(list_id, safe='')}/items"
        results: list[BatchResult] = []
        for start in range(0, len(items), self.batch_size):
            chunk = list(range(start, min(start + self.batch_size, len(items))))
            settled = self._settle(url, chunk, items)
            results.extend(settled)
            if on_batch is not None:
                on_batch(settled)
        return results

    def _settle(self, url: str, chunk: list[int], items: Sequence[Mapping[str, Any]]) -> list[BatchResult]:
        """One batch, resent until every request is created or refused for good."""
        settled: dict[int, BatchResult] = {}
        pending = chunk
        for attempt in range(1, self.policy.max_attempts + 1):
            answers = self._post(url, pending, items)
            resend: list[int] = []
            wait = 0.0
            for index in pending:
                answer = answers.get(index)
                if answer is None:
                    raise ConnectorError(
                        "Graph $batch answered without a response for one of its requests",
                        hint="retry the migration; items already created are skipped",
                    )
                status = int(answer.get("status", 0))
                if status in RESEND_STATUSES:
                    resend.append(index)
                    wait = max(wait, self._wait_seconds(answer))
                elif 200 <= status < 300:
                    body = answer.get("body") if isinstance(answer.get("body"), dict) else {}
                    settled[index] = BatchResult(index, str(body.get("id")), status)
                else:
                    settled[index] = BatchResult(index, None, status, _error_code(answer))
            if not resend:
                return [settled[index] for index in chunk]
            if attempt == self.policy.max_attempts:
                break
            self.sleep(min(wait, self.policy.retry_after_max_seconds))
            pending = resend
        raise ThrottledError(
            f"Graph kept throttling {len(resend)} item create(s) after {self.policy.max_attempts} attempts",
            hint="run the migration again later: the items already created are skipped",
        )

    def _post(self, url: str, pending: list[int], items: Sequence[Mapping[str, Any]]) -> dict[int, Any]:
        requests_: list[dict[str, Any]] = []
        for position, index in enumerate(pending):
            request: dict[str, Any] = {
                "id": str(index + 1),  # Graph's ids are strings; unique within the batch
                "method": "POST",
                "url": url,
                "headers": {"Content-Type": "application/json"},
                "body": {"fields": dict(items[index])},
            }
            if position:
                request["dependsOn"] = [str(pending[position - 1] + 1)]
            requests_.append(request)
        response = send(self.session, "POST", f"{self.base}/$batch", json={"requests": requests_})
        body = read_json(response)
        answers = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(answers, list):
            raise ConnectorError("Graph $batch answered without 'responses'", hint="check graph_url")
        found: dict[int, Any] = {}
        for answer in answers:
            if isinstance(answer, dict) and str(answer.get("id", "")).isdigit():
                found[int(answer["id"]) - 1] = answer
        return found

    def _wait_seconds(self, answer: Mapping[str, Any]) -> float:
        headers = answer.get("headers")
        pairs = headers.items() if isinstance(headers, dict) else ()
        retry_after = next((str(v) for k, v in pairs if str(k).lower() == "retry-after"), None)
        seconds = parse_retry_after(retry_after, self.clock())
        return DEFAULT_WAIT_SECONDS if seconds is None else seconds


def _error_code(answer: Mapping[str, Any]) -> str:
    body = answer.get("body")
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return str(code) if code else f"http-{answer.get('status')}"
