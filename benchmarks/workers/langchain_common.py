"""What every LangChain variant shares: the same inputs, calls and result reading, so that the
variants differ only in the store they build (`make_store`) and how a tag filter is spelled."""

from __future__ import annotations

from typing import Any

from common import Variant
from langchain_core.embeddings import Embeddings


class Precomputed(Embeddings):
    """Returns the corpus' precomputed vectors (as lists, what an embedding model returns)."""

    def __init__(self, by_text: dict[str, list[float]], dims: int) -> None:
        self.by_text = by_text
        self.dims = dims

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.by_text[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.by_text.get(text) or [1.0] + [0.0] * (self.dims - 1)


class LangChainVariant(Variant):
    def make_store(self, embeddings: Embeddings) -> Any:
        raise NotImplementedError

    def category_filter(self, category: str) -> Any:
        raise NotImplementedError

    def create(self) -> None:
        d = self.data
        self.embeddings = Precomputed(dict(zip(d.texts, d.vectors.tolist())), self.dims)
        self.store = self.make_store(self.embeddings)
        self.metadatas = [{"category": c, "year": y} for c, y in zip(d.categories, d.years)]
        self.queries = d.queries.tolist()

    def ingest(self, start: int, stop: int) -> None:
        d = self.data
        self.store.add_texts(d.texts[start:stop], self.metadatas[start:stop], ids=d.ids[start:stop])

    def knn(self, qi: int, filtered: bool) -> Any:
        flt = self.category_filter(self.data.query_category(qi)) if filtered else None
        return self.store.similarity_search_with_score_by_vector(self.queries[qi], k=10, filter=flt)

    def range(self, qi: int, radius: float) -> Any:
        return self.store.similarity_search_with_score_by_vector(
            self.queries[qi], k=100, distance_threshold=radius
        )

    async def aknn(self, qi: int) -> Any:
        return await self.store.asimilarity_search_by_vector(self.queries[qi], k=10)

    def texts_of(self, result: Any) -> list[str]:
        return [(item[0] if isinstance(item, tuple) else item).page_content for item in result]
