"""raise_for_error: every Microsoft error shape becomes the right errors.py type with code and request id.

Bodies are the documented ones (microsoft-apis.md §1.6, §2.7, §3, §5.1). `responses` serves them: a real
socket adds nothing to parsing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from connectors.http import parse_error_body, raise_for_error
from errors import (
    AuthError,
    ConnectorError,
    NotFoundError,
    ResyncRequiredError,
    ThrottledError,
)

GRAPH = "https://graph.microsoft.com/v1.0/sites/contoso.sharepoint.com,1,2/lists/Events/items"
PBI = "https://api.powerbi.com/v1.0/myorg/groups/g1/datasets/d1"
SP = "https://contoso.sharepoint.com/sites/x/_api/Web/lists/GetByTitle('Events')/items"
TOKEN_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def answer(
    http: responses.RequestsMock,
    method: str,
    url: str,
    status: int,
    body: Any = None,
    *,
    text: str | None = None,
    headers: dict[str, str] | None = None,
    **request: Any,
) -> requests.Response:
    if text is not None:
        http.add(method, url, status=status, body=text, headers=headers, content_type="text/html")
    else:
        http.add(method, url, status=status, json=body, headers=headers)
    return requests.request(method, url, timeout=5, **request)


def graph_error(code: str, message: str, request_id: str = "7f0c-graph") -> dict[str, Any]:
    inner = {"date": "2026-11-02T09:00:00", "request-id": request_id, "client-request-id": "c-1"}
    return {"error": {"code": code, "message": message, "innerError": inner}}


def test_a_successful_answer_passes_through(http: responses.RequestsMock) -> None:
    response = answer(http, "GET", GRAPH, 200, {"value": []})
    assert raise_for_error(response) is response


def test_graph_404_names_the_request_code_message_and_request_id(http: responses.RequestsMock) -> None:
    response = answer(
        http, "GET", GRAPH, 404, graph_error("itemNotFound", "The resource could not be found.")
    )

    with pytest.raises(NotFoundError) as caught:
        raise_for_error(response)

    error = caught.value
    assert (error.status, error.service_code, error.request_id) == (404, "itemNotFound", "7f0c-graph")
    assert str(error) == (
        f"GET {GRAPH} failed: HTTP 404 itemNotFound: The resource could not be found. (request id 7f0c-graph)"
    )


def test_graph_403_is_an_auth_error_with_the_permission_hint(http: responses.RequestsMock) -> None:
    response = answer(http, "GET", GRAPH, 403, graph_error("accessDenied", "Access denied"))

    with pytest.raises(AuthError) as caught:
        raise_for_error(response)

    assert caught.value.status == 403 and caught.value.service_code == "accessDenied"
    assert "Sites.Selected" in caught.value.hint and "Contributor" in caught.value.hint


def test_power_bi_details_shape_takes_the_request_id_header(http: responses.RequestsMock) -> None:
    body = {
        "error": {
            "code": "BadRequest",
            "message": "Bad Request",
            "details": [
                {"message": "The property 'Colour' does not exist on type 'Table'.", "target": "dataset"}
            ],
        }
    }
    response = answer(http, "GET", PBI, 400, body, headers={"RequestId": "pbi-req-1"})

    with pytest.raises(ConnectorError) as caught:
        raise_for_error(response)

    assert type(caught.value) is ConnectorError
    assert (caught.value.service_code, caught.value.request_id) == ("BadRequest", "pbi-req-1")


def test_power_bi_pbi_error_shape(http: responses.RequestsMock) -> None:
    body = {
        "error": {
            "code": "PowerBIEntityNotFound",
            "pbi.error": {
                "code": "PowerBIEntityNotFound",
                "parameters": {},
                "details": [],
                "exceptionCulprit": 1,
            },
        }
    }
    response = answer(http, "GET", PBI, 404, body, headers={"RequestId": "pbi-req-2"})

    with pytest.raises(NotFoundError) as caught:
        raise_for_error(response)

    assert (caught.value.service_code, caught.value.request_id) == ("PowerBIEntityNotFound", "pbi-req-2")
    assert str(caught.value) == f"GET {PBI} failed: HTTP 404 PowerBIEntityNotFound (request id pbi-req-2)"


def test_power_bi_code_only_inside_pbi_error(http: responses.RequestsMock) -> None:
    response = answer(http, "GET", PBI, 404, {"error": {"pbi.error": {"code": "ItemNotFound"}}})
    assert parse_error_body(response).code == "ItemNotFound"


def test_power_bi_token_expired_is_an_auth_error(http: responses.RequestsMock) -> None:
    body = {
        "error": {
            "code": "TokenExpired",
            "message": "Access token has expired, resubmit with a new access token",
        }
    }
    response = answer(http, "GET", PBI, 403, body, headers={"RequestId": "r"})

    with pytest.raises(AuthError) as caught:
        raise_for_error(response)

    assert caught.value.service_code == "TokenExpired"
    assert "Access token has expired" in str(caught.value)


def test_power_bi_throttling_body_and_a_long_retry_after(http: responses.RequestsMock) -> None:
    message = (
        "You have exceeded the amount of requests allowed in the current time frame and further requests "
        "will fail. Retry in 3392 seconds."
    )
    response = answer(
        http, "POST", f"{PBI}/tables/T/rows", 429, {"message": message}, headers={"Retry-After": "3392"}
    )

    with pytest.raises(ThrottledError) as caught:
        raise_for_error(response)

    assert caught.value.retry_after_seconds == 3392.0
    assert "Retry in 3392 seconds" in str(caught.value)  # a 429 describes the rate, never the rows


def test_sharepoint_odata_error_with_a_language_tagged_message(http: responses.RequestsMock) -> None:
    body = {
        "error": {
            "code": "-1, System.ArgumentException",
            "message": {
                "lang": "en-US",
                "value": "List 'Events' does not exist at site with URL 'https://x'.",
            },
        }
    }
    response = answer(
        http, "GET", SP, 404, body, headers={"SPRequestGuid": "sp-guid", "request-id": "sp-guid"}
    )

    with pytest.raises(NotFoundError) as caught:
        raise_for_error(response)

    assert caught.value.service_code == "-1, System.ArgumentException"
    assert caught.value.request_id == "sp-guid"
    assert "List 'Events' does not exist" in str(caught.value)


def test_oauth_error_keeps_the_aadsts_code_and_drops_the_description(http: responses.RequestsMock) -> None:
    body = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: t Correlation ID: c",
        "error_codes": [7000215],
        "correlation_id": "corr-1",
        "trace_id": "trace-1",
    }
    response = answer(http, "POST", TOKEN_URL, 401, body)

    with pytest.raises(AuthError) as caught:
        raise_for_error(response)

    assert caught.value.service_code == "invalid_client (AADSTS7000215)"
    assert caught.value.request_id == "corr-1"
    assert "Invalid client secret" not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "text"),
    [(502, "<html><body><h1>502 Bad Gateway</h1>proxy</body></html>"), (500, ""), (403, "{not json")],
)
def test_bodies_that_are_not_json_do_not_crash(http: responses.RequestsMock, status: int, text: str) -> None:
    response = answer(http, "GET", GRAPH, status, text=text)

    with pytest.raises(ConnectorError) as caught:
        raise_for_error(response)

    assert caught.value.status == status and caught.value.service_code is None
    assert str(caught.value) == f"GET {GRAPH} failed: HTTP {status}"


@pytest.mark.parametrize("body", [["a", "list"], "a string", 42, {"error": 7}])
def test_json_of_another_shape_gives_no_code(http: responses.RequestsMock, body: Any) -> None:
    response = answer(http, "GET", GRAPH, 500, body)
    assert parse_error_body(response).code is None


def test_gone_carries_graphs_restart_location(http: responses.RequestsMock) -> None:
    restart = f"{GRAPH}/delta?token=fresh"
    body = graph_error("resyncChangesApplyDifferences", "Resync required.")
    response = answer(http, "GET", f"{GRAPH}/delta?token=old", 410, body, headers={"Location": restart})

    with pytest.raises(ResyncRequiredError) as caught:
        raise_for_error(response)

    assert caught.value.restart_url == restart
    assert "token=***" in str(caught.value) and "token=old" not in str(caught.value)


def test_a_rejected_write_does_not_echo_the_service_message(http: responses.RequestsMock) -> None:
    body = {
        "error": {
            "code": "InvalidRequest",
            "message": "Value 'Jane Doe, 07700 900123' is not valid for column 'n'",
        }
    }
    response = answer(http, "POST", f"{PBI}/tables/T/rows", 400, body, json={"rows": [{"n": "Jane Doe"}]})

    with pytest.raises(ConnectorError) as caught:
        raise_for_error(response)

    assert "Jane Doe" not in str(caught.value) and "07700" not in str(caught.value)
    assert caught.value.service_code == "InvalidRequest"


def test_a_5xx_on_a_write_says_it_may_have_been_applied(http: responses.RequestsMock) -> None:
    response = answer(http, "POST", f"{PBI}/tables/T/rows", 500, {"error": {"code": "InternalError"}})

    with pytest.raises(ConnectorError) as caught:
        raise_for_error(response)

    assert "may have applied it" in caught.value.hint


def test_a_503_on_a_read_is_throttled_without_a_wait(http: responses.RequestsMock) -> None:
    response = answer(http, "GET", GRAPH, 503, graph_error("serviceNotAvailable", "Busy"))

    with pytest.raises(ThrottledError) as caught:
        raise_for_error(response)

    assert caught.value.retry_after_seconds is None and "may have applied" not in caught.value.hint


def test_an_http_date_retry_after_is_counted_from_now(http: responses.RequestsMock) -> None:
    response = answer(http, "GET", GRAPH, 429, {}, headers={"Retry-After": "Mon, 02 Nov 2026 09:01:30 GMT"})

    with pytest.raises(ThrottledError) as caught:
        raise_for_error(response, now=1793610000.0)  # 2026-11-02T09:00:00Z

    assert caught.value.retry_after_seconds == 90.0


def test_an_echoed_token_never_reaches_the_message(http: responses.RequestsMock) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJ4In0.c2lnbmF0dXJl"
    body = graph_error("InvalidAuthenticationToken", f"Token {token} rejected; Authorization: Bearer {token}")
    response = answer(http, "GET", GRAPH, 401, body, headers={"Authorization-Echo": "x"}, auth=_Bearer(token))

    with pytest.raises(AuthError) as caught:
        raise_for_error(response)

    assert token not in str(caught.value) and token not in repr(caught.value)
    assert "***" in str(caught.value)


def test_any_jwt_in_a_service_message_is_masked(http: responses.RequestsMock) -> None:
    stranger = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJzb21lb25lIn0.c2ln"  # not our token: the request carried none
    response = answer(
        http, "GET", GRAPH, 401, graph_error("InvalidAuthenticationToken", f"Token {stranger} is invalid")
    )

    with pytest.raises(AuthError) as caught:
        raise_for_error(response)

    assert stranger not in str(caught.value) and "Token *** is invalid" in str(caught.value)


def test_credentials_in_the_url_are_masked(http: responses.RequestsMock) -> None:
    url = "https://user:pa55@api.example/v1/items?code=abc123&sig=s1gn&$top=5&access_token=t0k"
    response = answer(http, "GET", url, 404, {})

    with pytest.raises(NotFoundError) as caught:
        raise_for_error(response)

    text = str(caught.value)
    assert "https://***@api.example/v1/items?code=***&sig=***&$top=5&access_token=***" in text
    assert all(value not in text for value in ("pa55", "abc123", "s1gn", "t0k"))


class _Bearer(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


def test_sharepoints_token_refusal_keeps_its_text_but_an_oauth_description_stays_hidden(
    http: responses.RequestsMock,
) -> None:
    refused = answer(http, "GET", SP, 401, {"error_description": "Unsupported app only token."})
    oauth = answer(http, "POST", TOKEN_URL, 401, {"error": "invalid_client",
                   "error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: 1"})  # fmt: skip

    with pytest.raises(AuthError) as sharepoint:
        raise_for_error(refused)
    with pytest.raises(AuthError) as entra:
        raise_for_error(oauth)

    assert "HTTP 401: Unsupported app only token." in str(sharepoint.value)
    assert sharepoint.value.service_code is None
    assert "Invalid client secret" not in str(entra.value) and "AADSTS7000215" in str(entra.value)
