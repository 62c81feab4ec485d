"""Metadata updates through the adapters (``update_metadata`` / ``aupdate_metadata`` of the
LangChain and the LlamaIndex store) against the real server, HASH and JSON.

Ground truth is what the test set: the metadata each document was written with, changed in plain
Python the way the update is documented (merge, None removes a key). Each update is read back
three ways: the documents by id, a filter on the updated key, and a vector search (all documents,
so each hit's metadata is checked). Nothing may be embedded again.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from redisvec.errors import SchemaError
from redisvec.filters import Num, Tag
from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore

N, DIMS = 60, 8
VECTORS = np.random.default_rng(21).normal(size=(N, DIMS)).astype(np.float32)
COLORS = ["red", "blue", "green"]
SCHEMA = [{"name": "color", "type": "tag"}, {"name": "year", "type": "numeric"}]


def _metadata() -> list[dict[str, Any]]:
    return [{"color": COLORS[i % 3], "year": 2000 + i, "i": i} for i in range(N)]


class NoReembedding(TableEmbeddings):
    """After `freeze`, any embedding call fails the test."""

    frozen = False

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        assert not self.frozen, "embed_documents called by a metadata update"
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return super().embed_query(text)


@pytest.fixture(params=["hash", "json"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _ids_where(expected: list[dict[str, Any]], key: str, value: Any) -> set[int]:
    return {i for i, m in enumerate(expected) if m.get(key) == value}


def _apply(expected: list[dict[str, Any]], rows: set[int], changes: dict[str, Any]) -> None:
    for i in rows:
        for key, value in changes.items():
            if value is None:
                expected[i].pop(key, None)
            else:
                expected[i][key] = value


# -- LangChain ---------------------------------------------------------------------------------


@pytest.fixture
def lc_store(redis_url: str, names: Any, storage: str) -> Iterator[LangChainStore]:
    texts = [f"doc {i}" for i in range(N)]
    embeddings = NoReembedding(dict(zip(texts, VECTORS.tolist())) | {"q": VECTORS[0].tolist()})
    store = LangChainStore(
        embeddings, index_name=names.index, redis_url=redis_url, key_prefix=names.prefix,
        metadata_schema=SCHEMA, storage_type=storage, algorithm="flat",
    )  # fmt: skip
    store.add_texts(texts, _metadata(), ids=[f"d{i}" for i in range(N)])
    embeddings.frozen = True
    yield store
    store.close()


def _lc_check(store: LangChainStore, expected: list[dict[str, Any]]) -> None:
    docs = store.get_by_ids([f"d{i}" for i in range(N)])
    assert [d.metadata for d in docs] == expected
    for i, (doc, _) in enumerate(store.similarity_search_with_score("q", k=N)):
        assert doc.metadata == expected[int(doc.id[1:])], i


def test_langchain_update_metadata_by_ids_and_by_filter(lc_store: LangChainStore) -> None:
    expected = _metadata()
    assert lc_store.update_metadata(["d1", "d2", "nope"], {"color": "purple", "note": "x"}) == 2
    _apply(expected, {1, 2}, {"color": "purple", "note": "x"})
    hits = lc_store.similarity_search("q", k=N, filter=Tag("color") == "purple")
    assert {d.id for d in hits} == {"d1", "d2"}
    hits = lc_store.similarity_search("q", k=N, filter={"color": "purple"})  # LangChain's dict
    assert {d.id for d in hits} == {"d1", "d2"}

    blue = _ids_where(expected, "color", "blue")
    assert lc_store.update_metadata(None, {"year": 1900, "i": None}, filter={"color": "blue"}) == (
        len(blue)
    )
    _apply(expected, blue, {"year": 1900, "i": None})
    hits = lc_store.similarity_search("q", k=N, filter=Num("year") == 1900)
    assert {int(d.id[1:]) for d in hits} == blue
    assert not lc_store.similarity_search("q", k=N, filter=Num("year") == 2004)  # d4 is blue
    _lc_check(lc_store, expected)

    with pytest.raises(ValueError, match="ids or filter"):
        lc_store.update_metadata(["d1"], {"color": "x"}, filter={"color": "red"})
    with pytest.raises(TypeError, match="list of ids"):
        lc_store.update_metadata("d1", {"color": "x"})  # type: ignore[arg-type]


async def test_langchain_aupdate_metadata(lc_store: LangChainStore) -> None:
    expected = _metadata()
    assert await lc_store.aupdate_metadata(["d3"], {"color": "purple"}) == 1
    _apply(expected, {3}, {"color": "purple"})
    red = _ids_where(expected, "color", "red")
    assert await lc_store.aupdate_metadata(None, {"color": None}, filter=Tag("color") == "red") == (
        len(red)
    )
    _apply(expected, red, {"color": None})
    hits = await lc_store.asimilarity_search("q", k=N, filter=Tag("color") == "purple")
    assert [d.id for d in hits] == ["d3"]
    assert not await lc_store.asimilarity_search("q", k=N, filter=Tag("color") == "red")
    _lc_check(lc_store, expected)


# -- LlamaIndex --------------------------------------------------------------------------------


@pytest.fixture
def llama_store(redis_url: str, names: Any, storage: str) -> Iterator[LlamaStore]:
    store = LlamaStore(
        index_name=names.index, redis_url=redis_url, key_prefix=names.prefix,
        metadata_schema=SCHEMA, storage_type=storage, algorithm="flat",
    )  # fmt: skip
    source = {NodeRelationship.SOURCE: RelatedNodeInfo(node_id="book")}
    store.add(
        [
            TextNode(
                id_=f"n{i}",
                text=f"node {i}",
                embedding=VECTORS[i].tolist(),
                metadata=m,
                relationships=source,
            )
            for i, m in enumerate(_metadata())
        ]
    )
    yield store
    store.close()


def _color(value: str) -> MetadataFilters:
    return MetadataFilters(filters=[MetadataFilter(key="color", value=value)])


def _llama_check(store: LlamaStore, expected: list[dict[str, Any]]) -> None:
    nodes = {n.node_id: n for n in store.get_nodes([f"n{i}" for i in range(N)])}
    assert {k: n.metadata for k, n in nodes.items()} == {f"n{i}": m for i, m in enumerate(expected)}
    assert {n.ref_doc_id for n in nodes.values()} == {"book"}  # relationships kept
    found = store.query(VectorStoreQuery(query_embedding=VECTORS[0].tolist(), similarity_top_k=N))
    assert found.nodes is not None and len(found.nodes) == N
    for node in found.nodes:
        assert node.metadata == expected[int(node.node_id[1:])]
        assert node.get_content() == f"node {node.node_id[1:]}"


def _query_ids(store: LlamaStore, filters: MetadataFilters) -> set[str]:
    query = VectorStoreQuery(
        query_embedding=VECTORS[0].tolist(), similarity_top_k=N, filters=filters
    )
    return set(store.query(query).ids or [])


def test_llama_update_metadata_by_node_ids_and_by_filters(llama_store: LlamaStore) -> None:
    expected = _metadata()
    assert llama_store.update_metadata(["n1", "n2", "nope"], {"color": "purple", "x": [1]}) == 2
    _apply(expected, {1, 2}, {"color": "purple", "x": [1]})
    assert _query_ids(llama_store, _color("purple")) == {"n1", "n2"}

    green = _ids_where(expected, "color", "green")
    assert llama_store.update_metadata(None, {"year": 1800}, filters=_color("green")) == len(green)
    _apply(expected, green, {"year": 1800})
    year = MetadataFilters(filters=[MetadataFilter(key="year", value=1800)])
    assert _query_ids(llama_store, year) == {f"n{i}" for i in green}

    # both: the intersection (as in delete_nodes)
    assert llama_store.update_metadata(["n0", "n5"], {"color": "teal"}, filters=_color("red")) == 1
    _apply(expected, {0}, {"color": "teal"})
    assert _query_ids(llama_store, _color("teal")) == {"n0"}
    _llama_check(llama_store, expected)


async def test_llama_aupdate_metadata(llama_store: LlamaStore, client: redis.Redis) -> None:
    expected = _metadata()
    blue = _ids_where(expected, "color", "blue")
    assert await llama_store.aupdate_metadata(None, {"color": None}, filters=_color("blue")) == (
        len(blue)
    )
    _apply(expected, blue, {"color": None})
    assert await llama_store.aupdate_metadata(["n4"], {"color": "red"}) == 1
    _apply(expected, {4}, {"color": "red"})
    query = VectorStoreQuery(
        query_embedding=VECTORS[0].tolist(), similarity_top_k=N, filters=_color("red")
    )
    found = await llama_store.aquery(query)
    assert set(found.ids or []) == {f"n{i}" for i in _ids_where(expected, "color", "red")}
    assert not _query_ids(llama_store, _color("blue"))
    _llama_check(llama_store, expected)


def test_an_index_in_a_peer_layout_is_refused_and_left_as_it_was(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    from test_peers import LC_META, RaisingEmbeddings, write_langchain_redis  # type: ignore[import-not-found]

    write_langchain_redis(client, names.index)
    store = LangChainStore(RaisingEmbeddings(), index_name=names.index, redis_url=redis_url)
    with pytest.raises(SchemaError, match="langchain-redis"):
        store.update_metadata(["b"], {"n": 99})
    assert store.layout.peer == "langchain-redis"
    assert store.get_by_ids(["b"])[0].metadata == LC_META["b"]
    store.close()
