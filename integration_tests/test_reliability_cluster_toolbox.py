"""The key-value parts of the toolbox on a local 3-shard Redis Cluster: the exact LLM cache (one
key per entry, spread over every shard, cleared by scanning each) and the LlamaIndex KV store (one
hash per collection). The search-backed parts (semantic cache, chat histories) use the core's
index, whose cluster behaviour is covered in test_reliability_cluster.py and README
"Deployments"."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from _infra import local_cluster
from langchain_core.outputs import Generation

from redisvec.connection import ConnectionConfig
from redisvec.langchain import RedisCache
from redisvec.llama_index import RedisKVStore

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def cluster_urls() -> Iterator[list[str]]:
    with local_cluster(3) as urls:
        yield urls


def _per_node(urls: list[str], prefix: str) -> list[int]:
    out = []
    for url in urls:
        with redis.Redis.from_url(url) as node:
            out.append(sum(1 for _ in node.scan_iter(match=f"{prefix}*")))
    return out


async def test_exact_cache_on_a_cluster(cluster_urls: list[str]) -> None:
    prefix = f"tb_{uuid.uuid4().hex[:8]}:"
    cache = RedisCache(
        connection=ConnectionConfig(url=cluster_urls[0], cluster=True), key_prefix=prefix
    )
    for i in range(60):
        cache.update(f"prompt {i}", "m", [Generation(text=f"answer {i}")])
    await cache.aupdate("async prompt", "m", [Generation(text="a")])
    counts = _per_node(cluster_urls, prefix)
    assert sum(counts) == 61 and all(c > 0 for c in counts)  # spread over every shard
    assert all(
        cache.lookup(f"prompt {i}", "m") == [Generation(text=f"answer {i}")] for i in range(60)
    )
    assert await cache.alookup("async prompt", "m") == [Generation(text="a")]
    cache.clear()
    assert _per_node(cluster_urls, prefix) == [0, 0, 0]
    await cache.aupdate("again", "m", [Generation(text="b")])
    await cache.aclear()
    assert _per_node(cluster_urls, prefix) == [0, 0, 0]
    await cache.aclose()


async def test_kvstore_on_a_cluster(cluster_urls: list[str]) -> None:
    prefix = f"tb_{uuid.uuid4().hex[:8]}:"
    kv = RedisKVStore(
        connection=ConnectionConfig(url=cluster_urls[0], cluster=True), key_prefix=prefix
    )
    pairs = [(f"k{i}", {"i": i}) for i in range(700)]
    for n in range(5):
        kv.put_all(pairs, collection=f"c{n}")
    await kv.aput_all(pairs, collection="async")
    assert sum(_per_node(cluster_urls, prefix)) == 6
    assert all(kv.get_all(f"c{n}") == dict(pairs) for n in range(5))
    assert await kv.aget_all("async") == dict(pairs)
    assert kv.delete("k1", collection="c0") and await kv.adelete("k2", collection="c1")
    for n in range(5):
        kv.delete_collection(f"c{n}")
    await kv.adelete_collection("async")
    assert _per_node(cluster_urls, prefix) == [0, 0, 0]
    await kv.aclose()
