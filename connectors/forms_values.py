"""Cell values of a Forms export: Excel serials and locale text to UTC via Europe/London, multi-select.

Forms records times in the form owner's local zone (microsoft-apis.md §4.1), taken here to be
Europe/London; a wall-clock time inside the spring-forward gap or the autumn overlap is flagged,
never shifted (R15).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from connectors import forms_problems as codes
from transforms.privacy import require_key

LONDON = ZoneInfo("Europe/London")
UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
Locale = Literal["en-GB", "en-US"]
LOCALES: tuple[Locale, ...] = ("en-GB", "en-US")

# Excel's 1900 system counts 1900-02-29, a day that never was (Lotus 1-2-3's bug, kept for
# compatibility): serial 60 is that phantom day, so serials from 61 on count from 1899-12-30.
EXCEL_1900_BEFORE_PHANTOM = datetime(1899, 12, 31)
EXCEL_1900_AFTER_PHANTOM = datetime(1899, 12, 30)
EXCEL_1904_EPOCH = datetime(1904, 1, 1)  # workbookPr date1904="1": serial 0 is 1904-01-01
EXCEL_PHANTOM_SERIAL = 60
EXCEL_MAX_SERIAL = 2_958_465  # 9999-12-31, Excel's last date
MILLISECONDS_PER_DAY = 86_400_000

_SLASHED = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?)?"
)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?")
_SERIAL = re.compile(r"\d{1,7}(?:\.\d+)?")


@dataclass(frozen=True)
class ParsedTime:
    """A parsed time: naive London wall-clock `local`, or a problem code saying why there is none."""

    local: datetime | None
    problem: str | None = None


def excel_serial_to_local(serial: float, *, date1904: bool = False) -> datetime | None:
    """The naive date-time an Excel serial stands for, or None when it names no real one."""
    if not math.isfinite(serial) or serial < 0 or serial > EXCEL_MAX_SERIAL:
        return None
    if date1904:
        base = EXCEL_1904_EPOCH
    elif serial < 1 or EXCEL_PHANTOM_SERIAL <= serial < EXCEL_PHANTOM_SERIAL + 1:
        return None  # 0 is Excel's "1900-01-00" (a time of day alone); 60 is the phantom 1900-02-29
    elif serial < EXCEL_PHANTOM_SERIAL:
        base = EXCEL_1900_BEFORE_PHANTOM
    else:
        base = EXCEL_1900_AFTER_PHANTOM
    # Excel keeps times as fractions of a day; to the millisecond, 9:00:01 reads back as 9:00:01
    return base + timedelta(milliseconds=round(serial * MILLISECONDS_PER_DAY))


def parse_time_text(text: str, locale: Locale | None, *, date1904: bool = False) -> ParsedTime:
    """A date or date-time as text: ISO 8601, d/m/y or m/d/y per locale, or an Excel serial number.

    With no locale, a slashed date is read only when one order gives a real date and the other does
    not or gives the same day (12/12/2023); `03/04/2023` is AMBIGUOUS_DATE, never guessed (R17).
    """
    value = text.strip()
    iso = _ISO.fullmatch(value)
    if iso:
        return _from_parts(int(iso[1]), int(iso[2]), int(iso[3]), *_clock(iso[4], iso[5], iso[6], iso[7]))
    slashed = _SLASHED.fullmatch(value)
    if slashed:
        return _from_slashed(slashed, locale)
    if _SERIAL.fullmatch(value):  # a General-formatted cell saved to CSV keeps the serial
        local = excel_serial_to_local(float(value), date1904=date1904)
        return ParsedTime(local, None if local else codes.BAD_DATETIME)
    return ParsedTime(None, codes.BAD_DATETIME)


def _from_slashed(match: re.Match[str], locale: Locale | None) -> ParsedTime:
    first, second, year_text = int(match[1]), int(match[2]), match[3]
    year = int(year_text) if len(year_text) == 4 else _two_digit_year(int(year_text))
    hour, minute, second_of_minute, micro = _clock(match[4], match[5], match[6], None)
    meridiem = (match[7] or "").upper()
    if meridiem:
        if not 1 <= hour <= 12:
            return ParsedTime(None, codes.BAD_DATETIME)
        hour = hour % 12 + (12 if meridiem == "PM" else 0)
    clock = (hour, minute, second_of_minute, micro)
    if locale == "en-GB":
        return _from_parts(year, second, first, *clock)
    if locale == "en-US":
        return _from_parts(year, first, second, *clock)
    day_first = _from_parts(year, second, first, *clock)
    month_first = _from_parts(year, first, second, *clock)
    if day_first.local and month_first.local and day_first.local != month_first.local:
        return ParsedTime(None, codes.AMBIGUOUS_DATE)
    return day_first if day_first.local else month_first


def _two_digit_year(year: int) -> int:
    return 2000 + year if year < 30 else 1900 + year  # Excel's rule: 00-29 are 2000-2029


def _clock(hour: str | None, minute: str | None, second: str | None, fraction: str | None) -> tuple[int, ...]:
    micro = int((fraction or "0").ljust(6, "0"))
    return int(hour or 0), int(minute or 0), int(second or 0), micro


def _from_parts(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int
) -> ParsedTime:
    try:
        return ParsedTime(datetime(year, month, day, hour, minute, second, micro))
    except ValueError:
        return ParsedTime(None, codes.BAD_DATETIME)


def london_to_utc(values: Sequence[datetime | None] | pa.Array) -> tuple[pa.Array, dict[int, str]]:
    """Naive London wall-clock times as a UTC timestamp array, plus {index: code} for gap/overlap times.

    A time the clocks skipped (01:30 on the last Sunday of March) or showed twice (01:30 on the last
    Sunday of October) becomes null with its code: which instant was meant cannot be known (R15).
    Arrow resolves each time both ways from the tz database; where the two differ, it is flagged.
    """
    naive = (
        values.cast(pa.timestamp("us"))
        if isinstance(values, pa.Array)
        else pa.array(values, pa.timestamp("us"))
    )
    earliest = pc.assume_timezone(naive, timezone=LONDON.key, ambiguous="earliest", nonexistent="earliest")
    latest = pc.assume_timezone(naive, timezone=LONDON.key, ambiguous="latest", nonexistent="latest")
    differs = pc.fill_null(pc.not_equal(earliest, latest), False)
    flagged = {
        index: _transition_code(naive[index].as_py()) for index in pc.indices_nonzero(differs).to_pylist()
    }
    utc = pc.cast(earliest, UTC_TIMESTAMP)
    return pc.if_else(differs, pa.scalar(None, UTC_TIMESTAMP), utc), flagged


def _transition_code(local: datetime | None) -> str:
    assert local is not None
    earlier = local.replace(tzinfo=LONDON, fold=0)
    round_trip = earlier.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    return codes.NONEXISTENT_LOCAL_TIME if round_trip != local else codes.AMBIGUOUS_LOCAL_TIME


def split_multi_select(answer: str) -> list[str]:
    """A checkbox answer as its options: Forms joins them with `;` and ends with one (`A;B;`)."""
    return [option.strip() for option in answer.split(";") if option.strip()]


def pseudonymise(value: str, key: bytes, purpose: str) -> str:
    """Keyed HMAC-SHA256 of a normalised personal value; `purpose` keeps one field's keys from another's.

    The key is held to transforms/privacy.py's floor (a short key is a ConfigError naming the setting).
    """
    normalised = value.strip().casefold()
    message = purpose.encode("utf-8") + b"\x00" + normalised.encode("utf-8")
    return hmac.new(require_key(key), message, hashlib.sha256).hexdigest()
