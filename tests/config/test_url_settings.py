"""Secrets in URLs (issue 7): a credential in a configured URL is refused from every source, naming the key and
the source but never the value; it never reaches the derived SharePoint scope, `config show` or a DEBUG log.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from config.loader import load
from config.report import effective_settings
from config.settings import FIELDS, FIELDS_BY_KEY
from config.urls import origin_of, url_credential
from errors import SecretInConfigError

SECRET = "SUPERSECRET-URL-456"
runner = CliRunner()

# Every way a credential rides in a URL that the issue names, each with what the refusal calls it.
CREDENTIAL_URLS = [
    (f"https://svc:{SECRET}@contoso.sharepoint.com/sites/x", "user:password@"),
    (f"https://{SECRET}@contoso.sharepoint.com/sites/x", "user@"),
    (f"https://graph.microsoft.com?client_secret={SECRET}", "'client_secret'"),
    (f"https://graph.microsoft.com/v1.0?sv=2024-08-04&sig={SECRET}", "'sig'"),
    (f"https://api.powerbi.com/?access_token={SECRET}", "'access_token'"),
    (f"https://login.microsoftonline.com/#access_token={SECRET}", "'access_token'"),
    (f"https://graph.microsoft.com?%73ig={SECRET}", "'sig'"),  # a percent-encoded name
    (f"https://graph.microsoft.com?CODE={SECRET}", "'code'"),  # names match in any case
]
URL_KEYS = [item.key for item in FIELDS if item.url is not None]


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def test_the_url_keys_are_declared_on_the_fields() -> None:
    assert set(URL_KEYS) == {
        "endpoints.authority",
        "endpoints.graph",
        "endpoints.powerbi",
        "sharepoint.site_url",
        "scopes.graph",
        "scopes.powerbi",
        "scopes.sharepoint",
    }
    assert FIELDS_BY_KEY["sharepoint.site_url"].url == "endpoint"
    assert FIELDS_BY_KEY["scopes.graph"].url == "scope"


@pytest.mark.parametrize(("url", "named"), CREDENTIAL_URLS)
def test_url_credential_names_the_part_never_the_value(url: str, named: str) -> None:
    found = url_credential(url)
    assert found is not None and named in found
    assert SECRET not in found


@pytest.mark.parametrize(
    "url",
    [
        "https://graph.microsoft.com",
        "https://contoso.sharepoint.com/sites/x@team",  # an @ in the path is no user name
        "http://127.0.0.1:8765/graph",
        "https://[::1]:8443/powerbi",
        "https://graph.microsoft.com/v1.0?$top=5&$skiptoken=abc",  # paging parameters are no credentials
        "not a url at all",
    ],
)
def test_urls_without_a_credential_pass(url: str) -> None:
    assert url_credential(url) is None


@pytest.mark.parametrize("key", URL_KEYS)
@pytest.mark.parametrize(("url", "named"), CREDENTIAL_URLS[:4])
def test_a_credential_in_a_url_from_the_environment_is_refused(key: str, url: str, named: str) -> None:
    variable = FIELDS_BY_KEY[key].env_var
    with pytest.raises(SecretInConfigError) as caught:
        load(None, {variable: url}, keyring=None, strict=False)
    said = caught.value.message + caught.value.hint
    assert f"'{key}'" in caught.value.message and variable in caught.value.message
    assert named in said
    assert SECRET not in said


@pytest.mark.parametrize(("url", "named"), CREDENTIAL_URLS)
def test_a_credential_in_a_url_from_the_file_is_refused(tmp_path: Path, url: str, named: str) -> None:
    path = tmp_path / "cetk.yaml"
    path.write_text(f"endpoints:\n  graph: '{url}'\n", encoding="utf-8")
    with pytest.raises(SecretInConfigError) as caught:
        load(path, {}, keyring=None, strict=False)
    said = caught.value.message + caught.value.hint
    assert "'endpoints.graph'" in caught.value.message and str(path) in caught.value.message
    assert named in said
    assert SECRET not in said


@pytest.mark.parametrize(("url", "named"), CREDENTIAL_URLS)
def test_a_credential_in_a_url_from_a_flag_is_refused(url: str, named: str) -> None:
    with pytest.raises(SecretInConfigError) as caught:
        load(None, {}, {"sharepoint.site_url": url}, keyring=None, strict=False)
    said = caught.value.message + caught.value.hint
    assert "'sharepoint.site_url'" in caught.value.message and "--set" in caught.value.message
    assert named in said
    assert SECRET not in said


def test_a_credential_in_an_environment_value_that_loses_to_a_flag_is_still_refused() -> None:
    environ = {"CETK_ENDPOINTS_GRAPH": f"https://graph.microsoft.com?sig={SECRET}"}
    with pytest.raises(SecretInConfigError, match="CETK_ENDPOINTS_GRAPH"):
        load(None, environ, {"endpoints.graph": "https://graph.microsoft.com"}, keyring=None, strict=False)


def test_a_url_with_a_password_in_any_setting_is_refused() -> None:
    with pytest.raises(SecretInConfigError, match="'organisation'") as caught:
        load(None, {"CETK_ORGANISATION": f"https://u:{SECRET}@example.org"}, keyring=None, strict=False)
    assert SECRET not in caught.value.message + caught.value.hint


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        (
            f"https://u:{SECRET}@contoso.sharepoint.com/sites/x?sig={SECRET}#f",
            "https://contoso.sharepoint.com",
        ),
        ("https://contoso.sharepoint.com:8443/sites/x?a=1", "https://contoso.sharepoint.com:8443"),
        ("http://[::1]:8765/sites/demo", "http://[::1]:8765"),
        ("HTTPS://Contoso.SharePoint.com/sites/x", "https://contoso.sharepoint.com"),
    ],
)
def test_the_origin_keeps_only_scheme_host_and_port(url: str, origin: str) -> None:
    assert origin_of(url) == origin


def test_the_derived_sharepoint_scope_never_copies_a_query_or_user() -> None:
    url = "https://contoso.sharepoint.com:8443/sites/x?view=all"
    settings = load(None, {"CETK_SHAREPOINT_SITE_URL": url}, keyring=None, strict=False).settings
    assert settings.endpoints.sharepoint == "https://contoso.sharepoint.com:8443"
    assert settings.scopes.sharepoint == "https://contoso.sharepoint.com:8443/.default"


def test_a_query_or_fragment_on_an_endpoint_is_a_problem_named_by_key() -> None:
    loaded = load(
        None,
        {"CETK_SHAREPOINT_SITE_URL": "https://contoso.sharepoint.com/sites/x?view=all"},
        keyring=None,
        strict=False,
    )
    assert [problem.message for problem in loaded.problems if "sharepoint.site_url" in problem.message] == [
        "setting 'sharepoint.site_url' (from CETK_SHAREPOINT_SITE_URL): a base URL takes no ?query or #fragment"
    ]


# --- what is printed or logged passes redaction ----------------------------------------------------


def test_config_show_passes_the_table_and_the_json_through_redaction() -> None:
    # A setting that happens to hold a loaded secret's value, and one that holds a named credential:
    # neither a URL nor a secret key, so only redaction stands between them and the screen.
    env = {
        "CETK_CLIENT_SECRET": SECRET,
        "CETK_POWERBI_DATASET_NAME": SECRET,
        "CETK_ORGANISATION": "Force password=hunter2-xyz",
        "COLUMNS": "250",
    }
    table = runner.invoke(app, ["config", "show"], env=env)
    as_json = runner.invoke(app, ["config", "show", "--json"], env=env)
    assert table.exit_code == 0 and as_json.exit_code == 0, table.output + as_json.output
    for output in (table.output, as_json.output):
        assert SECRET not in output and "hunter2-xyz" not in output
    shown = json.loads(as_json.stdout)
    assert shown["settings"]["powerbi.dataset_name"]["value"] == "***"
    assert shown["settings"]["organisation"]["value"] == "Force password=***"
    assert "password=***" in table.stdout


def test_effective_settings_are_redacted_by_the_library() -> None:
    env = {"CETK_PSEUDONYMISATION_KEY": SECRET, "CETK_CLIENT_ID": f"id {SECRET}"}
    shown = effective_settings(load(None, env, keyring=None, strict=False))
    assert shown["settings"]["client_id"]["value"] == "id ***"


def test_the_debug_log_of_the_settings_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="config.loader")
    env = {
        "CETK_CLIENT_SECRET": SECRET,
        "CETK_ORGANISATION": f"Force {SECRET}",
        "CETK_CLIENT_ID": "password=abc-123",
    }
    load(None, env, keyring=None, strict=False)
    assert "settings from" in caplog.text  # the settings really were logged
    assert SECRET not in caplog.text and "abc-123" not in caplog.text


def test_a_refused_url_never_reaches_config_show_output_or_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    env = {"CETK_SHAREPOINT_SITE_URL": f"https://svc:{SECRET}@contoso.sharepoint.com/sites/x"}
    for arguments in (
        ["config", "show"],
        ["config", "show", "--json"],
        ["--log-level", "DEBUG", "config", "show"],
    ):
        result = runner.invoke(app, arguments, env=env)
        assert isinstance(result.exception, SecretInConfigError)
        assert SECRET not in result.output
    assert SECRET not in caplog.text
