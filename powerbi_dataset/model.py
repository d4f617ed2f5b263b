"""The canonical model of community engagement data, declared once (see docs/data-dictionary.md).

Every other shape is derived from `DATASET`: Arrow schemas, the Power BI push definition, the data
dictionary and the validation rules. Change a table here, then run `make data-dictionary golden`.
"""

from __future__ import annotations

from powerbi_dataset import codes as c
from powerbi_dataset.rules import (
    Compare,
    Condition,
    CountNotAbove,
    Exclusive,
    MaxSpan,
    NotAfterAsOf,
    RequireEmpty,
    RequirePresent,
    Rule,
)
from powerbi_dataset.schema import Column, Dataset, Measure, Relationship, Table

KEY_16_HEX = r"[0-9a-f]{16}"  # truncated keyed HMAC-SHA256 (transforms/privacy.py)
WARD_CODE = r"E05\d{6}"  # ONS GSS ward code
LSOA21_CODE = r"E01\d{6}"  # ONS GSS LSOA 2021 code
EARLIEST_EVENT = 1_420_070_400.0  # 2015-01-01T00:00:00Z as epoch seconds (datetime ranges are epoch seconds)

DEMOGRAPHIC_COLUMNS = (
    "sex",
    "gender_same_as_birth",
    "ethnicity_2021",
    "religion",
    "health_condition_12m",
    "activity_limited",
    "age_band",
)


def lpt(name: str = "lpt_code", *, required: bool = True, description: str = "Local policing team") -> Column:
    return Column(name, "String", description, required=required, codes=c.LPT_CODES)


def officer_key(name: str = "officer_key", description: str = "Pseudonymous officer key") -> Column:
    return Column(name, "String", description, required=True, pattern=KEY_16_HEX, personal="personal")


def text_id(name: str, description: str, *, required: bool = True) -> Column:
    return Column(name, "String", description, required=required, max_length=100)


def utc(name: str, description: str, *, required: bool = True, minimum: float | None = None) -> Column:
    return Column(name, "DateTime", description, required=required, minimum=minimum)


def local_date(name: str, description: str, *, required: bool = True) -> Column:
    return Column(name, "DateTime", description, required=required, date_only=True)


def flag(name: str, description: str, *, required: bool = True) -> Column:
    return Column(name, "Boolean", description, required=required)


def lineage(*, source: bool = False) -> tuple[Column, ...]:
    """The columns every loaded table ends with: `load_id`, stamped by publish (docs/architecture.md);
    with `source`, first where a fact row came from (the list item or Forms response, and its version).
    """
    load_id = Column("load_id", "String", "Publish load that wrote the row; set by publish", max_length=64)
    if not source:
        return (load_id,)
    return (
        Column("source_system", "String", "Where the row came from", required=True, codes=c.SOURCE_SYSTEMS),
        text_id("source_item_id", "Item id in the source list or Forms response id"),
        Column("source_version", "String", "Source ETag or modified stamp", max_length=200),
        load_id,
    )


def bridge(
    name: str,
    description: str,
    parent: tuple[str, Column],
    child: Column,
    *extra: Column,
    rules: tuple[Rule, ...] = (),
) -> Table:
    """A many-to-many bridge: one row per parent and child, keyed on both; its rows are posted with each
    version of the parent table's row they belong to (publish_mode with_parent)."""
    parent_table, parent_column = parent
    return Table(
        name,
        description,
        (parent_column, child, *extra, *lineage()),
        key=(parent_column.name, child.name),
        rules=rules,
        publish_mode="with_parent",
        parent=parent_table,
    )


def issue_bridge(name: str, description: str, parent: tuple[str, Column], *extra: Column) -> Table:
    """Issue themes raised per parent row; NO_ISSUES stands alone (the form's "no issues" answer)."""
    theme = Column("theme_code", "String", "Issue theme", required=True, codes=c.THEMES)
    message = "NO_ISSUES recorded with other issues"
    exclusive = Exclusive("no-issues-exclusive", parent[1].name, "theme_code", c.NO_ISSUES, message)
    return bridge(name, description, parent, theme, *extra, rules=(exclusive,))


AREAS = Table(
    "areas",
    "Local policing teams (dimension, not personal)",
    (
        lpt(description="LPT code, primary key"),
        Column("lpt_name", "String", "LPT display name", required=True, max_length=100),
        Column("lpt_base", "String", "Town the LPT is based in", required=True, max_length=100),
        Column("local_authority", "String", "Local authority the LPT serves", required=True, max_length=100),
        *lineage(),
    ),
    key=("lpt_code",),
)

OFFICERS = Table(
    "officers",
    "Officers, pseudonymised: never names, emails or collar numbers (dimension)",
    (
        officer_key(description="Keyed HMAC of the normalised staff number, primary key"),
        Column("role", "String", "Officer role", required=True, codes=c.OFFICER_ROLES),
        lpt("home_lpt_code", required=False, description="Home LPT"),
        flag("active", "Still serving in a neighbourhood team"),
        *lineage(),
    ),
    key=("officer_key",),
)

EVENTS = Table(
    "events",
    "Community engagement events booked and closed in the PowerApp (fact)",
    (
        text_id("event_id", "sp:{list_id}:{item_id}, primary key"),
        Column(
            "status",
            "String",
            "Event status; dashboards count COMPLETED",
            required=True,
            codes=c.EVENT_STATUSES,
        ),
        Column(
            "event_name", "String", "Event name, PII-scrubbed before publish", required=True, max_length=200
        ),
        Column("event_type", "String", "Kind of engagement", required=True, codes=c.EVENT_TYPES),
        utc("start_utc", "Start (UTC)", minimum=EARLIEST_EVENT),
        utc("end_utc", "End (UTC)"),
        local_date("start_local_date", "Start date in Europe/London"),
        lpt(),
        Column("ward_code", "String", "ONS ward code derived from the location", pattern=WARD_CODE),
        Column(
            "location_lat",
            "Double",
            "Latitude rounded to 3 dp",
            minimum=52.40,
            maximum=53.25,
            data_category="Latitude",
        ),
        Column(
            "location_lon",
            "Double",
            "Longitude rounded to 3 dp",
            minimum=-2.50,
            maximum=-1.55,
            data_category="Longitude",
        ),
        Column(
            "total_attendance", "Int64", "People who attended", minimum=0, maximum=100_000, summarize_by="sum"
        ),
        flag("attendance_is_estimate", "Attendance was estimated", required=False),
        Column("officers_present", "Int64", "Officers present", required=True, minimum=1, maximum=200),
        Column("intel_submissions", "Int64", "Intelligence submissions (count only)", minimum=0, maximum=500),
        flag("suitable_for_publishing", "Event may be published; text must pass the PII scrub"),
        Column("value_gained", "String", "Officer's view of the value gained", codes=c.VALUE_GAINED),
        officer_key("created_by_officer_key", "Pseudonymous key of the officer who booked it"),
        utc("created_utc", "Created (UTC)"),
        utc("modified_utc", "Last modified (UTC)"),
        *lineage(source=True),
    ),
    key=("event_id",),
    rules=(
        Compare("end-before-start", "end_utc", ">=", "start_utc", "event ends before it starts"),
        MaxSpan("duration-too-long", "start_utc", "end_utc", 24, "event lasts more than 24 hours"),
        NotAfterAsOf(
            "completed-in-future",
            "end_utc",
            "event is COMPLETED but ends in the future",
            when=Condition("status", "eq", "COMPLETED"),
        ),
        RequirePresent(
            "attendance-required",
            Condition("status", "eq", "COMPLETED"),
            ("total_attendance",),
            "a COMPLETED event needs its attendance",
        ),
        Compare("modified-before-created", "modified_utc", ">=", "created_utc", "modified before created"),
        CountNotAbove(
            "officers-below-linked",
            "event_id",
            "officers_present",
            "event_officers",
            "officers_present is below the number of linked officers",
        ),
    ),
)

EVENT_OFFICERS = bridge(
    "event_officers",
    "Officers linked to each event (bridge)",
    ("events", text_id("event_id", "Event")),
    officer_key(),
)

EVENT_COMMUNITIES = bridge(
    "event_communities",
    "Communities each event supported (bridge)",
    ("events", text_id("event_id", "Event")),
    Column("community_code", "String", "Community supported", required=True, codes=c.COMMUNITIES),
)

EVENT_ISSUES = issue_bridge(
    "event_issues",
    "Issues raised at each event, ranked 1-5 for the top five (bridge)",
    ("events", text_id("event_id", "Event")),
    Column("rank", "Int64", "Rank of the issue at the event (1 = most raised)", minimum=1, maximum=5),
)

THEMES = Table(
    "themes",
    "Issue themes for the top five issues and the word cloud (dimension)",
    (
        Column("theme_code", "String", "Theme code, primary key", required=True, codes=c.THEMES),
        Column("theme_label", "String", "Display label", required=True, max_length=100),
        *lineage(),
    ),
    key=("theme_code",),
)

YOU_SAID_WE_DID = Table(
    "you_said_we_did",
    "'You said, we did' actions: the issue raised and what the team did (fact)",
    (
        text_id("action_id", "Action id, primary key"),
        Column("origin", "String", "Where the issue was raised", required=True, codes=c.YSWD_ORIGINS),
        text_id("event_id", "Event the issue was raised at", required=False),
        lpt(),
        Column("theme_code", "String", "Issue theme", required=True, codes=c.THEMES),
        Column("you_said", "String", "What the public said, scrubbed summary", required=True, max_length=500),
        Column("we_did_type", "String", "Kind of action taken", required=True, codes=c.WE_DID_TYPES),
        Column("we_did", "String", "What the team did, scrubbed", required=True, max_length=1000),
        local_date("raised_date", "Date the issue was raised"),
        local_date("actioned_date", "Date the action was taken", required=False),
        Column("status", "String", "Action status", required=True, codes=c.YSWD_STATUSES),
        Column("not_actioned_reason", "String", "Why nothing was done", max_length=500),
        Column("owner_role", "String", "Role of the action's owner", codes=c.OFFICER_ROLES),
        flag("publish_ok", "Cleared for publication"),
        Column("published_channel", "String", "Where it was published", codes=c.PUBLISHED_CHANNELS),
        *lineage(source=True),
    ),
    key=("action_id",),
    rules=(
        RequirePresent(
            "event-required-for-origin",
            Condition("origin", "eq", "EVENT"),
            ("event_id",),
            "origin EVENT needs the event",
        ),
        Compare(
            "actioned-before-raised", "actioned_date", ">=", "raised_date", "actioned before it was raised"
        ),
        RequirePresent(
            "reason-required",
            Condition("status", "eq", "NOT_ACTIONED"),
            ("not_actioned_reason",),
            "NOT_ACTIONED needs a reason",
        ),
        RequirePresent(
            "actioned-date-required",
            Condition("status", "eq", "COMPLETED"),
            ("actioned_date",),
            "a COMPLETED action needs its actioned date",
        ),
    ),
)

CCR = Table(
    "ccr",
    "Community contact records; demographics only with consent and never published at row level (fact)",
    (
        text_id("ccr_id", "CCR id, primary key"),
        utc("recorded_utc", "When the contact was recorded (UTC)"),
        local_date("recorded_local_date", "Recorded date in Europe/London"),
        lpt(),
        Column("lsoa21_code", "String", "ONS LSOA 2021 code (never lat/lon)", pattern=LSOA21_CODE),
        Column("ward_code", "String", "ONS ward code", pattern=WARD_CODE),
        text_id("event_id", "Event the contact was made at", required=False),
        officer_key(),
        Column(
            "contact_setting", "String", "Where the contact happened", required=True, codes=c.CONTACT_SETTINGS
        ),
        flag(
            "information_submitted", "Information was submitted (flag only; content stays in force systems)"
        ),
        flag(
            "smart_alert_signup",
            "Person was referred to Smart Alert (flag only; contact details never synced)",
        ),
        flag("diversity_consent", "Person consented to the diversity questions; gates every answer below"),
        Column("age_band", "String", "Age band", codes=c.AGE_BANDS, personal="personal", published=False),
        Column("sex", "String", "Sex", codes=c.SEXES, personal="personal", published=False),
        Column(
            "gender_same_as_birth",
            "String",
            "Gender same as sex registered at birth (16+ only)",
            codes=c.YES_NO_PNS,
            personal="personal",
            published=False,
        ),
        Column(
            "ethnicity_2021",
            "String",
            "Ethnicity, Census 2021 categories",
            codes=c.ETHNICITY_CODES,
            personal="special-category",
            published=False,
        ),
        Column(
            "religion", "String", "Religion", codes=c.RELIGIONS, personal="special-category", published=False
        ),
        Column(
            "health_condition_12m",
            "String",
            "Health condition lasting 12 months or more",
            codes=c.YES_NO_PNS,
            personal="special-category",
            published=False,
        ),
        Column(
            "activity_limited",
            "String",
            "Day-to-day activities limited (only when a condition is reported)",
            codes=c.ACTIVITY_LIMITED,
            personal="special-category",
            published=False,
        ),
        Column(
            "confidence_understands_issues",
            "Int64",
            "Police understand local issues, 1-5",
            minimum=1,
            maximum=5,
        ),
        Column(
            "confidence_deals_with_asb", "Int64", "Police deal with ASB and crime, 1-5", minimum=1, maximum=5
        ),
        Column(
            "citizen_key",
            "String",
            "Keyed HMAC of a contact detail, only if repeat-contact analysis is approved",
            pattern=KEY_16_HEX,
            personal="personal",
            published=False,
        ),
        *lineage(source=True),
    ),
    key=("ccr_id",),
    rules=(
        RequireEmpty(
            "consent-gate",
            Condition("diversity_consent", "ne", True),
            DEMOGRAPHIC_COLUMNS,
            "demographic answer recorded without diversity consent",
        ),
        RequireEmpty(
            "u16-gender-identity",
            Condition("age_band", "eq", "U16"),
            ("gender_same_as_birth",),
            "the gender identity question is for ages 16 and over",
        ),
        RequireEmpty(
            "activity-without-condition",
            Condition("health_condition_12m", "ne", "Y"),
            ("activity_limited",),
            "activity limitation recorded without a health condition",
        ),
        RequirePresent(
            "event-link",
            Condition("contact_setting", "eq", "EVENT"),
            ("event_id",),
            "contact at an EVENT needs the event",
        ),
        RequireEmpty(
            "event-link",
            Condition("contact_setting", "ne", "EVENT"),
            ("event_id",),
            "an event is linked but the contact setting is not EVENT",
        ),
        NotAfterAsOf("recorded-in-future", "recorded_utc", "recorded in the future"),
    ),
)

CCR_ISSUES = issue_bridge(
    "ccr_issues", "Issues raised in each CCR (bridge)", ("ccr", text_id("ccr_id", "CCR"))
)

CCR_DEMOGRAPHICS_AGG = Table(
    "ccr_demographics_agg",
    "Consenting CCR demographics by LPT and month, under disclosure control (10-5 rule)",
    (
        lpt(),
        local_date("month", "First day of the month (Europe/London)"),
        Column("dimension", "String", "Demographic question", required=True, codes=c.DEMOGRAPHIC_DIMENSIONS),
        Column("category", "String", "Answer code within the dimension", required=True, max_length=50),
        Column("count", "Int64", "Rounded count; empty when suppressed", minimum=0, summarize_by="sum"),
        Column(
            "count_display",
            "String",
            "Count as shown: a multiple of 5, or [c] when suppressed",
            required=True,
            max_length=10,
        ),
        flag("is_suppressed", "The cell was suppressed (primary or secondary)"),
        *lineage(),
    ),
    key=("lpt_code", "month", "dimension", "category"),
    row_level=False,
)

LOADS = Table(
    "_loads",
    "Publish commit ledger: one row per load, posted only after every chunk of the load was acknowledged",
    (
        Column(
            "load_id",
            "String",
            "Load id (the load's start, UTC, to the microsecond)",
            required=True,
            max_length=64,
        ),
        Column(
            "load_seq",
            "Int64",
            "Load sequence number; a later load's version of a key replaces an earlier one",
            required=True,
            minimum=1,
        ),
        Column(
            "full_tables",
            "String",
            "Tables this load restates whole, as |name|name|: their versions from earlier loads are not shown",
            max_length=4_000,
        ),
        Column("tables", "String", "Tables the load wrote rows to, as |name|name|", max_length=4_000),
        Column("row_counts", "String", "Rows posted per table, as name=count|name=count", max_length=4_000),
        Column("rows_posted", "Int64", "Rows the load posted over all tables", required=True, minimum=0),
        utc("started_utc", "When the load started"),
        utc("completed_utc", "When the last chunk was acknowledged"),
    ),
    key=("load_id",),
    publish_mode="control",
)

MEASURES = (
    Measure(
        "Events completed",
        "events",
        'CALCULATE(COUNTROWS(events), events[status] = "COMPLETED")',
        "Events with status COMPLETED",
        "#,0",
    ),
    Measure(
        "Total attendance",
        "events",
        'CALCULATE(SUM(events[total_attendance]), events[status] = "COMPLETED")',
        "People attending completed events",
        "#,0",
    ),
    Measure(
        "Officers involved",
        "events",
        'CALCULATE(SUM(events[officers_present]), events[status] = "COMPLETED")',
        "Officer attendances at completed events",
        "#,0",
    ),
    Measure(
        "Distinct officers",
        "event_officers",
        "DISTINCTCOUNT(event_officers[officer_key])",
        "Different officers linked to events",
        "#,0",
    ),
    Measure("CCRs", "ccr", "COUNTROWS(ccr)", "Community contact records", "#,0"),
    Measure(
        "Information submitted",
        "ccr",
        "CALCULATE(COUNTROWS(ccr), ccr[information_submitted] = TRUE())",
        "CCRs where information was submitted",
        "#,0",
    ),
    Measure(
        "Smart Alert sign-ups",
        "ccr",
        "CALCULATE(COUNTROWS(ccr), ccr[smart_alert_signup] = TRUE())",
        "CCRs with a Smart Alert referral",
        "#,0",
    ),
    Measure(
        "Diversity consent rate",
        "ccr",
        "DIVIDE(CALCULATE(COUNTROWS(ccr), ccr[diversity_consent] = TRUE()), COUNTROWS(ccr))",
        "Share of CCRs where the person consented to the diversity questions",
        "0.0%",
    ),
)


def _to(from_table: str, column: str, to_table: str, to_column: str | None = None) -> Relationship:
    return Relationship(from_table, column, to_table, to_column or column)


RELATIONSHIPS = (
    _to("events", "lpt_code", "areas"),
    _to("events", "created_by_officer_key", "officers", "officer_key"),
    _to("event_officers", "event_id", "events"),
    _to("event_officers", "officer_key", "officers"),
    _to("event_communities", "event_id", "events"),
    _to("event_issues", "event_id", "events"),
    _to("event_issues", "theme_code", "themes"),
    _to("you_said_we_did", "lpt_code", "areas"),
    _to("you_said_we_did", "theme_code", "themes"),
    _to("ccr", "lpt_code", "areas"),
    _to("ccr", "officer_key", "officers"),
    _to("ccr_issues", "ccr_id", "ccr"),
    _to("ccr_issues", "theme_code", "themes"),
    _to("ccr_demographics_agg", "lpt_code", "areas"),
)

# --- Analytics tables (issue 11): figures cetk computes from the staged tables (transforms/analytics.py) ---
# Never row-level and never special-category: counts of events, CCRs and words, under the rules of
# docs/report.md (the evaluation's counts under the disclosure policy of docs/disclosure.md).

ISSUE_TOP5 = Table(
    "issue_top5",
    "Top five issues raised per event, LPT, month and force, from event_issues and ccr_issues (aggregate)",
    (
        Column("issues_from", "String", "Which issue rows were counted", required=True, codes=c.ISSUE_SOURCES),
        Column("level", "String", "What a group is", required=True, codes=c.TOP_ISSUE_LEVELS),
        Column("group_id", "String", "FORCE, the LPT code, YYYY-MM, LPT/YYYY-MM or the event id", required=True,
               max_length=100),
        lpt(required=False, description="LPT of the group (LPT and LPT_MONTH levels)"),
        local_date("month", "First day of the group's month (MONTH and LPT_MONTH levels)", required=False),
        text_id("event_id", "Event of the group (EVENT level)", required=False),
        Column("theme_code", "String", "Issue theme", required=True, codes=c.THEMES),
        Column("rank", "Int64", "Rank in the group (1 = raised by the most)", required=True, minimum=1, maximum=5),
        Column("count", "Int64", "Events or CCRs in the group that raised the theme", required=True, minimum=1),
        *lineage(),
    ),
    key=("issues_from", "level", "group_id", "theme_code"),
    row_level=False,
)  # fmt: skip

WORD_CLOUD = Table(
    "word_cloud",
    "Word-cloud weights: theme labels and scrubbed keywords used by at least the disclosure threshold of notes",
    (
        Column("word", "String", "Theme label or keyword", required=True, max_length=100),
        Column("source", "String", "Where the word comes from", required=True, codes=c.WORD_SOURCES),
        Column(
            "count", "Int64", "Issue rows (labels) or notes (keywords) using it", required=True, minimum=1
        ),
        *lineage(),
    ),
    key=("word", "source"),
    row_level=False,
)

YSWD_EVALUATION = Table(
    "yswd_evaluation",
    "Completed actions: the same theme raised in the same area in the weeks before and after (association only)",
    (
        text_id("action_id", "The completed 'You said, we did' action"),
        Column("area_level", "String", "Area the counts cover", required=True, codes=c.AREA_LEVELS),
        Column("area_code", "String", "Ward code or LPT code", required=True, max_length=20),
        lpt(),
        Column("theme_code", "String", "The action's theme", required=True, codes=c.THEMES),
        local_date("actioned_date", "Date the action was taken"),
        Column("weeks", "Int64", "Length of each window in weeks", required=True, minimum=1, maximum=52),
        Column("before_count", "Int64", "Events and CCRs raising the theme in the weeks before; rounded, empty when suppressed", minimum=0),
        Column("after_count", "Int64", "The same in the weeks from the action on; rounded, empty when suppressed", minimum=0),
        Column("before_display", "String", "before_count as shown: a multiple of 5, or the suppression marker", required=True, max_length=10),
        Column("after_display", "String", "after_count as shown, or 'not ended' while the weeks after are still running", required=True, max_length=10),
        flag("after_complete", "The weeks after the action had ended by the last date in the data"),
        Column("comparison", "String", "Published counts compared (an association, never a cause)", required=True,
               codes=c.EVALUATION_COMPARISONS),
        *lineage(),
    ),
    key=("action_id", "area_level"),
    row_level=False,
)  # fmt: skip


COMPLETED_EVENTS = 'events[status] = "COMPLETED"'


def _completed(expression: str, *filters: str) -> str:
    """DAX: `expression` over completed events only (and any further filters)."""
    return f"CALCULATE({expression}, {', '.join((COMPLETED_EVENTS, *filters))})"


DAYS_TO_ACTION = "DATEDIFF(you_said_we_did[raised_date], you_said_we_did[actioned_date], DAY)"
ACTIONED = 'you_said_we_did[status] = "COMPLETED" && NOT ISBLANK(you_said_we_did[actioned_date])'
# Buckets of the time from raised to actioned, in days (inclusive); None: no upper bound.
DAYS_TO_ACTION_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("Actioned within 7 days", 0, 7),
    ("Actioned in 8 to 28 days", 8, 28),
    ("Actioned in 29 to 90 days", 29, 90),
    ("Actioned after 90 days", 91, None),
)


def _actioned_between(low: int, high: int | None) -> str:
    window = f"{DAYS_TO_ACTION} >= {low}" + (f" && {DAYS_TO_ACTION} <= {high}" if high is not None else "")
    return f"COUNTROWS(FILTER(you_said_we_did, {ACTIONED} && {window}))"


ANALYTICS_MEASURES = (
    Measure("Events recorded", "events", "COUNTROWS(events)", "Events of any status", "#,0"),
    Measure(
        "Officers submitting events",
        "events",
        "DISTINCTCOUNT(events[created_by_officer_key])",
        "Different officers who booked events",
        "#,0",
    ),
    Measure(
        "Intelligence submissions",
        "events",
        _completed("SUM(events[intel_submissions])"),
        "Intelligence submissions made at completed events",
        "#,0",
    ),
    Measure(
        "Events suitable for publishing",
        "events",
        _completed("COUNTROWS(events)", "events[suitable_for_publishing] = TRUE()"),
        "Completed events marked suitable for publishing",
        "#,0",
    ),
    Measure(
        "Community links",
        "event_communities",
        _completed("COUNTROWS(event_communities)"),
        "Communities supported, counted once per completed event",
        "#,0",
    ),
    Measure(
        "Officer attendances linked",
        "event_officers",
        "COUNTROWS(event_officers)",
        "Officers linked to events, counted once per event (officer volume)",
        "#,0",
    ),
    Measure(
        "CCRs at events",
        "ccr",
        "CALCULATE(COUNTROWS(ccr), NOT ISBLANK(ccr[event_id]))",
        "CCRs recorded at an engagement event",
        "#,0",
    ),
    Measure(
        "CCR officers", "ccr", "DISTINCTCOUNT(ccr[officer_key])", "Different officers recording CCRs", "#,0"
    ),
    Measure(
        "CCRs raising an issue",
        "ccr_issues",
        'CALCULATE(DISTINCTCOUNT(ccr_issues[ccr_id]), ccr_issues[theme_code] <> "NO_ISSUES")',
        "CCRs with at least one issue other than 'no issues'",
        "#,0",
    ),
    Measure("Actions", "you_said_we_did", "COUNTROWS(you_said_we_did)", "'You said, we did' actions", "#,0"),
    Measure(
        "Actions completed",
        "you_said_we_did",
        'CALCULATE(COUNTROWS(you_said_we_did), you_said_we_did[status] = "COMPLETED")',
        "Actions with status COMPLETED",
        "#,0",
    ),
    Measure(
        "Issues still open",
        "you_said_we_did",
        'CALCULATE(COUNTROWS(you_said_we_did), you_said_we_did[status] IN {"OPEN", "IN_PROGRESS"})',
        "Actions not yet completed (open or in progress)",
        "#,0",
    ),
    Measure(
        "Median days to action",
        "you_said_we_did",
        f"MEDIANX(FILTER(you_said_we_did, {ACTIONED}), {DAYS_TO_ACTION})",
        "Median days from raised to actioned, completed actions",
        "#,0.0",
    ),
    *(
        Measure(
            name, "you_said_we_did", _actioned_between(low, high), f"Completed actions: {name.lower()}", "#,0"
        )
        for name, low, high in DAYS_TO_ACTION_BUCKETS
    ),
    Measure(
        "Actions evaluated",
        "yswd_evaluation",
        "DISTINCTCOUNT(yswd_evaluation[action_id])",
        "Completed actions with before-and-after counts (association, not cause)",
        "#,0",
    ),
)

ANALYTICS_RELATIONSHIPS = (
    _to("issue_top5", "theme_code", "themes"),
    _to("yswd_evaluation", "action_id", "you_said_we_did"),
)


DATASET = Dataset(
    "Community Engagement",
    (
        AREAS,
        OFFICERS,
        EVENTS,
        EVENT_OFFICERS,
        EVENT_COMMUNITIES,
        EVENT_ISSUES,
        THEMES,
        YOU_SAID_WE_DID,
        CCR,
        CCR_ISSUES,
        CCR_DEMOGRAPHICS_AGG,
        ISSUE_TOP5,
        WORD_CLOUD,
        YSWD_EVALUATION,
        LOADS,
    ),
    relationships=RELATIONSHIPS + ANALYTICS_RELATIONSHIPS,
    measures=MEASURES + ANALYTICS_MEASURES,
)
