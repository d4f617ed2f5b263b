"""Emulated Microsoft Graph for SharePoint sites, lists and list items, mounted at `/graph`.

Paths below the mount are Graph's own (`/v1.0/sites/{site-id}/lists/{list-id}/items`); behaviour follows
/work/shared/docs/microsoft-apis.md §2, and docs/emulator.md#microsoft-graph-lists lists the choices made.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping

from emulator.core.app import Dispatcher
from emulator.core.bodies import BodyRules, Refusal
from emulator.core.http import MAX_JSON_DEPTH, Request, Response, Router, ServiceError
from emulator.core.tokens import GRAPH_AUDIENCE, BearerCheck, Claims, TokenAuthority
from emulator.graph.access import Caller
from emulator.graph.batch import BatchEndpoint
from emulator.graph.columns import column_json
from emulator.graph.delta import DeltaEndpoint
from emulator.graph.fragments import FragmentCache, ItemRenderer
from emulator.graph.items import ItemsEndpoint
from emulator.graph.permissions import PermissionsEndpoint
from emulator.graph.query import QueryLimits, option
from emulator.graph.responses import graph_error
from emulator.graph.serialise import list_json, site_json
from emulator.lists.store import ListStore, Site, SpList, StoreNotFound

DEFAULT_PAGE_SIZE = 200  # community reports; the $top maximum is undocumented (microsoft-apis.md §2.2)
MAX_PAGE_SIZE = 5_000  # UNCONFIRMED cap, configurable
LOOKUP_COLUMN_THRESHOLD = 12  # UNCONFIRMED number (msgraph-sdk-powershell#2711), configurable
MAX_BATCH_REQUESTS = 20  # learn.microsoft.com/graph/json-batching
SHAREPOINT_MOUNT = "/sharepoint"  # where the emulator serves SharePoint REST (emulator/build.py)
_BY_PATH = re.compile(r"^(?P<host>[^/:,]+):(?P<path>/[^:]*?)(?::(?P<rest>/.*))?:?$")
_EXPAND_COLUMNS = re.compile(r"^\s*columns\s*(?:\(\s*\$?select\s*=(?P<select>[^)]*)\))?\s*$", re.IGNORECASE)
_FILTER_DISPLAY_NAME = re.compile(r"^\s*displayName\s+eq\s+'(?P<name>(?:[^']|'')*)'\s*$", re.IGNORECASE)
# How Graph refuses bodies (docs/emulator.md#security). No Content-Type on a write: msgraph-cli#258. Another
# type: 415 RequestBodyRead (PHPGraphMailer#14; the message abridged, it goes on to list OData's types).
# Deep nesting: status, code and message UNCONFIRMED.
GRAPH_BODY_RULES = BodyRules(
    too_deep=Refusal(400, "BadRequest", f"The request body is nested deeper than {MAX_JSON_DEPTH} levels."),
    unsupported_type=Refusal(
        415,
        "RequestBodyRead",
        "A supported MIME type could not be found that matches the content type of the response.",
    ),
    missing_type=Refusal(
        400,
        "BadRequest",
        "Write requests (excluding DELETE) must contain the Content-Type header declaration.",
    ),
)


class GraphService:
    name = "graph"
    mount = "/graph"
    body_rules = GRAPH_BODY_RULES

    def __init__(
        self,
        store: ListStore,
        tokens: TokenAuthority,
        *,
        dispatcher: Dispatcher,
        require_auth: bool = True,
        default_page_size: int = DEFAULT_PAGE_SIZE,
        max_page_size: int = MAX_PAGE_SIZE,
        lookup_threshold: int = LOOKUP_COLUMN_THRESHOLD,
        max_batch_requests: int = MAX_BATCH_REQUESTS,
        prefetch_next_page: bool = True,
        delta_repeats_changed_items: bool = True,
    ) -> None:
        """`dispatcher` (the emulator this service is mounted on) runs $batch sub-requests through faults."""
        self.store = store
        self.bearer = BearerCheck(tokens, GRAPH_AUDIENCE, require_auth)
        self.page_cache = FragmentCache()
        limits = QueryLimits(default_page_size, max_page_size)
        renderer = ItemRenderer(store, self.page_cache, lookup_threshold)
        self.items = ItemsEndpoint(store, renderer, limits, prefetch_next_page=prefetch_next_page)
        self.delta = DeltaEndpoint(renderer, limits, repeat_changed_items=delta_repeats_changed_items)
        self.batch = BatchEndpoint(self, dispatcher, store.clock, max_batch_requests)
        self.permissions = PermissionsEndpoint(store.grants)

    # Service protocol

    def register(self, router: Router) -> None:
        for method in ("GET", "POST", "PATCH", "DELETE"):
            router.add(method, "/v1.0/sites/{rest:path}", self._sites)
        router.add("POST", "/v1.0/$batch", self._batch)

    def not_found(self, request: Request) -> Response:
        return self.error_response(400, "BadRequest", f"Resource not found for the segment '{request.path}'.")

    def method_not_allowed(self, request: Request) -> Response:
        return self.error_response(
            405, "BadRequest", f"Method {request.method} is not allowed on this resource."
        )

    def error_response(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Graph's error body (for injected faults too), with a fresh client-request-id."""
        return graph_error(self.store.clock.now(), status, code, message, headers)

    def resource_units(self, request: Request) -> int:
        """Graph resource units (microsoft-apis.md §2.7): 1 single item or delta with token, 2 otherwise."""
        path = request.path.rstrip("/")
        if request.method != "GET":
            return 0 if path.endswith("/$batch") else 2  # batch sub-requests are costed individually
        if re.search(r"/items/delta(\(\))?$", path):
            return 1 if request.param("token") not in (None, "") else 2
        if path.endswith("/items"):
            return 2
        return 1

    # handlers

    def _batch(self, request: Request, params: dict[str, str]) -> Response:
        return self._guard(request, lambda caller: self.batch.run(request))

    def _sites(self, request: Request, params: dict[str, str]) -> Response:
        return self._guard(request, lambda caller: self._route_site(request, params["rest"], caller))

    def _guard(self, request: Request, action: Callable[[Caller], Response]) -> Response:
        client_request_id = request.header("client-request-id")
        try:
            response = action(self._authorise(request))
        except ServiceError as error:
            return graph_error(
                self.store.clock.now(), error.status, error.code, error.message, error.headers,
                client_request_id=client_request_id,
            )  # fmt: skip
        response.headers.setdefault("request-id", str(uuid.uuid4()))
        response.headers.setdefault("client-request-id", client_request_id or str(uuid.uuid4()))
        return response

    def _authorise(self, request: Request) -> Caller:
        """Who calls: 401 for a missing or bad token; what the caller may do is checked per site."""
        verdict = self.bearer.check(request.header("authorization"))
        if verdict is None:
            return Caller.anonymous()
        if isinstance(verdict, Claims):
            return Caller.from_claims(verdict)
        message = {
            "missing": "Access token is empty.",
            "expired": "Lifetime validation failed, the token is expired.",
            "wrong-audience": "Access token validation failure. Invalid audience.",
        }.get(verdict, "Access token validation failure.")
        raise ServiceError(
            401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": 'Bearer realm=""'}
        )

    def _route_site(self, request: Request, rest: str, caller: Caller) -> Response:
        site, remainder = self._resolve_site(rest)
        parts = [part for part in remainder.split("/") if part]
        method = request.method
        if parts == ["permissions"]:
            caller.require_full_control(self.store.grants, site.id)
            if method == "POST":
                return self.permissions.create(request, site)
            return self._only(method, "GET") or self.permissions.list(request, site)
        caller.require_site(self.store.grants, site.id, write=method not in ("GET", "HEAD"))
        if not parts:
            return self._only(method, "GET") or Response.json(200, site_json(site))
        if parts[0] != "lists":
            raise ServiceError(400, "invalidRequest", f"Unsupported segment '{parts[0]}'")
        if len(parts) == 1:
            return self._only(method, "GET") or self._lists(request, site)
        sp_list = self._resolve_list(site, parts[1])
        tail = parts[2:]
        if not tail:
            return self._only(method, "GET") or Response.json(200, self._list_json(request, sp_list))
        if tail == ["columns"]:
            return self._only(method, "GET") or self._columns(request, sp_list)
        if tail[0] != "items":
            raise ServiceError(400, "invalidRequest", f"Unsupported segment '{tail[0]}'")
        if len(tail) == 1:
            if method == "POST":
                return self.items.create_item(request, sp_list)
            return self._only(method, "GET") or self.items.list_items(request, sp_list)
        if tail[1] in ("delta", "delta()") and len(tail) == 2:
            return self._only(method, "GET") or self.delta.delta(request, sp_list)
        return self.items.single_item(request, sp_list, tail[1], tail[2:])

    @staticmethod
    def _only(method: str, allowed: str) -> Response | None:
        if method != allowed:
            raise ServiceError(405, "BadRequest", f"Method {method} is not allowed on this resource.")
        return None

    def _resolve_site(self, rest: str) -> tuple[Site, str]:
        try:
            found = _BY_PATH.match(rest)
            if found:
                return self._site_at(found.group("path")), found.group("rest") or ""
            head, _, remainder = rest.partition("/")
            site = self.store.site_by_path("/") if head == "root" else self.store.site_by_id(head)
            return site, remainder
        except StoreNotFound as error:
            raise ServiceError(404, "itemNotFound", "Requested site could not be found") from error

    def _site_at(self, path: str) -> Site:
        """A site by server-relative path. The emulator serves SharePoint REST under /sharepoint, so a cetk
        config pointed at it (sharepoint.site_url) has that prefix in its path: it is accepted here too."""
        try:
            return self.store.site_by_path(path)
        except StoreNotFound:
            if not path.lower().startswith(SHAREPOINT_MOUNT + "/"):
                raise
            return self.store.site_by_path(path[len(SHAREPOINT_MOUNT) :])

    def _resolve_list(self, site: Site, ref: str) -> SpList:
        try:
            return self.store.get_list(site, ref)
        except StoreNotFound as error:
            raise ServiceError(404, "itemNotFound", "List not found") from error

    def _lists(self, request: Request, site: Site) -> Response:
        lists = self.store.lists(site)
        raw_filter = option(request, "filter")
        if raw_filter:
            found = _FILTER_DISPLAY_NAME.match(raw_filter)
            if not found:
                raise ServiceError(400, "invalidRequest", f"Unsupported filter: {raw_filter}")
            wanted = found.group("name").replace("''", "'")
            lists = [sp_list for sp_list in lists if sp_list.display_name == wanted]
        context = f"{request.base_url}/v1.0/$metadata#sites('{site.id}')/lists"
        return Response.json(
            200, {"@odata.context": context, "value": [self._list_json(request, one) for one in lists]}
        )

    def _columns(self, request: Request, sp_list: SpList) -> Response:
        context = (
            f"{request.base_url}/v1.0/$metadata#sites('{sp_list.site.id}')/lists('{sp_list.id}')/columns"
        )
        value = self._column_values(sp_list, option(request, "select") or "")
        return Response.json(200, {"@odata.context": context, "value": value})

    def _column_values(self, sp_list: SpList, select: str) -> list[dict[str, object]]:
        """columnDefinitions; hidden columns only when `hidden` is among the selected properties."""
        show_hidden = "hidden" in [part.strip() for part in select.split(",")]
        value = []
        for column in sp_list.columns:
            if column.hidden and not show_hidden:
                continue
            target = self.store.lookup_target(sp_list, column) if column.lookup_list else None
            value.extend(column_json(column, target))
        return value

    def _list_json(self, request: Request, sp_list: SpList) -> dict[str, object]:
        """A list, with its columns when `$expand=columns` (or `columns($select=...)`) asks for them."""
        body: dict[str, object] = list_json(sp_list)
        expand = option(request, "expand")
        if expand:
            found = _EXPAND_COLUMNS.match(expand)
            if not found:
                raise ServiceError(400, "invalidRequest", f"Unsupported $expand on a list: {expand}")
            body["columns"] = self._column_values(sp_list, found.group("select") or "")
        return body

    # inspection, for tests

    def expire_delta_tokens(self, sp_list: SpList) -> None:
        """Every delta token issued so far for this list now answers 410 Gone."""
        self.store.expire_delta_tokens(sp_list)
