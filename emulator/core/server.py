"""The emulator behind a real socket: a stdlib HTTPServer with a bounded pool of workers, HTTP/1.1
keep-alive, optional TLS, handshake and idle timeouts (workers.py), Nagle off, and the Host checked.

A response marked `drop_connection` is never written: the socket closes after the handler ran, so the
client sees a connection error although the request took effect (the ambiguous commit).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import ssl
import string
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from emulator.core.app import Emulator
from emulator.core.certs import ensure_certificates
from emulator.core.workers import ServerLimits, WorkerPool
from errors import EmulatorError

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_BODY_BYTES = 64 * 1024 * 1024  # larger bodies get 413, chunked or not
_MAX_LINE = 65_537  # chunk-size and trailer lines, as http.client bounds header lines
_HOST = re.compile(r"(?:\[(?P<bracketed>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?")
POLL_SECONDS = 0.05  # how soon stop() is noticed


class _Server(HTTPServer):
    emulator: Emulator
    scheme: str
    tls: ssl.SSLContext | None
    limits: ServerLimits
    workers: WorkerPool
    stopping: threading.Event
    open_sockets: set[socket.socket]
    sockets_lock: threading.Lock
    host_names: frozenset[str]  # what the Host header may name: loopback names and the bound address

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        # Nagle's algorithm held each small answer until the client's delayed ACK, ~40 ms per request
        # on a keep-alive connection (docs/performance.md#emulator).
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    def process_request(self, request: Any, client_address: Any) -> None:
        """Wait for a free worker (the backlog holds the clients behind this one), then hand it over."""
        while not self.workers.acquire(timeout=POLL_SECONDS):
            if self.stopping.is_set():
                self.shutdown_request(request)
                return
        self.workers.submit(request, client_address)

    def serve_connection(self, request: Any, client_address: Any) -> None:
        """A worker's job: one connection, start to close (as ThreadingMixIn.process_request_thread)."""
        try:
            if not self.stopping.is_set():  # stop() may have shut the sockets it knew before this one
                self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def finish_request(self, request: Any, client_address: Any) -> None:
        raw: socket.socket = request
        connection = raw
        self._track(raw)
        try:
            if self.tls is not None:
                raw.settimeout(self.limits.handshake_timeout_seconds)  # a silent client is dropped
                try:
                    connection = self.tls.wrap_socket(raw, server_side=True)
                except (ssl.SSLError, OSError):
                    return  # failed or stalled handshake: nothing to answer
                self._track(connection, replacing=raw)
            super().finish_request(connection, client_address)  # the handler sets the idle timeout
        finally:
            self._untrack(raw, connection)
            if connection is not raw:  # the TLS wrapper owns the descriptor now
                with contextlib.suppress(OSError):
                    connection.close()

    def server_close(self) -> None:
        super().server_close()
        self.workers.stop(timeout=5)

    def _track(self, connection: socket.socket, replacing: socket.socket | None = None) -> None:
        with self.sockets_lock:
            if replacing is not None:
                self.open_sockets.discard(replacing)
            self.open_sockets.add(connection)

    def _untrack(self, *connections: socket.socket) -> None:
        with self.sockets_lock:
            for connection in connections:
                self.open_sockets.discard(connection)

    def accepts_host(self, value: str) -> bool:
        """True for a loopback name (or the bound address), with no port or this server's port."""
        found = _HOST.fullmatch(value.strip().lower())
        if found is None:
            return False
        name = found.group("bracketed") or found.group("name")
        port = found.group("port")
        return name in self.host_names and (port is None or int(port) == self.server_port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up or fail TLS are routine here; anything else is printed as usual."""
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handle_error(request, client_address)

    def close_open_sockets(self) -> None:
        with self.sockets_lock:
            for connection in list(self.open_sockets):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    timeout = None  # the per-server idle timeout is set on the bound subclass (start_server)

    def _serve(self) -> None:
        host = self._checked_host()  # before the body is read: a misdirected request costs nothing
        if host is None:
            return
        body = self._read_body()
        if body is None:
            return
        origin = f"{self.server.scheme}://{host}"
        response = self.server.emulator.handle(
            self.command, self.path, dict(self.headers.items()), body, origin
        )
        if response.drop_connection:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def _checked_host(self) -> str | None:
        """The Host header when it names this server on loopback, else None after answering 400 or 421.

        A web page can make a browser send requests to a loopback port under a name it controls (DNS
        rebinding: `attacker.example` resolving to 127.0.0.1); such a request carries that name as Host.
        """
        host = self.headers.get("Host")
        if host is None:
            self._refuse(400, "BadRequest", "An HTTP/1.1 request needs a Host header.")
            return None
        if not self.server.accepts_host(host):
            names = ", ".join(sorted(self.server.host_names))
            self._refuse(
                421,
                "MisdirectedRequest",
                f"This server answers only to {names} on port {self.server.server_port}.",
            )
            return None
        return host.strip()

    def _refuse(self, status: int, code: str, message: str) -> None:
        """A transport-level refusal, before any service sees the request; the connection closes."""
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        self.close_connection = True
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 400/413 (then the connection closes)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not (raw_length.isascii() and raw_length.isdigit()):  # refuses "-1": read() would wait for EOF
            self.send_error(400, "Bad Content-Length")
            return None
        length = int(raw_length)
        if length > MAX_BODY_BYTES:
            self.send_error(413, "Request body too large")
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            digits = self.rfile.readline(_MAX_LINE).split(b";")[0].strip() or b"0"
            if not all(chr(byte) in string.hexdigits for byte in digits):  # int() would take "-1"
                self.send_error(400, "Bad chunk size")
                return None
            size = int(digits, 16)
            total += size
            if total > MAX_BODY_BYTES:  # checked before reading, so memory stays bounded
                self.send_error(413, "Request body too large")
                return None
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Silent: the emulator keeps its own request log without credentials."""


@dataclass
class RunningServer:
    """A started emulator server; use as a context manager or call stop()."""

    emulator: Emulator
    host: str
    port: int
    base_url: str
    ca_file: Path | None
    _server: _Server
    _thread: threading.Thread
    _temp_dir: tempfile.TemporaryDirectory[str] | None = field(default=None)

    def serve(self) -> None:
        """Start answering (start_server(..., serve=False) only listens: clients wait in the backlog)."""
        if not self._thread.is_alive() and not self._server.stopping.is_set():
            self._thread.start()

    def stop(self) -> None:
        self._server.stopping.set()
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which must have started
            self._server.shutdown()
        self._server.close_open_sockets()
        self._server.server_close()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout=5)
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


def start_server(
    emulator: Emulator,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    https: bool = False,
    cert_dir: Path | str | None = None,
    allow_non_loopback: bool = False,
    limits: ServerLimits | None = None,
    serve: bool = True,
) -> RunningServer:
    """Serve `emulator` on host:port (0 = any free port) in a background thread, `limits` on connections.

    With `serve=False` the socket only listens until `RunningServer.serve()`: the port is known (for
    links and config files) but nothing is answered yet.
    """
    limits = limits or ServerLimits()
    if host not in LOOPBACK_HOSTS and not allow_non_loopback:
        raise EmulatorError(
            f"refusing to bind the emulator to {host}",
            hint="bind to 127.0.0.1, or pass allow_non_loopback=True",
        )
    temp_dir: tempfile.TemporaryDirectory[str] | None = None
    tls: ssl.SSLContext | None = None
    ca_file: Path | None = None
    if https:
        if cert_dir is None:
            temp_dir = tempfile.TemporaryDirectory(prefix="cetk-emulator-tls-")
            cert_dir = temp_dir.name
        paths = ensure_certificates(Path(cert_dir))
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
        tls.load_cert_chain(paths.cert_file, paths.key_file)
        ca_file = paths.ca_file
    server_class = type(
        "_BoundServer",
        (_Server,),
        {"address_family": _family(host), "request_queue_size": limits.listen_backlog},
    )
    try:
        # StreamRequestHandler applies `timeout` to every read: keep-alive silence, and a stalled request
        handler = type("_BoundHandler", (_Handler,), {"timeout": limits.idle_timeout_seconds})
        server: _Server = server_class((host, port), handler)
    except OSError as exc:
        if temp_dir is not None:
            temp_dir.cleanup()
        raise EmulatorError(
            f"cannot listen on {host}:{port}: {exc.strerror}", hint="choose another --port"
        ) from exc
    server.emulator, server.tls, server.limits = emulator, tls, limits
    server.stopping = threading.Event()
    server.scheme = "https" if https else "http"
    server.open_sockets, server.sockets_lock = set(), threading.Lock()
    server.host_names = LOOPBACK_HOSTS | {host.lower()}
    bound_port = int(server.server_address[1])
    server.workers = WorkerPool(limits.max_connections, server.serve_connection, f"emulator-{bound_port}")
    url_host = f"[{host}]" if ":" in host else host
    thread = threading.Thread(
        target=server.serve_forever, args=(POLL_SECONDS,), name=f"emulator-{bound_port}", daemon=True
    )
    base_url = f"{server.scheme}://{url_host}:{bound_port}"
    running = RunningServer(emulator, host, bound_port, base_url, ca_file, server, thread, temp_dir)
    if serve:
        running.serve()
    return running


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET
