"""The scrubber's rules: what each kind of personal detail looks like, as RE2 patterns, in the order they run.

Built from the lexicon (transforms.scrub_lexicon) and the spelling of RE2's Unicode classes the texts of a
call allow (transforms.scrub_letters); transforms.scrub runs them. Coverage, what is kept on purpose and
the known limits are in docs/themes.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, get_args

from transforms import scrub_lexicon as lexicon
from transforms.scrub_letters import Letters

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
PROTECT_PATTERN = r"\x{E000}"


def _word(letters: Letters) -> str:
    """A capitalised word (names, places); RE2's \\b is ASCII-only."""
    return letters.upper + r"[" + letters.letter + r"'’\-]*"


def _not_letter(letters: Letters) -> str:
    """Consumed and written back, as RE2 has no look-behind."""
    return r"(^|[^" + letters.letter + letters.number + PROTECT_PATTERN + r"])"


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
    `only_where`: a pattern that every text this rule and the rules after it with the same `only_where`
    could change matches before the first of them runs (the reasoning is where the rule is made); such a
    run of rules runs only on the texts that match it.
    """

    kind: Kind | None
    pattern: str
    replacement: str
    needs_digit: bool = False
    only_where: str | None = None

    @property
    def where(self) -> str | None:
        """What a text must match for this rule to run on it (None: every text)."""
        return "[0-9]" if self.needs_digit else self.only_where


def _alternation(words: Iterable[str]) -> str:
    # Longest first, so "Chris" never wins over "Christopher" inside the alternation.
    return "|".join(sorted({w.replace(".", r"\.") for w in words}, key=lambda w: (-len(w), w)))


def _phrases(words: Iterable[str]) -> str:
    return _alternation(w.replace(" ", r"\s+") for w in words)


def _needing_digits(*rules: Rule) -> tuple[Rule, ...]:
    return tuple(replace(rule, needs_digit=True) for rule in rules)


def pattern_rules(letters: Letters) -> tuple[Rule, ...]:
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


def name_rules(first_names: frozenset[str], not_names: frozenset[str], letters: Letters) -> tuple[Rule, ...]:
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
    rules.append(Rule(None, PROTECT_PATTERN, ""))
    gate = _name_gate(first_names - not_names, triggers, not_letter, letters)
    return (*rules[:2], *(replace(rule, only_where=gate) for rule in rules[2:]))


def _name_gate(names: frozenset[str], triggers: str, not_letter: str, letters: Letters) -> str | None:
    """What a text must hold for the protections and name rules to change it (they run after the titles).

    The protections only insert the mark, so the text they hand on is the text with marks added and the
    last rule removes them: a text no name rule matches comes out as it went in. A first-name match
    starts after no mark (`not_letter` refuses it) and holds none, so the unmarked text holds the same
    character before the same name; a trigger match is the trigger, white space, then a capital or a
    first name, none of them a mark, so the unmarked text holds the trigger, white space, then the same
    capital or the same first two characters of a name, matched without regard to case as the rule does.
    """
    if any(PROTECT in word for word in names):
        return None  # a mark in a name would defeat the reasoning
    after = letters.upper
    if names:
        after += r"|(?i:" + _alternation(name[:2] for name in names) + r")"
    gate = r"(?i:" + triggers + r")\s+(?:" + after + r")"
    return (not_letter + r"(?:" + _alternation(names) + r")|" + gate) if names else gate
