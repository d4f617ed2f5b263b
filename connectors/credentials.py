"""Local credential material for sign-in: the app certificate (PEM or PFX) and the device-code token cache file.

Neither the private key, the passphrase nor a token ever reaches a log line or an error message.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import msal
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from errors import ConfigError

PFX_SUFFIXES = (".pfx", ".p12")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----", re.DOTALL)
CERTIFICATE_SETTING = "auth.certificate_path (CETK_AUTH_CERTIFICATE_PATH)"
PASSPHRASE_VARIABLE = "CETK_CERT_PASSPHRASE"


@dataclass(frozen=True)
class AppCertificate:
    """An app credential ready for MSAL: the key as unencrypted PEM (in memory only) and the certificate."""

    private_key_pem: str = field(repr=False)
    certificate_pem: str
    sha1_thumbprint: str  # upper-case hex, as the Entra portal shows it


def load_certificate(
    path: Path, passphrase: str | None = None, *, expected_thumbprint: str | None = None
) -> AppCertificate:
    """Read a PEM (key and certificate) or PFX file; check the key matches and the thumbprint, if configured."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"certificate file {path} cannot be read ({exc.strerror or type(exc).__name__})",
            hint=f"set {CERTIFICATE_SETTING} to the PEM or PFX file holding the app's certificate and key",
        ) from None
    secret = passphrase.encode() if passphrase else None
    if path.suffix.lower() in PFX_SUFFIXES:
        key, certificate = _load_pfx(path, data, secret)
    else:
        key, certificate = _load_pem(path, data, secret)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError(
            f"certificate file {path} holds a {type(key).__name__.lstrip('_')} key; Entra ID app certificates are RSA",
            hint="create an RSA (2048-bit or larger) certificate for the app registration",
        )
    if certificate.public_key() != key.public_key():
        raise ConfigError(
            f"certificate file {path}: the private key does not belong to the certificate",
            hint="export the certificate together with its own private key",
        )
    thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()  # Entra shows and x5t uses SHA-1
    if expected_thumbprint and expected_thumbprint.replace(":", "").strip().upper() != thumbprint:
        raise ConfigError(
            f"auth.certificate_thumbprint does not match the certificate in {path} (its thumbprint is {thumbprint})",
            hint="correct auth.certificate_thumbprint, or leave it empty to use the file's own thumbprint",
        )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    return AppCertificate(key_pem.decode(), cert_pem.decode(), thumbprint)


def _load_pfx(path: Path, data: bytes, passphrase: bytes | None) -> tuple[object, x509.Certificate]:
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(data, passphrase)
    except (ValueError, TypeError):
        raise ConfigError(
            f"certificate file {path} cannot be opened: a wrong passphrase, or not a PFX file",
            hint=f"set {PASSPHRASE_VARIABLE} (or the OS keyring entry cert_passphrase) to the file's passphrase",
        ) from None
    if key is None or certificate is None:
        raise ConfigError(
            f"certificate file {path} must hold both the certificate and its private key",
            hint="export the PFX with its private key",
        )
    return key, certificate


def _load_pem(path: Path, data: bytes, passphrase: bytes | None) -> tuple[object, x509.Certificate]:
    blocks = [(match.group(1).decode(), match.group(0)) for match in _PEM_BLOCK.finditer(data)]
    keys = [block for label, block in blocks if label.endswith("PRIVATE KEY")]
    certificates = [block for label, block in blocks if label == "CERTIFICATE"]
    if not keys or not certificates:
        raise ConfigError(
            f"certificate file {path} must hold a PRIVATE KEY and a CERTIFICATE block (PEM)",
            hint="concatenate the key and the certificate into one PEM file, or use a PFX file",
        )
    try:
        key = serialization.load_pem_private_key(keys[0], passphrase)
    except TypeError:  # encrypted without a passphrase, or a passphrase for a plain key
        raise ConfigError(
            f"certificate file {path}: the private key is encrypted and no passphrase is set"
            if passphrase is None
            else f"certificate file {path}: the private key is not encrypted, but a passphrase is set",
            hint=f"set or unset {PASSPHRASE_VARIABLE} to match the key",
        ) from None
    except ValueError:
        raise ConfigError(
            f"certificate file {path}: the private key cannot be read (a wrong passphrase, or damaged)",
            hint=f"check {PASSPHRASE_VARIABLE} and the file",
        ) from None
    public = key.public_key()
    loaded = [x509.load_pem_x509_certificate(block) for block in certificates]
    own = [cert for cert in loaded if cert.public_key() == public]
    return key, (own or loaded)[0]


def check_private_file(path: Path) -> None:
    """Refuse a token cache others could read: a leaked cache hands over the signed-in account (S3)."""
    if os.name == "nt":  # NTFS permissions are not POSIX modes; the user profile directory protects it
        return
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            f"token cache {path} is not a regular file", hint=f"delete {path}; cetk creates it again"
        )
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        raise ConfigError(
            f"token cache {path} can be read by other users (mode {stat.S_IMODE(info.st_mode):04o})",
            hint=f"run `chmod 600 {path}` as its owner, or delete it and sign in again",
        )


def load_token_cache(path: Path) -> msal.SerializableTokenCache:
    """The cache saved by an earlier device-code sign-in, after checking its permissions."""
    check_private_file(path)
    cache = msal.SerializableTokenCache()
    if path.exists():
        try:
            cache.deserialize(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise ConfigError(
                f"token cache {path} cannot be read", hint=f"delete {path}; the next run signs in again"
            ) from None
    return cache


def save_token_cache(cache: msal.SerializableTokenCache, path: Path) -> None:
    """Write the cache atomically, created with mode 0600 from the start (never widened, then narrowed)."""
    if not cache.has_state_changed:
        return
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(cache.serialize())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    cache.has_state_changed = False
