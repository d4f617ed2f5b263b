"""Seeding the neighbourhood PowerApp's SharePoint lists from a demo force, as the app would store it.

The lists' shapes are emulator/demo/site.py; which list column holds which canonical value is the demo
force's list mapping (emulator/demo/list_mapping.py, the product's format), read here the other way
round: canonical rows in, list items out. Choices store display labels; a value that is not a known
code (a deliberate error) is stored as typed, as a fill-in choice would be.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from emulator.demo.force import Force, records
from emulator.demo.injected import InjectedError
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.site import LIST_SHAPES, SITE_PATH, SITE_TITLE
from emulator.demo.text import PLACES, VENUES
from emulator.lists.store import (
    Hyperlink,
    ListStore,
    Location,
    Lookup,
    Person,
    Site,
    SpList,
    Term,
)
from powerbi_dataset import codes as c
from powerbi_dataset.model import DATASET
from transforms.list_mapping import ColumnMapping, ListMapping
from transforms.mapping_targets import officer_key_columns

__all__ = ["SITE_PATH", "DemoTenant", "seed_lists"]

LPT_NAMES = {code: name for code, name, _base, _la in c.LPTS}
LPT_BASES = {code: base for code, _name, base, _la in c.LPTS}
# Injected errors the list shape cannot carry: repeated keys (item ids are unique), bridge rows whose
# parent does not exist, a malformed officer key (the app stores people, not keys) and times of day on
# date-only columns.
UNREPRESENTABLE_CODES = frozenset({"duplicate-key", "not-a-date"})
# Keyed pseudonyms cannot be turned back into what the app stores (a staff number, a person).
PSEUDONYMOUS = officer_key_columns(DATASET)


@dataclass
class DemoTenant:
    """What seed_lists created: the site, each list by display name, and the people it used."""

    site: Site
    lists: dict[str, SpList]
    people: dict[str, Person]  # officer_key -> the Person the app stores
    item_ids: dict[str, dict[str, int]] = field(default_factory=dict)  # table -> canonical key -> item id
    unrepresentable: list[InjectedError] = field(default_factory=list)


def spec(display_name: str) -> ListMapping:
    return DEMO_SITE_MAPPING.list_mapping(display_name)


def seed_lists(store: ListStore, force: Force) -> DemoTenant:
    """Create /sites/Neighbourhood and its lists, and load every row of the force as the app stores it."""
    site = store.create_site(SITE_PATH, SITE_TITLE)
    tables = {name: records(frame) for name, frame in force.tables.items()}
    legacy = _legacy_choices(tables)
    lists = {one.display_name: store.create_list(site, one.display_name, one.with_fill_ins(legacy.get(one.display_name)))
             for one in LIST_SHAPES}  # fmt: skip
    people = {
        officer.officer_key: Person(index + 7, officer.display_name, officer.email)
        for index, officer in enumerate(force.officer_details)
    }
    tenant = DemoTenant(site, lists, people)
    tenant.unrepresentable = [e for e in force.injected if _unrepresentable(e, tables)]
    rng = random.Random(f"cetk-demo:{force.seed}:lists")

    lpt_ids = _load(store, tenant, "LPTs", "areas", tables["areas"], lambda row: _lpt_fields(row))
    officer_rows = [dict(row, **_identity(force, str(row["officer_key"]))) for row in tables["officers"]]
    _load(
        store, tenant, "Officers", "officers", officer_rows, lambda row: _officer_fields(row, tenant, lpt_ids)
    )
    bridges = bridge_values(tables)
    event_ids = _load(
        store, tenant, "Engagement Events", "events", tables["events"],
        lambda row: _event_fields(row, tenant, lpt_ids, bridges, force.event_notes, rng),
        author=lambda row: _person(tenant, row["created_by_officer_key"]),
    )  # fmt: skip
    titles = {str(row["event_id"]): str(row["event_name"] or "") for row in tables["events"]}
    _load(
        store, tenant, "Community Contact Records", "ccr", tables["ccr"],
        lambda row: _ccr_fields(row, tenant, lpt_ids, event_ids, titles, bridges),
        author=lambda row: _person(tenant, row["officer_key"]),
    )  # fmt: skip
    _load(
        store, tenant, "You Said We Did", "you_said_we_did", tables["you_said_we_did"],
        lambda row: _action_fields(row, lpt_ids, event_ids, titles),
    )  # fmt: skip
    return tenant


def _identity(force: Force, key: str) -> dict[str, object]:
    for officer in force.officer_details:
        if officer.officer_key == key:
            return {"display_name": officer.display_name, "staff_number": officer.staff_number}
    return {"display_name": "Unknown officer", "staff_number": None}


def _unrepresentable(error: InjectedError, tables: Mapping[str, list[dict[str, object]]]) -> bool:
    if error.code in UNREPRESENTABLE_CODES:
        return True
    if error.table == "officers" and error.code == "bad-format":
        return True
    parent = error.key.split("|")[0]
    if error.table.startswith("event_"):
        return parent not in {str(row["event_id"]) for row in tables["events"]}
    return error.table == "ccr_issues" and parent not in {str(row["ccr_id"]) for row in tables["ccr"]}


def _legacy_choices(tables: Mapping[str, list[dict[str, object]]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per list and column, stored values that are no code of the model (kept as fill-in choices)."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for one in DEMO_SITE_MAPPING.lists:
        for mapped in one.columns:
            if not mapped.choices:
                continue
            known = {code for _label, code in mapped.choices}
            target = mapped.to[0]
            values = {str(row[target]) for row in tables[mapped.bridge or one.table] if row.get(target)}
            extra = tuple(sorted(values - known))
            if extra:
                found.setdefault(one.display_name, {})[mapped.name] = extra
    return found


def _load(
    store: ListStore, tenant: DemoTenant, display_name: str, table: str, rows: list[dict[str, object]],
    fields: object, author: object = None,
) -> dict[str, int]:  # fmt: skip
    sp_list = tenant.lists[display_name]
    ids: dict[str, int] = {}
    key_column = spec(display_name).key
    for row in rows:
        key = str(row[key_column])
        if key in ids:  # a repeated key cannot become a second item with the same id
            continue
        created = row.get("created_utc") or row.get("recorded_utc")
        item = store.add_item(
            sp_list,
            fields(row),  # type: ignore[operator]
            author=author(row) if author else None,  # type: ignore[operator]
            created=created if isinstance(created, datetime) else None,
        )
        ids[key] = item.int_id
    tenant.item_ids[table] = ids
    return ids


def _person(tenant: DemoTenant, key: object) -> Person | None:
    if key is None:
        return None
    found = tenant.people.get(str(key))
    if found is None:  # a leaver or a mistyped key: the app still shows someone
        return Person(9000 + len(tenant.people), f"Former officer {key}", "")
    return found


def _label(mapped: ColumnMapping, value: object) -> object:
    labels = {code: label for label, code in mapped.choices}
    return labels.get(str(value), value) if value is not None else None


def _day(value: object) -> date | None:
    return value.date() if isinstance(value, datetime) else None


def bridge_values(tables: Mapping[str, list[dict[str, object]]]) -> dict[str, dict[str, list[object]]]:
    grouped: dict[str, dict[str, list[object]]] = {}
    for table, column in (
        ("event_officers", "officer_key"),
        ("event_communities", "community_code"),
        ("event_issues", "theme_code"),
        ("ccr_issues", "theme_code"),
    ):
        rows = sorted(tables[table], key=lambda row: int(str(row.get("rank") or 0)))
        by_parent: dict[str, list[object]] = {}
        parent = "ccr_id" if table == "ccr_issues" else "event_id"
        for row in rows:
            by_parent.setdefault(str(row[parent]), []).append(row[column])
        grouped[table] = by_parent
    return grouped


def scalar_fields(one: ListMapping, row: Mapping[str, object]) -> dict[str, object]:
    """Fields of the columns that carry one canonical value of the row as-is (or as a label)."""
    fields: dict[str, object] = {}
    for mapped in one.columns:
        if mapped.is_ignored or mapped.bridge is not None or mapped.to[0] not in row:
            continue
        if (one.table, mapped.to[0]) in PSEUDONYMOUS:
            continue
        value = row[mapped.to[0]]
        kind = mapped.type
        if kind in ("text", "note", "number", "boolean", "dateTime"):
            fields[mapped.name] = value
        elif kind == "choice":
            fields[mapped.name] = _label(mapped, value)
        elif kind == "dateOnly":
            fields[mapped.name] = _day(value)
    return fields


def multi_labels(one: ListMapping, name: str, values: list[object]) -> list[str]:
    mapped = one.column(name)
    return [str(_label(mapped, value)) for value in values]


def _lpt(lpt_ids: Mapping[str, int], code: object) -> Lookup | None:
    if code is None:
        return None
    found = lpt_ids.get(str(code))
    return Lookup(found, LPT_NAMES[str(code)]) if found else Lookup(999, str(code))


def ward_term(code: object) -> Term | None:
    if code is None:
        return None
    return Term(str(code), str(uuid.uuid5(uuid.NAMESPACE_URL, f"ward:{code}")), int(str(code)[-4:]) + 1)


def _lpt_fields(row: Mapping[str, object]) -> dict[str, object]:
    return scalar_fields(spec("LPTs"), row)


def _officer_fields(
    row: Mapping[str, object], tenant: DemoTenant, lpt_ids: Mapping[str, int]
) -> dict[str, object]:
    fields = scalar_fields(spec("Officers"), row)
    fields.update(Title=row["display_name"], StaffNumber=row["staff_number"])
    fields.update(
        HomeLPT=_lpt(lpt_ids, row["home_lpt_code"]), OfficerAccount=_person(tenant, row["officer_key"])
    )
    return fields


def _event_fields(
    row: Mapping[str, object], tenant: DemoTenant, lpt_ids: Mapping[str, int],
    bridges: Mapping[str, Mapping[str, list[object]]], notes: Mapping[str, str], rng: random.Random,
) -> dict[str, object]:  # fmt: skip
    one = spec("Engagement Events")
    event_id, lpt_code = str(row["event_id"]), str(row["lpt_code"])
    fields = scalar_fields(one, row)
    officers = [_person(tenant, key) for key in bridges["event_officers"].get(event_id, [])]
    fields.update(
        LPT=_lpt(lpt_ids, row["lpt_code"]),
        Ward=ward_term(row["ward_code"]),
        Officers=[person for person in officers if person is not None],
        Communities=multi_labels(one, "Communities", bridges["event_communities"].get(event_id, [])),
        Top_x0020_Issues=multi_labels(one, "Top_x0020_Issues", bridges["event_issues"].get(event_id, [])),
        Issues_x0020_raised=notes.get(event_id),
    )
    if row["location_lat"] is not None and lpt_code in PLACES:
        place = rng.choice(PLACES[lpt_code])
        venue = rng.choice(VENUES).format(place=place)
        lat, lon = row["location_lat"], row["location_lon"]
        fields["Venue"] = Location(venue, city=place, state="Staffordshire", country_or_region="United Kingdom",
                                   latitude=float(str(lat)), longitude=float(str(lon)))  # fmt: skip
        fields["Wards_x0020_covered"] = [term for term in (ward_term(row["ward_code"]),) if term is not None]
    if row["event_type"] in ("COMMUNITY_EVENT", "FAITH_VISIT") and rng.random() < 0.5:
        fields["VenueHireCost"] = float(rng.choice((0, 25, 40, 60, 85.5)))
    if row["event_type"] == "COMMUNITY_EVENT":
        fields["EventPoster"] = Hyperlink(f"https://contoso.sharepoint.com{SITE_PATH}/Posters/{event_id[-6:]}.pdf",
                                          "Event poster")  # fmt: skip
    return fields


def _ccr_fields(
    row: Mapping[str, object], tenant: DemoTenant, lpt_ids: Mapping[str, int], event_ids: Mapping[str, int],
    titles: Mapping[str, str], bridges: Mapping[str, Mapping[str, list[object]]],
) -> dict[str, object]:  # fmt: skip
    one = spec("Community Contact Records")
    fields = scalar_fields(one, row)
    event_id = row["event_id"]
    fields.update(
        Title=f"CCR {row['source_item_id']}",
        LPT=_lpt(lpt_ids, row["lpt_code"]),
        Ward=ward_term(row["ward_code"]),
        Officer=_person(tenant, row["officer_key"]),
        Event=Lookup(event_ids[str(event_id)], titles[str(event_id)][:255]) if event_id else None,
        IssuesRaised=multi_labels(one, "IssuesRaised", bridges["ccr_issues"].get(str(row["ccr_id"]), [])),
    )
    return fields


def _action_fields(
    row: Mapping[str, object],
    lpt_ids: Mapping[str, int],
    event_ids: Mapping[str, int],
    titles: Mapping[str, str],
) -> dict[str, object]:
    fields = scalar_fields(spec("You Said We Did"), row)
    event_id = row["event_id"]
    theme = str(row["theme_code"])
    fields.update(
        Title=f"{dict((c.code, c.label) for c in c.THEMES).get(theme, theme)} - {LPT_NAMES.get(str(row['lpt_code']), '')}",
        LPT=_lpt(lpt_ids, row["lpt_code"]),
        Event=Lookup(event_ids[str(event_id)], titles[str(event_id)][:255]) if event_id else None,
        RelatedEvents=[Lookup(event_ids[str(event_id)], titles[str(event_id)][:255])] if event_id else None,
    )
    return fields
