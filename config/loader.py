"""Build Settings from flags > CETK_* environment > YAML file > defaults, refusing secrets in files and flags.

`load()` is the only reader of the config file; callers pass `os.environ` in, so nothing else reads it.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import yaml

from config.secrets import SECRET_ENV_VARS, KeyringLookup, find_secret, keyring_lookup
from config.settings import (
    AUTH_MODES,
    CONFIG_ENV_VAR,
    DEFAULT_CONFIG_FILE,
    FIELDS,
    FIELDS_BY_KEY,
    LOG_LEVELS,
    AuthMode,
    Endpoints,
    ListNames,
    Paths,
    Scopes,
    Secrets,
    Settings,
    Source,
)
from errors import ConfigError, SecretInConfigError

SECRET_KEYS: dict[str, str] = {  # key name in a file -> the variable to use instead
    "client_secret": "CETK_CLIENT_SECRET",
    "secret": "CETK_CLIENT_SECRET",
    "password": "CETK_CERT_PASSPHRASE",
    "passphrase": "CETK_CERT_PASSPHRASE",
    "cert_passphrase": "CETK_CERT_PASSPHRASE",
    "certificate_passphrase": "CETK_CERT_PASSPHRASE",
    "private_key": "CETK_CERT_PASSPHRASE",
    "pseudonymisation_key": "CETK_PSEUDONYMISATION_KEY",
    "access_token": "CETK_CLIENT_SECRET",
    "refresh_token": "CETK_CLIENT_SECRET",
    "client_assertion": "CETK_CLIENT_SECRET",
}
SECRET_KEY_SUFFIXES = ("_secret", "_password", "_passphrase", "_private_key", "_token")
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
URL_KEYS = ("endpoints.authority", "endpoints.graph", "endpoints.powerbi", "sharepoint.site_url")
THUMBPRINT_PATTERN = re.compile(r"[0-9A-Fa-f]{40}")
logger = logging.getLogger(__name__)


def load(
    config_path: Path | None,
    environ: Mapping[str, str],
    overrides: Mapping[str, object] | None = None,
    *,
    keyring: KeyringLookup | None = keyring_lookup,
    strict: bool = True,
) -> Settings:
    """Effective settings; with strict=False, problems are kept in `settings.problems` instead of raised."""
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    _check_overrides(overrides)
    path = resolve_config_path(config_path, environ)
    from_file = read_config_file(path) if path else {}
    values: dict[str, str | None] = {}
    sources: dict[str, Source] = {}
    for item in FIELDS:
        env_value = environ.get(item.env_var)
        if item.key in overrides:
            values[item.key], sources[item.key] = str(overrides[item.key]), "flag"
        elif env_value:
            values[item.key], sources[item.key] = env_value, "env"
        elif item.key in from_file:
            values[item.key], sources[item.key] = from_file[item.key], "file"
        else:
            values[item.key], sources[item.key] = item.default, "default"
    settings = _build(values, sources, environ, keyring, path)
    problems = tuple(iter_problems(settings))
    logger.debug("settings from %s: %r", path or "defaults and environment", settings)
    if strict and problems:
        raise problems[0]
    return replace(settings, problems=problems)


def default_config_path(environ: Mapping[str, str]) -> Path:
    """Where `cetk init` writes and `load` looks: CETK_CONFIG, else ./cetk.yaml."""
    return Path(environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def resolve_config_path(config_path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config, else CETK_CONFIG, else ./cetk.yaml when it exists."""
    if config_path is not None:
        named: Path | None = config_path
        how = "--config"
    elif environ.get(CONFIG_ENV_VAR):
        named, how = Path(environ[CONFIG_ENV_VAR]), CONFIG_ENV_VAR
    else:
        default = Path(DEFAULT_CONFIG_FILE)
        return default if default.is_file() else None
    assert named is not None
    if not named.is_file():
        raise ConfigError(f"config file {named} (from {how}) not found", hint="create one with `cetk init`")
    return named


def read_config_file(path: Path) -> dict[str, str | None]:
    """Flat {dotted key: value} from a YAML file; refuses secrets, unknown keys and bad YAML."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(
            f"config file {where}: {problem}", hint="fix the YAML syntax at that line"
        ) from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config file {path}, line {line}: not UTF-8 text", hint="save the file as UTF-8"
        ) from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of keys to values")
    flat = dict(_flatten(document, path))
    for key, value in flat.items():
        _refuse_secret(path, key, value)
    unknown = sorted(key for key in flat if key not in FIELDS_BY_KEY)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
            hint=f"valid keys are: {', '.join(FIELDS_BY_KEY)}",
        )
    return {key: None if value is None else str(value) for key, value in flat.items()}


def _flatten(mapping: Mapping[Any, Any], path: Path, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for raw_key, value in mapping.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, dict):
            _refuse_secret(path, key, None)
            yield from _flatten(value, path, f"{key}.")
        elif isinstance(value, list):
            _refuse_secret(path, key, None)  # a secret is refused as such, whatever shape it has
            for item in value:
                _refuse_secret(path, key, item)
            raise ConfigError(f"config file {path}: {key} must be a single value, not a list")
        else:
            yield key, value


def _refuse_secret(path: Path, key: str, value: object) -> None:
    name = key.rsplit(".", 1)[-1].lower()
    variable = SECRET_KEYS.get(name)
    if variable is None and name.endswith(SECRET_KEY_SUFFIXES):
        variable = "CETK_CLIENT_SECRET" if "secret" in name else "CETK_CERT_PASSPHRASE"
    text = value if isinstance(value, str) else ""
    if variable is None and _has_url_password(text):
        variable = "no variable: cetk signs in with the app's own credential, so drop the user:password@ part"
    if variable is None and ("-----BEGIN" in text or JWT_PATTERN.search(text)):
        variable = "CETK_CERT_PASSPHRASE (keep the key in the auth.certificate_path file)"
        if JWT_PATTERN.search(text):
            variable = "no variable: tokens are fetched at run time, never configured"
    if variable is not None:
        raise SecretInConfigError(
            f"config file {path} holds a secret at key '{key}'; secrets are never read from files",
            hint=f"delete '{key}' from {path} and use {variable} or the OS keyring (service 'cetk')",
        )


def _has_url_password(text: str) -> bool:
    """A URL carrying a password (https://user:password@host/...): a credential, not a setting."""
    try:
        return "://" in text and urlsplit(text.strip()).password is not None
    except ValueError:  # an unparseable URL is reported by iter_problems, without the password check
        return False


def _check_overrides(overrides: Mapping[str, object]) -> None:
    for key, value in overrides.items():
        name = key.rsplit(".", 1)[-1].lower()
        if _has_url_password(str(value)):
            raise SecretInConfigError(
                f"'{key}' holds a URL with a password; flags end up in shell history",
                hint="drop the user:password@ part: cetk signs in with the app's own credential",
            )
        if name in SECRET_KEYS or name.endswith(SECRET_KEY_SUFFIXES):
            raise SecretInConfigError(
                f"'{key}' cannot be given as a flag: flags end up in shell history",
                hint=f"set {SECRET_KEYS.get(name, 'the CETK_* variable')} or use the OS keyring (service 'cetk')",
            )
        if key not in FIELDS_BY_KEY:
            raise ConfigError(f"unknown setting '{key}'", hint=f"valid keys are: {', '.join(FIELDS_BY_KEY)}")


def _build(
    values: Mapping[str, str | None],
    sources: dict[str, Source],
    environ: Mapping[str, str],
    keyring: KeyringLookup | None,
    path: Path | None,
) -> Settings:
    def get(key: str) -> str | None:
        value = values[key]
        return value.strip() if value and value.strip() else None

    def need(key: str) -> str:
        return get(key) or cast(str, FIELDS_BY_KEY[key].default)

    site_url = get("sharepoint.site_url")
    site = urlsplit(site_url) if site_url else None
    sharepoint_base = f"{site.scheme}://{site.netloc}" if site else None
    sharepoint_scope = get("scopes.sharepoint")
    if sharepoint_scope is None and sharepoint_base:
        sharepoint_scope = f"{sharepoint_base}/.default"
        sources["scopes.sharepoint"] = "derived"
    found = {
        "client_secret": find_secret("client_secret", environ, keyring),
        "cert_passphrase": find_secret("cert_passphrase", environ, keyring),
        "pseudonymisation_key": find_secret(
            "pseudonymisation_key", environ, keyring, keyring_name=need("pseudonymisation.key_name")
        ),
    }
    certificate_path, ca_bundle = get("auth.certificate_path"), get("ca_bundle")
    return Settings(
        tenant_id=get("tenant_id"),
        client_id=get("client_id"),
        auth_mode=cast(AuthMode, need("auth.mode").lower()),
        certificate_path=Path(certificate_path) if certificate_path else None,
        certificate_thumbprint=get("auth.certificate_thumbprint"),
        endpoints=Endpoints(
            need("endpoints.authority").rstrip("/"),
            need("endpoints.graph").rstrip("/"),
            need("endpoints.powerbi").rstrip("/"),
            sharepoint_base,
        ),
        scopes=Scopes(need("scopes.graph"), need("scopes.powerbi"), sharepoint_scope),
        sharepoint_site_url=site_url.rstrip("/") if site_url else None,
        lists=ListNames(
            need("sharepoint.lists.events"),
            need("sharepoint.lists.ccr"),
            need("sharepoint.lists.you_said_we_did"),
            need("sharepoint.lists.officers"),
        ),
        powerbi_workspace_id=get("powerbi.workspace_id"),
        powerbi_dataset_name=need("powerbi.dataset_name"),
        paths=Paths(
            Path(need("paths.staging_dir")), Path(need("paths.quarantine_dir")), Path(need("paths.state_dir"))
        ),
        pseudonymisation_key_name=need("pseudonymisation.key_name"),
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
        log_level=need("log_level").upper(),
        organisation=need("organisation"),
        secrets=Secrets(**{name: item.secret for name, item in found.items()}),
        values=dict(values),
        sources=dict(sources),
        secret_sources={name: item.source for name, item in found.items()},
        config_path=path,
    )


def _error(key: str, message: str, hint: str | None = None) -> ConfigError:
    variable = FIELDS_BY_KEY[key].env_var
    return ConfigError(
        f"setting '{key}': {message}", hint=hint or f"set '{key}' in the config file or {variable}"
    )


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def iter_problems(settings: Settings) -> Iterator[ConfigError]:
    """Every way the settings are unusable, each naming the key and the variable that sets it."""
    if settings.auth_mode not in AUTH_MODES:
        yield _error("auth.mode", f"'{settings.auth_mode}' is not one of {', '.join(AUTH_MODES)}")
    if settings.log_level not in LOG_LEVELS:
        yield _error("log_level", f"'{settings.log_level}' is not one of {', '.join(LOG_LEVELS)}")
    urls = {key: settings.values.get(key) for key in URL_KEYS}
    for key, url in urls.items():
        if not url:
            continue
        parts = urlsplit(url.strip())
        if parts.scheme not in ("https", "http") or not parts.hostname:
            yield _error(key, f"'{url}' is not an http(s) URL")
        elif parts.scheme == "http" and not is_loopback(url):
            yield _error(key, f"'{url}' uses http on a non-loopback host; tokens would travel in clear text")
    if settings.auth_mode == "none":
        remote = [key for key, url in urls.items() if url and not is_loopback(url.strip())]
        if remote:
            yield _error(
                "auth.mode",
                f"'none' is only for the local emulator, but {', '.join(remote)} point off this machine",
                hint="use auth.mode certificate for a real tenant, or point every endpoint at 127.0.0.1",
            )
        return
    if settings.auth_mode in ("certificate", "client_secret", "device_code"):
        for key, value in (("tenant_id", settings.tenant_id), ("client_id", settings.client_id)):
            if not value:
                yield _error(key, f"required for auth.mode {settings.auth_mode}")
    if settings.auth_mode == "certificate":
        yield from _iter_certificate_problems(settings)
    if settings.auth_mode == "client_secret" and settings.secrets.client_secret is None:
        yield ConfigError(
            "auth.mode client_secret needs the secret, and CETK_CLIENT_SECRET is not set",
            hint="set CETK_CLIENT_SECRET or store it in the OS keyring (service 'cetk', name 'client_secret')",
        )
    if settings.ca_bundle is not None and not settings.ca_bundle.is_file():
        yield _error("ca_bundle", f"file {settings.ca_bundle} not found")


def _iter_certificate_problems(settings: Settings) -> Iterator[ConfigError]:
    path = settings.certificate_path
    if path is None:
        yield _error("auth.certificate_path", "required for auth.mode certificate (a PEM or PFX file)")
        return
    if not path.is_file():
        yield _error("auth.certificate_path", f"file {path} not found")
        return
    thumbprint = (settings.certificate_thumbprint or "").replace(":", "").replace(" ", "")
    if thumbprint and not THUMBPRINT_PATTERN.fullmatch(thumbprint):
        yield _error("auth.certificate_thumbprint", "must be the 40 hex digits of the SHA-1 thumbprint")
    if not thumbprint and not _holds_certificate(path):
        yield _error(
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


__all__ = ["SECRET_ENV_VARS", "is_loopback", "iter_problems", "load", "read_config_file"]
