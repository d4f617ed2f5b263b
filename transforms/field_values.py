"""Graph `fields` values of one column, for a page of items, as Arrow arrays (the shapes of FIELD_SHAPES).

Each reader takes the raw JSON values of one column (one per item, None where the item has none) and
returns an Arrow array plus the rows it could not read. The common case is one conversion of the whole
column in Arrow's C++ (`pa.array` with the expected type); only a column holding a value of the wrong
JSON shape is looked at value by value, and those values become `wrong-type` rows, never passed on.
Only the members a canonical column needs are read: a multi-person value's names and emails, a
location's address and a hyperlink's description are never converted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.coerce import Mask

__all__ = [
    "Read",
    "read_booleans",
    "read_coordinates",
    "read_ids",
    "read_id_lists",
    "read_member",
    "read_member_lists",
    "read_numbers",
    "read_text_lists",
    "read_texts",
    "relist",
]

Check = Callable[[object], bool]


@dataclass(frozen=True)
class Read:
    values: pa.Array
    wrong: Mask  # True where a value was present but of the wrong JSON shape (the cell is left empty)


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_boolean(value: object) -> bool:
    return isinstance(value, bool)


def _is_id(value: object) -> bool:
    return (isinstance(value, str) and value.strip().isdigit()) or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def _is_text_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _convert(raw: Sequence[object], kind: pa.DataType, check: Check) -> Read:
    """`pa.array(raw, kind)`; when Arrow refuses, values failing `check` are emptied and marked wrong."""
    try:
        return Read(pa.array(raw, kind), np.zeros(len(raw), dtype=np.bool_))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    wrong = np.fromiter((value is not None and not check(value) for value in raw), np.bool_, len(raw))
    kept = [None if bad else value for value, bad in zip(raw, wrong.tolist(), strict=True)]
    return Read(pa.array(kept, kind), wrong)


def read_texts(raw: Sequence[object]) -> Read:
    """text, note, choice: JSON strings."""
    return _convert(raw, pa.string(), _is_text)


def read_numbers(raw: Sequence[object]) -> Read:
    """number, currency: JSON numbers (true/false are not numbers), as float64."""
    try:
        inferred = pa.array(raw)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        inferred = None
    # Inference reads true as 1.0 once a float is present, so a floating column is checked for booleans.
    numeric = inferred is not None and (
        pa.types.is_integer(inferred.type)
        or pa.types.is_null(inferred.type)
        or (pa.types.is_floating(inferred.type) and not any(type(value) is bool for value in raw))
    )
    if inferred is not None and numeric:
        return Read(inferred.cast(pa.float64()), np.zeros(len(raw), dtype=np.bool_))
    wrong = np.fromiter((value is not None and not _is_number(value) for value in raw), np.bool_, len(raw))
    kept = [None if bad else value for value, bad in zip(raw, wrong.tolist(), strict=True)]
    return Read(pa.array(kept, pa.float64()), wrong)


def read_booleans(raw: Sequence[object]) -> Read:
    """boolean: JSON true / false (a number or text is not a boolean)."""
    return _convert(raw, pa.bool_(), _is_boolean)


def read_ids(raw: Sequence[object]) -> Read:
    """lookup, person: `<Col>LookupId`, the item or user id as a string (a number is accepted too)."""
    try:
        return Read(pa.array(raw, pa.string()), np.zeros(len(raw), dtype=np.bool_))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    wrong = np.fromiter((value is not None and not _is_id(value) for value in raw), np.bool_, len(raw))
    kept = [
        None if bad or value is None else str(value).strip()
        for value, bad in zip(raw, wrong.tolist(), strict=True)
    ]
    return Read(pa.array(kept, pa.string()), wrong)


def read_member(raw: Sequence[object], path: Sequence[str], kind: pa.DataType) -> Read:
    """One member of an object value (a hyperlink's `Url`, a term's `Label`), other members unread."""
    struct = _nested(path, kind)
    read = _convert(raw, struct, _object_check(path, kind))
    return Read(pc.struct_field(read.values, [0] * len(path)), read.wrong)


def read_coordinates(raw: Sequence[object]) -> tuple[pa.Array, pa.Array, Mask]:
    """A location's `coordinates` (latitude, longitude); a location without coordinates gives nulls."""
    point = pa.struct([("latitude", pa.float64()), ("longitude", pa.float64())])
    read = _convert(raw, pa.struct([("coordinates", point)]), _location_check)
    coordinates = pc.struct_field(read.values, [0])
    return pc.struct_field(coordinates, [0]), pc.struct_field(coordinates, [1]), read.wrong


def read_text_lists(raw: Sequence[object]) -> Read:
    """multichoice: arrays of strings."""
    return _convert(raw, pa.list_(pa.string()), _is_text_list)


def read_id_lists(raw: Sequence[object]) -> Read:
    """multilookup, multiperson: arrays of `{"LookupId": n, ...}`, as lists of id strings."""
    element = pa.struct([("LookupId", pa.int64())])
    try:
        lists = pa.array(raw, pa.list_(element))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        check = _list_check(_lookup_element)
        wrong = np.fromiter((value is not None and not check(value) for value in raw), np.bool_, len(raw))
        kept = [
            None if bad or value is None else [str(item["LookupId"]).strip() for item in value]  # type: ignore[attr-defined]
            for value, bad in zip(raw, wrong.tolist(), strict=True)
        ]
        return Read(pa.array(kept, pa.list_(pa.string())), wrong)
    ids = pc.struct_field(pc.list_flatten(lists), [0]).cast(pa.string())
    return Read(relist(lists, ids), np.zeros(len(raw), dtype=np.bool_))


def read_member_lists(raw: Sequence[object], member: str) -> Read:
    """multiterm: arrays of objects, as lists of one string member (a term's `Label`)."""
    element = pa.struct([(member, pa.string())])
    read = _convert(raw, pa.list_(element), _list_check(_object_check((member,), pa.string())))
    texts = pc.struct_field(pc.list_flatten(read.values), [0])
    return Read(relist(read.values, texts), read.wrong)


def relist(lists: pa.Array, flat: pa.Array) -> pa.Array:
    """`flat` (one value per element of `lists`) shaped like `lists` again."""
    if len(lists) == 0:
        return pa.array([], pa.list_(flat.type))
    offsets = pc.subtract(lists.offsets, lists.offsets[0])
    return pa.ListArray.from_arrays(offsets, flat, mask=pc.is_null(lists) if lists.null_count else None)


def _nested(path: Sequence[str], kind: pa.DataType) -> pa.DataType:
    for name in reversed(path):
        kind = pa.struct([(name, kind)])
    return kind


def _object_check(path: Sequence[str], kind: pa.DataType) -> Check:
    def check(value: object) -> bool:
        for name in path:
            if not isinstance(value, dict):
                return False
            value = value.get(name)
        if value is None:
            return True
        return isinstance(value, str) if pa.types.is_string(kind) else _is_number(value)

    return check


def _location_check(value: object) -> bool:
    if not isinstance(value, dict):
        return False
    point = value.get("coordinates")
    if point is None:
        return True
    return isinstance(point, dict) and all(
        point.get(axis) is None or _is_number(point.get(axis)) for axis in ("latitude", "longitude")
    )


def _lookup_element(value: object) -> bool:
    return isinstance(value, dict) and _is_id(value.get("LookupId"))


def _list_check(element: Check) -> Check:
    def check(value: object) -> bool:
        return isinstance(value, list) and all(element(item) for item in value)

    return check
