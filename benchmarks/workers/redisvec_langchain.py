"""redisvec through its LangChain adapter, `redisvec.langchain.RedisVectorStore`."""

from __future__ import annotations

from typing import Any

from common import serve
from langchain_common import LangChainVariant
from langchain_core.embeddings import Embeddings

from redisvec.langchain import RedisVectorStore


class RedisvecLangChain(LangChainVariant):
    name = "redisvec LangChain"
    packages = ("redisvec", "langchain-core", "redis", "hiredis", "numpy")

    def make_store(self, embeddings: Embeddings) -> Any:
        return RedisVectorStore(embeddings, **self.redisvec_store_options())

    def category_filter(self, category: str) -> Any:
        return {"category": category}

    async def aclose(self) -> None:
        await self.store.aclose()

    def close(self) -> None:
        self.store.close()


if __name__ == "__main__":
    serve(RedisvecLangChain)
