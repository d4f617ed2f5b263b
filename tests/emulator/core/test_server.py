"""The emulator behind a socket: keep-alive, loopback only, TLS with a generated CA, clean stop."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
import requests

from emulator.build import build_emulator
from emulator.core.app import Emulator, PlainErrors
from emulator.core.http import Request, Response, Router
from emulator.core.server import ServerLimits, start_server
from errors import EmulatorError

DISCOVERY = "/login/contoso/v2.0/.well-known/openid-configuration"


def test_keep_alive_serves_several_requests_on_one_connection() -> None:
    with start_server(build_emulator().emulator) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        statuses = []
        for _ in range(3):
            connection.request("GET", DISCOVERY)
            response = connection.getresponse()
            response.read()
            statuses.append(response.status)
            assert response.getheader("Connection") != "close"
        local = connection.sock.getsockname()
        connection.request("GET", DISCOVERY)
        connection.getresponse().read()

        assert statuses == [200, 200, 200]
        assert connection.sock.getsockname() == local  # still the same socket
        connection.close()


def test_discovery_links_use_the_address_the_client_used() -> None:
    with start_server(build_emulator().emulator) as server:
        config = requests.get(server.base_url + DISCOVERY, timeout=10).json()
    assert config["token_endpoint"] == f"{server.base_url}/login/contoso/oauth2/v2.0/token"


def test_binding_beyond_loopback_is_refused() -> None:
    with pytest.raises(EmulatorError):
        start_server(build_emulator().emulator, host="0.0.0.0")


def test_https_with_generated_ca(tmp_path: Path) -> None:
    with start_server(build_emulator().emulator, https=True, cert_dir=tmp_path) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        assert server.ca_file == tmp_path / "ca.pem"
        ok = requests.get(server.base_url + DISCOVERY, verify=str(server.ca_file), timeout=10)
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.base_url + DISCOVERY, verify=True, timeout=10)
        context = ssl.create_default_context(cafile=str(server.ca_file))
        raw = socket.create_connection(("localhost", server.port), timeout=10)
        with context.wrap_socket(raw, server_hostname="localhost") as tls:  # checks the SAN for "localhost"
            assert tls.version() in ("TLSv1.2", "TLSv1.3")

    assert ok.status_code == 200
    assert stat.S_IMODE((tmp_path / "server-key.pem").stat().st_mode) == 0o600
    first_ca = server.ca_file.read_bytes()
    with start_server(build_emulator().emulator, https=True, cert_dir=tmp_path) as again:
        assert again.ca_file is not None and again.ca_file.read_bytes() == first_ca  # reused while valid


def test_ipv6_loopback_when_available() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this machine")
    try:
        server = start_server(build_emulator().emulator, host="::1")
    except EmulatorError:
        pytest.skip("::1 is not configured on this machine")
    with server:
        assert server.base_url.startswith("http://[::1]:")
        assert requests.get(server.base_url + DISCOVERY, timeout=10).status_code == 200


def test_stop_closes_idle_keep_alive_connections() -> None:
    server = start_server(build_emulator().emulator)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", DISCOVERY)
    connection.getresponse().read()

    server.stop()

    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", DISCOVERY)
        connection.getresponse()
    connection.close()


def _raw_answer(port: int, head: bytes) -> tuple[int, bytes]:
    """Send `head` on a fresh socket and read the status line the server answers with (5 s at most)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.sendall(head)
        response = http.client.HTTPResponse(raw)
        response.begin()
        return response.status, (response.getheader("Connection") or "").encode()


def test_oversized_chunked_body_is_refused_before_it_is_read() -> None:
    chunk = b"POST /login/contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    with start_server(build_emulator().emulator) as server:
        status, connection = _raw_answer(server.port, chunk + b"10000000\r\n")  # a 256 MiB chunk, unsent

    assert (status, connection) == (413, b"close")


@pytest.mark.parametrize("length", [b"-1", b"ten", b"\xb2"])
def test_malformed_content_length_is_a_400_not_a_read_until_eof(length: bytes) -> None:
    head = (
        b"POST /login/contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
        + length
        + b"\r\n\r\n"
    )
    with start_server(build_emulator().emulator) as server:
        status, connection = _raw_answer(server.port, head)

    assert (status, connection) == (400, b"close")


def test_bad_chunk_size_is_a_400() -> None:
    head = b"POST /login/contoso/oauth2/v2.0/token HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    with start_server(build_emulator().emulator) as server:
        status, _connection = _raw_answer(server.port, head + b"-5\r\nabc\r\n0\r\n\r\n")

    assert status == 400


# Host: loopback names and the bound port only (DNS rebinding) ---------------------------------------------


def _answer_to_host(port: int, host: bytes | None) -> tuple[int, bytes]:
    head = (
        b"GET "
        + DISCOVERY.encode()
        + b" HTTP/1.1\r\n"
        + (b"Host: " + host + b"\r\n" if host is not None else b"")
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(head + b"Connection: close\r\n\r\n")
        response = http.client.HTTPResponse(raw)
        response.begin()
        return response.status, response.read()


@pytest.mark.parametrize(
    "host",
    [b"attacker.example", b"attacker.example:{port}", b"127.0.0.1.attacker.example:{port}", b"127.0.0.1:1",
     b"localhost:{port}0", b"10.0.0.5:{port}", b"[::1]:1", b"127.0.0.1:{port}@attacker.example"],
)  # fmt: skip
def test_a_host_that_is_not_this_loopback_server_gets_421(host: bytes) -> None:
    emulator = build_emulator().emulator
    with start_server(emulator) as server:
        status, body = _answer_to_host(server.port, host.replace(b"{port}", str(server.port).encode()))

    assert status == 421
    assert json.loads(body)["error"]["code"] == "MisdirectedRequest"
    assert emulator.request_log == []  # never reached a service


def test_a_request_without_host_gets_400() -> None:
    emulator = build_emulator().emulator
    with start_server(emulator) as server:
        status, _body = _answer_to_host(server.port, None)
    assert status == 400 and emulator.request_log == []


@pytest.mark.parametrize(
    "host", [b"127.0.0.1:{port}", b"localhost:{port}", b"LocalHost:{port}", b"127.0.0.1", b"localhost"]
)
def test_loopback_names_with_the_bound_port_are_served(host: bytes) -> None:
    with start_server(build_emulator().emulator) as server:
        status, _body = _answer_to_host(server.port, host.replace(b"{port}", str(server.port).encode()))
    assert status == 200


# connections: Nagle off, handshake and idle timeouts, a bounded pool of workers ---------------------------


def test_accepted_connections_have_tcp_nodelay() -> None:
    """Nagle's algorithm plus the client's delayed ACK held each small answer ~40 ms (docs/performance.md)."""
    with start_server(build_emulator().emulator) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", DISCOVERY)
        connection.getresponse().read()
        with server._server.sockets_lock:  # the server's side of the keep-alive connection
            [accepted] = list(server._server.open_sockets)
            nodelay = accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        connection.close()
    assert nodelay != 0


def _closed_by_server(raw: socket.socket) -> bool:
    """True when the server hangs up; False when it is still waiting after 10 s (the client gives up)."""
    raw.settimeout(10)
    try:
        return raw.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_stalled_tls_handshake_is_dropped_after_the_handshake_timeout(tmp_path: Path) -> None:
    limits = ServerLimits(handshake_timeout_seconds=0.2)
    with (
        start_server(build_emulator().emulator, https=True, cert_dir=tmp_path, limits=limits) as server,
        socket.create_connection(("127.0.0.1", server.port)) as raw,  # connects, never says ClientHello
    ):
        assert _closed_by_server(raw)


def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() -> None:
    limits = ServerLimits(idle_timeout_seconds=0.2)
    with (
        start_server(build_emulator().emulator, limits=limits) as server,
        socket.create_connection(("127.0.0.1", server.port)) as raw,
    ):
        raw.sendall(f"GET {DISCOVERY} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        response = http.client.HTTPResponse(raw)
        response.begin()
        response.read()
        assert response.status == 200 and response.getheader("Connection") != "close"
        assert _closed_by_server(raw)


class ThreadCounter(PlainErrors):
    """A stand-in service that notes how many threads the process runs while it answers."""

    name = "count"
    mount = "/count"

    def __init__(self) -> None:
        self.seen: list[int] = []

    def register(self, router: Router) -> None:
        router.add("GET", "/", self._count)

    def _count(self, request: Request, params: dict[str, str]) -> Response:
        self.seen.append(threading.active_count())
        return Response.json(200, {"threads": self.seen[-1]})

    def not_found(self, request: Request) -> Response:
        return Response.json(404, {})

    def method_not_allowed(self, request: Request) -> Response:
        return Response.json(405, {})


def test_connections_beyond_the_pool_wait_their_turn_instead_of_each_taking_a_thread() -> None:
    counter = ThreadCounter()
    emulator = Emulator()
    emulator.mount(counter)
    limits = ServerLimits(max_connections=2, idle_timeout_seconds=0.3)
    with start_server(emulator, limits=limits) as server:
        before = threading.active_count()
        clients = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(6)]
        for raw in clients:  # six keep-alive clients that each ask once and then stay connected
            raw.sendall(b"GET /count HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        statuses = []
        for raw in clients:
            response = http.client.HTTPResponse(raw)
            response.begin()
            response.read()
            statuses.append(response.status)
        for raw in clients:
            raw.close()

    assert statuses == [200] * 6  # each was served once a worker came free
    assert max(counter.seen) - before <= 2  # never more than two connections held a thread
