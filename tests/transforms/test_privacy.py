"""Keyed pseudonyms: deterministic, key-sensitive, normalised, vectorised, and strong against S11."""

from __future__ import annotations

import hashlib
import hmac
import re

import pandas as pd
import pyarrow as pa
import pytest

from errors import ConfigError
from powerbi_dataset.model import KEY_16_HEX
from transforms.privacy import (
    KEY_VARIABLE,
    citizen_key,
    citizen_keys,
    normalise_contact_detail,
    normalise_staff_number,
    officer_key,
    officer_keys,
)

KEY = b"0123456789abcdef-test-key"
OTHER_KEY = b"0123456789abcdef-test-kez"


def test_officer_key_is_the_truncated_hmac_of_the_normalised_staff_number() -> None:
    expected = hmac.new(KEY, b"PC4471", hashlib.sha256).hexdigest()[:16]
    assert officer_key(" pc 4471 ", KEY) == expected
    assert re.fullmatch(KEY_16_HEX, expected)


def test_pseudonyms_are_deterministic_and_depend_on_the_key() -> None:
    assert officer_key("4471", KEY) == officer_key("4471", KEY)
    assert officer_key("4471", KEY) != officer_key("4471", OTHER_KEY)
    assert citizen_key("a@example.com", KEY) != citizen_key("a@example.com", OTHER_KEY)
    assert officer_key("4471", KEY) != officer_key("4472", KEY)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("pc 4471", "PC4471"), (" 12 345\t", "12345"), ("ＰＣ１２", "PC12")],
)
def test_staff_numbers_lose_white_space_and_case(raw: str, normalised: str) -> None:
    assert normalise_staff_number(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  Jo.Bloggs@Example.COM ", "jo.bloggs@example.com"),
        ("07700 900123", "07700900123"),
        ("+44 7700 900123", "07700900123"),
        ("+44 (0)7700 900123", "07700900123"),
        ("0044 7700-900-123", "07700900123"),
        ("447700900123", "07700900123"),
        ("(01782) 234 567", "01782234567"),
        ("+1 202 555 0100", "12025550100"),
    ],
)
def test_contact_details_are_normalised_before_hashing(raw: str, normalised: str) -> None:
    assert normalise_contact_detail(raw) == normalised
    assert citizen_key(raw, KEY) == citizen_key(normalised, KEY)


def test_a_short_key_is_a_config_error_naming_the_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        officer_key("4471", b"too-short")
    assert KEY_VARIABLE in str(caught.value) and KEY_VARIABLE in caught.value.hint
    assert "too-short" not in str(caught.value) + caught.value.hint  # the key itself is never shown
    assert officer_key("4471", b"x" * 16)  # 16 bytes is enough


def test_an_empty_identifier_has_no_pseudonym() -> None:
    with pytest.raises(ValueError, match="staff number"):
        officer_key("  ", KEY)
    with pytest.raises(ValueError, match="contact detail"):
        citizen_key("-", KEY)


def test_column_variants_match_the_scalar_ones_and_keep_nulls() -> None:
    staff = pa.array(["4471", None, "pc 12", "4471", " "])
    assert officer_keys(staff, KEY).to_pylist() == [
        officer_key("4471", KEY), None, officer_key("PC12", KEY), officer_key("4471", KEY), None,
    ]  # fmt: skip
    chunked = pa.chunked_array([["4471"], ["pc 12"]])
    assert officer_keys(chunked, KEY).to_pylist() == [officer_key("4471", KEY), officer_key("PC12", KEY)]
    contacts = pd.Series(["A@Example.com", None, "+44 7700 900123"], index=[10, 11, 12], name="contact")
    keys = citizen_keys(contacts, KEY)
    assert list(keys.index) == [10, 11, 12] and keys.name == "contact" and str(keys.dtype) == "string"
    assert keys.tolist() == [citizen_key("a@example.com", KEY), pd.NA, citizen_key("07700900123", KEY)]


def test_s11_a_dictionary_attack_without_the_key_finds_nothing() -> None:
    """reliability-security.md S11: officer ids 1-99,999, pseudonymised with the force's key."""
    ids = [str(number) for number in range(1, 100_000)]
    published = set(officer_keys(pa.array(ids), KEY).to_pylist())
    assert len(published) == len(ids)  # no collisions among the pseudonyms

    plain_hashes = {hashlib.sha256(staff.encode()).hexdigest()[:16] for staff in ids}
    wrong_key = set(officer_keys(pa.array(ids), OTHER_KEY).to_pylist())
    with_key = set(officer_keys(pa.array(ids), KEY).to_pylist())

    assert len(published & plain_hashes) == 0
    assert len(published & wrong_key) == 0
    assert published == with_key
