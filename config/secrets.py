"""Secrets: one table of them (loader, redaction and docs read it), read only from the environment or the OS
keyring, and wrapped so they never print.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

KEYRING_SERVICE = "cetk"
MASK = "***"

SecretName = Literal["client_secret", "cert_passphrase", "pseudonymisation_key"]
KeyringLookup = Callable[[str, str], "str | None"]  # (service, username) -> password

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SecretSpec:
    """One secret: where it comes from, what it is for, and the key names a config file may not use."""

    name: SecretName
    title: str
    env_var: str
    keyring_username: str  # the default entry under service 'cetk'
    description: str
    file_keys: tuple[str, ...]  # key names refused in a config file or --set, and masked in logs
    file_key_suffixes: tuple[str, ...] = ()  # so are the names ending in these
    keyring_setting: str | None = None  # the setting that renames the keyring entry, if any


SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec(
        "client_secret",
        "client secret",
        "CETK_CLIENT_SECRET",
        "client_secret",
        "`auth.mode: client_secret` (dev/test only)",
        ("secret", "client_assertion"),
        ("_secret", "_token"),  # client_secret, access_token, refresh_token
    ),
    SecretSpec(
        "cert_passphrase",
        "certificate passphrase",
        "CETK_CERT_PASSPHRASE",
        "cert_passphrase",
        "an encrypted private key or PFX",
        ("password", "passphrase", "private_key"),
        ("_password", "_passphrase", "_private_key"),  # cert_passphrase, certificate_passphrase
    ),
    SecretSpec(
        "pseudonymisation_key",
        "pseudonymisation key",
        "CETK_PSEUDONYMISATION_KEY",
        "pseudonymisation_key",
        "the HMAC key for officer and citizen keys",
        ("pseudonymisation_key",),
        keyring_setting="pseudonymisation.key_name",
    ),
)
SECRETS_BY_NAME: dict[SecretName, SecretSpec] = {spec.name: spec for spec in SECRETS}
SECRET_ENV_VARS: dict[SecretName, str] = {spec.name: spec.env_var for spec in SECRETS}
SECRET_KEY_NAMES: tuple[str, ...] = tuple(key for spec in SECRETS for key in spec.file_keys)
SECRET_KEY_SUFFIXES: tuple[str, ...] = tuple(suffix for spec in SECRETS for suffix in spec.file_key_suffixes)


def secret_for_key(key: str) -> SecretSpec | None:
    """The secret a key names (its last dotted part, by name or suffix, any case), or None for a plain one."""
    name = key.rsplit(".", 1)[-1].lower()
    for spec in SECRETS:
        if name in spec.file_keys:
            return spec
    for spec in SECRETS:
        if name.endswith(spec.file_key_suffixes):
            return spec
    return None


class Secret:
    """A secret string: repr/str/format show ***; the value only comes out through reveal()."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("a Secret needs a non-empty value")
        self._value = value

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


SecretSource = Literal["env", "keyring", "not set"]


@dataclass(frozen=True)
class FoundSecret:
    secret: Secret | None
    source: SecretSource


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
    spec = SECRETS_BY_NAME[name]
    value = environ.get(spec.env_var)
    if value:
        return FoundSecret(Secret(value), "env")
    if lookup is not None:
        stored = lookup(KEYRING_SERVICE, keyring_name or spec.keyring_username)
        if stored:
            return FoundSecret(Secret(stored), "keyring")
    return FoundSecret(None, "not set")
