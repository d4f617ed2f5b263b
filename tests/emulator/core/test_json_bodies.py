"""One JSON body parser for every route, with a depth cap: deep nesting is a 400 in each service's shape."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from emulator.build import EmulatorStack, build_emulator
from emulator.core.http import MAX_JSON_DEPTH, JsonBodyError, JsonTooDeep, parse_json
from emulator.core.server import start_server
from emulator.core.tokens import GRAPH_AUDIENCE, POWERBI_AUDIENCE
from emulator.login.assertion import ASSERTION_TYPE

ORIGIN = "http://127.0.0.1:8765"
APP_ROLES = {"roles": ["Sites.ReadWrite.All"]}  # an app token with the permission a sync asks for
DEEP = b"[" * 100_000 + b"]" * 100_000  # RecursionError in json.loads
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
JSON = "application/json"


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def call(stack: EmulatorStack, method: str, target: str, body: bytes, audience: str | None = None,
         content_type: str = JSON) -> tuple[int, Any]:  # fmt: skip
    headers = {"Content-Type": content_type}
    if audience:
        token = stack.tokens.issue(audience=audience, client_id="app", tenant="t", extra=APP_ROLES)
        headers["Authorization"] = f"Bearer {token}"
    response = stack.emulator.handle(method, target, headers, body, ORIGIN)
    return response.status, json.loads(response.body)


# the parser ---------------------------------------------------------------------------------------


def test_the_cap_is_exact() -> None:
    assert parse_json(nested(MAX_JSON_DEPTH)) is not None
    with pytest.raises(JsonTooDeep):
        parse_json(nested(MAX_JSON_DEPTH + 1))


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT, b"[" * 100_000, b"[" * 100_000 + b"}" * 100_000])
def test_deep_or_unbalanced_nesting_is_a_value_error_not_a_recursion_error(body: bytes) -> None:
    with pytest.raises(JsonBodyError):
        parse_json(body)


def test_shallow_but_unbalanced_brackets_are_invalid_json_not_too_deep() -> None:
    with pytest.raises(JsonBodyError) as caught:
        parse_json(b"[" + b"[]," * MAX_JSON_DEPTH + b"[}]")
    assert not isinstance(caught.value, JsonTooDeep)  # the handler words "not JSON" itself


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 500 + '\\"{' * 500, "list": [[["ok"]]]}).encode()
    assert parse_json(text)["list"] == [[["ok"]]]


def test_bad_encoding_and_bad_syntax_are_value_errors() -> None:
    for body in (b'{"a": "\xff"}', b"{", b'{"a": 1,}'):
        with pytest.raises(ValueError):
            parse_json(body)


def test_utf16_json_is_read_as_json_loads_would() -> None:
    assert parse_json('{"a": [1]}'.encode("utf-16")) == {"a": [1]}


# each service ---------------------------------------------------------------------------------------


@pytest.fixture
def graph_items(stack: EmulatorStack) -> str:
    site = stack.store.create_site("/sites/Neighbourhood", "Neighbourhood")
    events = stack.store.create_list(site, "Events", [])
    return f"/graph/v1.0/sites/{site.id}/lists/{events.id}/items"


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT])
def test_graph_item_create_answers_400_in_graphs_shape(
    stack: EmulatorStack, graph_items: str, body: bytes
) -> None:
    status, answer = call(stack, "POST", graph_items, body, GRAPH_AUDIENCE)
    assert status == 400
    assert answer["error"]["code"] == "BadRequest" and "innerError" in answer["error"]
    assert (
        stack.store.items(stack.store.get_list(stack.store.site_by_path("/sites/Neighbourhood"), "Events"))
        == []
    )


def test_graph_batch_answers_400_in_graphs_shape(stack: EmulatorStack) -> None:
    body = b'{"requests": ' + DEEP + b"}"
    status, answer = call(stack, "POST", "/graph/v1.0/$batch", body, GRAPH_AUDIENCE)
    assert status == 400 and answer["error"]["code"] == "BadRequest" and "innerError" in answer["error"]


def test_graph_batch_sub_request_body_cannot_nest_past_the_cap(
    stack: EmulatorStack, graph_items: str
) -> None:
    inner = json.loads(nested(MAX_JSON_DEPTH - 4))  # the envelope adds four levels
    entry = {"id": "1", "method": "POST", "url": graph_items.removeprefix("/graph/v1.0"),
             "headers": {"Content-Type": JSON}, "body": {"fields": inner}}  # fmt: skip
    status, answer = call(stack, "POST", "/graph/v1.0/$batch", json.dumps({"requests": [entry]}).encode(),
                          GRAPH_AUDIENCE)  # fmt: skip
    assert status == 200 and answer["responses"][0]["status"] == 400  # a list is no field value


def test_powerbi_answers_400_in_its_own_shape(stack: EmulatorStack) -> None:
    group = stack.powerbi.create_group("Community Engagement")
    status, answer = call(
        stack, "POST", f"/powerbi/v1.0/myorg/groups/{group}/datasets", DEEP, POWERBI_AUDIENCE
    )
    assert status == 400
    assert set(answer) == {"error"} and answer["error"]["code"] == "InvalidRequest"
    assert stack.powerbi.datasets(group) == []


def test_sharepoint_answers_400_in_its_own_shape(stack: EmulatorStack) -> None:
    stack.store.create_site("/sites/Neighbourhood", "Neighbourhood")
    status, answer = call(stack, "POST", "/sharepoint/sites/Neighbourhood/_api/contextinfo", DEEP,
                          "https://contoso.sharepoint.com", content_type="application/json;odata=verbose")  # fmt: skip
    assert status == 400
    assert answer["error"]["code"].startswith("-1, ") and answer["error"]["message"]["lang"] == "en-US"


def test_sign_in_refuses_an_assertion_whose_header_nests_too_deep(stack: EmulatorStack) -> None:
    stack.login.register_app("app", certificate_pem=_any_certificate())
    header = base64.urlsafe_b64encode(DEEP).rstrip(b"=").decode()
    form = {"client_id": "app", "grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": f"{header}.e30.c2ln"}  # fmt: skip
    status, answer = call(stack, "POST", "/login/contoso/oauth2/v2.0/token", urlencode(form).encode(),
                          content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert status in (400, 401) and answer["error_description"].startswith("AADSTS50027:")


@pytest.mark.parametrize("header", [b"[1]", b'"text"', b"12"])
def test_sign_in_refuses_an_assertion_whose_header_is_not_an_object(
    stack: EmulatorStack, header: bytes
) -> None:
    stack.login.register_app("app", certificate_pem=_any_certificate())
    encoded = base64.urlsafe_b64encode(header).rstrip(b"=").decode()
    form = {"client_id": "app", "grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default",
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": f"{encoded}.e30.c2ln"}  # fmt: skip
    status, answer = call(stack, "POST", "/login/contoso/oauth2/v2.0/token", urlencode(form).encode(),
                          content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert status in (400, 401) and answer["error_description"].startswith("AADSTS50027:")


def test_over_a_socket_the_answer_is_a_400_not_a_dropped_connection() -> None:
    stack = build_emulator(options=None)
    group = stack.powerbi.create_group("Community Engagement")
    token = stack.tokens.issue(audience=POWERBI_AUDIENCE, client_id="app", tenant="t")
    with start_server(stack.emulator) as server:
        answer = requests.post(
            f"{server.base_url}/powerbi/v1.0/myorg/groups/{group}/datasets", data=DEEP, timeout=30,
            headers={"Authorization": f"Bearer {token}", "Content-Type": JSON},
        )  # fmt: skip
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidRequest"


def _any_certificate() -> str:
    from emulator.core.certs import make_client_certificate

    return make_client_certificate().certificate_pem
