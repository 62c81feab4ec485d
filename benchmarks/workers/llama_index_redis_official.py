"""The official LlamaIndex integration, `llama-index-vector-stores-redis` (latest), as its docs
show it: a redisvl `IndexSchema` with the required fields plus our two metadata fields.

It has no range (max-distance) query: reported as n/a.
"""

from __future__ import annotations

from typing import Any

from common import Variant, serve
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.vector_stores.redis import RedisVectorStore
from redis import Redis
from redisvl.schema import IndexSchema


class LlamaIndexRedis(Variant):
    name = "llama-index-vector-stores-redis"
    packages = (
        "llama-index-vector-stores-redis",
        "llama-index-core",
        "redisvl",
        "redis",
        "hiredis",
        "numpy",
    )
    supports_range = False

    def create(self) -> None:
        d = self.data
        schema = IndexSchema.from_dict(
            {
                "index": {
                    "name": self.index_name,
                    "prefix": self.prefix.rstrip(":"),
                    "key_separator": ":",
                },
                "fields": [
                    {"type": "tag", "name": "id"},
                    {"type": "tag", "name": "doc_id"},
                    {"type": "text", "name": "text"},
                    {"type": "tag", "name": "category"},
                    {"type": "numeric", "name": "year"},
                    {
                        "type": "vector",
                        "name": "vector",
                        "attrs": {
                            "dims": self.dims,
                            "algorithm": self.algo.lower(),
                            "distance_metric": "cosine",
                            "datatype": self.dtype,
                        },
                    },
                ],
            }
        )
        self.store = RedisVectorStore(schema=schema, redis_client=Redis.from_url(self.url))
        self.nodes = [
            TextNode(id_=i, text=t, metadata={"category": c, "year": y}, embedding=v)
            for i, t, c, y, v in zip(d.ids, d.texts, d.categories, d.years, d.vectors.tolist())
        ]
        self.queries = d.queries.tolist()

    def ingest(self, start: int, stop: int) -> None:
        self.store.add(self.nodes[start:stop])

    def _query(self, qi: int, filtered: bool) -> VectorStoreQuery:
        filters = None
        if filtered:
            filters = MetadataFilters(
                filters=[ExactMatchFilter(key="category", value=self.data.query_category(qi))]
            )
        return VectorStoreQuery(
            query_embedding=self.queries[qi], similarity_top_k=10, filters=filters
        )

    def knn(self, qi: int, filtered: bool) -> Any:
        return self.store.query(self._query(qi, filtered))

    async def aknn(self, qi: int) -> Any:
        return await self.store.aquery(self._query(qi, False))

    def texts_of(self, result: Any) -> list[str]:
        return [node.get_content() for node in result.nodes]


if __name__ == "__main__":
    serve(LlamaIndexRedis)
