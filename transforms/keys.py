"""What validation keeps across record batches: 128-bit hashes of key columns, never whole rows.

A file is checked batch by batch; the checks that need more than one batch (duplicate keys, orphan
references, officer counts, exclusive codes) keep 16 bytes per row and column involved
(masking.value_hashes), and run when the table (or the dataset) has been read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from transforms.coerce import repeats, valid_mask
from transforms.masking import Hashes, value_hashes

Rows = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
Words = npt.NDArray[np.uint64]
MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier: combines the parts of a composite key


def hashes_of(values: pa.Array, known: KnownText | None = None) -> tuple[Words, Words, Bools]:
    """Both hash halves of each value and whether it is present; text that `known` holds is looked up."""
    if pa.types.is_string(values.type):
        first, second = _text_hashes(values) if known is None else known.hashes(values)
    else:
        first, second = value_hashes(values)
    return first, second, valid_mask(values)


def _text_hashes(values: pa.Array) -> Hashes:
    """value_hashes of text, each distinct value hashed once when values repeat (references, codes):
    hashing goes through a Python string per value (some 250 ns for both halves), the encoding does not
    (some 25 ns with the take). Whether they repeat is judged on a sample (coerce.repeats): encoding pays
    unless nearly all are distinct (a key; a bridge's parent column repeats each value 1.5 to 2 times);
    either way each value gets the same hash. Nulls hash as "", as in value_hashes."""
    if not repeats(values, distinct_share=7 / 8):
        return value_hashes(values)
    encoded = pc.dictionary_encode(pc.fill_null(values, ""))
    first, second = value_hashes(encoded.dictionary)
    at = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
    return first[at], second[at]


class KnownText:
    """Text values already hashed in this validation, with their hashes, to look up rather than hash again:
    a bridge table's parent column holds its parent table's keys (hashing a value takes some 250 ns, the
    lookup some 50). A null is never looked up (it is hashed as "", as value_hashes hashes a null)."""

    LIMIT = 32 << 20  # bytes at most (text and hashes): a large file's reference target is not held

    def __init__(self) -> None:
        self._parts: list[tuple[pa.Array, Words, Words]] = []
        self.size = 0

    def add(self, values: pa.Array, first: Words, second: Words) -> bool:
        """Keep a batch's text and hashes; False (and nothing kept) once LIMIT bytes would be passed."""
        self.size += values.nbytes + first.nbytes + second.nbytes
        if self.size > self.LIMIT:
            self._parts.clear()
            return False
        self._parts.append((values, first, second))
        return True

    def __len__(self) -> int:
        return sum(len(values) for values, _first, _second in self._parts)

    def freeze(self) -> None:
        """One array of the text and one of each half (once the table is read)."""
        if len(self._parts) > 1:
            texts, firsts, seconds = zip(*self._parts, strict=True)
            self._parts = [(pa.concat_arrays(list(texts)), np.concatenate(firsts), np.concatenate(seconds))]

    def hashes(self, values: pa.Array) -> Hashes:
        """value_hashes of `values`: those held looked up (equal text, equal hash), the others hashed."""
        if not self._parts:
            return _text_hashes(values)
        self.freeze()
        ((known, known_first, known_second),) = self._parts
        at = pc.index_in(pc.fill_null(values, ""), value_set=known)
        positions = np.asarray(pc.fill_null(at, 0).to_numpy(zero_copy_only=False), dtype=np.intp)
        first, second = known_first[positions], known_second[positions]
        if at.null_count:
            unknown = np.flatnonzero(~valid_mask(at))
            first[unknown], second[unknown] = _text_hashes(values.take(pa.array(unknown)))
        return first, second


def combine(parts: list[Hashes]) -> Hashes:
    """One 128-bit hash per row from the hashes of a composite key's parts (order matters)."""
    first, second = parts[0]
    for part_first, part_second in parts[1:]:
        first = first * MIX + part_first
        second = second * MIX + part_second
    return first, second


@dataclass
class ColumnHashes:
    """A column's hashes for every row of a table, appended batch by batch."""

    _first: list[Words] = field(default_factory=list)
    _second: list[Words] = field(default_factory=list)
    _present: list[Bools] = field(default_factory=list)

    def add(self, first: Words, second: Words, present: Bools) -> None:
        self._first.append(first)
        self._second.append(second)
        self._present.append(present)

    def arrays(self) -> tuple[Words, Words, Bools]:
        if not self._first:
            empty = np.zeros(0, dtype=np.uint64)
            return empty, empty, np.zeros(0, dtype=np.bool_)
        first, second, present = (_join(chunks) for chunks in (self._first, self._second, self._present))
        self._first, self._second, self._present = [first], [second], [present]
        return first, second, present


def _join(chunks: list[npt.NDArray[Any]]) -> npt.NDArray[Any]:
    """One array from the chunks, each chunk freed once copied (not twice the memory at the end)."""
    joined = np.empty(sum(len(chunk) for chunk in chunks), dtype=chunks[0].dtype)
    start = 0
    while chunks:
        chunk = chunks.pop(0)
        joined[start : start + len(chunk)] = chunk
        start += len(chunk)
    return joined


class HashSet:
    """Distinct 128-bit hashes, sorted, with a vectorised exact membership test."""

    def __init__(self, first: Words, second: Words) -> None:
        order = _ordered(first, second)
        first, second = first[order], second[order]
        keep = np.ones(len(first), dtype=np.bool_)
        keep[1:] = (first[1:] != first[:-1]) | (second[1:] != second[:-1])
        self.first, self.second = first[keep], second[keep]

    def __len__(self) -> int:
        return len(self.first)

    def positions(self, first: Words, second: Words) -> Rows:
        """Where each hash is in the set, or -1."""
        size = len(self.first)
        found = np.full(len(first), -1, dtype=np.int64)
        if not size:
            return found
        # One search: the set's first halves repeat only where two hashes share a first half (a 64-bit
        # collision), so the run of equal first halves is the one found unless the next is equal too.
        left = np.searchsorted(self.first, first, side="left")
        at = np.minimum(left, size - 1)
        same_first = self.first[at] == first
        following = np.minimum(at + 1, size - 1)
        shared = same_first & (at + 1 < size) & (self.first[following] == first)
        single = same_first & ~shared
        hit = single.copy()
        hit[single] = self.second[left[single]] == second[single]
        found[hit] = left[hit]
        for index in np.flatnonzero(shared):  # a 64-bit collision: almost never
            right = np.searchsorted(self.first, first[index], side="right")
            run = np.arange(left[index], right)
            match = run[self.second[run] == second[index]]
            if len(match):
                found[index] = match[0]
        return found

    def contains(self, first: Words, second: Words) -> Bools:
        return self.positions(first, second) >= 0


def _ordered(first: Words, second: Words) -> Rows:
    """A stable order by (first, second); sorting by `first` alone, then the rare runs of equal `first`
    by both, is several times faster than a two-key sort over millions of rows."""
    order = np.argsort(first, kind="stable")
    ranked = first[order]
    equal = ranked[1:] == ranked[:-1]
    if not equal.any():
        return order
    in_run = np.zeros(len(order), dtype=np.bool_)
    in_run[1:] |= equal
    in_run[:-1] |= equal
    runs = np.flatnonzero(in_run)  # positions (in `order`) of rows sharing their `first` with another
    members = order[runs]
    order[runs] = members[np.lexsort((members, second[members], first[members]))]
    return order


def repeated_after_first(first: Words, second: Words, present: Bools) -> Rows:
    """Rows (in order) whose present hash equals that of an earlier row.

    Only rows whose first half occurs more than once are ordered (one sorted copy of the first halves
    finds them), so the memory this takes is 8 bytes a row, not the 40 a full argsort needs.
    """
    ranked = np.sort(first[present] if not present.all() else first)
    repeated = ranked[1:][ranked[1:] == ranked[:-1]]
    del ranked
    rows = np.flatnonzero(present & _among(first, np.unique(repeated)))  # duplicates, and rare collisions
    order = _ordered(first[rows], second[rows])  # stable: earlier rows first within equal hashes
    ranked_first, ranked_second = first[rows][order], second[rows][order]
    same = np.zeros(len(rows), dtype=np.bool_)
    same[1:] = (ranked_first[1:] == ranked_first[:-1]) & (ranked_second[1:] == ranked_second[:-1])
    return np.sort(rows[order][same]).astype(np.int64)


def _among(values: Words, sorted_set: Words, chunk: int = 1 << 20) -> Bools:
    """Whether each value is in the sorted set, a million at a time (small temporaries)."""
    found = np.zeros(len(values), dtype=np.bool_)
    if not len(sorted_set):
        return found
    for start in range(0, len(values), chunk):
        part = values[start : start + chunk]
        at = np.minimum(np.searchsorted(sorted_set, part), len(sorted_set) - 1)
        found[start : start + chunk] = sorted_set[at] == part
    return found


def group_sizes(first: Words, second: Words, present: Bools) -> npt.NDArray[np.int64]:
    """For each row, how many rows share its hash (0 where absent)."""
    rows = np.flatnonzero(present)
    sizes = np.zeros(len(first), dtype=np.int64)
    if not len(rows):
        return sizes
    order = _ordered(first[rows], second[rows])
    ranked_first, ranked_second = first[rows][order], second[rows][order]
    starts = np.ones(len(rows), dtype=np.bool_)
    starts[1:] = (ranked_first[1:] != ranked_first[:-1]) | (ranked_second[1:] != ranked_second[:-1])
    group = np.cumsum(starts) - 1
    counts = np.bincount(group)
    sizes[rows[order]] = counts[group]
    return sizes


def shared_groups(rows: Bools, first: Words, second: Words, present: Bools) -> Rows:
    """The given rows (in order) whose present hash another row shares: group_sizes > 1 there, sized
    over only the rows sharing a first half with a given row (all that can share its hash)."""
    held = np.flatnonzero(rows & present)
    if not len(held):
        return np.zeros(0, dtype=np.int64)
    near = np.flatnonzero(present & _among(first, np.unique(first[held])))
    sizes = np.zeros(len(first), dtype=np.int64)
    sizes[near] = group_sizes(first[near], second[near], np.ones(len(near), dtype=np.bool_))
    return held[sizes[held] > 1].astype(np.int64)


class Counter128:
    """How many rows hold each hash (a child table's references, for a parent's count rule)."""

    def __init__(self) -> None:
        self.hashes = ColumnHashes()

    def counts_for(self, first: Words, second: Words, present: Bools) -> npt.NDArray[np.int64]:
        child_first, child_second, child_present = self.hashes.arrays()
        distinct = HashSet(child_first[child_present], child_second[child_present])
        position = distinct.positions(first, second)
        sizes = np.zeros(len(distinct), dtype=np.int64)
        if len(distinct):
            where = distinct.positions(child_first[child_present], child_second[child_present])
            sizes = np.bincount(where, minlength=len(distinct)).astype(np.int64)
        found = (position >= 0) & present
        result = np.zeros(len(first), dtype=np.int64)
        result[found] = sizes[position[found]]
        return result
