"""transforms/coerce.py: plain() turns empty and whitespace-only text into null, and only that."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from transforms.coerce import plain


def test_empty_and_whitespace_only_text_become_null_other_text_is_kept() -> None:
    values = pa.array(["", " ", "\t\n", "\u3000\u00a0", " a ", "b", None, "\u200b", "x\u2003"])
    assert plain(values).to_pylist() == [None, None, None, None, " a ", "b", None, "\u200b", "x\u2003"]


def test_whitespace_is_what_trimming_removes_for_every_code_point() -> None:
    """plain() asks utf8_is_space, cheaper than trimming every value; both must see the same spaces."""
    characters = pa.array([chr(code) for code in range(0x110000) if not 0xD800 <= code <= 0xDFFF])
    trimmed_away = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(characters)), 0)
    assert trimmed_away.equals(pc.utf8_is_space(characters))
    assert plain(characters).null_count == pc.sum(pc.cast(trimmed_away, pa.int64())).as_py() > 20
