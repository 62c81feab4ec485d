"""LangChain's own standard vector-store suite (``langchain-tests``), unmodified, sync and async,
for HASH and JSON storage, on the real server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from redisvec.langchain import RedisVectorStore


class _Standard(VectorStoreIntegrationTests):
    storage = "hash"

    @pytest.fixture
    async def vectorstore(self, redis_url: str, names) -> AsyncIterator[RedisVectorStore]:  # type: ignore[override]
        store = RedisVectorStore(
            self.get_embeddings(),
            index_name=names.index,
            key_prefix=names.prefix,
            redis_url=redis_url,
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
