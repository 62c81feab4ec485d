"""LangChain-style metadata filter dicts -> core `FilterExpression`s.

The dict language is the one LangChain's vector stores share (Mongo-like)::

    {"color": "red"}                                   # equality
    {"year": {"$gte": 2000, "$lt": 2010}}              # several operators on one field: AND
    {"color": {"$in": ["red", "blue"]}, "year": 2001}  # several fields: AND
    {"$or": [{"color": "red"}, {"$not": {"year": {"$gt": 2000}}}]}

Operators: ``$eq $ne $gt $gte $lt $lte $in $nin $like $exists``, combinators ``$and $or $not``.
What an operator means depends on the field's type in the index (tag, numeric, text, geo), so
translation needs the index's field types; a field that is not indexed, or an operator its type
does not have, is a `FilterError` that names it and lists what is available.

Semantics (pinned against a Python evaluation by the integration tests): ``$ne``, ``$nin`` and
``$not`` also match records without the field, like ``metadata.get(k) != v``; ``$exists`` asks
whether the field is stored (a ``None`` value is not stored, so it counts as missing); ``$eq`` on a
text field matches the words as a phrase and ``$like`` takes SQL wildcards (``%``, ``_``) on
single words; ``$in`` on a tag field matches any one of the values.

Nothing here is LangChain-specific: `condition` takes an operator name and could serve any
framework whose filters map onto these operators.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from redisvec.errors import FilterError
from redisvec.filters import ALL, FilterExpression, Geo, Num, Tag, Text

__all__ = ["OPERATORS", "condition", "from_dict"]

_COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$like", "$exists")
_COMBINATORS = ("$and", "$or", "$not")
OPERATORS = _COMPARISONS + _COMBINATORS

# Which comparison operators each field type supports.
_SUPPORTED: dict[str, tuple[str, ...]] = {
    "tag": ("$eq", "$ne", "$in", "$nin", "$exists"),
    "numeric": ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"),
    "text": ("$eq", "$ne", "$in", "$nin", "$like", "$exists"),
    "geo": ("$exists",),
}

_MISSING: dict[str, Callable[[str], FilterExpression]] = {
    "tag": lambda f: Tag(f).is_missing(),
    "numeric": lambda f: Num(f).is_missing(),
    "text": lambda f: Text(f).is_missing(),
    "geo": lambda f: Geo(f).is_missing(),
}


def _filterable(field_types: Mapping[str, str]) -> list[str]:
    return sorted(n for n, t in field_types.items() if t in _SUPPORTED)


def _listed(field: str, op: str, value: Any) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence | set):
        raise FilterError(f"filter on {field!r}: {op} takes a list of values, got {value!r}")
    return list(value)


def _number(field: str, value: Any) -> float:
    # Numeric fields store booleans as 0/1 (see redisvec.records), so a bool compares as that.
    return int(value) if isinstance(value, bool) else value  # type: ignore[no-any-return]


def condition(field: str, op: str, value: Any, field_types: Mapping[str, str]) -> FilterExpression:
    """One comparison ``<field> <op> <value>`` on an indexed field, as a filter expression."""
    kind = field_types.get(field)
    if kind is None:
        raise FilterError(
            f"the filter uses field {field!r}, which is not indexed; indexed fields: "
            f"{_filterable(field_types)} (add it to metadata_schema to filter on it)"
        )
    if op not in _COMPARISONS:
        raise FilterError(
            f"filter on {field!r}: unknown operator {op!r}; operators: {', '.join(OPERATORS)}"
        )
    allowed = _SUPPORTED.get(kind, ())
    if op not in allowed:
        raise FilterError(
            f"filter on {field!r}: operator {op} does not apply to a {kind} field; "
            f"{kind} fields support: {', '.join(allowed) or 'nothing (not filterable)'}"
        )
    if op == "$exists":
        if not isinstance(value, bool):
            raise FilterError(f"filter on {field!r}: $exists takes true or false, got {value!r}")
        missing = _MISSING[kind](field)
        return ~missing if value else missing
    if op in ("$in", "$nin"):
        values = _listed(field, op, value)
        if kind == "tag":
            anyof = Tag(field).one_of(values)
        elif not values and kind == "numeric":
            anyof = Num(field).between(1, 0)  # matches nothing, as "x in []" is always false
        else:
            anyof = _any([condition(field, "$eq", v, field_types) for v in values])
        return anyof if op == "$in" else ~anyof
    if op == "$ne":
        return ~condition(field, "$eq", value, field_types)
    if kind == "tag":
        if isinstance(value, (list, tuple, set)):
            raise FilterError(
                f"filter on {field!r}: $eq takes one value, got the list {value!r}; use $in"
            )
        equal: FilterExpression = Tag(field) == value
        return equal
    if kind == "text":
        if not isinstance(value, str):
            raise FilterError(f"filter on text field {field!r}: {op} takes a string, got {value!r}")
        return Text(field).like(value, sql=True) if op == "$like" else Text(field) == value
    num = Num(field)
    v = _number(field, value)
    comparisons: dict[str, Callable[[float], FilterExpression]] = {
        "$eq": num.__eq__,
        "$gt": num.__gt__,
        "$gte": num.__ge__,
        "$lt": num.__lt__,
        "$lte": num.__le__,
    }
    return comparisons[op](v)


def _any(parts: list[FilterExpression]) -> FilterExpression:
    if not parts:
        raise FilterError("$in / $nin / $or need at least one value or condition, got none")
    result = parts[0]
    for p in parts[1:]:
        result = result | p
    return result


def _all(parts: list[FilterExpression]) -> FilterExpression:
    result: FilterExpression = ALL
    for p in parts:
        result = result & p
    return result


def from_dict(flt: Mapping[str, Any], field_types: Mapping[str, str]) -> FilterExpression:
    """Translate a LangChain filter dict; ``field_types`` maps field names to their index types."""
    if not isinstance(flt, Mapping):
        raise FilterError(f"a filter must be a dict, got {type(flt).__name__} ({flt!r})")
    parts: list[FilterExpression] = []
    for key, value in flt.items():
        if key in ("$and", "$or"):
            items = _listed(key, key, value)
            if not items:
                raise FilterError(f"{key} needs at least one condition, got an empty list")
            subs = [from_dict(v, field_types) for v in items]
            parts.append(_all(subs) if key == "$and" else _any(subs))
        elif key == "$not":
            subs = (
                [from_dict(v, field_types) for v in value]
                if isinstance(value, list)
                else [from_dict(value, field_types)]
            )
            parts.append(~_all(subs))
        elif key.startswith("$"):
            raise FilterError(
                f"unknown filter operator {key!r} at the top level; use one of "
                f"{', '.join(_COMBINATORS)} or a field name; indexed fields: "
                f"{_filterable(field_types)}"
            )
        elif isinstance(value, Mapping):
            if not value:
                raise FilterError(f"filter on {key!r}: empty condition {{}}")
            parts.append(_all([condition(key, op, v, field_types) for op, v in value.items()]))
        else:
            parts.append(condition(key, "$eq", value, field_types))
    if not parts:
        return ALL
    return _all(parts)
