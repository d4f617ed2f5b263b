"""Shared set-up for the Graph list connector's tests: a seeded site on the HTTPS emulator and a session."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from connectors.graph_lists import GraphLists
from connectors.http import RetryPolicy, ServiceSession, build_session
from connectors.list_items import ItemPage
from emulator.core.tokens import GRAPH_AUDIENCE
from emulator.lists.store import ListColumn, Site, SpList
from emulator.testing import DEFAULT_TENANT, RunningEmulator
from tests.connectors.conftest import CLIENT_ID, USER_AGENT, ManualTime, Waits

HOST = "contoso.sharepoint.com"
SITE_PATH = "/sites/Test"
SELECT = ("Title", "Status", "Tags", "Count")
EVENT_COLUMNS = (
    ListColumn("Status", "Status", "choice", choices=("Open", "Closed", "Cancelled")),
    ListColumn("Tags", "Tags", "multichoice", choices=("ASB", "Drugs", "Parking")),
    ListColumn("Count", "Count", "number"),
    ListColumn("Secret", "Notes", "note"),  # never selected: it must not come back
)


def graph_session(
    emu: RunningEmulator, clock: ManualTime, waits: Waits, *, roles: Iterable[str] = ("Sites.Read.All",),
    **policy: Any,
) -> ServiceSession:  # fmt: skip
    """A session whose token is an app token with these Graph roles (no MSAL: the seam's tests cover it)."""
    token = emu.stack.tokens.issue(
        audience=GRAPH_AUDIENCE, client_id=CLIENT_ID, tenant=DEFAULT_TENANT, roles=tuple(roles),
        lifetime_seconds=7 * 24 * 3600,
    )  # fmt: skip
    return build_session(
        lambda: token, user_agent=USER_AGENT, ca_bundle=emu.ca_file, retries=RetryPolicy(**policy),
        sleep=waits, clock=clock.time, jitter=lambda: 0.0,
    )  # fmt: skip


def connector(emu: RunningEmulator, session: ServiceSession, **options: Any) -> GraphLists:
    return GraphLists(session, emu.url("graph", ""), **options)


def seed_events(emu: RunningEmulator, count: int, *, site_path: str = SITE_PATH) -> tuple[Site, SpList]:
    """A list 'Events' of `count` items with a choice, a multi-choice, a number and a note column."""
    store = emu.stack.store
    site = store.create_site(site_path, "Test")
    events = store.create_list(site, "Events", EVENT_COLUMNS)
    for number in range(1, count + 1):
        store.add_item(events, {"Title": f"Event {number}", "Status": "Open", "Tags": ["ASB", "Drugs"][: number % 3],
                                "Count": number, "Secret": f"private note {number}"})  # fmt: skip
    return site, events


def graph_requests(emu: RunningEmulator) -> list[Any]:
    return [record for record in emu.emulator.request_log if record.service == "graph"]


def apply(state: dict[str, dict[str, Any]], pages: Iterator[ItemPage]) -> str | None:
    """Apply pages as a sync would (last wins, deletions remove, a full enumeration replaces); the delta link."""
    link, seen, full = None, set(), False
    for page in pages:
        full = full or page.full_enumeration
        for item in page.items:
            if "deleted" in item:
                state.pop(item["id"], None)
            else:
                state[item["id"]] = item
                seen.add(item["id"])
        link = page.delta_link or link
    if full:
        for gone in set(state) - seen:
            del state[gone]
    return link


def store_titles(events: SpList) -> dict[str, str]:
    return {item.id: str(item.values[0]) for item in events.slots if item is not None}
