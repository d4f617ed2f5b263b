"""A Power BI workspace on the HTTPS emulator for the client's tests: the app, its session, its bodies.

The app is Contributor on one workspace (as production should be); a session's every request body can be
recorded and checked against Microsoft's swagger.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import requests

from connectors.http import RetryPolicy, ServiceSession, build_session
from connectors.powerbi import PowerBIClient
from emulator.testing import DEFAULT_TENANT, RunningEmulator
from tests.connectors.conftest import USER_AGENT, ManualTime, StartEmulator, Waits

APP = "cetk-app"
POWERBI_AUDIENCE = "https://analysis.windows.net/powerbi/api"
ASTRAL_ECMA = "\\u10000-\\u10FFFF"
ASTRAL_PYTHON = "\\U00010000-\\U0010FFFF"
# The swagger definition each request body the client sends must satisfy, by method and last path segment.
BODY_DEFINITIONS = {
    ("POST", "datasets"): "CreateDatasetRequest",
    ("PUT", "tables"): "Table",
    ("POST", "rows"): "PostRowsRequest",
    ("POST", "refreshes"): "DatasetRefreshRequest",
}


@dataclass
class SentBodies:
    """A response hook: every request the session sent that carried a body, as (method, path, JSON)."""

    sent: list[tuple[str, str, Any]] = field(default_factory=list)

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        request = response.request
        if request.body:
            payload = request.body.decode() if isinstance(request.body, bytes) else request.body
            self.sent.append((request.method or "", urlsplit(request.url or "").path, json.loads(payload)))


@dataclass
class Workspace:
    emu: RunningEmulator
    group: str
    client: PowerBIClient
    session: ServiceSession
    bodies: SentBodies

    def posts(self, path_end: str) -> list[Any]:
        """The POSTs the emulator logged whose path ends so (dropped ones included)."""
        log = self.emu.emulator.request_log
        return [r for r in log if r.method == "POST" and r.path.endswith(path_end)]

    def token(self, client_id: str = APP) -> str:
        return self.emu.stack.tokens.issue(
            audience=POWERBI_AUDIENCE, client_id=client_id, tenant=DEFAULT_TENANT, lifetime_seconds=86_400
        )


def app_session(
    emu: RunningEmulator,
    clock: ManualTime,
    waits: Waits,
    token: str,
    *,
    token_hosts: tuple[str, ...] = (),
    timeout: tuple[float, float] | None = None,
) -> ServiceSession:
    extra: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    return build_session(
        lambda: token,
        user_agent=USER_AGENT,
        ca_bundle=emu.ca_file,
        retries=RetryPolicy(),
        sleep=waits,
        clock=clock.time,
        jitter=lambda: 0.0,
        token_hosts=token_hosts,
        **extra,
    )


def open_workspace(
    start_emulator: StartEmulator,
    clock: ManualTime,
    waits: Waits,
    *,
    faults: Any = None,
    role: str = "Contributor",
    capacity: str = "shared",
    timeout: tuple[float, float] | None = None,
    **options: Any,
) -> Workspace:
    """The emulator (HTTPS, the test clock), a workspace where the app has `role`, and a client for it."""
    emu = start_emulator(faults)
    if options:
        emu.powerbi.options = dataclasses.replace(emu.powerbi.options, **options)
    group = emu.powerbi.create_group("Community Engagement", capacity=capacity, members={APP: role})  # type: ignore[arg-type]
    token = emu.stack.tokens.issue(
        audience=POWERBI_AUDIENCE, client_id=APP, tenant=DEFAULT_TENANT, lifetime_seconds=86_400
    )
    session = app_session(emu, clock, waits, token, timeout=timeout)
    bodies = SentBodies()
    session.hooks["response"].append(bodies)
    client = PowerBIClient(session, emu.url("powerbi", ""), group)
    return Workspace(emu, group, client, session, bodies)


def swagger_validator(swagger: dict[str, Any]) -> Callable[[str, Any], None]:
    """Validate an instance against a swagger definition (ECMA astral ranges rewritten for Python's re)."""
    definitions = _python_patterns(swagger["definitions"])

    def validate(definition: str, instance: Any) -> None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
        jsonschema.Draft4Validator(schema).validate(instance)

    return validate


def body_definition(method: str, path: str) -> str:
    segments = path.rstrip("/").split("/")
    last = "tables" if method == "PUT" and segments[-2] == "tables" else segments[-1]
    return BODY_DEFINITIONS[(method, last)]


def _python_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: value.replace(ASTRAL_ECMA, ASTRAL_PYTHON) if key == "pattern" else _python_patterns(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(item) for item in node]
    return node
