"""Device code grant state for the emulated sign-in service: codes, approval, polling rules.

Polling answers follow RFC 8628 as MSAL expects (microsoft-apis.md §5.3): `authorization_pending` until
approved, `slow_down` when polled faster than `interval`, `expired_token` after `expires_in`.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from emulator.core.clock import Clock

PollOutcome = Literal[
    "approved", "authorization_pending", "slow_down", "expired_token", "declined", "bad_code"
]


@dataclass
class DeviceCode:
    device_code: str
    user_code: str
    client_id: str
    tenant: str
    scopes: tuple[str, ...]
    audience: str
    issued_at: datetime
    expires_in: int
    interval: int
    last_poll: datetime | None = None
    username: str | None = None
    object_id: str | None = None
    declined: bool = False
    redeemed: bool = False


@dataclass
class DeviceCodes:
    clock: Clock
    lifetime_seconds: int = 900
    interval_seconds: int = 5
    _codes: dict[str, DeviceCode] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def issue(self, client_id: str, tenant: str, scopes: tuple[str, ...], audience: str) -> DeviceCode:
        user_code = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(9))
        code = DeviceCode(
            device_code=secrets.token_urlsafe(32),
            user_code=user_code,
            client_id=client_id,
            tenant=tenant,
            scopes=scopes,
            audience=audience,
            issued_at=self.clock.now(),
            expires_in=self.lifetime_seconds,
            interval=self.interval_seconds,
        )
        with self._lock:
            self._codes[code.device_code] = code
        return code

    def pending(self) -> list[DeviceCode]:
        """Codes issued and neither approved, declined nor expired (for tests and the demo)."""
        now = self.clock.now()
        with self._lock:
            return [
                c
                for c in self._codes.values()
                if c.username is None
                and not c.declined
                and now < c.issued_at + timedelta(seconds=c.expires_in)
            ]

    def approve(self, user_code: str, *, username: str, object_id: str) -> None:
        with self._lock:
            code = self._by_user_code(user_code)
            code.username, code.object_id = username, object_id

    def decline(self, user_code: str) -> None:
        with self._lock:
            self._by_user_code(user_code).declined = True

    def poll(self, device_code: str, client_id: str) -> tuple[PollOutcome, DeviceCode | None]:
        now = self.clock.now()
        with self._lock:
            code = self._codes.get(device_code)
            if code is None or code.client_id != client_id or code.redeemed:
                return "bad_code", None
            previous, code.last_poll = code.last_poll, now
            if now >= code.issued_at + timedelta(seconds=code.expires_in):
                return "expired_token", code
            if code.declined:
                return "declined", code
            if code.username is not None:
                code.redeemed = True
                return "approved", code
            if previous is not None and (now - previous).total_seconds() < code.interval:
                return "slow_down", code
            return "authorization_pending", code

    def _by_user_code(self, user_code: str) -> DeviceCode:
        for code in self._codes.values():
            if code.user_code == user_code:
                return code
        raise KeyError(f"no device code with user code {user_code}")
