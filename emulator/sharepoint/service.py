"""Emulated SharePoint REST (`/_api`) for list items, as office365-rest-python-client 3.3 calls it; mount `/sharepoint`.

A site `/sites/Neighbourhood` lives at `{base}/sharepoint/sites/Neighbourhood`; behaviour follows
microsoft-apis.md §3 and docs/emulator.md#sharepoint-rest lists the choices made.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from emulator.core.http import Request, Response, Router, ServiceError
from emulator.core.tokens import APPIDACR_SECRET, BearerCheck, Claims, TokenAuthority
from emulator.lists.store import Item, ListStore, Site, SpList, StoreNotFound
from emulator.sharepoint.bodies import SHAREPOINT_BODY_RULES
from emulator.sharepoint.metadata import fields_json, list_json, site_json, web_json
from emulator.sharepoint.query import (
    INVALID_QUERY,
    LIST_VIEW_THRESHOLD,
    LOOKUP_COLUMN_THRESHOLD,
    TopPolicy,
    check_lookup_threshold,
    read_paging,
    read_projection,
)
from emulator.sharepoint.responses import (
    collection_page,
    entity,
    expands_root_folder,
    json_response,
    metadata_level,
    next_link,
    selected,
)
from emulator.sharepoint.serialise import entity_type, item_json

DEFAULT_PAGE_SIZE = 100  # SPDOCS working-with-lists-and-list-items-with-rest.md: 100 items without $top
FORM_DIGEST_TIMEOUT_SECONDS = 1800
SHAREPOINT_PRINCIPAL = "00000003-0000-0ff1-ce00-000000000000"  # SharePoint Online's well-known app id
# What SharePoint Online says in `{"error_description": ...}` when it refuses a bearer token (401).
UNSUPPORTED_APP_ONLY_TOKEN = (
    "Unsupported app only token."  # a client-secret app-only token (sp-dev-docs#8480)
)
TOKEN_REFUSALS = {
    "expired": "Invalid JWT token. The token is expired.",  # microsoft/BCApps SharePoint module tests
    "bad-signature": "Invalid issuer or signature.",  # sp-dev-docs#5889 (a Graph token sent to SharePoint)
    "wrong-audience": "Invalid issuer or signature.",
    "malformed": "Invalid JWT token. Could not resolve issuer token.",  # UNCONFIRMED wording
}
# GetById/Lists(guid'...') of a list that is not there (UNCONFIRMED exact wording).
NO_SUCH_LIST = (
    "List does not exist.\n\nThe page you selected contains a list that does not exist.  "
    "It may have been deleted by another user."
)
_SITE = re.compile(r"^/(?P<site>(?:sites|teams)/[^/]+)/_api(?P<api>/.*)?$", re.IGNORECASE)
_LIST = re.compile(
    r"^/web/lists(?:/getbytitle\('(?P<title>(?:[^']|'')*)'\)|\(guid'(?P<guid>[0-9a-fA-F-]{36})'\)|\('(?P<id>[0-9a-fA-F-]{36})'\)"
    r"|/getbyid\('(?P<byid>[0-9a-fA-F-]{36})'\))"
    r"(?P<rest>/.*)?$",
    re.IGNORECASE,
)
_ITEM = re.compile(r"^/items(?:\((?P<id>\d+)\)|/getbyid\((?P<byid>\d+)\))?$", re.IGNORECASE)


class _TokenRefused(Exception):
    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


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
        lookup_threshold: int = LOOKUP_COLUMN_THRESHOLD,
        list_view_threshold: int = LIST_VIEW_THRESHOLD,
        top_policy: TopPolicy = "always",
    ) -> None:
        self.store = store
        self.bearer = BearerCheck(tokens, f"https://{store.hostname}", require_auth)
        self.default_page_size = default_page_size
        self.lookup_threshold = lookup_threshold
        self.list_view_threshold = list_view_threshold
        self.top_policy: TopPolicy = top_policy
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
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        metadata: str = "verbose",
    ) -> Response:
        """OData v3 errors: `error` with odata=verbose, `odata.error` in JSON light (minimal/no metadata)."""
        wrapper = "error" if metadata == "verbose" else "odata.error"
        body = {wrapper: {"code": code, "message": {"lang": "en-US", "value": message}}}
        return Response.json(status, body, headers)

    def resource_units(self, request: Request) -> int:
        """Graph's RU costs applied to REST (UNCONFIRMED for REST): 1 single item, 2 collections and writes."""
        if request.method != "GET":
            return 2
        return 2 if re.search(r"/(items|lists|fields)/?$", request.path, re.IGNORECASE) else 1

    # handlers

    def _handle(self, request: Request, params: dict[str, str]) -> Response:
        metadata = metadata_level(request)
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
            return self._api(request, site, site_url, found.group("api") or "/", metadata)
        except _TokenRefused as refused:  # SharePoint's token refusals are OAuth-style, not OData
            return Response.json(
                401, {"error_description": refused.description}, {"WWW-Authenticate": self.challenge}
            )
        except ServiceError as error:
            return self.error_response(error.status, error.code, error.message, error.headers, metadata)

    def _authorise(self, request: Request) -> None:
        verdict = self.bearer.check(request.header("authorization"))
        if verdict is None:
            return
        if isinstance(verdict, Claims):
            app_only = "scp" not in verdict.raw
            if app_only and verdict.raw.get("appidacr") == APPIDACR_SECRET:
                raise _TokenRefused(UNSUPPORTED_APP_ONLY_TOKEN)
            return
        if verdict in TOKEN_REFUSALS:
            raise _TokenRefused(TOKEN_REFUSALS[verdict])
        raise ServiceError(  # a 401 must carry the challenge (RFC 7235 §3.1); ACS reads its realm
            401,
            "-2147024891, System.UnauthorizedAccessException",
            f"Invalid token ({verdict}).",
            {"WWW-Authenticate": self.challenge},
        )

    def _api(self, request: Request, site: Site, site_url: str, api: str, metadata: str) -> Response:
        verbose = metadata == "verbose"
        lowered = api.lower().rstrip("/")
        if lowered == "/contextinfo":
            if request.method != "POST":
                raise ServiceError(405, "-1, System.InvalidOperationException", "Use POST for contextinfo.")
            return json_response(self._context_info(site_url), "verbose")
        if request.method != "GET":
            raise ServiceError(
                400, INVALID_QUERY, f"The emulator serves only GET on {api}, not {request.method}."
            )
        if lowered == "/web":
            return entity(selected(web_json(site, site_url, verbose), request, "SP.Web"), metadata)
        if lowered == "/site":
            return entity(selected(site_json(site, site_url, verbose), request, "SP.Site"), metadata)
        if lowered == "/web/lists":
            expand = expands_root_folder(request)
            lists = [list_json(sp_list, site_url, verbose, expand) for sp_list in self.store.lists(site)]
            return collection_page(lists, None, metadata)
        found = _LIST.match(api)
        if not found:
            raise ServiceError(400, INVALID_QUERY, f"The emulator does not serve {api}.")
        sp_list = self._list(site, site_url, found)
        rest = (found.group("rest") or "").rstrip("/")
        if rest == "":
            body = list_json(sp_list, site_url, verbose, expands_root_folder(request))
            return entity(selected(body, request, "SP.List"), metadata)
        if rest.lower() == "/fields":
            return collection_page(fields_json(sp_list, self._lookup_ids(sp_list), verbose), None, metadata)
        item_match = _ITEM.match(rest)
        if item_match is None:
            raise ServiceError(
                400, INVALID_QUERY, f"The emulator serves only items and fields of a list, not {rest}."
            )
        item_id = item_match.group("id") or item_match.group("byid")
        projection = read_projection(request, sp_list)
        zone, targets = self.store.site_timezone, self._target_types(sp_list)
        if item_id is not None:  # the lookup threshold does not apply to single-item reads
            try:
                item = self.store.get_item(sp_list, item_id)
            except StoreNotFound as error:
                raise ServiceError(404, "-2130575338, Microsoft.SharePoint.SPException",
                                      "Item does not exist. It may have been deleted by another user.") from error  # fmt: skip
            body = item_json(item, sp_list, zone, site_url, metadata, projection, targets)
            return entity(body, metadata)
        if request.param("$filter") or request.param("$orderby"):
            raise ServiceError(
                400, INVALID_QUERY, "The emulator does not support $filter or $orderby on SharePoint REST."
            )
        check_lookup_threshold(sp_list, projection, self.lookup_threshold)
        paging = read_paging(
            request, sp_list, self.default_page_size, self.list_view_threshold, self.top_policy
        )
        page: list[Item] = []
        more = False
        for item in sp_list.iter_from(paging.after_id):
            if len(page) == paging.top:
                more = True
                break
            page.append(item)
        values = [item_json(item, sp_list, zone, site_url, metadata, projection, targets) for item in page]
        next_url = (
            next_link(request, site_url, sp_list, page[-1].int_id, paging.top) if more and page else None
        )
        return collection_page(values, next_url, metadata)

    def _list(self, site: Site, site_url: str, found: re.Match[str]) -> SpList:
        by_id = found.group("guid") or found.group("id") or found.group("byid")
        ref = by_id or (found.group("title") or "").replace("''", "'")
        try:
            sp_list = self.store.get_list(site, ref)
        except StoreNotFound as error:
            message = NO_SUCH_LIST if by_id else f"List '{ref}' does not exist at site with URL '{site_url}'."
            raise ServiceError(404, "-1, System.ArgumentException", message) from error
        if found.group("title") is not None and sp_list.display_name.lower() != ref.lower():
            raise ServiceError(404, "-1, System.ArgumentException",
                                  f"List '{ref}' does not exist at site with URL '{site_url}'.")  # fmt: skip
        return sp_list

    def _targets(self, sp_list: SpList) -> dict[str, SpList]:
        found: dict[str, SpList] = {}
        for column in sp_list.columns:
            if column.lookup_list:
                try:
                    target = self.store.lookup_target(sp_list, column)
                except StoreNotFound:
                    continue
                if target is not None:
                    found[column.name] = target
        return found

    def _target_types(self, sp_list: SpList) -> dict[str, str]:
        return {name: entity_type(target) for name, target in self._targets(sp_list).items()}

    def _lookup_ids(self, sp_list: SpList) -> dict[str, str]:
        return {name: target.id for name, target in self._targets(sp_list).items()}

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
