"""Secret masks itself; redaction masks tokens, credentials and the secrets a run loaded, pattern by pattern.

Each redaction pattern has its own test here that fails when that pattern is removed (checked by
mutation). No test relies on another: a Redactor is given its secret values, nothing is registered.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.loader import effective_log_level, load
from config.logs import Redactor, configure_logging, install_redaction, redact
from config.secrets import Secret, find_secret, secret_for_key
from errors import ConfigError

SECRET = "SUPERSECRET-123"


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray ./cetk.yaml is picked up


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, factory = list(root.handlers), root.level, logging.getLogRecordFactory()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.setLogRecordFactory(factory)


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


# --- one test per pattern -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [f"Authorization: Basic {SECRET}", f"{{'Authorization': '{SECRET}'}}", f"authorization={SECRET}"],
)
def test_authorization_header_is_masked_whatever_its_scheme(text: str) -> None:
    assert redact(text) == text.replace(SECRET, "***")


def test_bearer_token_is_masked_without_an_authorization_header() -> None:
    assert redact(f"retrying with bearer {SECRET} after a 401") == "retrying with bearer *** after a 401"


# Named in the table of secrets, or ending in one of its suffixes; listed here, not read from the table,
# so removing a name or a suffix there fails its case.
SECRET_PARAMETERS = [
    "secret",
    "client_assertion",
    "password",
    "passphrase",
    "private_key",
    "pseudonymisation_key",
    "client_secret",  # by suffix from here on
    "access_token",
    "refresh_token",
    "db_password",
    "cert_passphrase",
    "pem_private_key",
]


@pytest.mark.parametrize("name", SECRET_PARAMETERS)
def test_secret_parameter_is_masked_in_every_shape(name: str) -> None:
    assert redact(f"{name}={SECRET}&next=1") == f"{name}=***&next=1"
    assert redact(f'{{"{name}": "{SECRET}"}}') == f'{{"{name}": "***"}}'
    assert redact(f"{name.upper()}: {SECRET}") == f"{name.upper()}: ***"
    assert secret_for_key(f"section.{name}") is not None  # refused in a config file by the same table


def test_other_parameters_are_left_alone() -> None:
    text = "token_count=5 secretary=Jo pseudonymisation_key_name=pseudonymisation_key"
    assert redact(text) == text


ENVIRONMENT = {
    "CETK_CLIENT_SECRET": "value-of-the-client-secret",
    "CETK_CERT_PASSPHRASE": "value-of-the-passphrase",
    "CETK_PSEUDONYMISATION_KEY": "value-of-the-hmac-key",
}


@pytest.mark.parametrize("variable", list(ENVIRONMENT))
def test_each_loaded_secret_value_is_masked(variable: str) -> None:
    redactor = Redactor.for_settings(load(None, ENVIRONMENT, keyring=None, strict=False).settings)
    value = ENVIRONMENT[variable]
    assert redactor.redact(f"posted {value} in the body") == "posted *** in the body"


def test_a_redactor_masks_only_the_values_it_was_given() -> None:
    Secret("made-elsewhere-123")  # a Secret made in this process registers nothing
    assert Redactor().redact("posted made-elsewhere-123") == "posted made-elsewhere-123"
    assert Redactor([Secret("given-456"), None]).redact("posted given-456") == "posted ***"


# --- installing redaction and logging -------------------------------------------------------------


def test_installed_redaction_masks_records_and_can_be_removed(
    caplog: pytest.LogCaptureFixture, restore_logging: None
) -> None:
    uninstall = install_redaction(Redactor([Secret("SUPERSECRET-123-loaded")]))
    caplog.set_level(logging.DEBUG)
    logging.getLogger("cetk.test").debug("posting with %s in the body", "SUPERSECRET-123-loaded")
    logging.getLogger("cetk.test").info("Authorization: Bearer %s", SECRET)
    assert "SUPERSECRET" not in caplog.text
    assert "***" in caplog.text
    uninstall()
    logging.getLogger("cetk.test").debug("after removal: %s", "SUPERSECRET-123-loaded")
    assert "after removal: SUPERSECRET-123-loaded" in caplog.text


def test_installing_again_replaces_rather_than_stacks(restore_logging: None) -> None:
    before = logging.getLogRecordFactory()
    install_redaction(Redactor())
    uninstall = install_redaction(Redactor([Secret("second-789")]))
    record = logging.getLogRecordFactory()("n", logging.INFO, "f", 1, "second-789", None, None)
    assert record.getMessage() == "***"
    uninstall()
    assert logging.getLogRecordFactory() is before


def test_log_level_flag_beats_environment_beats_file(tmp_path: Path) -> None:
    assert effective_log_level("debug", {"CETK_LOG_LEVEL": "ERROR"}, None) == "DEBUG"
    assert effective_log_level(None, {"CETK_LOG_LEVEL": "error"}, None) == "ERROR"
    assert effective_log_level(None, {}, None) == "WARNING"
    with pytest.raises(ConfigError, match="log_level"):
        effective_log_level("LOUD", {}, None)
    config = tmp_path / "cetk.yaml"
    config.write_text("log_level: info\n", encoding="utf-8")
    assert effective_log_level(None, {}, config) == "INFO"
    assert effective_log_level(None, {"CETK_LOG_LEVEL": "ERROR"}, config) == "ERROR"
    assert effective_log_level(None, {}, None) == "INFO"  # ./cetk.yaml, found by default


def test_a_config_file_that_cannot_be_read_is_passed_over_for_the_log_level(tmp_path: Path) -> None:
    bad_level, secret = tmp_path / "bad.yaml", tmp_path / "secret.yaml"
    bad_level.write_text("log_level: LOUD\n", encoding="utf-8")
    secret.write_text(f"client_secret: {SECRET}\n", encoding="utf-8")
    for path in (bad_level, secret, tmp_path / "missing.yaml"):
        assert effective_log_level(None, {}, path) == "WARNING"


def test_configure_logging_installs_one_handler(restore_logging: None) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    configure_logging("INFO", Redactor())
    undo = configure_logging("DEBUG", Redactor())
    added = [handler for handler in root.handlers if handler not in before]
    assert len(added) == 1
    assert root.level == logging.DEBUG
    undo()
    assert [handler for handler in root.handlers if handler not in before] == []


def test_redact_leaves_absent_and_already_masked_values_readable() -> None:
    text = "Secrets(client_secret=***, cert_passphrase=None, pseudonymisation_key=None) password=Nonesuch"
    assert (
        redact(text)
        == "Secrets(client_secret=***, cert_passphrase=None, pseudonymisation_key=None) password=***"
    )
