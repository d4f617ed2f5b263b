"""The Unicode classes of the scrubber's name rules, spelt as small as the texts of one call allow.

Arrow compiles every RE2 pattern again on each call, and most of that cost is the Unicode classes
`\\p{Lu}`, `\\p{L}` and `\\p{N}` (hundreds of ranges each, compiled to UTF-8 byte automata several times
a pattern). A regular expression only ever tests a class against the characters of the text it runs
on, so a class may be replaced by any class holding the same characters OF THOSE TEXTS: the matches,
groups and replacements are then the same, character for character. The texts of a call only ever hold
their own characters, ASCII placeholders and the protection mark (which no class here holds, both
spellings leave it to the rules that name it), so `letters_for` lists the call's characters outside
ASCII that RE2 itself puts in each class (a text all in ASCII, the common case, needs none) and the
rules are built with `[A-Z...]` for `\\p{Lu}`, `A-Za-z...` for `\\p{L}` and `0-9...` for `\\p{N}`: within
ASCII these are exactly the Unicode classes (checked over all 128 characters in
tests/transforms/test_scrub_letters.py).

The classes must not be used inside a case-insensitive group (`(?i)` widens a class by case folding);
none of the rules does.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

MOST_OTHER_CHARACTERS = 256  # beyond this many characters outside ASCII in a call, the Unicode classes


@dataclass(frozen=True)
class Letters:
    """How the rules spell three Unicode classes: `upper` a whole class, `letter` and `number` the
    insides of one (the rules combine them with other characters)."""

    upper: str
    letter: str
    number: str


UNICODE = Letters(upper=r"\p{Lu}", letter=r"\p{L}", number=r"\p{N}")
ASCII = Letters(upper="[A-Z]", letter="A-Za-z", number="0-9")


def _in_class(characters: pa.Array, unicode_class: str) -> str:
    """The escaped characters of `characters` RE2 puts in `unicode_class` (RE2 decides, not Python's
    unicodedata, whose Unicode version may differ)."""
    inside = pc.match_substring_regex(characters, "^" + unicode_class + r"\z")
    return "".join(f"\\x{{{ord(c):X}}}" for c in pc.filter(characters, inside).to_pylist())


def letters_for(texts: pa.Array) -> Letters:
    """The smallest spelling of the classes that is exact on `texts` (and on anything the rules make of
    them)."""
    if len(texts) == 0 or pc.all(pc.fill_null(pc.string_is_ascii(texts), True)).as_py():
        return ASCII
    others = pc.filter(texts, pc.invert(pc.fill_null(pc.string_is_ascii(texts), True))).to_pylist()
    found = sorted({c for c in "".join(others) if not c.isascii()})
    if len(found) > MOST_OTHER_CHARACTERS:
        return UNICODE
    characters = pa.array(found, pa.string())
    return Letters(
        upper="[A-Z" + _in_class(characters, r"\p{Lu}") + "]",
        letter="A-Za-z" + _in_class(characters, r"\p{L}"),
        number="0-9" + _in_class(characters, r"\p{N}"),
    )
