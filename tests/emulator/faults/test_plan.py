"""Fault plans: throttling sequences and rates, 503 without Retry-After, latency, drops after commit, RU budgets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.core.app import Emulator, PlainErrors
from emulator.core.clock import ManualClock
from emulator.core.http import Request, Response, Router
from emulator.faults.budget import ResourceBudget
from emulator.faults.plan import FaultPlan
from emulator.testing import running_emulator
from errors import EmulatorError
from tests.emulator.conftest import PowerBICaller, body

EVENTS = [{"name": "Events", "columns": [{"name": "n", "dataType": "Int64"}]}]
ROWS_PATH = r"/tables/[^/]+/rows$"


def install(pbi: PowerBICaller, data: dict[str, Any], **overrides: Any) -> FaultPlan:
    return FaultPlan.from_dict(data, **overrides).install(pbi.stack.emulator)


def post(pbi: PowerBICaller, dataset_id: str, n: int = 1) -> Response:
    return pbi.post_rows(dataset_id, "Events", [{"n": n}])


def test_throttle_sequence_429_429_200(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset(EVENTS)
    rule = {
        "service": "powerbi",
        "method": "POST",
        "path": ROWS_PATH,
        "throttle": {"sequence": [429, 429, 200], "retry_after": 7},
    }
    install(pbi, {"rules": [rule]})

    statuses = [post(pbi, dataset_id, n) for n in range(4)]

    assert [r.status for r in statuses] == [429, 429, 200, 200]
    assert statuses[0].headers["Retry-After"] == "7" and "RequestId" in statuses[0].headers
    assert body(statuses[0])["message"].endswith("Retry in 7 seconds.")  # Power BI's own throttling body
    assert [r["n"] for r in pbi.stack.powerbi.rows(pbi.group, dataset_id, "Events")] == [2, 3]


def test_unavailable_is_503_without_retry_after(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset(EVENTS)
    install(pbi, {"rules": [{"service": "powerbi", "unavailable": {"sequence": [503, 503]}}]})

    first, second, third = (post(pbi, dataset_id) for _ in range(3))

    assert (first.status, second.status, third.status) == (503, 503, 200)
    assert "Retry-After" not in first.headers
    assert body(first)["error"]["code"] == "serviceNotAvailable"


def test_rate_faults_are_deterministic_for_a_seed(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset(EVENTS)
    plan = {"seed": 7, "rules": [{"service": "powerbi", "path": ROWS_PATH, "throttle": {"rate": 0.3}}]}

    def run() -> list[int]:
        install(pbi, plan)
        return [post(pbi, dataset_id).status for _ in range(40)]

    first, second = run(), run()

    assert first == second
    assert 0 < first.count(429) < 40


def test_latency_uses_the_injected_sleep(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset(EVENTS)
    slept: list[float] = []
    install(pbi, {"rules": [{"service": "powerbi", "latency_ms": 250}]}, sleep=slept.append)

    post(pbi, dataset_id)

    assert slept == [0.25]


def test_drop_after_commit_over_a_real_socket() -> None:
    plan = FaultPlan.from_dict(
        {
            "rules": [
                {"service": "powerbi", "method": "POST", "path": ROWS_PATH, "drop_after_commit": {"nth": 2}}
            ]
        }
    )
    with running_emulator(faults=plan) as emu:
        group = emu.powerbi.create_group("CE", members={"a": "Contributor"})
        token = emu.stack.tokens.issue(
            audience="https://analysis.windows.net/powerbi/api", client_id="a", tenant="t"
        )
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        datasets = emu.url("powerbi", f"/v1.0/myorg/groups/{group}/datasets")
        dataset_id = session.post(datasets, json={"name": "CCR", "tables": EVENTS}, timeout=10).json()["id"]
        rows_url = f"{datasets}/{dataset_id}/tables/Events/rows"

        assert session.post(rows_url, json={"rows": [{"n": 1}]}, timeout=10).status_code == 200
        with pytest.raises(requests.ConnectionError):
            session.post(rows_url, json={"rows": [{"n": 2}]}, timeout=10)
        assert session.post(rows_url, json={"rows": [{"n": 3}]}, timeout=10).status_code == 200

        assert [r["n"] for r in emu.powerbi.rows(group, dataset_id, "Events")] == [1, 2, 3]  # 2 was committed
        session.close()


def test_ratelimit_headers_from_80_percent_then_429_until_the_window_resets(
    pbi: PowerBICaller, clock: ManualClock
) -> None:
    dataset_id = pbi.create_dataset(EVENTS)
    install(pbi, {"budget": {"services": ["powerbi"]}})  # Dev Proxy defaults: 2 RU a call, 120 RU a minute
    responses = [post(pbi, dataset_id) for _ in range(60)]

    assert all("RateLimit-Limit" not in r.headers for r in responses[:47])  # 94 RU used: under 80 %
    assert {
        k: responses[47].headers[k] for k in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset")
    } == {
        "RateLimit-Limit": "120",
        "RateLimit-Remaining": "24",
        "RateLimit-Reset": "60",
    }
    assert responses[59].headers["RateLimit-Remaining"] == "0" and responses[59].status == 200
    clock.advance(15)
    refused = post(pbi, dataset_id)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "45" and refused.headers["RateLimit-Reset"] == "45"
    clock.advance(45)
    fresh = post(pbi, dataset_id)
    assert fresh.status == 200 and "RateLimit-Limit" not in fresh.headers


class CostlyService(PlainErrors):
    """A stand-in service that prices its own requests and keeps the default error shape (Graph-style)."""

    name = "stub"
    mount = "/stub"

    def register(self, router: Router) -> None:
        router.add("GET", "/{what}", lambda request, params: Response.json(200, {"ok": True}))

    def not_found(self, request: Request) -> Response:
        return Response.json(404, {})

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json(405, {})

    def resource_units(self, request: Request) -> int:
        return 5 if request.path == "/permissions" else 1


def test_budget_asks_the_service_for_the_cost_and_defaults_to_graph_error_shape() -> None:
    clock = ManualClock()
    emulator = Emulator(clock=clock)
    emulator.mount(CostlyService())
    plan = FaultPlan(budget=ResourceBudget(services=frozenset({"stub"}), rate_limit=10)).install(emulator)

    statuses = [emulator.handle("GET", "/stub/permissions", {}, b"", "http://x").status for _ in range(2)]
    cheap = emulator.handle("GET", "/stub/item", {}, b"", "http://x")

    assert statuses == [200, 200] and plan.budget is not None and plan.budget.used == 10
    assert cheap.status == 429
    assert json.loads(cheap.body) == {
        "error": {"code": "activityLimitReached", "message": "Resource unit budget exceeded; retry later."}
    }


def test_plan_loads_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "seed: 3\n"
        "rules:\n"
        "  - service: graph\n    method: GET\n    path: /items\n    throttle: {sequence: [429, 200], retry_after: 2}\n"
        "  - service: powerbi\n    drop_after_commit: true\n    latency_ms: 100\n"
        "budget: {rate_limit: 1200, cost_per_request: 2}\n",
        encoding="utf-8",
    )

    plan = FaultPlan.from_file(path)

    assert plan.seed == 3 and len(plan.rules) == 2
    assert plan.rules[0].throttle is not None and plan.rules[0].throttle.sequence == (429, 200)
    assert plan.rules[1].drop_after_commit is True
    assert plan.budget is not None and plan.budget.rate_limit == 1200
    assert plan.budget.services == frozenset({"graph", "sharepoint"})


@pytest.mark.parametrize(
    "data",
    [{"rulez": []}, {"rules": [{"service": "graph", "throtle": {}}]}, {"rules": [{"path": "("}]},
     {"rules": [{"throttle": {"rate": 2}}]}, {"budget": {"limit": 3}}],
)  # fmt: skip
def test_bad_plans_are_emulator_errors(data: dict[str, Any]) -> None:
    with pytest.raises(EmulatorError):
        FaultPlan.from_dict(data)
