"""The Forms mapping file: the documented example, round trip, export matching and check refusals."""

from __future__ import annotations

from dataclasses import replace

import pytest

from errors import ConfigError
from powerbi_dataset.model import DATASET
from tests.transforms.test_list_mapping import doc_example
from transforms.forms_mapping import (
    FormsMapping,
    QuestionMapping,
    check_forms_mapping,
    dump_forms_mapping,
    forms_for_export,
    load_forms_mapping,
    response_key,
)


@pytest.fixture(scope="module")
def example() -> FormsMapping:
    return load_forms_mapping(doc_example("Forms mapping"), "forms/mapping.yaml")


def messages(mapping: FormsMapping) -> list[str]:
    return [str(problem) for problem in check_forms_mapping(mapping, DATASET)]


def with_question(mapping: FormsMapping, question: QuestionMapping) -> FormsMapping:
    form = mapping.forms[0]
    kept = tuple(q for q in form.questions if q.text != question.text)
    return replace(mapping, forms=(replace(form, questions=(*kept, question)),))


def test_the_documented_example_loads_and_checks_clean(example: FormsMapping) -> None:
    assert messages(example) == []
    form = example.forms[0]
    assert form.constants == (("lpt_code", "STOKE_N"), ("smart_alert_signup", False))
    assert form.respondent == "officer_key"
    consent = form.question("Did the person consent to the diversity questions?")
    assert consent.choices == (("Yes", True), ("No", False))
    issues = form.question("What issues did the person raise?")
    assert issues.multi and issues.bridge == "ccr_issues"
    assert form.question("Any other comments").is_ignored


def test_dump_then_load_gives_the_same_mapping_and_the_same_text(example: FormsMapping) -> None:
    text = dump_forms_mapping(example)
    again = load_forms_mapping(text, "forms/mapping.yaml")
    assert again == example
    assert dump_forms_mapping(again) == text


def test_an_export_belongs_to_a_form_by_file_name_else_by_its_questions(example: FormsMapping) -> None:
    form = example.forms[0]
    questions = [question.text for question in form.questions]
    assert forms_for_export(example, "forms_export_01_part2.xlsx", []) == (form,)
    unnamed = replace(example, forms=(replace(form, files=()),))
    assert forms_for_export(unnamed, "export.csv", reversed(questions)) == unnamed.forms
    assert forms_for_export(unnamed, "export.csv", questions[:-1]) == ()
    assert response_key("stoke-north-ccr", 17) == "forms:stoke-north-ccr:17"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1\nforms:\n  - {form: f, table: ccr, questions: {Q: {to: x, multi: yes}}}\n", "true or false"),
        ("version: 1\nforms:\n  - {form: f, table: ccr, questions: {Q: {to: x, choices: {A: 3}}}}\n",
         "text or true/false"),
        ("version: 1\nforms:\n  - {form: f, table: ccr}\n", "'questions' must map"),
        ("version: 1\nforms:\n  - {form: f, table: ccr, questions: {Q: {ignore: x, to: y}}}\n", "unknown key"),
        ("forms: []\n", "version: 1"),
    ],
)  # fmt: skip
def test_malformed_files_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_forms_mapping(text, "forms/mapping.yaml")
    assert str(caught.value).startswith("forms/mapping.yaml") and message in str(caught.value)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        (QuestionMapping("Where did the contact take place?", to="contact_setting", choices=(("Patrol", "WALK"),)),
         "'WALK' is not a code of ccr.contact_setting"),
        (QuestionMapping("Where did the contact take place?", to="contact_setting"), "map each answer"),
        (QuestionMapping("Did the person consent to the diversity questions?", to="diversity_consent",
                         choices=(("Yes", "Y"),)), "is Boolean: map answers to true or false"),
        (QuestionMapping("What issues did the person raise?", to="theme_code", multi=True), "needs a bridge"),
        (QuestionMapping("What issues did the person raise?", to="theme_code", multi=True, bridge="event_issues"),
         "'ccr_id' is not a column of table 'event_issues'"),
        (QuestionMapping("Date of contact", to="recorded_on"), "'recorded_on' is not a column of table 'ccr'"),
        (QuestionMapping("Date of contact", to="recorded_utc"), "'recorded_utc' is already fed by completion_time"),
    ],
)  # fmt: skip
def test_check_names_form_question_and_reason(
    example: FormsMapping, question: QuestionMapping, message: str
) -> None:
    found = messages(with_question(example, question))
    assert any(f"form 'stoke-north-ccr', question '{question.text}'" in m and message in m for m in found), (
        found
    )


def test_form_level_mistakes(example: FormsMapping) -> None:
    form = example.forms[0]
    assert any(
        "lower-case letters" in m
        for m in messages(replace(example, forms=(replace(form, form="Stoke North"),)))
    )
    assert any("more than once" in m for m in messages(replace(example, forms=(form, form))))
    unknown_lpt = replace(example, forms=(replace(form, constants=(("lpt_code", "GOTHAM"),)),))
    assert any("constants: 'GOTHAM' is not a code of ccr.lpt_code" in m for m in messages(unknown_lpt))
    dated = replace(example, forms=(replace(form, completion_time="recorded_local_date"),))
    assert any(
        "completion_time: ccr.recorded_local_date is not a date-time column" in m for m in messages(dated)
    )


def test_respondent_feeds_an_officer_key_and_constants_may_be_flags(example: FormsMapping) -> None:
    form = example.forms[0]
    flagged = replace(
        form, respondent="officer_key", constants=(*form.constants, ("information_submitted", True))
    )
    mapping = replace(example, forms=(flagged,))
    assert messages(mapping) == []
    assert load_forms_mapping(dump_forms_mapping(mapping), "x.yaml") == mapping
    wrong = replace(example, forms=(replace(form, respondent="contact_setting"),))
    assert any("respondent: ccr.contact_setting does not hold officer keys" in m for m in messages(wrong))
    not_a_flag = replace(example, forms=(replace(form, constants=(("smart_alert_signup", "no"),)),))
    assert any("ccr.smart_alert_signup is Boolean" in m for m in messages(not_a_flag))
