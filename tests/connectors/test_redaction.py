"""S1: with DEBUG logging on (urllib3, MSAL, cetk), no secret, token, assertion or device code is logged or raised.

Secret values are distinctive strings; JWTs (access tokens, client assertions, id tokens) all start `eyJ`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.loader import load
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.http import build_session, iter_pages, redact_url, send
from connectors.redaction import (
    MAX_SERVICE_MESSAGE_CHARS,
    RedactingLogFilter,
    install_log_filter,
    redact_text,
    scrub_text,
)
from emulator.testing import DEFAULT_TENANT, RunningEmulator
from errors import AuthError, CetkError, ConnectorError
from tests.connectors.conftest import (
    APP_ROLES,
    CLIENT_ID,
    USER_AGENT,
    AppCertificate,
    ManualTime,
    Waits,
    certificate_sign_in,
    seed_list,
    sign_in_config,
)

SECRET = "SUPERSECRET-123"
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")  # access and id tokens, client assertions


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)  # the root logger: urllib3, msal and connectors.* all record
    yield caplog


def everything_said(caplog: pytest.LogCaptureFixture, *errors: BaseException) -> str:
    """Log text plus each error's str, repr, hint, args and attributes, and those of its causes."""
    parts = [caplog.text]
    for error in errors:
        seen: BaseException | None = error
        while seen is not None:
            parts += [str(seen), repr(seen), repr(seen.args), repr(vars(seen))]
            if isinstance(seen, CetkError):
                parts.append(seen.hint)
            seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def secret_settings(emu: RunningEmulator, tmp_path: Path) -> Any:
    environ = {
        "CETK_TENANT_ID": DEFAULT_TENANT,
        "CETK_CLIENT_ID": CLIENT_ID,
        "CETK_AUTH_MODE": "client_secret",
        "CETK_CLIENT_SECRET": SECRET,
        "CETK_ENDPOINTS_AUTHORITY": emu.url("login", ""),
        "CETK_CA_BUNDLE": str(emu.ca_file),
        "CETK_PATHS_STATE_DIR": str(tmp_path),
    }
    return load(None, environ, keyring=None, strict=False).settings


def test_s1_client_secret_from_the_environment_and_a_forced_401(
    emu: RunningEmulator, tmp_path: Path, debug_log: pytest.LogCaptureFixture, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, secret=SECRET, roles=APP_ROLES)
    sign_in = SignIn(
        sign_in_config_from_settings(secret_settings(emu, tmp_path)), sleep=waits, clock=clock.time
    )
    powerbi_provider = sign_in.token_provider("powerbi")
    assert powerbi_provider is not None
    powerbi_token = powerbi_provider()
    items_url = seed_list(emu, 3)
    # A Power BI token sent to Graph: Graph answers 401 InvalidAuthenticationToken (wrong audience).
    graph_with_wrong_token = build_session(
        powerbi_provider, user_agent=USER_AGENT, ca_bundle=emu.ca_file, sleep=waits, clock=clock.time
    )

    with pytest.raises(AuthError) as refused:
        list(iter_pages(graph_with_wrong_token, items_url))

    assert refused.value.status == 401
    said = (
        everything_said(debug_log, refused.value) + repr(sign_in.config) + repr(graph_with_wrong_token.auth)
    )
    assert SECRET not in said
    assert powerbi_token not in said
    assert not JWT.search(said)
    assert "GET " in caplog_messages(debug_log)  # DEBUG logging really was on


def test_s1_a_refused_client_secret_is_not_echoed(
    emu: RunningEmulator, tmp_path: Path, debug_log: pytest.LogCaptureFixture
) -> None:
    emu.login.register_app(CLIENT_ID, secret="the-registered-one", roles=APP_ROLES)
    provider = SignIn(sign_in_config_from_settings(secret_settings(emu, tmp_path))).token_provider("graph")
    assert provider is not None

    with pytest.raises(AuthError) as refused:
        provider()

    assert [r.status for r in emu.emulator.request_log if r.path.endswith("/token")] == [401]
    said = everything_said(debug_log, refused.value)
    assert SECRET not in said and "the-registered-one" not in said


def test_s1_certificate_sign_in_logs_no_assertion_key_or_token(
    emu: RunningEmulator,
    app_certificate: AppCertificate,
    debug_log: pytest.LogCaptureFixture,
    clock: ManualTime,
    waits: Waits,
) -> None:
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    provider = sign_in.token_provider("graph")
    assert provider is not None
    token = provider()
    session = build_session(
        provider, user_agent=USER_AGENT, ca_bundle=emu.ca_file, sleep=waits, clock=clock.time
    )

    with pytest.raises(ConnectorError) as missing:
        send(session, "GET", emu.url("graph", "/v1.0/sites/contoso.sharepoint.com:/sites/Nowhere"))

    said = everything_said(debug_log, missing.value) + repr(sign_in.config)
    assert token not in said and not JWT.search(said)
    assert "PRIVATE KEY" not in said
    key_body = app_certificate.path.read_text().split("-----")[2].strip().splitlines()[1]
    assert key_body not in said  # no line of the private key either


def test_s1_device_code_and_refresh_token_stay_out_of_the_log(
    emu: RunningEmulator, tmp_path: Path, debug_log: pytest.LogCaptureFixture, clock: ManualTime, waits: Waits
) -> None:
    emu.login.register_app(CLIENT_ID, public_client=True)
    device_codes: list[str] = []

    def approve(seconds: float) -> None:
        waits(seconds)
        device_codes.extend(code.device_code for code in emu.login.device_codes.pending())
        emu.login.approve_device_code(username="it.admin@contoso.example")

    config = sign_in_config(emu, "device_code", token_cache_path=tmp_path / "token_cache.json")
    sign_in = SignIn(config, show_device_code=lambda message: None, sleep=approve, clock=clock.time)
    provider = sign_in.token_provider("graph")
    assert provider is not None
    provider()
    refresh_tokens = re.findall(r'"secret": "([^"]+)"', (tmp_path / "token_cache.json").read_text())

    said = everything_said(debug_log)
    assert device_codes and refresh_tokens
    assert all(value not in said for value in device_codes + refresh_tokens)
    assert not JWT.search(said)


def caplog_messages(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_redact_url_masks_credentials_and_keeps_the_rest() -> None:
    assert redact_url("https://u:p@h.example/a/b?$top=5&sig=abc&Token=t&x=1#frag") == (
        "https://***@h.example/a/b?$top=5&sig=***&Token=***&x=1"
    )
    assert redact_url("/v1.0/items?$skiptoken=abc") == "/v1.0/items?$skiptoken=abc"


def test_scrub_text_removes_tokens_named_values_and_known_secrets() -> None:
    text = "Bearer abc.def client_secret=hunter2 eyJhbGciOi.eyJzdWIi.sig and my-own-secret\nnext line"
    assert scrub_text(text, "my-own-secret") == "Bearer *** client_secret=*** *** and *** next line"
    assert len(scrub_text("x" * 1000)) == 300


# --- one test per pattern of connectors/redaction.py (checked by bench/mutate_redaction.py) -------------

# Written out, not read from config.urls.CREDENTIAL_QUERY_KEYS, so removing a name there fails its case.
CREDENTIAL_NAMES = [
    "access_token", "refresh_token", "id_token", "client_secret", "client_assertion", "code", "device_code",
    "password", "passphrase", "secret", "sig", "signature", "x-amz-signature", "x-amz-credential",
    "x-amz-security-token", "x-goog-signature", "x-goog-credential", "key", "api_key", "api-key", "apikey",
    "subscription-key", "token",
]  # fmt: skip


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_redact_text_masks_each_credential_name_in_every_shape(name: str) -> None:
    assert redact_text(f"{name}={SECRET}&next=1") == f"{name}=***&next=1"
    assert redact_text(f'{{"{name}": "{SECRET}"}}') == f'{{"{name}": "***"}}'
    assert redact_text(f"{name.upper()}: {SECRET}") == f"{name.upper()}: ***"


def test_redact_text_masks_a_jwt_alone() -> None:
    assert redact_text("id eyJhbGciOi.eyJzdWIi.c2ln here") == "id *** here"


def test_redact_text_masks_a_bearer_value_alone() -> None:
    assert redact_text(f"sent Bearer {SECRET} twice") == "sent Bearer *** twice"


def test_redact_text_masks_the_secrets_it_is_given() -> None:
    assert redact_text(f"x{SECRET}y", SECRET, None) == "x***y"
    assert redact_text(f"x{SECRET}y") == f"x{SECRET}y"


def test_scrub_text_makes_one_line_and_caps_it() -> None:
    assert scrub_text("a\n\tb   c") == "a b c"
    capped = scrub_text("word " * 200)
    assert len(capped) == MAX_SERVICE_MESSAGE_CHARS and capped.endswith("…")


def test_the_library_log_filter_masks_and_can_be_taken_off(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("cetk.test.library")
    caplog.set_level(logging.DEBUG, logger="cetk.test.library")
    uninstall = install_log_filter("cetk.test.library")
    assert install_log_filter("cetk.test.library")() is None  # a second install adds (and removes) nothing
    logger.debug("device_code=%s", SECRET)
    uninstall()
    logger.debug("after: device_code=%s", SECRET)
    assert "device_code=***" in caplog.messages[0]
    assert caplog.messages[1] == f"after: device_code={SECRET}"
    assert not logger.filters


def test_the_library_log_filter_passes_a_malformed_record() -> None:
    record = logging.LogRecord("n", logging.INFO, "f", 1, "%s %s", ("one",), None)
    assert RedactingLogFilter().filter(record) is True
