"""The one masking rule for every value shown to a person or written to a log, a report, an error or a
quarantine file (docs/cli.md#what-a-report-shows).

- A value from source data is shown only when its column is safe to show (`Column.safe_to_show`: codes,
  patterned public codes, dates, numbers, booleans, never personal) AND the value itself has a safe
  shape: a declared code (or that code in other case), a parseable date or a short number, a boolean
  word or a placeholder such as `n/a`. Anything else is `***`: a phone number, email, postcode or
  `=HYPERLINK(...)` typed into a code column is masked like free text.
- Identifiers (key columns and relationship columns that are not safe to show, e.g. `ccr_id`,
  `officer_key`) are shown as a fingerprint: `#` and 12 hex digits of keyed BLAKE2b (a MAC, as HMAC
  is) over a 128-bit SipHash of the value. The HMAC key is either a random 256-bit salt made for one report (stable within
  the report, different in the next) or derived from the pseudonymisation key (stable across runs).
  Without the HMAC key, enumerating a small id space (ccr-000001 ... ccr-999999) gives nothing to match.
- Column names from a header are shown only when the header looks like one (`header_looks_like_data`)
  and the name itself has a name's shape; otherwise by position.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import struct
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, TypeAlias

from powerbi_dataset.schema import Column, Dataset, Table

if TYPE_CHECKING:  # loaded by the first fingerprint: `printable` renders every command's output, --help's too
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

MASK = "***"
ELLIPSIS = "…"
FINGERPRINT_BYTES = 6  # 48 bits, 12 hex digits: no two of a few million keys in a report likely share one
FINGERPRINT_DOMAIN = b"cetk report fingerprint v1"  # so a fingerprint is never an officer_key pseudonym
SALT_BYTES = 32
MAX_NAME_CHARS = 64
MAX_SHOWN_CHARS = 40

Display = Literal["value", "fingerprint", "masked"]
_PAIR = struct.Struct(">QQ")
Hashes: TypeAlias = tuple["npt.NDArray[np.uint64]", "npt.NDArray[np.uint64]"]

# SipHash keys (16 bytes each) for the two halves of a value's 128-bit hash; public on purpose: the
# secret is the HMAC key applied after hashing, and duplicates are found by the 128 bits alone.
_HASH_KEYS = ("cetk-key-hash-01", "cetk-key-hash-02")

PLACEHOLDERS = frozenset(
    {"", "-", "--", "?", "n/a", "na", "none", "null", "nil", "nan", "unknown", "tbc", "tba", "x", "blank"}
)
BOOLEAN_WORDS = frozenset({"true", "false", "yes", "no", "y", "n", "t", "f", "0", "1"})
SHOWN_NUMBER = re.compile(r"[+-]?(0|[1-9]\d{0,5})(\.\d{1,15})?")  # at most 6 whole digits: never a phone
SHOWN_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?"
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_PHONE = re.compile(r"[+(]?\d[\d\s().-]{5,}\d")
_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}", re.IGNORECASE)
_NI_NUMBER = re.compile(r"[A-Z]{2}\s*\d{2}\s*\d{2}\s*\d{2}\s*[A-D]?", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(\d+[.,]?\d*|[.,]\d+)([eE][+-]?\d+)?%?")
_DATE_LIKE = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2}:\d{2}")
_URL = re.compile(r"[a-z][a-z0-9+.-]*://|www\.", re.IGNORECASE)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NAME_SHAPE = re.compile(r"[A-Za-z_][A-Za-z0-9_ .()/#-]*")
MAX_HEADER_WORDS = 6


# --- fingerprints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fingerprinter:
    """Turns identifiers into `#` + 12 hex digits; the HMAC key is never shown or written."""

    _key: bytes = field(repr=False)
    stable: bool  # True: keyed by the pseudonymisation key, the same id has the same fingerprint each run

    @classmethod
    def per_report(cls, salt: bytes | None = None) -> Fingerprinter:
        """A fresh random salt: fingerprints agree within one report only."""
        return cls(salt if salt is not None else secrets.token_bytes(SALT_BYTES), stable=False)

    @classmethod
    def from_pseudonymisation_key(cls, key: str) -> Fingerprinter:
        """Keyed by a key derived from the pseudonymisation key (a different key: a fingerprint is not a pseudonym)."""
        derived = hmac.new(key.encode("utf-8"), FINGERPRINT_DOMAIN, hashlib.sha256).digest()
        return cls(derived, stable=True)

    def describe(self) -> str:
        if self.stable:
            return "keyed by the pseudonymisation key: the same id has the same fingerprint in every run"
        return "random salt for this report: the same id has the same fingerprint within this report only"

    def of_hashes(self, first: Sequence[int], second: Sequence[int]) -> list[str]:
        """The fingerprint of each value given by its 128-bit hash (value_hashes): keyed BLAKE2b, a MAC
        like HMAC-SHA256 and a third of its cost; each distinct value is computed once."""
        done: dict[tuple[int, int], str] = {}
        shown = []
        for pair in zip(first, second, strict=True):
            text = done.get(pair)
            if text is None:
                digest = hashlib.blake2b(_PAIR.pack(*pair), key=self._key, digest_size=FINGERPRINT_BYTES)
                text = done[pair] = "#" + digest.hexdigest()
            shown.append(text)
        return shown

    def of_array(self, values: pa.Array) -> list[str]:
        """The fingerprint of each value ('' for null)."""
        first, second = value_hashes(values)
        shown = self.of_hashes(first.tolist(), second.tolist())
        return [text if valid else "" for text, valid in zip(shown, to_valid(values), strict=True)]


def to_valid(values: pa.Array) -> list[bool]:
    import pyarrow.compute as pc

    return [bool(item) for item in pc.is_valid(values).to_pylist()]


def value_hashes(values: pa.Array) -> Hashes:
    """Two independent 64-bit hashes of each value (nulls hash as the empty value; mask them yourself).

    Text is hashed with SipHash-2-4 under two fixed keys (pandas.util.hash_array); numbers, dates and
    booleans by pandas' bijective 64-bit mix of their integer form, so two numbers never collide.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        text = np.asarray(pc.fill_null(values, "").to_numpy(zero_copy_only=False), dtype=object)
        first, second = (pd.util.hash_array(text, hash_key=key, categorize=False) for key in _HASH_KEYS)
        return np.asarray(first, dtype=np.uint64), np.asarray(second, dtype=np.uint64)
    numbers = _integer_form(values)
    mixed = np.asarray(pd.util.hash_array(numbers), dtype=np.uint64)
    return mixed, np.zeros(len(mixed), dtype=np.uint64)


def _integer_form(values: pa.Array) -> npt.NDArray[np.int64]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(values.type):
        floats = np.asarray(pc.fill_null(values.cast(pa.float64()), 0.0).to_numpy(), dtype=np.float64)
        return (floats + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    if pa.types.is_boolean(values.type):
        values = values.cast(pa.int8())
    elif not pa.types.is_integer(values.type):  # timestamps, dates, durations
        values = values.cast(pa.int64())
    return np.asarray(pc.fill_null(values, 0).to_numpy(zero_copy_only=False)).astype(np.int64)


# --- which columns, which values ----------------------------------------------------------------


def identifier_columns(table: Table, dataset: Dataset | None = None) -> frozenset[str]:
    """Columns that identify rows: the key and both ends of every relationship of the table."""
    names = set(table.key)
    for relationship in dataset.relationships if dataset is not None else ():
        if relationship.from_table == table.name:
            names.add(relationship.from_column)
        if relationship.to_table == table.name:
            names.add(relationship.to_column)
    return frozenset(names)


def column_display(column: Column, *, identifier: bool) -> Display:
    """How values of the column are shown: as they are (checked per value), as fingerprints, or never."""
    if column.safe_to_show:
        return "value"
    return "fingerprint" if identifier else "masked"


def value_text(value: object) -> str:
    """A scalar as report text: '' for null, ISO-8601 for datetimes, lower-case booleans."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def has_safe_shape(text: str, column: Column) -> bool:
    """Whether a value of a safe column may be shown: its shape carries nothing but the column's meaning."""
    if len(text) > MAX_SHOWN_CHARS:
        return False
    folded = text.strip().lower()
    if folded in PLACEHOLDERS:
        return True
    if column.codes:
        normalised = re.sub(r"[\s-]+", "_", text.strip()).upper()
        return normalised in column.code_values
    if column.kind == "String":  # a patterned code: shown only when it has the pattern
        return column.pattern is not None and re.fullmatch(column.pattern, text) is not None
    if column.kind == "Boolean":
        return folded in BOOLEAN_WORDS
    if column.kind == "DateTime":
        return SHOWN_DATE.fullmatch(text.strip()) is not None
    return SHOWN_NUMBER.fullmatch(text.strip()) is not None  # Int64, Double, Decimal


def shown_value(value: object, column: Column, display: Display, fingerprint: str = "") -> str:
    """THE rule: the text a value may be shown as ('' for null)."""
    if value is None:
        return ""
    if display == "fingerprint":
        return fingerprint or MASK
    if display == "masked":
        return MASK
    text = value_text(value)
    return text if has_safe_shape(text, column) else MASK


def length_text(value: object) -> str:
    """A too-long value as its length only: `<4001 chars>`."""
    return f"<{len(value_text(value))} chars>"


# --- headers and names ----------------------------------------------------------------------------


def looks_like_value(cell: str) -> bool:
    """A header cell that is more likely a value than a column name: email, phone, postcode, number, date,
    URL, formula, or long free text."""
    text = cell.strip()
    if not text:
        return False
    if text.lower() in BOOLEAN_WORDS - {"y", "n", "t", "f", "x"}:
        return True
    if text.startswith(_FORMULA_START) or len(text) > MAX_NAME_CHARS:
        return True
    if len(text.split()) > MAX_HEADER_WORDS:
        return True
    shapes = (_EMAIL, _URL, _DATE_LIKE)
    if any(shape.search(text) for shape in shapes):
        return True
    whole = (_PHONE, _POSTCODE, _NI_NUMBER, _NUMBER)
    return any(shape.fullmatch(text) for shape in whole)


def header_looks_like_data(names: Sequence[str], known: Collection[str]) -> bool:
    """True when a first row holds values rather than column names: any value-like cell, or no known name."""
    if not names:
        return False
    return any(looks_like_value(name) for name in names) or not any(name in known for name in names)


def shown_name(name: str, position: int, known: Collection[str]) -> str:
    """A column name from the input as it may be shown: a model name as is, a name-shaped one escaped,
    anything else by position ("column 3", counting from 1)."""
    if name in known:
        return name
    if _NAME_SHAPE.fullmatch(name) and len(name) <= MAX_NAME_CHARS and not looks_like_value(name):
        return name
    return f"column {position + 1}"


def shown_names(names: Iterable[str], known: Collection[str]) -> list[str]:
    return [shown_name(name, position, known) for position, name in enumerate(names)]


def printable(text: str) -> str:
    """Control and format characters (ESC sequences, bidi overrides) escaped: never sent to a terminal."""
    return "".join(_escaped(character) for character in text)


def _escaped(character: str) -> str:
    if unicodedata.category(character) not in ("Cc", "Cf"):
        return character
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
