"""Fixtures for the HTTP and sign-in seam: the HTTPS emulator on a manual clock, waits that advance it, an app.

The emulator is reached only through emulator.testing and emulator.faults, so its inner layout can change.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from connectors.auth import SignIn, SignInConfig, SignInMode
from connectors.http import RetryPolicy, ServiceSession, build_session
from emulator.testing import DEFAULT_TENANT, FaultPlan, RunningEmulator, running_emulator

USER_AGENT = "NONISV|Test Constabulary|cetk/0.1.0"
CLIENT_ID = "cetk-app"
# The application permissions the test app holds: Graph reads everywhere (S10 tests use Sites.Selected).
APP_ROLES = {"graph": ("Sites.Read.All",), "sharepoint": ("Sites.Read.All",)}
SCOPES = {
    "graph": "https://graph.microsoft.com/.default",
    "powerbi": "https://analysis.windows.net/powerbi/api/.default",
    "sharepoint": "https://contoso.sharepoint.com/.default",
}


class ManualTime:
    """The emulator's clock (now()) and cetk's (time()): both stand still until a wait advances them."""

    def __init__(self) -> None:
        self._now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def time(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)


class Waits:
    """The injected sleep: records every wait and moves the clock on instead of sleeping."""

    def __init__(self, clock: ManualTime) -> None:
        self.clock = clock
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.clock.advance(seconds)


@dataclass(frozen=True)
class AppCertificate:
    path: Path
    certificate_pem: str
    thumbprint: str


def make_app_certificate(
    directory: Path, *, passphrase: str | None = None, pfx: bool = False, name: str = "app"
) -> AppCertificate:
    """A self-signed RSA app certificate written as one PEM (key + certificate) or a PFX file, mode 0600."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    if pfx:
        path = directory / f"{name}.pfx"
        data = pkcs12.serialize_key_and_certificates(name.encode(), key, certificate, None, encryption)
    else:
        path = directory / f"{name}.pem"
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        data += certificate.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(data)
    path.chmod(0o600)
    thumbprint = certificate.fingerprint(hashes.SHA1()).hex().upper()
    return AppCertificate(path, certificate.public_bytes(serialization.Encoding.PEM).decode(), thumbprint)


@pytest.fixture
def clock() -> ManualTime:
    return ManualTime()


@pytest.fixture
def waits(clock: ManualTime) -> Waits:
    return Waits(clock)


@pytest.fixture(scope="session")
def tls_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator-tls")  # the CA and server certificate are made once per run


StartEmulator = Callable[..., RunningEmulator]


@pytest.fixture
def start_emulator(clock: ManualTime, tls_dir: Path) -> Iterator[StartEmulator]:
    """Start the HTTPS emulator on the test clock; `faults` is a FaultPlan or its dict form."""
    with ExitStack() as stack:

        def start(faults: FaultPlan | dict[str, Any] | None = None, **options: Any) -> RunningEmulator:
            plan = FaultPlan.from_dict(faults) if isinstance(faults, dict) else faults
            return stack.enter_context(
                running_emulator(https=True, clock=clock, faults=plan, cert_dir=tls_dir, **options)
            )

        yield start


@pytest.fixture
def emu(start_emulator: StartEmulator) -> RunningEmulator:
    return start_emulator()


@pytest.fixture
def app_certificate(tmp_path: Path) -> AppCertificate:
    return make_app_certificate(tmp_path)


def sign_in_config(emu: RunningEmulator, mode: SignInMode = "certificate", **overrides: Any) -> SignInConfig:
    values: dict[str, Any] = {
        "mode": mode,
        "tenant_id": DEFAULT_TENANT,
        "client_id": CLIENT_ID,
        "authority_host": emu.url("login", ""),
        "scopes": SCOPES,
        "user_agent": USER_AGENT,
        "ca_bundle": emu.ca_file,
    }
    values.update(overrides)
    return SignInConfig(**values)


def certificate_sign_in(
    emu: RunningEmulator, certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> SignIn:
    """The app registered with its certificate, signed in through the real MSAL over HTTPS."""
    emu.login.register_app(CLIENT_ID, certificate_pem=certificate.certificate_pem, roles=APP_ROLES)
    return SignIn(sign_in_config(emu, certificate_path=certificate.path), sleep=waits, clock=clock.time)


def service_session(
    sign_in: SignIn | None,
    resource: str,
    emu: RunningEmulator,
    clock: ManualTime,
    waits: Waits,
    **policy: Any,
) -> ServiceSession:
    provider = sign_in.token_provider(resource) if sign_in is not None else None  # type: ignore[arg-type]
    return build_session(
        provider,
        user_agent=USER_AGENT,
        ca_bundle=emu.ca_file,
        retries=RetryPolicy(**policy),
        sleep=waits,
        clock=clock.time,
        jitter=lambda: 0.0,
    )


def seed_list(emu: RunningEmulator, items: int, *, site_path: str = "/sites/Test") -> str:
    """A Graph list of `items` items titled 'item N'; returns its items URL below the Graph mount."""
    store = emu.stack.store
    site = store.create_site(site_path, "Test")
    sp_list = store.create_list(site, "Items", [])
    for number in range(1, items + 1):
        store.add_item(sp_list, {"Title": f"item {number}"})
    return emu.url("graph", f"/v1.0/sites/{site.id}/lists/{sp_list.id}/items")
