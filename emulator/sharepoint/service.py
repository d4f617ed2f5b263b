"""Emulated SharePoint REST (`/_api`) for list items, as office365-rest-python-client 3.3 calls it; mount `/sharepoint`.

A site `/sites/Neighbourhood` lives at `{base}/sharepoint/sites/Neighbourhood`; behaviour follows
microsoft-apis.md §3.2 and docs/emulator.md#sharepoint-rest lists the choices made.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

from emulator.core.http import Request, Response, Router, ServiceError
from emulator.core.tokens import BearerCheck, Claims, TokenAuthority
from emulator.lists.store import Item, ListStore, Site, SpList, StoreNotFound
from emulator.sharepoint.bodies import SHAREPOINT_BODY_RULES
from emulator.sharepoint.serialise import item_json

DEFAULT_PAGE_SIZE = 100  # SPDOCS working-with-lists-and-list-items-with-rest.md: 100 items without $top
FORM_DIGEST_TIMEOUT_SECONDS = 1800
SHAREPOINT_PRINCIPAL = "00000003-0000-0ff1-ce00-000000000000"  # SharePoint Online's well-known app id
_SITE = re.compile(r"^/(?P<site>(?:sites|teams)/[^/]+)/_api(?P<api>/.*)?$", re.IGNORECASE)
_LIST = re.compile(
    r"^/web/lists(?:/getbytitle\('(?P<title>(?:[^']|'')*)'\)|\(guid'(?P<guid>[0-9a-fA-F-]{36})'\)|\('(?P<id>[0-9a-fA-F-]{36})'\))"
    r"(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^/items(?:\((?P<id>\d+)\)|/getbyid\((?P<byid>\d+)\))?$", re.IGNORECASE)
_SKIPTOKEN = re.compile(r"^Paged=TRUE&p_ID=(?P<id>\d+)$", re.IGNORECASE)


class SharePointService:
    name = "sharepoint"
    mount = "/sharepoint"
    body_rules = SHAREPOINT_BODY_RULES

    def __init__(
        self,
        store: ListStore,
        tokens: TokenAuthority,
        *,
        require_auth: bool = True,
        default_page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.store = store
        self.bearer = BearerCheck(tokens, f"https://{store.hostname}", require_auth)
        self.default_page_size = default_page_size
        # SharePoint Online names the tenant as the realm; the emulator's is synthetic but stable per host.
        realm = uuid.uuid5(uuid.NAMESPACE_DNS, store.hostname)
        self.challenge = f'Bearer realm="{realm}",client_id="{SHAREPOINT_PRINCIPAL}"'

    def register(self, router: Router) -> None:
        for method in ("GET", "POST", "HEAD"):
            router.add(method, "/{rest:path}", self._handle)

    def not_found(self, request: Request) -> Response:
        return self.error_response(404, "-1, System.ArgumentException", f"Resource not found: {request.path}")

    def method_not_allowed(self, request: Request) -> Response:
        return self.error_response(405, "-1, System.InvalidOperationException", "Method not allowed.")

    def error_response(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = {"error": {"code": code, "message": {"lang": "en-US", "value": message}}}
        return Response.json(status, body, headers)

    def resource_units(self, request: Request) -> int:
        """Graph's RU costs applied to REST (UNCONFIRMED for REST): 1 single item, 2 collections and writes."""
        if request.method != "GET":
            return 2
        return 2 if re.search(r"/items/?$", request.path, re.IGNORECASE) else 1

    # handlers

    def _handle(self, request: Request, params: dict[str, str]) -> Response:
        try:
            self._authorise(request)
            found = _SITE.match(request.path)
            if not found:
                raise ServiceError(404, "-1, System.IO.FileNotFoundException", "File Not Found.")
            try:
                site = self.store.site_by_path("/" + found.group("site"))
            except StoreNotFound as error:
                raise ServiceError(404, "-1, System.IO.FileNotFoundException", "File Not Found.") from error
            site_url = f"{request.base_url}{site.path}"
            return self._api(request, site, site_url, found.group("api") or "/")
        except ServiceError as error:
            return self.error_response(error.status, error.code, error.message, error.headers)

    def _authorise(self, request: Request) -> None:
        verdict = self.bearer.check(request.header("authorization"))
        if verdict is None or isinstance(verdict, Claims):
            return
        raise ServiceError(  # a 401 must carry the challenge (RFC 7235 §3.1); ACS reads its realm
            401,
            "-2147024891, System.UnauthorizedAccessException",
            f"Invalid token ({verdict}).",
            {"WWW-Authenticate": self.challenge},
        )

    def _api(self, request: Request, site: Site, site_url: str, api: str) -> Response:
        if api.lower() == "/contextinfo":
            if request.method != "POST":
                raise ServiceError(405, "-1, System.InvalidOperationException", "Use POST for contextinfo.")
            return _json(self._context_info(site_url), "verbose")
        found = _LIST.match(api)
        if not found:
            raise ServiceError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                  f"The emulator does not serve {api}.")  # fmt: skip
        sp_list = self._list(site, site_url, found)
        rest = found.group("rest") or ""
        item_match = _ITEM.match(rest)
        if request.method != "GET" or item_match is None:
            raise ServiceError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                  f"The emulator serves only GET .../items on lists, not {request.method} {rest}.")  # fmt: skip
        item_id = item_match.group("id") or item_match.group("byid")
        metadata = _metadata_level(request)
        select = _select(request)
        zone = self.store.site_timezone
        if item_id is not None:
            try:
                item = self.store.get_item(sp_list, item_id)
            except StoreNotFound as error:
                raise ServiceError(404, "-2130575338, Microsoft.SharePoint.SPException",
                                      "Item does not exist. It may have been deleted by another user.") from error  # fmt: skip
            body = item_json(item, sp_list, zone, site_url, metadata, select)
            return _json({"d": body} if metadata == "verbose" else body, metadata)
        return self._items(request, sp_list, site_url, metadata, select)

    def _list(self, site: Site, site_url: str, found: re.Match[str]) -> SpList:
        ref = found.group("guid") or found.group("id") or (found.group("title") or "").replace("''", "'")
        try:
            sp_list = self.store.get_list(site, ref)
        except StoreNotFound as error:
            raise ServiceError(404, "-1, System.ArgumentException",
                                  f"List '{ref}' does not exist at site with URL '{site_url}'.") from error  # fmt: skip
        if found.group("title") is not None and sp_list.display_name.lower() != ref.lower():
            raise ServiceError(404, "-1, System.ArgumentException",
                                  f"List '{ref}' does not exist at site with URL '{site_url}'.")  # fmt: skip
        return sp_list

    def _items(
        self, request: Request, sp_list: SpList, site_url: str, metadata: str, select: frozenset[str] | None
    ) -> Response:
        if request.param("$filter") or request.param("$orderby"):
            raise ServiceError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                  "The emulator does not support $filter or $orderby on SharePoint REST.")  # fmt: skip
        top = self.default_page_size
        raw_top = request.param("$top")
        if raw_top is not None:
            if not raw_top.isdecimal() or int(raw_top) < 1:
                raise ServiceError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                      f"Invalid $top value '{raw_top}'.")  # fmt: skip
            top = int(raw_top)
        after = 0
        raw_token = request.param("$skiptoken")
        if raw_token is not None:
            token = _SKIPTOKEN.match(unquote(raw_token))
            if token is None:
                raise ServiceError(400, "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
                                      f"Invalid $skiptoken '{raw_token}'.")  # fmt: skip
            after = int(token.group("id"))
        # $skip is ignored, as on SharePoint Online list items (microsoft-apis.md §3.2)
        page: list[Item] = []
        more = False
        for item in sp_list.iter_from(after):
            if len(page) == top:
                more = True
                break
            page.append(item)
        zone = self.store.site_timezone
        values = [item_json(item, sp_list, zone, site_url, metadata, select) for item in page]
        next_url = _next_link(request, site_url, sp_list, page[-1].int_id, top) if more and page else None
        if metadata == "verbose":
            d: dict[str, Any] = {"results": values}
            if next_url:
                d["__next"] = next_url
            return _json({"d": d}, metadata)
        body: dict[str, Any] = {"value": values}
        if next_url:
            body["odata.nextLink"] = next_url
        return _json(body, metadata)

    def _context_info(self, site_url: str) -> dict[str, Any]:
        now = self.store.clock.now().strftime("%d %b %Y %H:%M:%S -0000")
        info = {
            "__metadata": {"type": "SP.ContextWebInformation"},
            "FormDigestTimeoutSeconds": FORM_DIGEST_TIMEOUT_SECONDS,
            "FormDigestValue": f"0x{secrets.token_hex(64).upper()},{now}",
            "LibraryVersion": "16.0.0.0",
            "SiteFullUrl": site_url,
            "SupportedSchemaVersions": {
                "__metadata": {"type": "Collection(Edm.String)"},
                "results": ["14.0.0.0", "15.0.0.0"],
            },
            "WebFullUrl": site_url,
        }
        return {"d": {"GetContextWebInformation": info}}


def _metadata_level(request: Request) -> str:
    accept = (request.header("accept") or "").lower()
    for level in ("verbose", "nometadata"):
        if f"odata={level}" in accept:
            return level
    return "minimalmetadata"  # SharePoint Online's default for application/json


def _select(request: Request) -> frozenset[str] | None:
    raw = request.param("$select")
    return frozenset(part.strip() for part in raw.split(",") if part.strip()) if raw else None


def _next_link(request: Request, site_url: str, sp_list: SpList, last_id: int, top: int) -> str:
    """`{site}/_api/Web/Lists(guid'...')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d{id}&%24top={n}` (§3.2)."""
    url = f"{site_url}/_api/Web/Lists(guid'{sp_list.id}')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d{last_id}&%24top={top}"
    select = request.param("$select")
    return url + (f"&%24select={quote(select, safe='')}" if select else "")


def _json(payload: Any, metadata: str) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(200, body, {"Content-Type": f"application/json;odata={metadata};charset=utf-8"})
