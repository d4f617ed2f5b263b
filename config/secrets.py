"""Secrets: read only from the environment or the OS keyring, wrapped so they never print.

Every Secret registers its value, so the logging filter (config/logs.py) can redact it wherever it appears.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

KEYRING_SERVICE = "cetk"
MASK = "***"

SecretName = Literal["client_secret", "cert_passphrase", "pseudonymisation_key"]
SECRET_ENV_VARS: dict[SecretName, str] = {
    "client_secret": "CETK_CLIENT_SECRET",
    "cert_passphrase": "CETK_CERT_PASSPHRASE",
    "pseudonymisation_key": "CETK_PSEUDONYMISATION_KEY",
}
KeyringLookup = Callable[[str, str], "str | None"]  # (service, username) -> password

_registered_values: set[str] = set()
logger = logging.getLogger(__name__)


class Secret:
    """A secret string: repr/str/format show ***; the value only comes out through reveal()."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a Secret needs a non-empty value")
        self._value = value
        _registered_values.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("Secret values are not pickled")


def registered_secret_values() -> frozenset[str]:
    """Values of every Secret made in this process (for redaction)."""
    return frozenset(_registered_values)


@dataclass(frozen=True)
class FoundSecret:
    secret: Secret | None
    source: Literal["env", "keyring", "not set"]


def keyring_lookup(service: str, username: str) -> str | None:
    """The OS keyring, or None when no backend works (headless Linux has none by default)."""
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(service, username)
        except KeyringError as exc:
            logger.debug("OS keyring unavailable (%s); using the environment only", type(exc).__name__)
            return None
    except (
        Exception
    ) as exc:  # backends raise their own errors (dbus, secretstorage); treat them all as absent
        logger.debug("OS keyring failed (%s); using the environment only", type(exc).__name__)
        return None


def find_secret(
    name: SecretName,
    environ: Mapping[str, str],
    lookup: KeyringLookup | None = keyring_lookup,
    *,
    keyring_name: str | None = None,
) -> FoundSecret:
    """The environment variable first, then the OS keyring entry (service 'cetk', username = name)."""
    value = environ.get(SECRET_ENV_VARS[name])
    if value:
        return FoundSecret(Secret(value), "env")
    if lookup is not None:
        stored = lookup(KEYRING_SERVICE, keyring_name or name)
        if stored:
            return FoundSecret(Secret(stored), "keyring")
    return FoundSecret(None, "not set")
