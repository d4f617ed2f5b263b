"""A year of 15-minute syncs of the demo force, published three ways: what each costs in POSTs, stored rows and gaps.

    .venv/bin/python -m bench.simulate_publish_year [--years 1] [--seed 7]

The volumes are the demo force's (emulator.demo.force.generate_force, defaults): its rows per year over the
span its events cover, and its bridge rows per event and per CCR. The change model (stated below, printed
with the results) adds edits, deletions and officer changes. Each strategy is counted by its own rules:

- snapshot: every sync that changed a table posts all of that table's rows again under a new load id
  (and an event's bridges with it); storage grows by the table each time; no gap.
- replace: the same rows, after DeleteRows of each changed table; storage stays the table; a gap each time.
- versioned (the design chosen, powerbi_dataset/changes.py): a changed entity (a row and its bridge rows)
  is posted once as a new version; a deletion posts one tombstone; an officer's change posts the officer
  and every fact naming it again (the cascade); nothing else; no gap.

Results go to docs/publishing.md ("A year of syncs").
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

import numpy as np

from emulator.demo.force import generate_force

SYNCS_PER_YEAR = 365 * 24 * 4
ROWS_PER_POST = 10_000
EDITS_PER_EVENT = 2.0  # booked, then completed, then attendance corrected: two edits after creation
EDIT_SHARE_CCR = 0.10  # a CCR is rarely edited after it is recorded
EDITS_PER_ACTION = 3.0  # a "You said, we did" action moves through its statuses
DELETED_SHARE = 0.01  # of new items, deleted later
OFFICER_CHANGES_PER_YEAR = 0.20  # role, home LPT or active flag, per officer
NEW_OFFICERS_PER_YEAR = 40


@dataclass
class Volumes:
    events: float
    ccrs: float
    actions: float
    officers: int
    event_bridges: float  # bridge rows per event (officers + communities + issues)
    ccr_bridges: float  # issues per CCR
    start: dict[str, int]  # rows at go-live (the demo force as generated)


@dataclass
class Tally:
    posts: int = 0
    rows: int = 0
    syncs_posting: int = 0
    gaps: int = 0
    stored: dict[str, int] = field(default_factory=dict)

    def post(self, table: str, rows: int) -> None:
        self.posts += math.ceil(rows / ROWS_PER_POST)
        self.rows += rows


def demo_volumes() -> Volumes:
    force = generate_force(invalid_fraction=0.0)
    events = force.tables["events"]
    span_years = (events["start_utc"].max() - events["start_utc"].min()).days / 365.25
    bridges = sum(len(force.tables[name]) for name in ("event_officers", "event_communities", "event_issues"))
    return Volumes(
        events=len(events) / span_years,
        ccrs=len(force.tables["ccr"]) / span_years,
        actions=len(force.tables["you_said_we_did"]) / span_years,
        officers=len(force.tables["officers"]),
        event_bridges=bridges / len(events),
        ccr_bridges=len(force.tables["ccr_issues"]) / len(force.tables["ccr"]),
        start={name: len(frame) for name, frame in force.tables.items()},
    )


def simulate(volumes: Volumes, years: float, seed: int) -> dict[str, Tally]:
    rng = np.random.default_rng(seed)
    syncs = int(SYNCS_PER_YEAR * years)
    per_sync = {
        "event": volumes.events * (1 + EDITS_PER_EVENT + DELETED_SHARE) / SYNCS_PER_YEAR,
        "ccr": volumes.ccrs * (1 + EDIT_SHARE_CCR + DELETED_SHARE) / SYNCS_PER_YEAR,
        "action": volumes.actions * (1 + EDITS_PER_ACTION) / SYNCS_PER_YEAR,
        "officer": (volumes.officers * OFFICER_CHANGES_PER_YEAR + NEW_OFFICERS_PER_YEAR) / SYNCS_PER_YEAR,
    }
    size = {
        "events": float(volumes.start["events"]),
        "ccr": float(volumes.start["ccr"]),
        "you_said_we_did": float(volumes.start["you_said_we_did"]),
        "officers": float(volumes.officers),
    }
    tallies = {name: Tally(stored=dict(volumes.start)) for name in ("snapshot", "replace", "versioned")}
    for _ in range(syncs):
        counts = {kind: int(rng.poisson(rate)) for kind, rate in per_sync.items()}
        if not any(counts.values()):
            continue  # nothing changed: no strategy posts anything (R10)
        size["events"] += volumes.events / SYNCS_PER_YEAR
        size["ccr"] += volumes.ccrs / SYNCS_PER_YEAR
        size["you_said_we_did"] += volumes.actions / SYNCS_PER_YEAR
        size["officers"] += NEW_OFFICERS_PER_YEAR / SYNCS_PER_YEAR
        changed = {
            "events": counts["event"],
            "ccr": counts["ccr"],
            "you_said_we_did": counts["action"],
            "officers": counts["officer"],
        }
        # facts naming one officer, at this sync: events created, events attended, CCRs recorded
        per_officer = {
            "events": size["events"] * (1 + 1.84) / size["officers"],
            "ccr": size["ccr"] / size["officers"],
        }
        cascade = {table: counts["officer"] * share for table, share in per_officer.items()}
        for name, tally in tallies.items():
            tally.syncs_posting += 1
            for table, count in changed.items():
                if not count and not (name == "versioned" and table in cascade and counts["officer"]):
                    continue
                bridges = (
                    volumes.event_bridges
                    if table == "events"
                    else volumes.ccr_bridges
                    if table == "ccr"
                    else 0.0
                )
                if name == "versioned":
                    rows = count + cascade.get(table, 0.0)
                    posted = int(round(rows * (1 + bridges)))
                else:
                    posted = int(round(size[table] * (1 + bridges)))
                    # an officer's change changes no fact row in these strategies (facts keep the natural key)
                if posted:
                    tally.post(table, posted)
                    if name == "replace":
                        tally.gaps += 1
                        tally.stored[table] = posted
                    else:
                        tally.stored[table] = tally.stored.get(table, 0) + posted
            tally.post("_loads", 1) if name != "replace" else None
            tally.stored["_loads"] = tally.stored.get("_loads", 0) + (name != "replace")
    return tallies


def report(volumes: Volumes, tallies: dict[str, Tally], years: float) -> str:
    lines = [
        f"Demo force per year: {volumes.events:,.0f} events, {volumes.ccrs:,.0f} CCRs, {volumes.actions:,.0f} actions, "
        f"{volumes.officers} officers; {volumes.event_bridges:.2f} bridge rows per event, {volumes.ccr_bridges:.2f} per CCR",
        f"Change model: {EDITS_PER_EVENT:g} edits per event, {EDIT_SHARE_CCR:.0%} of CCRs edited, {EDITS_PER_ACTION:g} per "
        f"action, {DELETED_SHARE:.0%} deleted, {OFFICER_CHANGES_PER_YEAR:.0%} of officers change a year, "
        f"{NEW_OFFICERS_PER_YEAR} join; {int(SYNCS_PER_YEAR * years):,} syncs",
        "",
        "| strategy | syncs that post | row POSTs | rows posted | largest table after | years to 250,000 rows | "
        "years to 4,500,000 | visible gaps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, tally in tallies.items():
        table, largest = max(
            ((t, n) for t, n in tally.stored.items() if t != "_loads"), key=lambda item: item[1]
        )
        growth = max((largest - volumes.start.get(table, 0)) / years, 1e-9)
        to_large = max(0.0, (250_000 - largest) / growth) + years if largest < 250_000 else 0.0
        to_cap = (4_500_000 - largest) / growth + years if largest < 4_500_000 else 0.0
        unbounded = name != "replace"
        lines.append(
            f"| {name} | {tally.syncs_posting:,} | {tally.posts:,} | {tally.rows:,} | {_family(table)} {largest:,} | "
            f"{_years(to_large, unbounded)} | {_years(to_cap, unbounded)} | {tally.gaps:,} |"
        )
    return "\n".join(lines)


def _family(table: str) -> str:
    return f"{table} (with its bridges)" if table in ("events", "ccr") else table


def _years(value: float, grows: bool) -> str:
    if not grows:
        return "never (rows are deleted)"
    return "already" if value <= 0 else f"{value:,.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    volumes = demo_volumes()
    print(report(volumes, simulate(volumes, arguments.years, arguments.seed), arguments.years))


if __name__ == "__main__":
    main()
