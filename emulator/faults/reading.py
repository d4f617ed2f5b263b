"""Typed reads of a fault plan's YAML/JSON values: each wrong value is an EmulatorError naming its key path.

`where` is the key path (`rules[0].throttle.rate`); messages name it and what was expected, never echo
the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from errors import EmulatorError

HINT = "fix the fault plan; its format is in docs/emulator.md#faults"


def problem(where: str, expected: str) -> EmulatorError:
    return EmulatorError(f"{where} must be {expected}", hint=HINT)


def mapping(raw: Any, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    """A mapping whose keys are all in `allowed` (an unknown key is named, it is probably a typo)."""
    if not isinstance(raw, Mapping):
        raise problem(where, f"a mapping of {', '.join(sorted(allowed))}")
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise EmulatorError(
            f"{where} has unknown keys {unknown}; it may hold {', '.join(sorted(allowed))}", hint=HINT
        )
    return raw


def listing(raw: Any, where: str) -> list[Any]:
    """A list; absent (None) is empty."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise problem(where, "a list")
    return raw


def integer(raw: Any, where: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number (YAML's true/false are not numbers here) within the bounds."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise problem(where, "a whole number")
    if (minimum is not None and raw < minimum) or (maximum is not None and raw > maximum):
        raise problem(where, _bounds("a whole number", minimum, maximum))
    return raw


def number(raw: Any, where: str, *, minimum: float, maximum: float) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not minimum <= raw <= maximum:
        raise problem(where, _bounds("a number", minimum, maximum))
    return float(raw)


def text(raw: Any, where: str) -> str | None:
    """Text, or None when absent."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise problem(where, "text")
    return raw


def _bounds(kind: str, minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"{kind} of at least {minimum:g}"
    return f"{kind} of at most {maximum:g}"
