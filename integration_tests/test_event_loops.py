"""Async stores work from any event loop (issue "Nothing lost, nothing leaked", item 10).

An asyncio client belongs to the loop its connections were opened in; each ``asyncio.run`` makes a
new loop and closes it, so a store that kept one async client failed every other call with "Event
loop is closed". Here both adapters run several ``asyncio.run`` in a row, with sync calls in
between, and every answer is compared with a numpy brute force over the same vectors. A client the
user gave is never closed by the store.
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import redis.asyncio as aredis
from _langchain_support import TableEmbeddings
from conftest import Names
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from redisvec.connection import Connections
from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore

DIMS = 8
N = 30
VECTORS = np.random.default_rng(10).standard_normal((N, DIMS))
QUERIES = np.random.default_rng(11).standard_normal((6, DIMS))
K = 4


def _nearest(q: np.ndarray, k: int = K) -> list[str]:
    """Cosine ground truth, independent of redisvec."""
    cos = (VECTORS @ q) / (np.linalg.norm(VECTORS, axis=1) * np.linalg.norm(q))
    return [f"d{i}" for i in np.argsort(-cos, kind="stable")[:k]]


def _embeddings() -> TableEmbeddings:
    table = {f"d{i}": VECTORS[i] for i in range(N)}
    table.update({f"q{j}": QUERIES[j] for j in range(len(QUERIES))})
    return TableEmbeddings(table)


def test_langchain_async_calls_in_successive_event_loops(redis_url: str, names: Names) -> None:
    store = LangChainStore(
        _embeddings(), index_name=names.index, redis_url=redis_url, key_prefix=names.prefix
    )
    texts = [f"d{i}" for i in range(N)]
    asyncio.run(store.aadd_texts(texts[:15], ids=texts[:15]))  # creates the index in loop 1
    store.add_texts(texts[15:], ids=texts[15:])  # sync in between
    for j in range(len(QUERIES)):
        docs = asyncio.run(store.asimilarity_search(f"q{j}", k=K))
        assert [d.page_content for d in docs] == _nearest(QUERIES[j])
        sync_docs = store.similarity_search(f"q{j}", k=K)
        assert [d.page_content for d in sync_docs] == _nearest(QUERIES[j])
    assert asyncio.run(store.adelete(["d0"])) is True
    remaining = asyncio.run(store.aget_by_ids(texts[:3]))
    assert sorted(d.page_content for d in remaining) == ["d1", "d2"]


def _llama_query(j: int) -> VectorStoreQuery:
    return VectorStoreQuery(query_embedding=list(QUERIES[j]), similarity_top_k=K)


def test_llama_index_async_calls_in_successive_event_loops(redis_url: str, names: Names) -> None:
    store = LlamaStore(index_name=names.index, redis_url=redis_url, key_prefix=names.prefix)
    nodes = [TextNode(id_=f"d{i}", text=f"d{i}", embedding=list(VECTORS[i])) for i in range(N)]
    asyncio.run(store.async_add(nodes[:15]))
    store.add(nodes[15:])
    for j in range(len(QUERIES)):
        result = asyncio.run(store.aquery(_llama_query(j)))
        assert result.ids == _nearest(QUERIES[j])
        assert store.query(_llama_query(j)).ids == _nearest(QUERIES[j])
    asyncio.run(store.adelete_nodes(["d0"]))
    assert asyncio.run(store.aget_nodes(["d0", "d1"]))[0].node_id == "d1"


def test_a_given_async_client_is_used_in_its_loop_and_never_closed(
    redis_url: str, names: Names
) -> None:
    own_loop = asyncio.new_event_loop()
    try:
        given = aredis.Redis.from_url(redis_url)
        store = LangChainStore(
            _embeddings(),
            index_name=names.index,
            async_client=given,
            key_prefix=names.prefix,
        )
        texts = [f"d{i}" for i in range(N)]

        async def add_and_search() -> list[str]:
            await store.aadd_texts(texts, ids=texts)
            return [d.page_content for d in await store.asimilarity_search("q0", k=K)]

        assert own_loop.run_until_complete(add_and_search()) == _nearest(QUERIES[0])
        connections = store._managed.connections
        assert own_loop.run_until_complete(_current(connections)) is given
        for j in range(1, 4):  # other loops: a twin each, the given client untouched
            docs = asyncio.run(store.asimilarity_search(f"q{j}", k=K))
            assert [d.page_content for d in docs] == _nearest(QUERIES[j])
        own_loop.run_until_complete(store._managed.connections.aclose())
        # The store's aclose closed what it made, not the user's client: it still works.
        assert own_loop.run_until_complete(given.ping()) is True
        docs = own_loop.run_until_complete(store.asimilarity_search("q5", k=K))
        assert [d.page_content for d in docs] == _nearest(QUERIES[5])
        own_loop.run_until_complete(given.aclose())
    finally:
        own_loop.close()


async def _current(connections: Connections) -> Any:
    return connections.async_


def test_connections_hand_each_loop_its_own_client_and_drop_closed_loops(redis_url: str) -> None:
    connections = Connections(redis_url)

    async def use() -> Any:
        client = connections.async_
        assert connections.async_ is client  # one per loop, not one per call
        assert await client.ping() is True
        return client

    first = asyncio.run(use())
    second = asyncio.run(use())
    assert first is not second
    # The first loop is closed: its client is no longer held (nor counted as one to close).
    assert first not in connections._owned and second in connections._owned
    loop = asyncio.new_event_loop()
    try:
        third = loop.run_until_complete(use())
        assert loop.run_until_complete(use()) is third  # the same loop again: the same client
        loop.run_until_complete(connections.aclose())
        assert third not in connections._owned
    finally:
        loop.close()
