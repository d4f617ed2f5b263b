"""transforms/coerce.py: plain() turns empty and whitespace-only text into null, and only that."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from transforms.coerce import plain, to_mask, valid_mask


def test_empty_and_whitespace_only_text_become_null_other_text_is_kept() -> None:
    values = pa.array(["", " ", "\t\n", "\u3000\u00a0", " a ", "b", None, "\u200b", "x\u2003"])
    assert plain(values).to_pylist() == [None, None, None, None, " a ", "b", None, "\u200b", "x\u2003"]


def test_whitespace_is_what_trimming_removes_for_every_code_point() -> None:
    """plain() asks utf8_is_space, cheaper than trimming every value; both must see the same spaces."""
    characters = pa.array([chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF])
    trimmed_away = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(characters)), 0)
    assert trimmed_away.equals(pc.utf8_is_space(characters))
    assert plain(characters).null_count == pc.sum(pc.cast(trimmed_away, pa.int64())).as_py() > 20


def test_a_blank_after_a_first_character_is_found_as_utf8_is_space_finds_it() -> None:
    """plain() asks utf8_is_space only of values not starting with printable ASCII: every code point
    first, then followed by a space and by a letter, in a sliced array with nulls, as Arrow decides."""
    codes = [code for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF]
    for tail in ("", " ", "\u3000", "x"):
        values = pa.array([None, "a", *(chr(code) + tail for code in codes), "", None]).slice(1)
        blank = pc.or_(pc.equal(pc.binary_length(values), 0), pc.utf8_is_space(values))
        expected = pc.if_else(blank, pa.scalar(None, pa.string()), values)
        assert plain(values).equals(expected)


def test_masks_read_from_bitmaps_equal_arrow_answers() -> None:
    """to_mask and valid_mask unpack bitmaps; at every offset, with and without nulls, they give what
    fill_null(False) and is_valid give."""
    flags = [True, False, None, True, True, None, False, True, False, True, None] * 3
    for array in (pa.array(flags), pa.array([value is not None and value for value in flags])):
        for start in range(12):
            for stop in (start, start + 1, start + 9, len(flags)):
                part = array.slice(start, stop - start)
                expected = pc.fill_null(part, False).to_numpy(zero_copy_only=False).tolist()
                assert to_mask(part).tolist() == expected
                assert valid_mask(part).tolist() == pc.is_valid(part).to_pylist()
    texts = pa.array(["a", None, "b", None] * 5).slice(3)
    assert valid_mask(texts).tolist() == pc.is_valid(texts).to_pylist()
    assert valid_mask(pa.nulls(4)).tolist() == [False] * 4
