"""LangChain LLM caches on Redis: `RedisCache` (exact prompt) and `RedisSemanticCache` (similar
prompt, on the core's `redisvec.semantic_cache.SemanticCache`).

Both are ``langchain_core.caches.BaseCache``: ``set_llm_cache(cache)`` for every model, or
``ChatModel(cache=cache)`` for one. Sync and async methods are native twins.

Generations are stored as JSON written here (text, ``generation_info``, and for chat models the
message through ``message_to_dict``), not with ``langchain_core.load``: reading a cache entry
never instantiates anything but a message and a generation.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache
from langchain_core.embeddings import Embeddings
from langchain_core.messages import message_to_dict, messages_from_dict
from langchain_core.outputs import ChatGeneration, Generation

from redisvec.connection import AsyncClient, ConnectionConfig, SyncClient, clients_from
from redisvec.semantic_cache import CacheHit, SemanticCache

__all__ = [
    "RedisCache",
    "RedisSemanticCache",
    "dump_generations",
    "load_generations",
    "prompt_text",
]


def dump_generations(generations: Sequence[Generation]) -> str:
    """Generations as JSON text (see the module docstring)."""
    out = []
    for g in generations:
        item: dict[str, Any] = {"text": g.text, "generation_info": g.generation_info}
        if isinstance(g, ChatGeneration):
            item["message"] = message_to_dict(g.message)
        out.append(item)
    return json.dumps(out, ensure_ascii=False)


def load_generations(text: str | bytes) -> list[Generation]:
    """The generations `dump_generations` wrote."""
    generations: list[Generation] = []
    for item in json.loads(text):
        if "message" in item:
            message = messages_from_dict([item["message"]])[0]
            generations.append(
                ChatGeneration(message=message, generation_info=item.get("generation_info"))
            )
        else:
            generations.append(
                Generation(text=item["text"], generation_info=item.get("generation_info"))
            )
    return generations


def prompt_text(prompt: str) -> str:
    """What a semantic cache embeds for ``prompt``. A chat model hands the cache its messages
    serialized as LangChain JSON; embedding that JSON would make every prompt look alike (the
    same keys and class names), so the messages' text is embedded instead: a lone message's
    content as it is (a question asked of an LLM or of a chat model embeds the same), several
    messages as ``role: content`` lines. Any other prompt is embedded as it is."""
    try:
        items = json.loads(prompt)
    except ValueError:
        return prompt
    if not isinstance(items, list) or not items:
        return prompt
    lines = []
    for item in items:
        kwargs = item.get("kwargs") if isinstance(item, dict) else None
        if not isinstance(kwargs, dict) or "content" not in kwargs:
            return prompt
        content = kwargs["content"]
        if isinstance(content, list):  # content blocks: their text
            content = " ".join(
                str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in content
            )
        lines.append((str(kwargs.get("type", "")), str(content)))
    if len(lines) == 1:
        return lines[0][1]
    return "\n".join(f"{role}: {content}" for role, content in lines)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _check_ttl(ttl: int | None) -> int | None:
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1):
        raise ValueError(f"ttl must be a whole number of seconds >= 1 or None, got {ttl!r}")
    return ttl


class RedisCache(BaseCache):
    """Exact-match LLM cache: one string key per (model, prompt) under ``key_prefix``, with an
    optional ``ttl`` in seconds. Keys are ``<key_prefix><sha256(llm_string)>:<sha256(prompt)>``:
    one key per entry, so any key may live on any cluster node.

    Connect with ``redis_url`` (plus `ConnectionConfig` options), ``connection=``, or clients.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        key_prefix: str = "llmcache:exact:",
        ttl: int | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        **connection_options: Any,
    ) -> None:
        if not isinstance(key_prefix, str) or not key_prefix:
            raise ValueError(
                f"key_prefix must be a non-empty string (clear() deletes every key under it), "
                f"got {key_prefix!r}"
            )
        self.key_prefix = key_prefix
        self.ttl = _check_ttl(ttl)
        self.connections = clients_from(
            redis_url,
            redis_client=redis_client,
            async_client=async_client,
            config=connection,
            **connection_options,
        )

    def _key(self, prompt: str, llm_string: str) -> str:
        return f"{self.key_prefix}{_digest(llm_string)}:{_digest(prompt)}"

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        raw = self.connections.sync.get(self._key(prompt, llm_string))
        return None if raw is None else load_generations(raw)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        self.connections.sync.set(
            self._key(prompt, llm_string), dump_generations(return_val), ex=self.ttl
        )

    def clear(self, **kwargs: Any) -> None:
        """Delete every entry under the key prefix (SCAN, then one UNLINK per key)."""
        client = self.connections.sync
        pipe = client.pipeline(transaction=False)
        for key in client.scan_iter(match=_glob_escape(self.key_prefix) + "*", count=1000):
            pipe.execute_command("UNLINK", key)
        pipe.execute()

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        raw = await self.connections.async_.get(self._key(prompt, llm_string))
        return None if raw is None else load_generations(raw)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        await self.connections.async_.set(
            self._key(prompt, llm_string), dump_generations(return_val), ex=self.ttl
        )

    async def aclear(self, **kwargs: Any) -> None:
        client = self.connections.async_
        pipe = client.pipeline(transaction=False)
        async for key in client.scan_iter(match=_glob_escape(self.key_prefix) + "*", count=1000):
            pipe.execute_command("UNLINK", key)
        await pipe.execute()

    def close(self) -> None:
        self.connections.close()

    async def aclose(self) -> None:
        await self.connections.aclose()


class RedisSemanticCache(BaseCache):
    """Semantic LLM cache: a prompt whose embedding is within ``distance_threshold`` of a cached
    prompt's (same model, same scope) gets the cached answer.

    ``scope_fields`` (e.g. ``["tenant", "user"]``) partition the cache: a cache with scope fields
    refuses to look up or store until it is bound to a value for each
    (``cache.with_scope(user="alice")``, or ``scope=`` here), so one user's answer never serves
    another's by accident. Bound copies share the index and connections.

    ``distance_threshold`` is the server's distance (cosine ``1 - cos``, the default metric);
    ``ttl`` (seconds) expires entries. See `redisvec.semantic_cache` for the storage.
    """

    def __init__(
        self,
        embeddings: Embeddings,
        *,
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        name: str = "llmcache",
        key_prefix: str | None = None,
        distance_threshold: float = 0.1,
        ttl: int | None = None,
        scope_fields: Sequence[str] = (),
        scope: Mapping[str, str] | None = None,
        distance_metric: str = "cosine",
        algorithm: str = "flat",
        dims: int | None = None,
        allow_shared_prefix: bool = False,
        **connection_options: Any,
    ) -> None:
        self.embeddings = embeddings
        self.core = SemanticCache(
            clients_from(
                redis_url,
                redis_client=redis_client,
                async_client=async_client,
                config=connection,
                **connection_options,
            ),
            name=name,
            key_prefix=key_prefix,
            distance_threshold=distance_threshold,
            ttl=ttl,
            scope_fields=scope_fields,
            distance_metric=distance_metric,
            algorithm=algorithm,
            dims=dims,
            allow_shared_prefix=allow_shared_prefix,
        )
        self.scope = dict(scope) if scope is not None else None
        if self.scope is not None:
            self.core._scope(self.scope)  # refused now rather than at the first lookup

    def with_scope(self, **values: str) -> RedisSemanticCache:
        """A copy bound to ``values`` (one per scope field), sharing index and connections."""
        self.core._scope(values)
        bound = copy.copy(self)
        bound.scope = dict(values)
        return bound

    # -- BaseCache -------------------------------------------------------------------------------

    def lookup_hit(self, prompt: str, llm_string: str) -> CacheHit | None:
        """The cache entry `lookup` would use (prompt, distance, raw response), or None."""
        vector = self.embeddings.embed_query(prompt_text(prompt))
        return self.core.check(vector, llm=llm_string, scope=self.scope)

    def lookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        hit = self.lookup_hit(prompt, llm_string)
        return None if hit is None else load_generations(hit.response)

    def update(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        text = prompt_text(prompt)
        vector = self.embeddings.embed_query(text)
        self.core.store(
            text, dump_generations(return_val), vector, llm=llm_string, scope=self.scope
        )

    def clear(self, **kwargs: Any) -> None:
        """Delete this cache's entries: of its scope when bound to one, else all;
        ``llm_string=`` limits it to one model."""
        self.core.clear(llm=kwargs.get("llm_string"), scope=self.scope)

    async def alookup_hit(self, prompt: str, llm_string: str) -> CacheHit | None:
        vector = await self.embeddings.aembed_query(prompt_text(prompt))
        return await self.core.acheck(vector, llm=llm_string, scope=self.scope)

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        hit = await self.alookup_hit(prompt, llm_string)
        return None if hit is None else load_generations(hit.response)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        text = prompt_text(prompt)
        vector = await self.embeddings.aembed_query(text)
        await self.core.astore(
            text, dump_generations(return_val), vector, llm=llm_string, scope=self.scope
        )

    async def aclear(self, **kwargs: Any) -> None:
        await self.core.aclear(llm=kwargs.get("llm_string"), scope=self.scope)

    def drop(self) -> None:
        """Drop the cache's index and every entry (all scopes)."""
        self.core.drop()

    async def adrop(self) -> None:
        await self.core.adrop()

    def close(self) -> None:
        self.core.close()

    async def aclose(self) -> None:
        await self.core.aclose()
