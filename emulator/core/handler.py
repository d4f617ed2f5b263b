"""One HTTP/1.1 connection's requests, read and answered: the Host checked (loopback names and this port
only), the body read with a size cap (Content-Length or chunked), then handed to the Emulator.

A response marked `drop_connection` is never written: the socket closes after the handler ran, so the
client sees a connection error although the request took effect (the ambiguous commit).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import string
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from emulator.core.app import Emulator

MAX_BODY_BYTES = 64 * 1024 * 1024  # larger bodies get 413, chunked or not
_MAX_LINE = 65_537  # chunk-size and trailer lines, as http.client bounds header lines
_HOST = re.compile(r"(?:\[(?P<bracketed>[0-9a-f:.]+)\]|(?P<name>[a-z0-9.-]+))(?::(?P<port>[0-9]{1,5}))?")


class EmulatorHTTPServer(HTTPServer):
    """What a request handler needs of its server (emulator/core/server.py builds it)."""

    emulator: Emulator
    scheme: str
    host_names: frozenset[str]  # what the Host header may name: loopback names and the bound address

    def accepts_host(self, value: str) -> bool:
        """True for a loopback name (or the bound address), with no port or this server's port."""
        found = _HOST.fullmatch(value.strip().lower())
        if found is None:
            return False
        name = found.group("bracketed") or found.group("name")
        port = found.group("port")
        return name in self.host_names and (port is None or int(port) == self.server_port)


class EmulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EmulatorHTTPServer

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
