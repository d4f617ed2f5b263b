"""Free text for the demo force: names, outcomes and notes that mention issue themes, and fake PII.

Some texts carry fake personal details on purpose (names, 07700 900xxx phone numbers, example.com
emails, Staffordshire-style postcodes, vehicle registrations); every planted string is recorded so
privacy tests can prove none of them ever reaches Power BI.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Places and venues per LPT, so names and notes read like the area they come from.
PLACES: dict[str, tuple[str, ...]] = {
    "STOKE_N": ("Hanley", "Burslem", "Tunstall", "Smallthorne", "Bentilee", "Abbey Hulton"),
    "STOKE_S": ("Longton", "Meir", "Fenton", "Trentham", "Stoke", "Blurton"),
    "NEWCASTLE": ("Newcastle town centre", "Kidsgrove", "Chesterton", "Silverdale", "Audley", "Knutton"),
    "MOORLANDS": ("Leek", "Biddulph", "Cheadle", "Werrington", "Cheddleton"),
    "STAFFORD": ("Stafford", "Stone", "Eccleshall", "Gnosall", "Highfields"),
    "EAST_STAFFS": ("Burton upon Trent", "Uttoxeter", "Stretton", "Winshill", "Horninglow"),
    "SOUTH_STAFFS": ("Codsall", "Wombourne", "Perton", "Penkridge", "Kinver", "Cheslyn Hay"),
    "CANNOCK": ("Cannock", "Rugeley", "Hednesford", "Heath Hayes", "Norton Canes"),
    "LICHFIELD": ("Lichfield", "Burntwood", "Fazeley", "Armitage", "Shenstone"),
    "TAMWORTH": ("Tamworth", "Wilnecote", "Glascote", "Amington", "Belgrave"),
}
VENUES = (
    "{place} Community Centre",
    "{place} Library",
    "St Mary's Church Hall, {place}",
    "{place} Academy",
    "{place} market square",
    "Co-op car park, {place}",
    "{place} Methodist Church",
    "{place} Leisure Centre",
)

EVENT_NAMES: dict[str, tuple[str, ...]] = {
    "COMMUNITY_MEETING": (
        "PACT meeting, {place}",
        "{place} residents' association meeting",
        "{place} community forum: {concern}",
    ),
    "BEAT_SURGERY": ("Beat surgery at {venue}", "Drop-in surgery, {venue}", "Cuppa with a copper, {venue}"),
    "SCHOOL_YOUTH": (
        "{place} Academy assembly on {concern}",
        "Youth club visit, {place}",
        "Year 9 session on {concern}, {place}",
    ),
    "COMMUNITY_EVENT": ("{place} summer fun day", "{place} carnival stall", "Bonfire night patrols, {place}"),
    "FAITH_VISIT": (
        "Visit to {place} mosque",
        "Gurdwara open day, {place}",
        "Church coffee morning, {place}",
    ),
    "BUSINESS_ENGAGEMENT": (
        "Shopwatch briefing, {place}",
        "Pubwatch meeting, {place}",
        "Business crime surgery: {concern}",
    ),
    "RURAL_ENGAGEMENT": ("Farm watch meeting near {place}", "Rural crime surgery, {place} mart"),
    "NHW_MEETING": ("Neighbourhood Watch AGM, {place}", "NHW coordinators meeting, {place}"),
    "CRIME_PREVENTION": (
        "Bike marking at {venue}",
        "Catalytic converter marking, {place}",
        "Crime prevention stall: {concern}",
    ),
    "PARTNERSHIP_MEETING": (
        "Partnership tasking meeting, {place}",
        "Community safety partnership: {concern}",
    ),
    "ONLINE_ENGAGEMENT": ("Facebook live Q&A, {place}", "Online surgery on {concern}"),
    "OTHER": ("Engagement visit, {place}", "Community walkabout, {place}"),
}

CONCERNS: dict[str, str] = {
    "ASB": "anti-social behaviour near the shops",
    "YOUTH_ASB": "groups of youths causing a nuisance",
    "SPEEDING_ROAD_SAFETY": "speeding on the main road",
    "PARKING": "inconsiderate parking outside the school",
    "DRUGS": "drug dealing in the park",
    "BURGLARY": "a spate of burglaries",
    "VEHICLE_CRIME": "thefts from vehicles",
    "THEFT_SHOPLIFTING": "shoplifting in the town centre",
    "VIOLENCE": "fights outside pubs at weekends",
    "KNIFE_CRIME": "young people carrying knives",
    "CRIMINAL_DAMAGE_GRAFFITI": "graffiti and damage to bus shelters",
    "FLY_TIPPING_ENVIRONMENTAL": "fly-tipping down the lanes",
    "NOISE": "late-night noise",
    "NEIGHBOUR_DISPUTE": "an ongoing neighbour dispute",
    "FRAUD_SCAMS": "doorstep and phone scams targeting older residents",
    "CYBER": "online scams and hacked accounts",
    "HATE_CRIME": "racist abuse towards shop staff",
    "EXPLOITATION": "county lines exploitation of young people",
    "DOMESTIC_ABUSE": "support for domestic abuse victims",
    "ALCOHOL_LICENSING": "street drinking",
    "BEGGING_ROUGH_SLEEPING": "begging and rough sleeping in doorways",
    "OFF_ROAD_BIKES": "off-road bikes on the playing fields",
    "RURAL_CRIME": "thefts of farm machinery",
    "NO_ISSUES": "nothing in particular",
    "OTHER": "general policing questions",
}

WE_DID: dict[str, str] = {
    "MEDIA_APPEAL": "We ran a media appeal for information about {concern} in {place}",
    "PATROL_PLAN": "We put high-visibility patrols into {place} at the times reported",
    "REASSURANCE": "We delivered a reassurance letter drop and visited residents in {place}",
    "CRIME_PREVENTION_ADVICE": "We gave crime prevention advice about {concern} at a stall in {place}",
    "PARTNER_REFERRAL": "We referred {concern} to the council and housing partners",
    "ENFORCEMENT_OPERATION": "We ran an enforcement operation targeting {concern} in {place}",
    "ASB_TOOLS": "We issued community protection warnings after reports of {concern}",
    "ROAD_SAFETY_OP": "We ran speed checks with Community Speed Watch volunteers in {place}",
    "SMART_ALERT_MESSAGE": "We sent a Smart Alert message about {concern} to residents of {place}",
    "PROBLEM_SOLVING_PLAN": "We opened a problem-solving plan for {concern} in {place}",
    "SIGNPOSTING": "We signposted residents to support services about {concern}",
    "OTHER": "We followed up {concern} with the neighbourhood team in {place}",
}
WE_DID_BY_THEME: dict[str, tuple[str, ...]] = {
    "SPEEDING_ROAD_SAFETY": ("ROAD_SAFETY_OP", "PATROL_PLAN"),
    "PARKING": ("ENFORCEMENT_OPERATION", "PARTNER_REFERRAL"),
    "ASB": ("PATROL_PLAN", "ASB_TOOLS", "PROBLEM_SOLVING_PLAN"),
    "YOUTH_ASB": ("PATROL_PLAN", "ASB_TOOLS", "PARTNER_REFERRAL"),
    "FRAUD_SCAMS": ("CRIME_PREVENTION_ADVICE", "SMART_ALERT_MESSAGE"),
    "CYBER": ("CRIME_PREVENTION_ADVICE", "SMART_ALERT_MESSAGE"),
    "BURGLARY": ("CRIME_PREVENTION_ADVICE", "REASSURANCE", "MEDIA_APPEAL"),
    "VEHICLE_CRIME": ("CRIME_PREVENTION_ADVICE", "SMART_ALERT_MESSAGE"),
    "DRUGS": ("ENFORCEMENT_OPERATION", "MEDIA_APPEAL"),
    "FLY_TIPPING_ENVIRONMENTAL": ("PARTNER_REFERRAL",),
    "DOMESTIC_ABUSE": ("SIGNPOSTING",),
}
NOT_ACTIONED_REASONS = (
    "Outside police remit; passed to the council",
    "No further reports received",
    "Duplicate of an existing problem-solving plan",
    "Insufficient information to act on",
)

FIRST_NAMES = (
    "Karen",
    "Darren",
    "Sian",
    "Gary",
    "Priya",
    "Mohammed",
    "Lorraine",
    "Callum",
    "Bev",
    "Jaswinder",
    "Dean",
    "Megan",
    "Trevor",
    "Aisha",
    "Wayne",
    "Shirley",
    "Kyle",
    "Agnieszka",
)
LAST_NAMES = (
    "Whitfield",
    "Bourne",
    "Salt",
    "Hulme",
    "Mellor",
    "Khan",
    "Plant",
    "Shenton",
    "Bagnall",
    "Sandhu",
    "Podmore",
    "Tunnicliffe",
    "Boote",
    "Ahmed",
    "Brough",
    "Kowalski",
    "Rowley",
    "Degg",
)
POSTCODE_OUTWARDS = (
    "ST1",
    "ST3",
    "ST4",
    "ST5",
    "ST6",
    "ST10",
    "ST13",
    "ST16",
    "ST17",
    "WS11",
    "WS12",
    "WS13",
    "WS15",
    "DE13",
    "DE14",
    "B77",
    "B78",
    "B79",
    "WV8",
)
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters exclude C, I, K, M, O, V


@dataclass(frozen=True)
class FakePerson:
    """A member of the public who never existed; every field is a planted personal detail."""

    name: str
    phone: str
    email: str
    postcode: str
    vrm: str

    def details(self) -> tuple[str, ...]:
        return (self.name, self.phone, self.email, self.postcode, self.vrm)


def make_people(rng: random.Random, count: int) -> tuple[FakePerson, ...]:
    people: list[FakePerson] = []
    seen: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if f"{first} {last}" in seen:
            continue
        seen.add(f"{first} {last}")
        phone = f"07700 900{rng.randrange(1000):03d}"  # Ofcom's range reserved for drama
        email = f"{first.lower()}.{last.lower()}{rng.randrange(10, 99)}@example.com"
        postcode = f"{rng.choice(POSTCODE_OUTWARDS)} {rng.randrange(1, 10)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
        vrm = (
            f"{rng.choice(LETTERS)}{rng.choice(LETTERS)}{rng.randrange(10, 75)} "
            f"{rng.choice(LETTERS)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
        )
        people.append(FakePerson(f"{first} {last}", phone, email, postcode, vrm))
    return tuple(people)


@dataclass
class PiiPlanter:
    """Hands out phrases carrying one fake detail each, cycling through every detail before repeating."""

    people: tuple[FakePerson, ...]
    planted: list[str] = field(default_factory=list)
    _next: int = 0

    def phrase(self) -> str:
        kinds = 5
        person = self.people[(self._next // kinds) % len(self.people)]
        kind = self._next % kinds
        self._next += 1
        detail = person.details()[kind]
        if detail not in self.planted:
            self.planted.append(detail)
        return (
            f"raised by {detail}",
            f"call back on {detail}",
            f"contact {detail}",
            f"near {detail}",
            f"vehicle {detail} seen",
        )[kind]


def event_name(rng: random.Random, event_type: str, place: str, theme: str, pii: str | None) -> str:
    venue = rng.choice(VENUES).format(place=place)
    name = rng.choice(EVENT_NAMES[event_type]).format(place=place, venue=venue, concern=CONCERNS[theme])
    return f"{name} ({pii})" if pii else name


def you_said(rng: random.Random, theme: str, lpt_code: str, pii: str | None) -> str:
    place = rng.choice(PLACES[lpt_code])
    opener = rng.choice(("You told us about", "Residents raised", "You said you were worried about"))
    text = f"{opener} {CONCERNS[theme]} in {place}."
    return f"{text} Reported at a meeting, {pii}." if pii else text


def we_did(rng: random.Random, we_did_type: str, theme: str, lpt_code: str, pii: str | None) -> str:
    place = rng.choice(PLACES[lpt_code])
    text = WE_DID[we_did_type].format(concern=CONCERNS[theme], place=place) + "."
    if rng.random() < 0.4:
        text += f" Over the following {rng.randrange(2, 9)} weeks reports fell and residents were updated."
    return f"{text} Follow-up: {pii}." if pii else text


def issue_notes(themes: list[str], place: str, pii: str | None) -> str:
    """The PowerApp's multi-line "Issues raised" text: a few sentences, one per theme."""
    if not themes or themes == ["NO_ISSUES"]:
        lines = [f"No issues raised by residents in {place}."]
    else:
        lines = [f"Residents raised {CONCERNS[theme]}." for theme in themes]
        lines[0] = f"In {place}: " + lines[0]
    if pii:
        lines.append(f"Follow-up needed, {pii}.")
    return "\n".join(lines)
