"""The contract every connector keeps (house style, after meltano's standard tests), over HTTPS with MSAL:
pagination ends, a 429 is waited out and retried, a refused token is an AuthError, a missing target a
NotFoundError.

A connector joins by adding a ContractCase to CASES: how to seed the emulator, how the connector reads
one collection with a session, a target that does not exist and a token the service refuses.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from connectors.auth import Resource
from connectors.graph_lists import GraphLists
from connectors.http import ServiceSession, build_session, iter_pages
from connectors.powerbi import PowerBIClient
from connectors.sharepoint_rest import SharePointRestLists
from emulator.testing import DEFAULT_TENANT, RunningEmulator
from errors import AuthError, NotFoundError
from tests.connectors.conftest import (
    CLIENT_ID,
    USER_AGENT,
    AppCertificate,
    ManualTime,
    StartEmulator,
    Waits,
    certificate_sign_in,
    seed_list,
    service_session,
)

VERBOSE = {"Accept": "application/json;odata=verbose"}
GRAPH_AUDIENCE = "https://graph.microsoft.com"
POWERBI_AUDIENCE = "https://analysis.windows.net/powerbi/api"


@dataclass(frozen=True)
class ContractCase:
    id: str
    resource: Resource
    service: str  # the emulator service: fault rules and the request log
    read_path: str  # regex searched in the service path of the read's requests
    seed: Callable[[RunningEmulator], Any]  # set up the data; returns the target the read takes
    read: Callable[[ServiceSession, RunningEmulator, Any], list[Any]]  # the connector's read of a collection
    missing: Callable[[Any], Any]  # the same kind of target, naming something that does not exist
    refused_token: Callable[[RunningEmulator], str]  # a token the service refuses
    refused_status: int
    items: int
    page_size: int
    setup_requests: int = 0  # requests the read makes before its pages (site, list, columns)


def issue(emu: RunningEmulator, audience: str, **extra: Any) -> str:
    return emu.stack.tokens.issue(
        audience=audience, client_id="someone-else", tenant=DEFAULT_TENANT, extra=extra or None
    )


def read_graph_items(session: ServiceSession, emu: RunningEmulator, items_url: str) -> list[Any]:
    return [item for page in iter_pages(session, items_url, {"$top": "200"}) for item in page.items]


def seed_graph_list(emu: RunningEmulator, items: int) -> tuple[str, str]:
    """The (site id, list id) the Graph list connector reads."""
    seed_list(emu, items)
    store = emu.stack.store
    site = store.site_by_path("/sites/Test")
    return site.id, store.get_list(site, "Items").id


def read_with_graph_lists(
    session: ServiceSession, emu: RunningEmulator, target: tuple[str, str]
) -> list[Any]:
    lists = GraphLists(session, emu.url("graph", ""), page_size=200)
    return [item for page in lists.iter_item_pages(*target, ["Title"]) for item in page.items]


def read_sharepoint_items(session: ServiceSession, emu: RunningEmulator, title: str) -> list[Any]:
    url = emu.url("sharepoint", f"/sites/Test/_api/Web/lists/GetByTitle('{title}')/items")
    return [item for page in iter_pages(session, url, headers=VERBOSE) for item in page.items]


def read_with_sharepoint_rest(session: ServiceSession, emu: RunningEmulator, title: str) -> list[Any]:
    """connectors/sharepoint_rest.py: the site (2 requests), the list and its columns (2), then the pages."""
    lists = SharePointRestLists(session, emu.url("sharepoint", "/sites/Test"), page_size=100)
    site = lists.site()
    live = lists.list_by_name(site.id, title)
    return [item for page in lists.iter_item_pages(site.id, live.id, ["Title"]) for item in page.items]


def seed_datasets(emu: RunningEmulator) -> str:
    group = emu.powerbi.create_group("Community Engagement", members={CLIENT_ID: "Contributor"})
    for number in range(3):
        emu.powerbi.add_import_dataset(group, f"Dataset {number}")
    return group


def read_powerbi_datasets(session: ServiceSession, emu: RunningEmulator, group: str) -> list[Any]:
    url = emu.url("powerbi", f"/v1.0/myorg/groups/{group}/datasets")
    return [item for page in iter_pages(session, url) for item in page.items]


def read_with_powerbi_client(session: ServiceSession, emu: RunningEmulator, group: str) -> list[Any]:
    return PowerBIClient(session, emu.url("powerbi", ""), group).datasets()


CASES = [
    ContractCase(
        id="graph-list-items",
        resource="graph",
        service="graph",
        read_path=r"/items$",
        seed=lambda emu: seed_list(emu, 450),
        read=read_graph_items,
        missing=lambda items_url: items_url.replace("/lists/", "/lists/0000"),
        refused_token=lambda emu: issue(emu, GRAPH_AUDIENCE, roles=["User.Read.All"]),  # no Sites.* role
        refused_status=403,
        items=450,
        page_size=200,
    ),
    ContractCase(
        id="graph-lists-connector",
        resource="graph",
        service="graph",
        read_path=r"/items$",
        seed=lambda emu: seed_graph_list(emu, 450),
        read=read_with_graph_lists,
        missing=lambda target: (target[0], "00000000-0000-0000-0000-000000000000"),
        refused_token=lambda emu: issue(emu, GRAPH_AUDIENCE, roles=["User.Read.All"]),  # no Sites.* role
        refused_status=403,
        items=450,
        page_size=200,
    ),
    ContractCase(
        id="sharepoint-rest-items",
        resource="sharepoint",
        service="sharepoint",
        read_path=r"/items$",
        seed=lambda emu: seed_list(emu, 250) and "Items",
        read=read_sharepoint_items,
        missing=lambda title: "No Such List",
        refused_token=lambda emu: issue(emu, GRAPH_AUDIENCE),  # a Graph token: SharePoint's 401 challenge
        refused_status=401,
        items=250,
        page_size=100,
    ),
    ContractCase(
        id="sharepoint-rest-connector",
        resource="sharepoint",
        service="sharepoint",
        read_path=r"/_api/",  # every request of the read: the first one (the site) meets the 429
        seed=lambda emu: seed_list(emu, 250) and "Items",
        read=read_with_sharepoint_rest,
        missing=lambda title: "No Such List",
        refused_token=lambda emu: issue(
            emu, GRAPH_AUDIENCE
        ),  # SharePoint's 401 "Invalid issuer or signature."
        refused_status=401,
        items=250,
        page_size=100,
        setup_requests=4,
    ),
    ContractCase(
        id="powerbi-datasets",
        resource="powerbi",
        service="powerbi",
        read_path=r"/datasets$",
        seed=seed_datasets,
        read=read_powerbi_datasets,
        missing=lambda group: "00000000-0000-0000-0000-000000000000",
        refused_token=lambda emu: issue(emu, GRAPH_AUDIENCE),  # wrong audience: Power BI's 403
        refused_status=403,
        items=3,
        page_size=3,
    ),
    ContractCase(
        id="powerbi-client",
        resource="powerbi",
        service="powerbi",
        read_path=r"/datasets$",
        seed=seed_datasets,
        read=read_with_powerbi_client,
        missing=lambda group: "00000000-0000-0000-0000-000000000000",
        refused_token=lambda emu: issue(emu, POWERBI_AUDIENCE),  # a Power BI token of a non-member app
        refused_status=403,
        items=3,
        page_size=3,
    ),
]


@pytest.fixture(params=CASES, ids=[case.id for case in CASES])
def case(request: pytest.FixtureRequest) -> ContractCase:
    return request.param  # type: ignore[no-any-return]


def signed_in_session(
    emu: RunningEmulator, case: ContractCase, certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> ServiceSession:
    return service_session(
        certificate_sign_in(emu, certificate, clock, waits), case.resource, emu, clock, waits
    )


def test_pagination_ends_with_every_item_once(
    case: ContractCase,
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    clock: ManualTime,
    waits: Waits,
) -> None:
    emu = start_emulator()
    target = case.seed(emu)
    session = signed_in_session(emu, case, app_certificate, clock, waits)

    items = case.read(session, emu, target)

    assert len(items) == case.items
    assert len({repr(item) for item in items}) == case.items
    assert session.stats.requests == math.ceil(case.items / case.page_size) + case.setup_requests


def test_a_429_is_waited_out_and_retried(
    case: ContractCase,
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    clock: ManualTime,
    waits: Waits,
) -> None:
    rule = {
        "service": case.service,
        "method": "GET",
        "path": case.read_path,
        "throttle": {"sequence": [429], "retry_after": 3},
    }
    emu = start_emulator({"rules": [rule]})
    target = case.seed(emu)
    session = signed_in_session(emu, case, app_certificate, clock, waits)

    items = case.read(session, emu, target)

    assert len(items) == case.items
    assert waits.seconds == [3.0] and session.stats.retries == 1
    statuses = [r.status for r in emu.emulator.request_log if r.service == case.service]
    assert statuses[0] == 429 and statuses.count(429) == 1


def test_a_refused_token_is_an_auth_error(
    case: ContractCase, emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    target = case.seed(emu)
    token = case.refused_token(emu)
    session = build_session(
        lambda: token, user_agent=USER_AGENT, ca_bundle=emu.ca_file, sleep=waits, clock=clock.time
    )

    with pytest.raises(AuthError) as caught:
        case.read(session, emu, target)

    assert caught.value.status == case.refused_status
    assert waits.seconds == []  # an auth failure is not retried
    assert token not in str(caught.value)


def test_a_missing_target_is_not_found(
    case: ContractCase,
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    clock: ManualTime,
    waits: Waits,
) -> None:
    emu = start_emulator()
    target = case.seed(emu)
    session = signed_in_session(emu, case, app_certificate, clock, waits)

    with pytest.raises(NotFoundError) as caught:
        case.read(session, emu, case.missing(target))

    assert caught.value.status == 404 and caught.value.service_code
    assert caught.value.request_id
