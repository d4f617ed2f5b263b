"""Settings: one frozen value built by config.loader.load(), passed down explicitly; every key declared once.

Each setting has a dotted key (the YAML path), a CETK_* environment variable, a default and a description;
docs/config.md is checked against FIELDS. Secrets are not settings: see config/secrets.py. Where each
value came from is not part of Settings: load() returns it beside them (config.loader.Provenance).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from config.secrets import Secret

AuthMode = Literal["certificate", "client_secret", "device_code", "none"]
AUTH_MODES: tuple[AuthMode, ...] = ("certificate", "client_secret", "device_code", "none")
Source = Literal["flag", "env", "file", "default", "derived"]
# A URL setting: an `endpoint` is an http(s) base URL cetk sends tokens to (no query, https off loopback); a
# `scope` is a token scope URI. Both refuse a credential in the URL (config/urls.py) wherever it comes from.
UrlRole = Literal["endpoint", "scope"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LOG_LEVELS: tuple[LogLevel, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SharePointApi = Literal["graph", "rest"]
SHAREPOINT_APIS: tuple[SharePointApi, ...] = ("graph", "rest")
# What `cetk sync` does after staging (docs/cli.md#cetk-sync)
PublishMode = Literal["push", "refresh", "off"]
PUBLISH_MODES: tuple[PublishMode, ...] = ("push", "refresh", "off")
DEFAULT_CONFIG_FILE = "cetk.yaml"
DEFAULT_MAPPING_FILE = "mapping.yaml"  # beside the config file unless sharepoint.mapping_file says otherwise
CONFIG_ENV_VAR = "CETK_CONFIG"


def cetk_version() -> str:
    try:
        return version("cetk")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


@dataclass(frozen=True)
class Field:
    """One setting: where it lives in the YAML, which variable overrides it, its default and meaning."""

    key: str
    default: str | None
    description: str
    url: UrlRole | None = None  # set on every setting that holds a URL; drives the URL checks

    @property
    def env_var(self) -> str:
        return "CETK_" + self.key.replace(".", "_").upper()


FIELDS: tuple[Field, ...] = (
    Field("tenant_id", None, "Entra tenant id (GUID) or domain of the force's Microsoft 365 tenant"),
    Field("client_id", None, "Application (client) id of the Entra app registration cetk signs in as"),
    Field(
        "auth.mode", "certificate", "How cetk gets tokens: certificate | client_secret | device_code | none"
    ),
    Field("auth.certificate_path", None, "PEM or PFX file holding the app certificate and its private key"),
    Field(
        "auth.certificate_thumbprint", None, "SHA-1 thumbprint (hex) of the certificate uploaded to the app"
    ),
    Field(
        "endpoints.authority",
        "https://login.microsoftonline.com",
        "Login authority host (sovereign clouds differ)",
        url="endpoint",
    ),
    Field("endpoints.graph", "https://graph.microsoft.com", "Microsoft Graph base URL", url="endpoint"),
    Field("endpoints.powerbi", "https://api.powerbi.com", "Power BI REST base URL", url="endpoint"),
    Field(
        "scopes.graph", "https://graph.microsoft.com/.default", "Token scope for Microsoft Graph", url="scope"
    ),
    Field(
        "scopes.powerbi",
        "https://analysis.windows.net/powerbi/api/.default",
        "Token scope for Power BI",
        url="scope",
    ),
    Field(
        "scopes.sharepoint",
        None,
        "Token scope for SharePoint REST; empty = derived from the site host",
        url="scope",
    ),
    Field(
        "sharepoint.site_url",
        None,
        "SharePoint site holding the lists, e.g. https://contoso.sharepoint.com/sites/x",
        url="endpoint",
    ),
    Field(
        "sharepoint.api",
        "graph",
        "How lists are read: graph (Microsoft Graph, with delta) | rest (SharePoint REST, certificate only)",
    ),
    Field(
        "sharepoint.mapping_file",
        None,
        "The list mapping file (docs/mapping.md); empty = mapping.yaml beside the config file",
    ),
    Field("sharepoint.lists.events", "Engagement Events", "Title of the events list"),
    Field("sharepoint.lists.ccr", "Community Contact Records", "Title of the community contact record list"),
    Field("sharepoint.lists.you_said_we_did", "You Said We Did", "Title of the 'You said, we did' list"),
    Field("sharepoint.lists.officers", "Officers", "Title of the officers list"),
    Field("powerbi.workspace_id", None, "Power BI workspace (group) id the push dataset lives in"),
    Field("powerbi.dataset_name", "Community Engagement", "Name of the Power BI push dataset"),
    Field(
        "powerbi.mode",
        "off",
        "What cetk sync does after staging: push (publish to the push dataset) | refresh (refresh"
        " powerbi.refresh_dataset, an import model) | off (stage only; cetk publish does it later)",
    ),
    Field(
        "powerbi.refresh_dataset",
        None,
        "The import-mode dataset cetk sync refreshes with powerbi.mode: refresh",
    ),
    Field(
        "geography.dir",
        None,
        "Folder of the reference geography (wards.csv, lsoas.csv, wards.geojson, lpts.geojson) that report"
        " and publish use; empty = the demo force's synthetic files, with a note saying so (docs/geography.md)",
    ),
    Field(
        "report.evaluation_weeks",
        "8",
        "'You said, we did' evaluation window: weeks before and after an action (1-52), report and publish",
    ),
    Field("disclosure.threshold", "10", "Published counts below this are suppressed (disclosure control)"),
    Field("disclosure.rounding_base", "5", "Published counts are rounded to a multiple of this"),
    Field(
        "disclosure.min_percentage_base", "50", "No percentage is published of fewer respondents than this"
    ),
    Field("paths.staging_dir", "staging", "Where validated tables are staged before publish"),
    Field("paths.quarantine_dir", "staging/quarantine", "Where rejected rows and their reasons are written"),
    Field("paths.state_dir", "staging/state", "Where sync cursors and publish loads are recorded"),
    Field(
        "pseudonymisation.key_name",
        "pseudonymisation_key",
        "OS keyring entry (service 'cetk') of the HMAC key",
    ),
    Field("ca_bundle", None, "Extra CA bundle (PEM) to trust, e.g. the local emulator's HTTPS CA"),
    Field("log_level", "WARNING", "Log level for stderr: DEBUG | INFO | WARNING | ERROR | CRITICAL"),
    Field(
        "organisation",
        "CommunityEngagementToolkit",
        "Organisation name sent in the User-Agent (NONISV|org|cetk)",
    ),
)
FIELDS_BY_KEY: dict[str, Field] = {item.key: item for item in FIELDS}


@dataclass(frozen=True)
class Endpoints:
    authority: str
    graph: str
    powerbi: str
    sharepoint: str | None  # scheme + host of the SharePoint site, derived from sharepoint.site_url


@dataclass(frozen=True)
class Scopes:
    graph: str
    powerbi: str
    sharepoint: str | None


@dataclass(frozen=True)
class ListNames:
    events: str
    ccr: str
    you_said_we_did: str
    officers: str


@dataclass(frozen=True)
class Paths:
    staging_dir: Path
    quarantine_dir: Path
    state_dir: Path


@dataclass(frozen=True)
class AnalyticsSettings:
    """What `cetk report` and `cetk publish` both build the published tables with (pipeline/published.py)."""

    geography_dir: Path | None = None  # None: the demo force's synthetic reference files
    evaluation_weeks: int = 8
    disclosure_threshold: int = 10
    disclosure_rounding_base: int = 5
    disclosure_min_percentage_base: int = 50


@dataclass(frozen=True)
class Secrets:
    """Credentials found in the environment or the OS keyring; each value masks itself."""

    client_secret: Secret | None = None
    cert_passphrase: Secret | None = None
    pseudonymisation_key: Secret | None = None


@dataclass(frozen=True)
class Settings:
    tenant_id: str | None
    client_id: str | None
    auth_mode: AuthMode
    certificate_path: Path | None
    certificate_thumbprint: str | None
    endpoints: Endpoints
    scopes: Scopes
    sharepoint_site_url: str | None
    lists: ListNames
    powerbi_workspace_id: str | None
    powerbi_dataset_name: str
    paths: Paths
    pseudonymisation_key_name: str
    ca_bundle: Path | None
    log_level: LogLevel
    organisation: str
    secrets: Secrets = field(default_factory=Secrets)
    sharepoint_api: SharePointApi = "graph"
    powerbi_mode: PublishMode = "off"
    powerbi_refresh_dataset: str | None = None
    mapping_file: Path = Path(DEFAULT_MAPPING_FILE)  # the list mapping (docs/mapping.md)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)

    @property
    def user_agent(self) -> str:
        """Microsoft's throttling guidance asks for NONISV|<organisation>|<app>/<version>."""
        return f"NONISV|{self.organisation}|cetk/{cetk_version()}"

    @property
    def sharepoint_host(self) -> str | None:
        return urlsplit(self.sharepoint_site_url).hostname if self.sharepoint_site_url else None

    @property
    def sharepoint_site_path(self) -> str | None:
        return (
            urlsplit(self.sharepoint_site_url).path.rstrip("/") or "/" if self.sharepoint_site_url else None
        )
