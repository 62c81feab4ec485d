"""Hybrid search through both adapters, against the real server.

Ground truth: the vector leg by numpy brute force (FLAT indexes), the text leg as a separate BM25
query, fused here by the RRF / linear formulas written out in this file.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Any

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

from redisvec.errors import HybridFallbackWarning
from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore
from redisvec.query import TextQuery

DIMS = 8
N = 60
WORDS = ["river", "stone", "cloud", "ember", "frost", "grain", "harbor", "ivory", "jade"]
QUERIES = ["ember frost", "harbor", "the jade of the river"]
Mode = VectorStoreQueryMode


def _data(seed: int) -> tuple[list[str], np.ndarray, list[str], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    # "pad" words give every text its own length, so no two BM25 scores tie (the server orders
    # equal scores arbitrarily, and the ground truth compares ranks)
    texts = [
        f"{i} " + " ".join(rng.choice(WORDS, size=int(rng.integers(1, 5)))) + " pad" * i
        for i in range(N)
    ]
    vectors = rng.normal(size=(N, DIMS))
    queries = {q: rng.normal(size=DIMS) for q in [*QUERIES, "", "the of"]}
    return texts, vectors, [f"c{i % 2}" for i in range(N)], queries


def _settled(index: Any) -> None:
    """Wait for the index's initial scan (started by FT.CREATE) to end: while it runs, BM25
    scores of the documents written meanwhile were seen to differ from query to query."""
    deadline = time.monotonic() + 30
    while index.info().indexing and time.monotonic() < deadline:
        time.sleep(0.02)
    info = index.info()
    assert (info.num_docs, info.indexing) == (N, False)


def knn(vectors: np.ndarray, q: np.ndarray, keep: list[int], k: int) -> list[int]:
    v = vectors[keep].astype(np.float32).astype(np.float64)
    d = 1 - v @ q / (np.linalg.norm(v, axis=1) * np.linalg.norm(q))
    return [keep[j] for j in np.argsort(d, kind="stable")[:k]]


def rrf_by_hand(vector_ids: list[str], text_ids: list[str], k: int) -> list[str]:
    score: dict[str, float] = {}
    first: dict[str, int] = {}
    for ranking in (vector_ids, text_ids):
        for position, i in enumerate(ranking):
            score[i] = score.get(i, 0.0) + 1.0 / (60 + position + 1)
            first.setdefault(i, len(first))
    return sorted(score, key=lambda i: (-score[i], first[i]))[:k]


@pytest.fixture(scope="module")
def lc(redis_url: str) -> Any:
    texts, vectors, cats, queries = _data(1)
    table = {t: v for t, v in zip(texts, vectors)} | queries
    tag = uuid.uuid4().hex[:10]
    store = LangChainStore(
        TableEmbeddings(table),
        index_name=f"test_hyl_{tag}",
        key_prefix=f"test_hyl_{tag}:",
        redis_url=redis_url,
        algorithm="FLAT",
        metadata_schema=[{"name": "cat", "type": "tag"}],
    )
    store.add_texts(texts, [{"cat": c} for c in cats], ids=[f"t{i}" for i in range(N)])
    _settled(store.index)
    yield store, texts, vectors, cats, queries
    with redis.Redis.from_url(redis_url) as client:
        client.execute_command("FT.DROPINDEX", f"test_hyl_{tag}", "DD")


def _text_leg(store: Any, text: str, k: int, flt: Any = None) -> list[str]:
    """The BM25 leg, run on its own through the core index of either adapter."""
    tq = TextQuery(text, k=k, text_field=store.layout.text_field, filter=flt)
    index = store.index if isinstance(store, LangChainStore) else store._managed.index()
    return [h.id for h in index.search(tq).hits]


@pytest.mark.parametrize("text", QUERIES)
def test_langchain_hybrid_search_and_retriever_equal_rrf_by_hand(lc: Any, text: str) -> None:
    store, _, vectors, _, queries = lc
    vector_ids = [f"t{i}" for i in knn(vectors, queries[text], list(range(N)), 20)]
    expected = rrf_by_hand(vector_ids, _text_leg(store, text, 20), 5)
    scored = store.hybrid_search_with_scores(text, k=5)
    assert [d.id for d, _ in scored] == expected
    assert all(a >= b for (_, a), (_, b) in itertools.pairwise(scored))
    retriever = store.as_retriever(search_type="hybrid", search_kwargs={"k": 5})
    assert [d.id for d in retriever.invoke(text)] == expected
    assert [d.id for d in asyncio.run(retriever.ainvoke(text))] == expected
    assert [d.id for d in asyncio.run(store.ahybrid_search(text, k=5))] == expected


def test_langchain_filter_applies_to_both_legs_and_linear_fusion(lc: Any) -> None:
    store, _, vectors, cats, queries = lc
    text = "ember frost"
    keep = [i for i in range(N) if cats[i] == "c1"]
    vector = knn(vectors, queries[text], keep, 20)
    text_ids = _text_leg(store, text, 20, "@cat:{c1}")
    assert text_ids and all(cats[int(i[1:])] == "c1" for i in text_ids)
    got = store.hybrid_search(text, k=6, filter={"cat": "c1"})
    assert [d.id for d in got] == rrf_by_hand([f"t{i}" for i in vector], text_ids, 6)
    # linear, alpha 0: the text leg's order; alpha 1: the vector leg's order
    # (equal BM25 scores are ordered by vector rank, so the scores are compared, not the ids)
    text_scores = [h.score for h in store.index.search(
        TextQuery(text, k=20, text_field=store.layout.text_field, filter="@cat:{c1}")
    ).hits]  # fmt: skip
    by_text = store.hybrid_search_with_scores(
        text, k=4, filter={"cat": "c1"}, fusion="linear", alpha=0.0
    )
    assert [s for _, s in by_text] == pytest.approx([s / text_scores[0] for s in text_scores[:4]])
    assert {d.id for d, _ in by_text} <= set(text_ids)
    by_vector = store.as_retriever(
        search_type="hybrid",
        search_kwargs={"k": 4, "filter": {"cat": "c1"}, "fusion": "linear", "alpha": 1.0},
    ).invoke(text)
    assert [d.id for d in by_vector] == [f"t{i}" for i in vector[:4]]


def test_langchain_stopword_query_is_the_vector_search_with_a_warning(lc: Any) -> None:
    store, _, vectors, _, queries = lc
    with pytest.warns(HybridFallbackWarning):
        got = store.hybrid_search("the of", k=3)
    assert [d.id for d in got] == [
        f"t{i}" for i in knn(vectors, queries["the of"], list(range(N)), 3)
    ]


def test_langchain_refusals(lc: Any) -> None:
    store, *_ = lc
    with pytest.raises(TypeError, match="fusoin"):
        store.hybrid_search("harbor", fusoin="rrf")
    with pytest.raises(ValueError, match="fusion"):
        store.hybrid_search("harbor", fusion="max")
    with pytest.raises(ValueError, match="search_type"):
        store.as_retriever(search_type="hybird")


@pytest.fixture(scope="module")
def li(redis_url: str) -> Any:
    texts, vectors, cats, queries = _data(2)
    tag = uuid.uuid4().hex[:10]
    store = LlamaStore(
        index_name=f"test_hyi_{tag}",
        key_prefix=f"test_hyi_{tag}:",
        redis_url=redis_url,
        algorithm="FLAT",
        metadata_schema=[{"name": "cat", "type": "tag"}],
    )
    store.add(
        [
            TextNode(id_=f"n{i}", text=texts[i], embedding=vectors[i].tolist(), metadata={"cat": c})
            for i, c in enumerate(cats)
        ]
    )
    _settled(store._managed.index())
    yield store, vectors, queries
    with redis.Redis.from_url(redis_url) as client:
        client.execute_command("FT.DROPINDEX", f"test_hyi_{tag}", "DD")


def test_llama_text_search_honours_sparse_top_k(li: Any) -> None:
    """How many hits come back. (Ids and scores are not compared with a separate BM25 query:
    on this index two identical BM25 queries were seen to return different scores; see the
    branch report.)"""
    store, _, _ = li
    text = "river stone"
    index = store._managed.index()
    matching = index.search(TextQuery(text, k=100, text_field=store.layout.text_field)).total
    assert matching > 7
    got = store.query(
        VectorStoreQuery(query_str=text, mode=Mode.TEXT_SEARCH, similarity_top_k=2, sparse_top_k=7)
    )
    assert len(got.ids) == 7
    assert all(a >= b for a, b in itertools.pairwise(got.similarities))
    assert (
        len(
            store.query(
                VectorStoreQuery(query_str=text, mode=Mode.TEXT_SEARCH, similarity_top_k=2)
            ).ids
        )
        == 2
    )


@pytest.mark.parametrize("text", QUERIES)
def test_llama_hybrid_rrf_and_windows(li: Any, text: str) -> None:
    store, vectors, queries = li
    q = queries[text]
    vector_ids = [f"n{i}" for i in knn(vectors, q, list(range(N)), 8)]
    text_ids = _text_leg(store, text, 12)
    query = VectorStoreQuery(
        query_embedding=q.tolist(),
        query_str=text,
        mode=Mode.HYBRID,
        similarity_top_k=8,
        sparse_top_k=12,
        hybrid_top_k=5,
    )
    got = store.query(query, fusion="rrf")
    assert got.ids == rrf_by_hand(vector_ids, text_ids, 5)
    assert asyncio.run(store.aquery(query, fusion="rrf")).ids == got.ids


def test_llama_hybrid_without_words_is_the_vector_search(li: Any) -> None:
    store, vectors, queries = li
    q = queries[""]
    with pytest.warns(HybridFallbackWarning):
        got = store.query(
            VectorStoreQuery(
                query_embedding=q.tolist(), query_str="", mode=Mode.HYBRID, similarity_top_k=2
            )
        )
    assert got.ids == [f"n{i}" for i in knn(vectors, q, list(range(N)), 2)]
