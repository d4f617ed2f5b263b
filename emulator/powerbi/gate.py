"""The gate of the emulated Power BI service: what every route passes before its handler (cluster
redirect, token, scope, workspace, role, in the service's order) and the shapes of its refusals (§1.6),
injected faults included. The routes themselves: emulator/powerbi/service.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from emulator.core.bodies import BodyRules, Refusal
from emulator.core.clock import Clock
from emulator.core.http import MAX_JSON_DEPTH, Request, Response
from emulator.core.tokens import POWERBI_AUDIENCE, BearerCheck, Claims, TokenAuthority
from emulator.powerbi.access import Access, Resource, caller, check_role, check_scope
from emulator.powerbi.limits import request_rate_body
from emulator.powerbi.model import PowerBIOptions
from emulator.powerbi.state import PowerBIState, not_found_rejection
from emulator.powerbi.validate import Rejection

Handler = Callable[[Request, dict[str, str]], Response]


class PowerBIGate(PowerBIState):
    """The service's state with its guard; PowerBIService adds the routes."""

    mount = "/powerbi"

    def __init__(self, tokens: TokenAuthority, clock: Clock, options: PowerBIOptions | None = None) -> None:
        super().__init__(clock, options)
        self.bearer = BearerCheck(tokens, POWERBI_AUDIENCE, self.options.require_auth)
        # How Power BI refuses bodies (docs/emulator.md#security), all UNCONFIRMED: deep nesting as its other
        # validation failures; a body that is not JSON 415. A POST with no body and no type (a refresh) passes.
        self.body_rules = BodyRules(
            too_deep=Refusal(
                self.options.validation_status,
                self.options.validation_code,
                f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.",
            ),
            unsupported_type=Refusal(
                415, "UnsupportedMediaType", "The request body must be JSON (Content-Type: application/json)."
            ),
        )
        self.rows_hook: Callable[[], None] | None = None  # runs while a POST rows counts as pending

    # Service protocol (register: PowerBIService) ---------------------------------------------

    def not_found(self, request: Request) -> Response:
        return self._answer(not_found_rejection())

    def method_not_allowed(self, request: Request) -> Response:
        return self.error_response(405, "MethodNotAllowed", f"{request.method} is not supported here.", {})

    def error_response(self, status: int, code: str, message: str, headers: Mapping[str, str]) -> Response:
        """Power BI's error shapes, for injected faults too (§1.6)."""
        if status == 429:
            payload: dict[str, Any] = request_rate_body(int(headers.get("Retry-After", "1")))
        else:
            payload = {"error": {"code": code, "message": message}}
        return Response.json(status, payload, {**headers, "RequestId": str(uuid.uuid4())})

    def resource_units(self, request: Request) -> int | None:
        """Power BI has no resource-unit costs; a budget charges the plan's default."""
        return None

    # the guard --------------------------------------------------------------------------------

    def _guard(self, handler: Handler, resource: Resource, access: Access) -> Handler:
        """Redirect, token, scope, workspace and role checks, in the order the service applies them."""

        def guarded(request: Request, params: dict[str, str]) -> Response:
            redirect = self._cluster_redirect(request)
            if redirect is not None:
                return redirect
            try:
                claims = self._caller(request)
                check_scope(claims, resource, access, self.options)
                with self._lock:
                    if "groupId" in params:
                        group = self._groups.get(params["groupId"])
                        if group is None:
                            raise not_found_rejection()
                        check_role(claims, group, access, self.options)
                response = handler(request, params)
            except Rejection as rejection:
                return self._answer(rejection)
            response.headers.setdefault("RequestId", str(uuid.uuid4()))
            return response

        return guarded

    def _caller(self, request: Request) -> Claims | None:
        return caller(self.bearer.check(request.header("authorization")), self.options)

    def _cluster_redirect(self, request: Request) -> Response | None:
        """307 to the home cluster for a request that reached another origin (troubleshoot-rest-api.md)."""
        home = self.options.cluster_redirect_origin
        if home is None or request.base_url.startswith(home.rstrip("/") + self.mount):
            return None
        query = f"?{request.raw_query}" if request.raw_query else ""
        location = f"{home.rstrip('/')}{self.mount}{quote(request.path)}{query}"
        return Response.empty(307, {"Location": location, "RequestId": str(uuid.uuid4())})

    def _answer(self, rejection: Rejection) -> Response:
        headers = {"RequestId": str(uuid.uuid4())}
        if rejection.retry_after is not None:
            headers["Retry-After"] = str(rejection.retry_after)
        return Response.json(rejection.status, rejection.payload, headers)
