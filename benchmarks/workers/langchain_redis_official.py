"""The official LangChain integration, `langchain-redis` (latest), as its docs show it.

It has no native async: LangChain's default `asimilarity_search_*` runs the sync call in a
thread pool, and that is what a user of it gets.
"""

from __future__ import annotations

from typing import Any

from common import serve
from langchain_common import LangChainVariant
from langchain_core.embeddings import Embeddings
from langchain_redis import RedisConfig, RedisVectorStore
from redisvl.query.filter import Tag


class LangChainRedis(LangChainVariant):
    name = "langchain-redis"
    packages = ("langchain-redis", "langchain-core", "redisvl", "redis", "hiredis", "numpy")

    def make_store(self, embeddings: Embeddings) -> Any:
        config = RedisConfig(
            index_name=self.index_name,
            key_prefix=self.prefix.rstrip(":"),
            redis_url=self.url,
            indexing_algorithm=self.algo,
            vector_datatype=self.dtype.upper(),
            distance_metric="COSINE",
            embedding_dimensions=self.dims,
            metadata_schema=[
                {"name": "category", "type": "tag"},
                {"name": "year", "type": "numeric"},
            ],
        )
        return RedisVectorStore(embeddings, config=config)

    def category_filter(self, category: str) -> Any:
        return Tag("category") == category


if __name__ == "__main__":
    serve(LangChainRedis)
