"""The Graph list connector under throttling, budgets, expired delta links, deletions, repeats (R3, R5, R8,
R9, R12), least privilege (S10) and secret leakage (S1), on the HTTPS emulator with an injected clock."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.graph_lists import GraphLists
from connectors.http import build_session, send
from emulator.testing import RunningEmulator
from errors import AuthError
from tests.connectors.conftest import (
    CLIENT_ID,
    USER_AGENT,
    AppCertificate,
    ManualTime,
    StartEmulator,
    Waits,
    service_session,
    sign_in_config,
)
from tests.connectors.graph_world import (
    SELECT,
    apply,
    connector,
    graph_requests,
    graph_session,
    seed_events,
    store_titles,
)
from tests.connectors.test_http_pacing import budget, most_calls_in_any_minute
from tests.connectors.test_redaction import JWT, SECRET, everything_said, secret_settings


def test_r3_429_storm_on_a_delta_read(start_emulator: StartEmulator, clock: ManualTime, waits: Waits) -> None:
    storm = [429] * 5 + [200, 200, 429] * 60  # the first 5 calls, then every 3rd, get 429 Retry-After: 2
    rule = {
        "service": "graph",
        "method": "GET",
        "path": "/items/delta$",
        "throttle": {"sequence": storm, "retry_after": 2},
    }
    emu = start_emulator({"rules": [rule]})
    site, events = seed_events(emu, 12_345)
    session = graph_session(emu, clock, waits)
    started = clock.now()

    pages = list(
        connector(emu, session, page_size=200).iter_delta_pages(site.id, events.id, SELECT, delta_link=None)
    )

    ids = [item["id"] for page in pages for item in page.items]
    log = graph_requests(emu)
    throttled = sum(1 for record in log if record.status == 429)
    assert ids == [str(number) for number in range(1, 12_346)]  # every item, once
    assert len(pages) == 62 and pages[-1].delta_link
    assert session.stats.retries == throttled <= 40 and throttled >= 5
    assert waits.seconds == [2.0] * throttled
    assert (clock.now() - started).total_seconds() >= 2 * throttled
    for answer, following in zip(log, log[1:], strict=False):
        if answer.status == 429:  # no request earlier than Retry-After
            assert (following.at - answer.at).total_seconds() >= 2


def test_r5_a_paged_read_paces_itself_under_the_ru_budget(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    emu = start_emulator(budget(1200))  # 1,200 RU a minute; a page of list items costs 2 RU
    site, events = seed_events(emu, 640)  # 640 pages of one item: past a minute's 600 calls
    session = graph_session(emu, clock, waits)

    pages = list(connector(emu, session, page_size=1).iter_item_pages(site.id, events.id, ["Title"]))

    log = graph_requests(emu)
    assert sum(len(page.items) for page in pages) == 640
    assert [record.status for record in log].count(429) == 0
    assert most_calls_in_any_minute([record.at.timestamp() for record in log]) <= 600
    assert session.stats.pacing_wait_seconds > 0 and session.stats.retries == 0


def test_r8_an_expired_delta_link_reads_the_whole_list_again_and_applies_deletions(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 40)
    lists = connector(emu, graph_session(emu, clock, waits), page_size=15)
    target: dict[str, dict[str, object]] = {}
    link = apply(target, lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=None))
    store = emu.stack.store
    for item_id in ("3", "17", "40"):
        store.delete_item(events, item_id)
    store.update_item(events, "5", {"Title": "changed"})
    emu.stack.graph.expire_delta_tokens(events)

    pages = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link))

    assert [record.status for record in graph_requests(emu)].count(410) == 1
    assert all(page.full_enumeration for page in pages) and pages[-1].delta_link
    apply(target, iter(pages))
    assert {key: item["fields"]["Title"] for key, item in target.items()} == store_titles(events)
    assert not {"3", "17", "40"} & set(target)
    store.update_item(events, "6", {"Title": "after the resync"})  # the new link works
    later = [
        item["id"]
        for page in lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=pages[-1].delta_link)
        for item in page.items
    ]
    assert later == ["6"]


def test_r9_items_deleted_between_runs_come_back_as_deletions(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 5000)
    lists = connector(emu, graph_session(emu, clock, waits))
    target: dict[str, dict[str, object]] = {}
    link = apply(target, lists.iter_delta_pages(site.id, events.id, ["Title"], delta_link=None))
    deleted = {str(number) for number in range(7, 5000, 135)}
    assert len(deleted) == 37
    for item_id in sorted(deleted):
        emu.stack.store.delete_item(events, item_id)

    pages = list(lists.iter_delta_pages(site.id, events.id, ["Title"], delta_link=link))

    assert {
        item["id"] for page in pages for item in page.items if item.get("deleted") == {"state": "deleted"}
    } == deleted
    apply(target, iter(pages))
    assert len(target) == 4963 and not deleted & set(target)


def test_r12_items_repeated_in_the_feed_are_neither_lost_nor_duplicated(
    emu: RunningEmulator, clock: ManualTime, waits: Waits
) -> None:
    site, events = seed_events(emu, 10)
    lists = connector(emu, graph_session(emu, clock, waits), page_size=2)
    link = apply({}, lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=None))
    store = emu.stack.store
    for round_number in range(3):  # the clock stands still: all three carry the same Modified
        for item_id in ("2", "5", "9"):
            store.update_item(events, item_id, {"Count": 100 * round_number + int(item_id)})

    pages = list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link))

    raw = [record for record in graph_requests(emu) if record.path.endswith("/delta")][-len(pages) :]
    assert len(raw) == len(pages) >= 4  # nine entries in pages of two: the repeats span pages
    for page in pages:
        ids = [item["id"] for item in page.items]
        assert len(ids) == len(set(ids))  # inside a page, each item once
    target: dict[str, dict[str, object]] = {}
    apply(target, iter(pages))  # across pages the caller keeps the last
    assert sorted(target) == ["2", "5", "9"]
    assert {key: item["fields"]["Count"] for key, item in target.items()} == {"2": 202, "5": 205, "9": 209}


def test_s10_sites_selected_with_a_read_grant_reads_its_site_and_nothing_else(
    emu: RunningEmulator, app_certificate: AppCertificate, clock: ManualTime, waits: Waits
) -> None:
    granted, events = seed_events(emu, 3)
    other, _ = seed_events(emu, 3, site_path="/sites/HR")
    emu.stack.store.grants.grant(granted.id, CLIENT_ID, ["read"])
    emu.login.register_app(
        CLIENT_ID, certificate_pem=app_certificate.certificate_pem, roles={"graph": ["Sites.Selected"]}
    )
    sign_in = SignIn(
        sign_in_config(emu, certificate_path=app_certificate.path),
        sleep=waits,
        clock=clock.time,
    )
    session = service_session(sign_in, "graph", emu, clock, waits)
    lists = GraphLists(session, emu.url("graph", ""))

    assert (
        len([item for page in lists.iter_item_pages(granted.id, events.id, ["Title"]) for item in page.items])
        == 3
    )
    with pytest.raises(AuthError) as other_site:
        lists.list_by_name(other.id, "Events")
    assert other_site.value.status == 403 and "grant" in other_site.value.hint
    with pytest.raises(AuthError) as write:
        send(
            session,
            "POST",
            f"{emu.url('graph', '')}/v1.0/sites/{granted.id}/lists/{events.id}/items",
            json={"fields": {"Title": "x"}},
        )
    assert write.value.status == 403
    assert len(emu.stack.store.items(events)) == 3


def test_s1_no_secret_or_token_in_the_sync_paths_logs_or_errors(
    emu: RunningEmulator, tmp_path: Path, caplog: pytest.LogCaptureFixture, clock: ManualTime, waits: Waits
) -> None:
    caplog.set_level(logging.DEBUG)
    site, events = seed_events(emu, 30)
    emu.login.register_app(CLIENT_ID, secret=SECRET, roles={"graph": ["Sites.Read.All"]})
    sign_in = SignIn(
        sign_in_config_from_settings(secret_settings(emu, tmp_path)), sleep=waits, clock=clock.time
    )
    provider = sign_in.token_provider("graph")
    assert provider is not None
    token = provider()
    session = build_session(
        provider, user_agent=USER_AGENT, ca_bundle=emu.ca_file, sleep=waits, clock=clock.time
    )
    lists = GraphLists(session, emu.url("graph", ""), page_size=10)
    link = apply({}, lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=None))
    clock.advance(3700)  # Graph's clock passes the token's expiry; MSAL's cache (real time) still offers it

    with pytest.raises(AuthError) as refused:
        list(lists.iter_delta_pages(site.id, events.id, SELECT, delta_link=link))

    assert refused.value.status == 401
    said = everything_said(caplog, refused.value)
    assert SECRET not in said and token not in said and not JWT.search(said)
    assert "private note" not in caplog.text and "Event 1" not in caplog.text  # no item values logged
    assert "GET " in caplog.text  # DEBUG logging was on
