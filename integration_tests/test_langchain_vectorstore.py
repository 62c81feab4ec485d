"""RedisVectorStore against numpy ground truth on the real server, sync and async, HASH and JSON."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings, distances, relevance
from langchain_core.documents import Document

from redisvec import FilterError, SchemaMismatchError, VectorError
from redisvec.filters import Num, Tag
from redisvec.langchain import RedisVectorStore

N, DIMS = 120, 8
RNG = np.random.default_rng(7)
DATA = RNG.normal(size=(N, DIMS)).astype(np.float32)
DATA[:, 0] += 0.5  # some structure so cosine similarities spread over [0, 1]
DATA /= np.linalg.norm(DATA, axis=1, keepdims=True) * 0.9  # norms ~1.1: ip differs from cosine
QUERY = RNG.normal(size=DIMS).astype(np.float32)
QUERY[0] += 0.5
TEXTS = [f"doc {i}" for i in range(N)]
COLORS = ["red", "blue", "green", "dark red", "x,y"]
METADATA: list[dict[str, Any]] = [
    {
        "i": i,
        "color": COLORS[i % 5],
        "year": 1990 + i % 30,
        "score": i / 7,
        "title": f"title {['alpha', 'beta', 'gamma'][i % 3]} number{i}",
        "flag": i % 2 == 0,
        **({"rare": "yes"} if i % 10 == 0 else {}),
    }
    for i in range(N)
]
SCHEMA = [
    {"name": "color", "type": "tag"},
    {"name": "year", "type": "numeric"},
    {"name": "score", "type": "numeric"},
    {"name": "title", "type": "text"},
    {"name": "flag", "type": "tag"},
    {"name": "rare", "type": "tag"},
]
TABLE = {t: v for t, v in zip(TEXTS, DATA.tolist())} | {"query": QUERY.tolist()}
IDS = [f"d{i}" for i in range(N)]


def gt64() -> tuple[np.ndarray, np.ndarray]:
    return DATA.astype(np.float64), QUERY.astype(np.float64)


@pytest.fixture(params=["hash", "json"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_store(redis_url: str, names) -> AsyncIterator[Callable[..., RedisVectorStore]]:
    made: list[RedisVectorStore] = []

    def make(**kwargs: Any) -> RedisVectorStore:
        options: dict[str, Any] = {
            "index_name": names.index,
            "key_prefix": names.prefix,
            "redis_url": redis_url,
            "metadata_schema": SCHEMA,
        } | kwargs
        store = RedisVectorStore(TableEmbeddings(TABLE), **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.aclose()


def loaded(make_store: Callable[..., RedisVectorStore], **kwargs: Any) -> RedisVectorStore:
    store = make_store(algorithm="FLAT", **kwargs)
    assert store.add_texts(TEXTS, METADATA, ids=IDS, batch_size=17) == IDS
    return store


def stored_keys(client: redis.Redis, prefix: str) -> int:
    return sum(1 for _ in client.scan_iter(match=f"{prefix}*", count=1000))


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
async def test_knn_equals_numpy_brute_force(make_store, storage: str, metric: str) -> None:
    store = loaded(make_store, storage_type=storage, distance_metric=metric)
    data, q = gt64()
    d = distances(metric, data, q)
    order = np.argsort(d, kind="stable")[:25]
    for scored in (
        store.similarity_search_with_score("query", k=25),
        await store.asimilarity_search_with_score("query", k=25),
        store.similarity_search_with_score_by_vector(QUERY.tolist(), k=25),
    ):
        assert len(scored) == 25
        assert [doc.id for doc, _ in scored] == [IDS[i] for i in order]
        np.testing.assert_allclose([s for _, s in scored], d[order], rtol=1e-5, atol=1e-5)
        assert all(doc.metadata == METADATA[int(doc.id[1:])] for doc, _ in scored)
        assert all(doc.page_content == TEXTS[int(doc.id[1:])] for doc, _ in scored)

    rel = relevance(metric, data, q)
    for pairs in (
        store.similarity_search_with_relevance_scores("query", k=25),
        await store.asimilarity_search_with_relevance_scores("query", k=25),
    ):
        scores = [s for _, s in pairs]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        np.testing.assert_allclose(scores, rel[order], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
async def test_score_threshold_retriever_returns_exactly_the_docs_above(
    make_store, storage: str, metric: str
) -> None:
    store = loaded(make_store, storage_type=storage, distance_metric=metric)
    data, q = gt64()
    rel = np.sort(relevance(metric, data, q))[::-1]
    j = int(np.argmax(rel < 0.999)) + 9  # skip the values clipped to 1 (ip: dot > 1)
    threshold = float((rel[j] + rel[j + 1]) / 2)  # between two values: no boundary case
    expected = {IDS[i] for i in np.flatnonzero(relevance(metric, data, q) >= threshold)}
    assert len(expected) == j + 1
    retriever = store.as_retriever(
        search_type="similarity_score_threshold",
        search_kwargs={"score_threshold": threshold, "k": N},
    )
    assert {d.id for d in retriever.invoke("query")} == expected
    assert {d.id for d in await retriever.ainvoke("query")} == expected
    # with the default k=4 it is the 4 nearest (all above the threshold)
    small = store.as_retriever(
        search_type="similarity_score_threshold", search_kwargs={"score_threshold": threshold}
    )
    assert len(small.invoke("query")) == 4


def numpy_mmr(rel: np.ndarray, vecs: np.ndarray, k: int, lam: float) -> list[int]:
    unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
    chosen: list[int] = []
    while len(chosen) < k:
        best, best_score = -1, -math.inf
        for i in range(len(rel)):
            if i in chosen:
                continue
            redundancy = max((float(unit[i] @ unit[j]) for j in chosen), default=0.0)
            score = lam * rel[i] - (1 - lam) * redundancy
            if score > best_score:
                best, best_score = i, score
        chosen.append(best)
    return chosen


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
async def test_mmr(make_store, storage: str, metric: str) -> None:
    store = loaded(make_store, storage_type=storage, distance_metric=metric)
    plain = [d.id for d in store.similarity_search("query", k=6)]
    assert [d.id for d in store.max_marginal_relevance_search("query", 6, 20, 1.0)] == plain
    got = await store.amax_marginal_relevance_search("query", k=6, fetch_k=20, lambda_mult=1.0)
    assert [d.id for d in got] == plain

    data, q = gt64()
    nearest = np.argsort(distances(metric, data, q), kind="stable")[:20]
    expected = numpy_mmr(relevance(metric, data, q)[nearest], data[nearest], 6, 0.3)
    want = [IDS[nearest[i]] for i in expected]
    got_sync = store.max_marginal_relevance_search("query", k=6, fetch_k=20, lambda_mult=0.3)
    assert [d.id for d in got_sync] == want
    retriever = store.as_retriever(search_type="mmr", search_kwargs={"k": 6, "lambda_mult": 0.3})
    assert [d.id for d in await retriever.ainvoke("query")] == want
    assert got_sync[0].metadata == METADATA[int(want[0][1:])]


@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
async def test_distance_threshold_is_a_range_query(make_store, storage: str, metric: str) -> None:
    store = loaded(make_store, storage_type=storage, distance_metric=metric)
    data, q = gt64()
    d = distances(metric, data, q)
    ranked = np.sort(d)
    m = max(14, int(np.argmax(ranked > 0)))  # the server refuses a negative radius (ip)
    radius = float((ranked[m] + ranked[m + 1]) / 2)  # L2: a squared distance, like the server's
    within = [IDS[i] for i in np.argsort(d, kind="stable") if d[i] <= radius]
    assert len(within) == m + 1
    scored = store.similarity_search_with_score("query", k=N, distance_threshold=radius)
    assert [doc.id for doc, _ in scored] == within
    assert all(s <= radius for _, s in scored)
    # up to k: the k nearest of them
    got = await store.asimilarity_search("query", k=4, distance_threshold=radius)
    assert [doc.id for doc in got] == within[:4]
    # with a filter
    red = [i for i in within if METADATA[int(i[1:])]["color"] == "red"]
    got = store.similarity_search("query", k=N, filter={"color": "red"}, distance_threshold=radius)
    assert [doc.id for doc in got] == red


FILTERS: list[tuple[Any, Callable[[dict[str, Any]], bool]]] = [
    ({"color": "red"}, lambda m: m["color"] == "red"),
    ({"color": "dark red"}, lambda m: m["color"] == "dark red"),
    ({"color": "x,y"}, lambda m: m["color"] == "x,y"),
    ({"color": {"$ne": "red"}}, lambda m: m["color"] != "red"),
    ({"color": {"$in": ["red", "x,y"]}}, lambda m: m["color"] in ("red", "x,y")),
    ({"color": {"$nin": ["red", "blue"]}}, lambda m: m["color"] not in ("red", "blue")),
    ({"year": 2000}, lambda m: m["year"] == 2000),
    ({"year": {"$gt": 2010}}, lambda m: m["year"] > 2010),
    ({"year": {"$gte": 2010}}, lambda m: m["year"] >= 2010),
    ({"year": {"$lt": 1995}}, lambda m: m["year"] < 1995),
    ({"year": {"$lte": 1995, "$gt": 1991}}, lambda m: 1991 < m["year"] <= 1995),
    ({"score": {"$gt": 3.5}}, lambda m: m["score"] > 3.5),
    ({"year": {"$in": [1990, 2001]}}, lambda m: m["year"] in (1990, 2001)),
    ({"year": {"$nin": [1990, 2001]}}, lambda m: m["year"] not in (1990, 2001)),
    ({"title": {"$like": "gam%"}}, lambda m: "gamma" in m["title"]),
    ({"title": "beta"}, lambda m: "beta" in m["title"]),
    ({"flag": True}, lambda m: m["flag"] is True),
    ({"rare": {"$exists": True}}, lambda m: "rare" in m),
    ({"rare": {"$exists": False}}, lambda m: "rare" not in m),
    ({"color": "red", "year": {"$gte": 2000}}, lambda m: m["color"] == "red" and m["year"] >= 2000),
    (
        {"$or": [{"color": "blue"}, {"year": {"$lt": 1993}}]},
        lambda m: m["color"] == "blue" or m["year"] < 1993,
    ),
    (
        {"$and": [{"color": {"$in": ["red", "blue"]}}, {"$not": {"flag": True}}]},
        lambda m: m["color"] in ("red", "blue") and not m["flag"],
    ),
    ({"$not": {"year": {"$gte": 1995}}}, lambda m: not m["year"] >= 1995),
    (
        (Tag("color") == "green") | (Num("year") > 2015),
        lambda m: m["color"] == "green" or m["year"] > 2015,
    ),
]


async def test_filters_match_python_evaluation(make_store, storage: str) -> None:
    store = loaded(make_store, storage_type=storage)
    for flt, predicate in FILTERS:
        expected = {IDS[i] for i, m in enumerate(METADATA) if predicate(m)}
        assert expected and len(expected) < N, flt  # each filter is a real test
        got = {d.id for d in store.similarity_search("query", k=N, filter=flt)}
        assert got == expected, flt
        got = {d.id for d in await store.asimilarity_search("query", k=N, filter=flt)}
        assert got == expected, flt
    # KNN inside the filter: the k nearest among the matches
    data, q = gt64()
    d = distances("cosine", data, q)
    blue = [IDS[i] for i in np.argsort(d, kind="stable") if METADATA[i]["color"] == "blue"]
    got_docs = store.similarity_search("query", k=5, filter={"color": "blue"})
    assert [doc.id for doc in got_docs] == blue[:5]


async def test_bad_input_is_a_clear_error_and_loses_nothing(
    make_store, storage: str, client: redis.Redis, names
) -> None:
    store = loaded(make_store, storage_type=storage)
    before = stored_keys(client, names.prefix)
    assert before == N

    with pytest.raises(VectorError, match=r"expected 8 dimensions, received 5"):
        store.similarity_search_by_vector([0.1] * 5)
    with pytest.raises(VectorError, match=r"expected 8 dimensions, received 9"):
        await store.asimilarity_search_by_vector([0.1] * 9)
    with pytest.raises(VectorError, match="non-finite"):
        store.similarity_search_by_vector([math.nan] + [0.1] * 7)
    store.embedding.table["nan text"] = [0.1] * 7 + [math.nan]  # type: ignore[attr-defined]
    store.embedding.table["short text"] = [0.1] * 3  # type: ignore[attr-defined]
    with pytest.raises(VectorError, match="non-finite"):
        store.similarity_search("nan text")
    with pytest.raises(VectorError, match="non-finite"):
        store.add_texts(["doc 1", "nan text"], ids=["d1", "new"])
    with pytest.raises(VectorError, match="non-finite"):
        await store.aadd_texts(["nan text"])
    with pytest.raises(VectorError, match="received 3"):
        store.add_texts(["short text"], ids=["d2"])
    with pytest.raises(FilterError, match=r"'colour'.*not indexed.*\['color', 'doc_id', 'flag'"):
        store.similarity_search("query", filter={"colour": "red"})
    with pytest.raises(FilterError, match=r"'colour'.*not in the index"):
        await store.asimilarity_search("query", filter=Tag("colour") == "red")
    with pytest.raises(FilterError, match=r"unknown operator '\$regex'"):
        store.similarity_search("query", filter={"color": {"$regex": "r.*"}})
    with pytest.raises(FilterError, match=r"\$gt does not apply to tag field 'color'"):
        store.similarity_search("query", filter={"color": {"$gt": 1}})
    with pytest.raises(TypeError, match="filtr"):
        store.similarity_search("query", filtr={"color": "red"})

    assert stored_keys(client, names.prefix) == before
    docs = store.get_by_ids(["d1", "d2"])
    assert [d.page_content for d in docs] == ["doc 1", "doc 2"]
    assert [d.metadata for d in docs] == [METADATA[1], METADATA[2]]


async def test_metadata_round_trips_with_types(make_store, storage: str) -> None:
    store = make_store(storage_type=storage, metadata_schema=[{"name": "tags", "type": "tag"}])
    metadata = {
        "int": 3,
        "float": 2.5,
        "big": 2**60,
        "bool": True,
        "false": False,
        "none": None,
        "list": [1, "two", 3.0, None],
        "nested": {"a": {"b": [True, {"c": "日本語"}]}},
        "tags": ["a b", "c,d", "x|y"],
        "empty": "",
    }
    store.embedding.table["meta"] = [1.0] * DIMS  # type: ignore[attr-defined]
    [doc_id] = await store.aadd_documents([Document(page_content="meta", metadata=metadata)])
    for doc in (
        store.similarity_search("meta", k=1)[0],
        (await store.aget_by_ids([doc_id]))[0],
        store.get_by_ids([doc_id])[0],
    ):
        assert doc.id == doc_id
        assert doc.metadata == metadata
        assert type(doc.metadata["int"]) is int and type(doc.metadata["bool"]) is bool
    for tag in ("a b", "c,d", "x|y"):
        assert [d.id for d in store.similarity_search("meta", filter={"tags": tag})] == [doc_id]
    assert store.similarity_search("meta", filter={"tags": "a"}) == []


async def test_upsert_ttl_batches_delete_and_get(make_store, storage: str, client, names) -> None:
    store = make_store(storage_type=storage)
    texts = TEXTS[:50]
    ids = store.add_texts(texts, METADATA[:50], batch_size=7, ttl=300)
    assert len(set(ids)) == 50 and all(isinstance(i, str) and i for i in ids)
    assert stored_keys(client, names.prefix) == 50
    assert 0 < client.ttl(f"{names.prefix}{ids[0]}") <= 300
    # upsert: same ids, changed metadata, no duplicates, stale metadata gone
    await store.aadd_texts(texts[:5], [{"color": "blue"}] * 5, ids=ids[:5])
    assert stored_keys(client, names.prefix) == 50
    assert [d.metadata for d in store.get_by_ids(ids[:5])] == [{"color": "blue"}] * 5
    assert {d.id for d in store.similarity_search("query", k=50, filter={"year": 1990})} == {
        ids[i] for i in range(5, 50) if METADATA[i]["year"] == 1990
    }
    # get_by_ids keeps the asked order and skips missing ids
    assert [d.id for d in store.get_by_ids([ids[3], "nope", ids[1]])] == [ids[3], ids[1]]
    # delete by ids, by filter, everything
    assert store.delete(ids[:2]) is True
    assert await store.adelete(["never-existed"]) is True
    assert stored_keys(client, names.prefix) == 48
    store.delete(filter={"color": "blue"})
    left = [i for i in range(5, 50) if METADATA[i]["color"] != "blue"]
    assert stored_keys(client, names.prefix) == len(left)
    await store.adelete()
    assert stored_keys(client, names.prefix) == 0
    assert store.similarity_search("query") == []


async def test_index_created_on_first_use_and_checked(make_store, redis_url, names) -> None:
    store = make_store(metadata_schema=None)
    assert store.similarity_search("query") == []  # no index yet: nothing, and nothing created
    assert store.index_schema is None
    await store.aadd_texts(TEXTS[:3])
    assert store.index_schema is not None and store.index_schema.vector_field.dims == DIMS
    # a second store on the same index: reads its settings, refuses a disagreement
    same = make_store(metadata_schema=None)
    assert len(same.similarity_search("query", k=10)) == 3
    with pytest.raises(SchemaMismatchError, match=r"distance_metric: asked for 'l2'"):
        make_store(metadata_schema=None, distance_metric="L2").similarity_search("query")
    with pytest.raises(SchemaMismatchError, match=r"dims: asked for 16, index has 8"):
        await make_store(metadata_schema=None, dims=16).asimilarity_search("query")
    with pytest.raises(SchemaMismatchError, match=r"metadata field 'color'"):
        make_store(metadata_schema=[{"name": "color", "type": "tag"}]).add_texts(["doc 5"])


async def test_from_texts_documents_and_retrievers(redis_url: str, names) -> None:
    emb = TableEmbeddings(TABLE)
    common = {"index_name": names.index, "key_prefix": names.prefix, "redis_url": redis_url}
    store = RedisVectorStore.from_texts(TEXTS[:10], emb, METADATA[:10], ids=IDS[:10], **common)
    data, q = gt64()
    nearest = [IDS[i] for i in np.argsort(distances("cosine", data[:10], q), kind="stable")]
    assert [d.id for d in store.as_retriever(search_kwargs={"k": 3}).invoke("query")] == nearest[:3]
    docs = [
        Document(page_content=t, metadata=m, id=i)
        for t, m, i in zip(TEXTS[10:20], METADATA[10:20], IDS[10:20])
    ]
    other = await RedisVectorStore.afrom_documents(docs, emb, **common)
    assert {d.id for d in other.similarity_search("query", k=20)} == set(IDS[:20])
    filtered = store.as_retriever(search_kwargs={"k": 20, "filter": {"i": 3}})
    with pytest.raises(FilterError, match="not indexed"):  # 'i' is not in metadata_schema
        filtered.invoke("query")
    await store.aclose()
    await other.aclose()


async def test_concurrent_first_writes_create_the_index_once(make_store, client, names) -> None:
    store = make_store(metadata_schema=None)
    results = await asyncio.gather(*(store.aadd_texts([t]) for t in TEXTS[:6]))
    assert all(len(r) == 1 for r in results)
    assert stored_keys(client, names.prefix) == 6
    assert len(await store.asimilarity_search("query", k=10)) == 6


async def test_hnsw_options_and_ef_runtime(make_store, storage: str) -> None:
    store = make_store(
        storage_type=storage,
        distance_metric="L2",
        vector_options={"m": 8, "ef_construction": 100},
    )
    store.add_texts(TEXTS, METADATA, ids=IDS)
    info = store.index_schema
    assert info is not None and info.vector_field.algorithm == "hnsw" and info.vector_field.m == 8
    data, q = gt64()
    nearest = [IDS[i] for i in np.argsort(distances("l2", data, q), kind="stable")[:10]]
    got = await store.asimilarity_search("query", k=10, ef_runtime=200)
    assert len({d.id for d in got} & set(nearest)) >= 9  # HNSW is approximate; ef 200 on 120 docs
    with pytest.raises(ValueError, match="ef_runtime applies to KNN"):
        store.similarity_search("query", ef_runtime=10, distance_threshold=1.0)


class _CountingEmbeddings(TableEmbeddings):
    """Records how many texts each embedding call got; fails at the text named ``fail_at``."""

    def __init__(self, fail_at: str | None = None) -> None:
        super().__init__(TABLE)
        self.calls: list[int] = []
        self.fail_at = fail_at

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls.append(len(texts))
        if self.fail_at in texts:
            raise RuntimeError("the model is down")
        return super().embed_documents(texts)

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)


@pytest.mark.parametrize("run", ["sync", "async"])
async def test_add_texts_embeds_and_writes_a_batch_at_a_time(
    make_store: Callable[..., RedisVectorStore], run: str
) -> None:
    store = make_store()
    model = _CountingEmbeddings()
    store.embedding = model
    settled: list[int] = []
    options: dict[str, Any] = {"ids": IDS, "batch_size": 50, "progress": settled.append}
    if run == "sync":
        ids = store.add_texts(TEXTS, METADATA, **options)
    else:
        ids = await store.aadd_texts(TEXTS, METADATA, **options)
    assert ids == IDS and model.calls == [50, 50, 20] and settled == [50, 50, 20]
    assert store.index.count() == N
    # ground truth: each stored vector is the one its text embeds to
    for doc_id in ("d0", "d77", "d119"):
        (stored,) = store.index.fetch([doc_id])
        assert stored is not None
        np.testing.assert_array_equal(stored["embedding"], DATA[int(doc_id[1:])])
    # the model failing part-way: the batches before stay written, nothing after
    store.drop_index()
    failing = make_store()
    failing.embedding = _CountingEmbeddings(fail_at=TEXTS[60])
    with pytest.raises(RuntimeError, match="the model is down"):
        if run == "sync":
            failing.add_texts(TEXTS, METADATA, ids=IDS, batch_size=50)
        else:
            await failing.aadd_texts(TEXTS, METADATA, ids=IDS, batch_size=50)
    assert failing.index.count() == 50
