"""Graph's application permissions: roles in the token, Sites.Selected with per-site grants (S10), refusals."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from emulator.build import EmulatorStack, build_emulator
from emulator.core.clock import ManualClock
from emulator.core.tokens import GRAPH_AUDIENCE, POWERBI_AUDIENCE
from emulator.graph.access import NO_ROLES_MESSAGE
from emulator.lists.store import Site, SpList

ORIGIN = "https://127.0.0.1:8443"
APP = "cetk-app"


class Tenant:
    """Two sites with one list each, and tokens for an app with whatever roles a test gives it."""

    def __init__(self) -> None:
        self.stack: EmulatorStack = build_emulator(clock=ManualClock())
        store = self.stack.store
        self.granted: Site = store.create_site("/sites/Neighbourhood", "Neighbourhood")
        self.other: Site = store.create_site("/sites/HR", "HR")
        self.lists: dict[str, SpList] = {}
        for site in (self.granted, self.other):
            self.lists[site.id] = store.create_list(site, "Items", [])
            store.add_item(self.lists[site.id], {"Title": "one"})

    def token(self, *roles: str, extra: dict[str, Any] | None = None) -> str:
        return self.stack.tokens.issue(
            audience=GRAPH_AUDIENCE, client_id=APP, tenant="t", roles=roles, extra=extra
        )

    def call(self, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        raw = json.dumps(body).encode() if body is not None else b""
        response = self.stack.emulator.handle(method, f"/graph/v1.0{path}", headers, raw, ORIGIN)
        return response.status, json.loads(response.body) if response.body else None

    def items(self, site: Site) -> str:
        return f"/sites/{site.id}/lists/{self.lists[site.id].id}/items"


@pytest.fixture
def tenant() -> Tenant:
    return Tenant()


def test_a_token_without_roles_or_scp_is_refused(tenant: Tenant) -> None:
    status, body = tenant.call(tenant.token(), "GET", f"/sites/{tenant.granted.id}")
    assert status == 401
    assert body["error"]["code"] == "AccessDenied" and body["error"]["message"] == NO_ROLES_MESSAGE


def test_sites_selected_without_a_grant_is_denied_with_graphs_error_body(tenant: Tenant) -> None:
    status, body = tenant.call(tenant.token("Sites.Selected"), "GET", f"/sites/{tenant.granted.id}")
    assert status == 403
    assert body["error"]["code"] == "accessDenied" and body["error"]["message"] == "Access denied"
    assert set(body["error"]["innerError"]) == {"request-id", "date", "client-request-id"}


def test_s10_a_read_grant_reads_one_site_and_nothing_else(tenant: Tenant) -> None:
    tenant.stack.store.grants.grant(tenant.granted.id, APP, ["read"])
    token = tenant.token("Sites.Selected")

    assert tenant.call(token, "GET", "/sites/contoso.sharepoint.com:/sites/Neighbourhood")[0] == 200
    status, page = tenant.call(token, "GET", tenant.items(tenant.granted) + "?$expand=fields")
    assert status == 200 and len(page["value"]) == 1
    assert tenant.call(token, "GET", f"/sites/{tenant.other.id}")[0] == 403
    assert tenant.call(token, "GET", tenant.items(tenant.other))[0] == 403
    created = tenant.call(token, "POST", tenant.items(tenant.granted), {"fields": {"Title": "two"}})
    assert created[0] == 403 and created[1]["error"]["code"] == "accessDenied"
    assert tenant.call(token, "PATCH", tenant.items(tenant.granted) + "/1/fields", {"Title": "x"})[0] == 403
    assert tenant.call(token, "DELETE", tenant.items(tenant.granted) + "/1")[0] == 403
    assert len(tenant.stack.store.items(tenant.lists[tenant.granted.id])) == 1  # nothing written


def test_a_write_grant_writes_on_its_site_only(tenant: Tenant) -> None:
    tenant.stack.store.grants.grant(tenant.granted.id, APP, ["write"])
    token = tenant.token("Sites.Selected")

    assert tenant.call(token, "POST", tenant.items(tenant.granted), {"fields": {"Title": "two"}})[0] == 201
    assert tenant.call(token, "POST", tenant.items(tenant.other), {"fields": {"Title": "two"}})[0] == 403


def test_another_apps_grant_does_not_count(tenant: Tenant) -> None:
    tenant.stack.store.grants.grant(tenant.granted.id, "someone-else", ["write"])
    assert tenant.call(tenant.token("Sites.Selected"), "GET", f"/sites/{tenant.granted.id}")[0] == 403


def test_tenant_wide_roles_read_everywhere_and_write_only_with_readwrite(tenant: Tenant) -> None:
    reader, writer = tenant.token("Sites.Read.All"), tenant.token("Sites.ReadWrite.All")
    assert tenant.call(reader, "GET", tenant.items(tenant.other))[0] == 200
    assert tenant.call(reader, "POST", tenant.items(tenant.other), {"fields": {"Title": "x"}})[0] == 403
    assert tenant.call(writer, "POST", tenant.items(tenant.other), {"fields": {"Title": "x"}})[0] == 201
    assert tenant.call(tenant.token("User.Read.All"), "GET", tenant.items(tenant.other))[0] == 403


def test_a_delegated_token_is_not_held_to_app_roles(tenant: Tenant) -> None:
    user = tenant.token(extra={"scp": "Sites.Read.All", "idtyp": "user"})
    assert tenant.call(user, "GET", tenant.items(tenant.other))[0] == 200


def test_batch_sub_requests_are_held_to_the_grant_one_by_one(tenant: Tenant) -> None:
    tenant.stack.store.grants.grant(tenant.granted.id, APP, ["read"])
    requests = [
        {"id": "1", "method": "GET", "url": tenant.items(tenant.granted)},
        {"id": "2", "method": "POST", "url": tenant.items(tenant.granted), "body": {"fields": {"Title": "x"}},
         "headers": {"Content-Type": "application/json"}},
        {"id": "3", "method": "GET", "url": tenant.items(tenant.other)},
    ]  # fmt: skip
    status, body = tenant.call(tenant.token("Sites.Selected"), "POST", "/$batch", {"requests": requests})
    assert status == 200
    assert {answer["id"]: answer["status"] for answer in body["responses"]} == {"1": 200, "2": 403, "3": 403}


def test_an_admin_grants_a_site_through_permissions_and_the_app_can_read_it(tenant: Tenant) -> None:
    admin = tenant.token("Sites.FullControl.All")
    grant = {"roles": ["read"], "grantedToIdentities": [{"application": {"id": APP, "displayName": "cetk"}}]}
    path = f"/sites/{tenant.granted.id}/permissions"
    app = tenant.token("Sites.Selected")
    assert tenant.call(app, "GET", f"/sites/{tenant.granted.id}")[0] == 403

    status, created = tenant.call(admin, "POST", path, grant)

    assert status == 201 and created["roles"] == ["read"]
    assert created["grantedToIdentitiesV2"] == [{"application": {"id": APP, "displayName": "cetk"}}]
    assert tenant.call(admin, "GET", path)[1]["value"] == [created]
    assert tenant.call(app, "GET", f"/sites/{tenant.granted.id}")[0] == 200
    assert tenant.call(app, "GET", f"/sites/{tenant.other.id}")[0] == 403


@pytest.mark.parametrize(
    "body",
    [
        {"roles": ["owner-of-everything"], "grantedToIdentities": [{"application": {"id": APP}}]},
        {"roles": [], "grantedToIdentities": [{"application": {"id": APP}}]},
        {"roles": ["read"], "grantedToIdentities": [{"user": {"id": "someone"}}]},
        {"roles": ["read"]},
    ],
    ids=["unknown-role", "no-role", "a-user", "nobody"],
)
def test_permissions_refuse_bad_grants(tenant: Tenant, body: dict[str, Any]) -> None:
    path = f"/sites/{tenant.granted.id}/permissions"
    status, answer = tenant.call(tenant.token("Sites.FullControl.All"), "POST", path, body)
    assert status == 400 and answer["error"]["code"] == "invalidRequest"
    assert tenant.stack.store.grants.of_site(tenant.granted.id) == []


def test_permissions_need_full_control(tenant: Tenant) -> None:
    path = f"/sites/{tenant.granted.id}/permissions"
    grant = {"roles": ["write"], "grantedToIdentities": [{"application": {"id": APP}}]}
    assert tenant.call(tenant.token("Sites.ReadWrite.All"), "POST", path, grant)[0] == 403
    tenant.stack.store.grants.grant(tenant.granted.id, APP, ["read"])
    assert tenant.call(tenant.token("Sites.Selected"), "GET", path)[0] == 403
    assert tenant.stack.store.grants.roles(tenant.granted.id, APP) == {"read"}


def test_sign_in_puts_the_apps_roles_for_the_resource_in_the_token() -> None:
    stack = build_emulator(clock=ManualClock())
    stack.login.register_app(APP, secret="s", roles={"graph": ["Sites.Selected"]})
    stack.login.register_app("bare", secret="s")

    def claims(client_id: str, scope: str) -> dict[str, Any]:
        form = {
            "client_id": client_id,
            "client_secret": "s",
            "grant_type": "client_credentials",
            "scope": scope,
        }
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = stack.emulator.handle(
            "POST", "/login/t/oauth2/v2.0/token", headers, urlencode(form).encode(), ORIGIN
        )
        token = json.loads(answer.body)["access_token"]
        verdict = stack.tokens.verify(
            f"Bearer {token}", POWERBI_AUDIENCE if "analysis" in scope else GRAPH_AUDIENCE
        )
        assert not isinstance(verdict, str)
        return verdict.raw

    assert claims(APP, "https://graph.microsoft.com/.default")["roles"] == ["Sites.Selected"]
    assert "roles" not in claims(APP, "https://analysis.windows.net/powerbi/api/.default")
    assert "roles" not in claims("bare", "https://graph.microsoft.com/.default")
    with pytest.raises(ValueError, match="per resource"):
        stack.login.register_app("typo", secret="s", roles={"grpah": ["Sites.Selected"]})
