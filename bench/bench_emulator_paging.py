"""Page a 1,000,000-item events list through the emulated Graph over a loopback socket; report items/s.
Then time small requests (one item each) on one keep-alive connection: the per-request latency a sync
pays for every small call (Nagle's algorithm with delayed ACKs once added ~40 ms to each).

Run by hand: `.venv/bin/python -m bench.bench_emulator_paging [--items N] [--requests N]`. Results go
in docs/performance.md (## Emulator). Target: >= 20,000 items/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection

import requests

from emulator.core.app import Emulator
from emulator.core.clock import SystemClock
from emulator.core.server import start_server
from emulator.core.tokens import GRAPH_AUDIENCE, TokenAuthority
from emulator.graph.service import GraphService
from emulator.lists.store import ListColumn, ListStore, Lookup, Person, SpList

EVENT_COLUMNS = [
    ListColumn("EventStart", "Event start", "dateTime", indexed=True),
    ListColumn("EventEnd", "Event end", "dateTime"),
    ListColumn("EventDate", "Event date", "dateOnly"),
    ListColumn(
        "EventType", "Event type", "choice", choices=("Street meeting", "Surgery", "School visit", "Patrol")
    ),
    ListColumn("Status", "Status", "choice", choices=("Planned", "Held", "Cancelled")),
    ListColumn("Ward", "Ward", "lookup", lookup_list="Wards"),
    ListColumn("Lead", "Lead officer", "person"),
    ListColumn("Attendees", "Attendees", "number"),
    ListColumn("Cost", "Cost", "currency"),
    ListColumn("Online", "Online", "boolean"),
    ListColumn("Topics", "Topics", "multichoice", choices=("ASB", "Drugs", "Speeding", "Burglary")),
    ListColumn("Venue", "Venue", "text"),
    ListColumn("Postcode", "Postcode", "text"),
    ListColumn("Notes", "Notes", "note"),
]  # with Title: 15 columns
OFFICERS = [Person(10 + n, f"Officer {n}", f"officer{n}@contoso.com") for n in range(40)]
WARDS = [f"Ward {n}" for n in range(1, 31)]


def load(store: ListStore, count: int) -> SpList:
    site = store.create_site("/sites/Neighbourhood", "Neighbourhood")
    wards = store.create_list(site, "Wards", [])
    for name in WARDS:
        store.add_item(wards, {"Title": name})
    events = store.create_list(site, "Events", EVENT_COLUMNS)
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    types = EVENT_COLUMNS[3].choices
    topics = EVENT_COLUMNS[10].choices
    for number in range(count):
        begins = start + timedelta(minutes=37 * number)
        store.add_item(events, {
            "Title": f"Engagement event {number}", "EventStart": begins, "EventEnd": begins + timedelta(hours=1),
            "EventDate": date(2024, 1, 1) + timedelta(days=number % 700), "EventType": types[number % 4],
            "Status": "Held", "Ward": Lookup(1 + number % 30, WARDS[number % 30]), "Lead": OFFICERS[number % 40],
            "Attendees": number % 57, "Cost": round((number % 90) * 1.25, 2), "Online": number % 5 == 0,
            "Topics": [topics[number % 4], topics[(number + 1) % 4]], "Venue": f"Community centre {number % 120}",
            "Postcode": f"LS{number % 28} {number % 9}AB", "Notes": "Residents raised parking and litter.",
        }, author=OFFICERS[number % 40])  # fmt: skip
    return events


def page_all(session: requests.Session, url: str) -> tuple[int, int, float]:
    """Follow @odata.nextLink to the end; items, pages and seconds."""
    items = pages = 0
    began = time.perf_counter()
    next_url: str | None = url
    while next_url:
        response = session.get(next_url, timeout=120)
        response.raise_for_status()
        body = response.json()
        items += len(body["value"])
        pages += 1
        next_url = body.get("@odata.nextLink")
    return items, pages, time.perf_counter() - began


def _client(url: str, token: str, results: Connection) -> None:
    with requests.Session() as session:  # keep-alive, as a real client would
        session.headers["Authorization"] = f"Bearer {token}"
        results.send(page_all(session, url))


def page_in_child(url: str, token: str) -> tuple[int, int, float]:
    """Page from a forked client process, so the client's JSON parsing does not share the server's GIL."""
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=_client, args=(url, token, send))
    child.start()
    result: tuple[int, int, float] = receive.recv()
    child.join()
    return result


def _small_requests(url: str, token: str, count: int, results: Connection) -> None:
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        seconds = []
        for number in range(count):
            began = time.perf_counter()
            session.get(url.format(id=1 + number % 100), timeout=30).raise_for_status()
            seconds.append(time.perf_counter() - began)
        results.send(seconds)


def small_requests_in_child(url: str, token: str, count: int) -> list[float]:
    """`count` single-item GETs on one keep-alive connection from a forked client; seconds each."""
    receive, send = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_small_requests, args=(url, token, count, send)
    )
    child.start()
    result: list[float] = receive.recv()
    child.join()
    return result


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=1_000, help="single-item GETs timed one by one")
    args = parser.parse_args()
    clock = SystemClock()
    store = ListStore(clock)
    tokens = TokenAuthority(clock)
    emulator = Emulator(clock=clock)
    service = GraphService(store, tokens, dispatcher=emulator)
    emulator.mount(service)
    began = time.perf_counter()
    events = load(store, args.items)
    load_seconds = time.perf_counter() - began
    print(f"machine: {os.cpu_count()} CPUs, {cpu_model()}, Python {platform.python_version()}")
    print(f"loaded {args.items:,} items in {load_seconds:.1f} s ({args.items / load_seconds:,.0f} items/s)")
    token = tokens.issue(
        audience=GRAPH_AUDIENCE,
        client_id="bench",
        tenant="bench",
        lifetime_seconds=86_400,
        roles=("Sites.Read.All",),
    )
    with start_server(emulator) as server:
        base = f"{server.base_url}/graph/v1.0/sites/{events.site.id}/lists/{events.id}/items?$expand=fields"
        runs = [("$top=5000, cold", "&$top=5000", True), ("$top=5000, warm", "&$top=5000", False),
                ("default 200, cold", "", True), ("default 200, warm", "", False)]  # fmt: skip
        for label, query, cold in runs:
            if cold:
                service.page_cache.clear()
            items, pages, seconds = page_in_child(base + query, token)
            assert items == args.items, (items, args.items)
            print(
                f"{label:>18}: {items:,} items, {pages:,} pages, {seconds:.1f} s, {items / seconds:,.0f} items/s"
            )
        single = f"{server.base_url}/graph/v1.0/sites/{events.site.id}/lists/{events.id}/items/{{id}}?$expand=fields"
        latencies = sorted(small_requests_in_child(single, token, args.requests))
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        print(
            f"{'single item GETs':>18}: {len(latencies):,} on one keep-alive connection, median "
            f"{statistics.median(latencies) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, {sum(latencies):.1f} s in all"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:,.0f} MB (server process: store and fragment cache)")


if __name__ == "__main__":
    main()
