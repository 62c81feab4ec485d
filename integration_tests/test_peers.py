"""Indexes written in the official integrations' own layouts, served by both redisvec adapters.

langchain-redis and llama-index-vector-stores-redis cannot be installed next to redisvec, so each
test writes their documents with raw redis-py exactly as their sources do (FT.CREATE / HSET, field
by field; LlamaIndex's ``node_to_metadata_dict`` is llama-index-core's, which that package calls).
Ground truth is the plain Python data the documents were built from.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
import redis
from langchain_core.embeddings import Embeddings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from llama_index.core.vector_stores.utils import metadata_dict_to_node, node_to_metadata_dict

from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore
from redisvec.peers import MigrationProgress, migrate

DIMS = 4


class RaisingEmbeddings(Embeddings):
    """Reading, filtering, deleting and migrating must never embed anything."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("embed_documents called")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("embed_query called")


class TableEmbeddings(Embeddings):
    def __init__(self, table: dict[str, list[float]]) -> None:
        self.table = table

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]


def vec(i: int) -> list[float]:
    rng = np.random.default_rng(i)
    return [float(x) for x in rng.random(DIMS, dtype=np.float32)]


def blob(v: list[float]) -> bytes:
    return np.asarray(v, dtype=np.float32).tobytes()


def nearest(query: list[float], vectors: dict[str, list[float]], k: int) -> list[str]:
    """Ids by cosine distance, computed independently with numpy."""
    q = np.asarray(query, dtype=np.float64)

    def dist(v: list[float]) -> float:
        a = np.asarray(v, dtype=np.float64)
        return float(1 - a @ q / (np.linalg.norm(a) * np.linalg.norm(q)))

    return sorted(vectors, key=lambda i: dist(vectors[i]))[:k]


# -- langchain-redis ---------------------------------------------------------------------------

LC_META: dict[str, dict[str, Any]] = {
    "a": {"n": 1, "score": 2.5, "tags": ["x", "y"], "source": "a.txt"},
    "b": {"n": 2, "score": 0.5, "tags": ["y"], "source": "b.txt"},
    "c": {"n": 3, "score": 1.0, "tags": ["z", "x"], "source": "c.txt"},
    "01J0ULIDLIKEAUTOID": {"n": 10, "score": 3.0, "tags": ["q"], "source": "auto.txt"},
}


def write_langchain_redis(client: redis.Redis, name: str) -> dict[str, list[float]]:
    """An index as langchain-redis' RedisVectorStore creates it (default schema, legacy key
    format: FT prefix ``<name>:``) with ``metadata_schema`` tags / n, and its add_texts records."""
    client.execute_command(
        "FT.CREATE", name, "ON", "HASH", "PREFIX", 1, f"{name}:", "SCHEMA",
        "text", "TEXT", "WEIGHT", 1,
        "embedding", "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", DIMS, "DISTANCE_METRIC",
        "COSINE",
        "_index_name", "TEXT", "WEIGHT", 1,
        "_metadata_json", "TEXT", "WEIGHT", 1,
        "tags", "TAG", "SEPARATOR", "|",
        "n", "NUMERIC",
    )  # fmt: skip
    vectors = {}
    for i, (doc_id, metadata) in enumerate(LC_META.items()):
        record: dict[str, Any] = {
            "text": f"text of {doc_id}",
            "embedding": blob(vec(i)),
            "_index_name": name,
            "_metadata_json": json.dumps(metadata),
        }
        for key, value in metadata.items():
            record[key] = "|".join(value) if isinstance(value, list) else value
        client.hset(f"{name}:{doc_id}", mapping=record)
        vectors[doc_id] = vec(i)
    return vectors


def langchain_redis_knn(client: redis.Redis, name: str, vector: list[float], k: int) -> list[str]:
    """langchain-redis' own similarity search query (redisvl VectorQuery with its _index_name
    filter), as keys."""
    reply = client.execute_command(
        "FT.SEARCH", name,
        f'(@_index_name:("{name}"))=>[KNN {k} @embedding $vector AS vector_distance]',
        "RETURN", 2, "text", "vector_distance", "SORTBY", "vector_distance", "ASC",
        "DIALECT", 2, "LIMIT", 0, k, "PARAMS", 2, "vector", blob(vector),
    )  # fmt: skip
    return reply_keys(reply)


def reply_keys(reply: Any) -> list[str]:
    """The keys of an FT.SEARCH reply, RESP2 or RESP3."""
    if isinstance(reply, dict):
        rows = reply.get(b"results", reply.get("results", []))
        return [(r.get(b"id") or r.get("id")).decode() for r in rows]
    step = 1 if len(reply) < 3 or isinstance(reply[2], bytes) else 2
    return [key.decode() for key in reply[1::step]]


def test_langchain_redis_index_through_langchain_adapter(
    client: redis.Redis, redis_url: str, names: Any
) -> None:
    vectors = write_langchain_redis(client, names.index)
    store = LangChainStore(RaisingEmbeddings(), index_name=names.index, redis_url=redis_url)
    hits = store.similarity_search_with_score_by_vector(vec(0), k=4)
    assert [d.id for d, _ in hits] == nearest(vec(0), vectors, 4)
    for doc, _ in hits:
        assert doc.page_content == f"text of {doc.id}"
        assert doc.metadata == LC_META[doc.id]  # types kept: int, float, list; no bookkeeping
    assert store.layout.peer == "langchain-redis"
    # filters on the writer's indexed fields
    tagged = store.similarity_search_by_vector(vec(0), k=10, filter={"tags": "x"})
    assert sorted(d.id for d in tagged) == sorted(i for i, m in LC_META.items() if "x" in m["tags"])
    big = store.similarity_search_by_vector(vec(0), k=10, filter={"n": {"$gte": 2}})
    assert sorted(d.id for d in big) == sorted(i for i, m in LC_META.items() if m["n"] >= 2)
    got = store.get_by_ids(["b", "missing", "01J0ULIDLIKEAUTOID"])
    assert [(d.id, d.metadata) for d in got] == [
        ("b", LC_META["b"]),
        ("01J0ULIDLIKEAUTOID", LC_META["01J0ULIDLIKEAUTOID"]),
    ]
    store.delete(["b"])
    assert not client.exists(f"{names.index}:b")

    # documents redisvec adds are written in langchain-redis' layout
    table = {"new text": vec(100)}
    writer = LangChainStore(TableEmbeddings(table), index_name=names.index, redis_url=redis_url)
    meta = {"n": 7, "score": 9.5, "tags": ["p", "q"], "source": "new.txt"}
    assert writer.add_texts(["new text"], [meta], ids=["new1"]) == ["new1"]
    raw = {k.decode(): v for k, v in client.hgetall(f"{names.index}:new1").items()}
    assert raw["_index_name"] == names.index.encode()
    assert json.loads(raw["_metadata_json"]) == meta
    assert raw["tags"] == b"p|q" and raw["n"] == b"7" and raw["text"] == b"new text"
    assert raw["embedding"] == blob(vec(100))
    # langchain-redis' own query finds them
    assert f"{names.index}:new1" in langchain_redis_knn(client, names.index, vec(100), 10)
    found = store.similarity_search_by_vector(vec(100), k=1, filter={"tags": "q"})
    assert [(d.id, d.metadata) for d in found] == [("new1", meta)]


def test_langchain_redis_index_through_llama_adapter(
    client: redis.Redis, redis_url: str, names: Any
) -> None:
    vectors = write_langchain_redis(client, names.index)
    store = LlamaStore(index_name=names.index, redis_url=redis_url)
    result = store.query(VectorStoreQuery(query_embedding=vec(1), similarity_top_k=3))
    assert result.ids == nearest(vec(1), vectors, 3)
    for node in result.nodes:
        assert node.metadata == LC_META[node.node_id]
        assert node.get_content() == f"text of {node.node_id}"
    filters = MetadataFilters(filters=[MetadataFilter(key="tags", value="z")])
    only = store.query(
        VectorStoreQuery(query_embedding=vec(1), similarity_top_k=5, filters=filters)
    )
    assert only.ids == ["c"]
    store.delete_nodes(["a"])
    assert not client.exists(f"{names.index}:a")
    node = TextNode(id_="n9", text="from llama", embedding=vec(9), metadata={"n": 5, "tags": "x"})
    store.add([node])
    assert f"{names.index}:n9" in langchain_redis_knn(client, names.index, vec(9), 10)
    assert json.loads(client.hget(f"{names.index}:n9", "_metadata_json") or b"") == node.metadata


# -- llama-index-vector-stores-redis -----------------------------------------------------------


def llama_nodes() -> list[TextNode]:
    nodes = []
    for i in range(6):
        doc = f"doc{i % 3}"
        nodes.append(
            TextNode(
                id_=f"node-{i}",
                text=f"node text {i}",
                embedding=vec(200 + i),
                metadata={"year": 2019 + i, "kind": "even" if i % 2 == 0 else "odd", "w": i / 4},
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
            )
        )
    return nodes


def write_llama_index(client: redis.Redis, name: str, prefix: str) -> list[TextNode]:
    """An index as llama-index-vector-stores-redis creates it from a custom schema (its required
    id / doc_id / text / vector fields, plus year and kind; key separator ``_``), and its add()
    records: node_to_metadata_dict(node, remove_text=True) plus the four fields."""
    client.execute_command(
        "FT.CREATE", name, "ON", "HASH", "PREFIX", 1, prefix, "SCHEMA",
        "id", "TAG", "SEPARATOR", ",",
        "doc_id", "TAG", "SEPARATOR", ",",
        "text", "TEXT", "WEIGHT", 1,
        "vector", "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", DIMS, "DISTANCE_METRIC", "COSINE",
        "year", "NUMERIC",
        "kind", "TAG", "SEPARATOR", ",",
    )  # fmt: skip
    nodes = llama_nodes()
    for node in nodes:
        record: dict[str, Any] = {
            "id": node.node_id,
            "doc_id": node.ref_doc_id,
            "text": node.get_content(),
            "vector": blob(node.get_embedding()),
        }
        record.update(node_to_metadata_dict(node, remove_text=True, flat_metadata=False))
        client.hset(f"{prefix}_{node.node_id}", mapping=record)
    return nodes


def test_llama_index_layout_through_llama_adapter(
    client: redis.Redis, redis_url: str, names: Any
) -> None:
    prefix = f"{names.prefix}llama/vector"
    nodes = write_llama_index(client, names.index, prefix)
    by_id = {n.node_id: n for n in nodes}
    vectors = {n.node_id: n.get_embedding() for n in nodes}
    store = LlamaStore(index_name=names.index, redis_url=redis_url)
    result = store.query(VectorStoreQuery(query_embedding=vec(202), similarity_top_k=6))
    assert result.ids == nearest(vec(202), vectors, 6)  # node ids, not keys
    for node in result.nodes:
        want = by_id[node.node_id]
        assert node.get_content() == want.get_content()
        assert node.metadata == want.metadata  # year int, w float; no _node_content / doc_id
        assert node.ref_doc_id == want.ref_doc_id
        assert node.relationships == want.relationships
    assert store.layout.peer == "llama-index-vector-stores-redis"
    years = MetadataFilters(
        filters=[MetadataFilter(key="year", value=2022, operator=FilterOperator.GTE)]
    )
    hit = store.query(VectorStoreQuery(query_embedding=vec(0), similarity_top_k=10, filters=years))
    assert sorted(hit.ids) == sorted(n.node_id for n in nodes if n.metadata["year"] >= 2022)
    got = store.get_nodes(node_ids=["node-1", "node-4"])
    assert sorted((n.node_id, n.ref_doc_id) for n in got) == [
        ("node-1", "doc1"),
        ("node-4", "doc1"),
    ]
    assert next(n.embedding for n in got if n.node_id == "node-1") == pytest.approx(
        vectors["node-1"]
    )

    store.delete("doc1")  # by ref_doc_id, on the writer's doc_id tag field
    assert not client.exists(f"{prefix}_node-1") and not client.exists(f"{prefix}_node-4")
    store.delete_nodes(["node-0"])
    assert not client.exists(f"{prefix}_node-0")
    left = sorted(n.node_id for n in store.get_nodes())
    assert left == ["node-2", "node-3", "node-5"]

    # nodes redisvec adds are written in LlamaIndex's layout
    new = TextNode(
        id_="fresh",
        text="fresh text",
        embedding=vec(300),
        metadata={"year": 2030, "kind": "odd"},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="docN")},
    )
    assert store.add([new]) == ["fresh"]
    raw = {k.decode(): v for k, v in client.hgetall(f"{prefix}_fresh").items()}
    assert raw["id"] == b"fresh" and raw["doc_id"] == b"docN" and raw["year"] == b"2030"
    # what LlamaIndex's own reader makes of it
    theirs = metadata_dict_to_node(
        {"_node_content": raw["_node_content"].decode(), "_node_type": raw["_node_type"].decode()}
    )
    assert theirs.node_id == "fresh" and theirs.ref_doc_id == "docN"
    assert theirs.metadata == new.metadata
    # LlamaIndex's own delete(ref_doc_id) query finds it
    reply = client.execute_command("FT.SEARCH", names.index, "@doc_id:{docN}", "NOCONTENT")
    assert reply_keys(reply) == [f"{prefix}_fresh"]


def test_llama_index_layout_through_langchain_adapter(
    client: redis.Redis, redis_url: str, names: Any
) -> None:
    prefix = f"{names.prefix}llama/vector"
    nodes = write_llama_index(client, names.index, prefix)
    by_id = {n.node_id: n for n in nodes}
    store = LangChainStore.from_existing_index(
        RaisingEmbeddings(), index_name=names.index, redis_url=redis_url
    )
    hits = store.similarity_search_by_vector(vec(203), k=6, filter={"kind": "odd"})
    assert sorted(d.id for d in hits) == ["node-1", "node-3", "node-5"]
    for doc in hits:
        assert doc.metadata == by_id[doc.id].metadata
        assert doc.page_content == by_id[doc.id].get_content()
    store.delete(["node-3"])
    assert not client.exists(f"{prefix}_node-3")
    writer = LangChainStore(
        TableEmbeddings({"lc text": vec(400)}), index_name=names.index, redis_url=redis_url
    )
    writer.add_texts(["lc text"], [{"year": 2040, "kind": "odd"}], ids=["lc1"])
    raw = {k.decode(): v for k, v in client.hgetall(f"{prefix}_lc1").items()}
    assert raw["id"] == b"lc1" and raw["doc_id"] == b"None"
    theirs = metadata_dict_to_node({"_node_content": raw["_node_content"].decode()})
    assert theirs.node_id == "lc1" and theirs.metadata == {"year": 2040, "kind": "odd"}
    llama = LlamaStore(index_name=names.index, redis_url=redis_url)
    (back,) = llama.get_nodes(node_ids=["lc1"])
    assert back.get_content() == "lc text" and back.metadata == {"year": 2040, "kind": "odd"}


# -- migration to redisvec's own layout ---------------------------------------------------------


def test_migrate_10000_langchain_redis_documents_interrupted_and_resumed(
    client: redis.Redis, redis_url: str, names: Any
) -> None:
    source = f"{names.prefix}src"  # an index name with a colon: its keys stay under names.prefix
    client.execute_command(
        "FT.CREATE", source, "ON", "HASH", "PREFIX", 1, f"{source}:", "SCHEMA",
        "text", "TEXT", "embedding", "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", DIMS,
        "DISTANCE_METRIC", "COSINE", "_index_name", "TEXT", "_metadata_json", "TEXT",
        "n", "NUMERIC", "tags", "TAG", "SEPARATOR", "|",
    )  # fmt: skip
    rng = np.random.default_rng(7)
    vectors = rng.random((10_000, DIMS), dtype=np.float32)
    truth: dict[str, tuple[str, dict[str, Any]]] = {}
    pipe = client.pipeline(transaction=False)
    for i in range(10_000):
        meta = {"n": i, "half": i / 2, "tags": [f"t{i % 7}", "all"], "name": f"doc {i}"}
        truth[f"id{i}"] = (f"text number {i}", meta)
        record = {
            "text": f"text number {i}",
            "embedding": vectors[i].tobytes(),
            "_index_name": source,
            "_metadata_json": json.dumps(meta),
            "n": i,
            "half": i / 2,
            "tags": "|".join(meta["tags"]),
            "name": meta["name"],
        }
        pipe.hset(f"{source}:id{i}", mapping=record)
    pipe.execute()
    target = f"{names.index}_migrated"
    target_prefix = f"{names.prefix}migrated:"

    seen: list[MigrationProgress] = []

    def interrupt(progress: MigrationProgress) -> None:
        seen.append(progress)
        if len(seen) == 3:
            raise KeyboardInterrupt("stopped by the user")

    with pytest.raises(KeyboardInterrupt):
        migrate(client, source, target, target_prefix=target_prefix, progress=interrupt)
    checkpoint = seen[-1].checkpoint
    assert checkpoint is not None and 0 < seen[-1].copied < 10_000
    assert seen[-1].total == 10_000
    resumed: list[MigrationProgress] = []
    migrate(
        client,
        source,
        target,
        target_prefix=target_prefix,
        resume_from=checkpoint,
        progress=resumed.append,
    )
    assert resumed[-1].checkpoint is None
    with pytest.raises(ValueError, match="overlap"):
        migrate(client, source, f"{names.index}_bad", target_prefix=f"{source}:sub:")

    store = LangChainStore(RaisingEmbeddings(), index_name=target, redis_url=redis_url)
    assert store.layout.peer is None and store.layout.metadata_field == "metadata"  # ours
    ids = list(truth)
    for start in range(0, len(ids), 1000):
        batch = ids[start : start + 1000]
        docs = store.get_by_ids(batch)
        assert [d.id for d in docs] == batch
        for doc in docs:
            assert (doc.page_content, doc.metadata) == truth[doc.id]
    assert store.index.count() == 10_000
    stored = store.index.fetch(["id0", "id9999"])
    assert stored[0] is not None and stored[1] is not None
    assert np.array_equal(stored[0]["embedding"], vectors[0])
    assert np.array_equal(stored[1]["embedding"], vectors[9999])
    tagged = store.similarity_search_by_vector(list(vectors[3]), k=3, filter={"tags": "t3"})
    assert next(d.id for d in tagged) == "id3"


def test_migrate_llama_index_layout_keeps_nodes(
    client: redis.Redis, redis_url: str, names: Any
) -> None:
    prefix = f"{names.prefix}llama/vector"
    nodes = write_llama_index(client, names.index, prefix)
    target = f"{names.index}_ours"
    assert migrate(client, names.index, target, target_prefix=f"{names.prefix}ours:") == 6
    store = LlamaStore(index_name=target, redis_url=redis_url)
    assert store.layout.peer is None
    got = {n.node_id: n for n in store.get_nodes()}
    assert sorted(got) == sorted(n.node_id for n in nodes)
    for want in nodes:
        node = got[want.node_id]
        assert node.get_content() == want.get_content() and node.metadata == want.metadata
        assert node.relationships == want.relationships
        assert node.embedding == pytest.approx(want.embedding)
    store.delete("doc2")
    assert sorted(n.node_id for n in store.get_nodes()) == sorted(
        n.node_id for n in nodes if n.ref_doc_id != "doc2"
    )


async def test_llama_index_lifecycle_spellings(redis_url: str, names: Any) -> None:
    store = LlamaStore(index_name=names.index, key_prefix=names.prefix, redis_url=redis_url)
    assert not store.index_exists() and not await store.async_index_exists()
    with pytest.raises(ValueError, match="dims="):
        store.create_index()
    sized = LlamaStore(
        index_name=names.index, key_prefix=names.prefix, dims=DIMS, redis_url=redis_url
    )
    sized.create_index()
    assert store.index_exists() and await store.async_index_exists()
    sized.add([TextNode(id_="x", text="t", embedding=vec(1))])
    sized.create_index(overwrite=True)  # dropped with its nodes, created again
    assert sized.get_nodes() == []
    await sized.async_delete_index()
    assert not store.index_exists()
