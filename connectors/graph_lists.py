"""Microsoft Lists through Microsoft Graph: site by path, lists with their columns, items, delta with deletes.

    lists = GraphLists(session, settings.endpoints.graph)           # one session from connectors.http
    events = lists.list_by_name(site_ref(host, "/sites/x"), "Engagement Events")
    for page in lists.iter_delta_pages(site, events.id, select, delta_link=saved, lookup_columns=lookups):
        ...  # page.items: Graph-shaped, annotations gone; page.delta_link on the last page

Permissions: application `Sites.Selected` with a read grant on the one site (docs/connectors.md). The
connector sends no `Prefer` header (it neither filters nor orders) and never logs item values.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pyarrow as pa
import requests

from connectors.graph_arrow import decode_json, read_page
from connectors.graph_columns import live_list
from connectors.graph_split import (
    LOOKUP_THRESHOLD,
    ColumnPlan,
    Lockstep,
    deletion,
    fields_expansion,
    merge_in_step,
    plan_columns,
)
from connectors.http import iter_pages, parse_page, read_json, send
from connectors.list_items import ItemPage, Site, collapse_repeats, is_deleted, without_annotations
from connectors.paging import Loads, Page, iter_decoded_pages
from errors import ConnectorError, NotFoundError, ResyncRequiredError
from transforms.list_columns import LiveList
from transforms.page_read import ArrowItems

__all__ = ["GRAPH_PAGE_SIZE", "LOOKUP_THRESHOLD", "GraphLists", "decode_json", "site_ref"]

# Graph documents no maximum $top for list items; 5,000 is reported to be honoured (UNCONFIRMED).
GRAPH_PAGE_SIZE = 5_000
MAX_RESYNCS = 3  # 410 restarts in one read before giving up (a service that keeps expiring its own links)
_COLUMNS_MARK = "#cetk-columns="  # appended to a handed-out delta link; a fragment never reaches Graph
logger = logging.getLogger(__name__)


def site_ref(hostname: str, path: str) -> str:
    """Graph's path-based site address (`host:/sites/x:`), usable wherever a site id goes: it saves a request."""
    return f"{hostname}:/{path.strip('/')}:"


class GraphLists:
    """Reads SharePoint lists through one Graph session; builds no network state until called."""

    def __init__(
        self,
        session: requests.Session,
        graph_url: str,
        *,
        page_size: int = GRAPH_PAGE_SIZE,
        lookup_threshold: int = LOOKUP_THRESHOLD,
        loads: Loads = decode_json,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.session, self.base = session, graph_url.rstrip("/") + "/v1.0"
        self.page_size, self.lookup_threshold, self.loads = page_size, lookup_threshold, loads

    # sites and lists

    def site_by_path(self, hostname: str, path: str) -> Site:
        """`GET /sites/{hostname}:/{path}`; a NotFoundError names the site."""
        where = f"SharePoint site '{path}' on {hostname}"
        body = self._get(f"{self.base}/sites/{site_ref(hostname, path).rstrip(':')}", where)
        return Site(str(body["id"]), str(body.get("webUrl") or ""), str(body.get("displayName") or ""))

    def lists(self, site_id: str) -> list[LiveList]:
        """Every list of the site with its columns (`$expand=columns`), page by page."""
        url = f"{self.base}/sites/{site_id}/lists"
        found: list[LiveList] = []
        for page in iter_pages(self.session, url, {"$expand": "columns"}, loads=self.loads):
            found.extend(live_list(body, body.get("columns") or []) for body in page.items)
        return found

    def list_by_name(self, site_id: str, display_name: str) -> LiveList:
        """One list by display name, with its columns, in one request; a NotFoundError names list and site."""
        url = f"{self.base}/sites/{site_id}/lists/{quote(display_name, safe='')}"
        body = self._get(url, f"SharePoint list '{display_name}' in site '{site_id}'", {"$expand": "columns"})
        return live_list(body, body.get("columns") or [])

    # items

    def iter_item_pages(
        self,
        site_id: str,
        list_id: str,
        select: Sequence[str],
        *,
        lookup_columns: Collection[str] = (),
        schema: pa.Schema | None = None,
    ) -> Iterator[ItemPage]:
        """Every item, `$top` = page_size, only the `select`ed fields; each page is a full enumeration's.

        With `schema` (transforms.page_read.page_schema), a list read in one request per page has its
        pages decoded straight into Arrow (ItemPage.content is ArrowItems); one split across requests by
        the lookup threshold is merged by id, as dicts, whatever `schema` says."""
        plan = plan_columns(select, lookup_columns, self.lookup_threshold)
        url = self._items_url(site_id, list_id)
        if schema is not None and not plan.extra:
            for arrow in self._arrow_pages(url, self._params(plan.first), schema, list, link=False):
                yield ItemPage(list_id, arrow.items, full_enumeration=True)
            return
        extras = self._in_step(url, plan)
        for page in iter_pages(self.session, url, self._params(plan.first), loads=self.loads):
            items = [without_annotations(item) for item in page.items]
            if extras:
                items = merge_in_step(items, extras, lambda item_id: self._read_one(url, item_id, plan))
            yield ItemPage(list_id, items, full_enumeration=True)

    def iter_delta_pages(
        self,
        site_id: str,
        list_id: str,
        select: Sequence[str],
        *,
        delta_link: str | None,
        lookup_columns: Collection[str] = (),
        schema: pa.Schema | None = None,
    ) -> Iterator[ItemPage]:
        """Changes since `delta_link` (deletions as `deleted` facets), or, without one, the whole list.

        The last page carries the delta link to save. A saved link that read other columns, or a link
        Graph calls expired (410 Gone), starts a full enumeration whose pages carry full_enumeration=True.
        `schema`: pages decoded into Arrow, as in iter_item_pages (the dicts of a declined page have their
        repeats collapsed and annotations dropped, as without it).
        """
        plan = plan_columns(select, lookup_columns, self.lookup_threshold)
        mark = _columns_mark(plan)
        if delta_link is not None and not delta_link.endswith(mark):
            logger.info("the saved delta link of list %s read other columns: reading the whole list", list_id)
            delta_link = None
        start = self._items_url(site_id, list_id) + "/delta"
        url, params, full = (start, self._params(plan.first), True) if delta_link is None else (
            delta_link.partition(_COLUMNS_MARK)[0], None, False)  # fmt: skip
        for _attempt in range(MAX_RESYNCS + 1):
            try:
                yield from self._delta(site_id, list_id, plan, url, params, full=full, schema=schema)
                return
            except ResyncRequiredError as error:
                if error.restart_url is None:
                    raise
                logger.info("Graph expired the delta link of list %s (410): reading the whole list", list_id)
                url, params, full = error.restart_url, None, True
        raise ConnectorError(
            f"Graph answered 410 Gone {MAX_RESYNCS + 1} times while reading list {list_id}",
            hint="the service keeps expiring its delta links; run again later",
        )

    def _delta(
        self, site_id: str, list_id: str, plan: ColumnPlan, url: str, params: dict[str, str] | None,
        *, full: bool, schema: pa.Schema | None,
    ) -> Iterator[ItemPage]:  # fmt: skip
        if schema is not None and not plan.extra:  # one request a page: decoded into Arrow
            for arrow in self._arrow_pages(url, params, schema, collapse_repeats, link=params is None):
                link = arrow.delta_link + _columns_mark(plan) if arrow.delta_link else None
                yield ItemPage(list_id, arrow.items, delta_link=link, full_enumeration=full)
            return
        items_url = self._items_url(site_id, list_id)
        extras = self._in_step(items_url, plan) if full else []
        for page in iter_pages(self.session, url, params, link=params is None, loads=self.loads):
            items = collapse_repeats(without_annotations(item) for item in page.items)
            if plan.extra and full:
                items = merge_in_step(items, extras, lambda item_id: self._read_one(items_url, item_id, plan))
            elif plan.extra:  # a sparse change feed: each changed item read whole (one item has no threshold)
                items = [item if is_deleted(item) else self._whole(items_url, item, plan) for item in items]
            link = page.delta_link + _columns_mark(plan) if page.delta_link else None
            yield ItemPage(list_id, items, delta_link=link, full_enumeration=full)

    def _arrow_pages(
        self,
        url: str,
        params: dict[str, str] | None,
        schema: pa.Schema,
        tidy: Callable[[Iterable[dict[str, Any]]], list[dict[str, Any]]],
        *,
        link: bool,
    ) -> Iterator[_ArrowRead]:
        """Pages decoded into Arrow against `schema` where the reader takes them (paging and errors as
        iter_pages'); each one's dicts, for a page the normaliser declines, are `tidy` of the items with
        annotations dropped, as the dict path yields them. Runs on the sync's read-ahead thread."""

        def decode(response: requests.Response, where: str) -> _ArrowRead:
            @functools.cache  # a declined page's dicts are asked for more than once
            def dict_page() -> tuple[Page, list[dict[str, Any]]]:
                page = parse_page(read_json(response, self.loads), where=where)
                return page, tidy(without_annotations(item) for item in page.items)

            def dicts() -> list[dict[str, Any]]:
                return dict_page()[1]

            arrow = read_page(response.content, schema)
            if arrow is None:  # refused: decoded as dicts now (its links are needed), errors as before
                page = dict_page()[0]
                return _ArrowRead(ArrowItems(None, dicts), page.next_link, page.delta_link)
            return _ArrowRead(ArrowItems((arrow.items,), dicts), arrow.next_link, arrow.delta_link)

        return iter_decoded_pages(self.session, url, params, decode, link=link)

    # requests

    def _items_url(self, site_id: str, list_id: str) -> str:
        return f"{self.base}/sites/{site_id}/lists/{list_id}/items"

    def _params(self, columns: Sequence[str]) -> dict[str, str]:
        return {"$expand": fields_expansion(columns), "$top": str(self.page_size)}

    def _in_step(self, url: str, plan: ColumnPlan) -> list[Lockstep]:
        """The extra requests' pages, read lazily in step with the first request's."""
        return [
            Lockstep(iter_pages(self.session, url, self._params(chunk), loads=self.loads))
            for chunk in plan.extra
        ]

    def _read_one(self, items_url: str, item_id: str, plan: ColumnPlan) -> dict[str, Any] | None:
        """One item with every planned column (single reads have no lookup threshold); None when gone."""
        try:
            response = send(
                self.session, "GET", f"{items_url}/{quote(item_id, safe='')}",
                params={"$expand": fields_expansion(plan.columns)},
            )  # fmt: skip
        except NotFoundError:
            return None
        return without_annotations(read_json(response, self.loads))

    def _whole(self, items_url: str, item: dict[str, Any], plan: ColumnPlan) -> dict[str, Any]:
        item_id = str(item.get("id"))
        return self._read_one(items_url, item_id, plan) or deletion(item_id)

    def _get(self, url: str, what: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            body = read_json(send(self.session, "GET", url, params=params), self.loads)
        except NotFoundError as error:
            raise NotFoundError(
                f"{what} was not found (HTTP 404)",
                hint="check the site path and the list's display name in the config and mapping file",
                status=error.status, service_code=error.service_code, request_id=error.request_id,
            ) from error  # fmt: skip
        if not isinstance(body, dict) or "id" not in body:
            raise ConnectorError(
                f"{what}: Graph's answer has no id", hint="check endpoints.graph in the config"
            )
        return body


@dataclass(frozen=True)
class _ArrowRead:
    items: ArrowItems
    next_link: str | None
    delta_link: str | None


def _columns_mark(plan: ColumnPlan) -> str:
    """Which columns a delta link reads, so a changed mapping starts afresh instead of missing a column."""
    digest = hashlib.sha256("\n".join(sorted(plan.columns)).encode()).hexdigest()[:16]
    return _COLUMNS_MARK + digest
