"""Sign-in with the real MSAL against the HTTPS emulator: certificate (PEM, PFX), client secret, device code, none."""

from __future__ import annotations

import datetime as dt
import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config.loader import load
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.http import build_session, send
from emulator.testing import RunningEmulator
from errors import AuthError, ConfigError
from tests.connectors.conftest import (
    APP_ROLES,
    CLIENT_ID,
    USER_AGENT,
    AppCertificate,
    ManualTime,
    Waits,
    certificate_sign_in,
    make_app_certificate,
    service_session,
    sign_in_config,
)


def login_requests(emu: RunningEmulator) -> list[Any]:
    return [r for r in emu.emulator.request_log if r.service == "login" and r.path.endswith("/token")]


def powerbi_groups_status(emu: RunningEmulator, sign_in: SignIn, clock: ManualTime, waits: Waits) -> int:
    session = service_session(sign_in, "powerbi", emu, clock, waits)
    return send(session, "GET", emu.url("powerbi", "/v1.0/myorg/groups")).status_code


# certificate --------------------------------------------------------------------------------------------


def test_certificate_sign_in_with_the_real_msal_over_https(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)

    emu.stack.store.create_site("/sites/Neighbourhood", "Neighbourhood")
    graph = service_session(sign_in, "graph", emu, clock, waits)

    assert powerbi_groups_status(emu, sign_in, clock, waits) == 200
    assert send(graph, "GET", emu.url("graph", "/v1.0/sites/contoso.sharepoint.com:/sites/Neighbourhood")).ok
    assert [r.status for r in login_requests(emu)] == [200, 200]  # one token per resource


def test_tokens_come_from_msals_cache_until_they_near_expiry(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    provider = certificate_sign_in(emu, app_certificate, clock, waits).token_provider("powerbi")
    assert provider is not None

    tokens = {provider() for _ in range(5)}

    assert len(tokens) == 1 and len(login_requests(emu)) == 1
    assert repr(provider) == "TokenProvider(powerbi)"


@pytest.mark.parametrize("thumbprint", ["computed", "configured", "colon-separated"])
def test_the_thumbprint_is_computed_when_not_configured(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits, thumbprint: str
) -> None:
    configured = {
        "computed": None,
        "configured": app_certificate.thumbprint.lower(),
        "colon-separated": ":".join(app_certificate.thumbprint[i : i + 2] for i in range(0, 40, 2)),
    }[thumbprint]
    emu.login.register_app(CLIENT_ID, certificate_pem=app_certificate.certificate_pem, roles=APP_ROLES)
    config = sign_in_config(emu, certificate_path=app_certificate.path, certificate_thumbprint=configured)

    assert powerbi_groups_status(emu, SignIn(config), clock, waits) == 200


def test_a_thumbprint_that_does_not_match_the_file_fails_before_any_request(
    emu: RunningEmulator, app_certificate: AppCertificate
) -> None:
    config = sign_in_config(emu, certificate_path=app_certificate.path, certificate_thumbprint="AB" * 20)

    with pytest.raises(ConfigError, match="does not match the certificate") as caught:
        SignIn(config)

    assert app_certificate.thumbprint in str(caught.value)
    assert emu.emulator.request_log == []


@pytest.mark.parametrize("pfx", [False, True], ids=["encrypted-pem", "pfx"])
def test_a_passphrase_protected_certificate(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits, pfx: bool
) -> None:
    certificate = make_app_certificate(tmp_path, passphrase="correct-horse-battery", pfx=pfx)
    emu.login.register_app(CLIENT_ID, certificate_pem=certificate.certificate_pem, roles=APP_ROLES)
    config = sign_in_config(
        emu, certificate_path=certificate.path, certificate_passphrase="correct-horse-battery"
    )

    assert powerbi_groups_status(emu, SignIn(config), clock, waits) == 200


@pytest.mark.parametrize("pfx", [False, True], ids=["encrypted-pem", "pfx"])
@pytest.mark.parametrize("passphrase", [None, "Tr0ub4dor&3"])
def test_a_wrong_or_missing_passphrase_is_a_config_error_naming_the_variable(
    emu: RunningEmulator, tmp_path: Path, pfx: bool, passphrase: str | None
) -> None:
    certificate = make_app_certificate(tmp_path, passphrase="correct-horse-battery", pfx=pfx)
    config = sign_in_config(emu, certificate_path=certificate.path, certificate_passphrase=passphrase)

    with pytest.raises(ConfigError) as caught:
        SignIn(config)

    assert "CETK_CERT_PASSPHRASE" in caught.value.hint
    assert "correct-horse-battery" not in str(caught.value) and "Tr0ub4dor&3" not in str(caught.value)
    assert caught.value.__cause__ is None  # no library message carrying key material is chained


def test_sending_the_certificate_chain_is_opt_in_and_accepted(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, certificate_pem=app_certificate.certificate_pem, roles=APP_ROLES)
    config = sign_in_config(emu, certificate_path=app_certificate.path, send_certificate_chain=True)

    assert powerbi_groups_status(emu, SignIn(config), clock, waits) == 200


def test_a_certificate_the_app_does_not_hold_is_refused_with_aadsts700027(
    emu: RunningEmulator, tmp_path: Path, app_certificate: AppCertificate
) -> None:
    other = make_app_certificate(tmp_path, name="other")
    emu.login.register_app(CLIENT_ID, certificate_pem=app_certificate.certificate_pem, roles=APP_ROLES)
    provider = SignIn(sign_in_config(emu, certificate_path=other.path)).token_provider("graph")
    assert provider is not None

    with pytest.raises(AuthError) as caught:
        provider()

    assert caught.value.service_code == "invalid_client (AADSTS700027)"
    assert "upload it" in caught.value.hint
    assert caught.value.request_id  # the correlation id, for a support ticket


def test_certificate_file_problems_are_config_errors(emu: RunningEmulator, tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ec")])
    now = dt.datetime.now(dt.UTC)
    ec_certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(ec_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ec_key, hashes.SHA256())
    )
    ec_file = tmp_path / "ec.pem"
    ec_file.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + ec_certificate.public_bytes(serialization.Encoding.PEM)
    )
    one, two = make_app_certificate(tmp_path, name="one"), make_app_certificate(tmp_path, name="two")
    mixed = tmp_path / "mixed.pem"
    mixed.write_bytes(
        one.path.read_bytes().split(b"-----BEGIN CERTIFICATE")[0] + two.certificate_pem.encode()
    )
    key_only = tmp_path / "key-only.pem"
    key_only.write_bytes(one.path.read_bytes().split(b"-----BEGIN CERTIFICATE")[0])

    problems = {
        "missing": tmp_path / "absent.pem",
        "no certificate": key_only,
        "mismatched": mixed,
        "not RSA": ec_file,
    }
    messages = {}
    for name, path in problems.items():
        with pytest.raises(ConfigError) as caught:
            SignIn(sign_in_config(emu, certificate_path=path))
        messages[name] = str(caught.value)

    assert "cannot be read" in messages["missing"]
    assert "CERTIFICATE block" in messages["no certificate"]
    assert "does not belong to the certificate" in messages["mismatched"]
    assert "Entra ID app certificates are RSA" in messages["not RSA"]


# client secret ------------------------------------------------------------------------------------------


def test_client_secret_sign_in_for_graph_and_power_bi(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, secret="dev-only-secret", roles=APP_ROLES)
    sign_in = SignIn(
        sign_in_config(emu, "client_secret", client_secret="dev-only-secret"), sleep=waits, clock=clock.time
    )

    assert powerbi_groups_status(emu, sign_in, clock, waits) == 200
    graph = sign_in.token_provider("graph")
    assert graph is not None and graph()


def test_sharepoint_with_a_client_secret_is_refused_with_the_fix(emu: RunningEmulator) -> None:
    sign_in = SignIn(sign_in_config(emu, "client_secret", client_secret="dev-only-secret"))

    with pytest.raises(
        ConfigError, match="SharePoint REST refuses app-only tokens from a client secret"
    ) as caught:
        sign_in.token_provider("sharepoint")

    assert "auth.mode: certificate" in caught.value.hint
    assert emu.emulator.request_log == []


def test_a_wrong_secret_is_an_auth_error_with_the_aadsts_code_only(emu: RunningEmulator) -> None:
    emu.login.register_app(CLIENT_ID, secret="the-right-one", roles=APP_ROLES)
    provider = SignIn(sign_in_config(emu, "client_secret", client_secret="a-wrong-one")).token_provider(
        "graph"
    )
    assert provider is not None

    with pytest.raises(AuthError) as caught:
        provider()

    error = caught.value
    assert str(error) == (
        "sign-in for Microsoft Graph failed: invalid_client (AADSTS7000215); "
        "tenant contoso.onmicrosoft.com, client cetk-app"
    )
    assert "CETK_CLIENT_SECRET" in error.hint
    assert "Invalid client secret" not in str(error)  # the description is not echoed


@pytest.mark.parametrize(
    ("mode", "overrides", "needed"),
    [
        ("certificate", {"tenant_id": None}, "tenant_id"),
        ("client_secret", {"client_id": ""}, "client_id"),
        ("client_secret", {}, "CETK_CLIENT_SECRET"),
        ("certificate", {}, "auth.certificate_path"),
        ("certificate", {"authority_host": "http://127.0.0.1:1/login"}, "not https"),
    ],
)
def test_missing_settings_are_named(
    emu: RunningEmulator, mode: Any, overrides: dict[str, Any], needed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        SignIn(sign_in_config(emu, mode, **overrides))
    assert needed in str(caught.value) + caught.value.hint


def test_an_unknown_scope_is_a_config_error(emu: RunningEmulator, app_certificate: AppCertificate) -> None:
    config = sign_in_config(emu, certificate_path=app_certificate.path, scopes={"graph": "x"})
    with pytest.raises(ConfigError, match="no token scope for Power BI"):
        SignIn(config).token_provider("powerbi")


def test_an_unreachable_authority_is_an_auth_error(
    emu: RunningEmulator, app_certificate: AppCertificate
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = sign_in_config(
        emu, certificate_path=app_certificate.path, authority_host=f"https://127.0.0.1:{port}/login"
    )
    provider = SignIn(config, sleep=lambda seconds: None).token_provider("graph")
    assert provider is not None

    with pytest.raises(AuthError, match="could not reach") as caught:
        provider()

    assert "HTTPS_PROXY" in caught.value.hint


# none ---------------------------------------------------------------------------------------------------


def test_mode_none_gives_no_provider_and_no_authorization(emu: RunningEmulator) -> None:
    sign_in = SignIn(sign_in_config(emu, "none", tenant_id=None, client_id=None))
    assert sign_in.token_provider("graph") is None


# device code --------------------------------------------------------------------------------------------


class DevicePrompt:
    """Stands in for the person at the terminal: remembers the message, approves after `after` waits."""

    def __init__(self, emu: RunningEmulator, waits: Waits, after: int = 1, advance: bool = True) -> None:
        self.emu, self.waits, self.after, self.advance = emu, waits, after, advance
        self.messages: list[str] = []
        self.waited: list[float] = []

    def show(self, message: str) -> None:
        self.messages.append(message)

    def sleep(self, seconds: float) -> None:
        self.waited.append(seconds)
        if self.advance or len(self.waited) > 1:
            self.waits(seconds)
        if len(self.waited) == self.after:
            self.emu.login.approve_device_code(username="it.admin@contoso.example")


def no_poll_expected(seconds: float) -> None:
    pytest.fail("a silent sign-in polled for a device code")


def device_sign_in(
    emu: RunningEmulator, cache: Path, prompt: DevicePrompt | None, clock: ManualTime
) -> SignIn:
    config = sign_in_config(emu, "device_code", token_cache_path=cache)
    return SignIn(
        config,
        show_device_code=prompt.show if prompt else None,
        sleep=prompt.sleep if prompt else no_poll_expected,
        clock=clock.time,
    )


def test_device_code_polls_with_the_injected_sleep_and_saves_a_private_cache(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    cache = tmp_path / "state" / "token_cache.json"
    prompt = DevicePrompt(emu, waits, after=2)

    provider = device_sign_in(emu, cache, prompt, clock).token_provider("graph")
    assert provider is not None
    token = provider()

    assert token and prompt.waited == [5.0, 5.0]
    assert len(prompt.messages) == 1 and "enter the code" in prompt.messages[0]
    assert [r.status for r in login_requests(emu)] == [400, 400, 200]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600


def test_a_saved_cache_signs_in_silently_next_time(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    cache = tmp_path / "token_cache.json"
    first = device_sign_in(emu, cache, DevicePrompt(emu, waits), clock).token_provider("graph")
    assert first is not None and first()

    later = device_sign_in(emu, cache, None, clock).token_provider(
        "powerbi"
    )  # a new process: nobody at the terminal
    assert later is not None and later()


def test_slow_down_adds_five_seconds_to_the_interval(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    prompt = DevicePrompt(
        emu, waits, after=2, advance=False
    )  # the first wait ends early: the poll is too soon

    provider = device_sign_in(emu, tmp_path / "c.json", prompt, clock).token_provider("graph")
    assert provider is not None and provider()

    assert prompt.waited == [5.0, 10.0]


def test_an_unapproved_device_code_expires_as_an_auth_error(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    prompt = DevicePrompt(emu, waits, after=10_000)

    provider = device_sign_in(emu, tmp_path / "c.json", prompt, clock).token_provider("graph")
    assert provider is not None
    with pytest.raises(AuthError, match="AADSTS70020"):
        provider()

    assert sum(prompt.waited) <= 900
    assert not (tmp_path / "c.json").exists()


def test_device_code_without_anyone_at_the_terminal_is_a_config_error(
    emu: RunningEmulator, tmp_path: Path
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    provider = SignIn(
        sign_in_config(emu, "device_code", token_cache_path=tmp_path / "c.json")
    ).token_provider("graph")
    assert provider is not None
    with pytest.raises(ConfigError, match="needs someone at a terminal"):
        provider()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_s3_a_cache_others_can_read_is_refused_at_start_up(
    emu: RunningEmulator, tmp_path: Path, mode: int
) -> None:
    cache = tmp_path / "token_cache.json"
    cache.write_text("{}", encoding="utf-8")
    cache.chmod(mode)

    with pytest.raises(ConfigError, match="can be read by other users") as caught:
        SignIn(sign_in_config(emu, "device_code", token_cache_path=cache))

    assert f"chmod 600 {cache}" in caught.value.hint


def test_s3_a_symlinked_cache_is_refused(emu: RunningEmulator, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    target.write_text("{}", encoding="utf-8")
    target.chmod(0o600)
    (tmp_path / "token_cache.json").symlink_to(target)

    with pytest.raises(ConfigError, match="not a regular file"):
        SignIn(sign_in_config(emu, "device_code", token_cache_path=tmp_path / "token_cache.json"))


def test_s3_the_cache_is_created_0600_even_with_a_permissive_umask(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    cache = tmp_path / "token_cache.json"
    previous = os.umask(0)
    try:
        provider = device_sign_in(emu, cache, DevicePrompt(emu, waits), clock).token_provider("graph")
        assert provider is not None and provider()
    finally:
        os.umask(previous)

    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["token_cache.json"]  # no temporary file left behind


# the settings adapter -----------------------------------------------------------------------------------


def test_the_adapter_reads_every_sign_in_setting(tmp_path: Path) -> None:
    environ = {
        "CETK_TENANT_ID": "contoso.onmicrosoft.com",
        "CETK_CLIENT_ID": "cetk-app",
        "CETK_AUTH_MODE": "certificate",
        "CETK_AUTH_CERTIFICATE_PATH": str(tmp_path / "app.pem"),
        "CETK_AUTH_CERTIFICATE_THUMBPRINT": "AB" * 20,
        "CETK_ENDPOINTS_AUTHORITY": "https://login.microsoftonline.us",
        "CETK_SHAREPOINT_SITE_URL": "https://contoso.sharepoint.com/sites/Neighbourhood",
        "CETK_CA_BUNDLE": str(tmp_path / "ca.pem"),
        "CETK_PATHS_STATE_DIR": str(tmp_path / "state"),
        "CETK_CLIENT_SECRET": "s3cret-from-env",
        "CETK_CERT_PASSPHRASE": "passphrase-from-env",
    }
    settings = load(None, environ, keyring=None, strict=False).settings

    config = sign_in_config_from_settings(settings)

    assert (config.mode, config.tenant_id, config.client_id) == (
        "certificate",
        "contoso.onmicrosoft.com",
        "cetk-app",
    )
    assert config.authority == "https://login.microsoftonline.us/contoso.onmicrosoft.com"
    assert config.scopes == {
        "graph": "https://graph.microsoft.com/.default",
        "powerbi": "https://analysis.windows.net/powerbi/api/.default",
        "sharepoint": "https://contoso.sharepoint.com/.default",
    }
    assert config.certificate_path == tmp_path / "app.pem" and config.certificate_thumbprint == "AB" * 20
    assert config.ca_bundle == tmp_path / "ca.pem"
    assert config.token_cache_path == tmp_path / "state" / "token_cache.json"
    assert config.user_agent.startswith("NONISV|")
    assert (config.client_secret, config.certificate_passphrase) == ("s3cret-from-env", "passphrase-from-env")
    assert "s3cret-from-env" not in repr(config) and "passphrase-from-env" not in repr(config)


def test_msal_uses_the_session_it_is_given(emu: RunningEmulator, app_certificate: AppCertificate) -> None:
    session = build_session(None, user_agent=USER_AGENT, ca_bundle=emu.ca_file)
    emu.login.register_app(CLIENT_ID, certificate_pem=app_certificate.certificate_pem, roles=APP_ROLES)
    sign_in = SignIn(sign_in_config(emu, certificate_path=app_certificate.path), http_client=session)
    provider = sign_in.token_provider("graph")
    assert provider is not None and provider()
    assert session.stats.requests == 2  # discovery and the token: MSAL used the session it was given
