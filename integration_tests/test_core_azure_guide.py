"""An index built with raw redis-py exactly as in the Azure Managed Redis vector guide, opened with
`SearchIndex.from_existing`: KNN, hybrid (tag filter) and range through the core must equal the raw
``FT.SEARCH`` results of the guide's own queries (ids and distances), EF_RUNTIME included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from redis.commands.search.field import TagField, TextField, VectorField

try:
    from redis.commands.search.index_definition import IndexDefinition, IndexType
except ImportError:  # redis-py < 6 spells the module indexDefinition
    from redis.commands.search.indexDefinition import IndexDefinition, IndexType  # type: ignore[no-redef]
from redis.commands.search.query import Query

from redisvec.filters import Tag
from redisvec.index import SearchIndex
from redisvec.query import RangeQuery, VectorQuery

DIMS = 1536
N = 200
CATEGORIES = ("documentation", "tutorial", "faq")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def guide_index(request: pytest.FixtureRequest, redis_url: str, names: Any) -> Iterator[Any]:
    """The guide's index (its ``doc:`` prefix, made unique per test) and its documents."""
    prefix = f"doc:{names.prefix}"
    with redis.Redis.from_url(redis_url, protocol=request.param) as client:
        schema = (
            TextField("title"),
            TextField("content"),
            TagField("category"),
            VectorField(
                "embedding",
                "HNSW",
                {"TYPE": "FLOAT32", "DIM": DIMS, "DISTANCE_METRIC": "COSINE"},
            ),
        )
        client.ft(names.index).create_index(
            fields=schema,
            definition=IndexDefinition(prefix=[prefix], index_type=IndexType.HASH),
        )
        rng = np.random.default_rng(1536)
        documents = [
            {
                "id": f"{i:03d}",
                "title": f"Title {i}",
                "content": f"Azure AI content number {i}",
                "embedding": rng.normal(size=DIMS),
                "category": CATEGORIES[i % 3],
            }
            for i in range(N)
        ]
        pipeline = client.pipeline()
        for doc in documents:
            vector_bytes = np.array(doc["embedding"], dtype=np.float32).tobytes()
            pipeline.hset(
                f"{prefix}{doc['id']}",
                mapping={
                    "title": doc["title"],
                    "content": doc["content"],
                    "embedding": vector_bytes,
                    "category": doc.get("category", "general"),
                },
            )
        pipeline.execute()
        try:
            yield client, names.index, prefix, rng
        finally:
            client.ft(names.index).dropindex(delete_documents=True)


def _raw(client: redis.Redis, index: str, query: Query, vector: Any) -> list[tuple[str, float]]:
    res = client.ft(index).search(query, query_params={"query_vec": vector})
    if isinstance(res, dict):  # RESP3: redis-py returns the map (str or bytes keys)
        res = {(k.decode() if isinstance(k, bytes) else k): v for k, v in res.items()}
        rows = []
        for r in res["results"]:
            r = {(k.decode() if isinstance(k, bytes) else k): v for k, v in r.items()}
            attrs = {(k.decode() if isinstance(k, bytes) else k): v
                     for k, v in r["extra_attributes"].items()}  # fmt: skip
            key = r["id"].decode() if isinstance(r["id"], bytes) else r["id"]
            rows.append((key, float(attrs["score"])))
    else:
        rows = [(d.id, float(d.score)) for d in res.docs]
    return rows


def _core(hits: Any, prefix: str) -> list[tuple[str, float]]:
    return [(prefix + h.id, float(h.distance)) for h in hits]


def test_guide_queries_through_the_core_equal_raw_ft_search(guide_index: Any) -> None:
    client, name, prefix, rng = guide_index
    index = SearchIndex.from_existing(client, name)
    vf = index.schema.vector_field
    assert (vf.name, vf.dims, vf.algorithm, vf.datatype, vf.distance_metric) == (
        "embedding", DIMS, "hnsw", "float32", "cosine",
    )  # fmt: skip
    assert index.schema.key_prefixes == (prefix,)
    assert index.count() == N
    q = rng.normal(size=DIMS)
    query_bytes = np.array(q, dtype=np.float32).tobytes()

    knn = (
        Query("*=>[KNN 5 @embedding $query_vec AS score]")
        .return_fields("title", "content", "score")
        .sort_by("score")
        .dialect(2)
    )
    raw = _raw(client, name, knn, query_bytes)
    res = index.search(VectorQuery(q, k=5, return_fields=["title", "content"]))
    assert [i for i, _ in _core(res.hits, prefix)] == [i for i, _ in raw]
    np.testing.assert_allclose([d for _, d in _core(res.hits, prefix)], [d for _, d in raw],
                               rtol=1e-6)  # fmt: skip
    assert all(h.key.startswith(prefix) and h.fields["title"] for h in res.hits)

    hybrid = (
        Query("@category:{documentation}=>[KNN 3 @embedding $query_vec AS score]")
        .return_fields("title", "category", "score")
        .sort_by("score")
        .dialect(2)
    )
    raw = _raw(client, name, hybrid, query_bytes)
    res = index.search(VectorQuery(q, k=3, filter=Tag("category") == "documentation"))
    assert [i for i, _ in _core(res.hits, prefix)] == [i for i, _ in raw]
    np.testing.assert_allclose([d for _, d in _core(res.hits, prefix)], [d for _, d in raw],
                               rtol=1e-6)  # fmt: skip
    assert all(h.fields["category"] == "documentation" for h in res.hits)

    # The guide's threshold (0.2) finds nothing among random vectors: use one past the 3rd hit.
    threshold = float(res.hits[-1].distance or 0) + 0.05
    rng_query = (
        Query(f"@embedding:[VECTOR_RANGE {threshold} $query_vec]=>{{$YIELD_DISTANCE_AS: score}}")
        .return_fields("title", "score")
        .sort_by("score")
        .paging(0, N)
        .dialect(2)
    )
    raw = _raw(client, name, rng_query, query_bytes)
    assert raw, "the range query should find something"
    res = index.search(RangeQuery(q, distance_threshold=threshold, k=N))
    assert [i for i, _ in _core(res.hits, prefix)] == [i for i, _ in raw]
    np.testing.assert_allclose([d for _, d in _core(res.hits, prefix)], [d for _, d in raw],
                               rtol=1e-6)  # fmt: skip

    ef = (
        Query("*=>[KNN 10 @embedding $query_vec EF_RUNTIME 200 AS score]")
        .return_fields("title", "score")
        .sort_by("score")
        .dialect(2)
    )
    raw = _raw(client, name, ef, query_bytes)
    res = index.search(VectorQuery(q, k=10, ef_runtime=200))
    assert [i for i, _ in _core(res.hits, prefix)] == [i for i, _ in raw]
    np.testing.assert_allclose([d for _, d in _core(res.hits, prefix)], [d for _, d in raw],
                               rtol=1e-6)  # fmt: skip

    # and the ground truth: exact cosine over the stored float32 vectors
    stored = np.stack(
        [np.frombuffer(client.hget(prefix + f"{i:03d}", "embedding"), dtype=np.float32)
         for i in range(N)]
    ).astype(np.float64)  # fmt: skip
    qq = np.asarray(q, dtype=np.float32).astype(np.float64)
    d = 1 - stored @ qq / (np.linalg.norm(stored, axis=1) * np.linalg.norm(qq))
    assert [h.id for h in res.hits] == [f"{i:03d}" for i in np.argsort(d)[:10]]
