"""The Forms mapping: how each legacy Microsoft Forms export's questions feed the canonical model.

Same family as the list mapping (versioned YAML, docs/mapping.md): per form, a stable identity (part of
every response's migration key), the canonical table, the files that are its exports, values every
response gets, and per question (by its wording) the canonical column, a value map from answer text to
codes, and whether answers are multi-select. Pure: text in, values and problems out.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from powerbi_dataset.schema import Column, Dataset, Table
from transforms.mapping_file import Entry, MappingProblem, read_version, read_yaml, write_yaml
from transforms.mapping_targets import (
    bridge_problem,
    find_column,
    find_table,
    iter_code_problems,
    officer_key_columns,
)

FORMS_MAPPING_VERSION = 1
# A migrated response's canonical key: the form's identity and the export's response ID.
RESPONSE_KEY_TEMPLATE = "forms:{form}:{response_id}"
FORM_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")  # keeps RESPONSE_KEY_TEMPLATE within model ids (100)
HEADER = "# cetk Forms mapping: legacy Forms export questions -> canonical columns. Format: docs/mapping.md\n"
_QUESTION_KEYS = frozenset({"to", "choices", "multi", "bridge", "ignore", "confidence"})
_FORM_KEYS = frozenset(
    {"form", "title", "table", "files", "constants", "completion_time", "respondent", "questions"}
)


@dataclass(frozen=True)
class QuestionMapping:
    text: str  # the question's wording, as the export heads its column
    to: str | None = None  # the canonical column its answers feed
    choices: tuple[tuple[str, str | bool], ...] = ()  # answer text -> code (true/false for yes/no columns)
    multi: bool = False  # multi-select: answers are `;`-joined, each a row of `bridge`
    bridge: str | None = None
    ignore: str | None = None  # why the answers deliberately never leave the export
    confidence: float | None = None  # a proposal's confidence; a reviewed file may leave it out

    @property
    def is_ignored(self) -> bool:
        return self.ignore is not None


@dataclass(frozen=True)
class FormMapping:
    form: str  # stable identity: overlapping exports of one form share it, so responses dedupe
    table: str
    questions: tuple[QuestionMapping, ...]
    title: str | None = None
    files: tuple[str, ...] = ()  # glob patterns of this form's export file names
    constants: tuple[
        tuple[str, str | bool], ...
    ] = ()  # canonical column -> code (or flag) every response gets
    completion_time: str | None = None  # canonical column fed by the export's "Completion time"
    respondent: str | None = (
        None  # an officer-key column fed by the keyed pseudonym of the respondent's Email
    )

    def question(self, text: str) -> QuestionMapping:
        for question in self.questions:
            if question.text == text:
                return question
        raise KeyError(f"form {self.form!r} maps no question {text!r}")


@dataclass(frozen=True)
class FormsMapping:
    forms: tuple[FormMapping, ...]
    version: int = FORMS_MAPPING_VERSION
    source: str = field(default="forms/mapping.yaml", compare=False)


def response_key(form: str, response_id: str | int) -> str:
    return RESPONSE_KEY_TEMPLATE.format(form=form, response_id=response_id)


def forms_for_export(
    mapping: FormsMapping, file_name: str, questions: Iterable[str]
) -> tuple[FormMapping, ...]:
    """The forms an export may belong to: by `files` patterns, else by the exact set of questions."""
    by_name = tuple(form for form in mapping.forms if any(fnmatch.fnmatch(file_name, p) for p in form.files))
    if by_name:
        return by_name
    asked = set(questions)
    return tuple(form for form in mapping.forms if {q.text for q in form.questions} == asked)


def load_forms_mapping(text: str, source_name: str) -> FormsMapping:
    """Read a Forms mapping file; a malformed one is a ConfigError naming the file, form and question."""
    document = read_yaml(text, source_name)
    read_version(document, source_name, FORMS_MAPPING_VERSION, "Forms mapping")
    top = Entry(document, source_name, "the file", frozenset({"version", "forms"}))
    forms = tuple(_form(raw, source_name, index) for index, raw in enumerate(top.items("forms"), 1))
    return FormsMapping(forms, FORMS_MAPPING_VERSION, source_name)


def dump_forms_mapping(mapping: FormsMapping) -> str:
    """The mapping as a file; load_forms_mapping reads it back to an equal value."""
    forms = []
    for form in mapping.forms:
        document: dict[str, Any] = {"form": form.form, "title": form.title, "table": form.table,
                                    "files": list(form.files) or None, "constants": dict(form.constants) or None,
                                    "completion_time": form.completion_time, "respondent": form.respondent}  # fmt: skip
        document = {key: value for key, value in document.items() if value is not None}
        document["questions"] = {question.text: _question_document(question) for question in form.questions}
        forms.append(document)
    return write_yaml({"version": mapping.version, "forms": forms}, HEADER)


def check_forms_mapping(mapping: FormsMapping, dataset: Dataset) -> list[MappingProblem]:
    """Every way the mapping disagrees with the canonical model."""
    problems: list[MappingProblem] = []
    seen: set[str] = set()
    for form in mapping.forms:
        problems += _FormCheck(mapping.source, form, dataset).run(repeated=form.form in seen)
        seen.add(form.form)
    return problems


class _FormCheck:
    def __init__(self, source: str, form: FormMapping, dataset: Dataset) -> None:
        self.source, self.form, self.dataset = source, form, dataset
        self.problems: list[MappingProblem] = []
        self.fed: dict[str, str] = {}  # canonical column -> the entry that feeds it

    def add(self, entry: str | None, message: str) -> None:
        self.problems.append(MappingProblem(self.source, f"form '{self.form.form}'", entry, message))

    def run(self, *, repeated: bool) -> list[MappingProblem]:
        form = self.form
        if not FORM_ID.match(form.form):
            self.add(
                None, "a form id is 1-60 lower-case letters, digits, '-' or '_' (it goes into every key)"
            )
        if repeated:
            self.add(None, "is mapped more than once")
        table = find_table(self.dataset, form.table)
        if table is None:
            self.add(None, f"table '{form.table}' is not in the model")
            return self.problems
        for name, value in form.constants:
            column = self._feed(table, name, "constants")
            for message in iter_code_problems(table, column, [value]) if column else ():
                self.add("constants", message)
        if form.completion_time is not None:
            column = self._feed(table, form.completion_time, "completion_time")
            if column is not None and (column.kind != "DateTime" or column.date_only):
                self.add("completion_time", f"{table.name}.{column.name} is not a date-time column")
        if form.respondent is not None:
            column = self._feed(table, form.respondent, "respondent")
            if column is not None and (table.name, column.name) not in officer_key_columns(self.dataset):
                self.add("respondent", f"{table.name}.{column.name} does not hold officer keys")
        for question in form.questions:
            if not question.is_ignored:
                self._question(table, question)
        return self.problems

    def _feed(self, table: Table, name: str, entry: str) -> Column | None:
        column = find_column(table, name)
        if column is None:
            self.add(entry, f"'{name}' is not a column of table '{table.name}'")
        elif name in self.fed:
            self.add(entry, f"'{name}' is already fed by {self.fed[name]}")
        else:
            self.fed[name] = entry
        return column

    def _question(self, table: Table, question: QuestionMapping) -> None:
        entry, target_name = f"question '{question.text}'", str(question.to)
        if question.multi != (question.bridge is not None):
            self.add(
                entry, "a multi-select question needs a bridge table, and only a multi-select one takes it"
            )
            return
        if question.bridge is not None:
            problem = bridge_problem(self.dataset, question.bridge, table.key[0], target_name)
            if problem is not None:
                self.add(entry, problem)
                return
            home = self.dataset.table(question.bridge)
            target: Column | None = home.column(target_name)
        else:
            home, target = table, self._feed(table, target_name, entry)
        if target is None:
            return
        if (target.codes or target.kind == "Boolean") and not question.choices:
            self.add(entry, f"map each answer to a value of {home.name}.{target.name}")
        for message in iter_code_problems(home, target, (value for _answer, value in question.choices)):
            self.add(entry, message)


def _form(raw: Any, source: str, index: int) -> FormMapping:
    name = raw.get("form") if isinstance(raw, dict) else None
    where = f"form '{name}'" if isinstance(name, str) else f"forms[{index}]"
    entry = Entry(raw, source, where, _FORM_KEYS)
    questions = tuple(
        _question_entry(text, value, source, where) for text, value in entry.entries("questions").items()
    )
    return FormMapping(
        form=entry.text("form"),
        table=entry.text("table"),
        questions=questions,
        title=entry.optional_text("title"),
        files=entry.texts("files") if entry.has("files") else (),
        constants=entry.pairs("constants", (str, bool)),
        completion_time=entry.optional_text("completion_time"),
        respondent=entry.optional_text("respondent"),
    )


def _question_entry(text: str, raw: Any, source: str, form_where: str) -> QuestionMapping:
    where = f"{form_where}, question '{text}'"
    ignored = isinstance(raw, dict) and "ignore" in raw
    entry = Entry(raw, source, where, frozenset({"ignore", "confidence"}) if ignored else _QUESTION_KEYS)
    if ignored:
        return QuestionMapping(text, ignore=entry.text("ignore"), confidence=entry.confidence())
    multi = entry.flag("multi")
    return QuestionMapping(
        text,
        to=entry.text("to"),
        choices=entry.pairs("choices", (str, bool)),
        multi=multi,
        bridge=entry.optional_text("bridge"),
        confidence=entry.confidence(),
    )


def _question_document(question: QuestionMapping) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "ignore": question.ignore,
        "to": question.to,
        "choices": dict(question.choices) or None,
        "multi": question.multi or None,
        "bridge": question.bridge,
        "confidence": question.confidence,
    }
    return {key: value for key, value in fields.items() if value is not None}
