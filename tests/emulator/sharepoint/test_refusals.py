"""What SharePoint REST refuses: secret app-only tokens, the lookup column threshold, a $top over the list
view threshold, projections into lookups that are not expanded; each in verbose and JSON-light error shapes."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import msal
import pytest
import requests

from emulator.build import EmulatorOptions, EmulatorStack, build_emulator
from emulator.core.certs import make_client_certificate
from emulator.core.clock import ManualClock
from emulator.core.http import Response
from emulator.lists.store import ListColumn, Lookup, SpList, Term
from emulator.testing import RunningEmulator, running_emulator

TENANT = "contoso.onmicrosoft.com"
ORIGIN = "https://127.0.0.1:8443"
SP_SCOPE = ["https://contoso.sharepoint.com/.default"]
PBI_SCOPE = ["https://analysis.windows.net/powerbi/api/.default"]
VERBOSE = "application/json;odata=verbose"
NOMETADATA = "application/json;odata=nometadata"
LOOKUP_ERROR = "-2147024749, Microsoft.SharePoint.SPQueryThrottledException"
VIEW_ERROR = "-2147024860, Microsoft.SharePoint.SPQueryThrottledException"


# ---- secret app-only tokens: the real MSAL over HTTPS -----------------------------------------------


@pytest.fixture
def emu(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    with running_emulator(
        https=True, clock=ManualClock(), cert_dir=tmp_path_factory.mktemp("tls")
    ) as running:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_file))  # requests lets it win over verify=
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        site = running.stack.store.create_site("/sites/Neighbourhood", "Neighbourhood")
        running.stack.store.add_item(running.stack.store.create_list(site, "Wards", []), {"Title": "North"})
        yield running


def msal_token(emu: RunningEmulator, client_id: str, credential: object, scopes: list[str]) -> str:
    app = msal.ConfidentialClientApplication(
        client_id, client_credential=credential, authority=emu.authority(TENANT),
        instance_discovery=False, verify=str(emu.ca_file),
    )  # fmt: skip
    result = app.acquire_token_for_client(scopes=scopes)
    assert "access_token" in result, result
    token: str = result["access_token"]
    return token


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def get_wards(emu: RunningEmulator, token: str, accept: str = VERBOSE) -> requests.Response:
    url = emu.url("sharepoint", "/sites/Neighbourhood/_api/Web/lists/GetByTitle('Wards')/items")
    headers = {"Authorization": f"Bearer {token}", "Accept": accept}
    return requests.get(url, headers=headers, verify=str(emu.ca_file), timeout=10)


def test_a_client_secret_app_only_token_is_refused_as_sharepoint_online_does(emu: RunningEmulator) -> None:
    emu.login.register_app("app-secret", secret="dev-only-secret")
    token = msal_token(emu, "app-secret", "dev-only-secret", SP_SCOPE)

    response = get_wards(emu, token)

    assert claims(token)["appidacr"] == "1"
    assert response.status_code == 401
    assert response.json() == {"error_description": "Unsupported app only token."}
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="')
    assert 'client_id="00000003-0000-0ff1-ce00-000000000000"' in response.headers["WWW-Authenticate"]


def test_a_certificate_app_only_token_is_accepted(emu: RunningEmulator) -> None:
    certificate = make_client_certificate()
    emu.login.register_app("app-cert", certificate_pem=certificate.certificate_pem)
    credential = {"private_key": certificate.private_key_pem, "thumbprint": certificate.sha1_thumbprint}
    token = msal_token(emu, "app-cert", credential, SP_SCOPE)

    response = get_wards(emu, token)

    assert claims(token)["appidacr"] == "2"
    assert response.status_code == 200 and response.json()["d"]["results"][0]["Title"] == "North"


def test_power_bi_still_takes_a_secret_token_so_the_refusal_is_sharepoints_alone(
    emu: RunningEmulator,
) -> None:
    emu.login.register_app("app-secret", secret="dev-only-secret")
    token = msal_token(emu, "app-secret", "dev-only-secret", PBI_SCOPE)
    group = emu.powerbi.create_group("Community Engagement", members={"app-secret": "Contributor"})

    response = requests.get(emu.url("powerbi", f"/v1.0/myorg/groups/{group}/datasets"), timeout=10,
                            headers={"Authorization": f"Bearer {token}"}, verify=str(emu.ca_file))  # fmt: skip

    assert claims(token)["appidacr"] == "1" and response.status_code == 200


def test_a_refused_token_answers_in_sharepoints_oauth_style_whatever_the_metadata_level(
    emu: RunningEmulator,
) -> None:
    graph_token = emu.stack.tokens.issue(audience="https://graph.microsoft.com", client_id="x", tenant=TENANT)
    expired = emu.stack.tokens.issue(
        audience="https://contoso.sharepoint.com", client_id="x", tenant=TENANT, lifetime_seconds=-1
    )

    assert get_wards(emu, graph_token, NOMETADATA).json() == {
        "error_description": "Invalid issuer or signature."
    }
    assert get_wards(emu, expired).json() == {"error_description": "Invalid JWT token. The token is expired."}


# ---- thresholds: in process -------------------------------------------------------------------------


@pytest.fixture
def stack() -> EmulatorStack:
    return build_emulator(clock=ManualClock())


def token(stack: EmulatorStack) -> str:
    return stack.tokens.issue(audience="https://contoso.sharepoint.com", client_id="app", tenant=TENANT)


def get(stack: EmulatorStack, path: str, accept: str = VERBOSE) -> Response:
    headers = {"Authorization": f"Bearer {token(stack)}", "Accept": accept}
    return stack.emulator.handle("GET", f"/sharepoint/sites/Test/_api{path}", headers, b"", ORIGIN)


def body(response: Response) -> Any:
    return json.loads(response.body)


def wide_list(stack: EmulatorStack, lookups: int, *, items: int = 2) -> SpList:
    """A list with `lookups` lookup columns L1..Ln and a managed-metadata column, all filled."""
    store = stack.store
    site = store.create_site("/sites/Test", "Test")
    wards = store.create_list(site, "Wards", [])
    store.add_item(wards, {"Title": "North"})
    columns = [
        ListColumn(f"L{n}", f"Lookup {n}", "lookup", lookup_list="Wards") for n in range(1, lookups + 1)
    ]
    columns.append(ListColumn("Ward", "Ward", "term"))
    wide = store.create_list(site, "Wide", columns)
    values: dict[str, object] = {f"L{n}": Lookup(1, "North") for n in range(1, lookups + 1)}
    for number in range(items):
        store.add_item(wide, {**values, "Title": f"item {number}", "Ward": Term("North", "0e8f-guid", 3)})
    return wide


def items_path(
    select: list[str] | None = None, expand: list[str] | None = None, top: int | None = None
) -> str:
    query = [f"$select={','.join(select)}"] if select else []
    query += [f"$expand={','.join(expand)}"] if expand else []
    query += [f"$top={top}"] if top else []
    return "/Web/lists/GetByTitle('Wide')/items" + ("?" + "&".join(query) if query else "")


def test_a_default_read_counts_every_lookup_type_column_with_created_by_and_modified_by(
    stack: EmulatorStack,
) -> None:
    wide_list(stack, 10)  # 10 lookups + 1 term + Author + Editor = 13

    response = get(stack, items_path())

    assert response.status == 500
    assert body(response) == {"error": {"code": LOOKUP_ERROR, "message": {"lang": "en-US", "value": (
        "The query cannot be completed because the number of lookup columns it contains exceeds the lookup "
        "column threshold.")}}}  # fmt: skip


def test_the_json_light_error_shape_is_odata_error(stack: EmulatorStack) -> None:
    wide_list(stack, 10)

    response = get(stack, items_path(), NOMETADATA)

    assert response.status == 500 and body(response)["odata.error"]["code"] == LOOKUP_ERROR
    assert "error" not in body(response)


def test_twelve_lookup_type_columns_pass_and_the_thirteenth_is_refused(stack: EmulatorStack) -> None:
    wide_list(stack, 12)
    twelve = [f"L{n}Id" for n in range(1, 11)] + ["AuthorId", "Ward"]

    assert get(stack, items_path(twelve)).status == 200
    assert get(stack, items_path([*twelve, "L11Id"])).status == 500
    assert (
        get(stack, items_path([*twelve[:-1], "TaxCatchAll/Term", "L11/Title"], ["TaxCatchAll", "L11"])).status
        == 500
    )
    assert get(stack, items_path([*twelve[:-1], "TaxCatchAll/Term"], ["TaxCatchAll"])).status == 200


def test_a_lookup_read_by_id_and_by_expansion_counts_once(stack: EmulatorStack) -> None:
    wide_list(stack, 12)
    select = [f"L{n}Id" for n in range(1, 13)] + ["L1/Title"]

    assert get(stack, items_path(select, ["L1"])).status == 200


def test_the_threshold_does_not_apply_to_a_single_item(stack: EmulatorStack) -> None:
    wide_list(stack, 14)

    assert get(stack, "/Web/lists/GetByTitle('Wide')/items(1)").status == 200
    assert get(stack, items_path()).status == 500


def test_top_over_the_list_view_threshold_is_refused(stack: EmulatorStack) -> None:
    wide_list(stack, 1)

    refused = get(stack, items_path(top=5001))
    allowed = get(stack, items_path(top=5000))

    assert refused.status == 500
    assert body(refused)["error"] == {"code": VIEW_ERROR, "message": {"lang": "en-US", "value": (
        "The attempted operation is prohibited because it exceeds the list view threshold.")}}  # fmt: skip
    assert allowed.status == 200


def test_top_policy_large_lists_refuses_only_above_the_threshold() -> None:
    stack = build_emulator(clock=ManualClock(), options=EmulatorOptions(
        sharepoint_top_policy="large-lists", sharepoint_list_view_threshold=3))  # fmt: skip
    wide = wide_list(stack, 1, items=3)

    assert get(stack, items_path(top=10)).status == 200
    stack.store.add_item(wide, {"Title": "the fourth"})
    assert get(stack, items_path(top=10)).status == 500
    assert get(stack, items_path(top=3)).status == 200


def test_a_path_into_a_lookup_that_is_not_expanded_is_a_400(stack: EmulatorStack) -> None:
    wide_list(stack, 1)

    not_expanded = get(stack, items_path(["L1/Title"]))
    unknown_field = get(stack, items_path(["L1/Colour"], ["L1"]), NOMETADATA)
    not_a_lookup = get(stack, items_path(["Title/Id"], ["Title"]))

    assert not_expanded.status == 400
    assert "the $expand query string must contains L1" in body(not_expanded)["error"]["message"]["value"]
    assert unknown_field.status == 400
    assert (
        body(unknown_field)["odata.error"]["message"]["value"]
        == "The field or property 'Colour' does not exist."
    )
    assert not_a_lookup.status == 400


def test_the_next_link_carries_select_and_expand(stack: EmulatorStack) -> None:
    wide_list(stack, 1, items=3)

    first = body(get(stack, items_path(["Id", "L1/Title"], ["L1"], top=2)))["d"]
    second = stack.emulator.handle("GET", first["__next"].removeprefix(ORIGIN), {
        "Authorization": f"Bearer {token(stack)}", "Accept": VERBOSE}, b"", ORIGIN)  # fmt: skip

    assert [item["Id"] for item in body(second)["d"]["results"]] == [3]
    assert body(second)["d"]["results"][0]["L1"]["Title"] == "North"


def test_a_request_without_a_token_is_a_401_with_the_challenge(stack: EmulatorStack) -> None:
    wide_list(stack, 1)
    response = stack.emulator.handle("GET", "/sharepoint/sites/Test/_api/Web/lists/GetByTitle('Wide')/items",
                                     {"Accept": VERBOSE}, b"", ORIGIN)  # fmt: skip
    assert response.status == 401 and body(response)["error"]["code"].endswith("UnauthorizedAccessException")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="')


def test_a_delegated_token_is_not_refused_whatever_the_app_proved_itself_with(stack: EmulatorStack) -> None:
    wide_list(stack, 1)  # a user signed in through a confidential web app (secret): app + user, not app-only
    delegated = stack.tokens.issue(audience="https://contoso.sharepoint.com", client_id="app", tenant=TENANT,
                                   extra={"scp": "AllSites.Read", "appidacr": "1", "idtyp": "user"})  # fmt: skip
    response = stack.emulator.handle("GET", "/sharepoint/sites/Test/_api/Web/lists/GetByTitle('Wide')/items",
                                     {"Authorization": f"Bearer {delegated}", "Accept": VERBOSE}, b"", ORIGIN)  # fmt: skip
    assert response.status == 200
