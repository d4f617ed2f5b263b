"""The demo force's lists served by the emulator in-process and read back through the product's HTTP seam.

`read_demo_site(force)` seeds the PowerApp lists (emulator.demo.lists), serves them with the emulated
Graph on loopback and pages every list with `connectors.http.iter_pages`, exactly as a sync reads them:
`$expand=fields` at the largest page size. Tests normalise what comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.http import build_session, iter_pages
from emulator.demo.force import Force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import DemoTenant, seed_lists
from emulator.testing import EmulatorOptions, ManualClock, running_emulator
from transforms.normalise import NormaliseContext, NormalisedPage, normalise_page, people_staff_numbers

CLOCK_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PAGE_SIZE = "5000"


@dataclass(frozen=True)
class DemoSite:
    tenant: DemoTenant
    items: dict[str, list[dict[str, Any]]]  # list display name -> every item as Graph sent it
    list_ids: dict[str, str]  # list display name -> list GUID


def read_demo_site(force: Force) -> DemoSite:
    options = EmulatorOptions(require_auth=False)
    with running_emulator(clock=ManualClock(CLOCK_START), options=options) as emu:
        tenant = seed_lists(emu.stack.store, force)
        session = build_session(None, user_agent="NONISV|cetk|tests/0")
        items: dict[str, list[dict[str, Any]]] = {}
        for name, sp_list in tenant.lists.items():
            url = emu.url("graph", f"/v1.0/sites/{tenant.site.id}/lists/{sp_list.id}/items")
            params = {"$expand": "fields", "$top": PAGE_SIZE}
            items[name] = [item for page in iter_pages(session, url, params) for item in page.items]
        list_ids = {name: sp_list.id for name, sp_list in tenant.lists.items()}
    return DemoSite(tenant, items, list_ids)


def normalise_site(site: DemoSite, key: bytes) -> dict[str, NormalisedPage]:
    """Every demo list normalised in dependency order (a lookup list before the lists pointing into it)."""
    people = DEMO_SITE_MAPPING.people
    assert people is not None
    staff = people_staff_numbers(site.items[people.list], people)
    pages: dict[str, NormalisedPage] = {}
    for one in DEMO_SITE_MAPPING.lists:  # the demo mapping lists lookup targets first
        lookups = {name: dict(page.item_keys) for name, page in pages.items()}
        context = NormaliseContext(site.list_ids[one.display_name], key, lookups, staff)
        pages[one.display_name] = normalise_page(site.items[one.display_name], one, context)
    return pages
