"""redisvec's framework-free core: `SearchIndex` / `AsyncSearchIndex` with records as dicts."""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aredis
from common import Variant, serve

from redisvec.filters import Tag
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import RangeQuery, VectorQuery
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField

RETURN = ["text", "category", "year"]


class Core(Variant):
    name = "redisvec core"
    packages = ("redisvec", "redis", "hiredis", "numpy")
    datatypes = ("float32", "float16")

    def create(self) -> None:
        self.schema = IndexSchema(
            self.index_name,
            prefixes=(self.prefix,),
            fields=(
                TextField("text"),
                TagField("category"),
                NumericField("year"),
                VectorField("embedding", dims=self.dims, algorithm=self.algo, datatype=self.dtype),
            ),
        )
        self.index = SearchIndex(self.schema, redis.Redis.from_url(self.url))
        self.index.create()
        d = self.data
        self.records = [
            {"text": t, "category": c, "year": y, "embedding": v}
            for t, c, y, v in zip(d.texts, d.categories, d.years, d.vectors)
        ]

    def ingest(self, start: int, stop: int) -> None:
        self.index.load(self.records[start:stop], ids=self.data.ids[start:stop])

    def knn(self, qi: int, filtered: bool) -> Any:
        flt = Tag("category") == self.data.query_category(qi) if filtered else None
        query = VectorQuery(self.data.queries[qi], k=10, filter=flt, return_fields=RETURN)
        return self.index.search(query)

    def range(self, qi: int, radius: float) -> Any:
        query = RangeQuery(self.data.queries[qi], radius, k=100, return_fields=RETURN)
        return self.index.search(query)

    async def aopen(self) -> None:
        self.aindex = AsyncSearchIndex(self.schema, aredis.Redis.from_url(self.url))

    async def aknn(self, qi: int) -> Any:
        query = VectorQuery(self.data.queries[qi], k=10, return_fields=RETURN)
        return await self.aindex.search(query)

    async def aclose(self) -> None:
        await self.aindex.client.aclose()

    def texts_of(self, result: Any) -> list[str]:
        return [hit.fields["text"] for hit in result.hits]

    def close(self) -> None:
        self.index.client.close()


if __name__ == "__main__":
    serve(Core)
