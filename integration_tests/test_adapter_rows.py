"""The adapters' searches read hits as rows (`SearchIndex.search_rows`), not `Hit`s: for every
reply shape (RESP2 and RESP3, HASH and JSON, sync and async) the Documents and nodes must be
exactly what was stored, in the order numpy's exact search gives, with the distances it computes.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aredis
from _langchain_support import TableEmbeddings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore

DIMS = 6
N = 24
rng = np.random.default_rng(5)
VECTORS = rng.normal(size=(N, DIMS))
VECTORS /= np.linalg.norm(VECTORS, axis=1, keepdims=True)
TEXTS = [f"text {i} é ✓ {'x' * (i % 5)}" for i in range(N)]
METADATA: list[dict[str, Any]] = [
    {"category": ("a", "b", "c")[i % 3], "n": i, "nested": {"list": [i, "two", None]}, "ü": 1.5}
    for i in range(N)
]
QUERY = rng.normal(size=DIMS)
QUERY /= np.linalg.norm(QUERY)


def _truth(k: int) -> tuple[list[str], list[float]]:
    """The ids of the k nearest (cosine distance, FLAT: exact) and their distances."""
    d = 1.0 - VECTORS @ QUERY
    order = np.argsort(d, kind="stable")[:k]
    return [str(i) for i in order], [float(d[i]) for i in order]


@pytest.fixture(params=[(2, "hash"), (3, "hash"), (2, "json"), (3, "json")],
                ids=["resp2-hash", "resp3-hash", "resp2-json", "resp3-json"])  # fmt: skip
def setup(request: pytest.FixtureRequest, redis_url: str) -> tuple[int, str, str]:
    protocol, storage = request.param
    return protocol, storage, redis_url


def _clients(url: str, protocol: int) -> dict[str, Any]:
    return {
        "redis_client": redis.Redis.from_url(url, protocol=protocol),
        "async_client": aredis.Redis.from_url(url, protocol=protocol),
    }


def test_langchain_documents_are_what_was_stored(setup: tuple[int, str, str], names: Any) -> None:
    protocol, storage, url = setup
    store = LangChainStore(
        TableEmbeddings(dict(zip(TEXTS, VECTORS.tolist(), strict=True))),
        index_name=names.index,
        key_prefix=names.prefix,
        storage_type=storage,
        algorithm="FLAT",
        metadata_schema=[{"name": "category", "type": "tag"}],
        **_clients(url, protocol),
    )
    store.add_texts(TEXTS, METADATA, ids=[str(i) for i in range(N)])
    ids, distances = _truth(7)
    for scored in (
        store.similarity_search_with_score_by_vector(QUERY.tolist(), k=7),
        asyncio.run(store.asimilarity_search_with_score_by_vector(QUERY.tolist(), k=7)),
    ):
        assert [doc.id for doc, _ in scored] == ids
        np.testing.assert_allclose([s for _, s in scored], distances, atol=1e-6)
        for doc, _ in scored:
            i = int(doc.id or "")
            assert (doc.page_content, doc.metadata) == (TEXTS[i], METADATA[i])
    only_b = store.similarity_search_by_vector(QUERY.tolist(), k=N, filter={"category": "b"})
    assert [d.id for d in only_b] == [i for i in _truth(N)[0] if int(i) % 3 == 1]
    store.close()


def test_llama_index_nodes_are_what_was_stored(setup: tuple[int, str, str], names: Any) -> None:
    """Plain nodes (copies of one template) and nodes with relationships (validated each)."""
    protocol, storage, url = setup
    store = LlamaStore(
        index_name=names.index,
        key_prefix=names.prefix,
        storage_type=storage,
        algorithm="FLAT",
        metadata_schema=[{"name": "category", "type": "tag"}],
        **_clients(url, protocol),
    )
    nodes = []
    for i in range(N):
        node = TextNode(id_=str(i), text=TEXTS[i], metadata=METADATA[i],
                        embedding=VECTORS[i].tolist())  # fmt: skip
        if i % 2:
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=f"doc{i % 4}")
            node.start_char_idx, node.end_char_idx = i, i + 10
        nodes.append(node)
    store.add(nodes[:-2])
    # the last two as another tool writes them: no node JSON, a document id (-> SOURCE)
    client = redis.Redis.from_url(url)
    for i in (N - 2, N - 1):
        fields = {"text": TEXTS[i], "metadata": json.dumps(METADATA[i]), "doc_id": f"doc{i % 4}",
                  "category": METADATA[i]["category"]}  # fmt: skip
        if storage == "json":
            client.json().set(
                f"{names.prefix}{i}", "$", {**fields, "embedding": VECTORS[i].tolist()}
            )
        else:
            client.hset(
                f"{names.prefix}{i}",
                mapping={**fields, "embedding": VECTORS[i].astype(np.float32).tobytes()},
            )
        nodes[i] = TextNode(id_=str(i), text=TEXTS[i], metadata=METADATA[i], relationships={
            NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"doc{i % 4}")})  # fmt: skip
    client.close()
    ids, distances = _truth(N)
    query = VectorStoreQuery(query_embedding=QUERY.tolist(), similarity_top_k=N)
    for result in (store.query(query), asyncio.run(store.aquery(query))):
        assert result.ids == ids
        # cosine relevance: 1 - distance, clipped to [0, 1] (docs/core.md)
        relevance = [min(1.0, max(0.0, 1 - d)) for d in distances]
        np.testing.assert_allclose(result.similarities or [], relevance, atol=1e-6)
        for got in result.nodes:
            want = nodes[int(got.node_id)].model_copy(update={"embedding": None})
            assert got == want and got.model_dump() == want.model_dump()
            i = int(got.node_id)
            assert got.ref_doc_id == (f"doc{i % 4}" if i % 2 or i >= N - 2 else None)
    store.close()
