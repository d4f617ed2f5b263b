"""Graph `fields` values of a page of items, as Arrow arrays (the shapes of FIELD_SHAPES).

One conversion in Arrow's C++ reads every mapped column of the page at once: the items' `fields` become
a struct array whose members are exactly the mapped keys, typed as each SharePoint type is sent (keys
not asked for, annotations included, are never looked at). When a value has the wrong JSON shape, that
conversion refuses the page and each column is read on its own; a column holding such a value is then
looked at value by value and the value becomes a `wrong-type` row, never passed on. Only the members a
canonical column needs are read: a multi-person value's names and emails, a location's address and a
hyperlink's description are never converted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.coerce import Mask, to_mask
from transforms.sharepoint_fields import SharePointType

__all__ = ["POINT", "Read", "read_items", "read_page", "relist"]

Check = Callable[[object], bool]
Extract = Callable[[pa.Array], pa.Array]
STRING = pa.string()
POINT = pa.struct([("latitude", pa.float64()), ("longitude", pa.float64())])
_LOOKUP_ELEMENT = pa.struct([("LookupId", pa.int64())])
_ZERO_ONE = pa.array([0.0, 1.0])


@dataclass(frozen=True)
class Read:
    values: pa.Array
    wrong: Mask  # True where a value was present but of the wrong JSON shape (the cell is left empty)


@dataclass(frozen=True)
class _Spec:
    """How one SharePoint type is read: the Arrow type of the raw value, a check for one value, and
    what to keep of it (a member, or ids as text)."""

    raw: pa.DataType
    check: Check
    extract: Extract = staticmethod(lambda array: array)
    no_booleans: bool = False  # Arrow reads true as 1.0 into a double: numbers are checked for it


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_boolean(value: object) -> bool:
    return isinstance(value, bool)


def _is_id(value: object) -> bool:
    is_digits = isinstance(value, str) and value.strip().isdigit()
    return is_digits or (isinstance(value, int) and not isinstance(value, bool))


def _member(path: Sequence[str], kind: pa.DataType) -> tuple[pa.DataType, Check, Extract]:
    struct = kind
    for name in reversed(path):
        struct = pa.struct([(name, struct)])

    def check(value: object) -> bool:
        for name in path:
            if not isinstance(value, dict):
                return False
            value = value.get(name)
        return value is None or (isinstance(value, str) if pa.types.is_string(kind) else _is_point(value))

    return struct, check, lambda array: pc.struct_field(array, [0] * len(path))


def _is_point(value: object) -> bool:
    return isinstance(value, dict) and all(
        value.get(axis) is None or _is_number(value.get(axis)) for axis in ("latitude", "longitude")
    )


def _list_of(element: Check) -> Check:
    def check(value: object) -> bool:
        return isinstance(value, list) and all(element(item) for item in value)

    return check


def _ids_as_text(lists: pa.Array) -> pa.Array:
    return relist(lists, pc.struct_field(pc.list_flatten(lists), [0]).cast(STRING))


def _labels(lists: pa.Array) -> pa.Array:
    return relist(lists, pc.struct_field(pc.list_flatten(lists), [0]))


_URL, _LABEL, _PLACE = (
    _member(("Url",), STRING),
    _member(("Label",), STRING),
    _member(("coordinates",), POINT),
)
_LABEL_ELEMENT = pa.struct([("Label", STRING)])
SPECS: dict[SharePointType, _Spec] = {
    **dict.fromkeys(("text", "note", "choice", "dateTime", "dateOnly"), _Spec(STRING, _is_text)),
    **dict.fromkeys(("number", "currency"), _Spec(pa.float64(), _is_number, no_booleans=True)),
    "boolean": _Spec(pa.bool_(), _is_boolean),
    **dict.fromkeys(("lookup", "person"), _Spec(STRING, _is_id)),
    "hyperlink": _Spec(*_URL),
    "term": _Spec(*_LABEL),
    "location": _Spec(*_PLACE),
    "multichoice": _Spec(pa.list_(STRING), _list_of(_is_text)),
    **dict.fromkeys(("multilookup", "multiperson"), _Spec(pa.list_(_LOOKUP_ELEMENT), _list_of(
        lambda item: isinstance(item, dict) and _is_id(item.get("LookupId"))), _ids_as_text)),
    "multiterm": _Spec(pa.list_(_LABEL_ELEMENT), _list_of(_LABEL[1]), _labels),
}  # fmt: skip


def read_page(fields: Sequence[Mapping[str, Any]], columns: Mapping[str, SharePointType]) -> dict[str, Read]:
    """Every column (`fields` key -> type) of the page read: one Arrow conversion, else column by column."""
    return read_items(fields, (), fields, columns)[0]


def read_items(
    items: Sequence[Mapping[str, Any]],
    properties: Sequence[str],
    fields: Sequence[Mapping[str, Any]],
    columns: Mapping[str, SharePointType],
) -> tuple[dict[str, Read], dict[str, pa.Array] | None]:
    """read_page of the items' `fields`, and the item `properties` as text, in ONE Arrow conversion of
    the items (each item is visited once: on a large page, visits cost more than the values).

    With no `properties`, only `fields` is converted. When a value has the wrong JSON shape the
    columns are read one by one, and the properties come back None (the caller reads them apart).
    """
    specs = {key: SPECS[kind] for key, kind in columns.items()}
    struct = pa.struct([(key, spec.raw) for key, spec in specs.items()])
    if properties:
        struct = pa.struct([*((name, STRING) for name in properties), ("fields", struct)])
    try:
        page = pa.array(items if properties else fields, type=struct)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _read_apart(fields, columns), None
    values = pc.struct_field(page, [len(properties)]) if properties else page
    reads = [pc.struct_field(values, [index]) for index in range(len(specs))]
    numbers = [
        (key, read) for (key, spec), read in zip(specs.items(), reads, strict=True) if spec.no_booleans
    ]
    if any(_has_boolean(fields, key, read) for key, read in numbers):
        return _read_apart(fields, columns), None
    clean = np.zeros(len(fields), dtype=np.bool_)
    texts = {name: pc.struct_field(page, [index]) for index, name in enumerate(properties)}
    return {
        key: Read(spec.extract(read), clean) for (key, spec), read in zip(specs.items(), reads, strict=True)
    }, texts


def _read_apart(
    fields: Sequence[Mapping[str, Any]], columns: Mapping[str, SharePointType]
) -> dict[str, Read]:
    return {
        key: _read_one([values.get(key) for values in fields], SPECS[kind]) for key, kind in columns.items()
    }


def _has_boolean(fields: Sequence[Mapping[str, Any]], key: str, read: pa.Array) -> bool:
    """Whether a number column held a JSON true/false, which Arrow reads as 1.0/0.0 into a double: only
    the items whose value was read as 0 or 1 are looked at."""
    maybe = np.flatnonzero(to_mask(pc.is_in(read, value_set=_ZERO_ONE)))
    return any(type(fields[row].get(key)) is bool for row in maybe.tolist())


def _read_one(raw: Sequence[object], spec: _Spec) -> Read:
    """One column: Arrow's conversion, or value by value when a value has the wrong shape."""
    if not spec.no_booleans or bool not in set(map(type, raw)):
        try:
            return Read(spec.extract(pa.array(raw, spec.raw)), np.zeros(len(raw), dtype=np.bool_))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    wrong = np.fromiter((value is not None and not spec.check(value) for value in raw), np.bool_, len(raw))
    kept = [None if bad else _plain(value, spec) for value, bad in zip(raw, wrong.tolist(), strict=True)]
    return Read(spec.extract(pa.array(kept, spec.raw)), wrong)


def _plain(value: object, spec: _Spec) -> object:
    """A value that passed its check, in the form Arrow converts: ids that came as numbers become text
    (and multi-value ids as numbers)."""
    if spec.raw == STRING and isinstance(value, int):
        return str(value)
    if spec.raw == STRING and isinstance(value, str) and spec.check is _is_id:
        return value.strip()
    if spec.extract is _ids_as_text and isinstance(value, list):
        return [{"LookupId": int(item["LookupId"])} for item in value]
    return value


def relist(lists: pa.Array, flat: pa.Array) -> pa.Array:
    """`flat` (one value per element of `lists`) shaped like `lists` again."""
    if len(lists) == 0:
        return pa.array([], pa.list_(flat.type))
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    return pa.ListArray.from_arrays(offsets, flat, mask=pc.is_null(lists) if lists.null_count else None)
