"""Graph list items: paged collections with opaque skiptokens, single items, create, update and delete."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from emulator.core.http import Request, Response, ServiceError
from emulator.graph.fragments import ItemRenderer, Variant
from emulator.graph.query import ItemQuery, QueryLimits, option
from emulator.graph.responses import collection, link, sign, unsign
from emulator.graph.serialise import Projection, fields_json, item_json
from emulator.graph.write import parse_fields
from emulator.lists.store import Item, ListStore, SpList, StoreNotFound

MAX_SCAN_PER_PAGE = 50_000  # a filtered page stops scanning here; a page may then hold few or no items
_ALL_FIELDS = Projection(None, frozenset())


class ItemsEndpoint:
    """`.../lists/{list}/items` and `.../items/{id}[/fields]` of one Graph service."""

    def __init__(
        self, store: ListStore, renderer: ItemRenderer, limits: QueryLimits, *, prefetch_next_page: bool
    ) -> None:
        self.store, self.renderer, self.limits = store, renderer, limits
        self.prefetch_next_page = prefetch_next_page  # serialise page N+1 while the client reads page N

    def list_items(self, request: Request, sp_list: SpList) -> Response:
        query = self.limits.parse(request, sp_list)
        if query.order is not None:
            return self._ordered(request, sp_list, query)
        after = 0
        raw_token = option(request, "skiptoken")
        if raw_token is not None:
            text = unsign(raw_token)
            if text is None or not text.startswith("Paged=TRUE&p_ID="):
                raise ServiceError(400, "invalidRequest", "The skiptoken is not valid.")
            after = int(text.rpartition("=")[2])
        page: list[Item] = []
        last_seen = after
        more = False
        for scanned, item in enumerate(sp_list.iter_from(after)):
            if len(page) == query.top or scanned >= MAX_SCAN_PER_PAGE:
                more = True
                break
            last_seen = item.int_id
            if query.predicate is None or query.predicate(item):
                page.append(item)
        links = {}
        variant = self.renderer.variant(sp_list, query, delta=False)
        self.renderer.cache.wait((*variant, after, query.top))
        if more:
            links["@odata.nextLink"] = link(request, {"$skiptoken": sign(f"Paged=TRUE&p_ID={last_seen}")})
            if self.prefetch_next_page and query.predicate is None:
                self._prefetch(sp_list, query, variant, last_seen)
        context = f"{request.base_url}/v1.0/$metadata#sites('{sp_list.site.id}')/lists('{sp_list.id}')/items"
        return collection(context, self.renderer.fragments(page, sp_list, query, delta=False), links)

    def _ordered(self, request: Request, sp_list: SpList, query: ItemQuery) -> Response:
        """A page of the items sorted as `$orderby` asks; the skiptoken is an offset into that order."""
        offset = 0
        raw_token = option(request, "skiptoken")
        if raw_token is not None:
            text = unsign(raw_token)
            if text is None or not text.startswith("Ordered=TRUE&p_Offset="):
                raise ServiceError(400, "invalidRequest", "The skiptoken is not valid.")
            offset = int(text.rpartition("=")[2])
        assert query.order is not None
        matching = [item for item in sp_list.iter_from(0) if query.predicate is None or query.predicate(item)]
        matching.sort(key=query.order, reverse=query.reverse)
        page = matching[offset : offset + query.top]
        links = {}
        if offset + query.top < len(matching):
            token = sign(f"Ordered=TRUE&p_Offset={offset + query.top}")
            links["@odata.nextLink"] = link(request, {"$skiptoken": token})
        context = f"{request.base_url}/v1.0/$metadata#sites('{sp_list.site.id}')/lists('{sp_list.id}')/items"
        return collection(context, self.renderer.fragments(page, sp_list, query, delta=False), links)

    def single_item(self, request: Request, sp_list: SpList, item_id: str, tail: list[str]) -> Response:
        try:
            item = self.store.get_item(sp_list, item_id)
        except StoreNotFound as error:
            raise ServiceError(404, "itemNotFound", "Item not found") from error
        method = request.method
        zone = self.store.site_timezone
        if tail not in ([], ["fields"]):
            raise ServiceError(400, "invalidRequest", f"Unsupported segment '{'/'.join(tail)}'")
        if method == "GET":
            query = self.limits.parse(request, sp_list)
            projection = self.renderer.projection(sp_list, query, multi_item=False)
            if tail == ["fields"]:
                return Response.json(200, fields_json(item, sp_list, zone, projection))
            body = self.renderer.fragment(item, sp_list, query, projection, delta=False)
            return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})
        _check_if_match(request, item)
        if method == "DELETE" and not tail:
            self.store.delete_item(sp_list, item_id)
            return Response.empty(204)
        if method == "PATCH" and tail == ["fields"]:
            values = parse_fields(self.store, sp_list, _json_object(request))
            updated = _write(lambda: self.store.update_item(sp_list, item_id, values))
            return Response.json(200, fields_json(updated, sp_list, zone, _ALL_FIELDS))
        raise ServiceError(405, "BadRequest", f"Method {method} is not allowed on this resource.")

    def create_item(self, request: Request, sp_list: SpList) -> Response:
        body = _json_object(request)
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise ServiceError(400, "invalidRequest", "The request body must carry a 'fields' object.")
        values = parse_fields(self.store, sp_list, fields)
        item = _write(lambda: self.store.add_item(sp_list, values))
        return Response.json(201, item_json(item, sp_list, self.store.site_timezone, _ALL_FIELDS))

    def _prefetch(self, sp_list: SpList, query: ItemQuery, variant: Variant, after: int) -> None:
        def job() -> None:
            upcoming = list(islice(sp_list.iter_from(after), query.top))
            self.renderer.fragments(upcoming, sp_list, query, delta=False)

        self.renderer.cache.prefetch((*variant, after, query.top), job)


def _write(action: Callable[[], Item]) -> Item:
    try:
        return action()
    except ValueError as error:  # the store refused a value for its column
        raise ServiceError(400, "invalidRequest", str(error)) from error


def _check_if_match(request: Request, item: Item) -> None:
    wanted = request.header("if-match")
    if wanted is None or wanted.strip() == "*":
        return
    if wanted.strip().removeprefix("W/").strip('"') != item.etag.strip('"'):
        raise ServiceError(412, "resourceModified", "ETag mismatch: the item has changed since it was read.")


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as error:
        raise ServiceError(400, "invalidRequest", "The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise ServiceError(400, "invalidRequest", "The request body must be a JSON object.")
    return body
