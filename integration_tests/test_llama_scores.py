"""Query order and similarities against a numpy brute force on a FLAT index, for every metric, and
every query mode (DEFAULT, MMR, TEXT_SEARCH, HYBRID), ``distance_threshold``, ``node_ids``.

Documented similarities (higher is closer, in [0, 1]):
cosine ``clip(cos, 0, 1)``, ip ``clip(a·b, 0, 1)``, l2 ``1 / (1 + ‖a - b‖)``.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import pytest
import redis
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

from redisvec.llama_index import RedisVectorStore

DIMS = 16
N = 200
WORDS = ["river", "stone", "cloud", "ember", "frost", "grain", "harbor", "ivory"]
Mode = VectorStoreQueryMode


def brute(vectors: np.ndarray, query: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(server distance, documented similarity) of every vector, in float64 over float32 data."""
    v = vectors.astype(np.float32).astype(np.float64)
    q = query.astype(np.float32).astype(np.float64)
    if metric == "cosine":
        cos = v @ q / (np.linalg.norm(v, axis=1) * np.linalg.norm(q))
        return 1 - cos, np.clip(cos, 0, 1)
    if metric == "ip":
        dot = v @ q
        return 1 - dot, np.clip(dot, 0, 1)
    sq = ((v - q) ** 2).sum(axis=1)
    return sq, 1 / (1 + np.sqrt(sq))


@pytest.fixture(scope="module", params=["cosine", "l2", "ip"])
def setup(request: pytest.FixtureRequest, redis_url: str) -> Any:
    metric = str(request.param)
    rng = np.random.default_rng({"cosine": 1, "l2": 2, "ip": 3}[metric])
    vectors = rng.normal(size=(N, DIMS)) / np.sqrt(DIMS) * 1.3  # dot products spread over [-1, 1]
    texts = [" ".join(rng.choice(WORDS, size=rng.integers(1, 5))) for _ in range(N)]
    tag = uuid.uuid4().hex[:10]
    store = RedisVectorStore(
        index_name=f"test_lls_{tag}",
        key_prefix=f"test_lls_{tag}:",
        redis_url=redis_url,
        distance_metric=metric.upper(),
        algorithm="FLAT",
    )
    store.add(
        [
            TextNode(
                id_=f"v{i}",
                text=texts[i],
                embedding=vectors[i].tolist(),
                metadata={"i": i},
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"d{i % 7}")},
            )
            for i in range(N)
        ]
    )
    yield store, metric, vectors, texts, rng
    with redis.Redis.from_url(redis_url) as client:
        client.execute_command("FT.DROPINDEX", f"test_lls_{tag}", "DD")


def _check(result: Any, ids: list[str], sims: np.ndarray) -> None:
    assert result.ids == ids
    assert result.similarities == pytest.approx(list(sims), abs=2e-6)
    assert all(0.0 <= s <= 1.0 for s in result.similarities)
    assert [n.node_id for n in result.nodes] == ids


async def test_knn_order_and_similarities(setup: Any) -> None:
    store, metric, vectors, _, rng = setup
    for _ in range(5):
        query = rng.normal(size=DIMS) / np.sqrt(DIMS)
        dist, sim = brute(vectors, query, metric)
        order = np.argsort(dist, kind="stable")[:17]
        ids = [f"v{i}" for i in order]
        vsq = VectorStoreQuery(query_embedding=query.tolist(), similarity_top_k=17)
        _check(store.query(vsq), ids, sim[order])
        _check(await store.aquery(vsq), ids, sim[order])
        assert list(sim[order]) == sorted(sim[order], reverse=True)  # higher is closer


async def test_distance_threshold(setup: Any) -> None:
    store, metric, vectors, _, rng = setup
    query = rng.normal(size=DIMS) / np.sqrt(DIMS)
    dist, sim = brute(vectors, query, metric)
    threshold = float(np.quantile(dist, 0.2))
    inside = [i for i in np.argsort(dist, kind="stable") if dist[i] <= threshold - 1e-6]
    vsq = VectorStoreQuery(query_embedding=query.tolist(), similarity_top_k=N)
    for result in (
        store.query(vsq, distance_threshold=threshold),
        await store.aquery(vsq, distance_threshold=threshold),
    ):
        # float32 on the server: the boundary record may fall either way
        assert result.ids[: len(inside)] == [f"v{i}" for i in inside]
        assert len(result.ids) - len(inside) <= 1
        assert result.similarities[: len(inside)] == pytest.approx(list(sim[inside]), abs=2e-6)


async def test_node_ids_and_doc_ids_restrict_the_knn(setup: Any) -> None:
    store, metric, vectors, _, rng = setup
    query = rng.normal(size=DIMS) / np.sqrt(DIMS)
    dist, sim = brute(vectors, query, metric)
    allowed = sorted(rng.choice(N, size=30, replace=False).tolist())
    order = [i for i in np.argsort(dist, kind="stable") if i in allowed][:5]
    vsq = VectorStoreQuery(
        query_embedding=query.tolist(), similarity_top_k=5, node_ids=[f"v{i}" for i in allowed]
    )
    _check(store.query(vsq), [f"v{i}" for i in order], sim[order])
    _check(await store.aquery(vsq), [f"v{i}" for i in order], sim[order])
    by_doc = [i for i in np.argsort(dist, kind="stable") if i % 7 in (2, 5)][:6]
    vsq = VectorStoreQuery(query_embedding=query.tolist(), similarity_top_k=6, doc_ids=["d2", "d5"])
    _check(store.query(vsq), [f"v{i}" for i in by_doc], sim[by_doc])
    # VectorIndexRetriever sends node_ids=[] when none were given: it must not restrict
    unrestricted = VectorStoreQuery(query_embedding=query.tolist(), node_ids=[], doc_ids=[])
    assert store.query(unrestricted).ids == [f"v{np.argmin(dist)}"]


def reference_mmr(
    sim: np.ndarray, vectors: np.ndarray, candidates: list[int], k: int, lam: float
) -> list[int]:
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    chosen: list[int] = []
    pool = list(candidates)
    while pool and len(chosen) < k:

        def score(i: int) -> float:
            redundancy = max((float(unit[i] @ unit[j]) for j in chosen), default=0.0)
            return lam * sim[i] - (1 - lam) * redundancy if chosen else sim[i]

        best = max(pool, key=score)
        chosen.append(best)
        pool.remove(best)
    return chosen


async def test_mmr(setup: Any) -> None:
    store, metric, vectors, _, rng = setup
    query = rng.normal(size=DIMS) / np.sqrt(DIMS)
    dist, sim = brute(vectors, query, metric)
    order = list(np.argsort(dist, kind="stable"))
    # lambda 1: plain similarity order
    vsq = VectorStoreQuery(
        query_embedding=query.tolist(), similarity_top_k=6, mode=Mode.MMR, mmr_threshold=1.0
    )
    _check(store.query(vsq), [f"v{i}" for i in order[:6]], sim[order[:6]])
    # lambda 0.3 over the 24 nearest candidates (4 x k)
    vsq = VectorStoreQuery(
        query_embedding=query.tolist(), similarity_top_k=6, mode=Mode.MMR, mmr_threshold=0.3
    )
    want = reference_mmr(sim, vectors.astype(np.float32).astype(np.float64), order[:24], 6, 0.3)
    for result in (store.query(vsq), await store.aquery(vsq)):
        assert result.ids == [f"v{i}" for i in want]
        assert result.similarities == pytest.approx(list(sim[want]), abs=2e-6)
    assert want != order[:6]  # diversity changed the choice: the test can fail


def _words(text: str) -> set[str]:
    return set(text.split())


async def test_text_search(setup: Any) -> None:
    store, _, _, texts, _ = setup
    vsq = VectorStoreQuery(query_str="ember frost", similarity_top_k=N, mode=Mode.TEXT_SEARCH)
    want = {f"v{i}" for i, t in enumerate(texts) if _words(t) & {"ember", "frost"}}
    for result in (store.query(vsq), await store.aquery(vsq)):
        assert set(result.ids) == want
        assert result.similarities == sorted(result.similarities, reverse=True)
        assert all(s > 0 for s in result.similarities)
    with pytest.raises(ValueError, match="query_str"):
        store.query(VectorStoreQuery(similarity_top_k=3, mode=Mode.TEXT_SEARCH))


async def test_hybrid_fuses_vector_and_text_by_alpha(setup: Any) -> None:
    store, metric, vectors, _, rng = setup
    query = rng.normal(size=DIMS) / np.sqrt(DIMS)
    dist, sim = brute(vectors, query, metric)
    text = VectorStoreQuery(query_str="harbor", similarity_top_k=10, mode=Mode.TEXT_SEARCH)
    text_scores = dict(zip(store.query(text).ids, store.query(text).similarities))
    vec_order = list(np.argsort(dist, kind="stable")[:10])
    for alpha in (0.0, 0.3, 0.5, 1.0):
        vsq = VectorStoreQuery(
            query_embedding=query.tolist(),
            query_str="harbor",
            similarity_top_k=10,
            mode=Mode.HYBRID,
            alpha=alpha,
        )
        best_text = max(text_scores.values())
        fused: dict[str, float] = {}
        for i in vec_order:
            fused[f"v{i}"] = alpha * float(sim[i])
        for i, s in text_scores.items():
            fused[i] = fused.get(i, 0.0) + (1 - alpha) * s / best_text
        want = sorted(fused.items(), key=lambda p: -p[1])[:10]
        for result in (store.query(vsq), await store.aquery(vsq)):
            assert result.similarities == pytest.approx([s for _, s in want], abs=2e-6)
            for i, s in zip(result.ids, result.similarities):  # each id carries its own fused score
                assert fused[i] == pytest.approx(s, abs=2e-6)
        if alpha == 1.0:
            assert store.query(vsq).ids == [f"v{i}" for i in vec_order]
        if alpha == 0.0:  # BM25 ties may come in any order: compare the set
            assert set(store.query(vsq).ids[: len(text_scores)]) == set(text_scores)
    with pytest.raises(ValueError, match="alpha"):
        store.query(
            VectorStoreQuery(
                query_embedding=query.tolist(), query_str="harbor", mode=Mode.HYBRID, alpha=2.0
            )
        )


@pytest.mark.parametrize(
    "mode",
    [m for m in Mode if m not in (Mode.DEFAULT, Mode.MMR, Mode.TEXT_SEARCH, Mode.HYBRID)],
)
def test_unsupported_modes_raise(setup: Any, mode: VectorStoreQueryMode) -> None:
    store = setup[0]
    with pytest.raises(ValueError, match=f"{mode.value}.*not supported.*default, mmr"):
        store.query(VectorStoreQuery(query_embedding=[0.0] * DIMS, mode=mode))


def test_unknown_query_keyword_raises(setup: Any) -> None:
    with pytest.raises(TypeError, match="distance_treshold"):
        setup[0].query(VectorStoreQuery(query_embedding=[0.1] * DIMS), distance_treshold=0.1)
