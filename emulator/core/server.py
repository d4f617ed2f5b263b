"""The emulator behind a real socket: a stdlib HTTPServer with a bounded pool of workers, HTTP/1.1
keep-alive, optional TLS, handshake and idle timeouts (workers.py), Nagle off; each request is read and
answered by handler.py, which checks the Host and caps the body first.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from emulator.core.app import Emulator
from emulator.core.certs import ensure_certificates
from emulator.core.handler import MAX_BODY_BYTES, EmulatorHTTPServer, EmulatorRequestHandler
from emulator.core.workers import ServerLimits, WorkerPool
from errors import EmulatorError

__all__ = ["LOOPBACK_HOSTS", "MAX_BODY_BYTES", "RunningServer", "ServerLimits", "start_server"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
POLL_SECONDS = 0.05  # how soon stop() is noticed


class _Server(EmulatorHTTPServer):
    tls: ssl.SSLContext | None
    limits: ServerLimits
    workers: WorkerPool
    stopping: threading.Event
    open_sockets: set[socket.socket]
    sockets_lock: threading.Lock

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
        handler = type("_BoundHandler", (EmulatorRequestHandler,), {"timeout": limits.idle_timeout_seconds})
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
