"""Issue "Nothing lost, nothing leaked", item 3: the index vanishes behind a store's back.

``FT.DROPINDEX`` (without DD) elsewhere, or a server restarted without persistence, used to leave
a store that "succeeded" writing records nothing indexed, and whose every search failed until a
new store was built. A store that creates its index now creates it again at the next write (which
also indexes the records still stored under its prefix); one opened on an existing index refuses
the write, naming the index, and writes nothing. Checked on both adapters, sync and async, with
the ids searches return compared with the ids written.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pytest
import redis
from _infra import free_port
from _langchain_support import TableEmbeddings
from conftest import Names

from redisvec import IndexNotFoundError
from redisvec.server import LocalRedis

N, DIMS = 30, 4
VECTORS = np.random.default_rng(11).normal(size=(N, DIMS)) + 0.5
TEXTS = [f"text {i}" for i in range(N)]
TABLE = dict(zip(TEXTS, VECTORS.tolist())) | {"q": VECTORS[0].tolist()}


def wait_indexed(client: redis.Redis, index: str) -> None:
    """Until the background scan of a (re)created index is over."""
    for _ in range(500):
        info = client.execute_command("FT.INFO", index)
        pairs = dict(zip(info[::2], info[1::2])) if isinstance(info, list) else info
        if int(float(pairs.get(b"indexing", pairs.get("indexing", 0)))) == 0:
            return
        time.sleep(0.01)
    raise AssertionError("the index never finished indexing")


def keys(client: redis.Redis, prefix: str) -> set[bytes]:
    return set(client.scan_iter(match=f"{prefix}*", count=1000))


def langchain_store(redis_url: str, names: Names) -> Any:
    from redisvec.langchain import RedisVectorStore

    return RedisVectorStore(
        TableEmbeddings(TABLE),
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        algorithm="FLAT",
    )


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_langchain_store_recreates_its_dropped_index_at_the_next_write(
    redis_url: str, names: Names, client: redis.Redis, flavour: str
) -> None:
    store = langchain_store(redis_url, names)
    try:
        first = [f"a{i}" for i in range(20)]
        store.add_texts(TEXTS[:20], ids=first)
        client.execute_command("FT.DROPINDEX", names.index)  # behind the store's back, no DD
        with pytest.raises(IndexNotFoundError):  # a search says so; it does not make one up
            store.similarity_search("q", k=N)
        second = [f"b{i}" for i in range(20, N)]
        if flavour == "sync":
            store.add_texts(TEXTS[20:], ids=second)
        else:
            await store.aadd_texts(TEXTS[20:], ids=second)
        wait_indexed(client, names.index)
        found = (
            store.similarity_search("q", k=2 * N)
            if flavour == "sync"
            else await store.asimilarity_search("q", k=2 * N)
        )
        # the records written before the drop are indexed again, with the new ones
        assert sorted(d.id for d in found) == sorted(first + second)
    finally:
        await store.aclose()


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_store_opened_on_an_existing_index_refuses_to_write_without_it(
    redis_url: str, names: Names, client: redis.Redis, flavour: str
) -> None:
    from redisvec.langchain import RedisVectorStore

    maker = langchain_store(redis_url, names)
    maker.add_texts(TEXTS[:10], ids=[f"a{i}" for i in range(10)])
    maker.close()
    store = RedisVectorStore.from_existing_index(
        TableEmbeddings(TABLE), index_name=names.index, redis_url=redis_url
    )
    try:
        client.execute_command("FT.DROPINDEX", names.index)
        before = keys(client, names.prefix)
        with pytest.raises(IndexNotFoundError, match=rf"{names.index}.*nothing was written"):
            if flavour == "sync":
                store.add_texts(TEXTS[10:], ids=[f"b{i}" for i in range(10, N)])
            else:
                await store.aadd_texts(TEXTS[10:], ids=[f"b{i}" for i in range(10, N)])
        assert keys(client, names.prefix) == before
        assert names.index.encode() not in client.execute_command("FT._LIST")
    finally:
        await store.aclose()


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_llama_index_store_recreates_its_dropped_index_at_the_next_write(
    redis_url: str, names: Names, client: redis.Redis, flavour: str
) -> None:
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from redisvec.llama_index import RedisVectorStore

    store = RedisVectorStore(
        index_name=names.index, key_prefix=names.prefix, redis_url=redis_url, algorithm="flat"
    )

    def nodes(lo: int, hi: int) -> list[TextNode]:
        return [TextNode(id_=f"n{i}", text=TEXTS[i], embedding=VECTORS[i].tolist())
                for i in range(lo, hi)]  # fmt: skip

    query = VectorStoreQuery(query_embedding=VECTORS[0].tolist(), similarity_top_k=2 * N)
    try:
        store.add(nodes(0, 20))
        client.execute_command("FT.DROPINDEX", names.index)
        with pytest.raises(IndexNotFoundError):
            store.query(query)
        if flavour == "sync":
            store.add(nodes(20, N))
        else:
            await store.async_add(nodes(20, N))
        wait_indexed(client, names.index)
        result = store.query(query) if flavour == "sync" else await store.aquery(query)
        assert sorted(result.ids or []) == sorted(f"n{i}" for i in range(N))
    finally:
        await store.aclose()


def test_a_server_restarted_without_persistence_gets_the_index_back_at_the_next_write(
    names: Names,
) -> None:
    port = free_port()
    server = LocalRedis(port=port).start()
    url = f"redis://127.0.0.1:{port}/0"
    store = langchain_store(url, names)
    try:
        store.add_texts(TEXTS[:10], ids=[f"a{i}" for i in range(10)])
        server.stop()
        server = LocalRedis(port=port).start()  # empty: no index, no data
        second = [f"b{i}" for i in range(10, N)]
        store.add_texts(TEXTS[10:], ids=second)
        with redis.Redis.from_url(url) as client:
            wait_indexed(client, names.index)
        assert sorted(d.id for d in store.similarity_search("q", k=2 * N)) == sorted(second)
    finally:
        store.close()
        server.stop()
