"""transforms.forms_propose: questions matched to columns and answers to codes, scored, for review."""

from __future__ import annotations

from powerbi_dataset.model import DATASET
from transforms.forms_propose import REVIEW_BELOW, QuestionSample, code_for, propose_form

CCR = DATASET.table("ccr")


def sample(text: str, *answers: str, multi: bool = False, dates: bool = False) -> QuestionSample:
    return QuestionSample(text, multi, tuple(answers), dates)


def test_legacy_16_plus_1_answers_map_to_census_2021_codes() -> None:
    ethnicity = CCR.column("ethnicity_2021")
    assert code_for("White - British (W1)", ethnicity) == "W_BRITISH"
    assert code_for("Chinese (O1)", ethnicity) == "A_CHINESE"  # 16+1's O1 became A4 in 18+1
    assert code_for("Any other White background (W9)", ethnicity) == "W_OTHER"
    assert code_for("Any other ethnic group (O9)", ethnicity) == "O_OTHER"
    assert code_for("Irish", ethnicity) == "W_IRISH"
    assert code_for("Martian", ethnicity) is None


def test_a_form_is_proposed_with_a_confidence_on_every_entry() -> None:
    questions = [
        sample("Date of the contact", dates=True),
        sample("Type of contact", "Patrol", "Door knock", "Business visit"),
        sample("Concerns", "Drugs", "Anti-social behaviour", "Noise", multi=True),
        sample("Consent to equality questions?", "Yes", "No"),
        sample("Religion or belief", "Christian", "No religion", "Jedi"),
        sample("Comments", "spoke about parking", "nothing to add"),
        sample("Your phone number", "07700 900123"),
        sample("Favourite colour", "Blue", "Green"),
    ]
    form, review = propose_form("north", "north_*", questions, CCR, DATASET)
    by_text = {question.text: question for question in form.questions}
    assert by_text["Date of the contact"].to == "recorded_local_date"
    assert by_text["Type of contact"].to == "contact_setting"
    assert dict(by_text["Type of contact"].choices) == {"Patrol": "PATROL", "Door knock": "DOOR_KNOCK",
                                                        "Business visit": "BUSINESS_VISIT"}  # fmt: skip
    assert (by_text["Concerns"].to, by_text["Concerns"].bridge, by_text["Concerns"].multi) == (
        "theme_code",
        "ccr_issues",
        True,
    )
    assert dict(by_text["Consent to equality questions?"].choices) == {"Yes": True, "No": False}
    assert by_text["Religion or belief"].to == "religion" and "Jedi" not in dict(
        by_text["Religion or belief"].choices
    )
    assert by_text["Comments"].ignore and by_text["Your phone number"].ignore == "looks like personal data"
    assert by_text["Favourite colour"].ignore == "no canonical column matches"
    assert all(question.confidence is not None for question in form.questions)
    assert (form.completion_time, form.respondent) == ("recorded_utc", "officer_key")
    assert any("'Religion or belief': 1 answer(s) have no code" in line for line in review)
    assert any("'Favourite colour' -> ignore" in line for line in review)
    flagged = [q.text for q in form.questions if q.confidence is not None and q.confidence < REVIEW_BELOW]
    assert all(any(f"'{text}'" in line for line in review) for text in flagged)


def test_each_column_is_proposed_once() -> None:
    questions = [sample("Setting", "Patrol", "Door knock"), sample("Where", "Patrol", "Door knock")]
    form, _review = propose_form("north", "north_*", questions, CCR, DATASET)
    assert [question.to for question in form.questions].count("contact_setting") == 1
