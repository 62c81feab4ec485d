"""What every LlamaIndex variant shares: the same nodes, queries and result reading, so that the
variants differ only in the store they build (`make_store`)."""

from __future__ import annotations

from typing import Any

from common import Variant
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    ExactMatchFilter,
    MetadataFilters,
    VectorStoreQuery,
)


class LlamaIndexVariant(Variant):
    def make_store(self) -> Any:
        raise NotImplementedError

    def create(self) -> None:
        d = self.data
        self.store = self.make_store()
        self.nodes = [
            TextNode(id_=i, text=t, metadata={"category": c, "year": y}, embedding=v)
            for i, t, c, y, v in zip(d.ids, d.texts, d.categories, d.years, d.vectors.tolist())
        ]
        self.queries = d.queries.tolist()

    def ingest(self, start: int, stop: int) -> None:
        self.store.add(self.nodes[start:stop])

    def query(self, qi: int, filtered: bool = False, k: int = 10) -> VectorStoreQuery:
        filters = None
        if filtered:
            filters = MetadataFilters(
                filters=[ExactMatchFilter(key="category", value=self.data.query_category(qi))]
            )
        return VectorStoreQuery(
            query_embedding=self.queries[qi], similarity_top_k=k, filters=filters
        )

    def knn(self, qi: int, filtered: bool) -> Any:
        return self.store.query(self.query(qi, filtered))

    async def aknn(self, qi: int) -> Any:
        return await self.store.aquery(self.query(qi))

    def texts_of(self, result: Any) -> list[str]:
        return [node.get_content() for node in result.nodes]
