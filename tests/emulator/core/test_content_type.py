"""JSON writes need a JSON Content-Type: a `text/plain` POST (what a web page can send without asking, CSRF)
is refused in each service's own shape; sign-in keeps its form-encoded contract."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from emulator.build import EmulatorStack
from emulator.core.tokens import GRAPH_AUDIENCE, POWERBI_AUDIENCE

ORIGIN = "http://127.0.0.1:8765"
APP_ROLES = {"roles": ["Sites.ReadWrite.All"]}  # an app token with the permission a sync asks for
SHAREPOINT_AUDIENCE = "https://contoso.sharepoint.com"
CSRF_TYPES = ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]  # fmt: skip
ITEM = json.dumps({"fields": {"Title": "Planted"}}).encode()


def call(stack: EmulatorStack, method: str, target: str, body: bytes, content_type: str | None,
         audience: str | None) -> tuple[int, Any]:  # fmt: skip
    headers = {} if content_type is None else {"Content-Type": content_type}
    if audience is not None:
        headers["Authorization"] = "Bearer " + stack.tokens.issue(
            audience=audience, client_id="app", tenant="t", extra=APP_ROLES
        )
    response = stack.emulator.handle(method, target, headers, body, ORIGIN)
    return response.status, json.loads(response.body) if response.body else None


@pytest.fixture
def items(stack: EmulatorStack) -> str:
    site = stack.store.create_site("/sites/Neighbourhood", "Neighbourhood")
    stack.store.create_list(site, "Events", [])
    events = stack.store.get_list(site, "Events")
    stack.store.add_item(events, {"Title": "Existing"})
    return f"/graph/v1.0/sites/{site.id}/lists/{events.id}/items"


def titles(stack: EmulatorStack) -> list[str]:
    events = stack.store.get_list(stack.store.site_by_path("/sites/Neighbourhood"), "Events")
    return [item.fields["Title"] for item in stack.store.items(events)]


# Graph -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", CSRF_TYPES)
def test_graph_refuses_a_non_json_write_with_415(stack: EmulatorStack, items: str, content_type: str) -> None:
    status, answer = call(stack, "POST", items, ITEM, content_type, GRAPH_AUDIENCE)
    assert status == 415
    assert answer["error"]["code"] == "RequestBodyRead" and "innerError" in answer["error"]
    assert titles(stack) == ["Existing"]


def test_graph_refuses_a_write_without_content_type_as_graph_does(stack: EmulatorStack, items: str) -> None:
    status, answer = call(stack, "POST", items, ITEM, None, GRAPH_AUDIENCE)
    assert status == 400 and answer["error"]["code"] == "BadRequest"
    assert (
        answer["error"]["message"]
        == "Write requests (excluding DELETE) must contain the Content-Type header declaration."
    )
    assert titles(stack) == ["Existing"]


def test_graph_refuses_a_text_plain_patch_and_batch(stack: EmulatorStack, items: str) -> None:
    patch = json.dumps({"Title": "Changed"}).encode()
    assert call(stack, "PATCH", items + "/1/fields", patch, "text/plain", GRAPH_AUDIENCE)[0] == 415
    batch = json.dumps({"requests": [{"id": "1", "method": "GET", "url": "/sites/root"}]}).encode()
    assert call(stack, "POST", "/graph/v1.0/$batch", batch, "text/plain", GRAPH_AUDIENCE)[0] == 415
    assert titles(stack) == ["Existing"]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_graph_takes_json_with_parameters_and_any_case(
    stack: EmulatorStack, items: str, content_type: str
) -> None:
    status, _answer = call(stack, "POST", items, ITEM, content_type, GRAPH_AUDIENCE)
    assert status == 201 and titles(stack) == ["Existing", "Planted"]


def test_graph_reads_and_deletes_need_no_content_type(stack: EmulatorStack, items: str) -> None:
    assert call(stack, "GET", items, b"", None, GRAPH_AUDIENCE)[0] == 200
    assert call(stack, "DELETE", items + "/1", b"", None, GRAPH_AUDIENCE)[0] == 204


# SharePoint REST ---------------------------------------------------------------------------------------------

CONTEXTINFO = "/sharepoint/sites/Neighbourhood/_api/contextinfo"


@pytest.mark.parametrize("content_type", CSRF_TYPES)
def test_sharepoint_refuses_a_non_json_post_with_415(
    stack: EmulatorStack, items: str, content_type: str
) -> None:
    status, answer = call(stack, "POST", CONTEXTINFO, b"{}", content_type, SHAREPOINT_AUDIENCE)
    assert status == 415
    assert answer["error"]["message"] == {"lang": "en-US", "value": "The HTTP header Content-Type is missing or its value is invalid."}  # fmt: skip


def test_sharepoint_refuses_a_body_without_content_type(stack: EmulatorStack, items: str) -> None:
    assert call(stack, "POST", CONTEXTINFO, b"{}", None, SHAREPOINT_AUDIENCE)[0] == 415


@pytest.mark.parametrize("content_type", ["application/json;odata=verbose", "application/json", None])
def test_sharepoint_contextinfo_takes_verbose_json_or_no_body(stack: EmulatorStack, items: str,
                                                              content_type: str | None) -> None:  # fmt: skip
    status, answer = call(stack, "POST", CONTEXTINFO, b"", content_type, SHAREPOINT_AUDIENCE)
    assert status == 200 and "FormDigestValue" in answer["d"]["GetContextWebInformation"]


# Power BI ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", CSRF_TYPES)
def test_powerbi_refuses_a_non_json_write_with_415(stack: EmulatorStack, content_type: str) -> None:
    group = stack.powerbi.create_group("Community Engagement")
    dataset = json.dumps(
        {"name": "CCR", "tables": [{"name": "T", "columns": [{"name": "n", "dataType": "Int64"}]}]}
    )
    target = f"/powerbi/v1.0/myorg/groups/{group}/datasets"
    status, answer = call(stack, "POST", target, dataset.encode(), content_type, POWERBI_AUDIENCE)
    assert status == 415 and set(answer) == {"error"} and answer["error"]["code"] == "UnsupportedMediaType"
    assert stack.powerbi.datasets(group) == []


def test_powerbi_refuses_a_body_without_content_type(stack: EmulatorStack) -> None:
    group = stack.powerbi.create_group("Community Engagement")
    target = f"/powerbi/v1.0/myorg/groups/{group}/datasets"
    assert call(stack, "POST", target, b'{"name": "CCR", "tables": []}', None, POWERBI_AUDIENCE)[0] == 415
    assert stack.powerbi.datasets(group) == []


# sign-in -----------------------------------------------------------------------------------------------------


def test_sign_in_keeps_its_form_encoded_contract(stack: EmulatorStack) -> None:
    stack.login.register_app("app", secret="dev-only")
    form = {"client_id": "app", "client_secret": "dev-only", "grant_type": "client_credentials",
            "scope": "https://graph.microsoft.com/.default"}  # fmt: skip
    status, answer = call(stack, "POST", "/login/contoso/oauth2/v2.0/token", urlencode(form).encode(),
                          "application/x-www-form-urlencoded", None)  # fmt: skip
    assert status == 200 and answer["token_type"] == "Bearer"
