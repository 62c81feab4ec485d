"""A query the server cuts off at its time limit raises, instead of returning partial results.

The server's default policy (ON_TIMEOUT RETURN) answers a timed-out KNN query with whatever it had
found: on RESP2 that is indistinguishable from a real answer (here: zero hits), on RESP3 the reply
carries a warning, which redisvec turns into `QueryTimeoutError`.
"""

from __future__ import annotations

import numpy as np
import pytest
import redis

from redisvec import QueryTimeoutError, SearchIndex, Tag, VectorQuery
from redisvec.schema import IndexSchema, TagField, VectorField
from redisvec.server import LocalRedis

N, DIMS = 30_000, 256


@pytest.fixture(scope="module")
def slow_index() -> object:
    # A dedicated server: the test lowers its TIMEOUT to 1 ms.
    with LocalRedis() as server, redis.Redis.from_url(server.url, protocol=3) as client:
        schema = IndexSchema(
            "slow",
            prefixes=("slow",),
            fields=(
                TagField("t"),
                VectorField("v", dims=DIMS, algorithm="flat", distance_metric="l2"),
            ),
        )
        index = SearchIndex(schema, client)
        index.create()
        vectors = np.random.default_rng(0).normal(size=(N, DIMS)).astype(np.float32)
        index.load(
            [{"t": "a" if i % 2 else "b", "v": v} for i, v in enumerate(vectors)],
            ids=[str(i) for i in range(N)],
            batch_size=2000,
        )
        yield index, client, vectors


def test_timed_out_knn_raises_on_resp3(slow_index: tuple) -> None:  # type: ignore[type-arg]
    index, client, vectors = slow_index
    query = VectorQuery(vectors[0], k=10, filter=(Tag("t") == "a") | (Tag("t") == "b"))
    assert index.search(query).hits[0].id == "0"  # with the default limit it answers
    client.execute_command("FT.CONFIG", "SET", "TIMEOUT", "1")
    try:
        with pytest.raises(QueryTimeoutError, match="time limit"):
            for _ in range(20):  # a 1 ms limit: a 30k x 256 filtered scan cannot make it
                index.search(query)
    finally:
        client.execute_command("FT.CONFIG", "SET", "TIMEOUT", "500")
