"""redisvec through its LlamaIndex adapter, `redisvec.llama_index.RedisVectorStore`."""

from __future__ import annotations

from typing import Any

from common import serve
from llama_index_common import LlamaIndexVariant

from redisvec.llama_index import RedisVectorStore


class RedisvecLlamaIndex(LlamaIndexVariant):
    name = "redisvec LlamaIndex"
    packages = ("redisvec", "llama-index-core", "redis", "hiredis", "numpy")

    def make_store(self) -> Any:
        return RedisVectorStore(**self.redisvec_store_options())

    def range(self, qi: int, radius: float) -> Any:
        return self.store.query(self.query(qi, k=100), distance_threshold=radius)

    async def aclose(self) -> None:
        await self.store.aclose()

    def close(self) -> None:
        self.store.close()


if __name__ == "__main__":
    serve(RedisvecLlamaIndex)
