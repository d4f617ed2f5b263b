"""Figures built on the issue rows: the top five issues per event, LPT or month, and the word cloud.

Pure and deterministic: ties are broken the same way whatever the input order. The word cloud counts
only theme labels and words of scrubbed text, and publishes no word fewer than `min_rows` notes use.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.codes import NO_ISSUES, THEMES
from transforms.scrub import DEFAULT_SCRUBBER, PLACEHOLDER_PATTERN, Scrubber
from transforms.scrub_lexicon import NOT_NAMES, words

TOP_LIMIT = 5
# A word must appear in at least this many notes before it is published: a rarer word (a surname the
# scrubber missed, a street, a shop) could point to one person. Ten matches the disclosure threshold
# the demographics use (counts under 10 are suppressed).
MIN_ROWS_PER_WORD = 10
MIN_WORD_LETTERS = 3
THEME_LABELS: Mapping[str, str] = {code.code: code.label for code in THEMES}
NOT_IN_CLOUD = frozenset((NO_ISSUES, "OTHER"))

# Everyday English words and words every note uses, which carry no theme.
STOP_WORDS = words(
    """
    a about above after again against all almost also always am among an and any are around as at away back
    be because been before being below between both but by can cannot could did do does doing done down
    during each either else even ever every few for from further get gets getting got had has have having
    he her here hers herself him himself his how however i if in into is it its itself just last least
    less like lot lots made make many may me more most much must my myself near need needs never new next
    no nor not now of off often on once one only onto or other others our ours ourselves out over own
    per quite rather really said same say says see seen she should since so some still such than that the
    their theirs them themselves then there these they thing things this those though through till to
    too toward towards under until up upon us very via was we well were what when where whether which
    while who whom whose why will with within without would yes yet you your yours yourself yourselves
    also already another anyone anything area areas around asked told raised raise raising reported
    report reports residents resident people person concern concerns concerned issue issues issued
    problem problems regarding re advised spoke spoken talked discussed mentioned meeting meetings team
    police officer officers pcso pcsos attended attending visit visited local week weeks month months
    year years day days night nights time times today yesterday recently ongoing again still call called
    calls calling contact contacted
    """
)


def top_issues(
    issues: pd.DataFrame,
    facts: pd.DataFrame,
    *,
    id_column: str,
    by: Sequence[str],
    date_column: str | None = None,
    limit: int = TOP_LIMIT,
    exclude: Collection[str] = (NO_ISSUES,),
) -> pd.DataFrame:
    """The `limit` most raised themes per group: columns *by, theme_code, count, rank (1 = most raised).

    `count` is the number of events (or CCRs) in the group that raised the theme. `by` names columns of
    `facts` (lpt_code, event_id, ...) or "month", the first day of `date_column`'s month. Ties go to the
    theme with the better average rank in the source rows (when `issues` has `rank`), then the code.
    """
    wanted = [name for name in by if name not in ("month", id_column)]
    columns = [id_column, *wanted]
    if "month" in by:
        if date_column is None:
            raise ValueError("grouping by month needs date_column")
        columns.append(date_column)
    joined = issues[~issues["theme_code"].isin(list(exclude))].merge(
        facts[columns].drop_duplicates(subset=id_column), on=id_column, how="inner"
    )
    if "month" in by and date_column is not None:
        dates = pd.to_datetime(joined[date_column])
        joined["month"] = dates.dt.normalize() - pd.to_timedelta(dates.dt.day - 1, unit="D")
    keys = [*by, "theme_code"]
    has_rank = "rank" in joined.columns
    joined["_rank"] = joined["rank"].astype("Float64").fillna(TOP_LIMIT + 1) if has_rank else 0.0
    grouped = joined.groupby(keys, dropna=False, sort=False).agg(
        count=(id_column, "nunique"), _mean_rank=("_rank", "mean")
    )
    ordered = grouped.reset_index().sort_values(
        [*by, "count", "_mean_rank", "theme_code"], ascending=[True] * len(by) + [False, True, True]
    )
    ordered["rank"] = (
        ordered.groupby(list(by), sort=False).cumcount() + 1 if by else range(1, len(ordered) + 1)
    )
    top = ordered[ordered["rank"] <= limit]
    return pd.DataFrame(
        {
            **{name: top[name].array for name in by},
            "theme_code": pd.array(top["theme_code"].to_numpy(), dtype="string"),
            "count": pd.array(top["count"].to_numpy(), dtype="Int64"),
            "rank": pd.array(top["rank"].to_numpy(), dtype="Int64"),
        }
    )


def _keyword_rows(texts: pd.Series, scrubber: Scrubber) -> pd.DataFrame:
    """(row, word, is_lower) for every word of the scrubbed texts, placeholders removed."""
    scrubbed = scrubber.scrub_arrow(pa.array(texts.astype(pd.StringDtype("pyarrow"))))[0]
    cleaned = pc.replace_substring_regex(scrubbed, PLACEHOLDER_PATTERN, " ")
    cleaned = pc.replace_substring_regex(cleaned, r"['’‘`]s\b", "")
    cleaned = pc.replace_substring_regex(cleaned, r"['’‘`]", "")
    words = pc.split_pattern_regex(pc.fill_null(cleaned, ""), r"[^\p{L}]+")
    flat = pc.list_flatten(words)
    frame = pd.DataFrame(
        {
            "row": pc.list_parent_indices(words).to_numpy(zero_copy_only=False),
            "word": pc.utf8_lower(flat).to_numpy(zero_copy_only=False),
            "is_lower": pc.equal(flat, pc.utf8_lower(flat)).to_numpy(zero_copy_only=False),
        }
    )
    return frame[frame["word"].str.len() >= MIN_WORD_LETTERS]


def word_frequencies(
    texts: pd.Series,
    theme_codes: pd.Series,
    *,
    min_rows: int = MIN_ROWS_PER_WORD,
    scrubber: Scrubber = DEFAULT_SCRUBBER,
    stop_words: Collection[str] = STOP_WORDS,
    labels: Mapping[str, str] = THEME_LABELS,
) -> pd.DataFrame:
    """Word-cloud weights: columns word, count (notes using it), source ("theme" or "keyword").

    Theme labels are counted once per issue row in `theme_codes` (NO_ISSUES and OTHER left out).
    Keywords come from `texts` after scrubbing; stop words, placeholders, numbers and words always
    written with a capital (most likely names the scrubber did not know) are dropped, unless they are
    known place or organisation words. Anything used by fewer than `min_rows` notes is left out.
    """
    themes = theme_codes.dropna().astype(str)
    label_counts = themes[~themes.isin(NOT_IN_CLOUD)].map(labels).dropna().value_counts()
    theme_rows = pd.DataFrame({"word": label_counts.index.astype(str), "count": label_counts.to_numpy()})
    theme_rows["source"] = "theme"
    words = _keyword_rows(texts.reset_index(drop=True), scrubber)
    words = words[~words["word"].isin(list(stop_words))]
    known = {word.lower() for word in NOT_NAMES}
    seen_lower = words.groupby("word")["is_lower"].any()
    allowed = seen_lower[seen_lower | seen_lower.index.isin(list(known))].index
    words = words[words["word"].isin(allowed)].drop_duplicates(["row", "word"])
    keyword_counts = words["word"].value_counts()
    keyword_rows = pd.DataFrame(
        {"word": keyword_counts.index.astype(str), "count": keyword_counts.to_numpy()}
    )
    keyword_rows["source"] = "keyword"
    result = pd.concat([theme_rows, keyword_rows], ignore_index=True)
    result = result[result["count"] >= min_rows].sort_values(
        ["count", "source", "word"], ascending=[False, False, True]
    )
    return pd.DataFrame(
        {
            "word": pd.array(result["word"].to_numpy(), dtype="string"),
            "count": pd.array(result["count"].to_numpy(), dtype="Int64"),
            "source": pd.array(result["source"].to_numpy(), dtype="string"),
        }
    )
