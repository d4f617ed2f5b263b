"""The YAML config file: where it is, and its flat {dotted key: value} reading, refusing secrets in it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from config.secrets import KEYRING_SERVICE, secret_for_key
from config.settings import CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE, FIELDS_BY_KEY
from errors import ConfigError, SecretInConfigError

JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
NO_URL_PASSWORD = "no variable: cetk signs in with the app's own credential, so drop the user:password@ part"


def default_config_path(environ: Mapping[str, str]) -> Path:
    """Where `cetk init` writes and `load` looks: CETK_CONFIG, else ./cetk.yaml."""
    return Path(environ.get(CONFIG_ENV_VAR) or DEFAULT_CONFIG_FILE)


def resolve_config_path(config_path: Path | None, environ: Mapping[str, str]) -> Path | None:
    """--config, else CETK_CONFIG, else ./cetk.yaml when it exists."""
    if config_path is not None:
        named, how = config_path, "--config"
    elif environ.get(CONFIG_ENV_VAR):
        named, how = Path(environ[CONFIG_ENV_VAR]), CONFIG_ENV_VAR
    else:
        default = Path(DEFAULT_CONFIG_FILE)
        return default if default.is_file() else None
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
    spec = secret_for_key(key)
    variable = spec.env_var if spec else None
    text = value if isinstance(value, str) else ""
    if variable is None and has_url_password(text):
        variable = NO_URL_PASSWORD
    if variable is None and JWT_PATTERN.search(text):
        variable = "no variable: tokens are fetched at run time, never configured"
    if variable is None and "-----BEGIN" in text:
        variable = "CETK_CERT_PASSPHRASE (keep the key in the auth.certificate_path file)"
    if variable is not None:
        raise SecretInConfigError(
            f"config file {path} holds a secret at key '{key}'; secrets are never read from files",
            hint=f"delete '{key}' from {path} and use {variable} or the OS keyring (service '{KEYRING_SERVICE}')",
        )


def has_url_password(text: str) -> bool:
    """A URL carrying a password (https://user:password@host/...): a credential, not a setting."""
    try:
        return "://" in text and urlsplit(text.strip()).password is not None
    except ValueError:  # an unparseable URL is reported by the checks, without the password check
        return False
