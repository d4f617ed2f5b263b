"""Property-based: random YAML (and random bytes) as a config file, through config.loader.load and through
`cetk --config FILE config show` (cli.main, output captured).

Documents are random trees of settings, sections, secret-named and unknown keys, dumped as YAML and then
damaged at random: anchors, aliases, tags such as !!python/object, an alias bomb, deep nesting, huge
scalars, control characters, non-UTF-8 bytes, truncation. Two kinds of marker are planted:
`PLANTED-SECRET-<n>` where a credential would be (keys, values of secret-named keys, URL user parts and
credential parameters, JWT- and PEM-shaped text, `password=` values) and `PLANTED-VALUE-<n>` in plain
values and at random places.

Promised for every input: never a traceback (load raises nothing but ConfigError; the CLI exits 0, 1
or 2 with `Error:`/`Hint:` lines on a failure); a planted secret never in any output; a planted value
only where it is the value of a known setting, which `config show` exists to display; and bounded work
(inputs are capped in size, Hypothesis runs a fixed, derandomised number of examples; nothing is timed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from config.loader import Loaded, load
from errors import ConfigError

PROPERTY = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
CLI_PROPERTY = settings(PROPERTY, max_examples=60)
SECRETS = [f"PLANTED-SECRET-{n}" for n in range(6)]
VALUES = [f"PLANTED-VALUE-{n}" for n in range(6)]
SECTIONS = ["auth", "endpoints", "scopes", "sharepoint", "lists", "powerbi", "paths", "pseudonymisation"]
LEAVES = [
    "tenant_id", "client_id", "mode", "certificate_path", "certificate_thumbprint", "authority", "graph",
    "powerbi", "sharepoint", "site_url", "events", "ccr", "workspace_id", "dataset_name", "staging_dir",
    "key_name", "ca_bundle", "log_level", "organisation",
]  # fmt: skip
SECRET_NAMES = ["client_secret", "password", "passphrase", "private_key", "refresh_token", "db_password"]
ALIAS_BOMB = (
    "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
)

secret = st.sampled_from(SECRETS)
value = st.sampled_from(VALUES)
keys = st.one_of(
    st.sampled_from(SECTIONS + LEAVES),
    secret,
    st.builds(lambda p: f"{p.lower().replace('-', '_')}", secret),
    st.text(max_size=12).filter(lambda key: "PLANTED" not in key.upper()),
    st.integers(-5, 5),
)
scalars = st.one_of(
    value,
    st.builds(lambda p, t: f"{t} {p} {t}", value, st.text(max_size=8)),
    st.builds(lambda p: f"https://svc:{p}@contoso.sharepoint.com/sites/x", secret),
    st.builds(lambda p: f"https://{p}@graph.microsoft.com", secret),
    st.builds(
        lambda p, n: f"https://graph.microsoft.com/v1.0?sv=1&{n}={p}",
        secret,
        st.sampled_from(["sig", "code", "token"]),
    ),
    st.builds(lambda p: f"eyJ{p}.eyJ{p}.sig", secret),
    st.builds(lambda p: f"-----BEGIN PRIVATE KEY-----\n{p}\n-----END PRIVATE KEY-----", secret),
    st.builds(lambda p: f"password={p}", secret),
    st.sampled_from(
        ["certificate", "none", "DEBUG", "https://graph.microsoft.com", "http://127.0.0.1:8765", "~", ""]
    ),
    st.text(max_size=40).filter(lambda text: "PLANTED" not in text.upper()),
    st.builds(lambda n: "x" * n, st.integers(0, 120_000)),
    st.integers(),
    st.booleans(),
    st.none(),
)
secret_entries = st.dictionaries(st.sampled_from(SECRET_NAMES), secret, max_size=2)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=14,
)
documents = st.builds(
    lambda plain, secrets, section: {**plain, **({section: secrets} if section else secrets)},
    st.dictionaries(keys, trees, max_size=8),
    secret_entries,
    st.sampled_from([None, "auth", "endpoints", "colour"]),
)
damages = st.lists(
    st.one_of(
        st.tuples(
            st.just("insert"),
            st.integers(0, 10_000),
            st.sampled_from(
                [
                    "&a ",
                    "*a ",
                    "!!python/object:os.system ",
                    "!!binary ",
                    "!custom ",
                    "!!str ",
                    "&b [*b]",
                    "? ",
                    "- ",
                    ": ",
                    "{",
                    "]",
                    "'",
                    '"',
                    "\t",
                    "\x00",
                    "\x1b[31m",
                    "\ufeff",
                    "%YAML 1.1\n---\n",
                    "\n---\n",
                    "#",
                ]
            ),
        ),
        st.tuples(st.just("planted"), st.integers(0, 10_000), value),
        st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just("")),
        st.tuples(st.just("nest"), st.integers(1, 5_000), st.sampled_from(["[", "{a: ", "- "])),
        st.tuples(st.just("bomb"), st.just(0), st.just(ALIAS_BOMB)),
    ),
    max_size=3,
)


def render(document: dict[Any, Any], flow: bool | None, damage: list[tuple[str, int, str]]) -> bytes:
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=True, sort_keys=False, width=80)
    for kind, position, piece in damage:
        at = position % (len(text) + 1)
        if kind in ("insert", "planted"):
            text = text[:at] + piece + text[at:]
        elif kind == "truncate":
            text = text[:at]
        elif kind == "nest":
            closing = {"[": "]", "{a: ": "}", "- ": ""}[piece]
            text = f"organisation: {piece * position}x{closing * position}\n" + text
        else:
            text = piece + text
    return text.encode("utf-8", errors="surrogatepass")


def shown_by_design(loaded: Loaded | None) -> set[str]:
    """Planted values that are the value of a known setting: `config show` displays those."""
    if loaded is None:
        return set()
    values = [item for item in loaded.provenance.values.values() if item]
    return {marker for marker in VALUES if any(marker in item for item in values)}


def leaked(output: str, allowed: set[str]) -> list[str]:
    return [marker for marker in SECRETS + VALUES if marker in output and marker not in allowed]


def try_load(path: Path) -> tuple[Loaded | None, str]:
    try:
        return load(path, {}, keyring=None, strict=False), ""
    except ConfigError as error:  # the only exception a bad file may raise
        return None, f"{error.message}\n{error.hint}"


@pytest.fixture(autouse=True)
def _in_empty_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@PROPERTY
@given(documents, st.sampled_from([None, True, False]), damages)
def test_load_raises_only_config_errors_that_echo_nothing_planted(
    tmp_path: Path, document: dict[Any, Any], flow: bool | None, damage: list[tuple[str, int, str]]
) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_bytes(render(document, flow, damage))
    loaded, said = try_load(path)
    assert leaked(said, set()) == []  # a refusal echoes nothing planted
    if loaded is not None:  # problems may quote a setting's value (config show redacts what it prints)
        problems = "\n".join(f"{problem.message}\n{problem.hint}" for problem in loaded.problems)
        assert [
            marker for marker in VALUES if marker in problems and marker not in shown_by_design(loaded)
        ] == []


@PROPERTY
@given(st.binary(max_size=3_000), st.lists(st.tuples(st.integers(0, 3_000), value), max_size=3))
def test_random_bytes_are_a_clean_config_error_or_settings(
    tmp_path: Path, raw: bytes, plants: list[tuple[int, str]]
) -> None:
    for position, marker in plants:
        at = position % (len(raw) + 1)
        raw = raw[:at] + marker.encode() + raw[at:]
    path = tmp_path / "cfg.yaml"
    path.write_bytes(raw)
    loaded, said = try_load(path)
    assert leaked(said, shown_by_design(loaded)) == []


@CLI_PROPERTY
@given(documents, st.sampled_from([None, True, False]), damages, st.booleans())
def test_config_show_never_tracebacks_or_echoes_a_planted_key_or_secret(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    document: dict[Any, Any],
    flow: bool | None,
    damage: list[tuple[str, int, str]],
    as_json: bool,
) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_bytes(render(document, flow, damage))
    loaded, _said = try_load(path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(path), "config", "show", *(["--json"] if as_json else [])])
    out, err = capsys.readouterr()
    assert ended.value.code in (0, 1, 2), out + err
    assert "Traceback" not in out + err
    if ended.value.code == 0:
        assert loaded is not None and err == ""
        if as_json:
            assert json.loads(out)["config_file"] == str(path)
    else:
        assert err.startswith("Error: ") and "\nHint: " in err and out == ""
    assert leaked(out + err, shown_by_design(loaded)) == []
