"""Reference data of the demo force: LPT geography, officers (with their private identities) and themes.

Ward and LSOA codes follow the ONS GSS patterns but are synthetic; coordinates are rough LPT centres.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from powerbi_dataset import codes as c
from transforms.privacy import officer_key

DEMO_OFFICER_KEY = b"cetk-demo-officer-key: not a secret, demo data only"  # the demo's pseudonymisation key

# LPT centre (lat, lon) and relative population (weights where events and contacts happen).
LPT_CENTRES: dict[str, tuple[float, float, float]] = {
    "STOKE_N": (53.030, -2.180, 1.3),
    "STOKE_S": (52.985, -2.135, 1.2),
    "NEWCASTLE": (53.012, -2.240, 1.1),
    "MOORLANDS": (53.100, -2.020, 0.8),
    "STAFFORD": (52.805, -2.115, 1.1),
    "EAST_STAFFS": (52.805, -1.640, 1.0),
    "SOUTH_STAFFS": (52.640, -2.180, 0.9),
    "CANNOCK": (52.690, -2.030, 0.9),
    "LICHFIELD": (52.682, -1.830, 0.9),
    "TAMWORTH": (52.634, -1.695, 0.7),
}
LPT_CODES = tuple(code for code, _name, _base, _la in c.LPTS)
LAT_RANGE = (52.40, 53.25)
LON_RANGE = (-2.50, -1.55)
WARDS_PER_LPT = 12
LSOAS_PER_WARD = 5

ROLE_WEIGHTS = {"PCSO": 40, "PC": 34, "SGT": 8, "SC": 6, "INSP": 2, "STAFF": 4, "VOL": 5, "OTHER": 1}

# Each LPT's issue profile: its own top five get most of the weight, so top-five charts differ by area.
TOP_THEMES: dict[str, tuple[str, ...]] = {
    "STOKE_N": ("ASB", "DRUGS", "BEGGING_ROUGH_SLEEPING", "THEFT_SHOPLIFTING", "YOUTH_ASB"),
    "STOKE_S": ("DRUGS", "ASB", "BURGLARY", "FLY_TIPPING_ENVIRONMENTAL", "OFF_ROAD_BIKES"),
    "NEWCASTLE": ("PARKING", "ASB", "ALCOHOL_LICENSING", "YOUTH_ASB", "SPEEDING_ROAD_SAFETY"),
    "MOORLANDS": ("SPEEDING_ROAD_SAFETY", "RURAL_CRIME", "PARKING", "FRAUD_SCAMS", "OFF_ROAD_BIKES"),
    "STAFFORD": ("PARKING", "SPEEDING_ROAD_SAFETY", "THEFT_SHOPLIFTING", "ASB", "FRAUD_SCAMS"),
    "EAST_STAFFS": ("ASB", "DRUGS", "VEHICLE_CRIME", "HATE_CRIME", "FLY_TIPPING_ENVIRONMENTAL"),
    "SOUTH_STAFFS": ("RURAL_CRIME", "SPEEDING_ROAD_SAFETY", "BURGLARY", "VEHICLE_CRIME", "FRAUD_SCAMS"),
    "CANNOCK": ("OFF_ROAD_BIKES", "ASB", "DRUGS", "SPEEDING_ROAD_SAFETY", "CRIMINAL_DAMAGE_GRAFFITI"),
    "LICHFIELD": ("SPEEDING_ROAD_SAFETY", "PARKING", "BURGLARY", "FRAUD_SCAMS", "RURAL_CRIME"),
    "TAMWORTH": ("YOUTH_ASB", "ASB", "DRUGS", "KNIFE_CRIME", "PARKING"),
}
ISSUE_THEMES = tuple(code.code for code in c.THEMES if code.code != c.NO_ISSUES)

OFFICER_FIRST = (
    "James",
    "Sarah",
    "Mark",
    "Emma",
    "Lee",
    "Rachel",
    "Craig",
    "Hannah",
    "Paul",
    "Gemma",
    "Stuart",
    "Laura",
    "Adam",
    "Kirsty",
    "Ryan",
    "Nicola",
    "Harjit",
    "Zoe",
    "Imran",
    "Claire",
)
OFFICER_LAST = (
    "Bennett",
    "Hughes",
    "Poole",
    "Dutton",
    "Harvey",
    "Wain",
    "Goodwin",
    "Birks",
    "Sherratt",
    "Lovatt",
    "Bailey",
    "Dale",
    "Bhatti",
    "Malkin",
    "Walley",
    "Cope",
    "Heath",
    "Finney",
)


@dataclass(frozen=True)
class OfficerIdentity:
    """Who an officer_key stands for; source-side only, never in a canonical table."""

    officer_key: str
    staff_number: str
    display_name: str
    email: str
    role: str
    home_lpt_code: str | None
    active: bool


def demo_officer_key(staff_number: str) -> str:
    """The product's officer pseudonym (transforms.privacy.officer_key) under the demo key."""
    return officer_key(staff_number, DEMO_OFFICER_KEY)


def weighted(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def make_officers(rng: random.Random, count: int) -> list[OfficerIdentity]:
    lpt_weights = {code: LPT_CENTRES[code][2] for code in LPT_CODES}
    numbers = rng.sample(range(1000, 99_999), count)
    officers = []
    for index, number in enumerate(numbers):
        first, last = rng.choice(OFFICER_FIRST), rng.choice(OFFICER_LAST)
        role = weighted(rng, dict(ROLE_WEIGHTS))
        staff_number = str(number)
        home = None if role in ("STAFF", "OTHER") and rng.random() < 0.5 else weighted(rng, lpt_weights)
        officers.append(
            OfficerIdentity(
                demo_officer_key(staff_number),
                staff_number,
                f"{first} {last}",
                f"{first.lower()}.{last.lower()}{index}@contoso.onmicrosoft.com",
                role,
                home,
                rng.random() < 0.92,
            )
        )
    return officers


def ward_codes(lpt_code: str) -> list[str]:
    base = 8000 + LPT_CODES.index(lpt_code) * 100
    return [f"E05{base + ward:06d}" for ward in range(WARDS_PER_LPT)]


def lsoa_codes(ward_code: str) -> list[str]:
    ward_number = int(ward_code[3:]) - 8000
    return [f"E01{20000 + ward_number * 10 + index:06d}" for index in range(LSOAS_PER_WARD)]


def location(rng: random.Random, lpt_code: str) -> tuple[float, float]:
    lat, lon, _weight = LPT_CENTRES[lpt_code]
    lat = min(max(lat + rng.gauss(0, 0.02), LAT_RANGE[0] + 0.001), LAT_RANGE[1] - 0.001)
    lon = min(max(lon + rng.gauss(0, 0.03), LON_RANGE[0] + 0.001), LON_RANGE[1] - 0.001)
    return round(lat, 3), round(lon, 3)


def theme_weights(lpt_code: str) -> dict[str, float]:
    weights = {theme: 1.0 for theme in ISSUE_THEMES}
    for rank, theme in enumerate(TOP_THEMES[lpt_code]):
        weights[theme] = 14.0 - 2 * rank
    weights["OTHER"] = 2.0
    return weights


def pick_themes(rng: random.Random, lpt_code: str, count: int) -> list[str]:
    """`count` distinct issue themes, most likely first."""
    weights = theme_weights(lpt_code)
    chosen: list[str] = []
    while len(chosen) < count:
        theme = weighted(rng, weights)
        if theme not in chosen:
            chosen.append(theme)
    return chosen


def area_rows() -> list[dict[str, object]]:
    return [
        {"lpt_code": code, "lpt_name": name, "lpt_base": base, "local_authority": la}
        for code, name, base, la in c.LPTS
    ]


def theme_rows() -> list[dict[str, object]]:
    return [{"theme_code": code.code, "theme_label": code.label, "load_id": None} for code in c.THEMES]


def officer_rows(officers: list[OfficerIdentity]) -> list[dict[str, object]]:
    return [
        {
            "officer_key": officer.officer_key,
            "role": officer.role,
            "home_lpt_code": officer.home_lpt_code,
            "active": officer.active,
            "load_id": None,
        }
        for officer in officers
    ]
