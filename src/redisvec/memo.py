"""The one cache mechanism: typed keys (below), dicts bounded with `memo_put`, two homes.

- **On a schema** (``schema.memo(KnnKey)``): what the hot path derives from an immutable
  `IndexSchema`. A schema never changes, so nothing derived from it goes stale, and its caches go
  away with it (an equal schema built elsewhere is another object and shares nothing).
- **Process-wide** (`shared`): the two values built without a schema, each a fixed function of
  its key: ``Tag(name) == value`` expressions (`TagEqualsKey`) and LlamaIndex node templates
  (`NodeTemplateKey`).

Each kind of cached value has its own key type; a cache keyed by what callers pass is bounded
with `memo_put`. Nothing else in redisvec caches: what is cheap to derive again is derived again.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = [
    "CodecKey",
    "KnnKey",
    "LangChainFilterKey",
    "LlamaFilterKey",
    "NodeTemplateKey",
    "ReplyPlanKey",
    "TagEqualsKey",
    "WhereKey",
    "memo_put",
    "shared",
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


class TagEqualsKey(NamedTuple):
    """``Tag(field) == value`` for a str value (`redisvec.filters`), the filter most applications
    build for every query (a category, a tenant): one shared expression per field and value, so
    that the rendered-filter cache (`WhereKey`, by identity) finds it again. Str values only:
    ``1`` and ``True`` hash alike but render differently."""

    field: str
    value: str


class NodeTemplateKey(NamedTuple):
    """A LlamaIndex node validated once, by its stored node JSON after the id
    (`redisvec.llama_index.nodes`): later hits are copies of it."""

    node_json: str


_SHARED: dict[type, dict[Any, Any]] = {}


def shared(kind: type) -> dict[Any, Any]:
    """The process-wide cache of ``kind`` (`TagEqualsKey`, `NodeTemplateKey`)."""
    cache = _SHARED.get(kind)
    if cache is None:
        cache = _SHARED[kind] = {}
    return cache


def memo_put(cache: dict[Any, Any], key: Any, value: Any, bound: int = 1024) -> Any:
    """``cache[key] = value`` in a cache of at most ``bound`` entries (emptied when full: the
    values it holds come back from the next queries); returns ``value``."""
    if len(cache) >= bound:
        cache.clear()
    cache[key] = value
    return value
