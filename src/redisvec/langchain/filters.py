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
whether the field is stored (a ``None`` value is not stored, so it counts as missing; it needs the
field created with INDEXMISSING, a `FilterError` otherwise); ``$in`` on a tag field matches any
one of the values.

On a text field, ``$eq`` matches the value's words as a phrase (adjacent, in order) and ``$like``
is SQL LIKE on one word: ``%`` any run, ``_`` one character, ``\\%`` / ``\\_`` literal, every other
character literal (so ``{"$like": "*"}`` is refused: no word contains ``*``, the server splits
words there). Words are whole, ASCII case folded, punctuation and the index's stopwords ignored,
and not stemmed (the same records match in a vector search, a count and a delete).

What each operator means, and the errors, are the core's (`redisvec.conditions`); this module
only reads the dict syntax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from redisvec import conditions
from redisvec.errors import FilterError
from redisvec.filters import ALL, FilterExpression

__all__ = ["OPERATORS", "condition", "from_dict"]

_COMPARISONS = ("$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$like", "$exists")
_COMBINATORS = ("$and", "$or", "$not")
OPERATORS = _COMPARISONS + _COMBINATORS

# Each comparison is the core operator of the same name (`redisvec.conditions`).
_TABLE = conditions.operators({op: op[1:] for op in _COMPARISONS})


def _listed(field: str, op: str, value: Any) -> list[Any]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence | set):
        raise FilterError(f"filter on {field!r}: {op} takes a list of values, got {value!r}")
    return list(value)


def condition(field: str, op: str, value: Any, field_types: Mapping[str, str]) -> FilterExpression:
    """One comparison ``<field> <op> <value>`` on an indexed field, as a filter expression."""
    return conditions.condition(field, op, value, field_types, operators=_TABLE)


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
                f"{conditions.filterable(field_types)}"
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
