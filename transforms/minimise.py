"""Minimisation at ingest: what may not be written is removed here, before any table leaves normalise.

Demographic answers are kept only where the consent flag is true (the answers of other items are
emptied before they are mapped or reported, and counted); free text has personal details replaced by `[KIND]` placeholders
(transforms.scrub). Officer and citizen pseudonyms are made in transforms.normalise_values with
transforms.privacy; what is refused outright is decided in transforms.normalise_plan.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.coerce import Mask, to_mask
from transforms.scrub import DEFAULT_SCRUBBER, Scrubber

__all__ = ["clear_memo", "consented", "scrub_free_text", "scrub_texts"]

MEMO_LIMIT = 200_000  # texts remembered by scrub_texts before the memo starts afresh
_MEMO: dict[str, str] = {}


def consented(consent: pa.Array | None, rows: int) -> Mask:
    """True where the consent flag is true; a missing flag (or no consent column at all) is no consent."""
    if consent is None:
        return np.zeros(rows, dtype=np.bool_)
    return to_mask(pc.equal(consent, True))


def clear_memo() -> None:
    """Forget what scrub_texts remembered (benchmarks measure a first run with it)."""
    _MEMO.clear()


def scrub_texts(texts: Sequence[str], scrubber: Scrubber = DEFAULT_SCRUBBER) -> list[str]:
    """Each text scrubbed; texts already seen come from a memo, the rest go through one scrubber call.

    The scrubber costs a fixed amount per call (its regular expressions are compiled each time) and an
    amount per text; list texts repeat across pages (event names follow a few patterns, unknown labels
    recur), so the default scrubber's results are remembered. The memo only ever holds what the same
    pure function returns, so it cannot change a result.
    """
    memo = _MEMO if scrubber is DEFAULT_SCRUBBER else {}
    missing = [text for text in dict.fromkeys(texts) if text not in memo]
    found = (
        dict(zip(missing, scrubber.scrub_arrow(pa.array(missing, pa.string()))[0].to_pylist(), strict=True))
        if missing
        else {}
    )
    if len(memo) + len(found) > MEMO_LIMIT:
        memo.clear()
    memo.update(found)
    return [found[text] if text in found else memo[text] for text in texts]


def scrub_free_text(
    columns: Sequence[pa.Array], scrubber: Scrubber = DEFAULT_SCRUBBER
) -> list[tuple[pa.Array, Mask]]:
    """Each column of free text with personal details replaced, and where a value changed.

    All columns go through one call, each distinct text once.
    """
    lengths = [len(column) for column in columns]
    if not columns or sum(lengths) == 0:
        return [(column, np.zeros(len(column), dtype=np.bool_)) for column in columns]
    joined = pa.concat_arrays([column.cast(pa.string()) for column in columns])
    encoded = pc.dictionary_encode(joined)
    cleaned = pa.array(scrub_texts(encoded.dictionary.to_pylist(), scrubber), pa.string())
    scrubbed = pc.take(cleaned, encoded.indices)
    changed = to_mask(pc.not_equal(scrubbed, joined))
    out = []
    start = 0
    for length in lengths:
        out.append((scrubbed.slice(start, length), changed[start : start + length]))
        start += length
    return out
