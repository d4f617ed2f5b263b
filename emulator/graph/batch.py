"""Graph JSON batching (microsoft-apis.md §2.6): up to 20 requests, unique ids, dependsOn with 424.

The request body is checked whole first (batch_request.py): a malformed batch is one 400 and nothing runs.

Each inner request goes back through the dispatcher the batch was built with (the emulator), so the
fault plan throttles inner requests one by one (inner 429) while the batch itself answers 200.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from emulator.core.app import Dispatcher, Service
from emulator.core.clock import Clock
from emulator.core.http import Request, Response
from emulator.graph.batch_request import BatchEntry, parse_batch
from emulator.graph.responses import graph_error


class BatchEndpoint:
    """`POST /v1.0/$batch` for one Graph service, whose sub-requests `dispatcher` runs."""

    def __init__(self, graph: Service, dispatcher: Dispatcher, clock: Clock, max_requests: int) -> None:
        self.graph, self.dispatcher, self.clock, self.max_requests = graph, dispatcher, clock, max_requests

    def run(self, request: Request) -> Response:
        entries = parse_batch(request, self.max_requests)  # the whole batch is checked before anything runs
        done: dict[str, int] = {}
        responses: list[dict[str, Any]] = []
        for entry in entries:  # dependencies first
            if any(done[dep] >= 400 for dep in entry.depends_on):
                inner = self._error(
                    request, entry, 424, "failedDependency", "A request this one depends on failed."
                )
            else:
                inner = self._dispatch(request, entry)
            done[entry.id] = inner.status
            responses.append(_render(entry.id, inner))
        return Response.json(200, {"responses": responses})

    def _dispatch(self, outer: Request, entry: BatchEntry) -> Response:
        headers = dict(entry.headers)
        body = json.dumps(entry.body).encode() if entry.has_body else b""
        for name in ("authorization", "client-request-id"):
            if name in outer.headers and name not in headers:
                headers[name] = outer.headers[name]
        raw_path, _, raw_query = ("/" + entry.url.lstrip("/")).partition("?")
        inner = Request(
            method=entry.method,
            path="/v1.0" + unquote(raw_path),
            query=Request.parse_query(raw_query),
            headers=headers,
            body=body,
            base_url=outer.base_url,
            raw_query=raw_query,
        )
        return self.dispatcher.dispatch(self.graph, inner)

    def _error(self, outer: Request, entry: BatchEntry, status: int, code: str, message: str) -> Response:
        client_request_id = entry.headers.get("client-request-id") or outer.header("client-request-id")
        return graph_error(self.clock.now(), status, code, message, client_request_id=client_request_id)


def _render(entry_id: str, response: Response) -> dict[str, Any]:
    rendered: dict[str, Any] = {"id": entry_id, "status": response.status, "headers": dict(response.headers)}
    if response.body:
        try:
            rendered["body"] = json.loads(response.body)
        except ValueError:
            rendered["body"] = response.body.decode("utf-8", "replace")
    return rendered
