"""The demo force's legacy Forms, in the product's Forms mapping format: wording, targets and answers.

Three LPTs each ran their own Microsoft Form, so the same questions are worded differently, and the
oldest form still offered the 16+1 ethnicity answers. The export writer (emulator/demo/forms.py) asks
these questions; `cetk emulator serve` writes this mapping as STATE_DIR/forms/mapping.yaml.
"""

from __future__ import annotations

from powerbi_dataset import codes as c
from powerbi_dataset.schema import Code
from transforms.forms_mapping import FormMapping, FormsMapping, QuestionMapping

# Census 2021 code -> the older 16+1 answer a legacy form offered (O1 Chinese became A4 in 18+1).
LEGACY_16_PLUS_1 = {
    "W_BRITISH": "White - British (W1)", "W_IRISH": "White - Irish (W2)", "W_GYPSY_TRAVELLER": "Any other White background (W9)",
    "W_ROMA": "Any other White background (W9)", "W_OTHER": "Any other White background (W9)",
    "M_WHITE_BLACK_CARIBBEAN": "White and Black Caribbean (M1)", "M_WHITE_BLACK_AFRICAN": "White and Black African (M2)",
    "M_WHITE_ASIAN": "White and Asian (M3)", "M_OTHER": "Any other mixed background (M9)",
    "A_INDIAN": "Indian (A1)", "A_PAKISTANI": "Pakistani (A2)", "A_BANGLADESHI": "Bangladeshi (A3)",
    "A_CHINESE": "Chinese (O1)", "A_OTHER": "Any other Asian background (A9)", "B_CARIBBEAN": "Caribbean (B1)",
    "B_AFRICAN": "African (B2)", "B_OTHER": "Any other Black background (B9)", "O_ARAB": "Any other ethnic group (O9)",
    "O_OTHER": "Any other ethnic group (O9)", "PNS": "Not stated (NS)",
}  # fmt: skip
COMMENTS = "free text; may name people, never leaves the export"


def labelled(codes: tuple[Code, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((code.label, code.code) for code in codes)


def legacy_ethnicity() -> tuple[tuple[str, str], ...]:
    """Each 16+1 answer to a Census 2021 code; a catch-all (W9, O9) reads as that group's `_OTHER`."""
    answers: dict[str, str] = {}
    for code, answer in LEGACY_16_PLUS_1.items():
        if answer not in answers or code.endswith("_OTHER"):
            answers[answer] = code
    return tuple(answers.items())


def questions(wording: dict[str, str], *, legacy: bool = False) -> tuple[QuestionMapping, ...]:
    """The eight questions every demo form asks, in its own wording (keys: what each one is about)."""
    ethnicity = legacy_ethnicity() if legacy else labelled(c.ETHNICITY_CODES)
    return (
        QuestionMapping(wording["date"], to="recorded_local_date"),
        QuestionMapping(wording["setting"], to="contact_setting", choices=labelled(c.CONTACT_SETTINGS)),
        QuestionMapping(
            wording["issues"], to="theme_code", choices=labelled(c.THEMES), multi=True, bridge="ccr_issues"
        ),
        QuestionMapping(wording["comments"], ignore=COMMENTS),
        QuestionMapping(wording["consent"], to="diversity_consent", choices=(("Yes", True), ("No", False))),
        QuestionMapping(wording["age_band"], to="age_band", choices=labelled(c.AGE_BANDS)),
        QuestionMapping(wording["ethnicity"], to="ethnicity_2021", choices=ethnicity),
        QuestionMapping(wording["religion"], to="religion", choices=labelled(c.RELIGIONS)),
    )


def form(
    number: int, form_id: str, title: str, lpt_code: str, wording: dict[str, str], *, legacy: bool = False
) -> FormMapping:
    # The legacy forms never asked about information submitted or Smart Alert: recorded as not done.
    constants = (("lpt_code", lpt_code), ("information_submitted", False), ("smart_alert_signup", False))
    return FormMapping(
        form=form_id, table="ccr", title=title, files=(f"forms_export_{number:02d}_*",),
        constants=constants, completion_time="recorded_utc", respondent="officer_key",
        questions=questions(wording, legacy=legacy),
    )  # fmt: skip


DEMO_FORMS_MAPPING = FormsMapping(
    forms=(
        form(1, "stoke-north-ccr", "Stoke North community contact", "STOKE_N", {
            "date": "Date of contact", "setting": "Where did the contact take place?",
            "issues": "What issues did the person raise?", "comments": "Any other comments",
            "consent": "Did the person consent to the diversity questions?", "age_band": "Age band",
            "ethnicity": "Ethnicity", "religion": "Religion",
        }),
        form(2, "newcastle-ccr", "Newcastle contact record", "NEWCASTLE", {
            "date": "Date of contact", "setting": "Setting", "issues": "Issues raised", "comments": "Notes",
            "consent": "Diversity consent given", "age_band": "Age", "ethnicity": "Ethnic group", "religion": "Faith",
        }),
        form(3, "moorlands-ccr", "Moorlands CCR (legacy)", "MOORLANDS", {
            "date": "Date of contact", "setting": "Type of contact", "issues": "Concerns", "comments": "Comments",
            "consent": "Consent to equality questions?", "age_band": "Age range",
            "ethnicity": "Ethnicity (self-defined)", "religion": "Religion or belief",
        }, legacy=True),
    ),
    source="forms/mapping.yaml",
)  # fmt: skip
