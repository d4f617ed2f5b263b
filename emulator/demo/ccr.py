"""Community contact records of the demo force and their issues.

Mostly patrol and door-knock contacts; about 35% are made at a completed event (same LPT, during the
event, by one of its officers). Demographics exist only with diversity consent (about 40%) and follow
a rough Staffordshire / West Midlands census mix.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from emulator.demo.events import HISTORY_DAYS, LONDON, EventSet, Row, day_weight, local_midnight_utc
from emulator.demo.reference import (
    LPT_CENTRES,
    LPT_CODES,
    OfficerIdentity,
    lsoa_codes,
    pick_themes,
    ward_codes,
    weighted,
)

EVENT_LINKED_FRACTION = 0.35
CONSENT_FRACTION = 0.40
SETTINGS = {"PATROL": 52, "DOOR_KNOCK": 28, "BUSINESS_VISIT": 10, "PHONE_ONLINE": 7, "OTHER": 3}
AGE_BANDS = {"U16": 5, "16-24": 12, "25-34": 15, "35-44": 15, "45-54": 16, "55-64": 15, "65-74": 12,
             "75+": 7, "PNS": 3}  # fmt: skip
SEXES = {"F": 50, "M": 47, "PNS": 3}
GENDER_SAME = {"Y": 93, "N": 0.6, "PNS": 6.4}
ETHNICITY = {
    "W_BRITISH": 80, "W_IRISH": 0.6, "W_GYPSY_TRAVELLER": 0.2, "W_ROMA": 0.2, "W_OTHER": 3.0,
    "A_INDIAN": 2.2, "A_PAKISTANI": 3.8, "A_BANGLADESHI": 0.4, "A_CHINESE": 0.5, "A_OTHER": 0.9,
    "B_CARIBBEAN": 0.8, "B_AFRICAN": 1.0, "B_OTHER": 0.2, "M_WHITE_BLACK_CARIBBEAN": 1.0,
    "M_WHITE_BLACK_AFRICAN": 0.3, "M_WHITE_ASIAN": 0.6, "M_OTHER": 0.5, "O_ARAB": 0.3, "O_OTHER": 0.6,
    "PNS": 3.0,
}  # fmt: skip
RELIGIONS = {"NONE": 36, "CHRISTIAN": 48, "MUSLIM": 5, "SIKH": 1.5, "HINDU": 0.8, "BUDDHIST": 0.4,
             "JEWISH": 0.1, "OTHER": 0.6, "PNS": 6}  # fmt: skip
HEALTH = {"Y": 22, "N": 72, "PNS": 6}
ACTIVITY = {"A_LOT": 30, "A_LITTLE": 45, "NOT_AT_ALL": 25}
ANSWER_RATE = 0.95  # a consenting person may still skip a question


def make_ccrs(
    rng: random.Random,
    count: int,
    as_of: datetime,
    list_id: str,
    officers: list[OfficerIdentity],
    events: EventSet,
) -> tuple[list[Row], list[Row]]:
    completed = [row for row in events.events if row["status"] == "COMPLETED"]
    event_weights = list(
        itertools.accumulate(min(int(str(row["total_attendance"])), 200) + 5 for row in completed)
    )
    today = as_of.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    days = [today - timedelta(days=offset) for offset in range(1, HISTORY_DAYS)]
    day_weights = list(itertools.accumulate(day_weight(day) for day in days))
    lpt_weights = {code: LPT_CENTRES[code][2] for code in LPT_CODES}
    team: dict[str, list[str]] = {code: [] for code in LPT_CODES}
    for member in officers:
        if member.home_lpt_code and member.active and member.role in ("PC", "PCSO", "SC", "SGT"):
            team[member.home_lpt_code].append(member.officer_key)

    drafts: list[Row] = []
    for _ in range(count):
        if completed and rng.random() < EVENT_LINKED_FRACTION:
            event = rng.choices(completed, cum_weights=event_weights)[0]
            start, end = event["start_utc"], event["end_utc"]
            assert isinstance(start, datetime) and isinstance(end, datetime)
            recorded = start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds() + 1800))
            lpt_code = str(event["lpt_code"])
            ward = str(event["ward_code"]) if event["ward_code"] else rng.choice(ward_codes(lpt_code))
            officer = rng.choice(events.officers_by_event[str(event["event_id"])])
            setting, event_id = "EVENT", str(event["event_id"])
        else:
            day = rng.choices(days, cum_weights=day_weights)[0]
            local = day.replace(hour=min(22, 8 + int(rng.expovariate(0.18))), minute=rng.randrange(60))
            recorded = local.replace(tzinfo=LONDON).astimezone(ZoneInfo("UTC"))
            lpt_code = weighted(rng, lpt_weights)
            ward = rng.choice(ward_codes(lpt_code))
            officer = rng.choice(team[lpt_code] or [o.officer_key for o in officers])
            setting, event_id = weighted(rng, SETTINGS), None
        recorded = min(recorded.replace(microsecond=0), as_of - timedelta(minutes=5))
        drafts.append(
            {
                "recorded_utc": recorded,
                "recorded_local_date": local_midnight_utc(recorded),
                "lpt_code": lpt_code,
                "lsoa21_code": rng.choice(lsoa_codes(ward)) if rng.random() < 0.9 else None,
                "ward_code": ward,
                "event_id": event_id,
                "officer_key": officer,
                "contact_setting": setting,
                "information_submitted": rng.random() < 0.08,
                "smart_alert_signup": rng.random() < 0.12,
                **_demographics(rng),
                "confidence_understands_issues": _rating(rng),
                "confidence_deals_with_asb": _rating(rng),
                "citizen_key": None,
                "source_system": "sp_list",
                "source_version": "1.0",
            }
        )
    drafts.sort(key=lambda row: row["recorded_utc"])  # type: ignore[arg-type,return-value]
    ccrs: list[Row] = []
    issues: list[Row] = []
    for item_id, draft in enumerate(drafts, start=1):
        ccr_id = f"sp:{list_id}:{item_id}"
        ccrs.append({"ccr_id": ccr_id, **draft, "source_item_id": str(item_id)})
        if rng.random() < 0.2:
            themes = ["NO_ISSUES"]
        else:
            themes = pick_themes(rng, str(draft["lpt_code"]), rng.choice((0, 1, 1, 1, 2, 2, 3)))
        issues += [{"ccr_id": ccr_id, "theme_code": theme} for theme in themes]
    return ccrs, issues


def _rating(rng: random.Random) -> int | None:
    return rng.choices((1, 2, 3, 4, 5), weights=(5, 10, 25, 35, 25))[0] if rng.random() < 0.7 else None


def _answer(rng: random.Random, weights: Mapping[str, float]) -> str | None:
    return weighted(rng, weights) if rng.random() < ANSWER_RATE else None


def _demographics(rng: random.Random) -> Row:
    consent = rng.random() < CONSENT_FRACTION
    if not consent:
        return {
            "diversity_consent": False,
            **dict.fromkeys(("age_band", "sex", "gender_same_as_birth", "ethnicity_2021", "religion"), None),
            "health_condition_12m": None,
            "activity_limited": None,
        }
    age_band = _answer(rng, AGE_BANDS)
    health = _answer(rng, HEALTH)
    return {
        "diversity_consent": True,
        "age_band": age_band,
        "sex": _answer(rng, SEXES),
        "gender_same_as_birth": None if age_band == "U16" else _answer(rng, GENDER_SAME),
        "ethnicity_2021": _answer(rng, ETHNICITY),
        "religion": _answer(rng, RELIGIONS),
        "health_condition_12m": health,
        "activity_limited": _answer(rng, ACTIVITY) if health == "Y" else None,
    }
