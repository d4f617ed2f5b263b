"""How alike a list, a column or a choice label is to the model's tables, columns and codes (for proposals).

Names are compared as words: internal names have their `_x0020_`-style escapes decoded and camelCase
split, SharePoint's generated names (`field_3`) carry no words, plurals are folded, and two words match
when difflib finds them at least 80% alike ("lsoa" and "lsoa21", "estimate" and "estimated"). A model
column is described by its name and its description; a table by its name, description and acronym.
Pure; the standard library's difflib is enough for names this short.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

from powerbi_dataset.schema import Code, Column, Table

__all__ = ["column_score", "decode_name", "label_code", "name_score", "table_score", "words"]

_ESCAPE = re.compile(r"_x([0-9a-fA-F]{4})_")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]{2,})")  # "LPTs" stays whole
_GENERATED = re.compile(r"^(field|column|col)_?\d+$", re.IGNORECASE)
WORD_MATCH = 0.8  # difflib ratio at which two words count as the same
LABEL_MATCH = 0.85  # difflib ratio at which a choice label is taken for a code's label
# Words that say nothing about which column is meant.
STOP_WORDS = frozenset({
    "a", "an", "and", "at", "by", "for", "in", "is", "of", "on", "or", "the", "to", "was", "were", "with",
    "utc", "id", "key", "primary", "only", "when", "each", "it", "its", "this", "that", "be", "has", "had",
})  # fmt: skip


def decode_name(name: str) -> str:
    """An internal name's escapes decoded: `Event_x0020_Start` -> `Event Start`."""
    return _ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), name)


@lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """Lower-case words of a name or phrase, plurals folded; a generated name (`field_3`) has none."""
    decoded = decode_name(text)
    if _GENERATED.match(decoded.strip()):
        return ()
    spaced = _CAMEL.sub(" ", decoded)
    found = []
    for word in re.split(r"[^A-Za-z0-9]+", spaced.lower()):
        if not word or word in STOP_WORDS:
            continue
        found.append(_singular(word))
    return tuple(found)


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=65536)
def _alike(left: str, right: str) -> float:
    if left == right:
        return 1.0
    if left.isdigit() or right.isdigit():
        return 0.0
    return SequenceMatcher(None, left, right).ratio()


def _coverage(mine: Sequence[str], theirs: Sequence[str]) -> float:
    """Share of `mine` found among `theirs` (a word counts by its best match, when at least WORD_MATCH)."""
    if not mine or not theirs:
        return 0.0
    found = 0.0
    for word in mine:
        best = max(_alike(word, other) for other in theirs)
        found += best if best >= WORD_MATCH else 0.0
    return found / len(mine)


def name_score(
    names: Iterable[str],
    target_name: str,
    description: str = "",
    acronym: bool = False,
    context: frozenset[str] = frozenset(),
) -> float:
    """0-1: how well the best of `names` (display and internal name) names the target.

    Words of the live name found in the target's name count fully; found only in its description, they
    count 0.8. With `acronym`, the initials of the description's words are a name too (LPT: "Local
    policing teams"). Words of `context` (the list's and table's own, "event" in an events list) are
    left out on both sides unless nothing else is left.
    """
    target = _without(words(target_name), context)
    described = _without(words(description), context)
    extra = (_initials(description),) if acronym else ()
    best = 0.0
    for name in names:
        mine = _without(words(name), context)
        if not mine:
            continue
        in_name = _coverage(mine, (*target, *extra))
        in_description = _coverage(mine, (*described, *extra))
        coverage = max(in_name, 0.8 * in_description)
        reverse = _coverage(target, mine) if target else 0.0  # the target's words are in the name too
        best = max(best, 0.75 * coverage + 0.25 * max(reverse, coverage * 0.6))
    return min(best, 1.0)


def _without(found: tuple[str, ...], context: frozenset[str]) -> tuple[str, ...]:
    kept = tuple(word for word in found if word not in context)
    return kept or found


def _initials(description: str) -> str:
    head = re.split(r"[(,;:]", description, maxsplit=1)[0]
    return "".join(
        word[0] for word in re.findall(r"[A-Za-z]+", head) if word.lower() not in STOP_WORDS
    ).lower()


@lru_cache(maxsize=16384)
def _folded_label(text: str) -> str:
    """A label compared loosely: case folded, '&' read as 'and', punctuation and repeated spaces dropped."""
    spaced = re.sub(r"[^\w+]+", " ", text.casefold().replace("&", " and "))
    return " ".join(spaced.split())


def _close(left: str, right: str) -> float:
    """difflib's ratio, skipped (0) when its cheap upper bound already rules a match out."""
    matcher = SequenceMatcher(None, left, right)
    if matcher.real_quick_ratio() < LABEL_MATCH or matcher.quick_ratio() < LABEL_MATCH:
        return 0.0
    return matcher.ratio()


@lru_cache(maxsize=65536)
def label_code(label: str, codes: tuple[Code, ...]) -> tuple[str | None, float]:
    """The code a choice label stands for, and how sure: the code itself, its label, or a close label."""
    folded = _folded_label(label)
    for code in codes:
        if label.strip() == code.code or folded in (_folded_label(code.code), _folded_label(code.label)):
            return code.code, 1.0
    best: tuple[str | None, float] = (None, 0.0)
    for code in codes:
        score = max(
            _close(folded, _folded_label(code.label)),
            _close(folded, _folded_label(code.code.replace("_", " "))),
        )
        if score > best[1]:
            best = (code.code, score)
    return best if best[1] >= LABEL_MATCH else (None, best[1])


def column_score(names: Sequence[str], column: Column, context: frozenset[str] = frozenset()) -> float:
    return name_score(names, column.name, column.description, context=context)


def table_score(names: Sequence[str], table: Table) -> float:
    return name_score(names, table.name, table.description, acronym=True)
