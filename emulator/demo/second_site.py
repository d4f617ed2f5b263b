"""A second force's site, built differently from the first, so tests prove nothing about lists is hard-coded.

Other list names ("Neighbourhood Teams", "Staff Directory", "Community Engagements"), other internal names
(`field_12`, `OData__x0020_Type`, `Collar_x0020_Number`), other choice labels ("Booked", "Held", "Called off";
"Constable"), another people list, and an engagements list with 13 lookup-type columns of its own (15 with
Created By and Modified By), past the list-view lookup threshold of 12. Its mapping, in the product's
format, is SECOND_SITE_MAPPING (written with transforms.list_mapping.dump_mapping like any force's file).
"""

from __future__ import annotations

from emulator.demo.site import ListShape
from emulator.lists.values import ColumnType, ListColumn
from powerbi_dataset import codes as c
from powerbi_dataset.schema import Code
from transforms.list_mapping import ColumnMapping, ListMapping, PeopleMapping, SharePointType, SiteMapping

SECOND_SITE_PATH = "/sites/CommunitySafety"
SECOND_SITE_TITLE = "Community Safety (Westmere)"
TEAMS, STAFF, ENGAGEMENTS, PARTNERS = (
    "Neighbourhood Teams", "Staff Directory", "Community Engagements", "Partner Agencies",
)  # fmt: skip
NOT_IN_MODEL = "not part of the canonical model"

# This force's own labels for the model's codes.
STATUS_LABELS = {"PLANNED": "Booked", "COMPLETED": "Held", "CANCELLED": "Called off"}
RANK_LABELS = {
    "PC": "Constable", "PCSO": "PCSO", "SC": "Special", "SGT": "Sergeant", "INSP": "Inspector",
    "STAFF": "Civilian staff", "VOL": "Volunteer", "OTHER": "Other role",
}  # fmt: skip
TYPE_LABELS = {
    "COMMUNITY_MEETING": "PACT / residents meeting", "BEAT_SURGERY": "Street surgery",
    "SCHOOL_YOUTH": "Schools and youth", "COMMUNITY_EVENT": "Fete / fun day",
    "FAITH_VISIT": "Place of worship visit", "BUSINESS_ENGAGEMENT": "Business visit",
    "RURAL_ENGAGEMENT": "Farm / rural visit", "NHW_MEETING": "Watch scheme meeting",
    "CRIME_PREVENTION": "Crime prevention stall", "PARTNERSHIP_MEETING": "Partner meeting",
    "ONLINE_ENGAGEMENT": "Online / social media", "OTHER": "Something else",
}  # fmt: skip
CONCERN_LABELS = {
    code.code: {"ASB": "Antisocial behaviour", "YOUTH_ASB": "Youth nuisance"}.get(
        code.code, code.code.replace("_", " ").capitalize()
    )
    for code in c.THEMES
}


def labels(codes: tuple[Code, ...], names: dict[str, str]) -> tuple[str, ...]:
    return tuple(names[code.code] for code in codes)


def col(name: str, display: str, kind: ColumnType, *, lookup: str | None = None, required: bool = False,
        choices: tuple[str, ...] = ()) -> ListColumn:  # fmt: skip
    return ListColumn(name, display, kind, required=required, lookup_list=lookup, choices=choices)


TEAMS_SHAPE = ListShape(TEAMS, (
    col("Title", "Team", "text", required=True),
    col("field_2", "Team code", "text", required=True),
    col("OData__x0020_Station", " Station", "text"),
    col("Council", "Council", "text"),
))  # fmt: skip

STAFF_SHAPE = ListShape(STAFF, (
    col("Title", "Full name", "text", required=True),
    col("Collar_x0020_Number", "Collar number", "text", required=True),
    col("StaffMember", "Staff member", "person"),
    col("Rank0", "Rank", "choice", choices=labels(c.OFFICER_ROLES, RANK_LABELS), required=True),
    col("Team", "Team", "lookup", lookup=TEAMS),
    col("IsActive", "Active", "boolean"),
))  # fmt: skip

PARTNERS_SHAPE = ListShape(PARTNERS, (col("Title", "Agency", "text", required=True),))

# 13 lookup-type columns (lookup, person, managed metadata), the first three mapped, the rest not.
LOOKUP_COLUMNS = (
    col("Team", "Team", "lookup", lookup=TEAMS, required=True),
    col("WardTerm", "Ward", "term"),
    col("Attending_x0020_Officers", "Attending officers", "multiperson"),
    col("LeadOfficer", "Lead officer", "person"),
    col("Supervisor", "Supervisor", "person"),
    col("FollowUpBy", "Follow-up by", "person"),
    col("CoHosts", "Co-hosts", "multiperson"),
    col("PartnerAgency", "Partner agency", "lookup", lookup=PARTNERS),
    col("SecondaryTeam", "Second team", "lookup", lookup=TEAMS),
    col("RelatedEngagements", "Related engagements", "multilookup", lookup=ENGAGEMENTS),
    col("Beat", "Beat", "term"),
    col("Neighbourhood", "Neighbourhood", "term"),
    col("Topics", "Topics", "multiterm"),
)
ENGAGEMENTS_SHAPE = ListShape(ENGAGEMENTS, (
    col("Title", "Engagement", "text", required=True),
    col("field_12", "Engagement status", "choice", choices=labels(c.EVENT_STATUSES, STATUS_LABELS), required=True),
    col("OData__x0020_Type", " Type", "choice", choices=labels(c.EVENT_TYPES, TYPE_LABELS), required=True),
    col("StartsAt", "Starts", "dateTime", required=True),
    col("EndsAt", "Ends", "dateTime", required=True),
    col("Headcount", "Headcount", "number"),
    col("OfficerCount", "Officers attending", "number", required=True),
    col("Publishable", "OK to publish", "boolean"),
    col("Concerns_x0020_raised", "Concerns raised", "multichoice", choices=labels(c.THEMES, CONCERN_LABELS)),
    *LOOKUP_COLUMNS,
))  # fmt: skip

SECOND_SITE_SHAPES: tuple[ListShape, ...] = (TEAMS_SHAPE, PARTNERS_SHAPE, STAFF_SHAPE, ENGAGEMENTS_SHAPE)


def to(name: str, kind: SharePointType, *targets: str, **extra: object) -> ColumnMapping:
    return ColumnMapping(name, kind, to=targets, **extra)  # type: ignore[arg-type]


def coded(name: str, kind: SharePointType, target: str, codes: tuple[Code, ...], names: dict[str, str],
          **extra: object) -> ColumnMapping:  # fmt: skip
    choices = tuple((names[code.code], code.code) for code in codes)
    return ColumnMapping(name, kind, to=(target,), choices=choices, **extra)  # type: ignore[arg-type]


def ignored(name: str, kind: SharePointType, reason: str = NOT_IN_MODEL) -> ColumnMapping:
    return ColumnMapping(name, kind, ignore=reason)


SECOND_SITE_MAPPING = SiteMapping(
    people=PeopleMapping(STAFF, account="StaffMember", staff_number="Collar_x0020_Number"),
    lists=(
        ListMapping(TEAMS, "areas", "lpt_code", (
            to("Title", "text", "lpt_name"),
            to("field_2", "text", "lpt_code"),
            to("OData__x0020_Station", "text", "lpt_base"),
            to("Council", "text", "local_authority"),
        )),
        ListMapping(STAFF, "officers", "officer_key", (
            ignored("Title", "text", "the officer's name never leaves the source"),
            to("Collar_x0020_Number", "text", "officer_key"),
            ignored("StaffMember", "person", "read only through `people`, to resolve person columns"),
            coded("Rank0", "choice", "role", c.OFFICER_ROLES, RANK_LABELS),
            to("Team", "lookup", "home_lpt_code", lookup_list=TEAMS),
            to("IsActive", "boolean", "active"),
        )),
        ListMapping(ENGAGEMENTS, "events", "event_id", (
            to("Title", "text", "event_name"),
            coded("field_12", "choice", "status", c.EVENT_STATUSES, STATUS_LABELS),
            coded("OData__x0020_Type", "choice", "event_type", c.EVENT_TYPES, TYPE_LABELS),
            to("StartsAt", "dateTime", "start_utc", "start_local_date"),
            to("EndsAt", "dateTime", "end_utc"),
            to("Headcount", "number", "total_attendance"),
            to("OfficerCount", "number", "officers_present"),
            to("Publishable", "boolean", "suitable_for_publishing"),
            coded("Concerns_x0020_raised", "multichoice", "theme_code", c.THEMES, CONCERN_LABELS,
                  bridge="event_issues", rank="rank"),
            to("Team", "lookup", "lpt_code", lookup_list=TEAMS),
            to("WardTerm", "term", "ward_code"),
            to("Attending_x0020_Officers", "multiperson", "officer_key", bridge="event_officers"),
            *(ignored(column.name, column.type) for column in LOOKUP_COLUMNS[3:]),
        ), author="created_by_officer_key", created="created_utc", modified="modified_utc"),
    ),
    source="second-site-mapping.yaml",
)  # fmt: skip


def second_shape(display_name: str) -> ListShape:
    return next(one for one in SECOND_SITE_SHAPES if one.display_name == display_name)
