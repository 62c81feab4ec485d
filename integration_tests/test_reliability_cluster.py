"""Issue 8, item 3: the core's data path on a clustered endpoint (a local 3-shard Redis Cluster).

`SearchIndex.load`, `fetch`, `delete` and the key deletion behind `clear` / `delete_where` send
only single-key commands, so they work on a ``RedisCluster`` client whatever slots the keys hash
to. (The FT.* commands are not exercised here: on an OSS cluster the embedded search module is
per node; see README "Deployments".)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from _infra import local_cluster
from redis.cluster import RedisCluster

from redisvec.connection import ConnectionConfig
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField

pytestmark = pytest.mark.reliability

N = 1000
DIMS = 8


@pytest.fixture(scope="module")
def cluster_urls() -> Iterator[list[str]]:
    with local_cluster(3) as urls:
        yield urls


def _schema(storage: str) -> IndexSchema:
    tag = uuid.uuid4().hex[:8]
    return IndexSchema(
        f"cl_{tag}",
        prefixes=(f"cl_{tag}:",),
        storage=storage,
        fields=(
            TextField("body"),
            TagField("color"),
            NumericField("n"),
            VectorField("v", dims=DIMS, algorithm="flat"),
        ),
    )


def _records() -> tuple[list[str], list[dict[str, Any]], np.ndarray]:
    vectors = np.random.default_rng(3).standard_normal((N, DIMS)).astype(np.float32)
    ids = [f"doc-{i}-{uuid.uuid4().hex[:6]}" for i in range(N)]
    records = [
        {"body": f"text {i} ünïcode", "color": ("red", "blue", "green")[i % 3], "n": i, "v": v}
        for i, v in enumerate(vectors)
    ]
    return ids, records, vectors


def _key_counts(urls: list[str], prefix: str) -> list[int]:
    counts = []
    for url in urls:
        with redis.Redis.from_url(url) as node:
            counts.append(sum(1 for _ in node.scan_iter(match=f"{prefix}*", count=1000)))
    return counts


def _check_fetched(
    fetched: list[dict[str, Any] | None], records: list[dict[str, Any]], vectors: np.ndarray
) -> None:
    assert all(f is not None for f in fetched)
    for i, got in enumerate(fetched):
        assert got is not None
        assert got["body"] == records[i]["body"] and got["color"] == records[i]["color"]
        assert float(got["n"]) == i
        np.testing.assert_array_equal(np.asarray(got["v"], dtype=np.float32), vectors[i])


@pytest.mark.parametrize("storage", ["hash", "json"])
def test_sync_load_fetch_delete_across_slots(cluster_urls: list[str], storage: str) -> None:
    client = ConnectionConfig(url=cluster_urls[0], cluster=True).sync_client()
    assert isinstance(client, RedisCluster)
    schema = _schema(storage)
    index = SearchIndex(schema, client)  # type: ignore[arg-type]
    ids, records, vectors = _records()
    slots = {client.keyslot(schema.key(i)) for i in ids}
    assert len(slots) > 900  # the keys really span the slot space

    assert index.load(records, ids=ids, batch_size=250) == ids
    per_node = _key_counts(cluster_urls, schema.key_prefix)
    assert sum(per_node) == N and all(c > N // 5 for c in per_node)  # on all three shards
    _check_fetched(index.fetch(ids), records, vectors)

    # Upsert the same ids again (the HASH path unlinks then writes each key): still N keys.
    index.load(records, ids=ids, batch_size=333)
    assert sum(_key_counts(cluster_urls, schema.key_prefix)) == N

    assert index.delete(ids[:500]) == 500
    assert index.fetch(ids[:3]) == [None, None, None]
    assert index._delete_keys([schema.key(i) for i in ids[500:]]) == 500  # clear()'s key path
    assert _key_counts(cluster_urls, schema.key_prefix) == [0, 0, 0]
    client.close()


async def test_async_load_fetch_delete_across_slots(cluster_urls: list[str]) -> None:
    client = ConnectionConfig(url=cluster_urls[1], cluster=True).async_client()
    schema = _schema("hash")
    index = AsyncSearchIndex(schema, client)  # type: ignore[arg-type]
    ids, records, vectors = _records()
    assert await index.load(records, ids=ids, batch_size=400) == ids
    assert sum(_key_counts(cluster_urls, schema.key_prefix)) == N
    _check_fetched(await index.fetch(ids), records, vectors)
    assert await index.delete(ids) == N
    assert _key_counts(cluster_urls, schema.key_prefix) == [0, 0, 0]
    await client.aclose()


@pytest.mark.parametrize("storage", ["hash", "json"])
async def test_a_cluster_upsert_replaces_each_record_whole_with_its_ttl(
    cluster_urls: list[str], storage: str
) -> None:
    """On a cluster each record is upserted by one script (a batch's keys span slots, which one
    MULTI/EXEC cannot): a field the new version lacks is gone, the TTL is set, and a repeated id
    ends as its last version."""
    client = ConnectionConfig(url=cluster_urls[2], cluster=True).sync_client()
    aclient = ConnectionConfig(url=cluster_urls[2], cluster=True).async_client()
    schema = _schema(storage)
    index = SearchIndex(schema, client)  # type: ignore[arg-type]
    ids, records, _ = _records()
    index.load(records, ids=ids, batch_size=250)
    fewer = [{k: v for k, v in r.items() if k != "n"} | {"color": "gone"} for r in records]
    await AsyncSearchIndex(schema, aclient).load(  # type: ignore[arg-type]
        fewer, ids=ids, ttl=500, batch_size=300
    )
    fetched = index.fetch(ids)
    assert all(f is not None and "n" not in f and f["color"] == "gone" for f in fetched)
    assert {client.ttl(schema.key(i)) for i in ids[:50]} <= set(range(400, 501))
    index.load([records[0], fewer[0], records[0]], ids=[ids[0]] * 3)
    again = index.fetch([ids[0]])[0]
    assert again is not None and float(again["n"]) == 0 and again["color"] == "red"
    assert client.ttl(schema.key(ids[0])) == -1  # an upsert without ttl: no expiry
    index._delete_keys([schema.key(i) for i in ids])
    client.close()
    await aclient.aclose()
