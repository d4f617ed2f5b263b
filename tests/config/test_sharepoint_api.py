"""`sharepoint.api` chooses the list connector: graph (default) or rest, which cannot sign in with a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.checks import parse_sharepoint_api
from config.loader import load
from errors import ConfigError

SITE = "https://contoso.sharepoint.com/sites/Neighbourhood"


def test_graph_is_the_default_and_rest_is_read_in_any_case() -> None:
    assert load(None, {}, keyring=None, strict=False).settings.sharepoint_api == "graph"
    assert (
        load(None, {"CETK_SHAREPOINT_API": " REST "}, keyring=None, strict=False).settings.sharepoint_api
        == "rest"
    )


def test_an_unknown_api_is_one_problem_naming_the_key_and_variable() -> None:
    loaded = load(None, {"CETK_SHAREPOINT_API": "csom"}, keyring=None, strict=False)

    (problem,) = [p for p in loaded.problems if "sharepoint.api" in p.message]
    assert "'csom' is not one of graph, rest" in problem.message and "CETK_SHAREPOINT_API" in problem.hint
    with pytest.raises(ConfigError):
        parse_sharepoint_api("csom")


def test_rest_with_a_client_secret_is_refused_before_anything_runs(tmp_path: Path) -> None:
    environ = {"CETK_TENANT_ID": "t", "CETK_CLIENT_ID": "c", "CETK_AUTH_MODE": "client_secret",
               "CETK_CLIENT_SECRET": "dev-only", "CETK_SHAREPOINT_SITE_URL": SITE}  # fmt: skip

    with_graph = load(None, environ, keyring=None, strict=False)
    with_rest = load(None, {**environ, "CETK_SHAREPOINT_API": "rest"}, keyring=None, strict=False)

    assert not [p for p in with_graph.problems if "sharepoint.api" in p.message]
    (problem,) = [p for p in with_rest.problems if "sharepoint.api" in p.message]
    assert "Unsupported app only token" in problem.message and "certificate" in problem.hint
