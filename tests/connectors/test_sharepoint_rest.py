"""The SharePoint REST connector against the HTTPS emulator, signed in with the real MSAL: the demo force's lists
read through REST equal the same lists read through Graph, the lookup threshold split, the list view
threshold, one retry per 429, the certificate requirement, and no secret or token said anywhere (S1)."""

from __future__ import annotations

import math
from itertools import islice
from pathlib import Path
from typing import Any

import msal
import pytest

from config.loader import load
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.http import ServiceSession, build_session
from connectors.list_items import ItemPage, selection, without_annotations
from connectors.sharepoint_rest import MAX_PAGE_SIZE, SharePointRestLists, open_sharepoint_rest
from emulator.demo.force import generate_force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import SITE_PATH, DemoTenant, seed_lists
from emulator.lists.store import ListColumn, Lookup, Person, SpList, Term
from emulator.testing import DEFAULT_TENANT, EmulatorOptions, RunningEmulator
from errors import AuthError, ConfigError, ConnectorError, NotFoundError, SourceFormatError, ThrottledError
from tests.connectors.conftest import (
    CLIENT_ID,
    SCOPES,
    AppCertificate,
    ManualTime,
    StartEmulator,
    Waits,
    certificate_sign_in,
    service_session,
)
from tests.connectors.sharepoint_graph_reader import (
    BUILT_INS,
    LOCATION_SIBLINGS,
    graph_items,
    graph_session,
    sharepoint_view,
)
from transforms.sharepoint_fields import FIELD_SHAPES

SECRET = "SUPERSECRET-123"


@pytest.fixture
def demo(start_emulator: StartEmulator) -> tuple[RunningEmulator, DemoTenant]:
    emu = start_emulator()
    force = generate_force(seed=11, events=60, ccrs=120, officers=20, invalid_fraction=0.05)
    return emu, seed_lists(emu.stack.store, force)


def rest_lists(
    emu: RunningEmulator, session: ServiceSession, *, site_path: str = SITE_PATH, **options: Any
) -> SharePointRestLists:
    return SharePointRestLists(session, emu.url("sharepoint", site_path), **options)


def signed_in(
    emu: RunningEmulator, certificate: AppCertificate, clock: ManualTime, waits: Waits, **policy: Any
) -> ServiceSession:
    return service_session(
        certificate_sign_in(emu, certificate, clock, waits), "sharepoint", emu, clock, waits, **policy
    )


def read_all(lists: SharePointRestLists, site_id: str, list_id: str, select: list[str]) -> list[ItemPage]:
    return list(lists.iter_item_pages(site_id, list_id, select))


def every_column(sp_list: SpList) -> list[str]:
    return [column.name for column in sp_list.columns] + list(BUILT_INS)


# ---- the same items through Graph and through SharePoint REST -----------------------------------------


def test_each_demo_list_read_through_rest_equals_the_graph_read_field_by_field(
    demo: tuple[RunningEmulator, DemoTenant], app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu, tenant = demo
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    lists = rest_lists(emu, service_session(sign_in, "sharepoint", emu, clock, waits), page_size=40)
    graph = graph_session(sign_in, emu, clock, waits)
    site = lists.site()
    compared: set[str] = set()
    for name, sp_list in tenant.lists.items():
        select = every_column(sp_list)
        pages = read_all(lists, site.id, sp_list.id, select)
        rest = [item for page in pages for item in page.items]
        expected = graph_items(graph, emu, tenant.site.id, sp_list, select)

        assert [item["id"] for item in rest] == [item.id for item in emu.stack.store.items(sp_list)], name
        assert all(page.full_enumeration and page.list_id == sp_list.id for page in pages)
        for got, want in zip(rest, expected, strict=True):
            assert got == sharepoint_view(want, sp_list), (name, got["id"])
        compared |= {column.type for column in sp_list.columns}
    assert compared == set(FIELD_SHAPES)  # every SharePoint column type went through both APIs


def test_what_rest_cannot_give_as_graph_does_is_exactly_the_documented_difference(
    demo: tuple[RunningEmulator, DemoTenant], app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu, tenant = demo
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    lists = rest_lists(emu, service_session(sign_in, "sharepoint", emu, clock, waits))
    events = tenant.lists["Engagement Events"]
    venue = next(column.name for column in events.columns if column.type == "location")
    first_with_venue = next(item for item in emu.stack.store.items(events) if item.fields.get(venue))

    got = next(item for item in read_all(lists, lists.site().id, events.id, [venue])[0].items
               if item["id"] == first_with_venue.id)  # fmt: skip
    want = graph_items(graph_session(sign_in, emu, clock, waits), emu, tenant.site.id, events, [venue])

    graph_fields = without_annotations(next(item for item in want if item["id"] == first_with_venue.id))[
        "fields"
    ]
    assert set(graph_fields) - set(got["fields"]) == LOCATION_SIBLINGS & set(
        graph_fields
    )  # City, GeoLoc, ...
    assert got["fields"][venue] == graph_fields[venue]  # the location object itself is the same


def test_a_single_term_gets_its_label_from_the_taxonomy_catch_all(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    store = emu.stack.store
    site = store.create_site("/sites/Test", "Test")
    wards = store.create_list(site, "Wards", [ListColumn("Ward", "Ward", "term")])
    store.add_item(wards, {"Title": "a", "Ward": Term("North Ward", "0f1e", 17)})
    lists = rest_lists(emu, signed_in(emu, app_certificate, clock, waits), site_path="/sites/Test")

    item = read_all(lists, lists.site().id, wards.id, ["Ward"])[0].items[0]

    assert item["fields"]["Ward"] == {"Label": "North Ward", "TermGuid": "0f1e", "WssId": 17}
    query = next(r.query for r in emu.emulator.request_log if r.path.endswith("/items"))
    assert "TaxCatchAll" in query  # REST alone would have labelled it "17"


# ---- what is asked for ----------------------------------------------------------------------------------


def test_only_the_mapped_columns_are_asked_for_and_ignored_free_text_never_is(
    demo: tuple[RunningEmulator, DemoTenant], app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu, tenant = demo
    lists = rest_lists(emu, signed_in(emu, app_certificate, clock, waits))
    mapping = DEMO_SITE_MAPPING.list_mapping("Engagement Events")
    wanted = selection(mapping)  # what the sync asks either connector for
    ignored = [c.name for c in mapping.columns if c.is_ignored]
    events = tenant.lists["Engagement Events"]

    pages = lists.iter_item_pages(
        lists.site().id, events.id, wanted.select, lookup_columns=wanted.lookup_columns
    )
    items = [item for page in pages for item in page.items]

    queries = " ".join(r.query for r in emu.emulator.request_log if r.path.endswith("/items"))
    assert ignored and not any(name in queries for name in ignored)
    assert not any(name in item["fields"] for item in items for name in ignored)


def test_a_full_read_costs_one_request_per_page_plus_the_list_and_its_columns(
    demo: tuple[RunningEmulator, DemoTenant], app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu, tenant = demo
    session = signed_in(emu, app_certificate, clock, waits)
    lists = rest_lists(emu, session, page_size=25)
    site = lists.site()
    events = tenant.lists["Engagement Events"]
    before = session.stats.requests

    live = lists.list_by_name(site.id, "Engagement Events")
    pages = read_all(lists, site.id, live.id, ["Title", "Officers"])

    count = len(emu.stack.store.items(events))
    assert sum(len(page.items) for page in pages) == count
    assert session.stats.requests - before == math.ceil(count / 25) + 2  # + the list and its fields
    assert live.id == events.id and live.column("Officers") is not None


def test_every_list_comes_with_its_columns_typed_and_its_url_name(
    demo: tuple[RunningEmulator, DemoTenant], app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu, tenant = demo
    session = signed_in(emu, app_certificate, clock, waits)
    lists = rest_lists(emu, session)
    site = lists.site()
    before = session.stats.requests

    live = {one.display_name: one for one in lists.lists(site.id)}

    assert session.stats.requests - before == 1 + len(tenant.lists)  # the lists, then each list's fields
    assert set(live) == set(tenant.lists)
    for name, sp_list in tenant.lists.items():
        assert (live[name].id, live[name].name) == (sp_list.id, sp_list.name)
        for column in sp_list.columns:
            found = live[name].column(column.name)
            assert found is not None and found.type == column.type and found.hidden == column.hidden, (
                column.name
            )
            assert found.lookup_list_id == (
                tenant.lists[column.lookup_list].id if column.lookup_list else None
            )


@pytest.mark.parametrize("count", [20, 40], ids=["one-full-page", "two-full-pages"])
def test_a_list_that_fills_its_last_page_exactly_is_read_without_a_guessed_extra_page(
    count: int,
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    clock: ManualTime,
    waits: Waits,
) -> None:
    emu = start_emulator()
    store = emu.stack.store
    site = store.create_site("/sites/Test", "Test")
    items = store.create_list(site, "Items", [])
    for number in range(1, count + 1):
        store.add_item(items, {"Title": f"item {number}"})
    lists = rest_lists(
        emu, signed_in(emu, app_certificate, clock, waits), site_path="/sites/Test", page_size=20
    )

    # SharePoint ignores $skip on items: the library's $skip guess after a full page would read page one again
    pages = list(islice(lists.iter_item_pages(lists.site().id, items.id, ["Title"]), 5))

    assert [len(page.items) for page in pages] == [20] * (count // 20)
    item_requests = [r.query for r in emu.emulator.request_log if r.path.endswith("/items")]
    assert [query.count("skiptoken") for query in item_requests] == [0] + [1] * (count // 20 - 1)
    assert not any("skip=" in query.replace("%24", "$") for query in item_requests)


# ---- the lookup threshold ---------------------------------------------------------------------------------


def wide(emu: RunningEmulator, lookups: int, items: int) -> SpList:
    store = emu.stack.store
    site = store.create_site("/sites/Test", "Test")
    areas = store.create_list(site, "Areas", [])
    for name in ("North", "South"):
        store.add_item(areas, {"Title": name})
    columns = [
        ListColumn(f"Area{n}", f"Area {n}", "lookup", lookup_list="Areas") for n in range(1, lookups + 1)
    ]
    columns += [ListColumn("Lead", "Lead", "person"), ListColumn("Ward", "Ward", "term"),
                ListColumn("Helpers", "Helpers", "multiperson")]  # fmt: skip
    wide_list = store.create_list(site, "Wide", columns)
    for number in range(1, items + 1):
        values: dict[str, object] = {f"Area{n}": Lookup(1 + (n + number) % 2, "North" if (n + number) % 2 == 0 else "South")
                                     for n in range(1, lookups + 1)}  # fmt: skip
        store.add_item(wide_list, {**values, "Title": f"item {number}", "Lead": Person(7, "Sam", "sam@x"),
                                   "Ward": Term("North", "0f1e", 3), "Helpers": [Person(9, "Jo", "jo@x")]})  # fmt: skip
    return wide_list


def test_past_twelve_lookup_columns_the_read_is_split_and_merged_by_item_id(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    wide_list = wide(emu, 14, items=45)
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    lists = rest_lists(
        emu, service_session(sign_in, "sharepoint", emu, clock, waits), site_path="/sites/Test", page_size=20
    )
    select = every_column(wide_list)

    rest = [item for page in read_all(lists, lists.site().id, wide_list.id, select) for item in page.items]

    expected = graph_items(
        graph_session(sign_in, emu, clock, waits), emu, wide_list.site.id, wide_list, select
    )
    assert rest == [sharepoint_view(item, wide_list) for item in expected]
    item_requests = [
        r for r in emu.emulator.request_log if r.service == "sharepoint" and r.path.endswith("/items")
    ]
    assert {r.status for r in item_requests} == {200}  # no query was over the threshold
    assert len(item_requests) == 2 * math.ceil(45 / 20)  # two queries in step, page by page


def test_without_the_split_sharepoint_refuses_the_read(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    wide_list = wide(emu, 14, items=3)
    lists = rest_lists(
        emu, signed_in(emu, app_certificate, clock, waits), site_path="/sites/Test", lookup_threshold=99
    )

    with pytest.raises(ConnectorError) as refused:
        read_all(lists, lists.site().id, wide_list.id, every_column(wide_list))

    assert refused.value.status == 500
    assert refused.value.service_code == "-2147024749, Microsoft.SharePoint.SPQueryThrottledException"


def test_an_item_deleted_between_the_split_queries_is_left_out(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    wide_list = wide(emu, 14, items=10)
    lists = rest_lists(
        emu, signed_in(emu, app_certificate, clock, waits), site_path="/sites/Test", page_size=5
    )
    pages = lists.iter_item_pages(lists.site().id, wide_list.id, every_column(wide_list))

    first = next(pages)  # both queries have read items 1-5
    emu.stack.store.delete_item(wide_list, "7")  # before the first query reads 6-10: gone from both
    emu.stack.store.delete_item(wide_list, "10")
    rest = list(pages)

    assert [item["id"] for item in first.items] == ["1", "2", "3", "4", "5"]
    assert [item["id"] for item in rest[0].items] == ["6", "8", "9"]


# ---- the list view threshold -------------------------------------------------------------------------------


def test_a_page_never_asks_for_more_than_the_list_view_threshold(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    store = emu.stack.store
    site = store.create_site("/sites/Test", "Test")
    big = store.create_list(site, "Big", [])
    for number in range(1, MAX_PAGE_SIZE + 2):
        store.add_item(big, {"Title": f"item {number}"})
    lists = rest_lists(emu, signed_in(emu, app_certificate, clock, waits), site_path="/sites/Test")

    pages = read_all(lists, lists.site().id, big.id, ["Title"])

    assert [len(page.items) for page in pages] == [MAX_PAGE_SIZE, 1]
    tops = [r.query for r in emu.emulator.request_log if r.path.endswith("/items")]
    assert all("top=5000" in query.lower().replace("%24", "$") for query in tops)
    with pytest.raises(ValueError):
        rest_lists(emu, build_session(None, user_agent="x"), page_size=MAX_PAGE_SIZE + 1)


def test_over_the_threshold_sharepoint_answers_500_and_it_reaches_the_caller_typed(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator(options=EmulatorOptions(sharepoint_list_view_threshold=10))
    store = emu.stack.store
    site = store.create_site("/sites/Test", "Test")
    items = store.create_list(site, "Items", [])
    store.add_item(items, {"Title": "one"})
    session = signed_in(emu, app_certificate, clock, waits)

    with pytest.raises(ConnectorError) as refused:
        read_all(
            lists := rest_lists(emu, session, site_path="/sites/Test", page_size=11),
            lists.site().id,
            items.id,
            ["Title"],
        )
    assert refused.value.status == 500
    assert refused.value.service_code == "-2147024860, Microsoft.SharePoint.SPQueryThrottledException"
    assert len(waits.seconds) == 5  # a 500 to a GET: the seam's five resends, then the typed error

    fitting = rest_lists(emu, session, site_path="/sites/Test", page_size=10)
    assert read_all(fitting, fitting.site().id, items.id, ["Title"])


# ---- retries: the seam's, once ------------------------------------------------------------------------------


def test_a_429_is_waited_out_once_by_the_session_and_never_again_by_the_library(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    rule = {"service": "sharepoint", "path": "/items$", "throttle": {"sequence": [429], "retry_after": 7}}
    emu = start_emulator({"rules": [rule]})
    store = emu.stack.store
    items = store.create_list(store.create_site("/sites/Test", "Test"), "Items", [])
    for number in range(3):
        store.add_item(items, {"Title": f"item {number}"})
    session = signed_in(emu, app_certificate, clock, waits)

    lists = rest_lists(emu, session, site_path="/sites/Test")
    pages = read_all(lists, lists.site().id, items.id, ["Title"])

    assert sum(len(page.items) for page in pages) == 3
    assert waits.seconds == [7.0] and session.stats.retries == 1
    assert [r.status for r in emu.emulator.request_log if r.path.endswith("/items")] == [429, 200]


def test_throttling_past_the_seams_attempts_is_a_throttled_error_after_exactly_those_attempts(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    rule = {"service": "sharepoint", "path": "/items$", "throttle": {"rate": 1.0, "retry_after": 2}}
    emu = start_emulator({"rules": [rule]})
    store = emu.stack.store
    items = store.create_list(store.create_site("/sites/Test", "Test"), "Items", [])
    store.add_item(items, {"Title": "one"})
    session = signed_in(emu, app_certificate, clock, waits)

    lists = rest_lists(emu, session, site_path="/sites/Test")
    site_id = lists.site().id

    with pytest.raises(ThrottledError) as throttled:
        read_all(lists, site_id, items.id, ["Title"])

    attempts = [r for r in emu.emulator.request_log if r.path.endswith("/items")]
    assert len(attempts) == 6 and waits.seconds == [2.0] * 5  # the seam's six attempts, nobody else's
    assert throttled.value.status == 429 and throttled.value.retry_after_seconds == 2


# ---- sign-in: certificate only; S1 --------------------------------------------------------------------------


def rest_settings(emu: RunningEmulator, tmp_path: Path, **environ: str) -> Any:
    values = {
        "CETK_TENANT_ID": DEFAULT_TENANT,
        "CETK_CLIENT_ID": CLIENT_ID,
        "CETK_ENDPOINTS_AUTHORITY": emu.url("login", ""),
        "CETK_CA_BUNDLE": str(emu.ca_file),
        "CETK_PATHS_STATE_DIR": str(tmp_path),
        "CETK_SHAREPOINT_SITE_URL": emu.url("sharepoint", "/sites/Test"),
        "CETK_SCOPES_SHAREPOINT": SCOPES["sharepoint"],
        "CETK_SHAREPOINT_API": "rest",
        **environ,
    }
    return load(None, values, keyring=None, strict=False)


def test_a_client_secret_is_a_config_error_before_any_request(
    emu: RunningEmulator, tmp_path: Path, clock: ManualTime, waits: Waits
) -> None:
    loaded = rest_settings(emu, tmp_path, CETK_AUTH_MODE="client_secret", CETK_CLIENT_SECRET=SECRET)
    sign_in = SignIn(sign_in_config_from_settings(loaded.settings), sleep=waits, clock=clock.time)

    with pytest.raises(ConfigError) as refused:
        open_sharepoint_rest(loaded.settings, sign_in)

    assert "Unsupported app only token" in str(refused.value) and "certificate" in refused.value.hint
    assert emu.emulator.request_log == []
    assert [p.message for p in loaded.problems if "sharepoint.api" in p.message]  # config check says so first


def test_a_secret_token_refused_by_sharepoint_is_an_auth_error_naming_the_certificate_and_says_no_secret(
    emu: RunningEmulator, caplog: pytest.LogCaptureFixture, clock: ManualTime, waits: Waits,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    caplog.set_level(1)  # everything: urllib3, msal, office365 (its secret level 5 too) and cetk
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emu.ca_file))  # requests lets it win over MSAL's verify=
    emu.login.register_app(CLIENT_ID, secret=SECRET)
    # A token SignIn would never ask for: the real MSAL, a client secret, the SharePoint scope.
    app = msal.ConfidentialClientApplication(CLIENT_ID, client_credential=SECRET, authority=emu.authority(),
                                             instance_discovery=False, verify=str(emu.ca_file))  # fmt: skip
    secret_token = app.acquire_token_for_client(scopes=[SCOPES["sharepoint"]])["access_token"]
    emu.stack.store.create_site("/sites/Test", "Test")
    session = build_session(
        lambda: secret_token, user_agent="x", ca_bundle=emu.ca_file, sleep=waits, clock=clock.time
    )

    with pytest.raises(AuthError) as refused:
        rest_lists(emu, session, site_path="/sites/Test").site()

    assert refused.value.status == 401 and "Unsupported app only token" in str(refused.value)
    assert "auth.mode: certificate" in refused.value.hint and waits.seconds == []
    said = (
        caplog.text
        + str(refused.value)
        + repr(refused.value)
        + repr(vars(refused.value))
        + refused.value.hint
    )
    assert SECRET not in said and secret_token not in said
    assert "GET " in caplog.text  # the log really was on


def test_s1_a_certificate_read_logs_no_token_or_key(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(1)
    emu = start_emulator()
    store = emu.stack.store
    items = store.create_list(store.create_site("/sites/Test", "Test"), "Items", [])
    store.add_item(items, {"Title": "one"})
    sign_in = certificate_sign_in(emu, app_certificate, clock, waits)
    lists = rest_lists(
        emu, service_session(sign_in, "sharepoint", emu, clock, waits), site_path="/sites/Test"
    )

    read_all(lists, lists.site().id, items.id, ["Title"])
    with pytest.raises(NotFoundError) as missing:
        lists.list_by_name(lists.site().id, "No Such List")

    provider = sign_in.token_provider("sharepoint")
    assert provider is not None
    said = caplog.text + str(missing.value) + repr(vars(missing.value))
    assert provider() not in said and "PRIVATE KEY" not in said
    assert "No Such List" in str(missing.value) and "/sites/Test" in str(missing.value)


def test_the_configured_connector_reads_with_the_certificate(
    start_emulator: StartEmulator,
    app_certificate: AppCertificate,
    tmp_path: Path,
    clock: ManualTime,
    waits: Waits,
) -> None:
    emu = start_emulator()
    store = emu.stack.store
    items = store.create_list(store.create_site("/sites/Test", "Test"), "Items", [])
    store.add_item(items, {"Title": "one"})
    emu.login.register_app(CLIENT_ID, certificate_pem=app_certificate.certificate_pem)
    loaded = rest_settings(
        emu, tmp_path, CETK_AUTH_MODE="certificate", CETK_AUTH_CERTIFICATE_PATH=str(app_certificate.path)
    )
    assert loaded.problems == () and loaded.settings.sharepoint_api == "rest"
    sign_in = SignIn(sign_in_config_from_settings(loaded.settings), sleep=waits, clock=clock.time)
    lists = open_sharepoint_rest(loaded.settings, sign_in, sleep=waits, clock=clock.time)

    site = lists.site()
    (page,) = read_all(lists, site.id, items.id, ["Title"])

    assert page.items[0]["fields"]["Title"] == "one"
    assert site.id.split(",")[1:] == emu.stack.store.site_by_path("/sites/Test").id.split(",")[1:]


# ---- what it cannot do ----------------------------------------------------------------------------------------


def test_there_is_no_delta_it_says_to_use_graph(emu: RunningEmulator) -> None:
    lists = rest_lists(emu, build_session(None, user_agent="x"))

    with pytest.raises(ConfigError) as refused:
        lists.iter_delta_pages("site", "list", ["Title"], delta_link=None)

    assert "sharepoint.api: graph" in refused.value.hint
    assert emu.emulator.request_log == []


def test_a_mapped_column_the_list_does_not_have_is_named(
    start_emulator: StartEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator()
    items = emu.stack.store.create_list(emu.stack.store.create_site("/sites/Test", "Test"), "Items", [])
    lists = rest_lists(emu, signed_in(emu, app_certificate, clock, waits), site_path="/sites/Test")

    with pytest.raises(SourceFormatError) as missing:
        read_all(lists, lists.site().id, items.id, ["Title", "Gone"])

    assert "'Gone'" in str(missing.value) and items.id in str(missing.value)
