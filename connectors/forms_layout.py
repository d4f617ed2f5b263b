"""The column layout of a Forms export (microsoft-apis.md §4.1): metadata block, questions, quiz columns.

`ID` (older exports `Id`), `Start time`, `Completion time`, `Email`, `Name` and, in newer exports,
`Last modified time` lead; every later column is a question headed by its wording. A quiz adds
`Points - <q>` and `Feedback - <q>` per question and `Total points`, `Quiz feedback`: ignored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from connectors.forms_guard import InputLimits
from errors import SourceFormatError

# metadata header (case-insensitive) -> field name
METADATA_HEADERS = {
    "id": "response_id",
    "start time": "start_time",
    "completion time": "completion_time",
    "email": "email",
    "name": "name",
    "last modified time": "last_modified_time",
}
REQUIRED_METADATA = ("response_id", "start_time", "completion_time")
QUIZ_PREFIXES = ("Points - ", "Feedback - ")
QUIZ_TOTALS = ("total points", "quiz feedback")
HINT_LAYOUT = (
    "export the responses with Forms' 'Open results in Excel' (or 'Download a copy') and pass that file"
)


@dataclass(frozen=True)
class Question:
    """One question column: where it is, its wording, and its unique column name in the answers."""

    position: int  # 1-based column number in the file
    text: str  # the header: the question's wording
    name: str  # the text, or "<text> #<n>" when several questions share the wording
    multi_select: bool = False  # every answer ends with ';' (Forms' checkbox format)


@dataclass(frozen=True)
class Layout:
    headers: tuple[str, ...]  # every header as written, trailing empty ones left out
    metadata: dict[str, int]  # field -> 0-based column index
    questions: tuple[Question, ...]
    ignored_columns: tuple[str, ...]
    width: int  # header columns, trailing empty headers left out
    notes: tuple[str, ...]


def read_layout(header: Sequence[object], source: str, limits: InputLimits) -> Layout:
    """Classify the header row; a missing ID, Start time or Completion time column is an error."""
    texts = [_header_text(cell) for cell in header]
    while texts and not texts[-1]:
        texts.pop()
    for index, text in enumerate(texts):
        if not text:
            raise SourceFormatError(
                f"Forms export {source}: column {index + 1} has no header", hint=HINT_LAYOUT
            )
    metadata: dict[str, int] = {}
    for index, text in enumerate(texts):  # the leading block only: a later "Name" is a question
        field = METADATA_HEADERS.get(text.casefold())
        if field is None or field in metadata:
            break
        metadata[field] = index
    missing = [field for field in REQUIRED_METADATA if field not in metadata]
    if missing:
        wanted = ", ".join(_HEADER_OF[field] for field in missing)
        first = f"the first column is headed {texts[0]!r}" if texts else "the header row is empty"
        raise SourceFormatError(
            f"Forms export {source} has no {wanted} column at the start of its header ({first})",
            hint=HINT_LAYOUT,
        )
    rest = [(index, texts[index]) for index in range(len(metadata), len(texts))]
    question_texts = {text for _, text in rest}
    quiz = {
        text for _, text in rest if text.startswith(QUIZ_PREFIXES) and _quiz_target(text) in question_texts
    }
    if quiz:
        quiz |= {text for _, text in rest if text.casefold() in QUIZ_TOTALS}
    kept = [(index, text) for index, text in rest if text not in quiz]
    if len(kept) > limits.max_question_columns:
        raise SourceFormatError(
            f"Forms export {source} has {len(kept)} question columns, more than the {limits.max_question_columns} "
            "a form can have",
            hint="check that this is a Forms export; raise max_question_columns only for a trusted file",
        )
    counts = Counter(text for _, text in kept)
    seen: Counter[str] = Counter()
    questions = []
    for index, text in kept:
        seen[text] += 1
        name = text if counts[text] == 1 else f"{text} #{seen[text]}"
        questions.append(Question(position=index + 1, text=text, name=name))
    notes = tuple(
        f"{count} questions share the wording {text!r}; kept apart as {text!r} #1..#{count} in column order"
        for text, count in counts.items()
        if count > 1
    )
    ignored = tuple(text for _, text in rest if text in quiz)
    return Layout(tuple(texts), metadata, tuple(questions), ignored, len(texts), notes)


def _header_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def _quiz_target(text: str) -> str:
    for prefix in QUIZ_PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


_HEADER_OF = {field: header for header, field in METADATA_HEADERS.items()} | {
    "response_id": "ID",
    "start_time": "Start time",
    "completion_time": "Completion time",
}
