"""config.load(): precedence, secrets refused in files and flags, validation naming key and variable."""

from __future__ import annotations

import logging
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from config.checks import parse_auth_mode, parse_log_level
from config.loader import load
from config.report import effective_settings, example_config_text
from config.settings import FIELDS
from errors import ConfigError, SecretInConfigError

SECRET = "SUPERSECRET-123"
NO_KEYRING = None  # tests never touch the OS keyring


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray ./cetk.yaml is picked up


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cetk.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_is_flag_then_env_then_file_then_default(tmp_path: Path) -> None:
    path = write(
        tmp_path, "powerbi:\n  dataset_name: from-file\n  workspace_id: ws-file\nclient_id: file-client\n"
    )
    environ = {"CETK_POWERBI_DATASET_NAME": "from-env", "CETK_CLIENT_ID": "env-client"}
    loaded = load(path, environ, {"powerbi.dataset_name": "from-flag"}, keyring=NO_KEYRING, strict=False)
    settings, sources = loaded.settings, loaded.provenance.sources
    assert settings.powerbi_dataset_name == "from-flag"
    assert settings.client_id == "env-client"
    assert settings.powerbi_workspace_id == "ws-file"
    assert settings.endpoints.graph == "https://graph.microsoft.com"
    assert sources["powerbi.dataset_name"] == "flag"
    assert sources["client_id"] == "env"
    assert sources["powerbi.workspace_id"] == "file"
    assert sources["endpoints.graph"] == "default"


def test_config_path_from_environment_and_default_file(tmp_path: Path) -> None:
    path = write(tmp_path, "organisation: FromEnvPath\n")
    assert (
        load(None, {"CETK_CONFIG": str(path)}, keyring=NO_KEYRING, strict=False).settings.organisation
        == "FromEnvPath"
    )
    assert load(None, {}, keyring=NO_KEYRING, strict=False).provenance.config_path == Path("cetk.yaml")
    with pytest.raises(ConfigError, match="missing.yaml.*not found"):
        load(tmp_path / "missing.yaml", {}, keyring=NO_KEYRING)


def test_the_first_problem_says_how_many_more_and_with_no_file_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load(None, {}, keyring=NO_KEYRING)  # certificate mode: tenant, client and certificate missing
    assert raised.value.message.startswith("setting 'tenant_id': required for auth.mode certificate")
    assert "(and 2 more problem(s): `cetk config show` lists them all)" in raised.value.message
    assert "no config file was found" in raised.value.hint and "`cetk init`" in raised.value.hint
    path = write(tmp_path, "tenant_id: contoso.onmicrosoft.com\n")
    with pytest.raises(ConfigError) as raised:
        load(path, {}, keyring=NO_KEYRING)
    assert raised.value.message.startswith("setting 'client_id'")
    assert "1 more problem(s)" in raised.value.message
    assert "cetk init" not in raised.value.hint  # there is a file: the hint is the problem's own


@pytest.mark.parametrize(
    ("text", "key", "variable"),
    [
        ("client_secret: x\n", "client_secret", "CETK_CLIENT_SECRET"),
        ("auth:\n  passphrase: x\n", "auth.passphrase", "CETK_CERT_PASSPHRASE"),
        (
            "pseudonymisation:\n  pseudonymisation_key: x\n",
            "pseudonymisation.pseudonymisation_key",
            "CETK_PSEUDONYMISATION_KEY",
        ),
        (
            "auth:\n  certificate_thumbprint: '-----BEGIN PRIVATE KEY-----'\n",
            "auth.certificate_thumbprint",
            "CETK_CERT",
        ),
        ("tenant_id: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig\n", "tenant_id", "tokens are fetched"),
    ],
)
def test_secret_in_config_file_is_refused(tmp_path: Path, text: str, key: str, variable: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SecretInConfigError) as caught:
        load(path, {}, keyring=NO_KEYRING)
    assert str(path) in caught.value.message
    assert f"'{key}'" in caught.value.message
    assert variable in caught.value.hint


def test_secret_value_never_in_the_refusal(tmp_path: Path) -> None:
    path = write(tmp_path, f"client_secret: {SECRET}\n")
    with pytest.raises(SecretInConfigError) as caught:
        load(path, {}, keyring=NO_KEYRING)
    assert SECRET not in caught.value.message + caught.value.hint
    assert "CETK_CLIENT_SECRET" in caught.value.hint


def test_secret_as_flag_is_refused() -> None:
    with pytest.raises(SecretInConfigError, match="shell history"):
        load(None, {}, {"client_secret": SECRET}, keyring=NO_KEYRING)


def test_unknown_key_lists_valid_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "endpoints:\n  grpah: https://graph.microsoft.com\n")
    with pytest.raises(ConfigError) as caught:
        load(path, {}, keyring=NO_KEYRING)
    assert "endpoints.grpah" in caught.value.message
    assert "endpoints.graph" in caught.value.hint


def test_yaml_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "tenant_id: a\nclient_id: [unclosed\nauth:\n")
    with pytest.raises(ConfigError, match=r"cetk\.yaml, line 3: not valid YAML"):
        load(path, {}, keyring=NO_KEYRING)


@pytest.mark.parametrize("url", ["https://graph.microsoft.com", "http://10.0.0.5:8080"])
def test_auth_none_refused_off_loopback(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, {"CETK_AUTH_MODE": "none", "CETK_ENDPOINTS_GRAPH": url}, keyring=NO_KEYRING)
    assert "auth.mode" in caught.value.message or "endpoints.graph" in caught.value.message
    assert "CETK_" in caught.value.hint or "127.0.0.1" in caught.value.hint


def test_auth_none_accepted_when_every_endpoint_is_loopback() -> None:
    environ = {
        "CETK_AUTH_MODE": "none",
        "CETK_ENDPOINTS_AUTHORITY": "https://127.0.0.1:8443/auth",
        "CETK_ENDPOINTS_GRAPH": "http://localhost:8080/graph",
        "CETK_ENDPOINTS_POWERBI": "https://[::1]:8443/powerbi",
        "CETK_SHAREPOINT_SITE_URL": "https://127.0.0.2:8443/sites/demo",
    }
    settings = load(None, environ, keyring=NO_KEYRING).settings
    assert settings.auth_mode == "none"
    assert settings.endpoints.sharepoint == "https://127.0.0.2:8443"
    assert settings.scopes.sharepoint == "https://127.0.0.2:8443/.default"
    assert settings.sharepoint_host == "127.0.0.2"
    assert settings.sharepoint_site_path == "/sites/demo"


def test_the_mapping_file_is_beside_the_config_unless_set(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    path = folder / "cetk.yaml"
    path.write_text("organisation: X\n", encoding="utf-8")
    loaded = load(path, {}, keyring=NO_KEYRING, strict=False)
    assert loaded.settings.mapping_file == folder / "mapping.yaml"
    assert loaded.provenance.sources["sharepoint.mapping_file"] == "derived"
    shown = effective_settings(loaded)["settings"]["sharepoint.mapping_file"]
    assert shown == {"value": str(folder / "mapping.yaml"), "source": "derived",
                     "env_var": "CETK_SHAREPOINT_MAPPING_FILE"}  # fmt: skip
    assert load(None, {}, keyring=NO_KEYRING, strict=False).settings.mapping_file == Path("mapping.yaml")
    environ = {"CETK_SHAREPOINT_MAPPING_FILE": "maps/force.yaml"}
    given = load(path, environ, keyring=NO_KEYRING, strict=False)
    assert given.settings.mapping_file == Path("maps/force.yaml")
    assert given.provenance.sources["sharepoint.mapping_file"] == "env"


def test_client_secret_mode_needs_the_variable() -> None:
    environ = {"CETK_AUTH_MODE": "client_secret", "CETK_TENANT_ID": "t", "CETK_CLIENT_ID": "c"}
    with pytest.raises(ConfigError) as caught:
        load(None, environ, keyring=NO_KEYRING)
    assert "CETK_CLIENT_SECRET" in caught.value.message + caught.value.hint
    settings = load(None, {**environ, "CETK_CLIENT_SECRET": SECRET}, keyring=NO_KEYRING).settings
    assert settings.secrets.client_secret is not None
    assert settings.secrets.client_secret.reveal() == SECRET
    assert SECRET not in repr(settings)


def test_client_secret_from_keyring() -> None:
    environ = {"CETK_AUTH_MODE": "client_secret", "CETK_TENANT_ID": "t", "CETK_CLIENT_ID": "c"}
    store = {("cetk", "client_secret"): SECRET}
    loaded = load(None, environ, keyring=lambda service, name: store.get((service, name)))
    assert loaded.provenance.secret_sources["client_secret"] == "keyring"


def test_failing_keyring_backend_is_treated_as_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring

    def broken(service: str, name: str) -> str:
        raise RuntimeError("no dbus session")

    monkeypatch.setattr(keyring, "get_password", broken)
    loaded = load(None, {}, strict=False)  # the default lookup: the real keyring module, patched to fail
    assert loaded.provenance.secret_sources["client_secret"] == "not set"


def test_certificate_mode_needs_path_and_thumbprint(tmp_path: Path) -> None:
    base = {"CETK_TENANT_ID": "t", "CETK_CLIENT_ID": "c"}
    with pytest.raises(ConfigError, match="auth.certificate_path") as caught:
        load(None, base, keyring=NO_KEYRING)
    assert "CETK_AUTH_CERTIFICATE_PATH" in caught.value.hint
    key_only = tmp_path / "app.pem"
    key_only.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError, match="auth.certificate_thumbprint"):
        load(None, {**base, "CETK_AUTH_CERTIFICATE_PATH": str(key_only)}, keyring=NO_KEYRING)
    good = load(
        None,
        {**base, "CETK_AUTH_CERTIFICATE_PATH": str(key_only), "CETK_AUTH_CERTIFICATE_THUMBPRINT": "AB" * 20},
        keyring=NO_KEYRING,
    ).settings
    assert good.certificate_path == key_only
    with_cert = tmp_path / "both.pem"
    with_cert.write_text(
        key_only.read_text() + "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
    )
    assert (
        load(
            None, {**base, "CETK_AUTH_CERTIFICATE_PATH": str(with_cert)}, keyring=NO_KEYRING
        ).settings.auth_mode
        == "certificate"
    )


def test_unknown_auth_mode_names_key_and_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load(None, {"CETK_AUTH_MODE": "password"}, keyring=NO_KEYRING)
    assert "auth.mode" in caught.value.message
    assert "CETK_AUTH_MODE" in caught.value.hint


def test_user_agent_follows_microsoft_guidance() -> None:
    settings = load(None, {"CETK_ORGANISATION": "ExampleForce"}, keyring=NO_KEYRING, strict=False).settings
    assert settings.user_agent.startswith("NONISV|ExampleForce|cetk/")


def test_example_config_loads_and_holds_no_secret(tmp_path: Path) -> None:
    path = write(tmp_path, example_config_text())
    loaded = load(path, {}, keyring=NO_KEYRING, strict=False)
    assert {problem.message for problem in loaded.problems} == {
        "setting 'auth.certificate_path': file /etc/cetk/cetk-app.pem not found"
    }
    for item in FIELDS:
        assert item.key.split(".")[-1] in example_config_text(), f"{item.key} missing from example.yaml"


def test_secrets_never_in_effective_settings_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    environ = {
        "CETK_CLIENT_SECRET": SECRET,
        "CETK_CERT_PASSPHRASE": SECRET + "-p",
        "CETK_PSEUDONYMISATION_KEY": SECRET + "-k",
        "CETK_AUTH_MODE": "client_secret",
    }
    loaded = load(None, environ, keyring=NO_KEYRING, strict=False)
    settings = loaded.settings
    shown = effective_settings(loaded)
    assert SECRET not in repr(shown) and SECRET not in str(settings) and SECRET not in repr(settings)
    assert shown["secrets"]["client_secret"] == {
        "value": "***",
        "status": "set",
        "source": "env",
        "env_var": "CETK_CLIENT_SECRET",
    }
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("text", "key", "variable"),
    [
        (f"auth:\n  client_secret: [{SECRET}]\n", "auth.client_secret", "CETK_CLIENT_SECRET"),
        (
            f"sharepoint:\n  site_url: https://svc:{SECRET}@contoso.sharepoint.com/sites/x\n",
            "sharepoint.site_url",
            "user:password@",
        ),
    ],
)
def test_secret_in_a_list_or_a_url_is_refused_without_echoing_it(
    tmp_path: Path, text: str, key: str, variable: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SecretInConfigError) as caught:
        load(path, {}, keyring=NO_KEYRING)
    assert f"'{key}'" in caught.value.message
    assert variable in caught.value.hint
    assert SECRET not in caught.value.message + caught.value.hint


def test_url_with_a_password_as_flag_is_refused() -> None:
    url = f"https://svc:{SECRET}@contoso.sharepoint.com/sites/x"
    with pytest.raises(SecretInConfigError, match="shell history") as caught:
        load(None, {}, {"sharepoint.site_url": url}, keyring=NO_KEYRING)
    assert SECRET not in caught.value.message + caught.value.hint


def test_config_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "cetk.yaml"
    path.write_bytes("client_id: abc\norganisation: Caf\xe9 Police\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"cetk\.yaml, line 2: not UTF-8 text"):
        load(path, {}, keyring=NO_KEYRING)


def test_auth_mode_and_log_level_are_parsed_not_cast() -> None:
    assert parse_auth_mode(" Device_Code ") == "device_code"
    assert parse_log_level("info") == "INFO"
    for parse, value, key, variable in (
        (parse_auth_mode, "password", "auth.mode", "CETK_AUTH_MODE"),
        (parse_log_level, "loud", "log_level", "CETK_LOG_LEVEL"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse(value)
        assert f"setting '{key}'" in caught.value.message
        assert variable in caught.value.hint


def test_a_bad_auth_mode_is_one_problem_not_a_guess() -> None:
    loaded = load(None, {"CETK_AUTH_MODE": "password"}, keyring=NO_KEYRING, strict=False)
    assert [problem.message for problem in loaded.problems] == [
        "setting 'auth.mode': 'password' is not one of certificate, client_secret, device_code, none"
    ]
    assert loaded.provenance.values["auth.mode"] == "password"  # config show shows what was given


# --- the config file is read safely (issue 7): checked before it is expanded or nested -------------

# Nine mappings of nine aliases each: 9^9 (387 million) dotted keys once flattened, in ~630 bytes.
ALIAS_BOMB = (
    "a: &a {"
    + ", ".join(f"{k}: x" for k in "abcdefghi")
    + "}\n"
    + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} {{" + ", ".join(f"{k}: *{chr(97 + n)}" for k in "abcdefghi") + "}\n"
        for n in range(8)
    )
)


def allocated_peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
    except ConfigError:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize(
    "prefix", ["", "organisation: x\nendpoints:\n  graph: https://graph.microsoft.com\n"]
)
def test_an_alias_bomb_is_refused_before_it_is_expanded(tmp_path: Path, prefix: str) -> None:
    path = write(tmp_path, prefix + ALIAS_BOMB)
    assert len(ALIAS_BOMB) < 700
    with pytest.raises(ConfigError, match=r"cetk\.yaml, line \d+: anchors \(&name\) are not allowed"):
        load(path, {}, keyring=NO_KEYRING, strict=False)
    assert allocated_peak(lambda: load(path, {}, keyring=NO_KEYRING, strict=False)) < 5_000_000


@pytest.mark.parametrize(
    "text",
    [
        "tenant_id: " + "[" * 5000 + "]" * 5000 + "\n",
        "auth: " + "{a: " * 5000 + "}" * 5000 + "\n",
        "".join(" " * depth + f"k{depth}:\n" for depth in range(1, 400)),
    ],
)
def test_deep_nesting_is_a_config_error_not_a_traceback(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="nested deeper than 5 levels"):
        load(path, {}, keyring=NO_KEYRING, strict=False)


def test_an_oversized_config_file_is_refused_unread(tmp_path: Path) -> None:
    path = write(tmp_path, "organisation: x\n" + "#" * 200_000 + "\n")
    with pytest.raises(ConfigError, match="over 100,000 bytes"):
        load(path, {}, keyring=NO_KEYRING, strict=False)


def test_unknown_keys_are_found_while_walking_and_bounded(tmp_path: Path) -> None:
    path = write(tmp_path, "".join(f"unknown_{n}: {n}\n" for n in range(1000)))
    with pytest.raises(ConfigError, match="and perhaps more") as caught:
        load(path, {}, keyring=NO_KEYRING, strict=False)
    assert caught.value.message.count("on line") == 10


def test_a_secret_key_is_refused_as_it_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, f"auth:\n  client_secret: {SECRET}\n" + ALIAS_BOMB + "[unclosed\n")
    with pytest.raises(SecretInConfigError, match=r"key 'auth\.client_secret' \(line 2\)"):
        load(path, {}, keyring=NO_KEYRING, strict=False)


PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    "text",
    [
        f"organisation: '{JWT}'\n",
        f"powerbi:\n  dataset_name: 'Bearer {JWT}'\n",
        f"sharepoint:\n  lists:\n    events: |\n      {PEM.replace(chr(10), chr(10) + '      ')}\n",
        f"colour: '{JWT}'\n",  # under an unknown key: refused as a secret, not only as unknown
        f"tenant_id: ['{JWT}']\n",  # in a list
        f"'{JWT}': x\n",  # as a key
        f"paths:\n  '{PEM.splitlines()[0]}': x\n",
    ],
)
def test_pem_blocks_and_jwts_under_any_key_are_refused(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SecretInConfigError) as caught:
        load(path, {}, keyring=NO_KEYRING, strict=False)
    said = caught.value.message + caught.value.hint
    assert JWT not in said and "MIIEowIBAAKCAQEA" not in said and "BEGIN RSA" not in said


@pytest.mark.parametrize(
    ("text", "shown", "hidden"),
    [
        ("tenant_idd: x\n", "'tenant_idd' (line 1; did you mean 'tenant_id'?)", None),
        ("auth:\n  mdoe: x\n", "'auth.mdoe' (line 2; did you mean 'auth.mode'?)", None),
        ("PLANTED-SECRET-9: x\n", "unknown key on line 1", "PLANTED"),
        ("auth:\n  AKIAIOSFODNN7EXAMPLE: x\n", "unknown key on line 2 under 'auth'", "AKIA"),
    ],
)
def test_an_unknown_key_is_named_only_when_it_is_a_near_miss(
    tmp_path: Path, text: str, shown: str, hidden: str | None
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, {}, keyring=NO_KEYRING, strict=False)
    assert shown in caught.value.message
    if hidden is not None:
        assert hidden not in caught.value.message + caught.value.hint


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("tenant_id: {a: 1}\n", "'tenant_id' must be a single value, not a mapping"),
        ("auth: x\n", "'auth' is a section; put its keys under it"),
        ("tenant_id: a\ntenant_id: b\n", "line 2: a key is repeated"),
        ("organisation: !!python/object:os.system x\n", "explicit tags"),
        ("- a\n", "the top level must be a mapping"),
    ],
)
def test_shapes_the_settings_do_not_take_are_config_errors(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load(write(tmp_path, text), {}, keyring=NO_KEYRING, strict=False)


def test_values_keep_the_text_written(tmp_path: Path) -> None:
    path = write(tmp_path, "client_id: 0123\npowerbi:\n  dataset_name: yes\norganisation: 1e3\nauth:\n")
    values = load(path, {}, keyring=NO_KEYRING, strict=False).provenance.values
    assert (values["client_id"], values["powerbi.dataset_name"], values["organisation"]) == (
        "0123",
        "yes",
        "1e3",
    )
