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
text                              TEXT_MATCH, TEXT_MATCH_INSENSITIVE (both: every word of
                                  the value, anywhere in the field, in any order; whole
                                  words, ASCII case ignored, punctuation and the index's
                                  stopwords ignored, NOT stemmed, so the same records match
                                  in every query kind; a word may be a pattern: ``doc*``,
                                  ``*tor``, ``*oct*``, ``%fuzzy%``), IS_EMPTY
geo                               IS_EMPTY
================================  =======================================================

Negations (NE, NIN, and the NOT condition) also match records without the field, as Python's
``metadata.get(key) != value`` does. IS_EMPTY matches records whose value is missing, None,
``""`` or ``[]`` (the adapter does not index empty values, so they read as missing). With an
empty list, IN / ANY match nothing, NIN everything, ALL everything (vacuously, as ``all([])``).

Conditions: AND (all), OR (any), NOT (none of the filters: ``not (a or b)``, LlamaIndex's own
definition), nested to any depth. An empty filter list restricts nothing; one bare
``MetadataFilter`` is the group of that filter.

What each operator means, and the errors, are the core's (`redisvec.conditions`): this module maps
LlamaIndex's operator names onto it and reads the MetadataFilters tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import reduce

from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from redisvec import conditions
from redisvec.errors import FilterError
from redisvec.filters import FilterExpression, value_key
from redisvec.memo import LlamaFilterKey, memo_put
from redisvec.schema import Field, IndexSchema

__all__ = ["NOTHING", "OPERATORS_BY_TYPE", "Nothing", "Where", "to_filter_expression"]

Op = FilterOperator

# LlamaIndex's operators (by name) -> the core's (`redisvec.conditions`), and the field types each
# one is offered on: EQ is not a text match (TEXT_MATCH is), CONTAINS / ANY are tag membership.
_TABLE = conditions.operators(
    {
        "EQ": "eq", "NE": "ne", "GT": "gt", "GTE": "gte", "LT": "lt", "LTE": "lte",
        "IN": "in", "NIN": "nin", "ANY": "in", "ALL": "all", "CONTAINS": "eq",
        "TEXT_MATCH": "match", "TEXT_MATCH_INSENSITIVE": "match", "IS_EMPTY": "missing",
    },
    only={
        **dict.fromkeys(("EQ", "NE", "IN", "NIN"), ("tag", "numeric")),
        **dict.fromkeys(("ANY", "CONTAINS"), ("tag",)),
        **dict.fromkeys(("TEXT_MATCH", "TEXT_MATCH_INSENSITIVE"), ("text",)),
    },
)  # fmt: skip

OPERATORS_BY_TYPE: dict[str, frozenset[FilterOperator]] = {
    kind: frozenset(Op.__members__[name] for name in names)
    for kind, names in _TABLE.items()
    if names
}


class Nothing:
    """A filter that matches no record: the query need not be sent at all."""

    def __repr__(self) -> str:
        return "NOTHING"


NOTHING = Nothing()
Where = FilterExpression | None | Nothing  # None: no restriction


def to_filter_expression(
    filters: MetadataFilters | MetadataFilter | ExactMatchFilter | None,
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
    if isinstance(filters, MetadataFilter | ExactMatchFilter):  # one filter: a group of one
        filters = MetadataFilters(filters=[filters])
    if not isinstance(filters, MetadataFilters):
        raise FilterError(
            f"filters must be MetadataFilters (or one MetadataFilter), got "
            f"{type(filters).__name__} ({filters!r})"
        )
    aliases = dict(aliases or {})
    # Translated once per schema, aliases and filters: a query's filters are built anew for each
    # query, but mostly from a few shapes and values.
    key = _key(filters)
    settings = LlamaFilterKey(tuple(aliases.items()), key) if key is not None else None
    cache = schema.memo(LlamaFilterKey)
    if settings is not None and settings in cache:
        return cache[settings]  # type: ignore[no-any-return]
    filterable = {f.name: f for f in schema.fields if f.type != "vector"}
    where = _group(filters, filterable, aliases)
    if settings is not None:
        memo_put(cache, settings, where)
    return where


def _key(item: object) -> object:
    """A key equal for equal filter trees (value types included: 1, 1.0 and True filter
    differently), or None for anything else (subclasses, unexpected values): not cached."""
    kind = type(item)
    if isinstance(item, MetadataFilters) and kind is MetadataFilters:
        parts = [_key(i) for i in item.filters]
        return None if None in parts else (kind, item.condition, tuple(parts))
    if isinstance(item, MetadataFilter) and kind is MetadataFilter:
        value = value_key(item.value)
        return None if value is None else (kind, item.key, item.operator, value)
    if isinstance(item, ExactMatchFilter) and kind is ExactMatchFilter:
        value = value_key(item.value)
        return None if value is None else (kind, item.key, value)
    return None


def _norm(expr: Where) -> Where:
    """ALL -> None (no restriction), a filter that matches nothing -> NOTHING (no query)."""
    if isinstance(expr, FilterExpression):
        if expr.is_all():
            return None
        if expr.is_nothing():
            return NOTHING
    return expr


def _group(
    filters: MetadataFilters, fields: Mapping[str, Field], aliases: Mapping[str, str]
) -> Where:
    parts: list[Where] = []
    for item in filters.filters:
        if isinstance(item, MetadataFilters):
            parts.append(_group(item, fields, aliases))
        elif isinstance(item, MetadataFilter):
            parts.append(_norm(_leaf(item, fields, aliases)))
        elif isinstance(item, ExactMatchFilter):  # legacy: key / value, EQ
            legacy = MetadataFilter(key=item.key, value=item.value)
            parts.append(_norm(_leaf(legacy, fields, aliases)))
        else:
            raise FilterError(
                "MetadataFilters.filters holds MetadataFilter or MetadataFilters items, got "
                f"{type(item).__name__} ({item!r})"
            )
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
    key = flt.key
    name = key if key in fields else aliases.get(key, key)
    op = FilterOperator(flt.operator).name
    return conditions.condition(name, op, flt.value, fields, operators=_TABLE)
