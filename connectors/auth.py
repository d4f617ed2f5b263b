"""Sign-in with MSAL: app-only by certificate or client secret, device code for an admin, or none (emulator).

`SignIn(config).token_provider("graph")` is what a session asks for a bearer token on every request; MSAL
caches each token and fetches a new one before it expires. `sign_in_config_from_settings()` is the one
place that reads Settings.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import msal
import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS

from config.settings import Settings
from connectors.credentials import AppCertificate, load_certificate, load_token_cache, save_token_cache
from connectors.redaction import install_log_filter
from connectors.retry import Clock, Sleep
from connectors.transport import TokenProvider, build_session
from errors import AuthError, ConfigError

Resource = Literal["graph", "powerbi", "sharepoint"]
SignInMode = Literal["certificate", "client_secret", "device_code", "none"]
RESOURCE_NAMES: dict[Resource, str] = {
    "graph": "Microsoft Graph",
    "powerbi": "Power BI",
    "sharepoint": "SharePoint REST",
}
TOKEN_CACHE_FILE = "token_cache.json"  # device code only; .gitignore covers token_cache*.json
_AADSTS = re.compile(r"AADSTS(\d+)")
# MSAL masks tokens in its DEBUG cache event, not the device code it redeemed: its loggers get a mask.
MSAL_LOGGERS = ("msal.token_cache", "msal.application", "msal.oauth2cli.oauth2", "msal.telemetry")
AADSTS_HINTS: dict[int, str] = {
    7000215: "the client secret is wrong: set CETK_CLIENT_SECRET to a current secret of the app registration",
    7000222: "the client secret has expired: add a new one to the app registration (a certificate is better)",
    700027: "the certificate is not one the app registration holds: upload it, or fix auth.certificate_thumbprint",
    700016: "no app with this client_id in the tenant: check client_id and tenant_id",
    90002: "the tenant was not found: check tenant_id",
    70011: "the scope is not valid: check the scopes.* settings",
    1002012: "app-only sign-in needs a '/.default' scope: check the scopes.* settings",
    70020: "the device code expired before sign-in finished: run the command again and sign in sooner",
    70018: "the user declined the sign-in",
}


@dataclass(frozen=True)
class SignInConfig:
    """Everything sign-in needs, independent of how settings are loaded; secrets never appear in its repr."""

    mode: SignInMode
    tenant_id: str | None
    client_id: str | None
    authority_host: str  # https://login.microsoftonline.com, or the emulator's {base}/login
    scopes: Mapping[Resource, str | None]
    user_agent: str
    certificate_path: Path | None = None
    certificate_thumbprint: str | None = None
    send_certificate_chain: bool = False  # x5c for subject-name/issuer sign-in; off unless asked for
    ca_bundle: Path | None = None
    token_cache_path: Path | None = None  # device code only
    client_secret: str | None = field(default=None, repr=False)
    certificate_passphrase: str | None = field(default=None, repr=False)

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"


def sign_in_config_from_settings(settings: Settings, *, token_cache_path: Path | None = None) -> SignInConfig:
    """The adapter from config.settings.Settings: the only code that knows which setting feeds sign-in."""
    if settings.auth_mode not in get_args(SignInMode):
        raise ConfigError(f"setting 'auth.mode': '{settings.auth_mode}' is not a sign-in mode")
    secret, passphrase = settings.secrets.client_secret, settings.secrets.cert_passphrase
    return SignInConfig(
        mode=settings.auth_mode,
        tenant_id=settings.tenant_id,
        client_id=settings.client_id,
        authority_host=settings.endpoints.authority,
        scopes={
            "graph": settings.scopes.graph,
            "powerbi": settings.scopes.powerbi,
            "sharepoint": settings.scopes.sharepoint,
        },
        user_agent=settings.user_agent,
        certificate_path=settings.certificate_path,
        certificate_thumbprint=settings.certificate_thumbprint,
        ca_bundle=settings.ca_bundle,
        token_cache_path=token_cache_path or settings.paths.state_dir / TOKEN_CACHE_FILE,
        client_secret=secret.reveal() if secret is not None else None,
        certificate_passphrase=passphrase.reveal() if passphrase is not None else None,
    )


class SignIn:
    """One app's sign-in. Checks local credentials when made; talks to Entra ID only when a token is asked for."""

    def __init__(
        self,
        config: SignInConfig,
        *,
        http_client: requests.Session | None = None,
        show_device_code: Callable[[str], None] | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
    ) -> None:
        install_log_filter(*MSAL_LOGGERS)
        self.config = config
        self._http_client, self._show_device_code = http_client, show_device_code
        self._sleep, self._clock = sleep, clock
        self._lock = threading.Lock()
        self._application: msal.ClientApplication | None = None
        self._certificate: AppCertificate | None = None
        self._cache: msal.SerializableTokenCache | None = None
        if config.mode == "none":
            return
        _require(config.tenant_id, "tenant_id", "CETK_TENANT_ID")
        _require(config.client_id, "client_id", "CETK_CLIENT_ID")
        if urlsplit(config.authority_host).scheme != "https":
            raise ConfigError(
                f"setting 'endpoints.authority': {config.authority_host} is not https (MSAL refuses it)",
                hint="use https://login.microsoftonline.com, or auth.mode none for the plain-http emulator",
            )
        if config.mode == "client_secret":
            _require(config.client_secret, "the client secret", "CETK_CLIENT_SECRET")
        elif config.mode == "certificate":
            path = _require(config.certificate_path, "auth.certificate_path", "CETK_AUTH_CERTIFICATE_PATH")
            self._certificate = load_certificate(
                Path(path), config.certificate_passphrase, expected_thumbprint=config.certificate_thumbprint
            )
        elif config.mode == "device_code":
            self._cache = load_token_cache(self._cache_path())

    def token_provider(self, resource: Resource) -> TokenProvider | None:
        """What build_session takes for this resource; None in auth mode none (no Authorization header)."""
        if self.config.mode == "none":
            return None
        self._scope(resource)  # a missing or refused scope fails now, before any request
        return _Provider(self, resource)

    def acquire_token(self, resource: Resource) -> str:
        """An access token for the resource, from MSAL's cache or a new sign-in."""
        scope = self._scope(resource)
        try:
            application = self._app()
            if isinstance(application, msal.PublicClientApplication):
                with self._lock:
                    result = self._device_code_token(application, scope)
            else:
                assert isinstance(application, msal.ConfidentialClientApplication)
                result = application.acquire_token_for_client(scopes=[scope])
        except requests.RequestException as exc:
            raise AuthError(
                f"sign-in for {RESOURCE_NAMES[resource]} could not reach {self.config.authority} "
                f"({type(exc).__name__})",
                hint="check endpoints.authority, the network and proxy (HTTPS_PROXY), and ca_bundle",
            ) from exc
        token = result.get("access_token") if isinstance(result, dict) else None
        if not isinstance(token, str) or not token:
            raise _sign_in_error(result if isinstance(result, dict) else {}, resource, self.config)
        return token

    def _scope(self, resource: Resource) -> str:
        if resource == "sharepoint" and self.config.mode == "client_secret":
            raise ConfigError(
                "SharePoint REST refuses app-only tokens from a client secret ('Unsupported app only token')",
                hint="sign in with a certificate (auth.mode: certificate, auth.certificate_path), "
                "or read the lists through Microsoft Graph",
            )
        scope = self.config.scopes.get(resource)
        if not scope:
            raise ConfigError(
                f"no token scope for {RESOURCE_NAMES[resource]}",
                hint=f"set scopes.{resource}"
                + (" or sharepoint.site_url" if resource == "sharepoint" else ""),
            )
        return scope

    def _app(self) -> msal.ClientApplication:
        with self._lock:
            if self._application is None:
                self._application = self._build_application()
            return self._application

    def _build_application(self) -> msal.ClientApplication:
        config = self.config
        http_client = self._http_client or build_session(
            None,
            user_agent=config.user_agent,
            ca_bundle=config.ca_bundle,
            sleep=self._sleep,
            clock=self._clock,
        )
        options: dict[str, Any] = {"authority": config.authority, "http_client": http_client}
        if (urlsplit(config.authority_host).hostname or "") not in WELL_KNOWN_AUTHORITY_HOSTS:
            options["instance_discovery"] = False  # a sovereign or local authority: no lookup at Microsoft
        try:
            if config.mode == "device_code":
                return msal.PublicClientApplication(config.client_id, token_cache=self._cache, **options)
            return msal.ConfidentialClientApplication(
                config.client_id, client_credential=self._client_credential(), **options
            )
        except ValueError as exc:  # MSAL could not use the authority (bad tenant or host)
            raise ConfigError(
                f"the sign-in authority {config.authority} was refused",
                hint="check endpoints.authority and tenant_id",
            ) from exc

    def _client_credential(self) -> str | dict[str, str]:
        if self._certificate is None:
            assert self.config.client_secret is not None
            return self.config.client_secret
        credential = {
            "private_key": self._certificate.private_key_pem,
            "thumbprint": self._certificate.sha1_thumbprint,
        }
        if self.config.send_certificate_chain:
            credential["public_certificate"] = self._certificate.certificate_pem
        return credential

    def _device_code_token(self, application: msal.PublicClientApplication, scope: str) -> dict[str, Any]:
        for account in application.get_accounts():
            silent = application.acquire_token_silent([scope], account=account)
            if silent and "access_token" in silent:
                self._save_cache()
                return dict(silent)
        if self._show_device_code is None:
            raise ConfigError(
                "device-code sign-in needs someone at a terminal to enter the code",
                hint="run the command interactively once, or use auth.mode certificate for unattended runs",
            )
        flow = application.initiate_device_flow(scopes=[scope])
        if "user_code" not in flow:
            return dict(flow)
        self._show_device_code(str(flow["message"]))
        result = self._poll_device_flow(application, flow)
        self._save_cache()
        return result

    def _poll_device_flow(
        self, application: msal.PublicClientApplication, flow: dict[str, Any]
    ) -> dict[str, Any]:
        """Poll through MSAL one request at a time (exit_condition), waiting with the injected sleep.

        MSAL shares `flow` so callers can run their own loop; it adds 5 s to flow["interval"] on slow_down
        (RFC 8628 3.5). Its wall-clock "too soon" mark is cleared because the waits here are the injected ones.
        """
        deadline = self._clock() + float(flow.get("expires_in", 900))
        while True:
            flow.pop("latest_attempt_at", None)
            result: dict[str, Any] = application.acquire_token_by_device_flow(
                flow, exit_condition=lambda _: True
            )
            if result.get("error") not in ("authorization_pending", "slow_down"):
                return result
            interval = float(flow.get("interval", 5))
            if self._clock() + interval > deadline:
                return {"error": "expired_token", "error_codes": [70020]}
            self._sleep(interval)

    def _save_cache(self) -> None:
        if self._cache is not None:
            save_token_cache(self._cache, self._cache_path())

    def _cache_path(self) -> Path:
        return self.config.token_cache_path or Path(TOKEN_CACHE_FILE)


class _Provider:
    """A token provider bound to one resource; its repr names the resource, never a token."""

    def __init__(self, sign_in: SignIn, resource: Resource) -> None:
        self._sign_in, self.resource = sign_in, resource

    def __call__(self) -> str:
        return self._sign_in.acquire_token(self.resource)

    def __repr__(self) -> str:
        return f"TokenProvider({self.resource})"


def _require(value: Any, name: str, variable: str) -> Any:
    if not value:
        raise ConfigError(f"sign-in needs {name}", hint=f"set {name} in the config file or {variable}")
    return value


def _sign_in_error(result: dict[str, Any], resource: Resource, config: SignInConfig) -> AuthError:
    """AuthError from an MSAL error dict: the OAuth error and AADSTS code, never the description or a credential."""
    error = str(result.get("error") or "no_token")
    codes = result.get("error_codes")
    code: int | None = codes[0] if isinstance(codes, list) and codes and isinstance(codes[0], int) else None
    if code is None:
        found = _AADSTS.search(str(result.get("error_description", "")))
        code = int(found.group(1)) if found else None
    label = f"{error} (AADSTS{code})" if code is not None else error
    correlation = result.get("correlation_id")
    return AuthError(
        f"sign-in for {RESOURCE_NAMES[resource]} failed: {label}; tenant {config.tenant_id}, client {config.client_id}",
        hint=AADSTS_HINTS.get(code or 0, "check tenant_id, client_id and the credential (cetk config show)"),
        service_code=label,
        request_id=correlation if isinstance(correlation, str) else None,
    )
