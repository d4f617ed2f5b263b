"""Collections read page by page, following the service's own next link verbatim.

One reader for the three shapes cetk meets: OData v4 (`value` + `@odata.nextLink`, and `@odata.deltaLink`
on a delta's last page: Graph, Power BI), SharePoint's JSON light (`value` + `odata.nextLink`) and
SharePoint's verbose OData (`d.results` + `d.__next`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import requests

from connectors.redaction import redact_url
from connectors.transport import read_json, send
from errors import ConnectorError

Loads = Callable[[bytes], Any]


class Linked(Protocol):
    """A decoded page: whatever its items, the link to the next page (None on the last)."""

    @property
    def next_link(self) -> str | None: ...


Decoded = TypeVar("Decoded", bound=Linked)


@dataclass(frozen=True)
class Page:
    """One page of a collection: its items, the link to the next page, and on a delta's last page the delta link."""

    items: list[Any]
    next_link: str | None = None
    delta_link: str | None = None


def iter_pages(
    session: requests.Session,
    url: str,
    params: Mapping[str, str] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    loads: Loads = json.loads,
    link: bool = False,
) -> Iterator[Page]:
    """Yield each page; `params` go on the first request only, as next links carry the query themselves.

    A next link is requested exactly as the service wrote it (Graph signs its skip tokens); so is `url`
    when `link` says it is one the service gave (a saved delta link, a 410's Location). A link back to a
    page already read is a ConnectorError, not an endless loop. `loads` may be a faster JSON decoder.
    """

    def decode(response: requests.Response, where: str) -> Page:
        return parse_page(read_json(response, loads), where=where)

    return iter_decoded_pages(session, url, params, decode, headers=headers, link=link)


def iter_decoded_pages(
    session: requests.Session,
    url: str,
    params: Mapping[str, str] | None,
    decode: Callable[[requests.Response, str], Decoded],
    *,
    headers: Mapping[str, str] | None = None,
    link: bool = False,
) -> Iterator[Decoded]:
    """iter_pages with the caller's decoder: `decode(response, where)` reads each answer (its body as the
    caller wants it, e.g. straight into Arrow, connectors/graph_arrow.py) and says where the next page is;
    paging, verbatim links and the loop check are iter_pages'."""
    next_url: str | None = url
    query = dict(params) if params else None
    requested: set[str] = set()
    while next_url is not None:
        is_first = not requested
        response = send(
            session,
            "GET",
            next_url,
            params=query if is_first else None,
            headers=headers,
            verbatim=link or not is_first,  # a service's link is sent as the service wrote it
        )
        requested.update({next_url, response.request.url or next_url} if response.request else {next_url})
        page = decode(response, f"GET {redact_url(next_url)}")
        yield page
        if page.next_link is not None and page.next_link in requested:
            raise ConnectorError(
                f"GET {redact_url(next_url)}: the service's next link points back to a page already read",
                hint="the service returned a paging loop; report it with the request ids in the log",
            )
        next_url = page.next_link


def parse_page(body: Any, *, where: str) -> Page:
    """A Page from one decoded answer, whichever of the three collection shapes it has."""
    if isinstance(body, dict) and isinstance(body.get("d"), dict):
        verbose = body["d"]
        if isinstance(verbose.get("results"), list):
            return Page(verbose["results"], _link(verbose.get("__next")))
    elif isinstance(body, dict) and isinstance(body.get("value"), list):
        next_link = _link(body.get("@odata.nextLink")) or _link(body.get("odata.nextLink"))
        return Page(body["value"], next_link, _link(body.get("@odata.deltaLink")))
    raise ConnectorError(
        f"{where}: the answer is not a collection (no 'value' or 'd.results')",
        hint="check that the URL names a collection of the service's API",
    )


def _link(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
