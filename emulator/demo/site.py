"""The neighbourhood PowerApp's SharePoint lists as SharePoint holds them: names, types, choices, lookups.

This is the emulator's own picture of the site (what Graph and SharePoint REST serve); which canonical
column each list column feeds is the force's business, declared apart in emulator/demo/list_mapping.py
in the product's mapping format. tests/test_contract_emulator_mapping.py holds the two together.
Internal names differ from display names as they do in real tenants (`field_3`, `Event_x0020_Start`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from emulator.lists.values import ColumnType, ListColumn
from powerbi_dataset import codes as c
from powerbi_dataset.schema import Code

SITE_PATH = "/sites/Neighbourhood"
SITE_TITLE = "Neighbourhood Policing"


@dataclass(frozen=True)
class ListShape:
    display_name: str
    columns: tuple[ListColumn, ...]

    def column(self, name: str) -> ListColumn:
        return next(column for column in self.columns if column.name == name)

    def with_fill_ins(self, fill_ins: Mapping[str, tuple[str, ...]] | None = None) -> list[ListColumn]:
        """The columns, choice columns extended by stored values that are no longer one of their choices."""
        extra = fill_ins or {}
        return [
            replace(column, choices=column.choices + extra.get(column.name, ())) for column in self.columns
        ]


def col(
    name: str,
    display: str,
    kind: ColumnType,
    *,
    required: bool = False,
    lookup: str | None = None,
    max_length: int | None = None,
) -> ListColumn:
    return ListColumn(name, display, kind, required=required, lookup_list=lookup, max_length=max_length)


def choice(
    name: str, display: str, kind: ColumnType, codes: tuple[Code, ...], *, required: bool = False
) -> ListColumn:
    """A choice column offering the labels the app shows for the codes."""
    return ListColumn(name, display, kind, required=required, choices=tuple(code.label for code in codes))


LPTS = ListShape("LPTs", (
    col("Title", "LPT name", "text", required=True),
    col("field_1", "LPT code", "text", required=True),
    col("Base", "Base", "text"),
    col("Local_x0020_Authority", "Local authority", "text"),
))  # fmt: skip

OFFICERS = ListShape("Officers", (
    col("Title", "Name", "text", required=True),
    col("StaffNumber", "Staff number", "text", required=True),
    col("OfficerAccount", "Account", "person"),
    choice("Role", "Role", "choice", c.OFFICER_ROLES, required=True),
    col("HomeLPT", "Home LPT", "lookup", lookup="LPTs"),
    col("Active", "Active", "boolean"),
))  # fmt: skip

EVENTS = ListShape("Engagement Events", (
    col("Title", "Event name", "text", required=True),
    choice("EventStatus", "Status", "choice", c.EVENT_STATUSES, required=True),
    choice("field_3", "Event type", "choice", c.EVENT_TYPES, required=True),
    col("Event_x0020_Start", "Event Start", "dateTime", required=True),
    col("Event_x0020_End", "Event End", "dateTime", required=True),
    col("EventDate", "Event date", "dateOnly"),
    col("LPT", "LPT", "lookup", lookup="LPTs", required=True),
    col("Ward", "Ward", "term"),
    col("Venue", "Venue", "location"),
    col("field_7", "Total attendance", "number"),
    col("AttendanceEstimated", "Attendance is an estimate", "boolean"),
    col("OfficersPresent", "Officers present", "number", required=True),
    col("Officers", "Officers", "multiperson"),
    choice("Communities", "Communities supported", "multichoice", c.COMMUNITIES),
    choice("Top_x0020_Issues", "Top issues (in order)", "multichoice", c.THEMES),
    col("Issues_x0020_raised", "Issues raised", "note"),
    col("IntelSubmissions", "Intelligence submissions", "number"),
    col("SuitableForPublishing", "Suitable for publishing", "boolean"),
    choice("ValueGained", "Value gained", "choice", c.VALUE_GAINED),
    col("EventPoster", "Event poster", "hyperlink"),
    col("Wards_x0020_covered", "Wards covered", "multiterm"),
    col("VenueHireCost", "Venue hire cost", "currency"),
))  # fmt: skip

CCRS = ListShape("Community Contact Records", (
    col("Title", "Title", "text"),
    col("Recorded", "Recorded", "dateTime", required=True),
    col("LPT", "LPT", "lookup", lookup="LPTs", required=True),
    col("LSOA", "LSOA", "text"),
    col("Ward", "Ward", "term"),
    col("Event", "Event", "lookup", lookup="Engagement Events"),
    col("Officer", "Officer", "person", required=True),
    choice("field_5", "Contact setting", "choice", c.CONTACT_SETTINGS, required=True),
    choice("IssuesRaised", "Issues raised", "multichoice", c.THEMES),
    col("InfoSubmitted", "Information submitted", "boolean"),
    col("SmartAlert", "Smart Alert sign-up", "boolean"),
    col("Diversity_x0020_Consent", "Diversity consent", "boolean"),
    choice("AgeBand", "Age band", "choice", c.AGE_BANDS),
    choice("Sex", "Sex", "choice", c.SEXES),
    choice("GenderSame", "Gender same as at birth", "choice", c.YES_NO_PNS),
    choice("Ethnicity", "Ethnicity", "choice", c.ETHNICITY_CODES),
    choice("Religion", "Religion", "choice", c.RELIGIONS),
    choice("HealthCondition", "Health condition (12 months+)", "choice", c.YES_NO_PNS),
    choice("ActivityLimited", "Activities limited", "choice", c.ACTIVITY_LIMITED),
    col("ConfidenceIssues", "Police understand local issues (1-5)", "number"),
    col("ConfidenceASB", "Police deal with ASB (1-5)", "number"),
))  # fmt: skip

ACTIONS = ListShape("You Said We Did", (
    col("Title", "Title", "text"),
    choice("Origin", "Origin", "choice", c.YSWD_ORIGINS, required=True),
    col("Event", "Event", "lookup", lookup="Engagement Events"),
    col("RelatedEvents", "Related events", "multilookup", lookup="Engagement Events"),
    col("LPT", "LPT", "lookup", lookup="LPTs", required=True),
    choice("Theme", "Theme", "choice", c.THEMES, required=True),
    col("You_x0020_Said", "You said", "note", required=True),
    choice("WeDidType", "Action type", "choice", c.WE_DID_TYPES, required=True),
    col("We_x0020_Did", "We did", "note", required=True),
    col("RaisedDate", "Raised", "dateOnly", required=True),
    col("ActionedDate", "Actioned", "dateOnly"),
    choice("ActionStatus", "Status", "choice", c.YSWD_STATUSES, required=True),
    col("NotActionedReason", "Reason not actioned", "note"),
    choice("OwnerRole", "Owner role", "choice", c.OFFICER_ROLES),
    col("PublishOK", "OK to publish", "boolean"),
    choice("PublishedChannel", "Published on", "choice", c.PUBLISHED_CHANNELS),
))  # fmt: skip

LIST_SHAPES: tuple[ListShape, ...] = (LPTS, OFFICERS, EVENTS, CCRS, ACTIONS)


def shape(display_name: str) -> ListShape:
    return next(one for one in LIST_SHAPES if one.display_name == display_name)
