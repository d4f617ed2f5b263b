"""The emulator as one object: services mounted under path prefixes, a request log, faults and a clock.

`Emulator.handle()` is transport-neutral, so tests can call it directly; emulator/core/server.py puts it
behind a real HTTP(S) socket. Each service keeps Microsoft's own paths below its mount point, e.g.
Power BI's `/v1.0/myorg/groups/{groupId}/datasets` is served at `{base}/powerbi/v1.0/myorg/...`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import unquote

from emulator.core.bodies import body_rules, check_body
from emulator.core.clock import Clock, SystemClock
from emulator.core.http import Request, Response, Router
from emulator.core.request_log import (
    DEFAULT_LOG_LIMIT,
    RequestLog,
    RequestRecord,
    redact_headers,
    redact_query,
)

__all__ = ["Dispatcher", "Emulator", "FaultInjector", "NoFaults", "PlainErrors", "RequestRecord", "Service"]


class Service(Protocol):
    """A stand-in for one Microsoft service, mounted at `mount` (e.g. "/graph")."""

    name: str
    mount: str

    def register(self, router: Router) -> None: ...

    def not_found(self, request: Request) -> Response: ...

    def method_not_allowed(self, request: Request) -> Response: ...

    def error_response(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Response:
        """The service's own error body, for faults injected in front of it."""
        ...

    def resource_units(self, request: Request) -> int | None:
        """What the request costs against a resource-unit budget; None leaves it to the fault plan."""
        ...


class FaultInjector(Protocol):
    """Decides, per request, whether to answer with a fault instead of (or after) the real handler."""

    def before(self, service: Service, request: Request, now: datetime) -> Response | None: ...

    def after(self, service: Service, request: Request, response: Response) -> Response: ...


class Dispatcher(Protocol):
    """Runs a request through a mounted service as if it had arrived on its own (Graph $batch)."""

    def dispatch(self, service: Service, request: Request) -> Response: ...


class NoFaults:
    def before(self, service: Service, request: Request, now: datetime) -> Response | None:
        return None

    def after(self, service: Service, request: Request, response: Response) -> Response:
        return response


class PlainErrors:
    """Defaults for a service with no error shape or costs of its own: `{"error": {"code", "message"}}`."""

    def error_response(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Response:
        return Response.json(status, {"error": {"code": code, "message": message}}, headers)

    def resource_units(self, request: Request) -> int | None:
        return None


@dataclass
class Emulator:
    clock: Clock = field(default_factory=SystemClock)
    faults: FaultInjector = field(default_factory=NoFaults)  # a FaultPlan, or set by FaultPlan.install
    log_limit: int = DEFAULT_LOG_LIMIT  # the request log keeps the newest this many records
    _mounts: list[tuple[Service, Router]] = field(default_factory=list)
    _log: RequestLog = field(init=False)

    def __post_init__(self) -> None:
        self._log = RequestLog(self.log_limit)

    def mount(self, service: Service) -> None:
        router = Router()
        service.register(router)
        self._mounts.append((service, router))
        self._mounts.sort(key=lambda pair: len(pair[0].mount), reverse=True)

    def service(self, name: str) -> Service:
        for service, _router in self._mounts:
            if service.name == name:
                return service
        raise KeyError(name)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, origin: str
    ) -> Response:
        """Answer one request; `target` is the raw request target, `origin` is scheme://host:port."""
        raw_path, _, raw_query = target.partition("?")
        path = unquote(raw_path)
        lowered = {key.lower(): value for key, value in headers.items()}
        for service, router in self._mounts:
            if path == service.mount or path.startswith(service.mount + "/"):
                request = Request(
                    method=method.upper(),
                    path=path[len(service.mount) :] or "/",
                    query=Request.parse_query(raw_query),
                    headers=lowered,
                    body=body,
                    base_url=origin + service.mount,
                    raw_query=raw_query,
                )
                response = self._route(service, router, request)
                self._record(service.name, request, response)
                return response
        response = Response.json(
            404, {"error": {"code": "NotFound", "message": f"No emulated service at {path}"}}
        )
        self._record("none", Request(method, path, {}, lowered, body, origin, raw_query), response)
        return response

    def dispatch(self, service: Service, request: Request) -> Response:
        """Route a request the service made up itself (a $batch sub-request): faults apply, no log line."""
        for mounted, router in self._mounts:
            if mounted is service:
                return self._route(service, router, request)
        raise KeyError(f"service {service.name} is not mounted on this emulator")

    def _route(self, service: Service, router: Router, request: Request) -> Response:
        """The one routine for outer and inner requests: body checks, then the fault plan around the handler."""
        refusal = check_body(body_rules(service), request)
        if refusal is not None:
            return service.error_response(refusal.status, refusal.code, refusal.message, {})
        fault = self.faults.before(service, request, self.clock.now())
        if fault is not None:
            return fault
        found = router.match(request.method, request.path)
        if found is None:
            response = service.not_found(request)
        elif found.handler is None:
            response = service.method_not_allowed(request)
        else:
            response = found.handler(request, found.params)
        return self.faults.after(service, request, response)

    def _record(self, service: str, request: Request, response: Response) -> None:
        """Log the request without a credential: credential headers and query values masked, no body."""
        self._log.add(
            RequestRecord(
                at=self.clock.now(),
                service=service,
                method=request.method,
                path=request.path,
                query=redact_query(request.raw_query),
                status=response.status,
                headers=redact_headers(request.headers),
                body_bytes=len(request.body),
            )
        )

    @property
    def request_log(self) -> list[RequestRecord]:
        """The newest records, oldest first (at most `log_limit`)."""
        return self._log.records()

    @property
    def dropped_records(self) -> int:
        """How many records the log let go to stay within `log_limit` since the last clear_log()."""
        return self._log.dropped

    def clear_log(self) -> None:
        self._log.clear()
