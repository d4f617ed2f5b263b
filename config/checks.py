"""Parsing and checking settings: every problem is a ConfigError naming the key and the variable that sets it."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from config.secrets import KEYRING_SERVICE, SECRETS_BY_NAME
from config.settings import (
    AUTH_MODES,
    FIELDS,
    FIELDS_BY_KEY,
    LOG_LEVELS,
    PUBLISH_MODES,
    SHAREPOINT_APIS,
    AuthMode,
    LogLevel,
    PublishMode,
    Settings,
    SharePointApi,
    Source,
)
from errors import ConfigError

URL_KEYS = tuple(item.key for item in FIELDS if item.url == "endpoint")  # base URLs tokens are sent to
THUMBPRINT_PATTERN = re.compile(r"[0-9A-Fa-f]{40}")
Choice = TypeVar("Choice", bound=str)


def setting_error(key: str, message: str, hint: str | None = None) -> ConfigError:
    variable = FIELDS_BY_KEY[key].env_var
    return ConfigError(
        f"setting '{key}': {message}", hint=hint or f"set '{key}' in the config file or {variable}"
    )


def describe_source(key: str, source: Source, config_path: Path | None = None) -> str:
    """Where a value came from, as a person would look for it: the flag, the variable or the file."""
    if source == "flag":
        return f"--set {key}"
    if source == "env":
        return FIELDS_BY_KEY[key].env_var
    if source == "file":
        return f"config file {config_path}" if config_path is not None else "the config file"
    return f"the {source} value"


def _parse_choice(key: str, normalised: str, choices: tuple[Choice, ...]) -> Choice:
    for choice in choices:
        if choice == normalised:
            return choice
    raise setting_error(key, f"'{normalised}' is not one of {', '.join(choices)}")


def parse_auth_mode(value: str) -> AuthMode:
    """certificate | client_secret | device_code | none (any case); else a ConfigError naming auth.mode."""
    return _parse_choice("auth.mode", value.strip().lower(), AUTH_MODES)


def parse_log_level(value: str) -> LogLevel:
    """DEBUG | INFO | WARNING | ERROR | CRITICAL (any case); else a ConfigError naming log_level."""
    return _parse_choice("log_level", value.strip().upper(), LOG_LEVELS)


def parse_sharepoint_api(value: str) -> SharePointApi:
    """graph | rest (any case); else a ConfigError naming sharepoint.api."""
    return _parse_choice("sharepoint.api", value.strip().lower(), SHAREPOINT_APIS)


def parse_publish_mode(value: str) -> PublishMode:
    """push | refresh | off (any case); else a ConfigError naming powerbi.mode."""
    return _parse_choice("powerbi.mode", value.strip().lower(), PUBLISH_MODES)


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def iter_problems(
    settings: Settings,
    values: Mapping[str, str | None],
    *,
    check_auth: bool = True,
    sources: Mapping[str, Source] | None = None,
    config_path: Path | None = None,
) -> Iterator[ConfigError]:
    """Every way the settings are unusable; `values` are the raw values (URLs are reported as given).

    check_auth=False when auth.mode itself did not parse: the other sign-in checks would be about a guess.
    A URL carrying a credential never gets here: config.loader refuses it first.
    """
    urls = {key: values.get(key) for key in URL_KEYS}
    for key, url in urls.items():
        if not url:
            continue
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            yield setting_error(key, f"'{url}' is not an http(s) URL")
        elif parts.scheme == "http" and not is_loopback(url):
            yield setting_error(
                key, f"'{url}' uses http on a non-loopback host; tokens would travel in clear text"
            )
        elif parts.query or parts.fragment or url.strip().endswith(("?", "#")):
            where = describe_source(key, (sources or {}).get(key, "default"), config_path)
            yield ConfigError(
                f"setting '{key}' (from {where}): a base URL takes no ?query or #fragment",
                hint=f"give scheme, host and path only, e.g. {FIELDS_BY_KEY[key].default or 'https://contoso.sharepoint.com/sites/x'}",
            )
    if check_auth:
        yield from _iter_auth_problems(settings, urls)
    if settings.ca_bundle is not None and not settings.ca_bundle.is_file():
        yield setting_error("ca_bundle", f"file {settings.ca_bundle} not found")


def _iter_auth_problems(settings: Settings, urls: Mapping[str, str | None]) -> Iterator[ConfigError]:
    if settings.auth_mode == "none":
        remote = [key for key, url in urls.items() if url and not is_loopback(url.strip())]
        if remote:
            yield setting_error(
                "auth.mode",
                f"'none' is only for the local emulator, but {', '.join(remote)} point off this machine",
                hint="use auth.mode certificate for a real tenant, or point every endpoint at 127.0.0.1",
            )
        return
    for key, value in (("tenant_id", settings.tenant_id), ("client_id", settings.client_id)):
        if not value:
            yield setting_error(key, f"required for auth.mode {settings.auth_mode}")
    if settings.auth_mode == "certificate":
        yield from _iter_certificate_problems(settings)
    if settings.sharepoint_api == "rest" and settings.auth_mode == "client_secret":
        yield setting_error(
            "sharepoint.api",
            "'rest' cannot sign in with auth.mode client_secret: SharePoint REST refuses app-only tokens "
            "from a client secret ('Unsupported app only token')",
            hint="use auth.mode certificate with sharepoint.api rest, or sharepoint.api graph",
        )
    if settings.auth_mode == "client_secret" and settings.secrets.client_secret is None:
        spec = SECRETS_BY_NAME["client_secret"]
        yield ConfigError(
            f"auth.mode client_secret needs the secret, and {spec.env_var} is not set",
            hint=f"set {spec.env_var} or store it in the OS keyring "
            f"(service '{KEYRING_SERVICE}', name '{spec.keyring_username}')",
        )


def _iter_certificate_problems(settings: Settings) -> Iterator[ConfigError]:
    path = settings.certificate_path
    if path is None:
        yield setting_error("auth.certificate_path", "required for auth.mode certificate (a PEM or PFX file)")
        return
    if not path.is_file():
        yield setting_error("auth.certificate_path", f"file {path} not found")
        return
    thumbprint = (settings.certificate_thumbprint or "").replace(":", "").replace(" ", "")
    if thumbprint and not THUMBPRINT_PATTERN.fullmatch(thumbprint):
        yield setting_error(
            "auth.certificate_thumbprint", "must be the 40 hex digits of the SHA-1 thumbprint"
        )
    if not thumbprint and not _holds_certificate(path):
        yield setting_error(
            "auth.certificate_thumbprint",
            f"required because {path} holds no certificate (only a private key)",
            hint="set auth.certificate_thumbprint (CETK_AUTH_CERTIFICATE_THUMBPRINT) or add the certificate to the PEM",
        )


def _holds_certificate(path: Path) -> bool:
    if path.suffix.lower() in (".pfx", ".p12"):
        return True  # a PKCS#12 file carries the certificate with the key
    try:
        return b"-----BEGIN CERTIFICATE-----" in path.read_bytes()
    except OSError:
        return False
