"""transforms/keys.py: exact duplicate, membership and group-size answers over 128-bit hashes, also when
the first 64 bits collide (forced here, as real collisions are too rare to meet)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from transforms.keys import (
    Counter128,
    HashSet,
    KnownText,
    combine,
    group_sizes,
    hashes_of,
    repeated_after_first,
    shared_groups,
)

U = np.uint64


def words(*values: int) -> np.ndarray:
    return np.array(values, dtype=U)


def test_repeats_after_the_first_with_colliding_first_halves() -> None:
    first = words(7, 7, 7, 1, 7, 1)
    second = words(1, 2, 1, 5, 2, 5)
    present = np.array([True, True, True, True, True, False])
    assert repeated_after_first(first, second, present).tolist() == [2, 4]  # row 5 is absent


def test_membership_is_exact_when_first_halves_collide() -> None:
    known = HashSet(words(3, 3, 9, 3), words(1, 2, 4, 1))
    assert len(known) == 3
    assert known.contains(words(3, 3, 3, 9, 9, 4), words(1, 2, 3, 4, 1, 1)).tolist() == [
        True, True, False, True, False, False,
    ]  # fmt: skip


def test_positions_with_a_collision_at_the_end_of_the_set_and_hashes_beyond_it() -> None:
    known = HashSet(words(9, 1, 9), words(2, 1, 1))  # sorted: (1, 1), (9, 1), (9, 2)
    assert known.positions(words(9, 9, 9, 10, 0, 1), words(1, 2, 3, 1, 1, 1)).tolist() == [
        1,
        2,
        -1,
        -1,
        -1,
        0,
    ]
    assert HashSet(words(), words()).positions(words(4), words(4)).tolist() == [-1]


def test_group_sizes_and_child_counts() -> None:
    first, second = words(5, 5, 6, 5), words(1, 1, 1, 2)
    assert group_sizes(first, second, np.array([True, True, True, False])).tolist() == [2, 2, 1, 0]
    counter = Counter128()
    counter.hashes.add(*hashes_of(pa.array(["e1", "e1", "e2", None])))
    parents = hashes_of(pa.array(["e1", "e2", "e3", None]))
    assert counter.counts_for(*parents).tolist() == [2, 1, 0, 0]


def test_composite_keys_depend_on_the_order_of_their_parts() -> None:
    a = hashes_of(pa.array(["x", "y"]))
    b = hashes_of(pa.array(["y", "x"]))
    first, _second = combine([(a[0], a[1]), (b[0], b[1])])
    assert first[0] != first[1]  # (x, y) is not (y, x)


def test_text_and_numbers_hash_by_value() -> None:
    text, _, present = hashes_of(pa.array(["a", "b", "a", None]))
    assert text[0] == text[2] != text[1] and present.tolist() == [True, True, True, False]
    numbers, _, _ = hashes_of(pa.array([1.0, -0.0, 0.0, 1.0]))
    assert numbers[0] == numbers[3] and numbers[1] == numbers[2]


def test_repeated_text_hashes_as_each_value_alone_nulls_as_empty_text() -> None:
    from transforms.masking import value_hashes

    values = pa.array(["E1", "E2", None, "E1", "", "E2", "E1", "é", None, "E1"])
    first, second, present = hashes_of(values)

    one_by_one = [value_hashes(pa.array([value or ""])) for value in values.to_pylist()]
    assert first.tolist() == [int(f[0]) for f, _ in one_by_one]
    assert second.tolist() == [int(s[0]) for _, s in one_by_one]
    assert present.tolist() == [value is not None for value in values.to_pylist()]


def test_known_text_gives_the_hashes_hashing_gives() -> None:
    """A bridge's parent column is looked up among its parent table's keys: the same hashes as hashing
    each value, for values held and not, nulls (hashed as "") and several batches."""
    from transforms.masking import value_hashes

    known = KnownText()
    for batch in (pa.array(["e1", None, "e2"]), pa.array(["e3", "e1"])):
        first, second, _present = hashes_of(batch)
        assert known.add(batch, first, second)
    values = pa.array(["e3", "e9", None, "", "e1", "e2", "e9", "é"]).slice(0)
    first, second, present = hashes_of(values, known)
    expected_first, expected_second = value_hashes(values)
    assert first.tolist() == expected_first.tolist() and second.tolist() == expected_second.tolist()
    assert present.tolist() == [True, True, False, True, True, True, True, True]
    every = hashes_of(pa.array(["e2", "e3"]), known)  # all held
    assert every[0].tolist() == value_hashes(pa.array(["e2", "e3"]))[0].tolist()


def test_known_text_holds_nothing_past_its_limit() -> None:
    known = KnownText()
    known.LIMIT = 60  # two values: 2 x 16 bytes of hashes and 2 x 5 of text, a third passes it
    values = pa.array(["a", "b"])
    assert known.add(values, *value_hashes_of(values))
    assert not known.add(pa.array(["c"]), *value_hashes_of(pa.array(["c"])))
    assert len(known) == 0  # what it held is let go
    first, _second, _present = hashes_of(pa.array(["a"]), known)  # hashed, not looked up in a part
    assert first.tolist() == value_hashes_of(pa.array(["a"]))[0].tolist()


def value_hashes_of(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    first, second, _present = hashes_of(values)
    return first, second


def test_known_text_is_looked_up_not_hashed() -> None:
    """Made-up hashes held for some text come back for that text, from every batch held; other text
    and nulls are hashed."""
    known = KnownText()
    assert known.add(pa.array(["e1", None]), words(11, 12), words(21, 22))
    assert known.add(pa.array(["e3"]), words(13), words(23))
    assert len(known) == 3
    first, second, _present = hashes_of(pa.array(["e3", "e1", "x", None]), known)
    hashed_first, hashed_second = value_hashes_of(pa.array(["x", ""]))
    assert first.tolist() == [13, 11, *hashed_first.tolist()]
    assert second.tolist() == [23, 21, *hashed_second.tolist()]


def test_a_bridge_looks_its_parent_column_up_among_the_parent_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation hands a bridge's reference column the text of the table it refers to (read first):
    looked up there, and the orphan found as before."""
    from transforms.validate import validate_dataset

    looked_up: list[list[object]] = []
    hashes = KnownText.hashes

    def spy(self: KnownText, values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        looked_up.append(values.to_pylist())
        return hashes(self, values)

    monkeypatch.setattr(KnownText, "hashes", spy)
    events = pa.table({"event_id": ["e1", "e2"]})
    bridge = pa.table({"event_id": ["e1", "e3"], "officer_key": ["o1", "o2"]})
    report = validate_dataset({"event_officers": bridge, "events": events})
    assert looked_up == [["e1", "e3"]]
    orphans = [(p.table, p.row, p.column) for p in report.problems if p.code == "orphan-reference"]
    assert orphans == [("event_officers", 1, "event_id")]


def test_shared_groups_are_the_given_rows_whose_group_has_another_row() -> None:
    """Sized over the rows near the given ones only, the answer is group_sizes' over every row: with
    colliding first halves, absent rows and given rows that are absent."""
    rng = np.random.default_rng(3)
    for _ in range(200):
        count = int(rng.integers(0, 40))
        first = rng.integers(0, 6, count).astype(U)
        second = rng.integers(0, 3, count).astype(U)
        present = rng.random(count) < 0.8
        given = rng.random(count) < 0.3
        expected = np.flatnonzero(given & (group_sizes(first, second, present) > 1)).tolist()
        assert shared_groups(given, first, second, present).tolist() == expected
