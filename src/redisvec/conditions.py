"""One comparison on one indexed field, by operator name: the operator table both adapters share.

The server filters only the fields an index indexes, and what an operator means depends on the
field's type, so `condition` looks the field up, checks the operator applies to its type and builds
the `FilterExpression`. Frameworks spell operators their own way (LangChain ``$gte``, LlamaIndex
``FilterOperator.GTE``) and allow different subsets per type: each passes an `operators` table
that maps its names to the core operators below, so that error messages use the names its users
wrote. The adapters keep only their own syntax (dicts, ``MetadataFilters``); the meaning of every
operator lives here, once.

Core operators, by field type. On a text field ``eq`` is the phrase (its words adjacent and in
order), ``match`` every word anywhere (a word may be a ``doc*`` / ``*tor`` / ``*oct*`` /
``%fuzzy%`` pattern), ``like`` SQL LIKE on one word (``%`` any run, ``_`` one character, all else
literal); words are whole, case-folded, not stemmed, stopwords left out (see `redisvec.filters.Text`):

==========  ==========================================================
tag         eq ne in nin all exists missing
numeric     eq ne gt gte lt lte in nin exists missing
text        eq ne in nin like match exists missing
geo         exists missing
==========  ==========================================================

Semantics (pinned by both adapters' tests against a Python evaluation): ``ne``, ``nin`` and a
negated condition also match records without the field, like ``metadata.get(k) != v``; ``in`` on a
tag field matches any one of the values, ``all`` every one (list-valued tags); ``in []`` matches
nothing and ``nin []`` / ``all []`` everything (`FilterExpression.is_nothing` / ``is_all`` tell);
a bool compared with a numeric field is 0 / 1 (how records store it); ``exists`` takes true or
false, ``missing`` ignores its value; both need the field created with INDEXMISSING, which is
checked when the caller passes `Field` objects rather than type names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from redisvec.errors import FilterError
from redisvec.filters import FilterExpression, Geo, Num, Tag, Text

if TYPE_CHECKING:
    from redisvec.schema import Field

__all__ = ["CORE_OPERATORS", "Operators", "condition", "filterable", "operators"]

CORE_OPERATORS: dict[str, tuple[str, ...]] = {
    "tag": ("eq", "ne", "in", "nin", "all", "exists", "missing"),
    "numeric": ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "exists", "missing"),
    "text": ("eq", "ne", "in", "nin", "like", "match", "exists", "missing"),
    "geo": ("exists", "missing"),
    "vector": (),
}
_LISTS = ("in", "nin", "all")

#: A framework's operators: field type -> {the framework's operator name -> core operator}.
Operators: TypeAlias = Mapping[str, Mapping[str, str]]

_HINTS = {
    "text": "text fields match words: use {eq}, or index the field as a tag for exact values",
    "vector": "vector fields are searched with a vector query, not filtered",
}

_MISSING: dict[str, Callable[[str], FilterExpression]] = {
    "tag": lambda f: Tag(f).is_missing(),
    "numeric": lambda f: Num(f).is_missing(),
    "text": lambda f: Text(f).is_missing(),
    "geo": lambda f: Geo(f).is_missing(),
}


def operators(
    names: Mapping[str, str], *, only: Mapping[str, Collection[str]] | None = None
) -> dict[str, dict[str, str]]:
    """The `Operators` table of a framework whose operator ``names`` map to core operators: each
    applies to every field type its core operator applies to, or only to the types in ``only``."""
    limit = dict(only or {})
    return {
        kind: {
            name: core
            for name, core in names.items()
            if core in ops and kind in limit.get(name, (kind,))
        }
        for kind, ops in CORE_OPERATORS.items()
    }


_CORE: Operators = operators({op: op for ops in CORE_OPERATORS.values() for op in ops})


def filterable(fields: Mapping[str, Field | str]) -> list[str]:
    """The names of the fields a filter can use (every indexed field but vectors), sorted."""
    return sorted(n for n, f in fields.items() if _kind(f) in _MISSING)


def _kind(fld: Field | str) -> str:
    return (fld if isinstance(fld, str) else fld.type).lower()


def condition(
    field: str,
    op: str,
    value: Any,
    fields: Mapping[str, Field | str],
    *,
    operators: Operators | None = None,
) -> FilterExpression:
    """``<field> <op> <value>`` as a filter expression, for an index with these ``fields``.

    ``fields`` maps names to `Field` objects (``schema.fields_by_name``) or type names
    (``schema.field_types``); ``op`` is a core operator, or a name from ``operators``.
    Raises `FilterError` naming the field, the value and the fix: a field that is not indexed
    (listing those that are), an operator that does not apply to the field's type (listing those
    that do), a value of the wrong shape.
    """
    table = _CORE if operators is None else operators
    fld = fields.get(field)
    if fld is None:
        raise FilterError(
            f"the filter uses field {field!r}, which is not indexed; indexed fields: "
            f"{filterable(fields)} (add it to metadata_schema, and re-create the index, to filter "
            "on it)"
        )
    kind = _kind(fld)
    allowed = table.get(kind, {})
    if op not in allowed:
        known = list(dict.fromkeys(name for names in table.values() for name in names))
        if op not in known:
            raise FilterError(
                f"filter on {field!r}: unknown operator {op!r}; operators: {', '.join(known)}"
            )
        core_eq = "match" if "match" in allowed.values() else "eq"
        hint = _HINTS.get(kind, "").format(eq=_spelled(allowed, core_eq))
        raise FilterError(
            f"filter on {field!r}: operator {op} does not apply to {kind} field {field!r}; "
            f"{kind} fields support: {', '.join(allowed) or 'nothing (not filterable)'}"
            + (f" ({hint})" if hint else "")
        )
    core = allowed[op]
    if core in ("exists", "missing"):
        return _presence(field, op, core, value, fld, kind)
    if core in _LISTS:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence | set):
            raise FilterError(
                f"filter on {field!r}: {op} takes a list of values, got {value!r}; for one value "
                f"use {_spelled(allowed, 'eq')}"
            )
        values = list(value)
    elif value is None or isinstance(value, (list, tuple, set, frozenset)):
        several = " / ".join(n for n, c in allowed.items() if c in ("in", "all"))
        raise FilterError(
            f"filter on {field!r}: {op} takes one value, got {value!r}"
            + (f"; for several values use {several}" if several else "")
        )
    elif kind == "text" and not isinstance(value, str):
        raise FilterError(f"filter on text field {field!r}: {op} takes a string, got {value!r}")
    try:
        return _build(field, kind, core, value if core not in _LISTS else values)
    except FilterError as exc:
        raise FilterError(f"filter on {field!r} ({op} {value!r}): {exc}") from None


def _spelled(allowed: Mapping[str, str], core: str) -> str:
    return next((name for name, c in allowed.items() if c == core), core)


def _presence(
    field: str, op: str, core: str, value: Any, fld: Field | str, kind: str
) -> FilterExpression:
    if core == "exists" and not isinstance(value, bool):
        raise FilterError(f"filter on {field!r}: {op} takes true or false, got {value!r}")
    missing = _MISSING[kind](field)
    if not isinstance(fld, str):
        try:  # the core's check (INDEXMISSING), the one every rendered filter gets
            missing.render({field: fld})
        except FilterError as exc:
            raise FilterError(f"filter on {field!r} ({op}): {exc}") from None
    return ~missing if core == "exists" and value else missing


def _number(value: Any) -> Any:
    # Numeric fields store booleans as 0/1 (see redisvec.records), so a bool compares as that.
    return int(value) if isinstance(value, bool) else value


def _build(field: str, kind: str, core: str, value: Any) -> FilterExpression:
    if core in ("in", "nin"):
        if kind == "tag":
            anyof = Tag(field).one_of(value)
        elif kind == "numeric":
            anyof = Num(field).one_of([_number(v) for v in value])
        else:
            if not value:
                raise FilterError("a text field needs at least one value to match, got none")
            for v in value:
                if not isinstance(v, str):
                    raise FilterError(f"text matching takes strings, got {v!r}")
            anyof = Text(field).phrase(value[0])
            for v in value[1:]:
                anyof = anyof | Text(field).phrase(v)
        return anyof if core == "in" else ~anyof
    if core == "all":
        return Tag(field).all_of(value)
    expr: FilterExpression
    if kind == "tag":
        expr = Tag(field) == value
    elif kind == "text":
        text = Text(field)
        expr = (
            text.like(value, sql=True)
            if core == "like"
            else text.match(value)
            if core == "match"
            else text.phrase(value)
        )
    else:
        num = Num(field)
        compare: dict[str, Callable[[Any], FilterExpression]] = {
            "eq": num.__eq__,
            "ne": num.__eq__,
            "gt": num.__gt__,
            "gte": num.__ge__,
            "lt": num.__lt__,
            "lte": num.__le__,
        }
        expr = compare[core](_number(value))
    return ~expr if core == "ne" else expr
