"""Minimisation at ingest: what may not be written is removed here, before any table leaves normalise.

Demographic answers are kept only where the consent flag is true (the answers of other items are
never converted, only counted); free text has personal details replaced by `[KIND]` placeholders
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

__all__ = ["consented", "keep_consented", "scrub_free_text"]


def consented(consent: pa.Array | None, rows: int) -> Mask:
    """True where the consent flag is true; a missing flag (or no consent column at all) is no consent."""
    if consent is None:
        return np.zeros(rows, dtype=np.bool_)
    return to_mask(pc.equal(consent, True))


def keep_consented(raw: Sequence[object], allowed: Mask) -> tuple[list[object], Mask]:
    """The raw answers of consenting items (others None), and where an answer was removed."""
    removed = np.fromiter(
        (value is not None and not ok for value, ok in zip(raw, allowed.tolist(), strict=True)),
        np.bool_,
        len(raw),
    )
    if not removed.any():
        return list(raw), removed
    return [None if gone else value for value, gone in zip(raw, removed.tolist(), strict=True)], removed


def scrub_free_text(
    columns: Sequence[pa.Array], scrubber: Scrubber = DEFAULT_SCRUBBER
) -> list[tuple[pa.Array, Mask]]:
    """Each column of free text with personal details replaced, and where a value changed.

    The scrubber's cost is mostly per distinct text plus a fixed cost per call (its regular
    expressions are compiled each time), so all columns go through one call, each distinct text once
    (event names follow a few patterns and repeat).
    """
    lengths = [len(column) for column in columns]
    if not columns or sum(lengths) == 0:
        return [(column, np.zeros(len(column), dtype=np.bool_)) for column in columns]
    joined = pa.concat_arrays([column.cast(pa.string()) for column in columns])
    encoded = pc.dictionary_encode(joined)
    cleaned, _counts = scrubber.scrub_arrow(encoded.dictionary)
    scrubbed = pc.take(cleaned, encoded.indices).cast(pa.string())
    changed = to_mask(pc.not_equal(scrubbed, joined))
    out = []
    start = 0
    for length in lengths:
        out.append((scrubbed.slice(start, length), changed[start : start + length]))
        start += length
    return out
