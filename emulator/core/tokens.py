"""Access tokens the emulated sign-in endpoint issues and the emulated services check.

Tokens are JWTs signed with HS256 under a per-emulator key: opaque to clients (as Microsoft asks
clients to treat them), verifiable here. Claims follow Entra ID v2 app tokens: aud, iss, tid,
appid, iat, nbf, exp, plus roles (the application permissions admin-consented for the token's resource,
e.g. `Sites.Selected`; absent when there are none, as Entra ID leaves it out) or scp (delegated).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from emulator.core.clock import Clock

# Audiences of the resources the toolkit calls (the scope minus "/.default").
GRAPH_AUDIENCE = "https://graph.microsoft.com"
POWERBI_AUDIENCE = "https://analysis.windows.net/powerbi/api"
DEFAULT_LIFETIME_SECONDS = 3599
# How the client proved itself, as Entra's v1.0 `appidacr` claim says: "0" public client, "1" client
# secret, "2" certificate (client assertion). SharePoint REST refuses app-only tokens carrying "1".
APPIDACR_PUBLIC = "0"
APPIDACR_SECRET = "1"
APPIDACR_CERTIFICATE = "2"

TokenProblem = Literal["missing", "malformed", "bad-signature", "expired", "wrong-audience"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Claims:
    audience: str
    client_id: str
    tenant: str
    expires_at: float
    raw: dict[str, Any]

    @property
    def roles(self) -> frozenset[str]:
        """The application permissions the token carries (empty for delegated tokens)."""
        found = self.raw.get("roles")
        return frozenset(str(role) for role in found) if isinstance(found, list) else frozenset()

    @property
    def is_delegated(self) -> bool:
        """A user's token: it carries delegated scopes (`scp`) rather than application roles."""
        return bool(self.raw.get("scp"))


class TokenAuthority:
    def __init__(self, clock: Clock, *, key: bytes | None = None, issuer_host: str = "127.0.0.1") -> None:
        self._clock = clock
        self._key = key or secrets.token_bytes(32)
        self._issuer_host = issuer_host

    def issue(
        self,
        *,
        audience: str,
        client_id: str,
        tenant: str,
        lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
        roles: Sequence[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> str:
        """A signed token; `roles` become the `roles` claim, left out when empty (an app with no permissions)."""
        now = int(self._clock.now().timestamp())
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant}/",
            "tid": tenant,
            "appid": client_id,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_seconds,
            "jti": secrets.token_hex(8),
            **({"roles": list(roles)} if roles else {}),
            **(extra or {}),
        }
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def verify(self, authorization: str | None, audience: str) -> Claims | TokenProblem:
        """Check an `Authorization: Bearer ...` header value for this audience."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return "missing"
        parts = authorization[7:].strip().split(".")
        if len(parts) != 3:
            return "malformed"
        expected = _b64(hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, parts[2]):
            return "bad-signature"
        try:
            claims = json.loads(_unb64(parts[1]))
        except ValueError:
            return "malformed"
        if claims.get("exp", 0) <= self._clock.now().timestamp():
            return "expired"
        if claims.get("aud") != audience:
            return "wrong-audience"
        return Claims(
            claims["aud"], claims.get("appid", ""), claims.get("tid", ""), float(claims["exp"]), claims
        )


@dataclass(frozen=True)
class BearerCheck:
    """One service's reading of `Authorization: Bearer ...`: the audience it takes, and if a token is needed."""

    tokens: TokenAuthority
    audience: str
    require_auth: bool = True  # False lets a request with no Authorization header through (auth mode none)

    def check(self, authorization: str | None) -> Claims | TokenProblem | None:
        """The token's claims, None when there is no token and none is needed, else what is wrong."""
        verdict = self.tokens.verify(authorization, self.audience)
        if verdict == "missing" and not self.require_auth:
            return None
        return verdict
