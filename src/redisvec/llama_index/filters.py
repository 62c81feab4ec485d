"""LlamaIndex ``MetadataFilters`` -> a `redisvec.filters.FilterExpression` for one index.

The server filters only fields it indexes, with the operators of each field's type, so the
translation is decided by the field's type in the index, and anything that cannot be evaluated
exactly is an error (naming the field and the indexed fields) rather than a query that silently
matches nothing or everything.

================================  =======================================================
field type                        operators
================================  =======================================================
tag (strings, numbers, bools,     EQ, NE, IN, NIN, ANY, ALL, CONTAINS, IS_EMPTY. A record
lists of them)                    whose value is a list holds each of its items: EQ / IN /
                                  ANY / CONTAINS test membership, ALL tests every item.
                                  Case-insensitive unless the field is ``case_sensitive``.
numeric                           EQ, NE, GT, GTE, LT, LTE, IN, NIN, IS_EMPTY
text                              TEXT_MATCH, TEXT_MATCH_INSENSITIVE (the value's words,
                                  adjacent and in order: text is matched by words, always
                                  ignoring case and punctuation; stemmed unless no_stem),
                                  IS_EMPTY
geo                               IS_EMPTY
================================  =======================================================

Negations (NE, NIN, and the NOT condition) also match records without the field, as Python's
``metadata.get(key) != value`` does. IS_EMPTY matches records whose value is missing, None,
``""`` or ``[]`` (the adapter does not index empty values, so they read as missing). With an
empty list, IN / ANY match nothing, NIN everything, ALL everything (vacuously, as ``all([])``).

Conditions: AND (all), OR (any), NOT (none of the filters: ``not (a or b)``, LlamaIndex's own
definition), nested to any depth. An empty filter list restricts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any, cast

from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from redisvec.errors import FilterError
from redisvec.filters import FilterExpression, Geo, Num, Tag, Text
from redisvec.schema import Field, IndexSchema

__all__ = ["NOTHING", "OPERATORS_BY_TYPE", "Nothing", "Where", "to_filter_expression"]

Op = FilterOperator

OPERATORS_BY_TYPE: dict[str, frozenset[FilterOperator]] = {
    "tag": frozenset({Op.EQ, Op.NE, Op.IN, Op.NIN, Op.ANY, Op.ALL, Op.CONTAINS, Op.IS_EMPTY}),
    "numeric": frozenset({Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.IN, Op.NIN, Op.IS_EMPTY}),
    "text": frozenset({Op.TEXT_MATCH, Op.TEXT_MATCH_INSENSITIVE, Op.IS_EMPTY}),
    "geo": frozenset({Op.IS_EMPTY}),
}
_LIST_OPERATORS = frozenset({Op.IN, Op.NIN, Op.ANY, Op.ALL})
_HINTS = {
    "text": "text fields match words: use TEXT_MATCH, or index the field as a tag for exact values",
    "tag": "tag fields hold exact values: use EQ / NE / IN / NIN / ANY / ALL / CONTAINS",
    "numeric": "numeric fields compare numbers: use EQ / NE / GT / GTE / LT / LTE / IN / NIN",
    "geo": "geo fields can only be tested with IS_EMPTY here",
}


class Nothing:
    """A filter that matches no record: the query need not be sent at all."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING = Nothing()
Where = FilterExpression | None | Nothing  # None: no restriction


def to_filter_expression(
    filters: MetadataFilters | None,
    schema: IndexSchema,
    *,
    aliases: Mapping[str, str] | None = None,
) -> Where:
    """The expression for ``filters`` on ``schema``: None when nothing is excluded, `NOTHING`
    when nothing can match (e.g. ``IN []``, or NOT of a group that matches everything).

    ``aliases`` maps filter keys to index fields (e.g. ``ref_doc_id`` -> ``doc_id``); a key is
    looked up as a field first.
    """
    if filters is None:
        return None
    filterable = {f.name: f for f in schema.fields if f.type != "vector"}
    return _group(filters, filterable, dict(aliases or {}))


def _norm(expr: Where) -> Where:
    return None if isinstance(expr, FilterExpression) and expr.is_all() else expr


def _group(
    filters: MetadataFilters, fields: Mapping[str, Field], aliases: Mapping[str, str]
) -> Where:
    parts: list[Where] = []
    for item in filters.filters:
        if isinstance(item, MetadataFilters):
            parts.append(_group(item, fields, aliases))
        elif isinstance(item, MetadataFilter):
            parts.append(_norm(_leaf(item, fields, aliases)))
        else:  # ExactMatchFilter (legacy): key / value, EQ
            legacy = MetadataFilter(key=item.key, value=item.value)
            parts.append(_norm(_leaf(legacy, fields, aliases)))
    condition = filters.condition or FilterCondition.AND
    if not parts:
        return None
    exprs = [p for p in parts if isinstance(p, FilterExpression)]
    if condition == FilterCondition.AND:
        if any(p is NOTHING for p in parts):
            return NOTHING
        return reduce(lambda a, b: a & b, exprs) if exprs else None
    if condition not in (FilterCondition.OR, FilterCondition.NOT):
        raise FilterError(f"unknown filter condition {condition!r}; use AND, OR or NOT")
    anyof: Where
    if any(p is None for p in parts):
        anyof = None
    else:
        anyof = reduce(lambda a, b: a | b, exprs) if exprs else NOTHING
    if condition == FilterCondition.OR:
        return anyof
    if anyof is None:
        return NOTHING
    if anyof is NOTHING:
        return None
    assert isinstance(anyof, FilterExpression)
    return _norm(~anyof)


def _leaf(flt: MetadataFilter, fields: Mapping[str, Field], aliases: Mapping[str, str]) -> Where:
    key, op, value = flt.key, FilterOperator(flt.operator), flt.value
    name = key if key in fields else aliases.get(key, key)
    fld = fields.get(name)
    if fld is None:
        raise FilterError(
            f"filter on {key!r}: the field is not indexed, so the server cannot filter on it; "
            f"indexed fields: {sorted(fields)}. Add it to metadata_schema (and re-create the index)"
        )
    kind = fld.type
    if op not in OPERATORS_BY_TYPE.get(kind, frozenset()):
        raise FilterError(
            f"filter on {key!r}: operator {op.name} does not apply to {kind} field {name!r}; "
            f"{_HINTS.get(kind, '')}"
        )
    if op == Op.IS_EMPTY:
        if not getattr(fld, "index_missing", False):
            raise FilterError(
                f"filter on {key!r}: IS_EMPTY needs the field created with INDEXMISSING "
                "(redisvec's metadata_schema fields have it; this index's field does not)"
            )
        if kind == "tag":
            return Tag(name).is_missing()
        if kind == "numeric":
            return Num(name).is_missing()
        return Text(name).is_missing() if kind == "text" else Geo(name).is_missing()
    if op in _LIST_OPERATORS:
        if not isinstance(value, list):
            raise FilterError(
                f"filter on {key!r}: {op.name} takes a list of values, got {value!r}; "
                "for one value use EQ (or CONTAINS on a list field)"
            )
    elif isinstance(value, list) or value is None:
        raise FilterError(
            f"filter on {key!r}: {op.name} takes one value, got {value!r}"
            + ("; for several values use IN / ANY / ALL" if isinstance(value, list) else "")
        )
    try:
        if kind == "tag":
            return _tag(name, op, value)
        if kind == "numeric":
            return _numeric(name, op, value)
        return _text(name, value)
    except FilterError as exc:
        raise FilterError(f"filter on {key!r} ({op.name} {value!r}): {exc}") from None


def _tag(name: str, op: FilterOperator, value: Any) -> FilterExpression:
    tag = Tag(name)
    if op in (Op.EQ, Op.CONTAINS):
        return cast(FilterExpression, tag == value)
    if op == Op.NE:
        return cast(FilterExpression, tag != value)
    if op in (Op.IN, Op.ANY):
        return tag.one_of(value)
    if op == Op.NIN:
        return ~tag.one_of(value)
    return tag.all_of(value)  # ALL


def _numeric(name: str, op: FilterOperator, value: Any) -> Where:
    num = Num(name)
    if op in (Op.IN, Op.NIN):
        values: Sequence[Any] = value
        if not values:
            return NOTHING if op == Op.IN else None
        anyof: FilterExpression = reduce(lambda a, b: a | b, [num == v for v in values])
        return anyof if op == Op.IN else ~anyof
    compare = {
        Op.EQ: num.__eq__,
        Op.NE: num.__ne__,
        Op.GT: num.__gt__,
        Op.GTE: num.__ge__,
        Op.LT: num.__lt__,
        Op.LTE: num.__le__,
    }[op]
    result: FilterExpression = compare(value)
    return result


def _text(name: str, value: Any) -> FilterExpression:
    if not isinstance(value, str):
        raise FilterError(f"text matching takes a string, got {value!r}")
    return Text(name).phrase(value)
