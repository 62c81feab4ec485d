"""HybridQuery against the real server, checked against fusion computed here in plain Python.

Ground truth: the two legs run as separate queries (and the vector leg also checked against numpy
over the stored vectors: a FLAT index is exact), then fused by formulas written out in this file,
independently of `redisvec.fusion`.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aredis

from redisvec.errors import HybridFallbackWarning, SearchUnavailableError
from redisvec.filters import Num, Tag
from redisvec.hybrid import HybridHit, HybridQuery
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import TextQuery, VectorQuery
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField

WORDS = [
    "apple", "banana", "cherry", "delta", "echo", "foxtrot",
    "golf", "hotel", "india", "juliet", "kilo", "lima",
]  # fmt: skip
DIMS = 8


def _corpus(n: int = 80, seed: int = 7) -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIMS)).astype(np.float32)
    records = []
    for i in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(2, 7)))
        records.append(
            {
                # "pad" words: every body its own length, so no two BM25 scores tie (the server
                # orders equal scores arbitrarily, and the ground truth compares ranks)
                "body": " ".join(words) + " pad" * i,
                "color": "red" if i % 3 == 0 else "blue",
                "n": i,
                "v": vectors[i],
            }
        )
    return [f"d{i}" for i in range(n)], records, vectors


def _schema(names: Any) -> IndexSchema:
    return IndexSchema(
        name=names.index,
        prefixes=(names.prefix,),
        fields=(
            TextField("body"),
            TagField("color"),
            NumericField("n"),
            VectorField("v", dims=DIMS, algorithm="flat", distance_metric="cosine"),
        ),
    )


@pytest.fixture
def loaded(
    client: redis.Redis, names: Any
) -> tuple[SearchIndex, list[str], list[dict[str, Any]], np.ndarray]:
    index = SearchIndex(_schema(names), client)
    index.create()
    ids, records, vectors = _corpus()
    index.load(records, ids=ids)
    # FT.CREATE's initial scan may still run: BM25 scores of documents written meanwhile were
    # seen to change from query to query until it ends
    deadline = time.monotonic() + 30
    while index.info().indexing and time.monotonic() < deadline:
        time.sleep(0.02)
    return index, ids, records, vectors


def rrf_by_hand(vector_ids: list[str], text_ids: list[str], c: float, k: int) -> list[str]:
    score: dict[str, float] = {}
    first: dict[str, int] = {}
    for ranking in (vector_ids, text_ids):
        for position, i in enumerate(ranking):
            score[i] = score.get(i, 0.0) + 1.0 / (c + position + 1)
            first.setdefault(i, len(first))
    return sorted(score, key=lambda i: (-score[i], first[i]))[:k]


def linear_by_hand(
    vector: list[tuple[str, float]], text: list[tuple[str, float]], alpha: float, k: int
) -> list[str]:
    best = max((s for _, s in text), default=0.0)
    score: dict[str, float] = {}
    first: dict[str, int] = {}
    for i, distance in vector:
        score[i] = alpha * min(1.0, max(0.0, 1.0 - distance))
        first.setdefault(i, len(first))
    for i, bm25 in text:
        score[i] = score.get(i, 0.0) + (1 - alpha) * (bm25 / best if best > 0 else 0.0)
        first.setdefault(i, len(first))
    return sorted(score, key=lambda i: (-score[i], first[i]))[:k]


def knn_by_hand(
    vectors: np.ndarray, ids: list[str], q: np.ndarray, keep: list[int], k: int
) -> list[str]:
    a = vectors[keep] / np.linalg.norm(vectors[keep], axis=1, keepdims=True)
    d = 1 - a @ (q / np.linalg.norm(q))
    order = np.argsort(d, kind="stable")[:k]
    return [ids[keep[j]] for j in order]


@pytest.mark.parametrize("fusion", ["rrf", "linear"])
@pytest.mark.parametrize(
    "text", ["apple cherry", "golf", "the kilo of lima", "banana india juliet"]
)
def test_fusion_equals_plain_python_over_the_separate_legs(
    loaded: Any, fusion: str, text: str
) -> None:
    index, ids, _, vectors = loaded
    q = np.random.default_rng(hash(text) % 1000).normal(size=DIMS).astype(np.float32)
    vq = VectorQuery(q, k=15)
    tq = TextQuery(text, k=12)
    vector_leg = index.search(vq)
    text_leg = index.search(tq)
    # the vector leg is the exact KNN (FLAT): checked against numpy, not just trusted
    assert [h.id for h in vector_leg.hits] == knn_by_hand(
        vectors, ids, q, list(range(len(ids))), 15
    )
    assert text_leg.hits, "the text leg must find something for the test to mean anything"

    hq = HybridQuery(text, q, k=10, fusion=fusion, alpha=0.3, vector_k=15, text_k=12)
    result = index.hybrid_search(hq)
    if fusion == "rrf":
        expected = rrf_by_hand(
            [h.id for h in vector_leg.hits], [h.id for h in text_leg.hits], 60, 10
        )
    else:
        expected = linear_by_hand(
            [(h.id, h.distance or 0.0) for h in vector_leg.hits],
            [(h.id, h.score or 0.0) for h in text_leg.hits],
            0.3,
            10,
        )
    assert result.method == "pipeline"
    assert [h.id for h in result.hits] == expected
    # each hit's per-leg ranks and scores are its places in the separate legs
    v_rank = {h.id: (r, h) for r, h in enumerate(vector_leg.hits, 1)}
    t_rank = {h.id: (r, h) for r, h in enumerate(text_leg.hits, 1)}
    for hit in result.hits:
        assert isinstance(hit, HybridHit)
        assert hit.vector_rank == v_rank.get(hit.id, (None,))[0]
        assert hit.text_rank == t_rank.get(hit.id, (None,))[0]
        if hit.text_rank is not None:
            assert hit.text_score == pytest.approx(t_rank[hit.id][1].score)
        if hit.vector_rank is not None:
            assert hit.distance == pytest.approx(v_rank[hit.id][1].distance)
        assert hit.fields["body"]


def test_rrf_with_another_constant_and_the_fusion_changes_the_order(loaded: Any) -> None:
    """The knobs reach the fusion: constant 1 weighs top places much more than 60 does."""
    index, *_ = loaded
    q = np.random.default_rng(3).normal(size=DIMS).astype(np.float32)
    v = [h.id for h in index.search(VectorQuery(q, k=20)).hits]
    t = [h.id for h in index.search(TextQuery("apple banana", k=20)).hits]
    got = index.hybrid_search(HybridQuery("apple banana", q, k=10, rrf_constant=1))
    assert [h.id for h in got.hits] == rrf_by_hand(v, t, 1, 10)
    assert got.hits[0].score == pytest.approx(
        sum(1 / (1 + r.index(got.hits[0].id) + 1) for r in (v, t) if got.hits[0].id in r)
    )


@pytest.mark.parametrize("fusion", ["rrf", "linear"])
def test_the_filter_applies_to_both_legs(loaded: Any, fusion: str) -> None:
    index, ids, records, vectors = loaded
    q = np.random.default_rng(11).normal(size=DIMS).astype(np.float32)
    flt = (Tag("color") == "red") & (Num("n") >= 10)
    keep = [i for i, r in enumerate(records) if r["color"] == "red" and r["n"] >= 10]
    text = "apple golf"
    result = index.hybrid_search(HybridQuery(text, q, k=10, filter=flt, fusion=fusion))
    assert result.hits
    # unfiltered, the best hits of both legs include records the filter excludes
    unfiltered = index.hybrid_search(HybridQuery(text, q, k=10, fusion=fusion))
    assert any(int(h.id[1:]) not in keep for h in unfiltered.hits)
    for hit in result.hits:
        assert int(hit.id[1:]) in keep, hit.id
    vector_ids = knn_by_hand(vectors, ids, q, keep, 20)
    words = set(text.split())
    text_matching = {ids[i] for i in keep if words & set(records[i]["body"].split())}
    text_leg = index.search(TextQuery(text, k=20, filter=flt))
    assert {h.id for h in text_leg.hits} == text_matching
    if fusion == "rrf":
        assert [h.id for h in result.hits] == rrf_by_hand(
            vector_ids, [h.id for h in text_leg.hits], 60, 10
        )
    # every candidate of each leg satisfied the filter, including text-only ones
    assert {h.id for h in result.hits if h.vector_rank is None} <= text_matching
    assert {h.id for h in result.hits if h.text_rank is None} <= set(vector_ids)


@pytest.mark.parametrize("text", ["", "   ", "the and of", "?!,.", None])
def test_text_without_words_falls_back_to_vector_only_with_a_warning(
    loaded: Any, text: str | None
) -> None:
    index, ids, _, vectors = loaded
    q = np.random.default_rng(5).normal(size=DIMS).astype(np.float32)
    with pytest.warns(HybridFallbackWarning, match="vector search alone"):
        result = index.hybrid_search(HybridQuery(text, q, k=7))
    assert result.method == "vector-only"
    assert [h.id for h in result.hits] == knn_by_hand(vectors, ids, q, list(range(len(ids))), 7)
    assert all(h.text_rank is None and h.vector_rank == n for n, h in enumerate(result.hits, 1))


def test_the_server_without_ft_hybrid_gets_the_pipeline_and_native_is_refused(
    loaded: Any,
) -> None:
    index, *_ = loaded
    q = np.ones(DIMS, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing FT.HYBRID is not worth a warning
        first = index.hybrid_search(HybridQuery("apple", q))
    assert first.method == "pipeline" and index._ft_hybrid is False
    with pytest.raises(SearchUnavailableError, match=r"FT\.HYBRID"):
        index.hybrid_search(HybridQuery("apple", q, method="native"))
    with pytest.raises(ValueError, match="method='native'"):
        index.hybrid_search(HybridQuery("apple", q, method="native", fusion="linear"))


def test_bad_settings_are_refused_before_anything_is_sent(loaded: Any) -> None:
    index, *_ = loaded
    q = np.ones(DIMS, dtype=np.float32)
    for bad, match in [
        ({"fusion": "max"}, "fusion"),
        ({"alpha": 1.5}, "alpha"),
        ({"rrf_constant": -1}, "rrf_constant"),
        ({"k": 0}, "k"),
        ({"text_k": 0}, "text_k"),
        ({"method": "fast"}, "method"),
    ]:
        with pytest.raises(ValueError, match=match):
            index.hybrid_search(HybridQuery("apple", q, **bad))
    with pytest.raises(ValueError, match="string"):
        index.hybrid_search(HybridQuery(b"apple", q))  # type: ignore[arg-type]


def test_async_twin_returns_the_same(loaded: Any, redis_url: str) -> None:
    index, *_ = loaded
    q = np.random.default_rng(9).normal(size=DIMS).astype(np.float32)
    query = HybridQuery("cherry delta", q, k=8, filter=Tag("color") == "blue")
    expected = index.hybrid_search(query)

    async def run() -> Any:
        client = aredis.Redis.from_url(redis_url)
        try:
            aindex = AsyncSearchIndex(index.schema, client)
            got = await aindex.hybrid_search(query)
            with pytest.warns(HybridFallbackWarning):
                fallback = await aindex.hybrid_search(HybridQuery("", q, k=3))
            return got, fallback
        finally:
            await client.aclose()

    got, fallback = asyncio.run(run())
    assert [(h.id, h.score) for h in got.hits] == [(h.id, h.score) for h in expected.hits]
    assert got.method == "pipeline" and len(fallback.hits) == 3
