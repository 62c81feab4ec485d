"""Every query type of the core against a numpy / plain-Python ground truth on the real server.

FLAT indexes are exact, so ids must come back in the ground truth's order and distances must equal
the ones numpy computes over the vectors *as stored* (quantized to the index's datatype, the query
vector too). Run for every metric, every datatype the server accepts, HASH and JSON storage, and
RESP2 and RESP3 clients (FT.SEARCH reply shapes differ).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import redis

from redisvec.filters import Num, Tag
from redisvec.index import SearchIndex
from redisvec.query import CountQuery, FilterQuery, RangeQuery, TextQuery, VectorQuery
from redisvec.results import Hit, distance_to_similarity
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField

DIMS = 8
N = 60
COLORS = ("red", "green", "blue")
WORDS = ("apple", "banana", "cherry", "grape")
FLOATS = ("float32", "float64", "float16", "bfloat16")
# Distance tolerance per datatype: the server computes in float32 (float64 for FLOAT64).
TOLERANCE = {"float32": 1e-5, "float64": 1e-9, "float16": 1e-3, "bfloat16": 1e-4}


# --- ground truth (numpy, independent of redisvec's codec) ----------------------------------------


def _bfloat16_nearest(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Nearest bfloat16 value of each float32 (ties to even), by comparing the two neighbours."""
    bits = x.astype(np.float32).view(np.uint32)
    low = (bits & np.uint32(0xFFFF0000)).view(np.float32).astype(np.float64)
    high = ((bits & np.uint32(0xFFFF0000)) + np.uint32(0x10000)).view(np.float32).astype(np.float64)
    value = x.astype(np.float64)
    d_low, d_high = np.abs(value - low), np.abs(high - value)
    low_even = ((bits >> 16) & 1) == 0
    pick_low = (d_low < d_high) | ((d_low == d_high) & low_even)
    return np.where(pick_low, low, high).astype(np.float32)


def as_stored(x: npt.NDArray[Any], datatype: str) -> npt.NDArray[np.float64]:
    if datatype == "bfloat16":
        return _bfloat16_nearest(np.asarray(x, dtype=np.float32)).astype(np.float64)
    dtype = {"float32": np.float32, "float64": np.float64, "float16": np.float16}[datatype]
    return np.asarray(x).astype(dtype).astype(np.float64)


def true_distances(
    stored: npt.NDArray[Any], q: npt.NDArray[Any], metric: str, datatype: str
) -> Any:
    if metric == "cosine":
        # The server normalizes COSINE vectors (stored and query) and keeps the unit vectors in
        # the index's datatype: 1 - dot of the re-quantized unit vectors.
        def unit(x: npt.NDArray[Any]) -> Any:
            norms = np.linalg.norm(x, axis=-1, keepdims=True)
            return as_stored(x / norms, datatype)

        return 1.0 - unit(stored) @ unit(q)
    if metric == "l2":
        return ((stored - q) ** 2).sum(axis=1)  # squared, as the server reports it
    if metric == "ip":
        return 1.0 - stored @ q
    raise ValueError(metric)


def assert_ranked(
    hits: Sequence[Any], truth: dict[str, float], expected_ids: Sequence[str], tol: float
) -> None:
    """Hits equal ``expected_ids`` in order, distances equal the truth; only ids whose true
    distances are within ``tol`` of each other may swap (float16 rounding)."""
    got = [h.id for h in hits]
    assert len(got) == len(expected_ids), (got, expected_ids)
    for h in hits:
        assert h.distance == pytest.approx(truth[h.id], abs=tol, rel=tol), h.id
    for g, e in zip(got, expected_ids):
        assert g == e or abs(truth[g] - truth[e]) <= 2 * tol, (got, expected_ids)
    assert set(got) == set(expected_ids) or all(
        abs(truth[g] - truth[expected_ids[-1]]) <= 2 * tol for g in set(got) - set(expected_ids)
    )


# --- fixtures ----------------------------------------------------------------------------------


def _supported_datatypes(url: str) -> dict[str, str | None]:
    """datatype -> None when the server accepts it, else the reason to skip."""
    out: dict[str, str | None] = {}
    with redis.Redis.from_url(url) as c:
        for dt in (*FLOATS, "int8", "uint8"):
            name = f"__redisvec_probe_{dt}"
            try:
                c.execute_command(
                    "FT.CREATE", name, "ON", "HASH", "PREFIX", 1, f"{name}:", "SCHEMA",
                    "v", "VECTOR", "FLAT", 6, "TYPE", dt.upper(), "DIM", 2, "DISTANCE_METRIC", "L2",
                )  # fmt: skip
                c.execute_command("FT.DROPINDEX", name)
                out[dt] = None
            except redis.ResponseError as exc:
                out[dt] = f"the server refuses {dt.upper()} vectors ({exc})"
    return out


@pytest.fixture(scope="module")
def supported(redis_url: str) -> dict[str, str | None]:
    return _supported_datatypes(redis_url)


def make_records(rng: np.random.Generator, n: int = N) -> tuple[list[dict[str, Any]], Any]:
    vectors = rng.normal(size=(n, DIMS)).astype(np.float64) / math.sqrt(DIMS)
    records = [
        {
            "color": COLORS[i % 3],
            "n": i,
            "body": f"{WORDS[i % 4]} {WORDS[(i * 7) % 4]} pie",
            "v": vectors[i],
        }
        for i in range(n)
    ]
    return records, vectors


def schema_for(name: str, prefix: str, storage: str, metric: str, datatype: str) -> IndexSchema:
    return IndexSchema(
        name,
        prefixes=(prefix,),
        storage=storage,
        fields=(
            TagField("color"),
            NumericField("n", sortable=True),
            TextField("body"),
            VectorField(
                "v", dims=DIMS, algorithm="flat", datatype=datatype, distance_metric=metric
            ),
        ),
    )


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def proto_client(request: pytest.FixtureRequest, redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, protocol=request.param) as c:
        yield c


# --- FLAT: every query type, exact ----------------------------------------------------------


@pytest.mark.parametrize("storage", ["hash", "json"])
@pytest.mark.parametrize("metric", ["cosine", "l2", "ip"])
@pytest.mark.parametrize("datatype", [*FLOATS, "int8", "uint8"])
def test_flat_queries_equal_numpy(
    proto_client: redis.Redis,
    names: Any,
    supported: dict[str, str | None],
    storage: str,
    metric: str,
    datatype: str,
) -> None:
    if supported[datatype]:
        pytest.skip(str(supported[datatype]))
    rng = np.random.default_rng(zlib.crc32(f"{storage}-{metric}-{datatype}".encode()))
    records, vectors = make_records(rng)
    index = SearchIndex(
        schema_for(names.index, names.prefix, storage, metric, datatype), proto_client
    )
    index.create()
    ids = [f"r{i}" for i in range(N)]
    assert index.load(records, ids=ids) == ids
    assert index.count() == N
    stored = as_stored(vectors, datatype)
    tol = TOLERANCE[datatype]
    q = rng.normal(size=DIMS) / math.sqrt(DIMS)
    d = true_distances(stored, as_stored(q, datatype), metric, datatype)
    truth = dict(zip(ids, d.tolist()))
    order = [ids[i] for i in np.argsort(d, kind="stable")]

    # KNN with k > 10 (the server's default LIMIT), vectors returned as stored
    res = index.search(VectorQuery(q, k=25, return_fields=["color", "n"], return_vector=True))
    assert res.total == 25 or res.total == N
    assert_ranked(res.hits, truth, order[:25], tol)
    for h in res.hits:
        i = ids.index(h.id)
        assert h.fields["color"] == COLORS[i % 3] and float(h.fields["n"]) == i
        assert h.vector is not None
        # JSON numbers are text: RedisJSON may print a float64 1 ulp off
        np.testing.assert_allclose(np.asarray(h.vector, dtype=np.float64), stored[i], rtol=1e-15)
    # the same KNN as rows (the adapters' reader): ids, distances and values as stored
    rows = index.search_rows(VectorQuery(q, k=25, return_fields=["color", "n"]), ["n", "color"])
    assert_ranked(
        [Hit(rid, "", {}, distance) for rid, distance, _, _ in rows], truth, order[:25], tol
    )
    assert [(n, color) for _, _, n, color in rows] == [
        (str(ids.index(rid)), COLORS[ids.index(rid) % 3]) for rid, *_ in rows
    ]
    sims = [distance_to_similarity(h.distance or 0.0, metric) for h in res.hits]
    assert all(0.0 <= s <= 1.0 for s in sims)
    assert all(a >= b for a, b in itertools.pairwise(sims))

    # filtered KNN: the filter evaluated in Python over the same records
    flt = (Tag("color") == ["red", "blue"]) & (Num("n") >= 10) & ~(Num("n") == 33)
    keep = [
        rid
        for rid, r in zip(ids, records)
        if r["color"] in ("red", "blue") and r["n"] >= 10 and r["n"] != 33
    ]
    expected = sorted(keep, key=lambda rid: (truth[rid], ids.index(rid)))[:12]
    res = index.search(VectorQuery(q, k=12, filter=flt))
    assert_ranked(res.hits, truth, expected, tol)

    # range: every record within the threshold (L2: squared distance), nearest first
    ranked = sorted(d)
    threshold = (ranked[14] + ranked[15]) / 2
    res = index.search(RangeQuery(q, distance_threshold=threshold))
    assert_ranked(res.hits, truth, order[:15], tol)
    assert all((h.distance or 0.0) <= threshold for h in res.hits)
    # range with a filter
    expected = [rid for rid in order[:15] if records[ids.index(rid)]["color"] == "green"]
    res = index.search(RangeQuery(q, distance_threshold=threshold, filter=Tag("color") == "green"))
    assert_ranked(res.hits, truth, expected, tol)

    # filter-only, sorted by a numeric field; and count
    res = index.search(
        FilterQuery(Tag("color") == "blue", return_fields=["n"], sort_by="n", ascending=False,
                    limit=100)
    )  # fmt: skip
    expected = [rid for rid, r in sorted(zip(ids, records), key=lambda p: -p[1]["n"])
                if r["color"] == "blue"]  # fmt: skip
    assert [h.id for h in res.hits] == expected
    assert res.total == len(expected)
    assert index.count(Num("n").between(5, 20)) == 16
    assert index.search(CountQuery(Tag("color") == "red")).total == N // 3

    # text: the records whose body holds the word
    res = index.search(TextQuery("cherry", k=N, return_fields=["body"]))
    assert {h.id for h in res.hits} == {
        rid for rid, r in zip(ids, records) if "cherry" in r["body"]
    }
    assert all(h.score is not None for h in res.hits)


# --- HNSW recall, ef_runtime ---------------------------------------------------------------


def test_hnsw_recall_at_ef_runtime_100(client: redis.Redis, names: Any) -> None:
    rng = np.random.default_rng(7)
    n, dims = 10_000, 64
    vectors = rng.normal(size=(n, dims)).astype(np.float32)
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(VectorField("v", dims=dims, algorithm="hnsw", distance_metric="l2"),),
    )
    index = SearchIndex(schema, client)
    index.create()
    index.load([{"v": v} for v in vectors], ids=[str(i) for i in range(n)], batch_size=1000)
    assert index.info().num_docs == n
    stored = vectors.astype(np.float64)
    hits = 0
    queries = rng.normal(size=(20, dims)).astype(np.float32)
    for q in queries:
        truth = np.argsort(((stored - q.astype(np.float64)) ** 2).sum(axis=1))[:10]
        res = index.search(VectorQuery(q, k=10, ef_runtime=100))
        assert len(res.hits) == 10
        hits += len({str(i) for i in truth} & {h.id for h in res.hits})
    assert hits / 200 >= 0.95


@pytest.mark.parametrize("algorithm", ["flat", "hnsw"])
def test_ids_restrict_before_the_knn(client: redis.Redis, names: Any, algorithm: str) -> None:
    """``ids`` (INKEYS) picks the k nearest among those records, not the global k nearest
    filtered afterwards (which would return fewer than k): compared with numpy on the subset."""
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(300, 8))
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(
            TagField("color"),
            TextField("body"),
            VectorField("v", dims=8, algorithm=algorithm, distance_metric="l2"),
        ),
    )
    index = SearchIndex(schema, client)
    index.create()
    index.load(
        [{"v": v, "color": "ab"[i % 2], "body": "pie"} for i, v in enumerate(vectors)],
        ids=[str(i) for i in range(300)],
    )
    q = vectors[0]
    order = np.argsort(((vectors - q) ** 2).sum(axis=1))
    subset = [int(i) for i in order[150:170]]  # far from q: none in the global top 10
    chosen = [str(i) for i in subset] + ["no-such-id"]
    got = index.search(VectorQuery(q, k=5, ids=chosen))
    assert [h.id for h in got.hits] == [str(i) for i in subset[:5]]
    flt = Tag("color") == "a"
    with_filter = index.search(VectorQuery(q, k=5, ids=chosen, filter=flt))
    assert [h.id for h in with_filter.hits] == [str(i) for i in subset if i % 2 == 0][:5]
    everyone = {h.id for h in index.search(FilterQuery(ids=chosen, limit=100)).hits}
    assert everyone == {str(i) for i in subset}
    assert index.search(FilterQuery(ids=[])).total == 0
    everything_near = index.search(RangeQuery(q, 1e9, k=500, ids=chosen))
    assert [h.id for h in everything_near.hits] == [str(i) for i in subset]
    if algorithm == "flat":  # exact: the radius of the 10th of the subset takes its first 10
        radius = float(((vectors[subset[9]] - q) ** 2).sum()) * (1 + 1e-6)
        in_range = index.search(RangeQuery(q, radius, k=500, ids=chosen))
        assert [h.id for h in in_range.hits] == [str(i) for i in subset[:10]]
    text = index.search(TextQuery("pie", k=100, ids=chosen))
    assert {h.id for h in text.hits} == {str(i) for i in subset}


def test_ef_runtime_is_sent(client: redis.Redis, names: Any) -> None:
    flat = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(VectorField("v", dims=4, algorithm="flat"),),
    )
    index = SearchIndex(flat, client)
    index.create()
    index.load([{"v": [1.0, 2.0, 3.0, 4.0]}], ids=["a"])
    with pytest.raises(ValueError, match="HNSW") as caught:
        index.search(VectorQuery([1.0, 0, 0, 0], ef_runtime=100))
    assert names.index in str(caught.value)
    # A schema that (wrongly) says HNSW makes the client send EF_RUNTIME: the FLAT index refuses.
    lying = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(VectorField("v", dims=4, algorithm="hnsw"),),
    )
    with pytest.raises(redis.ResponseError):
        SearchIndex(lying, client).search(VectorQuery([1.0, 0, 0, 0], ef_runtime=100))
    assert len(SearchIndex(lying, client).search(VectorQuery([1.0, 0, 0, 0])).hits) == 1


def test_query_vector_of_wrong_length_is_refused_before_sending(
    client: redis.Redis, names: Any
) -> None:
    index = SearchIndex(schema_for(names.index, names.prefix, "hash", "l2", "float32"), client)
    index.create()
    with pytest.raises(ValueError, match=rf"{names.index}.*'v'.*expected {DIMS}.*received 3"):
        index.search(VectorQuery([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="non-finite"):
        index.search(VectorQuery([math.nan] * DIMS))
