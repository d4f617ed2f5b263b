"""The YAML config file: where it is, and its flat {dotted key: value} reading, refusing secrets in it.

The file is read by config.safe_yaml, and each key and value is checked as it is read: a key named like
a secret, a value that is a credential (a PEM block, a JWT, a URL carrying one) and an unknown key are
found while walking, before the next entry is read. Messages name the key only when it is a setting's,
a secret's or close to one (a typo); any other key is named by its line, so a pasted secret is not echoed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Hashable, Iterator, Mapping
from pathlib import Path
from typing import Any

from config.safe_yaml import KeyPath, YamlLimits, read_yaml_file
from config.secrets import KEYRING_SERVICE, secret_for_key
from config.settings import CONFIG_ENV_VAR, DEFAULT_CONFIG_FILE, FIELDS_BY_KEY
from config.urls import url_credential
from errors import ConfigError, SecretInConfigError

# A config file is ~3 kB (config/example.yaml) and 3 levels deep (sharepoint.lists.events).
CONFIG_LIMITS = YamlLimits(max_bytes=100_000, max_depth=5, max_nodes=2_000)
MAX_UNKNOWN_KEYS_REPORTED = 10
JWT_PATTERN = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")
PRIVATE_KEY_PATTERN = re.compile(r"-----BEGIN [A-Z0-9 ]*-----")
SECTIONS = frozenset(key.rsplit(".", i)[0] for key in FIELDS_BY_KEY for i in range(1, key.count(".") + 1))
_KEY_SHAPE = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SYNTAX_HINT = "fix the YAML at that line (docs/config.md shows the layout)"


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
    walk = _Walk(path)
    document = read_yaml_file(
        path,
        f"config file {path}",
        limits=CONFIG_LIMITS,
        hint=_SYNTAX_HINT,
        typed=False,  # every value stays the text written: `client_id: 0123` is not the number 83
        check_key=walk.check_key,
        check_value=walk.check_value,
    )
    if walk.unknown:
        many = len(walk.unknown) > 1
        raise ConfigError(
            f"config file {path}: unknown key{'s' if many else ''} {', '.join(walk.unknown)}",
            hint=f"valid keys are: {', '.join(FIELDS_BY_KEY)}",
        )
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path}: the top level must be a mapping of keys to values")
    return dict(_flatten(document, path))


def secret_in_value(text: str) -> str | None:
    """What credential a setting's value is (a private key, a JWT, a URL carrying one), or None."""
    if PRIVATE_KEY_PATTERN.search(text):
        return "a PEM block (-----BEGIN ...)"
    if JWT_PATTERN.search(text):
        return "a JWT (eyJ...)"
    if "://" in text:
        return url_credential(text)
    return None


class _Walk:
    """The checks that run on each key and value while the file is read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unknown: list[str] = []

    def check_key(self, keys: KeyPath, line: int) -> None:
        dotted = _dotted(keys)
        spec = secret_for_key(dotted) if isinstance(keys[-1], str) else None
        what = secret_in_value(str(keys[-1]))
        if spec is not None or what is not None:
            variable = spec.env_var if spec is not None else "no variable: keep credentials out of the file"
            raise SecretInConfigError(
                f"config file {self.path} holds a secret at {_shown(dotted, line)}; "
                "secrets are never read from files",
                hint=f"delete that key from {self.path} and use {variable} "
                f"or the OS keyring (service '{KEYRING_SERVICE}')",
            )
        parent = _dotted(keys[:-1])
        known_parent = not keys[:-1] or parent in SECTIONS
        if known_parent and dotted not in FIELDS_BY_KEY and dotted not in SECTIONS:
            self.unknown.append(_unknown(dotted, parent, line))
            if len(self.unknown) >= MAX_UNKNOWN_KEYS_REPORTED:
                raise ConfigError(
                    f"config file {self.path}: unknown keys {', '.join(self.unknown)} and perhaps more",
                    hint=f"valid keys are: {', '.join(FIELDS_BY_KEY)}",
                )

    def check_value(self, keys: KeyPath, value: object, line: int) -> None:
        if not isinstance(value, str):
            return
        dotted = _dotted(keys)
        field = FIELDS_BY_KEY.get(dotted)
        what = secret_in_value(value) or (url_credential(value) if field is not None and field.url else None)
        if what is None:
            return
        if what.startswith(("a PEM", "a JWT")):
            variable = (
                "CETK_CERT_PASSPHRASE (keep the key in the auth.certificate_path file)"
                if what.startswith("a PEM")
                else "no variable: tokens are fetched at run time, never configured"
            )
            raise SecretInConfigError(
                f"config file {self.path} holds a secret at {_shown(dotted, line)}: {what}; "
                "secrets are never read from files",
                hint=f"delete it from {self.path} and use {variable} or the OS keyring (service '{KEYRING_SERVICE}')",
            )
        raise SecretInConfigError(
            f"config file {self.path} holds a credential in the URL at {_shown(dotted, line)}: {what}",
            hint=f"remove {what} from the URL: cetk signs in with the app's own credential (auth.mode)",
        )


def _dotted(keys: KeyPath) -> str:
    return ".".join(str(key) for key in keys)


def _shown(dotted: str, line: int) -> str:
    """key 'auth.client_secret' (line 3) when it is key-shaped; else only the line, never the text."""
    if all(_KEY_SHAPE.fullmatch(part) for part in dotted.split(".")):
        return f"key '{dotted}' (line {line})"
    return f"a key on line {line}"


def _unknown(dotted: str, parent: str, line: int) -> str:
    """An unknown key, named only when it is a near miss of a real one (a typo echoes nothing secret)."""
    siblings = [key for key in (*FIELDS_BY_KEY, *SECTIONS) if key.rsplit(".", 1)[0] == parent or not parent]
    close = difflib.get_close_matches(dotted, siblings, n=1, cutoff=0.75) if len(dotted) <= 80 else []
    if close:
        return f"'{dotted}' (line {line}; did you mean '{close[0]}'?)"
    return f"on line {line}" + (f" under '{parent}'" if parent else "")


def _flatten(
    mapping: Mapping[Hashable, Any], path: Path, prefix: str = ""
) -> Iterator[tuple[str, str | None]]:
    for raw_key, value in mapping.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, dict):
            if key in FIELDS_BY_KEY:
                raise ConfigError(f"config file {path}: '{key}' must be a single value, not a mapping")
            yield from _flatten(value, path, f"{key}.")
        elif isinstance(value, list):
            raise ConfigError(f"config file {path}: '{key}' must be a single value, not a list")
        elif key in SECTIONS:
            if value is not None:
                raise ConfigError(f"config file {path}: '{key}' is a section; put its keys under it")
        else:
            yield key, None if value is None else str(value)
