"""`cetk check`: can a sync run? The config, sign-in per resource, the site and its lists (and the app's
permission to read them), the mapping against the live columns, and access to the Power BI workspace.

Every check runs (one failure does not hide the next); each gives ok, warning or failed with a detail
that names what to fix. It only reads: nothing is written and no lock is taken.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from config.loader import Loaded
from config.settings import Settings
from connectors.auth import RESOURCE_NAMES, Resource, SignIn, sign_in_config_from_settings
from errors import AuthError, CetkError, ExitCode
from pipeline.refresh import powerbi_client
from pipeline.sync_source import Source, load_site_mapping, open_source, pseudonymisation_key
from transforms.drift import diff_columns
from transforms.list_mapping import SiteMapping

Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class Check:
    area: str  # config | sign-in | site | list | mapping | powerbi
    item: str
    status: Status
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"area": self.area, "item": self.item, "status": self.status, "detail": self.detail}


@dataclass(frozen=True)
class CheckReport:
    checks: tuple[Check, ...]

    @property
    def failed(self) -> bool:
        return any(one.status == "failed" for one in self.checks)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.FAILED if self.failed else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        counts = {
            status: sum(1 for one in self.checks if one.status == status)
            for status in ("ok", "warning", "failed")
        }
        return {"ok": not self.failed, "counts": counts, "checks": [one.to_dict() for one in self.checks]}


def check(
    loaded: Loaded,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    sign_in: SignIn | None = None,
) -> CheckReport:
    """`cetk check`: every check in turn; see the module docstring."""
    settings = loaded.settings
    found: list[Check] = []

    def attempt(area: str, item: str, action: Callable[[], str | tuple[Status, str]]) -> bool:
        try:
            outcome = action()
        except CetkError as error:
            found.append(Check(area, item, "failed", f"{error.message} (hint: {error.hint})"))
            return False
        status, detail = outcome if isinstance(outcome, tuple) else ("ok", outcome)
        found.append(Check(area, item, status, detail))
        return status != "failed"

    for problem in loaded.problems:
        found.append(Check("config", "settings", "failed", f"{problem.message} (hint: {problem.hint})"))
    if not loaded.problems:
        found.append(
            Check("config", "settings", "ok", f"{loaded.provenance.config_path or 'no config file'}")
        )
    attempt("config", "pseudonymisation key", lambda: (pseudonymisation_key(settings), "set")[1])
    mapping: SiteMapping | None = None

    def read_mapping() -> str:
        nonlocal mapping
        mapping = load_site_mapping(settings.mapping_file)
        return f"{settings.mapping_file}: {len(mapping.lists)} list(s)"

    attempt("mapping", "file", read_mapping)
    if loaded.problems:
        return CheckReport(tuple(found))
    if sign_in is None and not attempt("sign-in", "credential", lambda: _made(settings, sleep, clock)):
        return CheckReport(tuple(found))
    sign_in = sign_in or SignIn(sign_in_config_from_settings(settings), sleep=sleep, clock=clock)
    resources: list[Resource] = ["graph" if settings.sharepoint_api == "graph" else "sharepoint", "powerbi"]
    for resource in resources:
        attempt("sign-in", RESOURCE_NAMES[resource], partial(_token, sign_in, resource))
    source: Source | None = None

    def open_site() -> str:
        nonlocal source
        source = open_source(settings, sleep=sleep, clock=clock, sign_in=sign_in)
        if source.has_delta:  # Graph: the site itself, once, so a wrong path is named as such
            host, path = settings.sharepoint_host or "", settings.sharepoint_site_path or "/"
            site = source.reader.site_by_path(host, path)
            return f"{site.display_name} ({site.web_url})"
        return source.site_url

    if (
        attempt("site", settings.sharepoint_site_url or "(not set)", open_site)
        and source is not None
        and mapping
    ):
        for one in mapping.lists:
            attempt("list", one.display_name, partial(_list, source, one.display_name, mapping))
    if settings.powerbi_workspace_id:
        attempt("powerbi", settings.powerbi_workspace_id, lambda: _workspace(settings, sleep, clock))
    else:
        found.append(
            Check("powerbi", "workspace", "warning", "powerbi.workspace_id is not set: publishing cannot run")
        )
    return CheckReport(tuple(found))


def _made(settings: Settings, sleep: Callable[[float], None], clock: Callable[[], float]) -> str:
    SignIn(sign_in_config_from_settings(settings), sleep=sleep, clock=clock)
    return f"auth.mode {settings.auth_mode}"


def _token(sign_in: SignIn, resource: Resource) -> str:
    if sign_in.config.mode == "none":
        return "no sign-in (auth.mode none: the local emulator)"
    sign_in.acquire_token(resource)
    return "token acquired"


def _list(source: Source, name: str, mapping: SiteMapping) -> tuple[Status, str]:
    try:
        live = source.reader.list_by_name(source.site_id, name)
    except AuthError as error:
        if error.status == 403:
            raise AuthError(
                f"the app may not read list '{name}' (HTTP 403)",
                hint="grant the app read on this site (Sites.Selected: docs/runbooks/scheduling.md)",
            ) from error
        raise
    diff = diff_columns(live, mapping.list_mapping(name))
    if diff.blocking:
        return "failed", diff.describe()
    if diff.changed:
        return "warning", diff.describe()
    return "ok", f"{len(live.columns)} columns; the mapping matches"


def _workspace(settings: Settings, sleep: Callable[[float], None], clock: Callable[[], float]) -> str:
    client = powerbi_client(settings, sleep=sleep, clock=clock)
    group = client.get_group()
    datasets = client.datasets()
    return f"'{group.name}': {len(datasets)} dataset(s) readable"
