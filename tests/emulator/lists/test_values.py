"""Column value checks, split out of emulator.lists.store; the store re-exports every public name."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from emulator.lists import store as lists_store
from emulator.lists import values as lists_values
from emulator.lists.values import ListColumn, Lookup, check_value


def test_the_store_re_exports_the_value_names() -> None:
    for name in ("ColumnType", "LOOKUP_TYPES", "MULTI_TYPES", "ListColumn", "Person", "Lookup", "Hyperlink",
                 "Location", "Term"):  # fmt: skip
        assert getattr(lists_store, name) is getattr(lists_values, name)


def test_check_value_converts_and_refuses() -> None:
    start = ListColumn("Start", "Start", "dateTime")
    moment = datetime(2025, 7, 1, 19, tzinfo=timezone(timedelta(hours=1)))
    assert check_value(start, moment) == datetime(2025, 7, 1, 18, tzinfo=UTC)
    assert check_value(ListColumn("Tags", "Tags", "multilookup"), [Lookup(1, "a")]) == (Lookup(1, "a"),)
    with pytest.raises(ValueError, match="aware datetime"):
        check_value(start, datetime(2025, 7, 1))
    with pytest.raises(ValueError, match="needs a date"):
        check_value(ListColumn("Day", "Day", "dateOnly"), moment)
    assert check_value(ListColumn("Day", "Day", "dateOnly"), date(2025, 7, 1)) == date(2025, 7, 1)
    with pytest.raises(ValueError, match="cannot hold"):
        check_value(ListColumn("Count", "Count", "number"), True)
