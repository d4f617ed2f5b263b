"""Build Settings from flags > CETK_* environment > YAML file > defaults, refusing secrets in files and flags.

`load()` is the only reader of the config file (config/files.py reads it); callers pass `os.environ` in,
so nothing else reads it. It returns the Settings and, beside them, where each value came from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from config.analytics_settings import parse_analytics_settings
from config.checks import (
    iter_problems,
    parse_auth_mode,
    parse_log_level,
    parse_publish_mode,
    parse_sharepoint_api,
)
from config.credential_guard import refuse_credentials_in_environment, refuse_secret_flags
from config.files import read_config_file, resolve_config_path
from config.logs import Redactor
from config.secrets import (
    SECRETS,
    FoundSecret,
    KeyringLookup,
    SecretName,
    SecretSource,
    find_secret,
    keyring_lookup,
)
from config.settings import (
    DEFAULT_MAPPING_FILE,
    FIELDS,
    FIELDS_BY_KEY,
    AuthMode,
    Endpoints,
    ListNames,
    LogLevel,
    Paths,
    PublishMode,
    Scopes,
    Secrets,
    Settings,
    SharePointApi,
    Source,
)
from config.urls import origin_of
from errors import ConfigError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provenance:
    """Where each value came from: the file read, the raw values and their sources, each secret's source."""

    config_path: Path | None
    values: Mapping[str, str | None]  # dotted key -> raw value, as given
    sources: Mapping[str, Source]  # dotted key -> flag | env | file | default | derived
    secret_sources: Mapping[SecretName, SecretSource]


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    provenance: Provenance
    problems: tuple[ConfigError, ...] = ()  # every problem; load(strict=True) raises the first instead


def load(
    config_path: Path | None,
    environ: Mapping[str, str],
    overrides: Mapping[str, object] | None = None,
    *,
    keyring: KeyringLookup | None = keyring_lookup,
    strict: bool = True,
) -> Loaded:
    """Effective settings and their provenance; with strict=False, problems are returned instead of raised."""
    overrides = {key: value for key, value in (overrides or {}).items() if value is not None}
    refuse_secret_flags(overrides)
    refuse_credentials_in_environment(environ)
    path = resolve_config_path(config_path, environ)  # the file's values are checked as it is read
    values, sources = _layered(environ, overrides, read_config_file(path) if path else {})
    problems: list[ConfigError] = []
    auth_mode: AuthMode = "certificate"
    log_level: LogLevel = "WARNING"
    try:
        auth_mode = parse_auth_mode(_need(values, "auth.mode"))
        auth_parsed = True
    except ConfigError as problem:
        problems.append(problem)
        auth_parsed = False
    try:
        log_level = parse_log_level(_need(values, "log_level"))
    except ConfigError as problem:
        problems.append(problem)
    sharepoint_api: SharePointApi = "graph"
    try:
        sharepoint_api = parse_sharepoint_api(_need(values, "sharepoint.api"))
    except ConfigError as problem:
        problems.append(problem)
    powerbi_mode: PublishMode = "off"
    try:
        powerbi_mode = parse_publish_mode(_need(values, "powerbi.mode"))
    except ConfigError as problem:
        problems.append(problem)
    key_name = _need(values, "pseudonymisation.key_name")
    found: dict[SecretName, FoundSecret] = {
        spec.name: find_secret(
            spec.name, environ, keyring, keyring_name=key_name if spec.keyring_setting else None
        )
        for spec in SECRETS
    }
    secrets = Secrets(**{name: item.secret for name, item in found.items()})
    analytics, analytics_problems = parse_analytics_settings(values, sources, path)
    problems += analytics_problems
    settings = replace(
        _build(values, sources, auth_mode, log_level, secrets),
        sharepoint_api=sharepoint_api,
        powerbi_mode=powerbi_mode,
        powerbi_refresh_dataset=_get(values, "powerbi.refresh_dataset"),
        mapping_file=_mapping_file(values, sources, path),
        analytics=analytics,
    )
    problems += iter_problems(settings, values, check_auth=auth_parsed, sources=sources, config_path=path)
    provenance = Provenance(path, values, sources, {name: item.source for name, item in found.items()})
    if logger.isEnabledFor(logging.DEBUG):  # redacted here too: a caller may log with no redaction installed
        shown = Redactor.for_settings(settings).redact(repr(settings))
        logger.debug("settings from %s: %s", path or "defaults and environment", shown)
    if strict and problems:
        raise _first_problem(problems, path)
    return Loaded(settings, provenance, tuple(problems))


def _first_problem(problems: list[ConfigError], path: Path | None) -> ConfigError:
    """The first problem, saying how many more there are and, with no config file, how to write one."""
    first = problems[0]
    message, hint = first.message, first.hint
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more problem(s): `cetk config show` lists them all)"
    if path is None:  # every value came from the environment or the defaults: most likely there is no file
        hint = (
            f"{hint}; no config file was found (--config, CETK_CONFIG, ./cetk.yaml): `cetk init` writes one"
        )
    return type(first)(message, hint=hint)


def effective_log_level(flag: str | None, environ: Mapping[str, str], config_path: Path | None) -> LogLevel:
    """The log level for a run, before settings load: flag > CETK_LOG_LEVEL > config file > default.

    A config file that cannot be read, or holds a bad level, is passed over here: the commands that load
    settings report it. A bad flag or variable is a ConfigError naming the key and the variable.
    """
    from_file: Mapping[str, str | None] = {}
    try:
        path = resolve_config_path(config_path, environ)
        from_file = read_config_file(path) if path else {}
    except ConfigError:
        pass  # reported by the commands that load settings
    values, sources = _layered(environ, {"log_level": flag} if flag else {}, from_file)
    try:
        return parse_log_level(_need(values, "log_level"))
    except ConfigError as problem:
        if sources["log_level"] != "file":
            raise ConfigError(
                problem.message,
                hint="pass --log-level DEBUG|INFO|WARNING|ERROR|CRITICAL or set CETK_LOG_LEVEL",
            ) from None
        return parse_log_level(str(FIELDS_BY_KEY["log_level"].default))


def parse_overrides(pairs: Iterable[str]) -> dict[str, object]:
    """`--set KEY=VALUE` pairs as {key: value}; anything else is a ConfigError."""
    overrides: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {pair!r} is not KEY=VALUE", hint="e.g. --set auth.mode=device_code")
        overrides[key.strip()] = value
    return overrides


def _layered(
    environ: Mapping[str, str], overrides: Mapping[str, object], from_file: Mapping[str, str | None]
) -> tuple[dict[str, str | None], dict[str, Source]]:
    values: dict[str, str | None] = {}
    sources: dict[str, Source] = {}
    for item in FIELDS:
        env_value = environ.get(item.env_var)
        if item.key in overrides:
            values[item.key], sources[item.key] = str(overrides[item.key]), "flag"
        elif env_value:
            values[item.key], sources[item.key] = env_value, "env"
        elif item.key in from_file:
            values[item.key], sources[item.key] = from_file[item.key], "file"
        else:
            values[item.key], sources[item.key] = item.default, "default"
    return values, sources


def _get(values: Mapping[str, str | None], key: str) -> str | None:
    value = values[key]
    return value.strip() if value and value.strip() else None


def _need(values: Mapping[str, str | None], key: str) -> str:
    return _get(values, key) or str(FIELDS_BY_KEY[key].default)


def _mapping_file(
    values: Mapping[str, str | None], sources: dict[str, Source], config_path: Path | None
) -> Path:
    """The list mapping: as set (relative to where cetk runs, like the paths.* settings), else mapping.yaml
    beside the config file (or in the working directory when there is none)."""
    given = _get(values, "sharepoint.mapping_file")
    if given is not None:
        return Path(given)
    sources["sharepoint.mapping_file"] = "derived"
    return (config_path.parent if config_path else Path()) / DEFAULT_MAPPING_FILE


def _origin(url: str) -> str | None:
    try:
        return origin_of(url)
    except ValueError:  # a bad port: iter_problems reports the URL
        return None


def _build(
    values: Mapping[str, str | None],
    sources: dict[str, Source],
    auth_mode: AuthMode,
    log_level: LogLevel,
    secrets: Secrets,
) -> Settings:
    site_url = _get(values, "sharepoint.site_url")
    sharepoint_base = _origin(site_url) if site_url else None  # never the user, query or fragment
    sharepoint_scope = _get(values, "scopes.sharepoint")
    if sharepoint_scope is None and sharepoint_base:
        sharepoint_scope = f"{sharepoint_base}/.default"
        sources["scopes.sharepoint"] = "derived"
    certificate_path, ca_bundle = _get(values, "auth.certificate_path"), _get(values, "ca_bundle")

    def need(key: str) -> str:
        return _need(values, key)

    return Settings(
        tenant_id=_get(values, "tenant_id"),
        client_id=_get(values, "client_id"),
        auth_mode=auth_mode,
        certificate_path=Path(certificate_path) if certificate_path else None,
        certificate_thumbprint=_get(values, "auth.certificate_thumbprint"),
        endpoints=Endpoints(
            need("endpoints.authority").rstrip("/"),
            need("endpoints.graph").rstrip("/"),
            need("endpoints.powerbi").rstrip("/"),
            sharepoint_base,
        ),
        scopes=Scopes(need("scopes.graph"), need("scopes.powerbi"), sharepoint_scope),
        sharepoint_site_url=site_url.rstrip("/") if site_url else None,
        lists=ListNames(
            need("sharepoint.lists.events"),
            need("sharepoint.lists.ccr"),
            need("sharepoint.lists.you_said_we_did"),
            need("sharepoint.lists.officers"),
        ),
        powerbi_workspace_id=_get(values, "powerbi.workspace_id"),
        powerbi_dataset_name=need("powerbi.dataset_name"),
        paths=Paths(
            Path(need("paths.staging_dir")), Path(need("paths.quarantine_dir")), Path(need("paths.state_dir"))
        ),
        pseudonymisation_key_name=need("pseudonymisation.key_name"),
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
        log_level=log_level,
        organisation=need("organisation"),
        secrets=secrets,
    )


__all__ = ["Loaded", "Provenance", "effective_log_level", "load", "parse_overrides"]
