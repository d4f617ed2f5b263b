"""Classify free-text issues into the model's theme codes and build the event_issues and ccr_issues rows.

Pure and vectorised: text is scrubbed first (transforms.scrub), normalised, then each theme's phrases
are counted over the whole column with Arrow compute, longest phrases first so a longer phrase claims
its words. How negation, NO_ISSUES, OTHER and ranking work is in docs/themes.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.codes import NO_ISSUES
from transforms.scrub import DEFAULT_SCRUBBER, PLACEHOLDER_PATTERN, Scrubber
from transforms.theme_taxonomy import Taxonomy

OTHER = "OTHER"
MAX_RANK = 5  # event_issues.rank is 1-5 in the model; themes beyond the fifth get no rank
# Stand-ins for a phrase already read, so shorter phrases cannot count its words again. A negated
# mention leaves NEGATED, which carries the negation over "or"/"and" ("no speeding or parking").
MASK = "qqq"
NEGATED = "negq"
ACTIVITY = "actq"
SENTENCE_BREAK = " # "  # superseded_by applies within a sentence
CLAUSE_BREAK = " | "  # negation and activity cues never reach across either break

Counts = npt.NDArray[np.int64]


def _phrase_regex(phrases: Sequence[str]) -> str:
    ordered = sorted(phrases, key=lambda p: (-len(p), p))
    return "|".join(p.replace("*", "[a-z0-9]*") for p in ordered)


def normalise(texts: pa.Array | pa.ChunkedArray, taxonomy: Taxonomy) -> pa.Array | pa.ChunkedArray:
    """Lower case, no placeholders or apostrophes; sentence ends as '#', clause breaks as '|', words spaced."""
    current = pc.replace_substring_regex(texts, PLACEHOLDER_PATTERN, " ")
    current = pc.utf8_lower(current)
    current = pc.replace_substring_regex(current, r"['’‘`]s\b", "")
    current = pc.replace_substring_regex(current, r"['’‘`]", "")
    current = pc.replace_substring_regex(current, r"[.;!?\r\n•]+", SENTENCE_BREAK)
    current = pc.replace_substring_regex(current, r"[,:]+", CLAUSE_BREAK)
    if taxonomy.negation.breaks:
        breaks = _phrase_regex(taxonomy.negation.breaks).replace(" ", r"[^a-z0-9|#]+")
        current = pc.replace_substring_regex(current, r"\b(?:" + breaks + r")\b", CLAUSE_BREAK)
    current = pc.replace_substring_regex(current, r"[^a-z0-9|#]+", " ")
    return pc.utf8_trim_whitespace(pc.replace_substring_regex(current, r"\s+", " "))


def _to_numpy(values: pa.Array | pa.ChunkedArray, fill: int) -> Counts:
    return np.asarray(pc.fill_null(values, fill).to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class Pass:
    """One regex pass over the text: what a match counts as."""

    pattern: str
    replacement: str
    tally: Literal["mention", "negated", "activity"]


@dataclass(frozen=True)
class PhraseGroup:
    """One theme's phrases of one length: a cheap test for any of them, then the passes that count."""

    column: int
    any_phrase: str
    passes: tuple[Pass, ...]


@lru_cache(maxsize=8)
def _groups(taxonomy: Taxonomy) -> tuple[tuple[str, ...], tuple[PhraseGroup, ...]]:
    """The theme columns and their phrase groups, longest phrases first; NO_ISSUES is left to the end."""
    themes = [t for t in taxonomy.themes if t.phrases and t.code != NO_ISSUES]
    codes = tuple(t.code for t in themes)
    negation, activity = taxonomy.negation, taxonomy.activity
    window = r"(?: [a-z0-9]+){0," + str(negation.window_words) + "}"
    before = "|".join(filter(None, (_phrase_regex(negation.before), NEGATED + " (?:or|and|nor)")))
    cues: list[tuple[str, str, Literal["negated", "activity"]]] = [
        (_phrase_regex(activity.before), ACTIVITY, "activity"),
        (before, NEGATED, "negated"),
    ]
    after_cues: list[tuple[str, str, Literal["negated", "activity"]]] = [
        (_phrase_regex(activity.after), ACTIVITY, "activity"),
        (_phrase_regex(negation.after), NEGATED, "negated"),
    ]
    groups: list[PhraseGroup] = []
    for tier in sorted({len(p.split()) for t in themes for p in t.phrases}, reverse=True):
        for column, theme in enumerate(themes):
            phrases = [p for p in theme.phrases if len(p.split()) == tier]
            if not phrases:
                continue
            words = "(?:" + _phrase_regex(phrases) + ")"
            passes = [
                Pass(r"(\b(?:" + cue + ")" + window + r" )" + words + r"\b", r"\1" + mask, tally)
                for cue, mask, tally in cues
                if cue
            ]
            passes += [
                Pass(r"\b" + words + "(" + window + " (?:" + cue + r"))\b", mask + r"\1", tally)
                for cue, mask, tally in reversed(after_cues)
                if cue
            ]
            passes.append(Pass(r"\b" + words + r"\b", MASK, "mention"))
            groups.append(PhraseGroup(column, r"\b" + words + r"\b", tuple(passes)))
    return codes, tuple(groups)


@dataclass(frozen=True)
class Matches:
    """Per row and theme column (the last is NO_ISSUES): mentions counted, negated, first position."""

    codes: tuple[str, ...]
    mentions: Counts  # shape (rows, themes)
    negated: Counts
    first_position: Counts  # -1 where the theme is absent
    has_text: npt.NDArray[np.bool_]


def match_themes(normalised: pa.Array | pa.ChunkedArray, taxonomy: Taxonomy) -> Matches:
    """Count each theme per sentence, apply superseded_by within the sentence, then add up per row."""
    codes, groups = _groups(taxonomy)
    sentence_lists = pc.split_pattern_regex(pc.fill_null(normalised, ""), r"\s*#\s*")
    owner = np.asarray(pc.list_parent_indices(sentence_lists).to_numpy(zero_copy_only=False), dtype=np.int64)
    current = pc.list_flatten(sentence_lists)
    if isinstance(current, pa.ChunkedArray):
        current = current.combine_chunks()
    tallies = {
        kind: np.zeros((len(current), len(codes)), dtype=np.int64)
        for kind in ("mention", "negated", "activity")
    }
    for group in groups:
        # Run the passes only on the sentences holding one of the group's phrases, then put them back.
        hit = pc.fill_null(pc.match_substring_regex(current, group.any_phrase), False)
        where = np.flatnonzero(np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool))
        if not where.size:
            continue
        subset = pc.take(current, pa.array(where))
        for step in group.passes:
            found = _to_numpy(pc.count_substring_regex(subset, step.pattern), 0)
            if found.any():
                tallies[step.tally][where, group.column] += found
                subset = pc.replace_substring_regex(subset, step.pattern, step.replacement)
        current = pc.replace_with_mask(current, hit, subset)
    present = tallies["mention"] > 0
    for theme in taxonomy.themes:
        if theme.code in codes and theme.superseded_by:
            others = [codes.index(code) for code in theme.superseded_by if code in codes]
            if others:
                present[:, codes.index(theme.code)] &= ~present[:, others].any(axis=1)
    no_issues = taxonomy.rule(NO_ISSUES)
    said_none = np.zeros(len(current), dtype=np.int64)
    if no_issues is not None and no_issues.phrases:
        said_none = _to_numpy(
            pc.count_substring_regex(current, r"\b(?:" + _phrase_regex(no_issues.phrases) + r")\b"), 0
        )
    rows = len(normalised)
    mentions = np.zeros((rows, len(codes) + 1), dtype=np.int64)
    negated = np.zeros_like(mentions)
    np.add.at(mentions, owner, np.column_stack([np.where(present, tallies["mention"], 0), said_none]))
    np.add.at(negated[:, :-1], owner, tallies["negated"])
    first = np.full_like(mentions, -1)
    for column, code in enumerate(codes):
        rule = taxonomy.rule(code)
        if rule is not None and mentions[:, column].any():
            regex = r"\b(?:" + _phrase_regex(rule.phrases) + r")\b"
            first[:, column] = _to_numpy(pc.find_substring_regex(normalised, regex), -1)
    first[:, -1] = np.where(mentions[:, -1] > 0, 0, -1)
    has_text = pc.fill_null(pc.match_substring_regex(normalised, "[a-z0-9]"), False)
    return Matches(
        (*codes, NO_ISSUES),
        mentions,
        negated,
        first,
        np.asarray(has_text.to_numpy(zero_copy_only=False), dtype=bool),
    )


def classify(texts: pd.Series, taxonomy: Taxonomy, *, scrubber: Scrubber = DEFAULT_SCRUBBER) -> pd.DataFrame:
    """Themes of each text: columns row (the input's index label), theme_code, mentions, rank (1 = most)."""
    scrubbed = scrubber.scrub_arrow(pa.array(texts.astype(pd.StringDtype("pyarrow"))))[0]
    found = match_themes(normalise(scrubbed, taxonomy), taxonomy)
    present = found.mentions > 0
    nothing_else = ~present[:, :-1].any(axis=1)
    # NO_ISSUES is exclusive: kept only when no other theme is found; a note whose only mentions are
    # negated ("no ASB reported") says there were no issues too.
    present[:, -1] = nothing_else & (present[:, -1] | (found.negated.sum(axis=1) > 0))
    other = nothing_else & ~present[:, -1] & found.has_text
    codes = list(found.codes)
    mentions, first = found.mentions, found.first_position
    if OTHER in codes:
        present[:, codes.index(OTHER)] |= other
    else:
        codes.append(OTHER)
        present = np.column_stack([present, other])
        mentions = np.column_stack([mentions, np.zeros(len(texts), dtype=np.int64)])
        first = np.column_stack([first, np.full(len(texts), -1, dtype=np.int64)])
    row_at, theme_at = np.nonzero(present)
    table = pd.DataFrame(
        {
            "position": row_at,
            "theme_code": np.asarray(codes)[theme_at],
            "mentions": np.maximum(mentions[row_at, theme_at], 1),
            "first": np.where(first[row_at, theme_at] < 0, np.iinfo(np.int64).max, first[row_at, theme_at]),
            "order": theme_at,
        }
    )
    # Rank: most mentions first, then the theme mentioned earliest, then taxonomy order.
    table = table.sort_values(["position", "mentions", "first", "order"], ascending=[True, False, True, True])
    table["rank"] = table.groupby("position").cumcount() + 1
    return pd.DataFrame(
        {
            "row": texts.index[table["position"].to_numpy()],
            "theme_code": pd.array(table["theme_code"].to_numpy(), dtype="string"),
            "mentions": pd.array(table["mentions"].to_numpy(), dtype="Int64"),
            "rank": pd.array(table["rank"].to_numpy(), dtype="Int64"),
        }
    )


def _issue_rows(
    frame: pd.DataFrame, id_column: str, text_column: str, taxonomy: Taxonomy, scrubber: Scrubber
) -> pd.DataFrame:
    texts = frame[[id_column, text_column]].dropna()
    # Several texts for one id (say two free-text fields) are read as one note, clause-separated.
    joined = texts.groupby(id_column, sort=False)[text_column].agg(lambda values: "\n".join(map(str, values)))
    found = classify(joined, taxonomy, scrubber=scrubber)
    return pd.DataFrame(
        {
            id_column: pd.array(found["row"].astype(str).to_numpy(), dtype="string"),
            "theme_code": found["theme_code"].array,
            "rank": found["rank"].array,
        }
    )


def event_issues(
    events: pd.DataFrame,
    taxonomy: Taxonomy,
    *,
    text_column: str,
    id_column: str = "event_id",
    scrubber: Scrubber = DEFAULT_SCRUBBER,
) -> pd.DataFrame:
    """Rows shaped like the model's event_issues (event_id, theme_code, rank); rank is empty after the fifth."""
    rows = _issue_rows(events, id_column, text_column, taxonomy, scrubber)
    rows["rank"] = rows["rank"].where(rows["rank"] <= MAX_RANK)
    return rows.rename(columns={id_column: "event_id"}).reset_index(drop=True)


def ccr_issues(
    ccr: pd.DataFrame,
    taxonomy: Taxonomy,
    *,
    text_column: str,
    id_column: str = "ccr_id",
    scrubber: Scrubber = DEFAULT_SCRUBBER,
) -> pd.DataFrame:
    """Rows shaped like the model's ccr_issues (ccr_id, theme_code), most-mentioned theme first."""
    rows = _issue_rows(ccr, id_column, text_column, taxonomy, scrubber)
    return rows.drop(columns="rank").rename(columns={id_column: "ccr_id"}).reset_index(drop=True)
