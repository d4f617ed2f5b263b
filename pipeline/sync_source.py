"""What a sync reads from: the mapping file (and which of its lists a run takes), the pseudonymisation
key, and the list connector that `sharepoint.api` chooses (Graph or SharePoint REST), signed in with
connectors/auth.py.

    source = open_source(settings, sleep=sleep, clock=clock)   # no request yet (Graph)
    source.reader.list_by_name(source.site_id, "Engagement Events")
    source.stats.requests                                      # what the run's ledger records
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from config.settings import Settings
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.graph_lists import GRAPH_PAGE_SIZE, GraphLists, site_ref
from connectors.http import RequestStats, build_session
from connectors.list_items import ItemPage, Site
from connectors.sharepoint_rest import open_sharepoint_rest
from errors import ConfigError
from powerbi_dataset.model import DATASET
from transforms.list_columns import LiveList
from transforms.list_mapping import ListMapping, SiteMapping, load_mapping
from transforms.list_mapping_check import check_mapping
from transforms.mapping_file import MappingProblem
from transforms.privacy import require_key

KEY_VARIABLE = "CETK_PSEUDONYMISATION_KEY"


class ListReader(Protocol):
    """The read methods both list connectors offer (issue 8 contract §2)."""

    def site_by_path(self, hostname: str, path: str) -> Site: ...

    def lists(self, site_id: str) -> list[LiveList]: ...

    def list_by_name(self, site_id: str, display_name: str) -> LiveList: ...

    def iter_item_pages(
        self, site_id: str, list_id: str, select: Sequence[str], *, lookup_columns: Collection[str] = ()
    ) -> Iterator[ItemPage]: ...

    def iter_delta_pages(
        self,
        site_id: str,
        list_id: str,
        select: Sequence[str],
        *,
        delta_link: str | None,
        lookup_columns: Collection[str] = (),
    ) -> Iterator[ItemPage]: ...


class ArrowListReader(ListReader, Protocol):
    """A reader that can hand pages decoded straight into Arrow (the Graph connector): with `schema`,
    ItemPage.content is transforms.page_read.ArrowItems where the list is read in one request a page."""

    def iter_delta_pages(
        self,
        site_id: str,
        list_id: str,
        select: Sequence[str],
        *,
        delta_link: str | None,
        lookup_columns: Collection[str] = (),
        schema: pa.Schema | None = None,
    ) -> Iterator[ItemPage]: ...


@dataclass(frozen=True)
class Source:
    """The configured site, read through one connector on one session; `arrow` is that connector when
    it decodes pages into Arrow and the sync is to use it (None: every page is read as dicts)."""

    reader: ListReader
    site_id: str
    api: str  # "graph" (delta: only changes) or "rest" (every run reads whole lists)
    stats: RequestStats
    site_url: str
    arrow: ArrowListReader | None = None

    @property
    def has_delta(self) -> bool:
        return self.api == "graph"


def open_source(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    jitter: Callable[[], float] = random.random,
    sign_in: SignIn | None = None,
    page_size: int | None = None,
    arrow_pages: bool = True,
) -> Source:
    """The connector `sharepoint.api` names, for the site `sharepoint.site_url` names; `page_size` (tests,
    benchmarks) below the largest page the service honours, which is the default. `arrow_pages=False`
    (tests and benchmarks compare the two) reads Graph pages as dicts, as SharePoint REST's always are."""
    host, path = settings.sharepoint_host, settings.sharepoint_site_path
    if not settings.sharepoint_site_url or not host or not path:
        raise ConfigError(
            "setting 'sharepoint.site_url' is not set",
            hint="set sharepoint.site_url (e.g. https://contoso.sharepoint.com/sites/engagement) "
            "or CETK_SHAREPOINT_SITE_URL",
        )
    sign_in = sign_in or SignIn(sign_in_config_from_settings(settings), sleep=sleep, clock=clock)
    if settings.sharepoint_api == "rest":
        rest = open_sharepoint_rest(settings, sign_in, sleep=sleep, clock=clock, jitter=jitter)
        if page_size is not None:
            rest.page_size = page_size
        site = rest.site()
        return Source(rest, site.id, "rest", rest.stats, settings.sharepoint_site_url)
    session = build_session(
        sign_in.token_provider("graph"),
        user_agent=settings.user_agent,
        ca_bundle=settings.ca_bundle,
        sleep=sleep,
        clock=clock,
        jitter=jitter,
    )
    graph = GraphLists(session, settings.endpoints.graph, page_size=page_size or GRAPH_PAGE_SIZE)
    # Graph takes `host:/path:` wherever a site id goes: no request to look the site up.
    return Source(graph, site_ref(host, path), "graph", session.stats, settings.sharepoint_site_url,
                  graph if arrow_pages else None)  # fmt: skip


def load_site_mapping(path: Path) -> SiteMapping:
    """The list mapping file, checked against the model; a ConfigError names the file (and the first
    problems) when it is missing or wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"the list mapping file {path} does not exist",
            hint="write one with `cetk mapping propose --out "
            f"{path}`, review it, or set sharepoint.mapping_file (docs/mapping.md)",
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the list mapping file {path}: {exc.strerror}") from None
    mapping = load_mapping(text, str(path))
    problems = check_mapping(mapping, DATASET)
    if problems:
        raise ConfigError(
            f"the list mapping file {path} does not fit the model: {_first(problems)}",
            hint="fix the mapping (docs/mapping.md); `cetk check` lists every problem",
        )
    return mapping


def pseudonymisation_key(settings: Settings) -> bytes:
    """The HMAC key officers' pseudonyms are made with (environment or keyring only, never the file)."""
    secret = settings.secrets.pseudonymisation_key
    if secret is None:
        raise ConfigError(
            "the pseudonymisation key is not set: officers cannot be pseudonymised",
            hint=f"set {KEY_VARIABLE} (or the keyring entry '{settings.pseudonymisation_key_name}', service "
            "'cetk') to a random value of at least 16 bytes; keep it: a new key changes every officer key",
        )
    return require_key(secret.reveal().encode("utf-8"))


def _first(problems: Sequence[MappingProblem]) -> str:
    shown = "; ".join(str(problem) for problem in problems[:3])
    return shown + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else "")


def choose_lists(mapping: SiteMapping, names: Sequence[str] | None) -> list[ListMapping]:
    """The mapped lists to sync, in the mapping's order; an unknown name is a ConfigError naming the known."""
    if not names:
        return list(mapping.lists)
    known = [one.display_name for one in mapping.lists]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"--lists names a list the mapping ({mapping.source}) does not map: {', '.join(unknown)}",
            hint="choose from: " + ", ".join(known),
        )
    return [one for one in mapping.lists if one.display_name in names]
