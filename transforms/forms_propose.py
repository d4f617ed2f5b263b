"""Propose a Forms mapping from exports: questions to canonical columns and answers to codes, each scored.

Pure: question wordings and the distinct answers seen (never stored beyond what a choice map needs) in,
a `FormMapping` with a `confidence` (0-1) on every entry out, for a person to review. Matching uses the
standard library's difflib, enough for texts this short (docs/architecture.md, no fuzzy-matching
dependency). Evidence, strongest first: answers that are the column's codes or labels (a legacy 16+1
ethnicity answer by its code in brackets, "White - British (W1)"), answers that read as dates, then the
question's words against the column's name and description.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from powerbi_dataset.codes import SDE_BY_CODE
from powerbi_dataset.schema import Column, Dataset, Table
from transforms.forms_mapping import FormMapping, QuestionMapping

REVIEW_BELOW = 0.7  # entries under this confidence are listed for review
PROPOSE_AT_LEAST = 0.45  # a weaker best match is not proposed: the question is left for a person
WORD_MATCH = 0.8  # two words match when difflib finds them this alike
LABEL_MATCH = 0.75
MAX_FREE_TEXT_SHARE = 0.5  # answers that mostly differ from each other are free text
NOT_PROPOSED = frozenset({"source_system", "source_item_id", "source_version", "load_id", "citizen_key"})
FREE_TEXT_WORDS = frozenset(
    {"comment", "comments", "note", "notes", "detail", "details", "other", "describe"}
)
PERSONAL_WORDS = frozenset({"name", "phone", "email", "address", "postcode", "birth", "mobile"})
YES = frozenset({"yes", "y", "true"})
NO = frozenset({"no", "n", "false"})
# 16+1 codes that the 18+1 standard kept (SDE_BY_CODE), plus the one it moved: O1 Chinese became A4.
_SDE_CODES = {sde: code for code, sde in reversed(list(SDE_BY_CODE.items())) if not code.endswith("_ROMA")}
LEGACY_ETHNICITY = {**_SDE_CODES, "W9": "W_OTHER", "O9": "O_OTHER", "O1": "A_CHINESE"}
_BRACKETED = re.compile(r"\(([A-Z]{1,2}\d?)\)\s*$")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class QuestionSample:
    """One question of an export: its wording, whether it is multi-select, its distinct answers."""

    text: str
    multi: bool
    answers: tuple[str, ...]
    dates: bool = False  # every answer reads as a date


@dataclass(frozen=True)
class _Candidate:
    score: float
    column: Column
    home: Table  # the form's table, or the bridge holding the column
    choices: tuple[tuple[str, str | bool], ...]
    unmatched: int


def propose_form(
    form_id: str, file_pattern: str, questions: Sequence[QuestionSample], table: Table, dataset: Dataset
) -> tuple[FormMapping, list[str]]:
    """A proposed FormMapping and its review lines (one per entry under REVIEW_BELOW, and what to add)."""
    completion_time, respondent = _first(table, ("recorded_utc",)), _first(table, ("officer_key",))
    ranked = sorted(
        (
            (candidate, question)
            for question in questions
            for candidate in _candidates(question, table, dataset)
        ),
        key=lambda pair: -pair[0].score,
    )
    taken = {(table.name, name) for name in (completion_time, respondent) if name}
    chosen: dict[str, _Candidate] = {}
    for candidate, question in ranked:
        target = (candidate.home.name, candidate.column.name)
        if question.text in chosen or target in taken or candidate.score < PROPOSE_AT_LEAST:
            continue
        chosen[question.text] = candidate
        taken.add(target)
    entries: list[QuestionMapping] = []
    review: list[str] = []
    for question in questions:
        entry = _entry(question, chosen.get(question.text), table)
        entries.append(entry)
        if entry.confidence is not None and entry.confidence < REVIEW_BELOW:
            review.append(
                f"{form_id}: '{question.text}' -> {entry.to or 'ignore'} (confidence {entry.confidence})"
            )
        unmatched = chosen[question.text].unmatched if question.text in chosen else 0
        if unmatched:
            review.append(
                f"{form_id}: '{question.text}': {unmatched} answer(s) have no code; add them to choices"
            )
    review.append(f"{form_id}: set `constants` (at least the LPT this form belonged to) and check `files`")
    mapping = FormMapping(
        form=form_id, table=table.name, questions=tuple(entries), files=(file_pattern,),
        completion_time=completion_time, respondent=respondent,
    )  # fmt: skip
    return mapping, review


def words(text: str) -> list[str]:
    found = _WORD.findall(text.lower().replace("_", " "))
    return [word[:-1] if word.endswith("s") and len(word) > 3 else word for word in found]


def similarity(question: str, descriptor: str) -> float:
    """Share of the question's words found (difflib-alike) among the descriptor's, blended with the ratio."""
    asked, offered = words(question), words(descriptor)
    if not asked or not offered:
        return 0.0
    hits = sum(
        1
        for word in asked
        if any(SequenceMatcher(None, word, other).ratio() >= WORD_MATCH for other in offered)
    )
    ratio = SequenceMatcher(None, " ".join(asked), " ".join(offered)).ratio()
    return max(hits / len(asked), ratio)


def code_for(answer: str, column: Column) -> str | bool | None:
    """The code an answer stands for: Yes/No for a flag, a code or label, a bracketed legacy code, or alike."""
    plain = answer.strip().lower()
    if column.kind == "Boolean":
        return True if plain in YES else False if plain in NO else None
    for code in column.codes:
        if plain in (code.code.lower(), code.label.lower()):
            return code.code
    bracketed = _BRACKETED.search(answer)
    if bracketed and column.name.startswith("ethnicity") and bracketed[1] in LEGACY_ETHNICITY:
        return LEGACY_ETHNICITY[bracketed[1]]
    best = max(
        column.codes, key=lambda code: SequenceMatcher(None, plain, code.label.lower()).ratio(), default=None
    )
    if best is not None and SequenceMatcher(None, plain, best.label.lower()).ratio() >= LABEL_MATCH:
        return best.code
    return None


def _candidates(question: QuestionSample, table: Table, dataset: Dataset) -> list[_Candidate]:
    homes = [table] if not question.multi else [
        bridge for bridge in dataset.tables if bridge.key and bridge.key[0] == table.key[0] and bridge is not table
    ]  # fmt: skip
    found: list[_Candidate] = []
    for home in homes:
        for column in home.columns:
            if column.name in NOT_PROPOSED or column.name in home.key[:1] or column.pattern is not None:
                continue
            candidate = _score(question, column, home)
            if candidate is not None:
                found.append(candidate)
    return found


def _score(question: QuestionSample, column: Column, home: Table) -> _Candidate | None:
    name = max(similarity(question.text, column.name), similarity(question.text, column.description))
    coded = bool(column.codes) or column.kind == "Boolean"
    if column.date_only or column.kind == "DateTime":  # a date answer is a day: a date-only column first
        weight = 1.0 if column.date_only else 0.8
        return (
            _Candidate(round(weight * (0.5 * name + 0.5), 2), column, home, (), 0) if question.dates else None
        )
    if question.dates:
        return None
    if not coded:
        return (
            None
            if column.kind != "String" or question.answers
            else _Candidate(round(name * 0.6, 2), column, home, (), 0)
        )
    choices = tuple(
        (answer, code) for answer in question.answers if (code := code_for(answer, column)) is not None
    )
    if not question.answers or not choices:
        return None
    share = len(choices) / len(question.answers)
    return _Candidate(
        round(0.35 * name + 0.65 * share, 2), column, home, choices, len(question.answers) - len(choices)
    )


def _entry(question: QuestionSample, candidate: _Candidate | None, table: Table) -> QuestionMapping:
    asked = set(words(question.text))
    if asked & PERSONAL_WORDS:
        return QuestionMapping(question.text, ignore="looks like personal data", confidence=0.9)
    if candidate is None:
        distinct = len(question.answers)
        if asked & FREE_TEXT_WORDS or (distinct and not question.multi and distinct >= 10):
            return QuestionMapping(
                question.text, ignore="looks like free text, which may name people", confidence=0.85
            )
        return QuestionMapping(question.text, ignore="no canonical column matches", confidence=0.5)
    bridge = candidate.home.name if candidate.home is not table else None
    return QuestionMapping(
        question.text, to=candidate.column.name, choices=candidate.choices, multi=bridge is not None,
        bridge=bridge, confidence=min(1.0, candidate.score),
    )  # fmt: skip


def _first(table: Table, names: Sequence[str]) -> str | None:
    return next((name for name in names if name in table.column_names), None)
