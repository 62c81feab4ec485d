"""`SemanticCache`: answers found again by the embedding of their prompt, within a distance.

An LLM answer is stored with its prompt's embedding; a later prompt whose embedding lies within
``distance_threshold`` (the server's distance: cosine ``1 - cos``, IP ``1 - dot``, L2 *squared*
Euclidean) of a stored one gets that answer back, the nearest first. That is a range query on
the core, so this module only decides what is stored and which entries a lookup may see.

Entries are partitioned so that an answer is never served where it does not belong:

- ``llm``: the model and its settings (LangChain's ``llm_string``); an answer of one model never
  serves another. Stored as its SHA-256, an exact-match tag.
- ``scope_fields`` (e.g. ``("tenant", "user")``): declared once per cache. Every store and every
  lookup must then give a value for each of them, or it is refused (`ValueError`), so a caller
  cannot forget the scope and see another user's answers. Values are stored and matched as
  their SHA-256, which sidesteps every tag pitfall (case folding, trimmed whitespace, separators,
  escaping) that could make two different values match.

Each entry is one HASH key (the cache's prefix plus a hash of model, scope and prompt, so storing
the same prompt again replaces its answer), with an optional TTL. The index is FLAT by default:
a lookup is exact, and a cache is rarely large enough for HNSW to pay off.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from redisvec._steps import Op, Step, arun, run
from redisvec.connection import Connections
from redisvec.errors import IndexNotFoundError
from redisvec.filters import FilterExpression, Tag
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import RangeQuery
from redisvec.schema import IndexSchema, NumericField, TagField, VectorField

__all__ = ["CacheHit", "SemanticCache"]

_RESERVED = ("prompt", "response", "llm", "metadata", "inserted_at", "embedding")
Scope = Mapping[str, str]


@dataclass(frozen=True)
class CacheHit:
    """A stored answer and how far its prompt is from the one looked up."""

    id: str
    prompt: str
    response: str
    distance: float
    metadata: dict[str, Any]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _check_threshold(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(
            f"distance_threshold must be a number >= 0 (a distance: lower is closer), got {value!r}"
        )
    if not math.isfinite(value):
        raise ValueError(f"distance_threshold must be finite, got {value!r}")
    return float(value)


def _check_ttl(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"ttl must be a whole number of seconds >= 1 or None, got {value!r}")
    return value


class SemanticCache:
    """A semantic LLM cache on one index (``name``, keys under ``key_prefix``, default
    ``<name>:``), on ``connections`` (sync and async methods are twins).

    The index is created at the first use, with the dimension of the first vector unless ``dims``
    is given; an existing index of that name is checked against the schema.
    """

    def __init__(
        self,
        connections: Connections,
        *,
        name: str = "llmcache",
        key_prefix: str | None = None,
        distance_threshold: float = 0.1,
        ttl: int | None = None,
        scope_fields: Sequence[str] = (),
        distance_metric: str = "cosine",
        algorithm: str = "flat",
        datatype: str = "float32",
        dims: int | None = None,
        allow_shared_prefix: bool = False,
    ) -> None:
        if isinstance(scope_fields, str):
            raise ValueError(
                f"scope_fields must be a list of field names, got the string {scope_fields!r}; "
                f"write scope_fields=[{scope_fields!r}]"
            )
        for f in scope_fields:
            if not isinstance(f, str) or not f.isidentifier() or f in _RESERVED:
                raise ValueError(
                    f"scope field {f!r} must be an identifier and not one of {list(_RESERVED)}"
                )
        self.connections = connections
        self.name = name
        self.key_prefix = key_prefix if key_prefix is not None else f"{name}:"
        self.distance_threshold = _check_threshold(distance_threshold)
        self.ttl = _check_ttl(ttl)
        self.scope_fields = tuple(scope_fields)
        self.allow_shared_prefix = allow_shared_prefix
        self._vector = {"distance_metric": distance_metric, "algorithm": algorithm}
        self._vector["datatype"] = datatype
        self._schema = None if dims is None else self._build(dims)
        self._created: set[IndexSchema] = set()
        self._indexes: dict[tuple[IndexSchema, bool], Any] = {}

    def __repr__(self) -> str:
        return f"<SemanticCache {self.name!r} prefix={self.key_prefix!r} scope={self.scope_fields}>"

    # -- what is stored and matched (no I/O) -----------------------------------------------------

    def _build(self, dims: int) -> IndexSchema:
        return IndexSchema(
            self.name,
            prefixes=(self.key_prefix,),
            key_separator="",
            fields=(
                TagField("llm", case_sensitive=True),
                *(TagField(f, case_sensitive=True) for f in self.scope_fields),
                NumericField("inserted_at"),
                VectorField("embedding", dims=dims, **self._vector),  # type: ignore[arg-type]
            ),
        )

    def _schema_for(self, vector: Any) -> IndexSchema:
        if self._schema is None:
            array = np.asarray(vector)
            if array.ndim != 1 or array.size == 0:
                raise ValueError(
                    f"an embedding must be a non-empty list of numbers, got shape {array.shape}"
                )
            self._schema = self._build(int(array.size))
        return self._schema

    def _scope(self, scope: Scope | None) -> dict[str, str]:
        """The scope's tag values; every declared field must be given, and nothing else."""
        given = dict(scope or {})
        unknown = sorted(set(given) - set(self.scope_fields))
        missing = [f for f in self.scope_fields if f not in given]
        if unknown or missing:
            raise ValueError(
                f"cache {self.name!r} is scoped by {list(self.scope_fields)}: "
                + (f"missing {missing}" if missing else f"unknown scope field(s) {unknown}")
                + f" in scope={given!r}. Give a value for each scope field (e.g. "
                "cache.with_scope(user=...)), so that no one is served another scope's answers"
            )
        out = {}
        for f in self.scope_fields:
            value = given[f]
            if not isinstance(value, str) or not value:
                raise ValueError(
                    f"scope field {f!r}: value must be a non-empty string, got {value!r}"
                )
            out[f] = _digest(value)
        return out

    def _where(self, llm: str | None, scope: Mapping[str, str]) -> FilterExpression | None:
        where: FilterExpression | None = None
        if llm is not None:
            where = Tag("llm") == _digest(llm)
        for f, value in scope.items():
            where = (Tag(f) == value) & where
        return where

    def _entry_id(self, llm: str, scope: Mapping[str, str], prompt: str) -> str:
        parts = [_digest(llm), *(f"{f}={v}" for f, v in scope.items()), _digest(prompt)]
        return _digest("\x00".join(parts))

    @staticmethod
    def _hit(found: Any) -> CacheHit | None:
        if not found.hits:
            return None
        hit = found.hits[0]
        fields = hit.fields
        return CacheHit(
            id=hit.id,
            prompt=str(fields.get("prompt", "")),
            response=str(fields.get("response", "")),
            distance=float(hit.distance),
            metadata=json.loads(fields.get("metadata") or "{}"),
        )

    # -- operations, written once ----------------------------------------------------------------

    def _ensure(self, schema: IndexSchema) -> Op[None]:
        if schema not in self._created:
            yield Step("index", "create", kwargs={"allow_shared_prefix": self.allow_shared_prefix})
            self._created.add(schema)

    def _check_op(
        self,
        schema: IndexSchema,
        vector: Any,
        llm: str,
        scope: Scope | None,
        distance_threshold: float | None,
    ) -> Op[CacheHit | None]:
        threshold = self.distance_threshold
        if distance_threshold is not None:
            threshold = _check_threshold(distance_threshold)
        query = RangeQuery(
            vector,
            threshold,
            k=1,
            filter=self._where(llm, self._scope(scope)),
            return_fields=["prompt", "response", "metadata"],
        )
        yield from self._ensure(schema)
        try:
            found = yield Step("index", "search", (query,))
        except IndexNotFoundError:  # dropped by someone else: a miss; the next store recreates
            self._created.discard(schema)
            return None
        return self._hit(found)

    def _store_op(
        self,
        schema: IndexSchema,
        prompt: str,
        response: str,
        vector: Any,
        llm: str,
        scope: Scope | None,
        metadata: Mapping[str, Any] | None,
        ttl: int | None,
    ) -> Op[str]:
        tags = self._scope(scope)
        if not isinstance(prompt, str) or not isinstance(response, str):
            raise TypeError("prompt and response must be strings (serialize the response first)")
        record = {
            "prompt": prompt,
            "response": response,
            "llm": _digest(llm),
            **tags,
            "metadata": json.dumps(dict(metadata or {}), ensure_ascii=False, default=str),
            "inserted_at": time.time(),
            "embedding": vector,
        }
        entry = self._entry_id(llm, tags, prompt)
        yield from self._ensure(schema)
        yield Step("index", "load", ([record],), {"ids": [entry], "ttl": ttl})
        return entry

    def _clear_op(self, llm: str | None, scope: Scope | None) -> Op[int]:
        where = self._where(llm, self._scope(scope) if scope is not None else {})
        try:
            deleted: int = yield Step("index", "delete_where", (where,))
        except IndexNotFoundError:
            return 0
        return deleted

    def _ttl(self, ttl: int | bool | None) -> int | None:
        return self.ttl if ttl is True else _check_ttl(ttl)

    # -- sync ------------------------------------------------------------------------------------

    def _index(self, schema: IndexSchema | None, is_async: bool) -> Any:
        if schema is None:  # clear / drop before any vector was seen: any dims will do
            schema = self._build(1)
        found = self._indexes.get((schema, is_async))
        if found is None:
            if is_async:
                found = AsyncSearchIndex(schema, self.connections.async_)
            else:
                found = SearchIndex(schema, self.connections.sync)
            self._indexes[(schema, is_async)] = found
        return found

    def check(
        self,
        vector: Any,
        *,
        llm: str = "",
        scope: Scope | None = None,
        distance_threshold: float | None = None,
    ) -> CacheHit | None:
        """The nearest entry of this ``llm`` and ``scope`` within the threshold, or None."""
        schema = self._schema_for(vector)
        op = self._check_op(schema, vector, llm, scope, distance_threshold)
        return run(op, {"index": self._index(schema, False)})

    def store(
        self,
        prompt: str,
        response: str,
        vector: Any,
        *,
        llm: str = "",
        scope: Scope | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl: int | bool | None = True,
    ) -> str:
        """Store ``response`` for ``prompt`` (its embedding ``vector``); returns the entry id.
        ``ttl``: seconds, None for no expiry, True (default) for the cache's ``ttl``."""
        schema = self._schema_for(vector)
        op = self._store_op(schema, prompt, response, vector, llm, scope, metadata, self._ttl(ttl))
        return run(op, {"index": self._index(schema, False)})

    def clear(self, *, llm: str | None = None, scope: Scope | None = None) -> int:
        """Delete the entries of ``llm`` / ``scope`` (every entry when both are None); the
        index stays. Returns how many were deleted."""
        return run(self._clear_op(llm, scope), {"index": self._index(self._schema, False)})

    def drop(self) -> None:
        """Drop the index and every entry."""
        self._index(self._schema, False).drop(delete_documents=True)
        self._created.clear()

    def close(self) -> None:
        self.connections.close()

    # -- async -----------------------------------------------------------------------------------

    async def acheck(
        self,
        vector: Any,
        *,
        llm: str = "",
        scope: Scope | None = None,
        distance_threshold: float | None = None,
    ) -> CacheHit | None:
        schema = self._schema_for(vector)
        op = self._check_op(schema, vector, llm, scope, distance_threshold)
        return await arun(op, {"index": self._index(schema, True)})

    async def astore(
        self,
        prompt: str,
        response: str,
        vector: Any,
        *,
        llm: str = "",
        scope: Scope | None = None,
        metadata: Mapping[str, Any] | None = None,
        ttl: int | bool | None = True,
    ) -> str:
        schema = self._schema_for(vector)
        op = self._store_op(schema, prompt, response, vector, llm, scope, metadata, self._ttl(ttl))
        return await arun(op, {"index": self._index(schema, True)})

    async def aclear(self, *, llm: str | None = None, scope: Scope | None = None) -> int:
        return await arun(self._clear_op(llm, scope), {"index": self._index(self._schema, True)})

    async def adrop(self) -> None:
        await self._index(self._schema, True).drop(delete_documents=True)
        self._created.clear()

    async def aclose(self) -> None:
        await self.connections.aclose()
