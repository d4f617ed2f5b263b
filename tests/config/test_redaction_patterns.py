"""One test per redaction pattern of config/logs.py and config/urls.py, each failing when its pattern goes.

Checked by mutation (bench/mutate_redaction.py deletes each pattern and each credential name in turn and
runs the redaction tests alone). The names and cases are written out here, not read from the tables, so
removing one from a table fails its case. Nothing is registered anywhere: every Redactor is built here.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from config.logs import RedactingFilter, Redactor, configure_logging, install_redaction, redact
from config.secrets import Secret
from config.urls import redact_url, url_credential

SECRET = "SUPERSECRET-789"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"

# Every name config/urls.py treats as a credential parameter, written out (see the reasons there).
CREDENTIAL_NAMES = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "code",
    "device_code",
    "password",
    "passphrase",
    "secret",
    "sig",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
    "x-amz-security-token",
    "x-goog-signature",
    "x-goog-credential",
    "key",
    "api_key",
    "api-key",
    "apikey",
    "subscription-key",
    "token",
]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level, factory = list(root.handlers), root.level, logging.getLogRecordFactory()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.setLogRecordFactory(factory)


# --- config/logs.py: redact() -----------------------------------------------------------------------


def test_a_given_secret_value_is_masked_anywhere_in_the_text() -> None:
    assert redact(f"posted{SECRET}in the body", [SECRET]) == "posted***in the body"
    assert redact(f"posted{SECRET}in the body") == f"posted{SECRET}in the body"  # only values given


def test_a_private_key_block_is_masked_whole_and_a_cut_one_to_the_end() -> None:
    block = (
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3\nVS5JJcds3xfn\n-----END RSA PRIVATE KEY-----"
    )
    assert redact(f"loaded {block} ok") == (
        "loaded -----BEGIN RSA PRIVATE KEY-----***-----END RSA PRIVATE KEY----- ok"
    )
    assert redact("key: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN") == "key: -----BEGIN PRIVATE KEY-----***"
    certificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
    assert redact(certificate) == certificate  # a certificate is public


@pytest.mark.parametrize(
    "text", [f"Authorization: Basic {SECRET}", f"{{'Authorization': '{SECRET}'}}", f"authorization={SECRET}"]
)
def test_an_authorization_value_is_masked_whatever_its_scheme(text: str) -> None:
    assert redact(text) == text.replace(SECRET, "***")


def test_a_bearer_token_is_masked_without_an_authorization_header() -> None:
    assert redact(f"retrying with bearer {SECRET} after a 401") == "retrying with bearer *** after a 401"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"GET https://svc:{SECRET}@contoso.sharepoint.com/x", "GET https://***@contoso.sharepoint.com/x"),
        (f"git+ssh://{SECRET}@host/repo", "git+ssh://***@host/repo"),
        ("see https://host/a@b and user@example.org", "see https://host/a@b and user@example.org"),
    ],
)
def test_the_user_part_of_a_url_is_masked(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_each_credential_parameter_of_a_url_is_masked(name: str) -> None:
    text = f"GET https://h.example/p?a=1&{name}={SECRET}&b=2 and /p#{name}={SECRET}"
    assert redact(text) == f"GET https://h.example/p?a=1&{name}=***&b=2 and /p#{name}=***"


def test_other_url_parameters_are_left_alone() -> None:
    text = "GET https://h.example/p?$skiptoken=abc&$top=5&codes=1&keyword=x&signed=1"
    assert redact(text) == text


def test_a_jwt_is_masked_wherever_it_stands() -> None:
    assert redact(f"cached id_token_hint {JWT} for later") == "cached id_token_hint *** for later"
    assert redact("eyJ.short and eyJabc") == "eyJ.short and eyJabc"  # not a JWT


def test_a_secret_repr_stays_readable() -> None:
    assert redact("Secrets(client_secret=Secret('***'))") == "Secrets(client_secret=Secret('***'))"


# --- config/logs.py: the Redactor, records and handlers -------------------------------------------------


def test_redact_data_masks_keys_values_and_items() -> None:
    redactor = Redactor([Secret(SECRET)])
    data = {SECRET: [f"a {SECRET}", {"password": "password=x1"}], "n": 3, "t": (SECRET,)}
    assert redactor.redact_data(data) == {
        "***": ["a ***", {"password": "password=***"}],
        "n": 3,
        "t": ["***"],
    }


def test_a_record_is_redacted_with_its_arguments_and_exception() -> None:
    redactor = Redactor([Secret(SECRET)])
    try:
        raise RuntimeError(f"failed with {SECRET}")
    except RuntimeError:
        import sys

        record = logging.LogRecord("n", logging.ERROR, "f", 1, "sent %s", (SECRET,), sys.exc_info())
    redactor.redact_record(record)
    assert record.getMessage() == "sent ***"
    assert record.exc_text is not None and SECRET not in record.exc_text and "***" in record.exc_text


def test_the_handler_filter_redacts_records_made_before_redaction_was_installed() -> None:
    record = logging.LogRecord("n", logging.INFO, "f", 1, "token %s", (SECRET,), None)
    assert RedactingFilter(Redactor([Secret(SECRET)])).filter(record) is True
    assert record.getMessage() == "token ***"


def test_installed_redaction_redacts_every_record_as_it_is_made(restore_logging: None) -> None:
    uninstall = install_redaction(Redactor([Secret(SECRET)]))
    record = logging.getLogRecordFactory()("n", logging.INFO, "f", 1, "sent %s", (SECRET,), None)
    assert record.getMessage() == "sent ***"
    uninstall()
    record = logging.getLogRecordFactory()("n", logging.INFO, "f", 1, "sent %s", (SECRET,), None)
    assert record.getMessage() == f"sent {SECRET}"


def test_the_stderr_handler_carries_the_filter(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    undo = configure_logging("INFO", Redactor([Secret(SECRET)]))
    logging.setLogRecordFactory(logging.LogRecord)  # only the handler's filter is left to redact
    logging.getLogger("cetk.test").warning("sent %s", SECRET)
    undo()
    assert "sent ***" in capsys.readouterr().err


def test_a_redactor_for_settings_masks_each_loaded_secret() -> None:
    from config.loader import load

    environ = {
        "CETK_CLIENT_SECRET": "cs-1111",
        "CETK_CERT_PASSPHRASE": "cp-2222",
        "CETK_PSEUDONYMISATION_KEY": "pk-3333",
    }
    redactor = Redactor.for_settings(load(None, environ, keyring=None, strict=False).settings)
    assert redactor.redact("cs-1111 cp-2222 pk-3333") == "*** *** ***"


# --- config/urls.py: redact_url and url_credential -----------------------------------------------------


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_redact_url_masks_each_credential_parameter(name: str) -> None:
    assert redact_url(f"https://h.example/p?a=1&{name}={SECRET}") == f"https://h.example/p?a=1&{name}=***"
    assert (
        redact_url(f"https://h.example/p?{name.upper()}={SECRET}")
        == f"https://h.example/p?{name.upper()}=***"
    )


@pytest.mark.parametrize("name", CREDENTIAL_NAMES)
def test_url_credential_finds_each_credential_parameter(name: str) -> None:
    assert url_credential(f"https://h.example/p?a=1&{name}={SECRET}") == f"the '{name}' query parameter"
    assert url_credential(f"https://h.example/p#{name}={SECRET}") == f"the '{name}' fragment parameter"


def test_redact_url_masks_the_user_part_and_drops_the_fragment() -> None:
    assert redact_url(f"https://u:{SECRET}@h.example/a#{SECRET}") == "https://***@h.example/a"
    assert url_credential(f"https://u:{SECRET}@h.example/a") == "a user:password@ part"
    assert url_credential(f"https://{SECRET}@h.example/a") == "a user@ part (a user name or token)"
