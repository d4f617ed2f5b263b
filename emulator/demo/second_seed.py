"""Seeding the second force's site (emulator/demo/second_site.py) from a clean demo force.

Canonical rows go in through SECOND_SITE_MAPPING, read the other way round, as the first site's seeder does
with its own mapping; the lookup-type columns the model does not use get deterministic values, so every one
of the engagements list's 13 lookup-type columns holds something on most items.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime

from emulator.demo.force import Force, records
from emulator.demo.lists import DemoTenant, bridge_values, multi_labels, scalar_fields, ward_term
from emulator.demo.second_site import (
    ENGAGEMENTS,
    PARTNERS,
    SECOND_SITE_MAPPING,
    SECOND_SITE_PATH,
    SECOND_SITE_SHAPES,
    SECOND_SITE_TITLE,
    STAFF,
    TEAMS,
)
from emulator.lists.store import ListStore, Lookup, Person, Term
from powerbi_dataset import codes as c

PARTNER_AGENCIES = ("Borough council", "Fire and rescue", "Housing association", "Youth service", "NHS trust")
FIRST_PERSON_ID = 501  # this site's user ids: another site collection numbers its users afresh


def seed_second_site(store: ListStore, force: Force) -> DemoTenant:
    """Create /sites/CommunitySafety with its lists and load the force's areas, officers and events."""
    if force.injected:
        raise ValueError("the second site takes a clean force: generate_force(..., invalid_fraction=0)")
    site = store.create_site(SECOND_SITE_PATH, SECOND_SITE_TITLE)
    lists = {
        one.display_name: store.create_list(site, one.display_name, one.columns) for one in SECOND_SITE_SHAPES
    }
    people = {
        officer.officer_key: Person(FIRST_PERSON_ID + index, officer.display_name, officer.email)
        for index, officer in enumerate(force.officer_details)
    }
    tenant = DemoTenant(site, lists, people)
    tables = {name: records(frame) for name, frame in force.tables.items()}
    rng = random.Random(f"cetk-demo:{force.seed}:second-site")
    for agency in PARTNER_AGENCIES:
        store.add_item(lists[PARTNERS], {"Title": agency})

    teams: dict[str, int] = {}
    for row in tables["areas"]:
        fields = scalar_fields(SECOND_SITE_MAPPING.list_mapping(TEAMS), row)
        teams[str(row["lpt_code"])] = store.add_item(lists[TEAMS], fields).int_id
    tenant.item_ids["areas"] = teams
    staff = SECOND_SITE_MAPPING.list_mapping(STAFF)
    for officer in force.officer_details:
        row = {"role": officer.role, "active": officer.active}
        fields = scalar_fields(staff, row)
        fields.update(Title=officer.display_name, Collar_x0020_Number=officer.staff_number,
                      StaffMember=people[officer.officer_key], Team=_team(teams, officer.home_lpt_code))  # fmt: skip
        store.add_item(lists[STAFF], fields)
    _load_engagements(store, tenant, tables, teams, rng)
    return tenant


def _team(teams: dict[str, int], code: object) -> Lookup | None:
    if code is None:
        return None
    names = {lpt: name for lpt, name, _base, _la in c.LPTS}
    return Lookup(teams[str(code)], names[str(code)])


def _term(rng: random.Random, kind: str, count: int) -> Term:
    number = rng.randrange(count)
    return Term(f"{kind} {number + 1}", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}:{number}")), 100 + number)


def _load_engagements(
    store: ListStore, tenant: DemoTenant, tables: dict[str, list[dict[str, object]]], teams: dict[str, int],
    rng: random.Random,
) -> None:  # fmt: skip
    mapping = SECOND_SITE_MAPPING.list_mapping(ENGAGEMENTS)
    bridges = bridge_values(tables)
    engagements = tenant.lists[ENGAGEMENTS]
    everyone = list(tenant.people.values())
    ids: dict[str, int] = {}
    titles = {str(row["event_id"]): str(row["event_name"] or "")[:255] for row in tables["events"]}
    for row in tables["events"]:
        event_id = str(row["event_id"])
        officers = [tenant.people[str(key)] for key in bridges["event_officers"].get(event_id, [])]
        fields = scalar_fields(mapping, row)
        partner = rng.randrange(len(PARTNER_AGENCIES))
        fields.update(
            Team=_team(teams, row["lpt_code"]),
            WardTerm=ward_term(row["ward_code"]),
            Attending_x0020_Officers=officers,
            Concerns_x0020_raised=multi_labels(
                mapping, "Concerns_x0020_raised", bridges["event_issues"].get(event_id, [])
            ),
            LeadOfficer=officers[0] if officers else None,
            Supervisor=rng.choice(everyone),
            FollowUpBy=rng.choice(everyone) if rng.random() < 0.7 else None,
            CoHosts=rng.sample(everyone, 2),
            PartnerAgency=Lookup(partner + 1, PARTNER_AGENCIES[partner]),
            SecondaryTeam=_team(teams, rng.choice(list(teams))),
            RelatedEngagements=[Lookup(ids[key], titles[key]) for key in list(ids)[-2:]],
            Beat=_term(rng, "Beat", 40),
            Neighbourhood=_term(rng, "Neighbourhood", 12),
            Topics=[_term(rng, "Topic", 9) for _ in range(rng.randrange(1, 3))],
        )
        created = row.get("created_utc")
        author = tenant.people.get(str(row["created_by_officer_key"]))
        item = store.add_item(engagements, fields, author=author,
                              created=created if isinstance(created, datetime) else None)  # fmt: skip
        ids[event_id] = item.int_id
    tenant.item_ids["events"] = ids
