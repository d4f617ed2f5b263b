"""Graph list-item reads and writes: paged collections with opaque skiptokens, single items, create/update/delete."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from emulator.core.http import Request, Response
from emulator.graph import write as graph_write
from emulator.graph.errors import GraphError
from emulator.graph.query import ItemQuery, QueryError, option, parse_item_query
from emulator.graph.serialise import Projection, dumps, fields_json, item_json, lookup_keys
from emulator.lists.store import Item, SpList, StoreNotFound

if TYPE_CHECKING:
    from emulator.graph.service import GraphService

__all__ = ["option", "Action", "FragmentCache", "list_items", "single_item", "create_item"]

Action = Callable[[], Response]
MAX_SCAN_PER_PAGE = 50_000  # a filtered page stops scanning here; a page may then hold few or no items
_MAX_CACHED_VARIANTS = 4
_MAX_PENDING_PREFETCHES = 4
_TOKEN_KEY = secrets.token_bytes(16)


class FragmentCache:
    """Serialised JSON per item and query shape; an entry is valid while the store holds the same Item object."""

    def __init__(self) -> None:
        self._variants: dict[tuple[object, ...], dict[int, tuple[Item, bytes]]] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pending: dict[tuple[object, ...], Future[None]] = {}

    def prefetch(self, key: tuple[object, ...], job: Callable[[], None]) -> None:
        """Serialise the next page in the background while the client reads this one."""
        with self._lock:
            if key in self._pending or len(self._pending) >= _MAX_PENDING_PREFETCHES:
                return
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graph-prefetch")
            future = self._executor.submit(job)
            self._pending[key] = future
        future.add_done_callback(lambda _: self._forget(key))

    def wait(self, key: tuple[object, ...]) -> None:
        """Let a prefetch of this page finish first, rather than serialising the same items twice."""
        with self._lock:
            future = self._pending.get(key)
        if future is not None:
            future.result()

    def wait_all(self) -> None:
        with self._lock:
            futures = list(self._pending.values())
        for future in futures:
            future.result()

    def _forget(self, key: tuple[object, ...]) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def variant(self, key: tuple[object, ...]) -> dict[int, tuple[Item, bytes]]:
        with self._lock:
            found = self._variants.get(key)
            if found is None:
                if len(self._variants) >= _MAX_CACHED_VARIANTS:
                    self._variants.pop(next(iter(self._variants)))
                found = self._variants[key] = {}
            return found

    def clear(self) -> None:
        with self._lock:
            self._variants.clear()


def sign(text: str) -> str:
    """An opaque, tamper-evident token for links the service hands out."""
    mac = hmac.new(_TOKEN_KEY, text.encode(), hashlib.sha256).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{text}&s={mac}".encode()).decode().rstrip("=")


def unsign(token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except ValueError:
        return None
    text, _, mac = raw.rpartition("&s=")
    expected = hmac.new(_TOKEN_KEY, text.encode(), hashlib.sha256).hexdigest()[:16]
    return text if hmac.compare_digest(mac, expected) else None


def link(request: Request, replace: dict[str, str], drop: Iterable[str] = ()) -> str:
    """This request's absolute URL with query options replaced (others kept verbatim, in order)."""
    removed = {name.lower() for name in (*replace, *drop)}
    kept = [
        part
        for part in request.raw_query.split("&")
        if part and unquote(part.split("=")[0]).lower() not in removed
    ]
    kept.extend(f"{name}={quote(value, safe='')}" for name, value in replace.items())
    path = quote(request.path, safe="/:,$()'!*@")
    return f"{request.base_url}{path}?{'&'.join(kept)}"


def projection_for(
    service: GraphService, sp_list: SpList, query: ItemQuery, *, multi_item: bool
) -> Projection:
    omitted: frozenset[str] = frozenset()
    if multi_item and query.expand_fields:
        keys = lookup_keys(sp_list, query.field_select)
        omitted = frozenset(keys[service.lookup_threshold :])
    return Projection(query.field_select, omitted)


def item_fragment(
    service: GraphService,
    item: Item,
    sp_list: SpList,
    query: ItemQuery,
    projection: Projection,
    *,
    delta: bool,
) -> bytes:
    body = item_json(
        item,
        sp_list,
        service.store.site_timezone,
        projection if query.expand_fields else None,
        with_modifier=not delta,
    )
    if query.item_select is not None:
        keep = query.item_select | {"@odata.etag", "id", "fields"}
        body = {key: value for key, value in body.items() if key in keep}
    return dumps(body)


def variant_key(
    sp_list: SpList, query: ItemQuery, projection: Projection, *, delta: bool
) -> tuple[object, ...]:
    return (
        sp_list.id,
        query.expand_fields,
        query.field_select,
        query.item_select,
        projection.omitted_lookups,
        delta,
    )


def fragments(
    service: GraphService, items: list[Item], sp_list: SpList, query: ItemQuery, *, delta: bool
) -> list[bytes]:
    projection = projection_for(service, sp_list, query, multi_item=True)
    cache = service.page_cache.variant(variant_key(sp_list, query, projection, delta=delta))
    out = []
    for item in items:
        hit = cache.get(item.int_id)
        if hit is None or hit[0] is not item:
            hit = (item, item_fragment(service, item, sp_list, query, projection, delta=delta))
            cache[item.int_id] = hit
        out.append(hit[1])
    return out


def collection(context: str, values: list[bytes], links: dict[str, str]) -> Response:
    head = dumps({"@odata.context": context})[:-1]
    tail = b"".join(b',"' + name.encode() + b'":' + dumps(url) for name, url in links.items())
    body = head + b',"value":[' + b",".join(values) + b"]" + tail + b"}"
    return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})


def parse_query(service: GraphService, request: Request, sp_list: SpList) -> ItemQuery:
    try:
        return parse_item_query(
            request, sp_list, default_top=service.default_page_size, max_top=service.max_page_size
        )
    except QueryError as error:
        raise GraphError(400, "invalidRequest", str(error)) from error


def list_items(service: GraphService, request: Request, sp_list: SpList) -> Response:
    query = parse_query(service, request, sp_list)
    after = 0
    raw_token = option(request, "skiptoken")
    if raw_token is not None:
        text = unsign(raw_token)
        if text is None or not text.startswith("Paged=TRUE&p_ID="):
            raise GraphError(400, "invalidRequest", "The skiptoken is not valid.")
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
    variant = variant_key(
        sp_list, query, projection_for(service, sp_list, query, multi_item=True), delta=False
    )
    service.page_cache.wait((*variant, after, query.top))
    if more:
        links["@odata.nextLink"] = link(request, {"$skiptoken": sign(f"Paged=TRUE&p_ID={last_seen}")})
        if service.prefetch_next_page and query.predicate is None:
            _prefetch(service, sp_list, query, variant, last_seen)
    context = f"{request.base_url}/v1.0/$metadata#sites('{sp_list.site.id}')/lists('{sp_list.id}')/items"
    return collection(context, fragments(service, page, sp_list, query, delta=False), links)


def _prefetch(
    service: GraphService, sp_list: SpList, query: ItemQuery, variant: tuple[object, ...], after: int
) -> None:
    def job() -> None:
        upcoming = list(islice(sp_list.iter_from(after), query.top))
        fragments(service, upcoming, sp_list, query, delta=False)

    service.page_cache.prefetch((*variant, after, query.top), job)


def single_item(
    service: GraphService, request: Request, sp_list: SpList, item_id: str, tail: list[str]
) -> Response:
    try:
        item = service.store.get_item(sp_list, item_id)
    except StoreNotFound as error:
        raise GraphError(404, "itemNotFound", "Item not found") from error
    method = request.method
    zone = service.store.site_timezone
    if tail not in ([], ["fields"]):
        raise GraphError(400, "invalidRequest", f"Unsupported segment '{'/'.join(tail)}'")
    if method == "GET":
        query = parse_query(service, request, sp_list)
        projection = projection_for(service, sp_list, query, multi_item=False)
        if tail == ["fields"]:
            return Response.json(200, fields_json(item, sp_list, zone, projection))
        return Response(200, item_fragment(service, item, sp_list, query, projection, delta=False),
                        {"Content-Type": "application/json; charset=utf-8"})  # fmt: skip
    _check_if_match(request, item)
    if method == "DELETE" and not tail:
        service.store.delete_item(sp_list, item_id)
        return Response.empty(204)
    if method == "PATCH" and tail == ["fields"]:
        values = graph_write.parse_fields(service.store, sp_list, _json_object(request))
        updated = _write(lambda: service.store.update_item(sp_list, item_id, values))
        return Response.json(200, fields_json(updated, sp_list, zone, Projection(None, frozenset())))
    raise GraphError(405, "BadRequest", f"Method {method} is not allowed on this resource.")


def create_item(service: GraphService, request: Request, sp_list: SpList) -> Response:
    body = _json_object(request)
    fields = body.get("fields")
    if not isinstance(fields, dict):
        raise GraphError(400, "invalidRequest", "The request body must carry a 'fields' object.")
    values = graph_write.parse_fields(service.store, sp_list, fields)
    item = _write(lambda: service.store.add_item(sp_list, values))
    projection = Projection(None, frozenset())
    return Response.json(201, item_json(item, sp_list, service.store.site_timezone, projection))


def _write(action: Callable[[], Item]) -> Item:
    try:
        return action()
    except ValueError as error:  # the store refused a value for its column
        raise GraphError(400, "invalidRequest", str(error)) from error


def _check_if_match(request: Request, item: Item) -> None:
    wanted = request.header("if-match")
    if wanted is None or wanted.strip() == "*":
        return
    if wanted.strip().removeprefix("W/").strip('"') != item.etag.strip('"'):
        raise GraphError(412, "resourceModified", "ETag mismatch: the item has changed since it was read.")


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as error:
        raise GraphError(400, "invalidRequest", "The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise GraphError(400, "invalidRequest", "The request body must be a JSON object.")
    return body
