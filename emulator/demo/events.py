"""Engagement events of the demo force, their bridges (officers, communities, issues) and YSWD actions.

Events spread over about 2.5 years before `as_of`: more in summer, few at Christmas, evening meetings,
weekend fun days; a few PLANNED events fall in the weeks after `as_of`. Rows are plain dicts in the
canonical column names; demo_force.py types them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from emulator.demo import text
from emulator.demo.reference import (
    LPT_CENTRES,
    LPT_CODES,
    OfficerIdentity,
    location,
    pick_themes,
    weighted,
)
from emulator.demo.reference import ward_codes as lpt_wards

LONDON = ZoneInfo("Europe/London")
HISTORY_DAYS = 913  # about 2.5 years
PLANNED_FRACTION = 0.015
Row = dict[str, object]

# type: (weight, (start hour min, max), duration hours (min, max), attendance lognormal (mu, sigma))
EVENT_TYPES: dict[str, tuple[float, tuple[int, int], tuple[float, float], tuple[float, float]]] = {
    "COMMUNITY_MEETING": (18, (18, 19), (1.0, 2.0), (2.8, 0.6)),
    "BEAT_SURGERY": (20, (10, 15), (1.0, 2.0), (1.8, 0.7)),
    "SCHOOL_YOUTH": (10, (9, 14), (1.0, 2.5), (4.0, 0.7)),
    "COMMUNITY_EVENT": (8, (10, 13), (3.0, 6.0), (5.0, 1.1)),
    "FAITH_VISIT": (5, (11, 18), (1.0, 2.0), (3.3, 0.8)),
    "BUSINESS_ENGAGEMENT": (8, (9, 15), (0.5, 1.5), (2.0, 0.7)),
    "RURAL_ENGAGEMENT": (5, (10, 19), (1.0, 3.0), (2.6, 0.7)),
    "NHW_MEETING": (7, (18, 19), (1.0, 2.0), (2.6, 0.5)),
    "CRIME_PREVENTION": (8, (10, 14), (2.0, 4.0), (3.3, 0.8)),
    "PARTNERSHIP_MEETING": (6, (9, 14), (1.0, 2.5), (2.2, 0.4)),
    "ONLINE_ENGAGEMENT": (3, (12, 19), (0.5, 1.5), (3.6, 0.9)),
    "OTHER": (2, (9, 18), (1.0, 3.0), (2.5, 0.8)),
}
WEEKEND_TYPES = frozenset({"COMMUNITY_EVENT", "CRIME_PREVENTION", "RURAL_ENGAGEMENT", "FAITH_VISIT", "OTHER"})
COMMUNITIES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "SCHOOL_YOUTH": ("YOUNG_PEOPLE", "STUDENTS"),
    "FAITH_VISIT": ("FAITH", "ETHNIC_MINORITY"),
    "BUSINESS_ENGAGEMENT": ("BUSINESS",),
    "RURAL_ENGAGEMENT": ("RURAL",),
    "NHW_MEETING": ("RESIDENTS_GENERAL", "OLDER_PEOPLE"),
}
OTHER_COMMUNITIES = (
    "RESIDENTS_GENERAL",
    "OLDER_PEOPLE",
    "YOUNG_PEOPLE",
    "DISABLED_PEOPLE",
    "VICTIMS",
    "LGBT_PLUS",
    "ETHNIC_MINORITY",
    "OTHER",
)


@dataclass
class EventSet:
    events: list[Row] = field(default_factory=list)
    event_officers: list[Row] = field(default_factory=list)
    event_communities: list[Row] = field(default_factory=list)
    event_issues: list[Row] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # event_id -> "Issues raised" free text
    officers_by_event: dict[str, list[str]] = field(default_factory=dict)
    themes_by_event: dict[str, list[str]] = field(default_factory=dict)


def local_midnight_utc(moment: datetime) -> datetime:
    """UTC midnight of the Europe/London calendar date of `moment` (the model's date_only shape)."""
    local = moment.astimezone(LONDON).date()
    return datetime(local.year, local.month, local.day, tzinfo=ZoneInfo("UTC"))


def day_weight(day: datetime) -> float:
    season = 1 + 0.35 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 196) / 365.25)
    christmas = 0.25 if (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 2) else 1.0
    weekday = (1.0, 1.1, 1.1, 1.1, 0.9, 0.8, 0.35)[day.weekday()]
    return season * christmas * weekday


def event_days(rng: random.Random, count: int, as_of: datetime) -> list[datetime]:
    today = as_of.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    past = [today - timedelta(days=offset) for offset in range(2, HISTORY_DAYS)]
    future = [today + timedelta(days=offset) for offset in range(3, 43)]
    planned = max(1, round(count * PLANNED_FRACTION))
    days = rng.choices(past, weights=[day_weight(day) for day in past], k=count - planned)
    days += rng.choices(future, k=planned)
    return sorted(days)


def pick_type(rng: random.Random, day: datetime) -> str:
    weekend = day.weekday() >= 5
    weights = {
        name: spec[0] * (3.0 if weekend and name in WEEKEND_TYPES else 0.3 if weekend else 1.0)
        for name, spec in EVENT_TYPES.items()
    }
    if day.month in (7, 8):  # school holidays
        weights["SCHOOL_YOUTH"] *= 0.2
        weights["COMMUNITY_EVENT"] *= 2.5
    return weighted(rng, weights)


def make_events(
    rng: random.Random,
    count: int,
    as_of: datetime,
    list_id: str,
    officers: list[OfficerIdentity],
    pii: text.PiiPlanter,
) -> EventSet:
    out = EventSet()
    by_lpt: dict[str, list[OfficerIdentity]] = {code: [] for code in LPT_CODES}
    for officer in officers:
        if officer.home_lpt_code and officer.active:
            by_lpt[officer.home_lpt_code].append(officer)
    lpt_weights = {code: LPT_CENTRES[code][2] for code in LPT_CODES}
    for item_id, day in enumerate(event_days(rng, count, as_of), start=1):
        event_id = f"sp:{list_id}:{item_id}"
        lpt_code = weighted(rng, lpt_weights)
        event_type = pick_type(rng, day)
        _weight, hours, duration, (mu, sigma) = EVENT_TYPES[event_type]
        start_local = day.replace(hour=rng.randint(*hours), minute=rng.choice((0, 0, 15, 30, 30, 45)))
        start = start_local.replace(tzinfo=LONDON).astimezone(ZoneInfo("UTC"))
        end = start + timedelta(minutes=15 * round(rng.uniform(*duration) * 4))
        is_future = start > as_of
        status = "PLANNED" if is_future else ("CANCELLED" if rng.random() < 0.06 else "COMPLETED")
        completed = status == "COMPLETED"
        themes = _event_themes(rng, lpt_code) if completed else []
        name_theme = themes[0] if themes and themes[0] != "NO_ISSUES" else pick_themes(rng, lpt_code, 1)[0]
        team = by_lpt[lpt_code] or officers
        officers_present = min(
            len(team), 1 + int(rng.expovariate(0.9)) + (event_type == "COMMUNITY_EVENT") * 2
        )
        linked = rng.sample(team, officers_present)
        if rng.random() < 0.15 and officers_present > 1:  # not every officer gets linked in the app
            linked = linked[: rng.randint(1, officers_present - 1)]
        created = min(
            start - timedelta(days=rng.randint(1, 30), hours=rng.randint(0, 8)), as_of - timedelta(hours=2)
        )
        modified = end + timedelta(hours=rng.randint(1, 72)) if not is_future else created
        modified = min(max(modified, created), as_of - timedelta(minutes=30))
        attendance = max(0, int(rng.lognormvariate(mu, sigma))) if completed else None
        lat, lon = location(rng, lpt_code)
        place = rng.choice(text.PLACES[lpt_code])
        ward = rng.choice(lpt_wards(lpt_code))
        is_online = event_type == "ONLINE_ENGAGEMENT"
        out.events.append(
            {
                "event_id": event_id,
                "status": status,
                "event_name": text.event_name(
                    rng, event_type, place, name_theme, pii.phrase() if rng.random() < 0.03 else None
                ),
                "event_type": event_type,
                "start_utc": start,
                "end_utc": end,
                "start_local_date": local_midnight_utc(start),
                "lpt_code": lpt_code,
                "ward_code": None if is_online else ward,
                "location_lat": None if is_online else lat,
                "location_lon": None if is_online else lon,
                "total_attendance": attendance,
                "attendance_is_estimate": None if attendance is None else attendance > 80,
                "officers_present": officers_present,
                "intel_submissions": min(500, int(rng.expovariate(1.5))) if completed else None,
                "suitable_for_publishing": completed and rng.random() < 0.55,
                "value_gained": weighted(rng, {"HIGH": 3, "MEDIUM": 5, "LOW": 2, "NONE": 0.5})
                if completed
                else None,
                "created_by_officer_key": linked[0].officer_key,
                "created_utc": created,
                "modified_utc": modified,
                "source_system": "sp_list",
                "source_item_id": str(item_id),
                "source_version": f"{1 + (modified > created) + completed}.0",
            }
        )
        out.officers_by_event[event_id] = [officer.officer_key for officer in linked]
        out.themes_by_event[event_id] = themes
        out.event_officers += [{"event_id": event_id, "officer_key": o.officer_key} for o in linked]
        for community in _communities(rng, event_type):
            out.event_communities.append({"event_id": event_id, "community_code": community})
        for rank, theme in enumerate(themes, start=1):
            out.event_issues.append({"event_id": event_id, "theme_code": theme, "rank": rank})
        if completed:
            out.notes[event_id] = text.issue_notes(
                themes, place, pii.phrase() if rng.random() < 0.05 else None
            )
    return out


def _event_themes(rng: random.Random, lpt_code: str) -> list[str]:
    if rng.random() < 0.12:
        return ["NO_ISSUES"]
    return pick_themes(rng, lpt_code, rng.choice((0, 1, 2, 2, 3, 3, 4, 5)))


def _communities(rng: random.Random, event_type: str) -> list[str]:
    primary = list(COMMUNITIES_BY_TYPE.get(event_type, ("RESIDENTS_GENERAL",)))
    chosen = primary[: rng.randint(1, len(primary))]
    if rng.random() < 0.35:
        extra = rng.choice(OTHER_COMMUNITIES)
        if extra not in chosen:
            chosen.append(extra)
    return chosen


def make_actions(
    rng: random.Random, events: EventSet, as_of: datetime, list_id: str, pii: text.PiiPlanter
) -> list[Row]:
    """About one 'You said, we did' action per five events, most raised at a completed event."""
    completed = [row for row in events.events if row["status"] == "COMPLETED"]
    count = max(1, len(events.events) // 5)
    actions: list[Row] = []
    for item_id in range(1, count + 1):
        origin = weighted(rng, {"EVENT": 60, "CCR": 18, "MEETING": 10, "ONLINE": 8, "OTHER": 4})
        if origin == "EVENT":
            event = rng.choice(completed)
            lpt_code, event_id = str(event["lpt_code"]), str(event["event_id"])
            raised = event["start_local_date"]
            issues = [t for t in events.themes_by_event[event_id] if t != "NO_ISSUES"]
            theme = issues[0] if issues else pick_themes(rng, lpt_code, 1)[0]
        else:
            lpt_code, event_id = rng.choice(LPT_CODES), None
            raised = local_midnight_utc(as_of - timedelta(days=rng.randint(3, 900)))
            theme = pick_themes(rng, lpt_code, 1)[0]
        assert isinstance(raised, datetime)
        age_days = (as_of - raised).days
        status = weighted(
            rng,
            {"COMPLETED": 70, "IN_PROGRESS": 12, "OPEN": 6, "NOT_ACTIONED": 8}
            if age_days > 60
            else {"COMPLETED": 20, "IN_PROGRESS": 40, "OPEN": 40, "NOT_ACTIONED": 3},
        )
        actioned = None
        if status == "COMPLETED":
            actioned = raised + timedelta(days=min(age_days - 1, rng.randint(2, 60)))
        we_did_type = rng.choice(text.WE_DID_BY_THEME.get(theme, ("PATROL_PLAN", "REASSURANCE", "OTHER")))
        publish_ok = status == "COMPLETED" and rng.random() < 0.6
        channel = weighted(rng, {"WEBSITE": 4, "SOCIAL_MEDIA": 5, "SMART_ALERT": 2, "NEWSLETTER": 2,
                                 "COMMUNITY_MEETING": 2}) if publish_ok else None  # fmt: skip
        actions.append(
            {
                "action_id": f"sp:{list_id}:{item_id}",
                "origin": origin,
                "event_id": event_id,
                "lpt_code": lpt_code,
                "theme_code": theme,
                "you_said": text.you_said(
                    rng, theme, lpt_code, pii.phrase() if rng.random() < 0.05 else None
                ),
                "we_did_type": we_did_type,
                "we_did": text.we_did(
                    rng, we_did_type, theme, lpt_code, pii.phrase() if rng.random() < 0.04 else None
                ),
                "raised_date": raised,
                "actioned_date": actioned,
                "status": status,
                "not_actioned_reason": rng.choice(text.NOT_ACTIONED_REASONS)
                if status == "NOT_ACTIONED"
                else None,
                "owner_role": weighted(rng, {"PC": 4, "PCSO": 4, "SGT": 3, "INSP": 1}),
                "publish_ok": publish_ok,
                "published_channel": channel,
                "source_system": "sp_list",
                "source_item_id": str(item_id),
                "source_version": "1.0" if status == "OPEN" else "2.0",
            }
        )
    return actions
