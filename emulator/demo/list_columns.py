"""The PowerApp's list definitions as data: each SharePoint column and the canonical column it carries.

The normaliser reads the same table to map list items back to the canonical model. `source_table`
marks a multi-valued column that feeds a bridge table (e.g. Officers -> event_officers.officer_key);
`canonical=None` marks a source-only column (free text, posters) that never reaches Power BI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from emulator.lists.store import ColumnType, ListColumn
from powerbi_dataset import codes as c
from powerbi_dataset.schema import Code


@dataclass(frozen=True)
class MappedColumn:
    column: ListColumn
    canonical: str | None  # the canonical column carried; None for source-only columns
    codes: tuple[Code, ...] = ()  # choice label <-> canonical code
    source_table: str | None = None  # bridge table fed by a multi-valued column
    also: tuple[str, ...] = ()  # further canonical columns the same list column carries (location)


@dataclass(frozen=True)
class ListSpec:
    display_name: str
    table: str  # canonical table the items become
    key: str  # canonical key column; item ids follow the order of the canonical rows
    columns: tuple[MappedColumn, ...]
    author: str | None = None  # canonical column carried by the built-in Author (Created By)
    created: str | None = None  # canonical column carried by the built-in Created

    def column(self, name: str) -> MappedColumn:
        return next(mapped for mapped in self.columns if mapped.column.name == name)

    def list_columns(self, legacy: Mapping[str, tuple[str, ...]] | None = None) -> list[ListColumn]:
        """The store's column definitions; `legacy` adds stored values that are no longer valid choices."""
        columns = []
        for mapped in self.columns:
            column = mapped.column
            if column.type in ("choice", "multichoice") and mapped.codes:
                labels = tuple(code.label for code in mapped.codes)
                extra = (legacy or {}).get(column.name, ())
                column = ListColumn(
                    column.name, column.display_name, column.type, column.required, column.indexed,
                    labels + extra, column.lookup_list, column.max_length, column.hidden,
                )  # fmt: skip
            columns.append(column)
        return columns


def col(
    name: str,
    display: str,
    kind: ColumnType,
    canonical: str | None,
    codes: tuple[Code, ...] = (),
    *,
    required: bool = False,
    lookup: str | None = None,
    source_table: str | None = None,
    max_length: int | None = None,
    also: tuple[str, ...] = (),
) -> MappedColumn:
    column = ListColumn(name, display, kind, required=required, lookup_list=lookup, max_length=max_length)
    return MappedColumn(column, canonical, codes, source_table, also)


LPTS_LIST = ListSpec(
    "LPTs",
    "areas",
    "lpt_code",
    (
        col("Title", "LPT name", "text", "lpt_name", required=True),
        col("field_1", "LPT code", "text", "lpt_code", required=True),
        col("Base", "Base", "text", "lpt_base"),
        col("Local_x0020_Authority", "Local authority", "text", "local_authority"),
    ),
)

OFFICERS_LIST = ListSpec(
    "Officers",
    "officers",
    "officer_key",
    (
        col("Title", "Name", "text", None, required=True),
        col("StaffNumber", "Staff number", "text", None, required=True),
        col("OfficerAccount", "Account", "person", "officer_key"),
        col("Role", "Role", "choice", "role", c.OFFICER_ROLES, required=True),
        col("HomeLPT", "Home LPT", "lookup", "home_lpt_code", lookup="LPTs"),
        col("Active", "Active", "boolean", "active"),
    ),
)

EVENTS_LIST = ListSpec(
    "Engagement Events",
    "events",
    "event_id",
    (
        col("Title", "Event name", "text", "event_name", required=True),
        col("EventStatus", "Status", "choice", "status", c.EVENT_STATUSES, required=True),
        col("field_3", "Event type", "choice", "event_type", c.EVENT_TYPES, required=True),
        col("Event_x0020_Start", "Event Start", "dateTime", "start_utc", required=True),
        col("Event_x0020_End", "Event End", "dateTime", "end_utc", required=True),
        col("EventDate", "Event date", "dateOnly", "start_local_date"),
        col("LPT", "LPT", "lookup", "lpt_code", lookup="LPTs", required=True),
        col("Ward", "Ward", "term", "ward_code"),
        col("Venue", "Venue", "location", "location_lat", also=("location_lon",)),
        col("field_7", "Total attendance", "number", "total_attendance"),
        col("AttendanceEstimated", "Attendance is an estimate", "boolean", "attendance_is_estimate"),
        col("OfficersPresent", "Officers present", "number", "officers_present", required=True),
        col("Officers", "Officers", "multiperson", "officer_key", source_table="event_officers"),
        col(
            "Communities",
            "Communities supported",
            "multichoice",
            "community_code",
            c.COMMUNITIES,
            source_table="event_communities",
        ),  # fmt: skip
        col(
            "Top_x0020_Issues",
            "Top issues (in order)",
            "multichoice",
            "theme_code",
            c.THEMES,
            source_table="event_issues",
        ),  # fmt: skip
        col("Issues_x0020_raised", "Issues raised", "note", None),
        col("IntelSubmissions", "Intelligence submissions", "number", "intel_submissions"),
        col("SuitableForPublishing", "Suitable for publishing", "boolean", "suitable_for_publishing"),
        col("ValueGained", "Value gained", "choice", "value_gained", c.VALUE_GAINED),
        col("EventPoster", "Event poster", "hyperlink", None),
        col("Wards_x0020_covered", "Wards covered", "multiterm", None),
        col("VenueHireCost", "Venue hire cost", "currency", None),
    ),
    author="created_by_officer_key",
    created="created_utc",
)

CCR_LIST = ListSpec(
    "Community Contact Records",
    "ccr",
    "ccr_id",
    (
        col("Title", "Title", "text", None),
        col("Recorded", "Recorded", "dateTime", "recorded_utc", required=True),
        col("LPT", "LPT", "lookup", "lpt_code", lookup="LPTs", required=True),
        col("LSOA", "LSOA", "text", "lsoa21_code"),
        col("Ward", "Ward", "term", "ward_code"),
        col("Event", "Event", "lookup", "event_id", lookup="Engagement Events"),
        col("Officer", "Officer", "person", "officer_key", required=True),
        col("field_5", "Contact setting", "choice", "contact_setting", c.CONTACT_SETTINGS, required=True),
        col(
            "IssuesRaised", "Issues raised", "multichoice", "theme_code", c.THEMES, source_table="ccr_issues"
        ),
        col("InfoSubmitted", "Information submitted", "boolean", "information_submitted"),
        col("SmartAlert", "Smart Alert sign-up", "boolean", "smart_alert_signup"),
        col("Diversity_x0020_Consent", "Diversity consent", "boolean", "diversity_consent"),
        col("AgeBand", "Age band", "choice", "age_band", c.AGE_BANDS),
        col("Sex", "Sex", "choice", "sex", c.SEXES),
        col("GenderSame", "Gender same as at birth", "choice", "gender_same_as_birth", c.YES_NO_PNS),
        col("Ethnicity", "Ethnicity", "choice", "ethnicity_2021", c.ETHNICITY_CODES),
        col("Religion", "Religion", "choice", "religion", c.RELIGIONS),
        col(
            "HealthCondition", "Health condition (12 months+)", "choice", "health_condition_12m", c.YES_NO_PNS
        ),
        col("ActivityLimited", "Activities limited", "choice", "activity_limited", c.ACTIVITY_LIMITED),
        col(
            "ConfidenceIssues",
            "Police understand local issues (1-5)",
            "number",
            "confidence_understands_issues",
        ),
        col("ConfidenceASB", "Police deal with ASB (1-5)", "number", "confidence_deals_with_asb"),
    ),
    author="officer_key",
    created="recorded_utc",
)

ACTIONS_LIST = ListSpec(
    "You Said We Did",
    "you_said_we_did",
    "action_id",
    (
        col("Title", "Title", "text", None),
        col("Origin", "Origin", "choice", "origin", c.YSWD_ORIGINS, required=True),
        col("Event", "Event", "lookup", "event_id", lookup="Engagement Events"),
        col("RelatedEvents", "Related events", "multilookup", None, lookup="Engagement Events"),
        col("LPT", "LPT", "lookup", "lpt_code", lookup="LPTs", required=True),
        col("Theme", "Theme", "choice", "theme_code", c.THEMES, required=True),
        col("You_x0020_Said", "You said", "note", "you_said", required=True),
        col("WeDidType", "Action type", "choice", "we_did_type", c.WE_DID_TYPES, required=True),
        col("We_x0020_Did", "We did", "note", "we_did", required=True),
        col("RaisedDate", "Raised", "dateOnly", "raised_date", required=True),
        col("ActionedDate", "Actioned", "dateOnly", "actioned_date"),
        col("ActionStatus", "Status", "choice", "status", c.YSWD_STATUSES, required=True),
        col("NotActionedReason", "Reason not actioned", "note", "not_actioned_reason"),
        col("OwnerRole", "Owner role", "choice", "owner_role", c.OFFICER_ROLES),
        col("PublishOK", "OK to publish", "boolean", "publish_ok"),
        col("PublishedChannel", "Published on", "choice", "published_channel", c.PUBLISHED_CHANNELS),
    ),
)

LISTS: tuple[ListSpec, ...] = (LPTS_LIST, OFFICERS_LIST, EVENTS_LIST, CCR_LIST, ACTIONS_LIST)
