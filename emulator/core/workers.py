"""How many connections the emulator's server serves at once, and for how long it waits on each.

A fixed number of workers serves accepted connections; while all are busy the accept loop waits, so
further clients wait in the listen backlog (and, past it, in their own connect) instead of each taking
a thread. A keep-alive connection holds its worker until it closes or stays idle for the idle timeout;
a TLS client that does not finish its handshake in time is dropped.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int = 32  # served at once; more wait until one closes
    handshake_timeout_seconds: float = 10.0  # TLS: from accept to a finished handshake
    idle_timeout_seconds: float = 60.0  # keep-alive: silence allowed between requests (and within one)
    listen_backlog: int = 128  # connections the kernel completes while every worker is busy

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.listen_backlog < 1:
            raise ValueError("max_connections and listen_backlog must be at least 1")
        if self.handshake_timeout_seconds <= 0 or self.idle_timeout_seconds <= 0:
            raise ValueError("timeouts must be positive")


Work = Callable[[Any, Any], None]


class WorkerPool:
    """At most `size` daemon threads, started as needed, each serving one connection at a time.

    `acquire()` is called by the accept loop before `submit()`: it blocks while every worker is busy,
    which keeps the number of connections in hand (served or queued) at `size`.
    """

    def __init__(self, size: int, work: Work, name: str) -> None:
        self._size, self._work, self._name = size, work, name
        self._slots = threading.BoundedSemaphore(size)
        self._queue: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()

    def acquire(self, timeout: float) -> bool:
        return self._slots.acquire(timeout=timeout)

    def release(self) -> None:
        self._slots.release()

    def submit(self, request: Any, client_address: Any) -> None:
        """Hand a connection to a worker; the caller holds a slot, which the worker gives back."""
        with self._lock:
            if self._idle == 0 and len(self._threads) < self._size:
                thread = threading.Thread(
                    target=self._run, name=f"{self._name}-worker-{len(self._threads) + 1}", daemon=True
                )
                self._threads.append(thread)
                self._idle += 1
                thread.start()
            self._idle -= 1
        self._queue.put((request, client_address))

    def stop(self, timeout: float) -> None:
        """Let every worker finish its connection and end (the server shuts their sockets first)."""
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._queue.put(None)
        for thread in threads:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._work(*item)
            finally:
                with self._lock:
                    self._idle += 1
                self._slots.release()
