"""Credentials kept out of settings: a secret setting given as a flag, or a credential (a private key, a
token, a password in a URL) inside any setting's value from a flag or a CETK_* variable, is refused with a
SecretInConfigError that says where it came from and where it belongs (config/loader.py calls these first;
config/files.py refuses the same in the config file).
"""

from __future__ import annotations

from collections.abc import Mapping

from config.checks import describe_source
from config.files import secret_in_value
from config.secrets import KEYRING_SERVICE, secret_for_key
from config.settings import FIELDS, FIELDS_BY_KEY
from config.urls import url_credential
from errors import ConfigError, SecretInConfigError

__all__ = ["refuse_credentials_in_environment", "refuse_secret_flags"]


def refuse_secret_flags(overrides: Mapping[str, object]) -> None:
    """`--set` pairs: none may name a secret setting or hold a credential, and every key must be a setting."""
    for key, value in overrides.items():
        spec = secret_for_key(key)
        if spec is not None:
            raise SecretInConfigError(
                f"'{key}' cannot be given as a flag: flags end up in shell history",
                hint=f"set {spec.env_var} or use the OS keyring (service '{KEYRING_SERVICE}')",
            )
        what = _credential_in(key, str(value))
        if what is not None:
            raise SecretInConfigError(
                f"setting '{key}' (from {describe_source(key, 'flag')}) holds {what}; "
                "flags end up in shell history",
                hint=_credential_hint(what),
            )
        if key not in FIELDS_BY_KEY:
            raise ConfigError(f"unknown setting '{key}'", hint=f"valid keys are: {', '.join(FIELDS_BY_KEY)}")


def refuse_credentials_in_environment(environ: Mapping[str, str]) -> None:
    """Every CETK_* setting variable set, winning or not: none may hold a credential."""
    for item in FIELDS:
        what = _credential_in(item.key, environ.get(item.env_var) or "")
        if what is not None:
            raise SecretInConfigError(
                f"setting '{item.key}' (from {item.env_var}) holds {what}",
                hint=_credential_hint(what),
            )


def _credential_in(key: str, value: str) -> str | None:
    """What credential a setting's value holds; a URL setting's value is read as a URL even without ://."""
    field = FIELDS_BY_KEY.get(key)
    found = secret_in_value(value)
    if found is None and field is not None and field.url is not None:
        found = url_credential(value)
    return found


def _credential_hint(what: str) -> str:
    if what.startswith("a PEM"):
        return (
            "keep the private key in the auth.certificate_path file (its passphrase in CETK_CERT_PASSPHRASE)"
        )
    if what.startswith("a JWT"):
        return "tokens are fetched at run time, never configured: remove it"
    return f"remove {what} from the URL: cetk signs in with the app's own credential (auth.mode), never one in a URL"
