"""Reading a list through the SharePoint REST connector, against a raw paging loop on the same emulator.

    .venv/bin/python -m bench.bench_sharepoint_rest [--items 50000] [--repeat 3]

Both read the same list from the emulator's SharePoint REST over loopback (HTTP, auth mode none) with
`$top=5000`: the raw loop with requests + json and no processing (`iter_pages`), the connector with
office365-rest-python-client building the queries and following `__next`, and the conversion to
Graph-shaped items. A third row times the library's own `ListItem` objects (what `list.items.get_all()`
builds), to show why the connector keeps items as the JSON the library read.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from connectors.http import build_session, iter_pages
from connectors.sharepoint_rest import SharePointRestLists
from emulator.lists.store import ListColumn, Lookup, Person
from emulator.testing import EmulatorOptions, running_emulator

COLUMNS = [
    ListColumn("Status", "Status", "choice", choices=("Open", "Closed")),
    ListColumn("When", "When", "dateTime"),
    ListColumn("Area", "Area", "lookup", lookup_list="Areas"),
    ListColumn("Lead", "Lead", "person"),
    ListColumn("Issues", "Issues", "multichoice", choices=("ASB", "Drugs")),
    ListColumn("Count", "Count", "number"),
]
SELECT = ["Title", "Status", "When", "Area", "Lead", "Issues", "Count"]


def timed(run: Callable[[], int], repeat: int) -> tuple[list[float], int]:
    times, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        count = run()
        times.append(time.perf_counter() - start)
    return times, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with running_emulator(options=EmulatorOptions(require_auth=False)) as emu:
        store = emu.stack.store
        site = store.create_site("/sites/Bench", "Bench")
        areas = store.create_list(site, "Areas", [])
        store.add_item(areas, {"Title": "North"})
        events = store.create_list(site, "Events", COLUMNS)
        when = datetime(2026, 1, 1, 9, tzinfo=UTC)
        for number in range(args.items):
            store.add_item(events, {"Title": f"event {number}", "Status": "Open", "When": when,
                                    "Area": Lookup(1, "North"), "Lead": Person(7, "Sam", "sam@x"),
                                    "Issues": ["ASB"], "Count": number})  # fmt: skip
        site_url = emu.url("sharepoint", "/sites/Bench")
        session = build_session(None, user_agent="NONISV|Bench|cetk/bench")
        lists = SharePointRestLists(session, site_url)
        site_id = lists.site().id
        lists.list_by_name(site_id, "Events")  # the fields are read once, outside the timing
        raw_url = f"{site_url}/_api/Web/lists(guid'{events.id}')/items"
        params = {"$top": "5000", "$select": "Id,Title,Status,When,AreaId,LeadId,Issues,Count"}
        headers = {"Accept": "application/json;odata=verbose"}

        def raw() -> int:
            return sum(
                len(page.items)
                for page in iter_pages(session, raw_url, params, headers=headers, loads=json.loads)
            )

        def connector() -> int:
            return sum(len(page.items) for page in lists.iter_item_pages(site_id, events.id, SELECT))

        def library_objects() -> int:
            context = lists._context(site_url)  # a ClientContext on the same seam (bench only)
            items = context.web.lists.get_by_id(events.id).items.select(params["$select"].split(","))
            return len(items.get_all(page_size=5000).execute_query())

        print(f"{args.items:,} items, $top=5000, best and median of {args.repeat}")
        for name, run in (("raw paging loop", raw), ("SharePointRestLists", connector),
                          ("library ListItem objects", library_objects)):  # fmt: skip
            times, count = timed(run, args.repeat)
            assert count == args.items, (name, count)
            median = statistics.median(times)
            print(
                f"{name:26} best {min(times):6.2f} s  median {median:6.2f} s  {count / median:9,.0f} items/s"
            )


if __name__ == "__main__":
    main()
