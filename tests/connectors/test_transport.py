"""The session itself: User-Agent, a token asked for per request, timeouts, CA bundle, redirects, transport errors."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any

import pytest
import requests
import responses
from responses import registries

from connectors.http import DEFAULT_TIMEOUT, RetryPolicy, build_session, read_json, send
from emulator.testing import RunningEmulator
from errors import AuthError, ConnectorError
from tests.connectors.conftest import USER_AGENT, ManualTime, Waits

URL = "https://graph.microsoft.com/v1.0/sites/root"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(registry=registries.OrderedRegistry) as mock:
        yield mock


def test_user_agent_is_decorated_and_each_request_carries_a_client_request_id(
    http: responses.RequestsMock,
) -> None:
    http.get(URL, json={})
    http.get(URL, json={})
    session = build_session(lambda: "t", user_agent="NONISV|Staffordshire Police|cetk/0.1.0")

    send(session, "GET", URL)
    send(session, "GET", URL)

    first, second = (call.request.headers for call in http.calls)
    assert first["User-Agent"] == "NONISV|Staffordshire Police|cetk/0.1.0"
    assert first["client-request-id"] != second["client-request-id"]


def test_the_token_provider_is_asked_on_every_request(http: responses.RequestsMock) -> None:
    tokens = (f"token-{number}" for number in count(1))  # MSAL hands out a new one once the old nears expiry
    for _ in range(3):
        http.get(URL, json={})
    session = build_session(lambda: next(tokens), user_agent=USER_AGENT)

    for _ in range(3):
        send(session, "GET", URL)

    assert [call.request.headers["Authorization"] for call in http.calls] == [
        "Bearer token-1",
        "Bearer token-2",
        "Bearer token-3",
    ]


def test_no_token_provider_sends_no_authorization(http: responses.RequestsMock) -> None:
    http.get(URL, json={})
    send(build_session(None, user_agent=USER_AGENT), "GET", URL)
    assert "Authorization" not in http.calls[0].request.headers


def test_a_token_provider_failure_is_raised_as_is(http: responses.RequestsMock) -> None:
    def refuse() -> str:
        raise AuthError("sign-in failed")

    with pytest.raises(AuthError, match="sign-in failed"):
        send(build_session(refuse, user_agent=USER_AGENT), "GET", URL)


def test_the_default_timeout_applies_and_a_call_may_set_its_own(http: responses.RequestsMock) -> None:
    http.get(URL, json={})
    http.get(URL, json={})
    session = build_session(None, user_agent=USER_AGENT)

    send(session, "GET", URL)
    send(session, "GET", URL, timeout=(3.0, 9.0))

    assert [call.request.req_kwargs["timeout"] for call in http.calls] == [DEFAULT_TIMEOUT, (3.0, 9.0)]


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_a_get_is_resent_after_429_and_5xx(http: responses.RequestsMock, status: int) -> None:
    http.get(URL, status=status, json={})
    http.get(URL, json={"ok": True})
    session = build_session(None, user_agent=USER_AGENT, sleep=lambda s: None)

    assert read_json(send(session, "GET", URL)) == {"ok": True}
    assert len(http.calls) == 2 and session.stats.retries == 1


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_write_is_not_resent_after_a_5xx(http: responses.RequestsMock, method: str, status: int) -> None:
    http.add(method, URL, status=status, json={})
    session = build_session(None, user_agent=USER_AGENT, sleep=lambda s: None)

    with pytest.raises(ConnectorError):
        send(session, method, URL, json={"rows": []})

    assert len(http.calls) == 1 and session.stats.retries == 0


@pytest.mark.parametrize("method", ["POST", "PATCH", "PUT", "DELETE"])
def test_a_write_refused_with_429_is_resent(http: responses.RequestsMock, method: str) -> None:
    http.add(method, URL, status=429, json={}, headers={"Retry-After": "1"})
    http.add(method, URL, status=200, json={})
    session = build_session(None, user_agent=USER_AGENT, sleep=lambda s: None)

    send(session, method, URL, json={"rows": []})

    assert len(http.calls) == 2


def test_redirect_keeps_the_token_only_for_named_https_hosts(http: responses.RequestsMock) -> None:
    dataset = "https://api.powerbi.com/v1.0/myorg/groups/g/datasets"
    cluster = "https://wabi-uk-south-redirect.analysis.windows.net/v1.0/myorg/groups/g/datasets"
    elsewhere = "https://elsewhere.example/v1.0/myorg/groups/g/datasets"
    http.get(dataset, status=307, headers={"Location": cluster})
    http.get(cluster, json={"value": []})
    http.get(dataset, status=307, headers={"Location": elsewhere})
    http.get(elsewhere, json={"value": []})
    session = build_session(lambda: "t", user_agent=USER_AGENT, token_hosts=("analysis.windows.net",))

    send(session, "GET", dataset)
    send(session, "GET", dataset)

    assert http.calls[1].request.headers.get("Authorization") == "Bearer t"
    assert "Authorization" not in http.calls[3].request.headers


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_refused_connection_on_a_get_is_retried_with_back_off_then_typed(
    waits: Waits, clock: ManualTime
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/graph/v1.0/sites"
    session = build_session(None, user_agent=USER_AGENT, sleep=waits, clock=clock.time, jitter=lambda: 0.0)

    with pytest.raises(ConnectorError, match="connection failed") as caught:
        send(session, "GET", url)

    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert caught.value.status is None
    assert waits.seconds == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_refused_connection_on_a_post_is_not_retried(waits: Waits, clock: ManualTime) -> None:
    url = f"http://127.0.0.1:{closed_port()}/powerbi/v1.0/myorg/groups/g/datasets/d/tables/t/rows"
    session = build_session(None, user_agent=USER_AGENT, sleep=waits, clock=clock.time)

    with pytest.raises(ConnectorError) as caught:
        send(session, "POST", url, json={"rows": [{"n": 1}]})

    assert "may have applied it" in caught.value.hint
    assert waits.seconds == [] and session.stats.retries == 0


def test_the_configured_ca_bundle_wins_over_requests_ca_bundle(
    emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch, waits: Waits
) -> None:
    monkeypatch.setenv(
        "REQUESTS_CA_BUNDLE", requests.certs.where()
    )  # the public roots, not the emulator's CA
    session = build_session(None, user_agent=USER_AGENT, ca_bundle=emu.ca_file, sleep=waits)

    assert send(session, "GET", emu.url("login", "/contoso/v2.0/.well-known/openid-configuration")).ok


def test_an_untrusted_certificate_is_a_clear_error_and_not_retried(
    emu: RunningEmulator, waits: Waits
) -> None:
    session = build_session(None, user_agent=USER_AGENT, ca_bundle=requests.certs.where(), sleep=waits)

    with pytest.raises(ConnectorError, match="TLS handshake failed") as caught:
        send(session, "GET", emu.url("login", "/contoso/v2.0/.well-known/openid-configuration"))

    assert "ca_bundle" in caught.value.hint
    assert waits.seconds == []


def test_read_json_refuses_a_body_that_is_not_json(http: responses.RequestsMock) -> None:
    http.get(URL, body="<html>proxy</html>", content_type="text/html")
    response = send(build_session(None, user_agent=USER_AGENT), "GET", URL)

    with pytest.raises(ConnectorError, match=r"\(HTTP 200, text/html\) is not valid JSON"):
        read_json(response)


def test_retry_policy_back_off_sequence_and_cap() -> None:
    policy = RetryPolicy()
    assert [policy.backoff_seconds(n, 0.0) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert [policy.backoff_seconds(n, 1.0) for n in range(1, 4)] == [1.5, 3.0, 6.0]


class _Pages(BaseHTTPRequestHandler):
    """Answers every GET with the server's `body` (gzipped when asked for), or a body cut short."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        server: Any = self.server
        server.ports.append(self.client_address[1])
        body = gzip.compress(server.body) if server.gzip else server.body
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if server.gzip:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body) + (100 if server.cut_short else 0)))
        self.end_headers()
        self.wfile.write(body)
        if server.cut_short:
            self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def pages() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    server.ports, server.gzip, server.cut_short = [], False, False
    server.body = b'{"value": [' + b",".join(b'{"id": "%d"}' % n for n in range(5000)) + b"]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_body_is_read_whole_decoded_and_the_connection_kept(pages: Any) -> None:
    session = build_session(None, user_agent=USER_AGENT)
    url = f"http://127.0.0.1:{pages.server_address[1]}/graph/v1.0/items"
    for zipped in (False, True):
        pages.gzip = zipped
        response = send(session, "GET", url)
        assert response.content == pages.body and read_json(response)["value"][-1] == {"id": "4999"}
        assert send(session, "GET", url, verbatim=True).json() == read_json(response)
    assert len(set(pages.ports)) == 1  # each body read to its end: one connection served all four


def test_a_body_cut_short_is_a_connection_error(pages: Any, waits: Waits) -> None:
    pages.cut_short = True
    session = build_session(None, user_agent=USER_AGENT, sleep=waits, retries=RetryPolicy(max_attempts=1))
    with pytest.raises(ConnectorError) as caught:
        send(session, "GET", f"http://127.0.0.1:{pages.server_address[1]}/graph/v1.0/items")
    assert isinstance(caught.value.__cause__, requests.exceptions.ChunkedEncodingError)
