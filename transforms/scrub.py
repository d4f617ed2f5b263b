"""Remove personal details from free text before it is counted or published, replacing each with `[KIND]`.

Pure and vectorised: every pattern (transforms.scrub_rules) is an RE2 regular expression run by Arrow
compute over the whole column (no per-row Python). The result says how many of each kind were replaced,
never what they were.
Coverage, what is kept on purpose and the known limits are in docs/themes.md.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from transforms import scrub_lexicon as lexicon
from transforms.scrub_letters import ASCII, UNICODE, Letters, letters_for
from transforms.scrub_rules import (
    KINDS,
    PLACEHOLDER_PATTERN,
    PROTECT,
    PROTECT_PATTERN,
    Kind,
    Rule,
    name_rules,
    pattern_rules,
)

__all__ = [
    "DEFAULT_SCRUBBER",
    "KINDS",
    "PLACEHOLDER_PATTERN",
    "PROTECT",
    "Kind",
    "Rule",
    "ScrubResult",
    "Scrubber",
    "scrub",
    "scrub_text",
]


def _apply(rule: Rule, texts: pa.Array, counts: dict[Kind, int]) -> pa.Array:
    if rule.kind is not None:
        found = pc.sum(pc.count_substring_regex(texts, rule.pattern)).as_py()
        if not found:
            return texts
        counts[rule.kind] += int(found)
    if rule.pattern == PROTECT_PATTERN and not rule.replacement:  # the mark removed: no regex needed
        return pc.replace_substring(texts, PROTECT, "")
    return pc.replace_substring_regex(texts, rule.pattern, rule.replacement)


def _where(where: str, texts: pa.Array, run: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """`run` on the texts matching `where`, the others left as they are (the caller knows `run` could
    not change them); with no such text, `run` does not run and compiles nothing."""
    matching = pc.fill_null(pc.match_substring_regex(texts, where), False)
    if not pc.any(matching).as_py():
        return texts
    every = pc.all(matching).as_py()
    part = run(texts if every else pc.filter(texts, matching))
    return part if every else pc.replace_with_mask(texts, matching, part)


def _run(rules: Sequence[Rule], texts: pa.Array, counts: dict[Kind, int]) -> pa.Array:
    """The rules in order; a run of rules sharing a `where` (see Rule) on the texts matching it alone."""

    def each(run: Sequence[Rule]) -> Callable[[pa.Array], pa.Array]:
        def apply(part: pa.Array) -> pa.Array:
            for rule in run:
                part = _apply(rule, part, counts)
            return part

        return apply

    start = 0
    while start < len(rules):
        end = start + 1
        where = rules[start].where
        if where is None:
            texts = _apply(rules[start], texts, counts)
        else:
            while end < len(rules) and rules[end].where == where:
                end += 1
            texts = _where(where, texts, each(rules[start:end]))
        start = end
    return texts


def _any_match(rules: Sequence[Rule]) -> str:
    """Matches a text that one of the rules' patterns matches. A text it does not match comes out of the
    rules as it went in: the first rule to change a text matches it as it went in (each before left it
    alone), and a rule that finds nothing counts nothing."""
    return "|".join("(?:" + rule.pattern + ")" for rule in rules)  # RE2 keeps a (?i) within its group


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
    (transforms.scrub_letters: the same matches, far cheaper for Arrow to compile on every call, which
    it does). Runs of rules that can only change some texts (Rule.where) run on those texts alone.
    """

    first_names: frozenset[str] = lexicon.FIRST_NAMES
    not_names: frozenset[str] = lexicon.NOT_NAMES
    rules: tuple[Rule, ...] = field(init=False)
    ascii_rules: tuple[Rule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", self._built(UNICODE))
        object.__setattr__(self, "ascii_rules", self._built(ASCII))

    def spelt(self, letters: Letters) -> tuple[Rule, ...]:
        """The rules with the Unicode classes spelt as `letters` says (the two usual spellings built once)."""
        if letters == UNICODE:
            return self.rules
        if letters == ASCII:
            return self.ascii_rules
        return self._built(letters)

    def _built(self, letters: Letters) -> tuple[Rule, ...]:
        return pattern_rules(letters) + name_rules(
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
        # The rules before the name rules' own run (see Rule.where) are cheap to look for all at once, and
        # few texts hold anything they find: they run on those texts alone.
        head = next((index for index, rule in enumerate(rules) if rule.only_where is not None), len(rules))
        current = _where(_any_match(rules[:head]), current, lambda part: _run(rules[:head], part, counts))
        current = _run(rules[head:], current, counts)
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
