"""`wait_indexed` (and ``redisvec index info --wait``): an index created over documents that
already exist finds all of them only once the server's background scan has ended; waiting returns
then, with the index's info."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import redis
import redis.asyncio as aredis

from redisvec.cli import main
from redisvec.errors import IndexingTimeoutError
from redisvec.filters import Num
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import CountQuery
from redisvec.schema import IndexSchema, NumericField, VectorField

N = 60_000


def test_wait_indexed_returns_once_every_existing_document_is_indexed(
    own_server_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = redis.Redis.from_url(own_server_url)
    vectors = np.random.default_rng(3).normal(size=(N, 4)).astype(np.float32)
    for start in range(0, N, 5000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, start + 5000):
            pipe.hset(f"pre:{i}", mapping={"n": i, "v": vectors[i].tobytes()})
        pipe.execute()
    schema = IndexSchema(
        "pre", prefixes=("pre:",),
        fields=(NumericField("n"), VectorField("v", dims=4, algorithm="flat")),
    )  # fmt: skip
    index = SearchIndex(schema, client)
    index.create()
    first = index.info()
    if not first.indexing:  # the scan ended before one round trip: nothing to wait for here
        pytest.skip(f"{N} documents were indexed before FT.INFO answered")
    assert index.count() < N  # searches miss what the scan has not reached
    with pytest.raises(IndexingTimeoutError, match="still indexing"):
        index.wait_indexed(timeout=0)
    # the command line's spelling: index info --wait SECONDS (in process: no start-up delay)
    assert main(["--url", own_server_url, "index", "info", "pre", "--wait", "0"]) == 1
    assert "still indexing" in capsys.readouterr().err
    assert main(["--url", own_server_url, "index", "info", "pre", "--wait", "120", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["num_docs"], shown["indexing"]) == (N, False)
    info = index.wait_indexed(timeout=120)
    assert (info.indexing, info.percent_indexed, info.num_docs) == (False, 1.0, N)
    assert index.count() == N and index.count(Num("n") < 100) == 100

    async def twin() -> int:
        async with aredis.Redis.from_url(own_server_url) as aclient:
            aindex = AsyncSearchIndex(schema, aclient)
            assert (await aindex.wait_indexed(timeout=5)).num_docs == N
            return (await aindex.search(CountQuery())).total

    assert asyncio.run(twin()) == N
    index.drop(delete_documents=True)
    client.close()
