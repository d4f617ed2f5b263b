"""SharePoint REST answers: metadata levels, entity and collection envelopes, `$select` on entities, next links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from emulator.core.http import Request, Response, ServiceError
from emulator.lists.store import SpList
from emulator.sharepoint.query import INVALID_QUERY


def metadata_level(request: Request) -> str:
    accept = (request.header("accept") or "").lower()
    for level in ("verbose", "nometadata"):
        if f"odata={level}" in accept:
            return level
    return "minimalmetadata"  # SharePoint Online's default for application/json


def expands_root_folder(request: Request) -> bool:
    return "rootfolder" in {part.strip().lower() for part in (request.param("$expand") or "").split(",")}


def selected(body: dict[str, Any], request: Request, type_name: str) -> dict[str, Any]:
    """An entity cut to `$select`; a property the type does not have is SharePoint's 400."""
    raw = request.param("$select")
    if not raw:
        return body
    wanted = {part.strip().split("/")[0] for part in raw.split(",") if part.strip()}
    for name in sorted(wanted):
        if name not in body:
            raise ServiceError(400, INVALID_QUERY, f"The property '{name}' does not exist on type '{type_name}'. "
                                                   "Make sure to only use property names that are defined by the type.")  # fmt: skip
    return {key: value for key, value in body.items() if key in wanted or key == "__metadata"}


def next_link(request: Request, site_url: str, sp_list: SpList, last_id: int, top: int) -> str:
    """`{site}/_api/Web/Lists(guid'...')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d{id}&%24top={n}` (§3.2)."""
    url = f"{site_url}/_api/Web/Lists(guid'{sp_list.id}')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d{last_id}&%24top={top}"
    for option in ("$select", "$expand"):  # the service carries the query's projection on
        value = request.param(option)
        if value:
            url += f"&%24{option[1:]}={quote(value, safe='')}"
    return url


def entity(body: dict[str, Any], metadata: str) -> Response:
    return json_response({"d": body} if metadata == "verbose" else body, metadata)


def collection_page(values: list[dict[str, Any]], next_url: str | None, metadata: str) -> Response:
    if metadata == "verbose":
        d: dict[str, Any] = {"results": values}
        if next_url:
            d["__next"] = next_url
        return json_response({"d": d}, metadata)
    body: dict[str, Any] = {"value": values}
    if next_url:
        body["odata.nextLink"] = next_url
    return json_response(body, metadata)


def json_response(payload: Any, metadata: str) -> Response:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(200, body, {"Content-Type": f"application/json;odata={metadata};charset=utf-8"})
