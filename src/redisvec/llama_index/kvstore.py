"""LlamaIndex key-value storage on Redis: `RedisKVStore`, and the document store, index store and
ingestion cache that llama-index-core builds on any ``BaseKVStore``.

A collection is one HASH (``<key_prefix><collection>``), each entry a field holding JSON: what
llama-index-storage-kvstore-redis writes (with ``key_prefix=""``, its layout exactly, so data it
stored is read as is). One key per collection is cluster-safe: every command names one key.
``get_all`` reads with ``HSCAN``, so a large collection does not block the server.

- ``RedisDocumentStore(RedisKVStore(...))`` and ``RedisIndexStore(...)``: llama-index-core's
  ``KVDocumentStore`` / ``KVIndexStore`` on it (the node collection is ``<namespace>/doc``, as in
  llama-index-storage-docstore-redis).
- ``IngestionCache(cache=RedisKVStore(...))``: the ingestion pipeline's transformation cache.

With redisvec's ``RedisVectorStore`` this puts an ``IngestionPipeline`` with
``DocstoreStrategy.UPSERTS`` entirely on one Redis: a re-run skips unchanged documents.
"""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.storage.docstore.keyval_docstore import KVDocumentStore
from llama_index.core.storage.index_store.keyval_index_store import KVIndexStore
from llama_index.core.storage.kvstore.types import DEFAULT_COLLECTION, BaseKVStore

from redisvec.connection import AsyncClient, ConnectionConfig, SyncClient, clients_from

__all__ = ["RedisDocumentStore", "RedisIndexStore", "RedisKVStore"]

#: Entries per HSET when ``put_all`` is given no larger batch size (all sent in one pipeline).
_MIN_BATCH = 500


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class RedisKVStore(BaseKVStore):
    """LlamaIndex ``BaseKVStore`` on Redis hashes (one per collection), sync and async.

    Connect with ``redis_url`` (plus `ConnectionConfig` options: TLS, ACL user, timeouts...),
    ``connection=``, or existing clients (a missing flavour is derived from the given one).
    """

    def __init__(
        self,
        redis_url: str | None = None,
        *,
        key_prefix: str = "",
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        **connection_options: Any,
    ) -> None:
        if not isinstance(key_prefix, str):
            raise ValueError(f"key_prefix must be a string, got {key_prefix!r}")
        self.key_prefix = key_prefix
        self.connections = clients_from(
            redis_url,
            redis_client=redis_client,
            async_client=async_client,
            config=connection,
            **connection_options,
        )

    @classmethod
    def from_redis_client(cls, redis_client: SyncClient, **kwargs: Any) -> RedisKVStore:
        return cls(redis_client=redis_client, **kwargs)

    @classmethod
    def from_host_and_port(cls, host: str, port: int, **kwargs: Any) -> RedisKVStore:
        return cls(f"redis://{host}:{port}", **kwargs)

    def _key(self, collection: str) -> str:
        if not isinstance(collection, str) or not collection:
            raise ValueError(f"collection must be a non-empty string, got {collection!r}")
        return self.key_prefix + collection

    @staticmethod
    def _field(key: str) -> str:
        if not isinstance(key, str):
            raise TypeError(f"a key must be a string, got {type(key).__name__} {key!r}")
        return key

    @staticmethod
    def _dump(val: dict[str, Any]) -> str:
        if not isinstance(val, dict):
            raise TypeError(f"a value must be a dict, got {type(val).__name__}")
        return json.dumps(val, ensure_ascii=False)

    def _hsets(self, kv_pairs: list[tuple[str, dict[str, Any]]], batch_size: int) -> list[Any]:
        """One HSET per batch of entries, every value checked before anything is sent."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        flat = [(self._field(k), self._dump(v)) for k, v in kv_pairs]
        size = max(batch_size, _MIN_BATCH)
        return [[x for pair in flat[i : i + size] for x in pair] for i in range(0, len(flat), size)]

    # -- sync ------------------------------------------------------------------------------------

    def put(self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION) -> None:
        self.connections.sync.hset(self._key(collection), self._field(key), self._dump(val))

    def put_all(
        self,
        kv_pairs: list[tuple[str, dict[str, Any]]],
        collection: str = DEFAULT_COLLECTION,
        batch_size: int = 1,
    ) -> None:
        """Every pair, in one round trip (``batch_size`` is a lower bound on entries per HSET)."""
        name = self._key(collection)
        batches = self._hsets(list(kv_pairs), batch_size)
        if batches:
            pipe = self.connections.sync.pipeline(transaction=False)
            for batch in batches:
                pipe.execute_command("HSET", name, *batch)
            pipe.execute()

    def get(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        raw = self.connections.sync.hget(self._key(collection), self._field(key))
        return None if raw is None else dict(json.loads(raw))

    def get_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        client = self.connections.sync
        return {
            _text(k): json.loads(v) for k, v in client.hscan_iter(self._key(collection), count=1000)
        }

    def delete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return bool(self.connections.sync.hdel(self._key(collection), self._field(key)))

    def delete_collection(self, collection: str = DEFAULT_COLLECTION) -> bool:
        """Delete a whole collection (one key); whether it existed."""
        return bool(self.connections.sync.unlink(self._key(collection)))

    def close(self) -> None:
        self.connections.close()

    # -- async -----------------------------------------------------------------------------------

    async def aput(
        self, key: str, val: dict[str, Any], collection: str = DEFAULT_COLLECTION
    ) -> None:
        await self.connections.async_.hset(self._key(collection), self._field(key), self._dump(val))

    async def aput_all(
        self,
        kv_pairs: list[tuple[str, dict[str, Any]]],
        collection: str = DEFAULT_COLLECTION,
        batch_size: int = 1,
    ) -> None:
        name = self._key(collection)
        batches = self._hsets(list(kv_pairs), batch_size)
        if batches:
            pipe = self.connections.async_.pipeline(transaction=False)
            for batch in batches:
                pipe.execute_command("HSET", name, *batch)
            await pipe.execute()

    async def aget(self, key: str, collection: str = DEFAULT_COLLECTION) -> dict[str, Any] | None:
        raw = await self.connections.async_.hget(self._key(collection), self._field(key))
        return None if raw is None else dict(json.loads(raw))

    async def aget_all(self, collection: str = DEFAULT_COLLECTION) -> dict[str, dict[str, Any]]:
        client = self.connections.async_
        return {
            _text(k): json.loads(v)
            async for k, v in client.hscan_iter(self._key(collection), count=1000)
        }

    async def adelete(self, key: str, collection: str = DEFAULT_COLLECTION) -> bool:
        return bool(await self.connections.async_.hdel(self._key(collection), self._field(key)))

    async def adelete_collection(self, collection: str = DEFAULT_COLLECTION) -> bool:
        return bool(await self.connections.async_.unlink(self._key(collection)))

    async def aclose(self) -> None:
        await self.connections.aclose()


class RedisDocumentStore(KVDocumentStore):
    """llama-index-core's ``KVDocumentStore`` on a `RedisKVStore` (nodes in ``<namespace>/doc``,
    as llama-index-storage-docstore-redis keeps them)."""

    def __init__(
        self,
        redis_kvstore: RedisKVStore,
        namespace: str | None = None,
        batch_size: int = 100,
    ) -> None:
        super().__init__(redis_kvstore, namespace=namespace, batch_size=batch_size)
        self._node_collection = f"{self._namespace}/doc"

    @classmethod
    def from_redis_client(
        cls, redis_client: SyncClient, namespace: str | None = None, **kwargs: Any
    ) -> RedisDocumentStore:
        return cls(RedisKVStore(redis_client=redis_client, **kwargs), namespace)

    @classmethod
    def from_host_and_port(
        cls, host: str, port: int, namespace: str | None = None, **kwargs: Any
    ) -> RedisDocumentStore:
        return cls(RedisKVStore.from_host_and_port(host, port, **kwargs), namespace)

    @classmethod
    def from_url(
        cls, redis_url: str, namespace: str | None = None, **kwargs: Any
    ) -> RedisDocumentStore:
        """``kwargs``: `RedisKVStore`'s (``key_prefix``, connection options)."""
        return cls(RedisKVStore(redis_url, **kwargs), namespace)


class RedisIndexStore(KVIndexStore):
    """llama-index-core's ``KVIndexStore`` on a `RedisKVStore`."""

    def __init__(
        self,
        redis_kvstore: RedisKVStore,
        namespace: str | None = None,
        collection_suffix: str | None = None,
    ) -> None:
        super().__init__(redis_kvstore, namespace=namespace, collection_suffix=collection_suffix)

    @classmethod
    def from_redis_client(
        cls, redis_client: SyncClient, namespace: str | None = None, **kwargs: Any
    ) -> RedisIndexStore:
        return cls(RedisKVStore(redis_client=redis_client, **kwargs), namespace)

    @classmethod
    def from_host_and_port(
        cls, host: str, port: int, namespace: str | None = None, **kwargs: Any
    ) -> RedisIndexStore:
        return cls(RedisKVStore.from_host_and_port(host, port, **kwargs), namespace)

    @classmethod
    def from_url(
        cls, redis_url: str, namespace: str | None = None, **kwargs: Any
    ) -> RedisIndexStore:
        return cls(RedisKVStore(redis_url, **kwargs), namespace)
