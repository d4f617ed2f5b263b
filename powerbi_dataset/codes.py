"""Code lists of the canonical model (UK standards where they exist), each code with its display label.

Sources are in shared/docs/domain-model.md: Census 2021 ethnicity (19 categories) and religion, GSS
harmonised disability questions, the ten Staffordshire LPTs since June 2022, and proposed local lists.
"""

from __future__ import annotations

from powerbi_dataset.schema import Code


def codes(*pairs: tuple[str, str]) -> tuple[Code, ...]:
    return tuple(Code(code, label) for code, label in pairs)


# code, name, base, local authority (base -> LA mapping inferred; confirm against force codes)
LPTS: tuple[tuple[str, str, str, str], ...] = (
    ("STOKE_N", "Stoke North (Hanley)", "Hanley", "Stoke-on-Trent"),
    ("STOKE_S", "Stoke South (Longton)", "Longton", "Stoke-on-Trent"),
    ("NEWCASTLE", "Newcastle-under-Lyme", "Newcastle", "Newcastle-under-Lyme"),
    ("MOORLANDS", "Staffordshire Moorlands", "Leek", "Staffordshire Moorlands"),
    ("STAFFORD", "Stafford", "Stafford", "Stafford"),
    ("EAST_STAFFS", "East Staffordshire", "Burton", "East Staffordshire"),
    ("SOUTH_STAFFS", "South Staffordshire", "Codsall", "South Staffordshire"),
    ("CANNOCK", "Cannock Chase", "Cannock", "Cannock Chase"),
    ("LICHFIELD", "Lichfield", "Lichfield", "Lichfield"),
    ("TAMWORTH", "Tamworth", "Tamworth", "Tamworth"),
)
LPT_CODES = codes(*((code, name) for code, name, _base, _la in LPTS))

OFFICER_ROLES = codes(
    ("PC", "Police constable"),
    ("PCSO", "Police community support officer"),
    ("SC", "Special constable"),
    ("SGT", "Sergeant"),
    ("INSP", "Inspector"),
    ("STAFF", "Police staff"),
    ("VOL", "Police support volunteer"),
    ("OTHER", "Other"),
)

EVENT_STATUSES = codes(("PLANNED", "Planned"), ("COMPLETED", "Completed"), ("CANCELLED", "Cancelled"))

EVENT_TYPES = codes(
    ("COMMUNITY_MEETING", "Community meeting (PACT, residents)"),
    ("BEAT_SURGERY", "Beat surgery (drop-in)"),
    ("SCHOOL_YOUTH", "School or youth engagement"),
    ("COMMUNITY_EVENT", "Community event (fete, fun day)"),
    ("FAITH_VISIT", "Faith visit"),
    ("BUSINESS_ENGAGEMENT", "Business engagement"),
    ("RURAL_ENGAGEMENT", "Rural engagement"),
    ("NHW_MEETING", "Neighbourhood Watch meeting"),
    ("CRIME_PREVENTION", "Crime prevention (property marking etc.)"),
    ("PARTNERSHIP_MEETING", "Partnership meeting"),
    ("ONLINE_ENGAGEMENT", "Online engagement"),
    ("OTHER", "Other"),
)

COMMUNITIES = codes(
    ("YOUNG_PEOPLE", "Young people"),
    ("OLDER_PEOPLE", "Older people"),
    ("BUSINESS", "Business"),
    ("RURAL", "Rural"),
    ("FAITH", "Faith"),
    ("ETHNIC_MINORITY", "Ethnic minority"),
    ("LGBT_PLUS", "LGBT+"),
    ("DISABLED_PEOPLE", "Disabled people"),
    ("STUDENTS", "Students"),
    ("VICTIMS", "Victims"),
    ("RESIDENTS_GENERAL", "Residents (general)"),
    ("OTHER", "Other"),
)

VALUE_GAINED = codes(("HIGH", "High"), ("MEDIUM", "Medium"), ("LOW", "Low"), ("NONE", "None"))

THEMES = codes(
    ("ASB", "Anti-social behaviour"),
    ("YOUTH_ASB", "Youth anti-social behaviour"),
    ("SPEEDING_ROAD_SAFETY", "Speeding and road safety"),
    ("PARKING", "Parking"),
    ("DRUGS", "Drugs"),
    ("BURGLARY", "Burglary"),
    ("VEHICLE_CRIME", "Vehicle crime"),
    ("THEFT_SHOPLIFTING", "Theft and shoplifting"),
    ("VIOLENCE", "Violence"),
    ("KNIFE_CRIME", "Knife crime"),
    ("CRIMINAL_DAMAGE_GRAFFITI", "Criminal damage and graffiti"),
    ("FLY_TIPPING_ENVIRONMENTAL", "Fly-tipping and environmental"),
    ("NOISE", "Noise"),
    ("NEIGHBOUR_DISPUTE", "Neighbour dispute"),
    ("FRAUD_SCAMS", "Fraud and scams"),
    ("CYBER", "Cyber crime"),
    ("HATE_CRIME", "Hate crime"),
    ("EXPLOITATION", "Exploitation"),
    ("DOMESTIC_ABUSE", "Domestic abuse"),
    ("ALCOHOL_LICENSING", "Alcohol and licensing"),
    ("BEGGING_ROUGH_SLEEPING", "Begging and rough sleeping"),
    ("OFF_ROAD_BIKES", "Off-road bikes"),
    ("RURAL_CRIME", "Rural crime"),
    ("NO_ISSUES", "No issues raised"),
    ("OTHER", "Other"),
)
NO_ISSUES = "NO_ISSUES"

YSWD_ORIGINS = codes(
    ("EVENT", "Engagement event"),
    ("CCR", "Community contact record"),
    ("MEETING", "Meeting"),
    ("ONLINE", "Online"),
    ("OTHER", "Other"),
)

WE_DID_TYPES = codes(
    ("MEDIA_APPEAL", "Media appeal"),
    ("PATROL_PLAN", "Patrol plan"),
    ("REASSURANCE", "Reassurance (visits, letter drop)"),
    ("CRIME_PREVENTION_ADVICE", "Crime prevention advice"),
    ("PARTNER_REFERRAL", "Partner referral"),
    ("ENFORCEMENT_OPERATION", "Enforcement operation"),
    ("ASB_TOOLS", "ASB tools and powers (CPW, CPN)"),
    ("ROAD_SAFETY_OP", "Road safety operation"),
    ("SMART_ALERT_MESSAGE", "Smart Alert message"),
    ("PROBLEM_SOLVING_PLAN", "Problem-solving plan"),
    ("SIGNPOSTING", "Signposting"),
    ("OTHER", "Other"),
)

YSWD_STATUSES = codes(
    ("OPEN", "Open"),
    ("IN_PROGRESS", "In progress"),
    ("COMPLETED", "Completed"),
    ("NOT_ACTIONED", "Not actioned"),
)

PUBLISHED_CHANNELS = codes(
    ("WEBSITE", "Website"),
    ("SOCIAL_MEDIA", "Social media"),
    ("SMART_ALERT", "Smart Alert"),
    ("NEWSLETTER", "Newsletter"),
    ("COMMUNITY_MEETING", "Community meeting"),
)

CONTACT_SETTINGS = codes(
    ("PATROL", "Patrol"),
    ("EVENT", "At an engagement event"),
    ("DOOR_KNOCK", "Door knock"),
    ("BUSINESS_VISIT", "Business visit"),
    ("PHONE_ONLINE", "Phone or online"),
    ("OTHER", "Other"),
)

AGE_BANDS = codes(
    ("U16", "Under 16"),
    ("16-24", "16 to 24"),
    ("25-34", "25 to 34"),
    ("35-44", "35 to 44"),
    ("45-54", "45 to 54"),
    ("55-64", "55 to 64"),
    ("65-74", "65 to 74"),
    ("75+", "75 and over"),
    ("PNS", "Prefer not to say"),
)

SEXES = codes(("F", "Female"), ("M", "Male"), ("PNS", "Prefer not to say"))
YES_NO_PNS = codes(("Y", "Yes"), ("N", "No"), ("PNS", "Prefer not to say"))
ACTIVITY_LIMITED = codes(("A_LOT", "Yes, a lot"), ("A_LITTLE", "Yes, a little"), ("NOT_AT_ALL", "Not at all"))

# Census 2021 (England and Wales) 19 categories + prefer not to say; group and police SDE 18+1 code.
ETHNICITIES: tuple[tuple[str, str, str, str], ...] = (
    ("A_INDIAN", "Indian", "ASIAN", "A1"),
    ("A_PAKISTANI", "Pakistani", "ASIAN", "A2"),
    ("A_BANGLADESHI", "Bangladeshi", "ASIAN", "A3"),
    ("A_CHINESE", "Chinese", "ASIAN", "A4"),
    ("A_OTHER", "Any other Asian background", "ASIAN", "A9"),
    ("B_CARIBBEAN", "Caribbean", "BLACK", "B1"),
    ("B_AFRICAN", "African", "BLACK", "B2"),
    ("B_OTHER", "Any other Black, Black British or Caribbean background", "BLACK", "B9"),
    ("M_WHITE_BLACK_CARIBBEAN", "White and Black Caribbean", "MIXED", "M1"),
    ("M_WHITE_BLACK_AFRICAN", "White and Black African", "MIXED", "M2"),
    ("M_WHITE_ASIAN", "White and Asian", "MIXED", "M3"),
    ("M_OTHER", "Any other Mixed or Multiple background", "MIXED", "M9"),
    ("W_BRITISH", "English, Welsh, Scottish, Northern Irish or British", "WHITE", "W1"),
    ("W_IRISH", "Irish", "WHITE", "W2"),
    ("W_GYPSY_TRAVELLER", "Gypsy or Irish Traveller", "WHITE", "W3"),
    ("W_ROMA", "Roma", "WHITE", "W9"),  # SDE 18+1 has no Roma code
    ("W_OTHER", "Any other White background", "WHITE", "W9"),
    ("O_ARAB", "Arab", "OTHER", "O2"),
    ("O_OTHER", "Any other ethnic group", "OTHER", "O9"),
    ("PNS", "Prefer not to say", "NOT_STATED", "NS"),
)
ETHNICITY_CODES = codes(*((code, label) for code, label, _group, _sde in ETHNICITIES))
ETHNIC_GROUP_BY_CODE = {code: group for code, _label, group, _sde in ETHNICITIES}
SDE_BY_CODE = {code: sde for code, _label, _group, sde in ETHNICITIES}
ETHNIC_GROUPS_5 = codes(
    ("ASIAN", "Asian, Asian British or Asian Welsh"),
    ("BLACK", "Black, Black British, Black Welsh, Caribbean or African"),
    ("MIXED", "Mixed or Multiple ethnic groups"),
    ("WHITE", "White"),
    ("OTHER", "Other ethnic group"),
    ("NOT_STATED", "Not stated"),
)

RELIGIONS = codes(
    ("NONE", "No religion"),
    ("CHRISTIAN", "Christian"),
    ("BUDDHIST", "Buddhist"),
    ("HINDU", "Hindu"),
    ("JEWISH", "Jewish"),
    ("MUSLIM", "Muslim"),
    ("SIKH", "Sikh"),
    ("OTHER", "Any other religion"),
    ("PNS", "Prefer not to say"),
)

DEMOGRAPHIC_DIMENSIONS = codes(
    ("AGE_BAND", "Age band"),
    ("SEX", "Sex"),
    ("GENDER_SAME_AS_BIRTH", "Gender same as sex registered at birth"),
    ("ETHNIC_GROUP_5", "Ethnic group (5 groups)"),
    ("ETHNICITY_2021", "Ethnicity (Census 2021, 19 categories)"),
    ("RELIGION", "Religion"),
    ("HEALTH_CONDITION_12M", "Long-term health condition"),
    ("ACTIVITY_LIMITED", "Day-to-day activities limited"),
)

SOURCE_SYSTEMS = codes(
    ("sp_list", "Microsoft Lists (PowerApp)"), ("forms_legacy", "Legacy Microsoft Forms export")
)

# --- analytics tables (issue 11): the published figures cetk computes from the staged tables --------------
ISSUE_SOURCES = codes(("EVENTS", "Issues raised at events"), ("CCRS", "Issues raised in CCRs"))
TOP_ISSUE_LEVELS = codes(
    ("FORCE", "Whole force"),
    ("LPT", "Local policing team"),
    ("MONTH", "Month"),
    ("LPT_MONTH", "Local policing team and month"),
    ("EVENT", "Event"),
)
WORD_SOURCES = codes(("THEME", "Theme label"), ("KEYWORD", "Keyword from scrubbed text"))
AREA_LEVELS = codes(("WARD", "Ward"), ("LPT", "Local policing team"))
EVALUATION_COMPARISONS = codes(
    ("FEWER_AFTER", "Raised less often after"),
    ("MORE_AFTER", "Raised more often after"),
    ("NO_CHANGE", "Raised as often after"),
    ("NOT_COMPARABLE", "Not comparable (a count is suppressed or the weeks after have not ended)"),
)
