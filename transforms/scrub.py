"""Remove personal details from free text before it is counted or published, replacing each with `[KIND]`.

Pure and vectorised: every pattern is an RE2 regular expression run by Arrow compute over the whole
column (no per-row Python). The result says how many of each kind were replaced, never what they were.
Coverage, what is kept on purpose and the known limits are in docs/themes.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, get_args

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms import scrub_lexicon as lexicon
from transforms.scrub_letters import ASCII, UNICODE, Letters, letters_for

Kind = Literal[
    "EMAIL",
    "URL",
    "DATE_OF_BIRTH",
    "NI_NUMBER",
    "REFERENCE",
    "PHONE",
    "POSTCODE",
    "VEHICLE_REG",
    "ADDRESS",
    "COLLAR_NUMBER",
    "NAME",
]
KINDS: tuple[Kind, ...] = get_args(Kind)  # the order patterns are applied in
# Matches any placeholder the scrubber writes, so later counting can skip them.
PLACEHOLDER_PATTERN = r"\[(?:" + "|".join(KINDS) + r")\]"

# Private-use character marking a word the name heuristics must leave alone; stripped from input first.
PROTECT = "\ue000"
_P = r"\x{E000}"


def _word(letters: Letters) -> str:
    """A capitalised word (names, places); RE2's \\b is ASCII-only."""
    return letters.upper + r"[" + letters.letter + r"'’\-]*"


def _not_letter(letters: Letters) -> str:
    """Consumed and written back, as RE2 has no look-behind."""
    return r"(^|[^" + letters.letter + letters.number + _P + r"])"


_INWARD_LOWER = (  # a postcode's inward letters in lower case, except the ordinal suffixes st/nd/rd/th
    r"(?:[abdefghjlpquwxyz][abdefghjlnpqrstuwxyz]|s[abdefghjlnpqrsuwxyz]"
    r"|[nr][abefghjlnpqrstuwxyz]|t[abdefgjlnpqrstuwxyz])"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|\d{1,2}(?:st|nd|rd|th)?\s+"
    + _MONTH
    + r",?\s+\d{4}|(?:19|20)\d{2})"
)
_HOUSE_NUMBER = r"\d{1,4}[A-Za-z]?(?:\s?[-–/]\s?\d{1,4}[A-Za-z]?)?"


@dataclass(frozen=True)
class Rule:
    """One pass: replace every match of `pattern` (RE2) with `replacement`; `kind` None is bookkeeping.

    `needs_digit`: every match holds an ASCII digit (RE2's `\\d` is [0-9]) and the replacement adds
    none, so the rule cannot change a text without one; such rules run only on the texts that have one.
    """

    kind: Kind | None
    pattern: str
    replacement: str
    needs_digit: bool = False


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "Chris" never wins over "Christopher" inside the alternation.
    return "|".join(sorted({w.replace(".", r"\.") for w in words}, key=lambda w: (-len(w), w)))


def _phrases(words: Iterable[str]) -> str:
    return _alternation(w.replace(" ", r"\s+") for w in words)


def _needing_digits(*rules: Rule) -> tuple[Rule, ...]:
    return tuple(replace(rule, needs_digit=True) for rule in rules)


def _pattern_rules(letters: Letters) -> tuple[Rule, ...]:
    """The kinds found by their shape alone, in the order they run."""
    suffixes = _alternation(lexicon.STREET_SUFFIXES)
    lower_suffixes = _alternation(lexicon.LOWERCASE_STREET_SUFFIXES)
    return (
        Rule("EMAIL", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}", "[EMAIL]"),
        Rule(
            "EMAIL",
            r"(?i)\b[a-z0-9._%+\-]+\s*(?:\(at\)|\[at\]|\sat\s)\s*[a-z0-9\-]+\s*(?:\.|\(dot\)|\[dot\]|\sdot\s)"
            r"\s*(?:com|co\s*(?:\.|dot)\s*uk|org|net|uk)\b",
            "[EMAIL]",
        ),
        Rule("URL", r"(?i)\b(?:https?://|www\.)[^\s<>\"]*[^\s<>\".,;:!?)\]]", "[URL]"),
        Rule(
            "URL",
            r"(?i)\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|co\.uk|org\.uk|org|net|gov\.uk|police\.uk|uk|io|me)"
            r"\b(?:/[^\s<>\"]*[^\s<>\".,;:!?)\]])?",
            "[URL]",
        ),
        *_needing_digits(
            Rule(
                "DATE_OF_BIRTH",
                r"(?i)\b(?:d\.?o\.?b\.?|date\s+of\s+birth|born(?:\s+on)?)\s*[:\-]?\s*" + _DATE,
                "[DATE_OF_BIRTH]",
            ),
            Rule("NI_NUMBER", r"(?i)\b[a-z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[a-d]\b", "[NI_NUMBER]"),
            Rule(
                "REFERENCE",
                r"(?i)\b(log|incident|crime\s+ref(?:erence)?|crime\s+(?:number|no)|ref(?:erence)?|cad|occurrence|urn)"
                r"(\s*(?:no\.?|number|#)?\s*[:\-]?\s*)[a-z]{0,4}[/\-]?\d[\d/\-]{2,}(?:\s+of\s+\d{1,2}[/.\-]\d{1,2}(?:[/.\-]\d{2,4})?)?",
                r"\1\2[REFERENCE]",
            ),
            Rule(
                "PHONE",
                r"(?:(?:\+|\b00)\s?44\s?(?:\(0\)\s?)?0?|\(0|\b0)(?:\d[ \t\-)]{0,2}){8,9}\d\b",
                "[PHONE]",
            ),
            Rule(  # a local number without its area code, only when introduced as a number
                "PHONE",
                r"(?i)\b(tel|telephone|phone|mob|mobile|contact\s+number|call\s+back\s+on|ring\s+on)(\.?\s*(?:no\.?|number)?\s*[:\-]?\s*)\d[\d \-]{4,}\d\b",
                r"\1\2[PHONE]",
            ),
            Rule(
                "POSTCODE",
                r"\b[A-Za-z]{1,2}\d[A-Za-z\d]?\s{0,2}\d(?:[ABD-HJLNP-UW-Z]{2}|" + _INWARD_LOWER + r")\b",
                "[POSTCODE]",
            ),
            Rule("VEHICLE_REG", r"(?i)\b[a-z]{2}\d{2}\s?[a-z]{3}\b", "[VEHICLE_REG]"),  # current, since 2001
            # Prefix (1983-2001); spaced ones starting A, B or M are left alone: they read as road numbers
            # ("A34 AND", "M6 JCT") in notes typed in capitals.
            Rule(
                "VEHICLE_REG",
                r"\b[C-HJ-LN-PR-Y]\d{1,3}\s[A-Z]{3}\b|\b[A-HJ-NP-Y]\d{1,3}[A-Z]{3}\b",
                "[VEHICLE_REG]",
            ),
            Rule(
                "VEHICLE_REG", r"\b[A-Z]{3}\s?\d{1,3}\s?[A-HJ-NP-Y]\b", "[VEHICLE_REG]"
            ),  # suffix, 1963-1983
            Rule(
                "ADDRESS",
                r"(?:(?i:\b(?:flat|apartment|apt|unit)\s*\d+[a-z]?),?\s+)?\b"
                + _HOUSE_NUMBER
                + r",?\s+(?:"
                + _word(letters)
                + r"\s+){1,3}(?i:"
                + suffixes
                + r")\b",
                "[ADDRESS]",
            ),
            Rule(
                "ADDRESS",
                r"\b" + _HOUSE_NUMBER + r"\s+[a-z]{3,}\s+(?:" + lower_suffixes + r")\b",
                "[ADDRESS]",
            ),
            Rule("ADDRESS", r"(?i)\b(?:flat|apartment|apt)\s*\d+[a-z]?\b", "[ADDRESS]"),
            Rule(
                "ADDRESS",
                r"(?i)\b(at|from|outside|to|of)\s+(?:number|no\.?)\s*\d{1,4}[a-z]?\b",
                r"\1 [ADDRESS]",
            ),
        ),
    )


def _name_rules(first_names: frozenset[str], not_names: frozenset[str], letters: Letters) -> tuple[Rule, ...]:
    """Titles, then protection of known non-names, then first names and trigger phrases."""
    word, not_letter = _word(letters), _not_letter(letters)
    titles = _phrases(lexicon.TITLES)
    triggers = _phrases(lexicon.NAME_TRIGGERS)
    suffixes = _alternation(s.capitalize() for s in lexicon.STREET_SUFFIXES)
    names = _alternation(first_names - not_names)
    rules = [
        Rule(
            "COLLAR_NUMBER",
            r"(?i)\b(pcso|pc|psi|dc|ds|sc|sgt|insp)\.?\s*(?:no\.?\s*)?\d{3,5}\b",
            r"\1 [COLLAR_NUMBER]",
            needs_digit=True,
        ),
        Rule(
            "NAME",
            not_letter
            + r"((?i:"
            + titles
            + r")\.?\s+)(?:"
            + letters.upper
            + r"\.?\s?){0,2}"
            + word
            + r"(?:[ \t]+"
            + word
            + r")?",
            r"\1\2[NAME]",
        ),
        Rule(None, r"(" + word + r")(\s+(?:" + suffixes + r")\b)", PROTECT + r"\1\2"),  # "George Street"
        Rule(None, r"\b(" + _alternation(not_names) + r")\b", PROTECT + r"\1"),
        Rule(None, r"\b(St\.?\s+)(" + letters.upper + ")", r"\1" + PROTECT + r"\2"),  # "St Mary's"
    ]
    if names:
        rules.append(
            Rule("NAME", not_letter + r"(?:" + names + r")\b(?:[ \t]+" + word + r"){0,2}", r"\1[NAME]")
        )
    rules.append(
        Rule("NAME", r"((?i:\b(?:" + triggers + r"))\s+)" + word + r"(?:[ \t]+" + word + r")?", r"\1[NAME]")
    )
    if names:
        rules.append(Rule("NAME", r"((?i:\b(?:" + triggers + r"))\s+)(?i:" + names + r")\b", r"\1[NAME]"))
    rules.append(Rule(None, _P, ""))
    return tuple(rules)


def _apply(rule: Rule, texts: pa.Array, counts: dict[Kind, int]) -> pa.Array:
    if rule.kind is not None:
        found = pc.sum(pc.count_substring_regex(texts, rule.pattern)).as_py()
        if not found:
            return texts
        counts[rule.kind] += int(found)
    if rule.pattern == _P and not rule.replacement:  # the protection mark removed: no regex needed
        return pc.replace_substring(texts, PROTECT, "")
    return pc.replace_substring_regex(texts, rule.pattern, rule.replacement)


def _apply_where_digits(rules: Sequence[Rule], texts: pa.Array, counts: dict[Kind, int]) -> pa.Array:
    """The rules run on the texts holding a digit, the others left as they are (no rule could change
    them, and no rule adds a digit); with no such text, no pattern is even compiled."""
    digits = pc.fill_null(pc.match_substring_regex(texts, "[0-9]"), False)
    if not pc.any(digits).as_py():
        return texts
    every = pc.all(digits).as_py()
    part = texts if every else pc.filter(texts, digits)
    for rule in rules:
        part = _apply(rule, part, counts)
    return part if every else pc.replace_with_mask(texts, digits, part)


@dataclass(frozen=True)
class ScrubResult:
    """Scrubbed text (same index as the input) and how many details of each kind were replaced."""

    text: pd.Series
    counts: dict[Kind, int]
    rows_scrubbed: int

    @property
    def found(self) -> tuple[Kind, ...]:
        return tuple(kind for kind in KINDS if self.counts[kind])


@dataclass(frozen=True)
class Scrubber:
    """The rules, built once from the name lists (a force may pass its own).

    `rules` are the rules as written, with RE2's Unicode classes; a call runs them spelt for its texts
    (transforms.scrub_letters: the same matches, far cheaper for Arrow to compile on every call).
    """

    first_names: frozenset[str] = lexicon.FIRST_NAMES
    not_names: frozenset[str] = lexicon.NOT_NAMES
    rules: tuple[Rule, ...] = field(init=False)
    ascii_rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", self.spelt(UNICODE))
        object.__setattr__(self, "ascii_rules", self.spelt(ASCII))

    def spelt(self, letters: Letters) -> tuple[Rule, ...]:
        """The rules with the Unicode classes spelt as `letters` says."""
        if letters == UNICODE and hasattr(self, "rules"):
            return self.rules
        if letters == ASCII and hasattr(self, "ascii_rules"):
            return self.ascii_rules
        return _pattern_rules(letters) + _name_rules(
            frozenset(self.first_names), frozenset(self.not_names), letters
        )

    def scrub_arrow(
        self, texts: pa.Array | pa.ChunkedArray
    ) -> tuple[pa.Array | pa.ChunkedArray, dict[Kind, int]]:
        """Scrub an Arrow string array; nulls stay null."""
        counts: dict[Kind, int] = dict.fromkeys(KINDS, 0)
        chunked = isinstance(texts, pa.ChunkedArray)
        current = pc.replace_substring(texts.combine_chunks() if chunked else texts, PROTECT, "")
        rules = self.spelt(letters_for(current))
        start = 0
        while start < len(rules):
            end = start + 1
            if not rules[start].needs_digit:
                current = _apply(rules[start], current, counts)
            else:  # a run of rules that only change texts with a digit: run them on those texts alone
                while end < len(rules) and rules[end].needs_digit:
                    end += 1
                current = _apply_where_digits(rules[start:end], current, counts)
            start = end
        return (pa.chunked_array([current]) if chunked else current), counts

    def scrub(self, texts: pd.Series) -> ScrubResult:
        """Scrub a column of free text; the result keeps the input's index and name."""
        source = pa.array(texts.astype(pd.StringDtype("pyarrow")))
        cleaned, counts = self.scrub_arrow(source)
        changed = pc.sum(pc.cast(pc.fill_null(pc.not_equal(cleaned, source), False), pa.int64())).as_py()
        text = pd.Series(pd.arrays.ArrowStringArray(cleaned), index=texts.index, name=texts.name)
        return ScrubResult(text=text, counts=counts, rows_scrubbed=int(changed or 0))


DEFAULT_SCRUBBER = Scrubber()


def scrub(texts: pd.Series, scrubber: Scrubber = DEFAULT_SCRUBBER) -> ScrubResult:
    """Replace personal details in every value of `texts` with `[KIND]` placeholders."""
    return scrubber.scrub(texts)


def scrub_text(text: str, scrubber: Scrubber = DEFAULT_SCRUBBER) -> str:
    """One value through the same rules (for messages and tests)."""
    cleaned, _counts = scrubber.scrub_arrow(pa.array([text], pa.large_string()))
    value = cleaned[0].as_py()
    assert isinstance(value, str)
    return value
