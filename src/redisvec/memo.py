"""The one cache: what the hot path derives from an immutable `IndexSchema`, kept on the schema.

A schema never changes, so nothing derived from it goes stale, and its caches go away with it
(an equal schema built elsewhere is another object and shares nothing). Each kind of derived
value has its own key type below (``schema.memo(KnnKey)`` is the cache of KNN query templates);
a cache keyed by what callers pass is bounded with `memo_put`. Nothing else in redisvec caches:
what is cheap to derive again is derived again.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "CodecKey",
    "KnnKey",
    "LangChainFilterKey",
    "LlamaFilterKey",
    "ReplyPlanKey",
    "WhereKey",
    "memo_put",
]


class WhereKey(NamedTuple):
    """A filter expression's rendered query text (``query._render_filter``), by the identity of
    the expression (hashing a filter tree costs more than rendering it); each entry holds its
    expression, so no other object can take that id while it is cached."""

    filter_id: int


class KnnKey(NamedTuple):
    """A KNN query's arguments before and after its vector's bytes, and its codec."""

    vector_field: str | None
    k: int
    ef_runtime: int | None
    where: str
    return_fields: tuple[str, ...] | None
    return_vector: bool


class CodecKey(NamedTuple):
    """A vector field's `VectorCodec` (building one checks its datatype)."""

    field: str


class ReplyPlanKey(NamedTuple):
    """How `redisvec.results` reads this schema's search replies (one per schema)."""


class LangChainFilterKey(NamedTuple):
    """A LangChain dict filter's rendered query text, by `redisvec.filters.value_key` of it."""

    filter: Any


class LlamaFilterKey(NamedTuple):
    """A LlamaIndex ``MetadataFilters``' translation, by its field aliases and its structure."""

    aliases: tuple[tuple[str, str], ...]
    filters: Any


def memo_put(cache: dict[Any, Any], key: Any, value: Any, bound: int = 1024) -> Any:
    """``cache[key] = value`` in a cache of at most ``bound`` entries (emptied when full: the
    values it holds come back from the next queries); returns ``value``."""
    if len(cache) >= bound:
        cache.clear()
    cache[key] = value
    return value
