"""The emulated Entra ID sign-in service: OpenID discovery, token endpoint, device code endpoint.

Mounted at `/login`, so the MSAL authority is `{base}/login/{tenant}` (microsoft-apis.md §5.4).
Bodies and error shapes follow §5.1, §5.3 and §5.4; codes not in those sections are listed in
docs/emulator.md as best known.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from cryptography import x509

from emulator.core.app import PlainErrors
from emulator.core.clock import Clock
from emulator.core.http import Request, Response, Router
from emulator.core.tokens import (
    APPIDACR_CERTIFICATE,
    APPIDACR_PUBLIC,
    APPIDACR_SECRET,
    DEFAULT_LIFETIME_SECONDS,
    TokenAuthority,
)
from emulator.login.apps import APP_RESOURCES, RegisteredApp, audience_for_scope
from emulator.login.assertion import ASSERTION_TYPE, check_assertion
from emulator.login.device import DeviceCodes
from emulator.login.responses import NO_STORE, oauth_error, token_success

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})


@dataclass(frozen=True)
class _RefreshGrant:
    client_id: str
    tenant: str
    username: str
    object_id: str
    scopes: tuple[str, ...]
    audience: str


def _b64json(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


class LoginService(PlainErrors):
    """Faults in front of sign-in answer `{"error": {"code", "message"}}`; sign-in has no RU costs."""

    name = "login"
    mount = "/login"

    def __init__(
        self,
        tokens: TokenAuthority,
        clock: Clock,
        *,
        token_lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS,
        device_code_lifetime_seconds: int = 900,
        device_poll_interval_seconds: int = 5,
    ) -> None:
        self._tokens = tokens
        self._clock = clock
        self.token_lifetime_seconds = token_lifetime_seconds
        self.device_codes = DeviceCodes(clock, device_code_lifetime_seconds, device_poll_interval_seconds)
        self._apps: dict[str, RegisteredApp] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._lock = threading.Lock()

    # inspection API -----------------------------------------------------------------------------

    def register_app(
        self,
        client_id: str,
        *,
        secret: str | None = None,
        certificate_pem: bytes | str | None = None,
        public_client: bool = False,
        roles: Mapping[str, Sequence[str]] | None = None,
    ) -> RegisteredApp:
        """Register an app; confidential apps need a secret or a certificate.

        `roles` are the application permissions an admin consented to, per resource (`graph`, `sharepoint`,
        `powerbi`), e.g. `{"graph": ["Sites.Selected"]}`; app tokens for that resource carry them as `roles`.
        None (or a resource left out) means none: such tokens have no `roles` claim, as in Entra ID.
        """
        unknown = set(roles or {}) - set(APP_RESOURCES)
        if unknown:
            raise ValueError(f"roles are granted per resource ({', '.join(APP_RESOURCES)}), not {unknown}")
        certificate = None
        if certificate_pem is not None:
            pem = certificate_pem.encode() if isinstance(certificate_pem, str) else certificate_pem
            certificate = x509.load_pem_x509_certificate(pem)
        if not public_client and secret is None and certificate is None:
            raise ValueError("a confidential app needs a secret or a certificate")
        granted = {resource: tuple(names) for resource, names in (roles or {}).items()}
        app = RegisteredApp(client_id, secret, certificate, public_client, granted)
        with self._lock:
            self._apps[client_id] = app
        return app

    def approve_device_code(
        self, user_code: str | None = None, *, username: str = "officer@contoso.example"
    ) -> str:
        """Approve a pending device code (the newest when `user_code` is None); returns its user code."""
        pending = self.device_codes.pending()
        if user_code is None:
            if not pending:
                raise KeyError("no pending device code")
            user_code = pending[-1].user_code
        self.device_codes.approve(
            user_code, username=username, object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, username))
        )
        return user_code

    # routes ---------------------------------------------------------------------------------------

    def register(self, router: Router) -> None:
        router.add("GET", "/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        router.add("POST", "/{tenant}/oauth2/v2.0/token", self._token)
        router.add("POST", "/{tenant}/oauth2/v2.0/devicecode", self._devicecode)

    def not_found(self, request: Request) -> Response:
        return Response.json(
            404, {"error": "not_found", "error_description": f"No endpoint at {request.path}"}
        )

    def method_not_allowed(self, request: Request) -> Response:
        return self._err(900561)

    def _discovery(self, request: Request, params: dict[str, str]) -> Response:
        base = f"{request.base_url}/{params['tenant']}"
        return Response.json(
            200,
            {
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "issuer": f"{base}/v2.0",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
            },
        )

    def _devicecode(self, request: Request, params: dict[str, str]) -> Response:
        form = _form(request)
        app = self._apps.get(form.get("client_id", ""))
        if app is None:
            return self._err(700016, client_id=form.get("client_id", ""), tenant=params["tenant"])
        audience = self._audience(form.get("scope", ""))
        if isinstance(audience, Response):
            return audience
        scopes = tuple(form.get("scope", "").split())
        code = self.device_codes.issue(app.client_id, params["tenant"], scopes, audience)
        verification_uri = f"{request.base_url}/devicelogin"
        return Response.json(
            200,
            {
                "user_code": code.user_code,
                "device_code": code.device_code,
                "verification_uri": verification_uri,
                "expires_in": code.expires_in,
                "interval": code.interval,
                "message": f"To sign in, use a web browser to open the page {verification_uri} and enter the "
                f"code {code.user_code} to authenticate.",
            },
            NO_STORE,
        )

    def _token(self, request: Request, params: dict[str, str]) -> Response:
        form = _form(request)
        tenant = params["tenant"]
        grant = form.get("grant_type", "")
        app = self._apps.get(form.get("client_id", ""))
        if app is None:
            return self._err(700016, client_id=form.get("client_id", ""), tenant=tenant)
        if grant == "client_credentials":
            return self._client_credentials(request, form, app, tenant)
        if grant == DEVICE_GRANT:
            return self._device_grant(form, app, tenant)
        if grant == "refresh_token":
            return self._refresh_grant(form, app, tenant)
        return self._err(70003, grant=grant)

    def _client_credentials(
        self, request: Request, form: dict[str, str], app: RegisteredApp, tenant: str
    ) -> Response:
        if "client_assertion" in form and not app.public_client:
            obtained_with = APPIDACR_CERTIFICATE
            if form.get("client_assertion_type") != ASSERTION_TYPE or app.certificate is None:
                return self._err(700027, message="Client assertion contains an invalid signature.")
            problem = check_assertion(
                form["client_assertion"],
                client_id=app.client_id,
                token_endpoint=f"{request.base_url}/{tenant}/oauth2/v2.0/token",
                certificate=app.certificate,
                now=self._clock.now().timestamp(),
            )
            if problem is not None:
                return self._err(problem.code, message=problem.message)
        elif "client_secret" in form and not app.public_client:
            obtained_with = APPIDACR_SECRET
            if app.secret is None or not secrets.compare_digest(form["client_secret"], app.secret):
                return self._err(7000215, client_id=app.client_id)
        else:
            return self._err(7000218)
        scope_text = form.get("scope", "")
        audience = self._audience(scope_text)
        if isinstance(audience, Response):
            return audience
        if any(not scope.endswith("/.default") for scope in scope_text.split()):
            return self._err(1002012, scope=scope_text)
        token = self._tokens.issue(
            audience=audience,
            client_id=app.client_id,
            tenant=tenant,
            lifetime_seconds=self.token_lifetime_seconds,
            roles=app.roles_for(audience),
            extra={"idtyp": "app", "oid": str(uuid.uuid5(uuid.NAMESPACE_URL, app.client_id))}
            | {"appidacr": obtained_with},
        )
        return token_success(self.token_lifetime_seconds, {"access_token": token})

    def _device_grant(self, form: dict[str, str], app: RegisteredApp, tenant: str) -> Response:
        outcome, code = self.device_codes.poll(form.get("device_code") or form.get("code", ""), app.client_id)
        if outcome == "authorization_pending":
            return self._err(70016)
        if outcome == "slow_down":
            return self._err(70016, error="slow_down")
        if outcome == "expired_token":
            return self._err(70020)
        if outcome == "declined":
            return self._err(70018)
        if code is None or code.username is None or code.object_id is None:
            return self._err(70000, what="device_code")
        grant = _RefreshGrant(
            app.client_id, tenant, code.username, code.object_id, code.scopes, code.audience
        )
        return self._user_tokens(grant)

    def _refresh_grant(self, form: dict[str, str], app: RegisteredApp, tenant: str) -> Response:
        with self._lock:
            grant = self._refresh.pop(form.get("refresh_token", ""), None)
        if grant is None or grant.client_id != app.client_id or grant.tenant != tenant:
            return self._err(70000, what="refresh_token")
        return self._user_tokens(grant)

    def _user_tokens(self, grant: _RefreshGrant) -> Response:
        refresh_token = secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[refresh_token] = grant
        now = int(self._clock.now().timestamp())
        delegated = [s.rsplit("/", 1)[-1] for s in grant.scopes if s not in RESERVED_SCOPES]
        access = self._tokens.issue(
            audience=grant.audience,
            client_id=grant.client_id,
            tenant=grant.tenant,
            lifetime_seconds=self.token_lifetime_seconds,
            extra={
                "scp": " ".join(delegated),
                "oid": grant.object_id,
                "upn": grant.username,
                "idtyp": "user",
                "appidacr": APPIDACR_PUBLIC,  # device code: a public client, no credential
            },
        )
        id_claims = {
            "aud": grant.client_id,
            "iss": f"https://login.microsoftonline.com/{grant.tenant}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": grant.object_id,
            "sub": grant.object_id,
            "tid": grant.tenant,
            "preferred_username": grant.username,
            "name": grant.username.split("@")[0],
            "ver": "2.0",
        }
        fields = {
            "scope": " ".join(s for s in grant.scopes if s not in RESERVED_SCOPES),
            "access_token": access,
            "refresh_token": refresh_token,
            # MSAL only decodes the id token, so it is left unsigned (microsoft-apis.md §5.4).
            "id_token": f"{_b64json({'alg': 'none', 'typ': 'JWT'})}.{_b64json(id_claims)}.",
            "client_info": _b64json({"uid": grant.object_id, "utid": grant.tenant}),
        }
        return token_success(self.token_lifetime_seconds, fields)

    def _audience(self, scope_text: str) -> str | Response:
        scopes = [s for s in scope_text.split() if s not in RESERVED_SCOPES]
        audiences = {audience_for_scope(s) for s in scopes}
        if not scopes or None in audiences or len(audiences) != 1:
            return self._err(70011, scope=scope_text)
        return str(audiences.pop())

    def _err(self, code: int, *, error: str | None = None, **fields: str) -> Response:
        return oauth_error(self._clock, code, error=error, **fields)


def _form(request: Request) -> dict[str, str]:
    parsed = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}
