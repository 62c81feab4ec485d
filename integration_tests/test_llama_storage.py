"""LlamaIndex storage on the real server: the KV store (sync / async, collections, batches), the
document and index stores and the ingestion cache llama-index-core builds on it, and an
IngestionPipeline with UPSERTS that runs entirely on one Redis."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pytest
import redis
from llama_index.core import Document
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.data_structs.data_structs import IndexDict
from llama_index.core.ingestion import DocstoreStrategy, IngestionCache, IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import MetadataMode, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from redisvec.llama_index import (
    RedisDocumentStore,
    RedisIndexStore,
    RedisKVStore,
    RedisVectorStore,
)

DIMS = 32


class CountingEmbedding(BaseEmbedding):
    """Deterministic vectors from a hash of the text; counts every text it embeds."""

    calls: int = 0

    def _vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        v = np.random.default_rng(seed).normal(size=DIMS)
        return (v / np.linalg.norm(v)).tolist()

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        self.calls += 1
        return self._vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self._vector(t) for t in texts]


def test_kvstore_sync(redis_url: str, names: Any, client: redis.Redis) -> None:
    kv = RedisKVStore(redis_url, key_prefix=names.prefix)
    assert kv.get("a") is None and kv.get_all() == {}
    kv.put("a", {"x": 1, "nested": {"y": [1, 2]}, "text": "héllo"})
    kv.put("a", {"x": 2}, collection="other")
    assert kv.get("a") == {"x": 1, "nested": {"y": [1, 2]}, "text": "héllo"}
    assert kv.get("a", collection="other") == {"x": 2}
    pairs = [(f"k{i}", {"i": i}) for i in range(1234)]
    kv.put_all(pairs, collection="many", batch_size=7)
    assert kv.get_all("many") == {k: v for k, v in pairs}
    assert kv.delete("k5", collection="many") and not kv.delete("k5", collection="many")
    assert len(kv.get_all("many")) == 1233
    # One HASH per collection, under the prefix: nothing else was written.
    assert sorted(k.decode() for k in client.scan_iter(match=f"{names.prefix}*")) == [
        f"{names.prefix}data",
        f"{names.prefix}many",
        f"{names.prefix}other",
    ]
    assert kv.delete_collection("many") and kv.get_all("many") == {}
    with pytest.raises(TypeError, match="must be a dict"):
        kv.put_all([("ok", {"a": 1}), ("bad", ["not", "a", "dict"])], collection="c")  # type: ignore[list-item]
    assert kv.get("ok", collection="c") is None  # nothing of a refused batch was written
    with pytest.raises(ValueError, match="collection must be a non-empty string"):
        kv.put("a", {}, collection="")


async def test_kvstore_async(redis_url: str, names: Any) -> None:
    kv = RedisKVStore(redis_url, key_prefix=names.prefix)
    await kv.aput("a", {"x": 1})
    assert await kv.aget("a") == {"x": 1}
    assert kv.get("a") == {"x": 1}  # the twins see one store
    await kv.aput_all([(f"k{i}", {"i": i}) for i in range(600)], collection="c")
    assert await kv.aget_all("c") == {f"k{i}": {"i": i} for i in range(600)}
    assert await kv.adelete("k1", collection="c") and not await kv.adelete("k1", collection="c")
    assert await kv.aget("k1", collection="c") is None
    await kv.aclose()


def test_reads_what_llama_index_storage_kvstore_redis_writes(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    """Its layout: HSET <collection> <key> <json> (written here by hand, as it does)."""
    collection = f"{names.prefix}docstore/data"
    client.hset(collection, "n1", '{"__data__": {"id_": "n1"}}')
    kv = RedisKVStore(redis_url)  # key_prefix "": its layout exactly
    assert kv.get("n1", collection=collection) == {"__data__": {"id_": "n1"}}


def test_docstore_and_index_store(redis_url: str, names: Any) -> None:
    kv = RedisKVStore(redis_url, key_prefix=names.prefix)
    docstore = RedisDocumentStore(kv, namespace="ds")
    nodes = [TextNode(text=f"node {i}", id_=f"n{i}") for i in range(5)]
    docstore.add_documents(nodes)
    assert set(docstore.docs) == {f"n{i}" for i in range(5)}
    assert docstore.get_node("n3").get_content() == "node 3"
    assert docstore.get_document_hash("n3") == nodes[3].hash
    docstore.delete_document("n3")
    assert not docstore.document_exists("n3") and docstore.document_exists("n2")
    # Reopened from the server alone.
    again = RedisDocumentStore.from_url(redis_url, namespace="ds", key_prefix=names.prefix)
    assert set(again.docs) == {"n0", "n1", "n2", "n4"}

    index_store = RedisIndexStore(kv, namespace="is")
    struct = IndexDict(index_id="idx1")
    struct.add_node(nodes[0])
    index_store.add_index_struct(struct)
    loaded = RedisIndexStore.from_url(redis_url, namespace="is", key_prefix=names.prefix)
    got = loaded.get_index_struct("idx1")
    assert isinstance(got, IndexDict) and got.nodes_dict == struct.nodes_dict
    assert [s.index_id for s in loaded.index_structs()] == ["idx1"]


def test_ingestion_cache(redis_url: str, names: Any) -> None:
    cache = IngestionCache(cache=RedisKVStore(redis_url, key_prefix=names.prefix), collection="c")
    nodes = [TextNode(text="a", id_="1"), TextNode(text="b", id_="2")]
    cache.put("h", nodes)
    assert [n.node_id for n in cache.get("h") or []] == ["1", "2"]
    cache.clear()
    assert cache.get("h") is None


def _documents(n: int, changed: dict[int, str] | None = None) -> list[Document]:
    changed = changed or {}
    return [
        Document(
            text=changed.get(i, f"Document {i}: the answer to question {i} is {i * 7 % 13}."),
            id_=f"doc-{i}",
            metadata={"n": i},
        )
        for i in range(n)
    ]


def _pipeline(redis_url: str, names: Any, embed: CountingEmbedding) -> IngestionPipeline:
    kv = RedisKVStore(redis_url, key_prefix=names.prefix + "kv:")
    return IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=256, chunk_overlap=0), embed],
        docstore=RedisDocumentStore(kv, namespace="ingest"),
        vector_store=RedisVectorStore(
            index_name=names.index, key_prefix=names.prefix + "vec:", redis_url=redis_url
        ),
        cache=IngestionCache(cache=kv, collection="ingest_cache"),
        docstore_strategy=DocstoreStrategy.UPSERTS,
    )


def _stored(store: RedisVectorStore) -> dict[str, tuple[str, str]]:
    """node id -> (ref doc id, text), read from the vector store."""
    nodes = store.get_nodes()
    return {n.node_id: (n.ref_doc_id or "", n.get_content()) for n in nodes}


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_pipeline_rerun_embeds_only_what_changed(
    redis_url: str, names: Any, is_async: bool
) -> None:
    async def run(docs: list[Document], embed: CountingEmbedding) -> list[Any]:
        pipeline = _pipeline(redis_url, names, embed)  # a new process: state only on the server
        if not is_async:
            return pipeline.run(documents=docs)
        try:
            return await pipeline.arun(documents=docs)
        finally:
            assert isinstance(pipeline.vector_store, RedisVectorStore)
            await pipeline.vector_store.aclose()
            assert pipeline.cache is not None and isinstance(pipeline.cache.cache, RedisKVStore)
            await pipeline.cache.cache.aclose()

    first = CountingEmbedding()
    nodes = await run(_documents(500), first)
    assert first.calls == 500 and len(nodes) == 500
    store = RedisVectorStore(index_name=names.index, redis_url=redis_url)
    before = _stored(store)
    assert len(before) == 500
    assert {ref for ref, _ in before.values()} == {f"doc-{i}" for i in range(500)}

    again = CountingEmbedding()
    assert await run(_documents(500), again) == []
    assert again.calls == 0
    assert _stored(store) == before

    changed = {7: "Document 7 was rewritten: the answer is now forty-two.", 300: "New text 300."}
    third = CountingEmbedding()
    await run(_documents(500, changed), third)
    assert third.calls == 2
    after = _stored(store)
    assert len(after) == 500
    old_ids = {nid for nid, (ref, _) in before.items() if ref in ("doc-7", "doc-300")}
    assert not old_ids & set(after)  # the old nodes are gone
    texts = {ref: text for ref, text in after.values()}
    assert texts["doc-7"] == changed[7] and texts["doc-300"] == changed[300]
    unchanged = {k: v for k, v in before.items() if k not in old_ids}
    assert {k: after[k] for k in unchanged} == unchanged
    # The query side finds the new text by its new embedding (what was embedded: with metadata).
    embedded = TextNode(text=changed[7], metadata={"n": 7}).get_content(MetadataMode.EMBED)
    query = CountingEmbedding()._vector(embedded)
    top = store.query(VectorStoreQuery(query_embedding=query, similarity_top_k=1))
    assert top.nodes is not None and top.nodes[0].get_content() == changed[7]
    store.delete_index()


@pytest.mark.parametrize("run", ["sync", "async"])
async def test_add_writes_a_batch_at_a_time_with_progress(
    redis_url: str, names: Any, run: str
) -> None:
    vectors = np.random.default_rng(3).random((130, 4), dtype=np.float32) + 0.01
    nodes = [
        TextNode(id_=f"n{i}", text=f"node {i}", embedding=v.tolist(), metadata={"i": i})
        for i, v in enumerate(vectors)
    ]
    store = RedisVectorStore(
        redis_url=redis_url, index_name=names.index, key_prefix=names.prefix, batch_size=50
    )
    settled: list[int] = []
    if run == "sync":
        ids = store.add(nodes, progress=settled.append)
    else:
        ids = await store.async_add(nodes, progress=settled.append)
    assert ids == [n.node_id for n in nodes] and settled == [50, 50, 30]
    got = store.get_nodes(node_ids=["n0", "n77", "n129"])
    assert [n.node_id for n in got] == ["n0", "n77", "n129"]
    for node in got:  # ground truth: the vector and metadata each node was added with
        i = node.metadata["i"]
        np.testing.assert_array_equal(np.asarray(node.embedding, dtype=np.float32), vectors[i])
    # a node without an embedding stops the load before its batch: the batches before stay
    broken = [n.model_copy() for n in nodes]
    broken[120].embedding = None
    store.clear()
    with pytest.raises(ValueError, match="'n120' has no embedding"):
        store.add(broken)
    assert len(store.get_nodes(node_ids=[n.node_id for n in nodes])) == 100
    store.close()
    await store.aclose()
