"""Microsoft Lists through SharePoint REST (office365-rest-python-client 3.3): the read graph_lists.py does, for
tenants that grant an app only SharePoint permissions.

    lists = open_sharepoint_rest(settings, sign_in)          # ConfigError in auth.mode client_secret
    site = lists.site()
    live = lists.list_by_name(site.id, "Engagement Events")
    for page in lists.iter_item_pages(site.id, live.id, ["Title", "Officers"]):
        ...                                                  # Graph-shaped items (connectors/list_items.py)

The library builds the queries and follows `__next`; every request goes through cetk's seam (connectors/
http.py: retries, Retry-After, pacing, typed errors), the library's own retry stays off. No delta: see
docs/connectors.md (SharePoint REST) for what this connector cannot do that Graph can.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any, NoReturn, TypeVar
from urllib.parse import urlsplit

from office365.runtime.client_object import ClientObject
from office365.runtime.client_object_collection import ClientObjectCollection
from office365.runtime.http.request_options import RequestOptions
from office365.runtime.transport.base import BaseTransport
from office365.sharepoint.client_context import ClientContext
from requests import Response

from config.settings import Settings
from connectors.auth import SignIn
from connectors.http import DEFAULT_TIMEOUT, RequestStats, ServiceSession, build_session, send
from connectors.list_items import ItemPage, Site
from connectors.sharepoint_rest_fields import (
    LOOKUP_COLUMN_THRESHOLD,
    ItemQuery,
    RestField,
    live_column,
    plan_queries,
    rest_field,
)
from connectors.sharepoint_rest_items import graph_fields, graph_item, merge_by_id, plain_json
from errors import AuthError, ConfigError, NotFoundError
from transforms.list_columns import LiveColumn, LiveList

# The largest $top SharePoint REST takes: the list view threshold; over it the query is a 500
# (SPQueryThrottledException), so pages never ask for more.
MAX_PAGE_SIZE = 5000
UNSUPPORTED_APP_ONLY_TOKEN = "Unsupported app only token"
logger = logging.getLogger(__name__)
Result = TypeVar("Result")


class _SeamTransport(BaseTransport):
    """The library's transport, replaced: each request is one `send()` through cetk's session."""

    def __init__(self, session: ServiceSession, timeout: tuple[float, float]) -> None:
        self._session, self._timeout = session, timeout

    @property
    def auth(self) -> object:
        # The session signs every request (or, in auth mode none, the emulator wants no token): this tells
        # the library not to look for credentials of its own.
        return self._session.auth or "none"

    def execute(self, request: RequestOptions) -> Response:
        method = request.method.value.upper()
        body: dict[str, Any] = {}
        if request.data is not None and method in ("POST", "PATCH", "PUT"):
            body["data" if request.is_bytes or request.is_file else "json"] = request.data
        return send(
            self._session, method, request.url, headers=request.headers, timeout=self._timeout, **body
        )

    def close(self) -> None:
        """The session belongs to the caller; the library must not close it."""


class _RawItem(ClientObject):
    """A list item kept as the JSON the library read: ListItem.set_property costs about 3 ms an item."""

    def set_property(self, name: str, value: Any, persist_changes: bool = True) -> _RawItem:
        self._properties[name] = value
        return self


class SharePointRestLists:
    """Sites, lists, column definitions and items of one tenant's SharePoint through `/_api`."""

    def __init__(
        self,
        session: ServiceSession,
        site_url: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        lookup_threshold: int = LOOKUP_COLUMN_THRESHOLD,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE} (SharePoint's list view threshold)")
        self._session, self._site_url, self._timeout = session, site_url.rstrip("/"), timeout
        self.page_size, self.lookup_threshold = page_size, lookup_threshold
        self._site_urls: dict[str, str] = {}  # site id -> site URL, from site_by_path
        self._fields: dict[tuple[str, str], dict[str, RestField]] = {}  # (site, list id) -> fields by name

    @property
    def stats(self) -> RequestStats:
        """Requests, retries and waits of this connector's session (the run ledger records them)."""
        return self._session.stats

    # sites and lists

    def site(self) -> Site:
        """The configured site (`sharepoint.site_url`)."""
        parts = urlsplit(self._site_url)
        return self.site_by_path(parts.hostname or "", parts.path or "/")

    def site_by_path(self, hostname: str, path: str) -> Site:
        """A site by host and server-relative path; its id is Graph's `{hostname},{site GUID},{web GUID}`."""
        url = self._url_for(hostname, path)
        context = self._context(url)
        web = context.web.select(["Id", "Title", "Url"]).get()
        collection = context.site.select(["Id"]).get()
        self._run(context.execute_query, f"site {url}")
        site = Site(f"{hostname},{collection.properties['Id']},{web.properties['Id']}",
                    str(web.properties["Url"]), str(web.properties["Title"]))  # fmt: skip
        self._site_urls[site.id] = url
        return site

    def lists(self, site_id: str) -> list[LiveList]:
        """Every visible list of the site, with its columns (one request for the lists, one per list)."""
        url = self._url_of(site_id)
        context = self._context(url)
        found = context.web.lists.expand(["RootFolder"]).get()
        self._run(context.execute_query, f"the lists of site {url}")
        return [
            self._live_list(url, plain_json(entry.properties))
            for entry in found
            if not entry.properties.get("Hidden")
        ]

    def list_by_name(self, site_id: str, display_name: str) -> LiveList:
        """One list by its display name (title), with its columns; NotFoundError naming list and site."""
        url = self._url_of(site_id)
        context = self._context(url)
        found = context.web.lists.get_by_title(display_name).expand(["RootFolder"]).get()
        self._run(context.execute_query, f"list '{display_name}' in site {url}")
        return self._live_list(url, plain_json(found.properties))

    # items

    def iter_item_pages(
        self, site_id: str, list_id: str, select: Sequence[str], *, lookup_columns: Collection[str] = ()
    ) -> Iterator[ItemPage]:
        """Every item of the list, page by page, with only the `select`ed columns (internal names).

        Types come from the list's fields (one request, kept for the connector's life); `lookup_columns` may
        name more columns to count as lookups. Past the lookup threshold the columns are read by several
        queries in step and merged by item id. Each page is part of a full enumeration.
        """
        url = self._url_of(site_id)
        fields = self._rest_fields(url, list_id)
        queries = plan_queries(
            select,
            fields,
            list_name=list_id,
            extra_lookups=tuple(lookup_columns),
            threshold=self.lookup_threshold,
        )
        primary = (
            [graph_item(props, queries[0], list_name=list_id) for props in page]
            for page in self._iter_raw_pages(url, list_id, queries[0])
        )
        others = [self._iter_fields(url, list_id, query) for query in queries[1:]]
        for items in merge_by_id(primary, others) if others else primary:
            yield ItemPage(list_id, items, full_enumeration=True)

    def iter_delta_pages(
        self,
        site_id: str,
        list_id: str,
        select: Sequence[str],
        *,
        delta_link: str | None,
        lookup_columns: Collection[str] = (),
    ) -> NoReturn:
        """SharePoint REST has no delta for list items: a ConfigError pointing at Graph (docs/connectors.md)."""
        raise ConfigError(
            "SharePoint REST (sharepoint.api: rest) cannot read only the changes of a list: it has no delta query",
            hint="set sharepoint.api: graph for incremental sync, or read the whole list (cetk sync --full)",
        )

    # plumbing

    def _iter_fields(
        self, url: str, list_id: str, query: ItemQuery
    ) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        for page in self._iter_raw_pages(url, list_id, query):
            yield [
                (str(props["Id"]), graph_fields(props, query, list_name=list_id, item_id=str(props["Id"])))
                for props in page
            ]

    def _iter_raw_pages(self, url: str, list_id: str, query: ItemQuery) -> Iterator[list[dict[str, Any]]]:
        """The query's pages as the library read them; the library follows SharePoint's `__next` itself."""
        context = self._context(url)
        path = context.web.lists.get_by_id(list_id).items.resource_path
        items = ClientObjectCollection(context, _RawItem, path).select(list(query.select))
        if query.expand:
            items = items.expand(list(query.expand))
        collection = items.paged(self.page_size).get()
        self._run(context.execute_query, f"the items of list {list_id}")
        while True:
            page = [dict(item.properties) for item in collection.current_page]
            collection.clear()  # one page in memory at a time (get_all() would keep every page)
            yield page
            if (
                not collection.has_next
            ):  # read after clear(): only SharePoint's __next counts, never a $skip guess
                return
            collection._get_next()  # the library's own next-page request (3.3.x), sent to __next as written
            self._run(context.execute_query, f"the items of list {list_id}")

    def _rest_fields(self, url: str, list_id: str) -> dict[str, RestField]:
        key = (url, list_id)
        if key not in self._fields:
            context = self._context(url)
            found = context.web.lists.get_by_id(list_id).fields.get()
            self._run(context.execute_query, f"the columns of list {list_id}")
            self._fields[key] = {
                str(field.properties["InternalName"]): rest_field(field.properties) for field in found
            }
        return self._fields[key]

    def _live_list(self, url: str, props: dict[str, Any]) -> LiveList:
        list_id = str(props["Id"]).lower()
        context = self._context(url)
        found = context.web.lists.get_by_id(list_id).fields.get()
        self._run(context.execute_query, f"the columns of list '{props.get('Title')}'")
        fields = [plain_json(field.properties) for field in found]
        self._fields[(url, list_id)] = {str(f["InternalName"]): rest_field(f) for f in fields}
        columns: list[LiveColumn] = [live_column(f, f.get("Choices") or []) for f in fields]
        folder = props.get("RootFolder") or {}
        return LiveList(
            list_id, str(props["Title"]), str(folder.get("Name") or props["Title"]), tuple(columns)
        )

    def _context(self, url: str) -> ClientContext:
        """A fresh context per operation (no network): queries never leak from one call into the next."""
        context = ClientContext(url)
        request = context.pending_request()
        request.transport = _SeamTransport(self._session, self._timeout)
        # Bearer tokens need no form digest; the library's digest fetch would retry on its own, by wall clock.
        request.beforeExecute -= request.ensure_form_digest
        # The library's retry stays off (its default): the session's rules are the only ones, never twice.
        assert request.retry_policy is None
        return context

    def _run(self, call: Callable[[], Result], what: str) -> Result:
        try:
            return call()
        except NotFoundError as error:
            raise NotFoundError(
                f"SharePoint REST: {what} was not found ({error})",
                hint="check sharepoint.site_url and the list's title in the mapping",
                status=error.status, service_code=error.service_code, request_id=error.request_id,
            ) from error  # fmt: skip
        except AuthError as error:
            _raise_auth(error)

    def _url_for(self, hostname: str, path: str) -> str:
        configured = urlsplit(self._site_url)
        same_host = hostname.lower() == (configured.hostname or "").lower()
        origin = f"{configured.scheme}://{configured.netloc}" if same_host else f"https://{hostname}"
        return origin + "/" + path.strip("/")

    def _url_of(self, site_id: str) -> str:
        if site_id in self._site_urls:
            return self._site_urls[site_id]
        self.site()  # the configured site is the one a caller names without resolving it first
        if site_id in self._site_urls:
            return self._site_urls[site_id]
        raise NotFoundError(f"SharePoint REST: site '{site_id}' was not resolved by site_by_path",
                            hint="resolve the site with site_by_path(hostname, path) first")  # fmt: skip


def _raise_auth(error: AuthError) -> NoReturn:
    """A secret app-only token refused by SharePoint gets the hint that fixes it; any other AuthError as it is."""
    if error.status == 401 and UNSUPPORTED_APP_ONLY_TOKEN.lower() in error.message.lower():
        raise AuthError(
            error.message,
            hint="SharePoint REST takes app-only tokens from a certificate only: "
            "set auth.mode: certificate, or sharepoint.api: graph",
            status=error.status,
            service_code=error.service_code,
            request_id=error.request_id,
        ) from error
    raise error


def open_sharepoint_rest(settings: Settings, sign_in: SignIn, **session_options: Any) -> SharePointRestLists:
    """The connector for the configured site, on its own session with the SharePoint token provider.

    A client secret cannot sign in to SharePoint REST (it refuses secret app-only tokens): that is the
    ConfigError SignIn raises here, before any request. `session_options` go to build_session (tests
    pass sleep, clock and jitter).
    """
    if not settings.sharepoint_site_url:
        raise ConfigError("SharePoint REST needs the site: sharepoint.site_url is not set",
                          hint="set sharepoint.site_url or CETK_SHAREPOINT_SITE_URL")  # fmt: skip
    session = build_session(
        sign_in.token_provider("sharepoint"),
        user_agent=settings.user_agent,
        ca_bundle=settings.ca_bundle,
        **session_options,
    )
    return SharePointRestLists(session, settings.sharepoint_site_url)
