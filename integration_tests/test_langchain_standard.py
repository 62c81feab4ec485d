"""LangChain's own standard vector-store suite (``langchain-tests``), unmodified, sync and async,
for HASH and JSON storage (and JSON over RESP2), on the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from redisvec.connection import ConnectionConfig
from redisvec.langchain import RedisVectorStore


class _Standard(VectorStoreIntegrationTests):
    storage = "hash"
    protocol = 3

    @pytest.fixture
    async def vectorstore(self, redis_url: str, names) -> AsyncIterator[RedisVectorStore]:  # type: ignore[override]
        store = RedisVectorStore(
            self.get_embeddings(),
            index_name=names.index,
            key_prefix=names.prefix,
            connection=ConnectionConfig(url=redis_url, protocol=self.protocol),
            storage_type=self.storage,
        )
        try:
            yield store
        finally:
            await store.adrop_index(delete_documents=True)
            await store.aclose()


class TestHashStandard(_Standard):
    storage = "hash"


class TestJsonStandard(_Standard):
    storage = "json"


class TestJsonResp2Standard(_Standard):
    """The same on a RESP2 connection (reply shapes differ from RESP3)."""

    storage = "json"
    protocol = 2
