"""The official LlamaIndex integration, `llama-index-vector-stores-redis` (latest), as its docs
show it: a redisvl `IndexSchema` with the required fields plus our two metadata fields.

It has no range (max-distance) query: reported as n/a.
"""

from __future__ import annotations

from typing import Any

from common import serve
from llama_index.vector_stores.redis import RedisVectorStore
from llama_index_common import LlamaIndexVariant
from redis import Redis
from redisvl.schema import IndexSchema


class LlamaIndexRedis(LlamaIndexVariant):
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

    def make_store(self) -> Any:
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
        return RedisVectorStore(schema=schema, redis_client=Redis.from_url(self.url))


if __name__ == "__main__":
    serve(LlamaIndexRedis)
