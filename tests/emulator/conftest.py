"""Fixtures for the emulator tests: a manual clock, the built emulator, a Power BI caller checked against the swagger."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema
import pytest

from emulator.build import EmulatorStack, build_emulator
from emulator.core.clock import ManualClock
from emulator.core.http import Response
from emulator.core.tokens import POWERBI_AUDIENCE

TENANT = "contoso.onmicrosoft.com"
ORIGIN = "https://127.0.0.1:8443"
ASTRAL_ECMA = "\\u10000-\\u10FFFF"
ASTRAL_PYTHON = "\\U00010000-\\U0010FFFF"
# Which request body definition each accepted Power BI call must satisfy.
REQUEST_DEFINITIONS = {
    ("POST", "datasets"): "CreateDatasetRequest",
    ("POST", "rows"): "PostRowsRequest",
    ("POST", "refreshes"): "DatasetRefreshRequest",
    ("PUT", "table"): "Table",
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stack(clock: ManualClock) -> EmulatorStack:
    return build_emulator(clock=clock)


@pytest.fixture(scope="session")
def swagger_validate(powerbi_swagger: dict[str, Any]) -> Callable[[str, Any], None]:
    """Validate an instance against a swagger definition (ECMA astral ranges rewritten for Python's re)."""
    definitions = _python_patterns(powerbi_swagger["definitions"])

    def validate(definition: str, instance: Any) -> None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": definitions}
        jsonschema.Draft4Validator(schema).validate(instance)

    return validate


def _python_patterns(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: value.replace(ASTRAL_ECMA, ASTRAL_PYTHON) if key == "pattern" else _python_patterns(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_python_patterns(item) for item in node]
    return node


class PowerBICaller:
    """Calls the emulated Power BI in-process; every accepted request body is checked against the swagger."""

    def __init__(self, stack: EmulatorStack, validate: Callable[[str, Any], None]) -> None:
        self.stack = stack
        self.validate = validate
        # The app is Contributor on this workspace only, as production should be (reliability-security.md).
        self.group = stack.powerbi.create_group("Community Engagement", members={"cetk-app": "Contributor"})
        self._validated: set[tuple[str, int]] = set()
        self.token = self.issue_token(lifetime_seconds=7 * 24 * 3600)  # outlives the clock advances in tests

    def issue_token(self, lifetime_seconds: int = 3599, audience: str = POWERBI_AUDIENCE) -> str:
        return self.stack.tokens.issue(
            audience=audience, client_id="cetk-app", tenant=TENANT, lifetime_seconds=lifetime_seconds
        )

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw: bytes | None = None,
        swagger_conflict: str | None = None,
    ) -> Response:
        """`swagger_conflict` names why an accepted body may break the swagger (docs newer than the swagger)."""
        target = f"/powerbi/v1.0/myorg/groups/{self.group}{path}"
        headers = {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/json"}
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        response = self.stack.emulator.handle(method, target, headers, payload, ORIGIN)
        if 200 <= response.status < 300 and body is not None and swagger_conflict is None:
            key = (self._definition(method, path), hash(payload))
            if key not in self._validated:  # identical bodies are validated once (the 1M-rows test)
                self.validate(key[0], body)
                self._validated.add(key)
        return response

    def create_dataset(
        self, tables: list[dict[str, Any]], *, retention: str = "None", name: str = "CCR"
    ) -> str:
        response = self.call(
            "POST",
            f"/datasets?defaultRetentionPolicy={retention}",
            {"name": name, "defaultMode": "Push", "tables": tables},
        )
        assert response.status == 201, response.body
        dataset_id: str = json.loads(response.body)["id"]
        return dataset_id

    def post_rows(self, dataset_id: str, table: str, rows: list[dict[str, Any]]) -> Response:
        return self.call("POST", f"/datasets/{dataset_id}/tables/{table}/rows", {"rows": rows})

    @staticmethod
    def _definition(method: str, path: str) -> str:
        route = path.split("?")[0].rstrip("/")
        last = route.rsplit("/", 1)[-1]
        if method == "PUT":
            last = "table"
        found = REQUEST_DEFINITIONS.get((method, last))
        assert found is not None, f"no swagger request definition known for {method} {path}"
        return found


@pytest.fixture
def pbi(stack: EmulatorStack, swagger_validate: Callable[[str, Any], None]) -> Iterator[PowerBICaller]:
    yield PowerBICaller(stack, swagger_validate)


def body(response: Response) -> Any:
    return json.loads(response.body)
