"""Graph JSON batching (microsoft-apis.md §2.6): up to 20 requests, unique ids, dependsOn with 424.

Each inner request goes back through the dispatcher the batch was built with (the emulator), so the
fault plan throttles inner requests one by one (inner 429) while the batch itself answers 200.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from emulator.core.app import Dispatcher, Service
from emulator.core.clock import Clock
from emulator.core.http import Request, Response, ServiceError
from emulator.graph.responses import graph_error


class BatchEndpoint:
    """`POST /v1.0/$batch` for one Graph service, whose sub-requests `dispatcher` runs."""

    def __init__(self, graph: Service, dispatcher: Dispatcher, clock: Clock, max_requests: int) -> None:
        self.graph, self.dispatcher, self.clock, self.max_requests = graph, dispatcher, clock, max_requests

    def run(self, request: Request) -> Response:
        entries = self._validated(request)
        done: dict[str, int] = {}
        responses: list[dict[str, Any]] = []
        pending = list(entries)
        while pending:
            ready = [entry for entry in pending if all(dep in done for dep in entry.get("dependsOn", []))]
            if not ready:  # a cycle: nothing can run
                raise ServiceError(400, "invalidRequest", "The batch has circular dependsOn references.")
            for entry in ready:
                pending.remove(entry)
                failed = [dep for dep in entry.get("dependsOn", []) if done[dep] >= 400]
                if failed:
                    inner = self._error(
                        request, entry, 424, "failedDependency", "A request this one depends on failed."
                    )
                else:
                    inner = self._dispatch(request, entry)
                done[entry["id"]] = inner.status
                responses.append(_render(entry["id"], inner))
        return Response.json(200, {"responses": responses})

    def _validated(self, request: Request) -> list[dict[str, Any]]:
        try:
            body = request.json()
        except ValueError as error:
            raise ServiceError(400, "BadRequest", "Invalid batch payload format.") from error
        entries = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ServiceError(400, "BadRequest", "Invalid batch payload format.")
        if len(entries) > self.max_requests:
            raise ServiceError(
                400, "BadRequest", f"Number of batch requests exceeds the limit of {self.max_requests}."
            )
        ids = [str(entry.get("id", "")) if isinstance(entry, dict) else "" for entry in entries]
        if "" in ids or any(not isinstance(entry.get("method"), str) or not isinstance(entry.get("url"), str)
                            for entry in entries):  # fmt: skip
            raise ServiceError(400, "BadRequest", "Each batch request needs an id, a method and a url.")
        if len(set(ids)) != len(ids):
            raise ServiceError(400, "BadRequest", "Batch request ids must be unique.")
        for entry, entry_id in zip(entries, ids, strict=True):
            entry["id"] = entry_id
            depends = entry.get("dependsOn", [])
            if not isinstance(depends, list) or any(
                str(dep) not in ids or str(dep) == entry_id for dep in depends
            ):
                raise ServiceError(400, "BadRequest", f"Request {entry_id} has an invalid dependsOn.")
            entry["dependsOn"] = [str(dep) for dep in depends]
        return entries

    def _dispatch(self, outer: Request, entry: dict[str, Any]) -> Response:
        headers = {str(k).lower(): str(v) for k, v in (entry.get("headers") or {}).items()}
        body = b""
        if "body" in entry and entry["body"] is not None:
            if "content-type" not in headers:
                return self._error(
                    outer, entry, 400, "BadRequest", "A request with a body needs a Content-Type header."
                )
            body = json.dumps(entry["body"]).encode()
        for name in ("authorization", "client-request-id"):
            if name in outer.headers and name not in headers:
                headers[name] = outer.headers[name]
        url: str = entry["url"]
        raw_path, _, raw_query = ("/" + url.lstrip("/")).partition("?")
        inner = Request(
            method=entry["method"].upper(),
            path="/v1.0" + unquote(raw_path),
            query=Request.parse_query(raw_query),
            headers=headers,
            body=body,
            base_url=outer.base_url,
            raw_query=raw_query,
        )
        return self.dispatcher.dispatch(self.graph, inner)

    def _error(self, outer: Request, entry: dict[str, Any], status: int, code: str, message: str) -> Response:
        return graph_error(
            self.clock.now(), status, code, message, client_request_id=_client_request_id(outer, entry)
        )


def _client_request_id(outer: Request, entry: dict[str, Any]) -> str | None:
    """The sub-request's own client-request-id, else the batch's."""
    for name, value in (entry.get("headers") or {}).items():
        if str(name).lower() == "client-request-id":
            return str(value)
    return outer.header("client-request-id")


def _render(entry_id: str, response: Response) -> dict[str, Any]:
    rendered: dict[str, Any] = {"id": entry_id, "status": response.status, "headers": dict(response.headers)}
    if response.body:
        try:
            rendered["body"] = json.loads(response.body)
        except ValueError:
            rendered["body"] = response.body.decode("utf-8", "replace")
    return rendered
