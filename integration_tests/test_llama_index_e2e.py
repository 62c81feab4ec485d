"""LlamaIndex end to end (VectorStoreIndex, retrievers, query engines with MockLLM) and the
cross-framework contract: what the LangChain adapter writes, this adapter reads, and back."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from llama_index.core import Document, MockEmbedding, StorageContext, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore

DIMS = 64
SCHEMA = [{"name": "topic", "type": "tag"}, {"name": "year", "type": "numeric"}]


def words_vector(text: str) -> list[float]:
    """Bag of words hashed into DIMS buckets: texts sharing words are close (deterministic)."""
    v = np.zeros(DIMS)
    for word in re.findall(r"\w+", text.lower()):
        v[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMS] += 1.0
    v[0] += 0.01  # never the zero vector
    return (v / np.linalg.norm(v)).tolist()


class WordsEmbedding(BaseEmbedding):
    def _get_query_embedding(self, query: str) -> list[float]:
        return words_vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return words_vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return words_vector(text)


class LCWords(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [words_vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return words_vector(text)


DOCS = [
    Document(
        text="Redis is an in-memory database with vector search.",
        id_="doc-redis",
        metadata={"topic": "db", "year": 2009},
    ),
    Document(
        text="Bananas are yellow fruit rich in potassium.",
        id_="doc-banana",
        metadata={"topic": "food", "year": 1500},
    ),
    Document(
        text="LlamaIndex connects language models to your data.",
        id_="doc-llama",
        metadata={"topic": "ai", "year": 2022},
    ),
]


@pytest.fixture(params=["hash", "json"])
def store(request: pytest.FixtureRequest, redis_url: str, names: Any) -> RedisVectorStore:
    return RedisVectorStore(
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        metadata_schema=SCHEMA,
        storage_type=request.param,
    )


async def test_from_documents_retriever_and_query_engine(store: RedisVectorStore) -> None:
    index = VectorStoreIndex.from_documents(
        DOCS,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=WordsEmbedding(),
    )
    hits = index.as_retriever(similarity_top_k=1).retrieve("which database has vector search?")
    assert [h.node.ref_doc_id for h in hits] == ["doc-redis"]
    assert hits[0].score is not None and 0 < hits[0].score <= 1
    assert hits[0].node.metadata == {"topic": "db", "year": 2009}
    filtered = index.as_retriever(
        similarity_top_k=3,
        filters=MetadataFilters(
            filters=[MetadataFilter(key="year", value=2000, operator=FilterOperator.GT)]
        ),
    ).retrieve("fruit")
    assert {h.node.ref_doc_id for h in filtered} == {"doc-redis", "doc-llama"}
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=2)
    response = engine.query("yellow fruit")
    assert response.source_nodes[0].node.ref_doc_id == "doc-banana"
    assert str(response)  # MockLLM answered from the retrieved context
    aresponse = await engine.aquery("yellow fruit")
    assert aresponse.source_nodes[0].node.ref_doc_id == "doc-banana"
    index.delete_ref_doc("doc-banana")
    assert {
        h.node.ref_doc_id for h in index.as_retriever(similarity_top_k=5).retrieve("fruit")
    } == {
        "doc-redis",
        "doc-llama",
    }


async def test_from_vector_store_reopens_the_index(store: RedisVectorStore, redis_url: str) -> None:
    VectorStoreIndex.from_documents(
        DOCS,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=WordsEmbedding(),
    )
    reopened = RedisVectorStore.from_existing_index(
        index_name=store.index_name, redis_url=redis_url
    )
    index = VectorStoreIndex.from_vector_store(reopened, embed_model=WordsEmbedding())
    hits = await index.as_retriever(similarity_top_k=1).aretrieve("language models and data")
    assert [h.node.ref_doc_id for h in hits] == ["doc-llama"]
    mmr = index.as_retriever(similarity_top_k=2, vector_store_query_mode="mmr").retrieve("data")
    assert len(mmr) == 2
    text = index.as_retriever(similarity_top_k=1, vector_store_query_mode="text_search").retrieve(
        "potassium"
    )
    assert [h.node.ref_doc_id for h in text] == ["doc-banana"]
    hybrid = index.as_retriever(
        similarity_top_k=1, vector_store_query_mode="hybrid", alpha=0.5
    ).retrieve("potassium bananas")
    assert [h.node.ref_doc_id for h in hybrid] == ["doc-banana"]
    engine = index.as_query_engine(llm=MockLLM())
    assert engine.query("database").source_nodes


def test_mock_embedding_via_settings(store: RedisVectorStore) -> None:
    from llama_index.core import Settings

    old_embed, old_llm = Settings._embed_model, Settings._llm
    Settings.embed_model = MockEmbedding(embed_dim=8)
    Settings.llm = MockLLM()
    try:
        index = VectorStoreIndex.from_documents(
            DOCS, storage_context=StorageContext.from_defaults(vector_store=store)
        )
        response = index.as_query_engine(similarity_top_k=3).query("anything")
        assert {n.node.ref_doc_id for n in response.source_nodes} == {d.id_ for d in DOCS}
        assert store.index_schema is not None and store.index_schema.vector_field.dims == 8
    finally:
        Settings._embed_model, Settings._llm = old_embed, old_llm


# -- cross-framework ---------------------------------------------------------------------------


def test_langchain_writes_llama_index_reads(redis_url: str, names: Any) -> None:
    lc = LangChainStore(
        LCWords(),
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        metadata_schema=SCHEMA,
    )
    metadata = [
        {"topic": "db", "year": 2009, "tags": ["a", "b"], "nested": {"x": True}},
        {"topic": "food", "year": 1500, "flag": False},
    ]
    texts = ["redis vector database", "yellow bananas"]
    assert lc.add_texts(texts, metadatas=metadata, ids=["lc1", "lc2"]) == ["lc1", "lc2"]
    li = RedisVectorStore(
        index_name=names.index, key_prefix=names.prefix, redis_url=redis_url, metadata_schema=SCHEMA
    )
    result = li.query(VectorStoreQuery(query_embedding=words_vector("bananas"), similarity_top_k=2))
    assert result.ids == ["lc2", "lc1"]
    assert [n.get_content() for n in result.nodes] == ["yellow bananas", "redis vector database"]
    assert [n.metadata for n in result.nodes] == [metadata[1], metadata[0]]
    db = MetadataFilters(filters=[MetadataFilter(key="topic", value="db")])
    assert [n.node_id for n in li.get_nodes(filters=db)] == ["lc1"]
    li.delete_nodes(["lc1"])
    assert lc.get_by_ids(["lc1", "lc2"])[0].id == "lc2"


async def test_llama_index_writes_langchain_reads(redis_url: str, names: Any) -> None:
    li = RedisVectorStore(
        index_name=names.index, key_prefix=names.prefix, redis_url=redis_url, metadata_schema=SCHEMA
    )
    meta = {"topic": "ai", "year": 2022, "authors": ["x", "y"]}
    node = TextNode(
        id_="li1",
        text="language models and your data",
        embedding=words_vector("language models and your data"),
        metadata=meta,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id="doc-9")},
    )
    await li.async_add([node])
    lc = LangChainStore(
        LCWords(),
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        metadata_schema=SCHEMA,
    )
    (doc,) = lc.similarity_search("language models", k=1, filter={"topic": "ai"})
    assert doc.id == "li1"
    assert doc.page_content == "language models and your data"
    assert doc.metadata == meta  # clean: no node JSON, no ref_doc_id bookkeeping
    (got,) = await lc.aget_by_ids(["li1"])
    assert got.metadata == meta


def test_example_runs_on_a_given_server(redis_url: str) -> None:
    import subprocess
    import sys
    from pathlib import Path

    example = Path(__file__).parent.parent / "examples" / "llama_index_query_engine.py"
    done = subprocess.run(
        [sys.executable, str(example), "--fast", "--redis-url", redis_url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "top source doc-0" in done.stdout and "after deleting doc-0: 5 nodes" in done.stdout
