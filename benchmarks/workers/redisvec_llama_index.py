"""redisvec through its LlamaIndex adapter, `redisvec.llama_index.RedisVectorStore`."""

from __future__ import annotations

from typing import Any

from common import Variant, serve
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from redisvec.llama_index import RedisVectorStore


class RedisvecLlamaIndex(Variant):
    name = "redisvec LlamaIndex"
    packages = ("redisvec", "llama-index-core", "redis", "hiredis", "numpy")

    def create(self) -> None:
        d = self.data
        self.store = RedisVectorStore(
            index_name=self.index_name,
            redis_url=self.url,
            key_prefix=self.prefix,
            metadata_schema=[
                {"name": "category", "type": "tag"},
                {"name": "year", "type": "numeric"},
            ],
            algorithm=self.algo,
            datatype=self.dtype.upper(),
            distance_metric="COSINE",
            dims=self.dims,
        )
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

    def range(self, qi: int, radius: float) -> Any:
        query = VectorStoreQuery(query_embedding=self.queries[qi], similarity_top_k=100)
        return self.store.query(query, distance_threshold=radius)

    async def aknn(self, qi: int) -> Any:
        return await self.store.aquery(self._query(qi, False))

    async def aclose(self) -> None:
        if hasattr(self.store, "aclose"):
            await self.store.aclose()

    def close(self) -> None:
        if hasattr(self.store, "close"):
            self.store.close()

    def texts_of(self, result: Any) -> list[str]:
        return [node.get_content() for node in result.nodes]


if __name__ == "__main__":
    serve(RedisvecLlamaIndex)
