"""The demo force's list mapping, in the product's format: which list column feeds which canonical column.

`cetk emulator serve` writes it as STATE_DIR/mapping.yaml (transforms.list_mapping.dump_mapping), the
seeder reads it to put each canonical value in its list column, and the product's normaliser reads the
lists back with the same file. It passes transforms.list_mapping_check.check_mapping against the model.
"""

from __future__ import annotations

from powerbi_dataset import codes as c
from powerbi_dataset.schema import Code
from transforms.list_mapping import ColumnMapping, ListMapping, PeopleMapping, SharePointType, SiteMapping

FREE_TEXT = "free text; may name people, never leaves the source"
NOT_IN_MODEL = "not part of the canonical model"


def to(
    name: str, kind: SharePointType, *targets: str, lookup_list: str | None = None, bridge: str | None = None
) -> ColumnMapping:
    """A column feeding canonical column(s)."""
    return ColumnMapping(name, kind, to=targets, lookup_list=lookup_list, bridge=bridge)


def coded(
    name: str, kind: SharePointType, target: str, codes: tuple[Code, ...], *, bridge: str | None = None,
    rank: str | None = None,
) -> ColumnMapping:  # fmt: skip
    """A choice column whose labels are the codes' labels."""
    choices = tuple((code.label, code.code) for code in codes)
    return ColumnMapping(name, kind, to=(target,), choices=choices, bridge=bridge, rank=rank)


def ignored(name: str, kind: SharePointType, reason: str) -> ColumnMapping:
    return ColumnMapping(name, kind, ignore=reason)


DEMO_SITE_MAPPING = SiteMapping(
    people=PeopleMapping("Officers", account="OfficerAccount", staff_number="StaffNumber"),
    lists=(
        ListMapping("LPTs", "areas", "lpt_code", (
            to("Title", "text", "lpt_name"),
            to("field_1", "text", "lpt_code"),
            to("Base", "text", "lpt_base"),
            to("Local_x0020_Authority", "text", "local_authority"),
        )),
        ListMapping("Officers", "officers", "officer_key", (
            ignored("Title", "text", "the officer's name never leaves the source"),
            to("StaffNumber", "text", "officer_key"),  # pseudonymised: transforms.privacy.officer_key
            ignored("OfficerAccount", "person", "read only through `people`, to resolve person columns"),
            coded("Role", "choice", "role", c.OFFICER_ROLES),
            to("HomeLPT", "lookup", "home_lpt_code", lookup_list="LPTs"),
            to("Active", "boolean", "active"),
        )),
        ListMapping("Engagement Events", "events", "event_id", (
            to("Title", "text", "event_name"),
            coded("EventStatus", "choice", "status", c.EVENT_STATUSES),
            coded("field_3", "choice", "event_type", c.EVENT_TYPES),
            to("Event_x0020_Start", "dateTime", "start_utc"),
            to("Event_x0020_End", "dateTime", "end_utc"),
            to("EventDate", "dateOnly", "start_local_date"),
            to("LPT", "lookup", "lpt_code", lookup_list="LPTs"),
            to("Ward", "term", "ward_code"),
            to("Venue", "location", "location_lat", "location_lon"),
            to("field_7", "number", "total_attendance"),
            to("AttendanceEstimated", "boolean", "attendance_is_estimate"),
            to("OfficersPresent", "number", "officers_present"),
            to("Officers", "multiperson", "officer_key", bridge="event_officers"),
            coded("Communities", "multichoice", "community_code", c.COMMUNITIES, bridge="event_communities"),
            coded("Top_x0020_Issues", "multichoice", "theme_code", c.THEMES, bridge="event_issues", rank="rank"),
            ignored("Issues_x0020_raised", "note", FREE_TEXT),
            to("IntelSubmissions", "number", "intel_submissions"),
            to("SuitableForPublishing", "boolean", "suitable_for_publishing"),
            coded("ValueGained", "choice", "value_gained", c.VALUE_GAINED),
            ignored("EventPoster", "hyperlink", NOT_IN_MODEL),
            ignored("Wards_x0020_covered", "multiterm", NOT_IN_MODEL),
            ignored("VenueHireCost", "currency", NOT_IN_MODEL),
        ), author="created_by_officer_key", created="created_utc", modified="modified_utc"),
        ListMapping("Community Contact Records", "ccr", "ccr_id", (
            ignored("Title", "text", "a title the app generates"),
            to("Recorded", "dateTime", "recorded_utc", "recorded_local_date"),
            to("LPT", "lookup", "lpt_code", lookup_list="LPTs"),
            to("LSOA", "text", "lsoa21_code"),
            to("Ward", "term", "ward_code"),
            to("Event", "lookup", "event_id", lookup_list="Engagement Events"),
            to("Officer", "person", "officer_key"),
            coded("field_5", "choice", "contact_setting", c.CONTACT_SETTINGS),
            coded("IssuesRaised", "multichoice", "theme_code", c.THEMES, bridge="ccr_issues"),
            to("InfoSubmitted", "boolean", "information_submitted"),
            to("SmartAlert", "boolean", "smart_alert_signup"),
            to("Diversity_x0020_Consent", "boolean", "diversity_consent"),
            coded("AgeBand", "choice", "age_band", c.AGE_BANDS),
            coded("Sex", "choice", "sex", c.SEXES),
            coded("GenderSame", "choice", "gender_same_as_birth", c.YES_NO_PNS),
            coded("Ethnicity", "choice", "ethnicity_2021", c.ETHNICITY_CODES),
            coded("Religion", "choice", "religion", c.RELIGIONS),
            coded("HealthCondition", "choice", "health_condition_12m", c.YES_NO_PNS),
            coded("ActivityLimited", "choice", "activity_limited", c.ACTIVITY_LIMITED),
            to("ConfidenceIssues", "number", "confidence_understands_issues"),
            to("ConfidenceASB", "number", "confidence_deals_with_asb"),
        )),
        ListMapping("You Said We Did", "you_said_we_did", "action_id", (
            ignored("Title", "text", "a title the app generates"),
            coded("Origin", "choice", "origin", c.YSWD_ORIGINS),
            to("Event", "lookup", "event_id", lookup_list="Engagement Events"),
            ignored("RelatedEvents", "multilookup", NOT_IN_MODEL),
            to("LPT", "lookup", "lpt_code", lookup_list="LPTs"),
            coded("Theme", "choice", "theme_code", c.THEMES),
            to("You_x0020_Said", "note", "you_said"),
            coded("WeDidType", "choice", "we_did_type", c.WE_DID_TYPES),
            to("We_x0020_Did", "note", "we_did"),
            to("RaisedDate", "dateOnly", "raised_date"),
            to("ActionedDate", "dateOnly", "actioned_date"),
            coded("ActionStatus", "choice", "status", c.YSWD_STATUSES),
            to("NotActionedReason", "note", "not_actioned_reason"),
            coded("OwnerRole", "choice", "owner_role", c.OFFICER_ROLES),
            to("PublishOK", "boolean", "publish_ok"),
            coded("PublishedChannel", "choice", "published_channel", c.PUBLISHED_CHANNELS),
        )),
    ),
    source="mapping.yaml",
)  # fmt: skip
