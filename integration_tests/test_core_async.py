"""`AsyncSearchIndex` on ``redis.asyncio``: every operation tested as its sync twin is, against the
same kind of ground truth (numpy distances, plain redis commands), on RESP2 and RESP3 clients."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aredis

from redisvec.errors import (
    BatchWriteError,
    IndexNotFoundError,
    SchemaError,
    SchemaMismatchError,
    SearchUnavailableError,
    VectorError,
)
from redisvec.filters import Num, Tag
from redisvec.index import AsyncSearchIndex
from redisvec.query import FilterQuery, RangeQuery, VectorQuery
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField
from redisvec.server import LocalRedis, find_binaries

DIMS = 6
N = 40


def make_schema(names: Any, storage: str, *, dims: int = DIMS, metric: str = "l2") -> IndexSchema:
    return IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage=storage,
        fields=(
            TagField("color"),
            NumericField("n", sortable=True),
            TextField("body"),
            VectorField("v", dims=dims, algorithm="flat", distance_metric=metric),
        ),
    )


@pytest.fixture(params=[(2, "hash"), (3, "hash"), (2, "json"), (3, "json")],
                ids=["resp2-hash", "resp3-hash", "resp2-json", "resp3-json"])  # fmt: skip
async def aindex(
    request: pytest.FixtureRequest, redis_url: str, names: Any
) -> AsyncIterator[AsyncSearchIndex]:
    protocol, storage = request.param
    client = aredis.Redis.from_url(redis_url, protocol=protocol)
    try:
        yield AsyncSearchIndex(make_schema(names, storage), client)
    finally:
        await client.aclose()


def records(rng: np.random.Generator, n: int = N) -> tuple[list[dict[str, Any]], Any]:
    vectors = rng.normal(size=(n, DIMS)).astype(np.float32)
    return [
        {"color": ("red", "green")[i % 2], "n": i, "body": f"doc {i}", "v": vectors[i]}
        for i in range(n)
    ], vectors.astype(np.float64)


async def keys_under(client: aredis.Redis, prefix: str) -> set[str]:
    return {k.decode() async for k in client.scan_iter(match=f"{prefix}*", count=1000)}


async def test_lifecycle_load_search_delete(aindex: AsyncSearchIndex, names: Any) -> None:
    client = aindex.client
    assert not await aindex.exists()
    await aindex.create()
    assert await aindex.exists()
    await aindex.create()  # exist_ok
    with pytest.raises(SchemaMismatchError):
        await aindex.create(exist_ok=False)

    rng = np.random.default_rng(11)
    recs, vectors = records(rng)
    ids = [f"r{i}" for i in range(N)]
    assert await aindex.load(recs, ids=ids, batch_size=7, ttl=500) == ids
    assert 490 < await client.ttl(names.prefix + "r3") <= 500
    info = await aindex.info()
    assert (info.num_docs, info.indexing, info.percent_indexed) == (N, False, 1.0)
    assert await aindex.count() == N
    assert await aindex.count(Tag("color") == "red") == N // 2

    # KNN k > 10, filtered KNN and range vs numpy (squared L2 on the stored float32 values)
    q = rng.normal(size=DIMS).astype(np.float32)
    d = ((vectors - q.astype(np.float64)) ** 2).sum(axis=1)
    order = [ids[i] for i in np.argsort(d)]
    res = await aindex.search(VectorQuery(q, k=15, return_vector=True))
    assert [h.id for h in res.hits] == order[:15]
    np.testing.assert_allclose([h.distance for h in res.hits], np.sort(d)[:15], rtol=1e-5)
    for h in res.hits:
        assert h.vector is not None
        np.testing.assert_array_equal(h.vector, vectors[ids.index(h.id)].astype(np.float32))
    res = await aindex.search(
        VectorQuery(q, k=12, filter=(Tag("color") == "green") & (Num("n") > 9))
    )
    assert [h.id for h in res.hits] == [i for i in order if int(i[1:]) % 2 and int(i[1:]) > 9][:12]
    threshold = float((np.sort(d)[9] + np.sort(d)[10]) / 2)
    res = await aindex.search(RangeQuery(q, distance_threshold=threshold))
    assert [h.id for h in res.hits] == order[:10]
    rows = await aindex.search_rows(RangeQuery(q, threshold, return_fields=["n"]), ["n"])
    assert [(rid, n) for rid, _, n in rows] == [(i, i[1:]) for i in order[:10]]
    np.testing.assert_allclose([dist for _, dist, _ in rows], np.sort(d)[:10], rtol=1e-5)
    res = await aindex.search(FilterQuery(Num("n") < 5, sort_by="n", limit=50))
    assert [h.id for h in res.hits] == ["r0", "r1", "r2", "r3", "r4"]

    pages = [p async for p in aindex.paginate(FilterQuery(sort_by="n"), page_size=16)]
    assert [h.id for p in pages for h in p] == ids

    # fetch: order kept, None for missing, vectors as loaded
    got = await aindex.fetch(["r5", "nope", "r0"])
    assert got[1] is None and got[0] is not None and got[2] is not None
    assert got[0]["color"] == "green" and float(got[0]["n"]) == 5
    np.testing.assert_array_equal(np.asarray(got[2]["v"], dtype=np.float32), vectors[0])

    # upsert: stale fields gone, count unchanged
    await aindex.load([{"body": "new", "v": vectors[0]}], ids=["r0"])
    fresh = (await aindex.fetch(["r0"]))[0]
    assert fresh is not None and "color" not in fresh and fresh["body"] == "new"
    assert await aindex.count() == N

    # iter_keys / delete / delete_where / clear
    batches = [b async for b in aindex.iter_keys(batch_size=9)]
    assert all(len(b) <= 9 for b in batches)
    assert sorted(k for b in batches for k in b) == sorted(names.prefix + i for i in ids)
    assert await aindex.delete(["r1", "r2", "missing"]) == 2
    assert (
        await aindex.delete_where(Tag("color") == "red") == N // 2 - 2
    )  # r0 lost its tag, r2 gone
    assert await aindex.count() == N - 2 - (N // 2 - 2)
    assert await aindex.clear() == N // 2
    assert await keys_under(client, names.prefix) == set()
    assert await aindex.exists()

    await aindex.drop(delete_documents=True)
    assert not await aindex.exists()


async def test_from_existing_and_check_schema(aindex: AsyncSearchIndex, names: Any) -> None:
    client = aindex.client
    with pytest.raises(IndexNotFoundError, match=names.index):
        await AsyncSearchIndex.from_existing(client, names.index)
    with pytest.raises(IndexNotFoundError, match=names.index):
        await aindex.check_schema()
    await aindex.create()
    await aindex.load([{"color": "red", "v": [1.0] * DIMS}], ids=["a"])
    opened = await AsyncSearchIndex.from_existing(client, names.index)
    assert opened.schema.vector_field == aindex.schema.vector_field
    assert opened.schema.storage == aindex.schema.storage
    await opened.check_schema()
    assert (await opened.search(VectorQuery([1.0] * DIMS, k=1))).hits[0].id == "a"

    other = AsyncSearchIndex(make_schema(names, aindex.schema.storage, dims=8, metric="ip"), client)
    for attempt in (other.check_schema, other.create):
        with pytest.raises(SchemaMismatchError) as caught:
            await attempt()
        assert "dims: asked for 8, index has 6" in str(caught.value)
        assert "distance_metric: asked for 'ip', index has 'l2'" in str(caught.value)
    assert await aindex.count() == 1


async def test_bad_input_sends_nothing_of_its_batch(aindex: AsyncSearchIndex, names: Any) -> None:
    """A batch is validated whole before it is sent; the batches before a bad record's are
    written (a load streams)."""
    await aindex.create()
    await aindex.load([{"n": 1, "v": [0.5] * DIMS}], ids=["keep"])
    for bad, error in (
        ({"v": [1.0] * 3}, VectorError),
        ({"v": [float("inf")] * DIMS}, VectorError),
        ({"color": "x,y", "v": [1.0] * DIMS}, SchemaError),
        ({"n": "many", "v": [1.0] * DIMS}, SchemaError),
    ):
        with pytest.raises(error, match=names.index):
            await aindex.load([{"v": [1.0] * DIMS}] * 3 + [bad], batch_size=4)
        with pytest.raises(error, match=names.index):
            await aindex.load([{"v": [1.0] * DIMS}] * 3 + [bad], ids=list("abcd"), batch_size=2)
        assert await keys_under(aindex.client, names.prefix) == {
            names.prefix + i for i in ("keep", "a", "b")
        }
        await aindex.delete(["a", "b"])
    assert await keys_under(aindex.client, names.prefix) == {names.prefix + "keep"}
    with pytest.raises(VectorError, match="expected 6 dimensions, received 2"):
        await aindex.search(VectorQuery([1.0, 2.0]))


async def test_batch_write_error(redis_url: str, names: Any) -> None:
    client = aredis.Redis.from_url(redis_url)
    try:
        index = AsyncSearchIndex(make_schema(names, "json"), client)
        await index.create()
        await client.set(names.prefix + "b", "a string")
        with pytest.raises(BatchWriteError) as caught:
            await index.load([{"n": i, "v": [1.0] * DIMS} for i in range(5)],
                             ids=["a", "b", "c", "d", "e"], batch_size=2)  # fmt: skip
        assert caught.value.failed_ids == ["b"]
        assert sorted(caught.value.written_ids) == ["a", "c", "d", "e"]
        assert await index.count() == 4
        assert await client.get(names.prefix + "b") == b"a string"
        raw = await client.execute_command("JSON.GET", names.prefix + "e")
        assert json.loads(raw)["n"] == 4
    finally:
        await client.aclose()


# --- iter_keys past MAXSEARCHRESULTS, a server without search -----------------------------------


@pytest.fixture(scope="module")
def capped_server() -> Iterator[str]:
    with LocalRedis() as server:
        with redis.Redis.from_url(server.url) as c:
            c.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", "50")
        yield server.url


@pytest.mark.parametrize("protocol", [2, 3])
async def test_iter_keys_beyond_maxsearchresults(capped_server: str, protocol: int) -> None:
    client = aredis.Redis.from_url(capped_server, protocol=protocol)
    names = type("N", (), {"index": f"acap{protocol}", "prefix": f"acap{protocol}:"})
    try:
        index = AsyncSearchIndex(make_schema(names, "hash"), client)
        await index.create(overwrite=True, drop_documents=True)
        ids = [str(i) for i in range(120)]
        await index.load([{"n": i, "v": [1.0] * DIMS} for i in range(120)], ids=ids)
        keys = [k async for b in index.iter_keys(batch_size=40) for k in b]
        assert sorted(keys) == sorted(names.prefix + i for i in ids)
        assert await index.delete_where(Num("n") >= 100) == 20
        assert await index.clear() == 100
        await index.drop()
    finally:
        await client.aclose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bare_server() -> Iterator[str]:
    binary = find_binaries().server
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"redis://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    with redis.Redis.from_url(url) as c:
                        c.ping()
                        try:
                            c.execute_command("FT._LIST")
                        except redis.ResponseError:
                            break
                        pytest.skip("this redis-server has search built in")
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


async def test_server_without_search(bare_server: str, names: Any) -> None:
    client = aredis.Redis.from_url(bare_server)
    try:
        index = AsyncSearchIndex(make_schema(names, "hash"), client)
        for call in (
            index.exists, index.create, index.info, index.check_schema, index.count,
            lambda: AsyncSearchIndex.from_existing(client, names.index),
            lambda: index.search(VectorQuery([1.0] * DIMS)),
        ):  # fmt: skip
            with pytest.raises(SearchUnavailableError, match="Redis 8 or later"):
                await call()
    finally:
        await client.aclose()
