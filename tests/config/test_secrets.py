"""Secret masks itself; the logging filter redacts tokens, credentials and every Secret value."""

from __future__ import annotations

import logging

import pytest

from config.logs import configure_logging, install_redaction, redact, resolve_log_level
from config.secrets import Secret, find_secret
from errors import ConfigError

SECRET = "SUPERSECRET-123"


def test_secret_masks_every_rendering() -> None:
    secret = Secret(SECRET)
    assert repr(secret) == "Secret('***')"
    assert str(secret) == "***"
    assert f"{secret}" == "***"
    assert SECRET not in repr({"s": secret})
    assert secret.reveal() == SECRET


def test_find_secret_prefers_environment_then_keyring() -> None:
    def store(service: str, name: str) -> str | None:
        return "from-keyring" if (service, name) == ("cetk", "pseudonymisation_key") else None

    found = find_secret("pseudonymisation_key", {"CETK_PSEUDONYMISATION_KEY": SECRET}, store)
    assert (found.source, found.secret and found.secret.reveal()) == ("env", SECRET)
    assert find_secret("pseudonymisation_key", {}, store).source == "keyring"
    assert find_secret("client_secret", {}, store).secret is None


@pytest.mark.parametrize(
    "text",
    [
        f"Authorization: Bearer {SECRET}",
        f"headers={{'Authorization': 'Bearer {SECRET}'}}",
        f"client_secret={SECRET}&grant_type=client_credentials",
        f'{{"access_token": "{SECRET}", "refresh_token": "{SECRET}"}}',
        f"client_assertion={SECRET}",
    ],
)
def test_redact_masks_credentials(text: str) -> None:
    assert SECRET not in redact(text)


def test_registered_secret_values_are_redacted_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    install_redaction()
    Secret("SUPERSECRET-123-registered")
    caplog.set_level(logging.DEBUG)
    logging.getLogger("cetk.test").debug("posting with %s in the body", "SUPERSECRET-123-registered")
    logging.getLogger("cetk.test").info("Authorization: Bearer %s", SECRET)
    assert "SUPERSECRET" not in caplog.text
    assert "***" in caplog.text


def test_log_level_flag_beats_environment() -> None:
    assert resolve_log_level("debug", {"CETK_LOG_LEVEL": "ERROR"}) == "DEBUG"
    assert resolve_log_level(None, {"CETK_LOG_LEVEL": "error"}) == "ERROR"
    assert resolve_log_level(None, {}) == "WARNING"
    with pytest.raises(ConfigError, match="log_level"):
        resolve_log_level("LOUD", {})


def test_configure_logging_installs_one_handler() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    try:
        configure_logging("INFO")
        configure_logging("DEBUG")
        added = [handler for handler in root.handlers if handler not in before]
        assert len(added) == 1
        assert root.level == logging.DEBUG
    finally:
        for handler in root.handlers[:]:
            if handler not in before:
                root.removeHandler(handler)
        root.setLevel(level)


def test_redact_leaves_absent_and_already_masked_values_readable() -> None:
    text = "Secrets(client_secret=***, cert_passphrase=None, pseudonymisation_key=None) password=Nonesuch"
    assert (
        redact(text)
        == "Secrets(client_secret=***, cert_passphrase=None, pseudonymisation_key=None) password=***"
    )
