"""Who may call the emulated Power BI: tokens (403), users' scopes (401), workspace membership and roles, the
service-principal rule for notifyOption, the documented unknown-property body, and the cluster redirect."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from emulator.build import EmulatorOptions, build_emulator
from emulator.core.clock import ManualClock
from emulator.core.tokens import POWERBI_AUDIENCE
from emulator.powerbi.model import PowerBIOptions
from tests.emulator.conftest import ORIGIN, TENANT, PowerBICaller, body

TABLE = {"name": "Events", "columns": [{"name": "n", "dataType": "Int64"}]}
NOT_AUTHORIZED = {
    "error": {
        "code": "PowerBINotAuthorizedException",
        "pbi.error": {
            "code": "PowerBINotAuthorizedException",
            "parameters": {},
            "details": [],
            "exceptionCulprit": 1,
        },
    }
}


def raw(pbi: PowerBICaller, method: str, path: str, headers: dict[str, str], origin: str = ORIGIN) -> Any:
    return pbi.stack.emulator.handle(
        method, f"/powerbi/v1.0/myorg/groups/{pbi.group}{path}", headers, b"", origin
    )


def app_token(pbi: PowerBICaller, client_id: str) -> str:
    return pbi.stack.tokens.issue(
        audience=POWERBI_AUDIENCE,
        client_id=client_id,
        tenant=TENANT,
        lifetime_seconds=86_400,
        extra={"idtyp": "app"},
    )


def user_token(pbi: PowerBICaller, upn: str, scopes: str) -> str:
    return pbi.stack.tokens.issue(
        audience=POWERBI_AUDIENCE,
        client_id="cetk-app",
        tenant=TENANT,
        lifetime_seconds=86_400,
        extra={"scp": scopes, "upn": upn, "idtyp": "user"},
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "bearer"],
)
def test_no_or_a_malformed_authorization_header_is_403(pbi: PowerBICaller, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = raw(pbi, "GET", "/datasets", headers)

    assert response.status == 403
    error = body(response)["error"]
    assert error["code"] == "Forbidden" and error["message"]
    assert "RequestId" in response.headers


def test_an_expired_token_is_the_documented_403(pbi: PowerBICaller, clock: ManualClock) -> None:
    token = pbi.issue_token(lifetime_seconds=60)
    clock.advance(61)
    response = pbi.call("GET", "/datasets", token=token)
    assert response.status == 403
    assert body(response) == {
        "error": {
            "code": "TokenExpired",
            "message": "Access token has expired, resubmit with a new access token",
        }
    }


def test_the_missing_token_status_is_an_option(clock: ManualClock, swagger_validate: Any) -> None:
    options = EmulatorOptions(powerbi=PowerBIOptions(missing_token_status=401))
    pbi = PowerBICaller(build_emulator(clock=clock, options=options), swagger_validate)
    assert raw(pbi, "GET", "/datasets", {}).status == 401


def test_a_service_principal_that_is_not_a_member_is_refused_everywhere_in_the_workspace(
    pbi: PowerBICaller,
) -> None:
    dataset_id = pbi.create_dataset([TABLE])
    stranger = app_token(pbi, "another-app")

    reads = [pbi.call("GET", path, token=stranger) for path in ("/datasets", f"/datasets/{dataset_id}", "")]
    write = pbi.call(
        "POST", f"/datasets/{dataset_id}/tables/Events/rows", {"rows": [{"n": 1}]}, token=stranger
    )
    groups = pbi.stack.emulator.handle(
        "GET", "/powerbi/v1.0/myorg/groups", {"Authorization": f"Bearer {stranger}"}, b"", ORIGIN
    )

    for response in [*reads, write]:
        assert response.status == 403 and body(response) == NOT_AUTHORIZED
    assert pbi.stack.powerbi.rows(pbi.group, dataset_id, "Events") == []
    assert body(groups)["value"] == []  # the workspace is not even listed


def test_an_unknown_workspace_is_404_before_membership_is_asked(pbi: PowerBICaller) -> None:
    headers = {"Authorization": f"Bearer {pbi.token}"}
    response = pbi.stack.emulator.handle(
        "GET",
        "/powerbi/v1.0/myorg/groups/00000000-0000-0000-0000-000000000000/datasets",
        headers,
        b"",
        ORIGIN,
    )
    assert response.status == 404 and body(response)["error"]["code"] == "PowerBIEntityNotFound"


def test_a_viewer_reads_but_cannot_write(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([TABLE])
    import_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Imported")
    pbi.stack.powerbi.add_member(pbi.group, "viewer-app", "Viewer")
    viewer = app_token(pbi, "viewer-app")
    rows = f"/datasets/{dataset_id}/tables/Events/rows"

    reads = [
        pbi.call("GET", path, token=viewer)
        for path in ("", "/datasets", f"/datasets/{dataset_id}/tables", f"/datasets/{import_id}/refreshes")
    ]
    writes = [
        pbi.call("POST", "/datasets", {"name": "X", "tables": [TABLE]}, token=viewer),
        pbi.call("POST", rows, {"rows": [{"n": 1}]}, token=viewer),
        pbi.call("DELETE", rows, token=viewer),
        pbi.call("PUT", f"/datasets/{dataset_id}/tables/Events", TABLE, token=viewer),
        pbi.call(
            "POST", f"/datasets/{import_id}/refreshes", {"notifyOption": "NoNotification"}, token=viewer
        ),
        pbi.call("DELETE", f"/datasets/{dataset_id}", token=viewer),
    ]

    assert [r.status for r in reads] == [200, 200, 200, 200]
    assert [r.status for r in writes] == [403] * len(writes)
    assert all(body(r) == NOT_AUTHORIZED for r in writes)
    assert len(pbi.stack.powerbi.datasets(pbi.group)) == 2
    assert pbi.stack.powerbi.refresh_history(pbi.group, import_id) == []


@pytest.mark.parametrize("role", ["Admin", "Member", "Contributor"])
def test_contributor_and_above_write(pbi: PowerBICaller, role: Any) -> None:
    pbi.stack.powerbi.add_member(pbi.group, "writer-app", role)
    token = app_token(pbi, "writer-app")
    response = pbi.call("POST", "/datasets", {"name": "X", "tables": [TABLE]}, token=token)
    assert response.status == 201


def test_an_unknown_role_is_a_value_error(pbi: PowerBICaller) -> None:
    with pytest.raises(ValueError, match="Owner"):
        pbi.stack.powerbi.add_member(pbi.group, "x", "Owner")  # type: ignore[arg-type]


def test_a_users_token_needs_the_operations_scope(pbi: PowerBICaller) -> None:
    pbi.stack.powerbi.add_member(pbi.group, "Analyst@Contoso.com", "Member")  # UPNs match case-insensitively
    reader = user_token(pbi, "analyst@contoso.com", "Dataset.Read.All")
    writer = user_token(pbi, "analyst@contoso.com", "Dataset.ReadWrite.All Workspace.Read.All")
    no_scope = user_token(pbi, "analyst@contoso.com", "User.Read")

    assert pbi.call("GET", "/datasets", token=reader).status == 200
    refused = pbi.call("POST", "/datasets", {"name": "X", "tables": [TABLE]}, token=reader)
    assert refused.status == 401 and body(refused) == NOT_AUTHORIZED
    assert pbi.call("GET", "/datasets", token=no_scope).status == 401
    assert pbi.call("GET", "", token=reader).status == 401  # the workspace itself needs Workspace.*
    assert pbi.call("GET", "", token=writer).status == 200
    assert pbi.call("POST", "/datasets", {"name": "X", "tables": [TABLE]}, token=writer).status == 201


def test_notify_option_other_than_no_notification_from_a_service_principal_is_400(
    pbi: PowerBICaller,
) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    path = f"/datasets/{dataset_id}/refreshes"

    refused = [
        pbi.call("POST", path, {"notifyOption": option}) for option in ("MailOnFailure", "MailOnCompletion")
    ]
    accepted = pbi.call("POST", path, {"notifyOption": "NoNotification"})

    for response in refused:
        assert response.status == 400
        assert body(response)["error"]["code"] == "InvalidRequest"
        assert "service principal" in body(response)["error"]["message"]
    assert accepted.status == 202
    assert len(pbi.stack.powerbi.refresh_history(pbi.group, dataset_id)) == 1


def test_a_user_may_ask_for_mail(pbi: PowerBICaller) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    pbi.stack.powerbi.add_member(pbi.group, "analyst@contoso.com", "Contributor")
    token = user_token(pbi, "analyst@contoso.com", "Dataset.ReadWrite.All")
    response = pbi.call(
        "POST", f"/datasets/{dataset_id}/refreshes", {"notifyOption": "MailOnFailure"}, token=token
    )
    assert response.status == 202


def test_post_rows_with_an_unknown_property_gets_the_documented_body(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([TABLE])

    response = pbi.call(
        "POST",
        f"/datasets/{dataset_id}/tables/Events/rows",
        {"rows": [{"n": 1}], "tableName": "Events"},
        swagger_conflict="the swagger's PostRowsRequest does not forbid other properties; the service does",
    )

    assert response.status == 400
    assert body(response) == {
        "error": {
            "code": "BadRequest",
            "message": "Bad Request",
            "details": [
                {
                    "message": "The property 'tableName' does not exist on type "
                    "'Microsoft.PowerBI.ServiceContracts.Api.PostRowsRequest'. Make sure to only use property "
                    "names that are defined by the type.",
                    "target": "rows",
                }
            ],
        }
    }
    assert pbi.stack.powerbi.rows(pbi.group, dataset_id, "Events") == []


def test_a_row_with_an_unknown_column_gets_the_same_shape_and_nothing_is_stored(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([TABLE])

    response = pbi.post_rows(dataset_id, "Events", [{"n": 1}, {"n": 2, "colour": "red"}])

    assert response.status == 400
    error = body(response)["error"]
    assert error["code"] == "BadRequest" and error["message"] == "Bad Request"
    assert error["details"] == [
        {
            "message": "The property 'colour' does not exist on type 'Events'. Make sure to only use property "
            "names that are defined by the type.",
            "target": "rows",
        }
    ]
    assert pbi.stack.powerbi.rows(pbi.group, dataset_id, "Events") == []


def test_get_group_is_the_swagger_group_with_its_capacity(pbi: PowerBICaller, swagger_validate: Any) -> None:
    premium = pbi.stack.powerbi.create_group("Premium", capacity="premium", members={"cetk-app": "Viewer"})
    headers = {"Authorization": f"Bearer {pbi.token}"}

    shared = pbi.call("GET", "")
    dedicated = pbi.stack.emulator.handle(
        "GET", f"/powerbi/v1.0/myorg/groups/{premium}", headers, b"", ORIGIN
    )

    for response in (shared, dedicated):
        assert response.status == 200
        swagger_validate("Group", body(response))
    assert body(shared)["isOnDedicatedCapacity"] is False and "capacityId" not in body(shared)
    assert body(dedicated)["isOnDedicatedCapacity"] is True and body(dedicated)["capacityId"]


def test_a_premium_workspace_allows_enhanced_refresh_while_shared_ones_refuse_it(pbi: PowerBICaller) -> None:
    premium = pbi.stack.powerbi.create_group(
        "Premium", capacity="premium", members={"cetk-app": "Contributor"}
    )
    shared_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    premium_id = pbi.stack.powerbi.add_import_dataset(premium, "Survey model")
    enhanced = {"type": "Full"}
    headers = {"Authorization": f"Bearer {pbi.token}", "Content-Type": "application/json"}

    refused = pbi.call(
        "POST",
        f"/datasets/{shared_id}/refreshes",
        enhanced,
        swagger_conflict="enhanced refresh omits notifyOption",
    )
    accepted = pbi.stack.emulator.handle(
        "POST",
        f"/powerbi/v1.0/myorg/groups/{premium}/datasets/{premium_id}/refreshes",
        headers,
        b'{"type": "Full"}',
        ORIGIN,
    )

    assert refused.status == 400 and "shared capacity" in body(refused)["error"]["message"]
    assert accepted.status == 202 and accepted.headers["x-ms-request-id"]


def test_scheduled_refreshes_count_towards_the_daily_eight_and_on_demand_ones_do_not(
    pbi: PowerBICaller, clock: ManualClock
) -> None:
    dataset_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Survey model")
    start = clock.now()
    for hour in range(7):
        pbi.stack.powerbi.record_refresh(pbi.group, dataset_id, started=start.replace(hour=hour))
    pbi.stack.powerbi.record_refresh(
        pbi.group, dataset_id, started=start.replace(hour=7), refresh_type="OnDemand"
    )
    path = f"/datasets/{dataset_id}/refreshes"

    eighth = pbi.call("POST", path, {"notifyOption": "NoNotification"})
    clock.advance(60)
    ninth = pbi.call("POST", path, {"notifyOption": "NoNotification"})

    assert eighth.status == 202
    assert ninth.status == 400 and body(ninth)["error"]["code"] == "Request Throttled"


def test_a_request_at_another_cluster_is_redirected_with_307(
    clock: ManualClock, swagger_validate: Any
) -> None:
    home = "https://home-cluster.example"
    options = EmulatorOptions(powerbi=PowerBIOptions(cluster_redirect_origin=home))
    pbi = PowerBICaller(build_emulator(clock=clock, options=options), swagger_validate)
    headers = {"Authorization": f"Bearer {pbi.token}"}
    path = f"/powerbi/v1.0/myorg/groups/{pbi.group}/datasets/a%20b?$top=1"

    elsewhere = pbi.stack.emulator.handle("GET", path, headers, b"", ORIGIN)
    at_home = pbi.stack.emulator.handle(
        "GET", f"/powerbi/v1.0/myorg/groups/{pbi.group}/datasets", headers, b"", home
    )
    anonymous = pbi.stack.emulator.handle("GET", path, {}, b"", ORIGIN)

    assert elsewhere.status == 307
    assert (
        elsewhere.headers["Location"] == f"{home}/powerbi/v1.0/myorg/groups/{pbi.group}/datasets/a%20b?$top=1"
    )
    assert at_home.status == 200
    assert anonymous.status == 307  # routing comes before sign-in checks


def test_auth_off_lets_a_request_without_a_token_into_any_workspace(clock: ManualClock) -> None:
    stack = build_emulator(clock=clock, options=EmulatorOptions(require_auth=False))
    group = stack.powerbi.create_group("Open")
    response = stack.emulator.handle("GET", f"/powerbi/v1.0/myorg/groups/{group}/datasets", {}, b"", ORIGIN)
    assert response.status == 200
    assert dataclasses.replace(stack.powerbi.options).require_auth is False
