"""Keyed pseudonyms for officers and citizens: HMAC-SHA256 over a normalised identifier, 16 hex characters.

Staff numbers and phone numbers are small spaces that a plain hash cannot protect (reliability-security.md
S11), so every pseudonym is keyed. The key is bytes handed in by the caller; config/ loads it from
CETK_PSEUDONYMISATION_KEY or the keyring, this module never reads the environment.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import overload

import pandas as pd
import pyarrow as pa

from errors import ConfigError

KEY_VARIABLE = "CETK_PSEUDONYMISATION_KEY"  # where config/ reads the key from; named in errors only
MIN_KEY_BYTES = 16  # 128 bits, the HMAC key length NIST SP 800-107 treats as the security floor here
KEY_HEX_CHARACTERS = 16  # model.KEY_16_HEX: the first 64 bits of the HMAC, shown as hex
_PHONE_TRUNK = re.compile(r"\(\s*0\s*\)")  # "+44 (0)7700 ..." writes the trunk zero it then drops
_UK_INTERNATIONAL_DIGITS = 12  # 44 and a ten-digit national number (without its leading 0)


def require_key(key: bytes) -> bytes:
    """The key itself, or a ConfigError when it is too short to resist a dictionary attack."""
    if not isinstance(key, bytes):
        raise TypeError("the pseudonymisation key must be bytes")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"the pseudonymisation key ({KEY_VARIABLE}) is {len(key)} bytes; at least {MIN_KEY_BYTES} are needed",
            hint=f"set {KEY_VARIABLE} (or the keyring entry) to a random value of at least "
            f"{MIN_KEY_BYTES} bytes, e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`",
        )
    return key


def normalise_staff_number(staff_number: str) -> str:
    """The form an officer key is computed from: compatibility forms folded, no white space, upper case."""
    return "".join(unicodedata.normalize("NFKC", staff_number).split()).upper()


def normalise_contact_detail(detail: str) -> str:
    """An email lower-cased and trimmed; a phone number as digits, with +44 / 0044 written as a leading 0."""
    text = unicodedata.normalize("NFKC", detail).strip()
    if "@" in text:
        return text.lower()
    international = text.startswith("+44")
    digits = "".join(char for char in _PHONE_TRUNK.sub("", text) if char.isdigit())
    if digits.startswith("0044"):
        return "0" + digits[4:]
    if international or (digits.startswith("44") and len(digits) == _UK_INTERNATIONAL_DIGITS):
        return "0" + digits[2:]
    return digits


def officer_key(staff_number: str, key: bytes) -> str:
    """The officer's pseudonym: HMAC-SHA256 of the normalised staff number, first 16 hex characters."""
    return _pseudonym(_keyed(key), _nonempty(normalise_staff_number(staff_number), "staff number"))


def citizen_key(contact_detail: str, key: bytes) -> str:
    """A citizen's pseudonym: HMAC-SHA256 of the normalised contact detail, first 16 hex characters."""
    return _pseudonym(_keyed(key), _nonempty(normalise_contact_detail(contact_detail), "contact detail"))


@overload
def officer_keys(values: pd.Series, key: bytes) -> pd.Series: ...
@overload
def officer_keys(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array: ...
def officer_keys(values: pa.Array | pa.ChunkedArray | pd.Series, key: bytes) -> pa.Array | pd.Series:
    """officer_key over a column; nulls and blank staff numbers stay null."""
    return _column(values, key, normalise_staff_number)


@overload
def citizen_keys(values: pd.Series, key: bytes) -> pd.Series: ...
@overload
def citizen_keys(values: pa.Array | pa.ChunkedArray, key: bytes) -> pa.Array: ...
def citizen_keys(values: pa.Array | pa.ChunkedArray | pd.Series, key: bytes) -> pa.Array | pd.Series:
    """citizen_key over a column; nulls and details with nothing left after normalising stay null."""
    return _column(values, key, normalise_contact_detail)


def _column(
    values: pa.Array | pa.ChunkedArray | pd.Series, key: bytes, normalise: Callable[[str], str]
) -> pa.Array | pd.Series:
    keyed = _keyed(key)
    series = values if isinstance(values, pd.Series) else None
    texts: Iterable[object] = series.tolist() if series is not None else values.to_pylist()
    seen: dict[str, str | None] = {}  # identifiers repeat (an officer on many rows): hash each once
    out: list[str | None] = []
    for value in texts:
        if value is None or value is pd.NA or (isinstance(value, float) and value != value):
            out.append(None)
            continue
        text = str(value)
        if text not in seen:
            normalised = normalise(text)
            seen[text] = _pseudonym(keyed, normalised) if normalised else None
        out.append(seen[text])
    if series is not None:
        return pd.Series(out, index=series.index, dtype="string", name=series.name)
    return pa.array(out, type=pa.string())


def _keyed(key: bytes) -> hmac.HMAC:
    """An HMAC primed with the key; copies of it skip re-deriving the key pads for every value."""
    return hmac.new(require_key(key), digestmod=hashlib.sha256)


def _pseudonym(keyed: hmac.HMAC, normalised: str) -> str:
    mac = keyed.copy()
    mac.update(normalised.encode("utf-8"))
    return mac.hexdigest()[:KEY_HEX_CHARACTERS]


def _nonempty(normalised: str, what: str) -> str:
    if not normalised:
        raise ValueError(f"an empty {what} has no pseudonym")
    return normalised
