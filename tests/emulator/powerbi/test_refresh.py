"""Dataset refresh: Unknown until the emulator clock passes the duration, one at a time, 8 a day on shared capacity."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.build import EmulatorOptions, build_emulator
from emulator.core.clock import ManualClock
from emulator.powerbi.model import PowerBIOptions
from tests.emulator.conftest import PowerBICaller, body

STANDARD = {"notifyOption": "NoNotification"}
DAILY_LIMIT = {
    "error": {
        "code": "Request Throttled",
        "message": "Invalid dataset refresh request. Number of refresh requests in last 24 hours exceeded limit",
    }
}


def caller(clock: ManualClock, swagger_validate: Any, **options: Any) -> PowerBICaller:
    stack = build_emulator(clock=clock, options=EmulatorOptions(powerbi=PowerBIOptions(**options)))
    return PowerBICaller(stack, swagger_validate)


def history(pbi: PowerBICaller, dataset_id: str, query: str = "") -> list[dict[str, Any]]:
    response = pbi.call("GET", f"/datasets/{dataset_id}/refreshes{query}")
    assert response.status == 200, response.body
    value: list[dict[str, Any]] = body(response)["value"]
    return value


def test_refresh_runs_unknown_then_completed(
    pbi: PowerBICaller, clock: ManualClock, swagger_validate: Any
) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")

    accepted = pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)
    running = history(pbi, dataset_id)
    clock.advance(60)
    done = pbi.call("GET", f"/datasets/{dataset_id}/refreshes?$top=1")

    assert accepted.status == 202 and accepted.body == b""
    assert "Location" not in accepted.headers  # only enhanced refreshes get Location / x-ms-request-id
    assert running[0]["status"] == "Unknown" and "endTime" not in running[0]
    assert running[0]["refreshType"] == "ViaApi"
    swagger_validate("Refreshes", body(done))
    finished = body(done)["value"][0]
    assert finished["status"] == "Completed"
    assert finished["endTime"] == "2026-11-02T09:01:00.000Z"


def test_one_refresh_at_a_time_400_by_default(pbi: PowerBICaller, clock: ManualClock) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)

    second = pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)
    clock.advance(60)
    after = pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)

    assert second.status == 400
    assert after.status == 202


def test_conflict_status_is_configurable(clock: ManualClock, swagger_validate: Any) -> None:
    pbi = caller(clock, swagger_validate, refresh_conflict_status=409)
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)
    assert pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD).status == 409


def test_eight_refreshes_per_rolling_day_on_shared_capacity(pbi: PowerBICaller, clock: ManualClock) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    for _ in range(8):
        assert pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD).status == 202
        clock.advance(3600)

    ninth = pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)
    clock.advance(24 * 3600 - 8 * 3600)  # the first refresh leaves the rolling 24 hours
    later = pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)

    assert ninth.status == 400 and body(ninth) == DAILY_LIMIT
    assert later.status == 202
    assert len(history(pbi, dataset_id)) == 9


def test_premium_capacity_has_no_daily_limit_and_allows_enhanced_refresh(
    clock: ManualClock, swagger_validate: Any
) -> None:
    pbi = caller(clock, swagger_validate, capacity="premium")
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    for _ in range(9):
        assert pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD).status == 202
        clock.advance(60)

    enhanced = pbi.call(
        "POST",
        f"/datasets/{dataset_id}/refreshes",
        {"type": "Full", "commitMode": "Transactional"},
        # The swagger marks notifyOption required; the 2025 asynchronous-refresh doc says enhanced refresh
        # must omit it (microsoft-apis.md §1.5). The emulator follows the newer doc.
        swagger_conflict="enhanced refresh omits notifyOption",
    )
    request_id = enhanced.headers["x-ms-request-id"]
    detail_running = pbi.call("GET", f"/datasets/{dataset_id}/refreshes/{request_id}")
    clock.advance(60)
    detail_done = pbi.call("GET", f"/datasets/{dataset_id}/refreshes/{request_id}")

    assert enhanced.status == 202
    assert enhanced.headers["Location"].endswith(f"/datasets/{dataset_id}/refreshes/{request_id}")
    assert detail_running.status == 202 and body(detail_running)["extendedStatus"] == "InProgress"
    assert detail_done.status == 200 and body(detail_done)["status"] == "Completed"
    assert history(pbi, dataset_id, "?$top=1")[0]["refreshType"] == "ViaEnhancedApi"


@pytest.mark.parametrize(
    "request_body",
    [
        {"type": "Full"},
        {"notifyOption": "MailOnFailure", "type": "Full"},
        {"notifyOption": "Sometimes"},
        {"bogus": 1},
    ],
)
def test_refresh_requests_shared_capacity_refuses(pbi: PowerBICaller, request_body: dict[str, Any]) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    response = pbi.call("POST", f"/datasets/{dataset_id}/refreshes", request_body)
    assert response.status == 400 and body(response)["error"]["code"] == "InvalidRequest"


def test_failed_refresh_reports_service_exception(pbi: PowerBICaller, clock: ManualClock) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    pbi.stack.powerbi.fail_next_refresh(pbi.group, dataset_id, "ModelRefreshFailed_CredentialsNotSpecified")
    pbi.call("POST", f"/datasets/{dataset_id}/refreshes", STANDARD)
    clock.advance(60)

    entry = history(pbi, dataset_id)[0]

    assert entry["status"] == "Failed"
    assert entry["serviceExceptionJson"] == '{"errorCode": "ModelRefreshFailed_CredentialsNotSpecified"}'


def test_push_dataset_refresh_is_refused_unless_configured(
    pbi: PowerBICaller, clock: ManualClock, swagger_validate: Any
) -> None:
    columns = [{"name": "n", "dataType": "Int64"}]
    push_id = pbi.create_dataset([{"name": "T", "columns": columns}])
    assert pbi.call("POST", f"/datasets/{push_id}/refreshes", STANDARD).status == 400

    lenient = caller(clock, swagger_validate, push_refresh="accept")
    lenient_id = lenient.create_dataset([{"name": "T", "columns": columns}])
    assert lenient.call("POST", f"/datasets/{lenient_id}/refreshes", STANDARD).status == 202


def test_history_top_must_be_positive(pbi: PowerBICaller) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    assert pbi.call("GET", f"/datasets/{dataset_id}/refreshes?$top=0").status == 400


def test_history_top_that_is_a_digit_but_not_a_number_is_a_400(pbi: PowerBICaller) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    assert pbi.call("GET", f"/datasets/{dataset_id}/refreshes?$top=%C2%B2").status == 400  # "²"
