"""iter_pages: next links followed verbatim, loops refused, the three collection shapes, delta links."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from responses import matchers

from connectors.http import Page, build_session, iter_pages
from emulator.testing import RunningEmulator
from errors import ConnectorError
from tests.connectors.conftest import (
    USER_AGENT,
    AppCertificate,
    ManualTime,
    Waits,
    certificate_sign_in,
    seed_list,
    service_session,
)

ITEMS = "https://graph.microsoft.com/v1.0/sites/s/lists/l/items"
# Graph's skip tokens are opaque and signed: percent-escapes, '+', '/' and '=' must reach it untouched.
NEXT = f"{ITEMS}?$top=2&$expand=fields&$skiptoken=UGFnZWQ9VFJVRSZwX0lEPTI%3D%2B%2Fx%7E"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as mock:
        yield mock


def session() -> Any:
    return build_session(lambda: "test-token", user_agent=USER_AGENT, sleep=lambda s: None)


def test_next_link_is_followed_verbatim_and_params_go_on_the_first_request_only(
    http: responses.RequestsMock,
) -> None:
    first = http.get(ITEMS, json={"value": [{"id": "1"}, {"id": "2"}], "@odata.nextLink": NEXT})
    second = http.get(NEXT, json={"value": [{"id": "3"}]})

    pages = list(iter_pages(session(), ITEMS, {"$top": "2", "$expand": "fields"}))

    assert [page.items for page in pages] == [[{"id": "1"}, {"id": "2"}], [{"id": "3"}]]
    assert [page.next_link for page in pages] == [NEXT, None]
    assert first.calls[0].request.url == f"{ITEMS}?%24top=2&%24expand=fields"
    assert second.calls[0].request.url == NEXT


def test_a_link_the_service_gave_is_sent_verbatim_from_the_first_request(
    http: responses.RequestsMock,
) -> None:
    saved = NEXT.replace("$skiptoken", "token")  # a saved delta link, or a 410's Location
    first = http.get(saved, json={"value": [{"id": "1"}]})

    assert [page.items for page in iter_pages(session(), saved, link=True)] == [[{"id": "1"}]]
    assert first.calls[0].request.url == saved  # requests alone would turn %7E into ~
    with pytest.raises(ValueError, match="verbatim"):
        next(iter_pages(session(), saved, {"$top": "2"}, link=True))


def test_headers_are_sent_with_every_page(http: responses.RequestsMock) -> None:
    prefer = {"Prefer": "HonorNonIndexedQueriesWarningMayFailRandomly"}
    http.get(ITEMS, json={"value": [], "@odata.nextLink": NEXT}, match=[matchers.header_matcher(prefer)])
    http.get(NEXT, json={"value": []}, match=[matchers.header_matcher(prefer)])

    assert len(list(iter_pages(session(), ITEMS, headers=prefer))) == 2


def test_a_link_back_to_a_page_already_read_is_a_loop(http: responses.RequestsMock) -> None:
    http.get(ITEMS, json={"value": [{"id": "1"}], "@odata.nextLink": NEXT})
    http.get(NEXT, json={"value": [{"id": "2"}], "@odata.nextLink": ITEMS})

    read: list[Page] = []
    with pytest.raises(ConnectorError, match="points back to a page already read"):
        read.extend(iter_pages(session(), ITEMS))

    assert [page.items for page in read] == [[{"id": "1"}], [{"id": "2"}]]


def test_a_link_to_itself_is_a_loop(http: responses.RequestsMock) -> None:
    http.get(ITEMS, json={"value": [], "@odata.nextLink": ITEMS})

    with pytest.raises(ConnectorError, match="paging loop|already read"):
        list(iter_pages(session(), ITEMS))
    assert len(http.calls) == 1


def test_delta_link_comes_with_the_last_page(http: responses.RequestsMock) -> None:
    delta = f"{ITEMS}/delta?token=abc"
    http.get(f"{ITEMS}/delta", json={"value": [{"id": "1"}], "@odata.nextLink": f"{ITEMS}/delta?token=p2"})
    http.get(
        f"{ITEMS}/delta?token=p2",
        json={"value": [{"id": "2", "deleted": {"state": "deleted"}}], "@odata.deltaLink": delta},
    )

    pages = list(iter_pages(session(), f"{ITEMS}/delta"))

    assert [page.delta_link for page in pages] == [None, delta]


def test_sharepoint_verbose_results_and_next(http: responses.RequestsMock) -> None:
    url = "https://contoso.sharepoint.com/sites/x/_api/Web/lists/GetByTitle('E')/items"
    following = "https://contoso.sharepoint.com/sites/x/_api/Web/Lists(guid'1')/items?%24skiptoken=Paged%3dTRUE%26p_ID%3d2&%24top=2"
    http.get(url, json={"d": {"results": [{"Id": 1}, {"Id": 2}], "__next": following}})
    http.get(following, json={"d": {"results": [{"Id": 3}]}})

    pages = list(iter_pages(session(), url, headers={"Accept": "application/json;odata=verbose"}))

    assert [[item["Id"] for item in page.items] for page in pages] == [[1, 2], [3]]
    assert http.calls[1].request.url == following


def test_sharepoint_json_light_next_link(http: responses.RequestsMock) -> None:
    url = "https://contoso.sharepoint.com/sites/x/_api/Web/lists/GetByTitle('E')/items"
    http.get(url, json={"value": [{"Id": 1}], "odata.nextLink": f"{url}?p=2"})
    http.get(f"{url}?p=2", json={"value": [{"Id": 2}]})

    assert [page.items for page in iter_pages(session(), url)] == [[{"Id": 1}], [{"Id": 2}]]


@pytest.mark.parametrize("body", [{"id": "one item"}, {"d": {"Id": 1}}, [1, 2]])
def test_an_answer_that_is_not_a_collection_is_refused(http: responses.RequestsMock, body: Any) -> None:
    http.get(ITEMS, json=body)

    with pytest.raises(ConnectorError, match="not a collection"):
        list(iter_pages(session(), ITEMS))


def test_html_from_a_captive_portal_is_a_connector_error(http: responses.RequestsMock) -> None:
    http.get(ITEMS, body="<html>Sign in to the guest network</html>", content_type="text/html")

    with pytest.raises(ConnectorError, match="not valid JSON") as caught:
        list(iter_pages(session(), ITEMS))

    assert isinstance(caught.value.__cause__, ValueError)
    assert "guest network" not in str(caught.value)


def test_an_error_on_a_later_page_is_typed(http: responses.RequestsMock) -> None:
    http.get(ITEMS, json={"value": [{"id": "1"}], "@odata.nextLink": NEXT})
    http.get(NEXT, status=404, json={"error": {"code": "itemNotFound", "message": "gone"}})

    with pytest.raises(ConnectorError) as caught:
        list(iter_pages(session(), ITEMS))

    assert caught.value.status == 404


def test_a_faster_decoder_can_be_plugged_in(http: responses.RequestsMock) -> None:
    decoded: list[bytes] = []

    def loads(data: bytes) -> Any:
        decoded.append(data)
        return json.loads(data)

    http.get(ITEMS, json={"value": [1]})

    assert [page.items for page in iter_pages(session(), ITEMS, loads=loads)] == [[1]]
    assert decoded == [b'{"value": [1]}']


def test_graph_delta_over_https_ends_with_a_delta_link_that_reads_the_changes(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    items_url = seed_list(emu, 450)
    graph = service_session(
        certificate_sign_in(emu, app_certificate, clock, waits), "graph", emu, clock, waits
    )

    pages = list(iter_pages(graph, f"{items_url}/delta", {"$top": "200"}))
    site_list = emu.stack.store.get_list(emu.stack.store.site_by_path("/sites/Test"), "Items")
    emu.stack.store.delete_item(site_list, "7")
    changes = list(iter_pages(graph, pages[-1].delta_link or ""))

    assert [len(page.items) for page in pages] == [200, 200, 50]
    assert [page.delta_link is None for page in pages] == [True, True, False]
    assert [item["id"] for item in changes[0].items] == ["7"] and "deleted" in changes[0].items[0]


def test_sharepoint_rest_verbose_paging_over_https(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    seed_list(emu, 250)
    sharepoint = service_session(
        certificate_sign_in(emu, app_certificate, clock, waits), "sharepoint", emu, clock, waits
    )
    url = emu.url("sharepoint", "/sites/Test/_api/Web/lists/GetByTitle('Items')/items")

    pages = list(iter_pages(sharepoint, url, headers={"Accept": "application/json;odata=verbose"}))

    assert [len(page.items) for page in pages] == [100, 100, 50]
    assert [item["Id"] for page in pages for item in page.items] == list(range(1, 251))
