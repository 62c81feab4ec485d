"""Issue "No silent wrong answers", item 4: a zero vector on a COSINE index.

The server gives an all-zero vector a NaN cosine distance and can rank it first (an empty text
embeds to zeros with some models). It is refused on write, naming the record's id and the metric,
before anything of the batch is sent (what was stored stays as it was), and on query; L2 and IP
take zero vectors as they are. Core and both adapters, against the real server.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings
from conftest import Names

from redisvec import VectorError
from redisvec.index import SearchIndex
from redisvec.query import VectorQuery
from redisvec.schema import IndexSchema, TextField, VectorField

DIMS = 4
RNG = np.random.default_rng(2)
GOOD = (RNG.normal(size=(6, DIMS)) + 0.5).tolist()
ZERO = [0.0] * DIMS
NEG_ZERO = [-0.0] * DIMS


def snapshot(client: redis.Redis, prefix: str) -> dict[bytes, Any]:
    out: dict[bytes, Any] = {}
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        kind = client.type(key)
        out[key] = (
            client.hgetall(key) if kind == b"hash" else client.execute_command("JSON.GET", key)
        )
    return out


@pytest.mark.parametrize("storage", ["hash", "json"])
@pytest.mark.parametrize("zero", [ZERO, NEG_ZERO, np.zeros(DIMS, dtype=np.float32)])
def test_core_refuses_a_zero_vector_on_cosine_and_keeps_what_was_stored(
    client: redis.Redis, names: Names, storage: str, zero: Any
) -> None:
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage=storage,
        fields=(TextField("t"), VectorField("v", dims=DIMS, algorithm="flat")),
    )
    index = SearchIndex(schema, client)
    index.create()
    index.load([{"t": f"old {i}", "v": GOOD[i]} for i in range(4)], ids=[f"r{i}" for i in range(4)])
    before = snapshot(client, names.prefix)
    batch = [{"t": f"new {i}", "v": GOOD[i]} for i in range(4)] + [{"t": "", "v": zero}]
    ids = [f"r{i}" for i in range(4)] + ["empty-doc"]
    with pytest.raises(VectorError, match=r"record 'empty-doc'.*all zeros.*COSINE"):
        index.load(batch, ids=ids, batch_size=5)
    assert snapshot(client, names.prefix) == before  # nothing of the batch was written
    with pytest.raises(VectorError, match=r"all zeros.*COSINE"):
        index.search(VectorQuery(zero, k=3))
    assert index.count() == 4


@pytest.mark.parametrize("metric", ["l2", "ip"])
def test_other_metrics_take_zero_vectors(client: redis.Redis, names: Names, metric: str) -> None:
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(VectorField("v", dims=DIMS, algorithm="flat", distance_metric=metric),),
    )
    index = SearchIndex(schema, client)
    index.create()
    index.load([{"v": GOOD[0]}, {"v": ZERO}], ids=["g", "z"])
    hits = index.search(VectorQuery(ZERO, k=2)).hits
    expected = {"l2": ["z", "g"], "ip": None}[metric]  # ip: both distances are 1 - 0
    assert sorted(h.id for h in hits) == ["g", "z"]
    if expected is not None:
        assert [h.id for h in hits] == expected


def test_langchain_refuses_an_empty_text_that_embeds_to_zeros(
    redis_url: str, names: Names, client: redis.Redis
) -> None:
    from redisvec.langchain import RedisVectorStore

    table = {f"doc {i}": GOOD[i] for i in range(6)} | {"": ZERO}
    store = RedisVectorStore(
        TableEmbeddings(table), index_name=names.index, key_prefix=names.prefix,
        redis_url=redis_url, algorithm="FLAT",
    )  # fmt: skip
    try:
        # the first write: nothing is created or written
        with pytest.raises(VectorError, match=r"record 'e'.*all zeros.*COSINE"):
            store.add_texts(["doc 0", ""], ids=["d0", "e"])
        assert snapshot(client, names.prefix) == {}
        assert names.index.encode() not in client.execute_command("FT._LIST")
        store.add_texts([f"doc {i}" for i in range(4)], ids=[f"d{i}" for i in range(4)])
        before = snapshot(client, names.prefix)
        with pytest.raises(VectorError, match=r"record 'e'.*all zeros.*COSINE"):
            store.add_texts(["doc 4", "", "doc 5"], ids=["d0", "e", "d5"])
        assert snapshot(client, names.prefix) == before
        with pytest.raises(VectorError, match=r"all zeros.*COSINE"):
            store.similarity_search("", k=2)
        assert {d.id for d in store.similarity_search("doc 0", k=10)} == {f"d{i}" for i in range(4)}
    finally:
        store.close()


async def test_llama_index_refuses_zero_embeddings(
    redis_url: str, names: Names, client: redis.Redis
) -> None:
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from redisvec.llama_index import RedisVectorStore

    store = RedisVectorStore(
        index_name=names.index, key_prefix=names.prefix, redis_url=redis_url, algorithm="flat"
    )
    try:
        store.add([TextNode(id_=f"n{i}", text=f"t{i}", embedding=GOOD[i]) for i in range(3)])
        before = snapshot(client, names.prefix)
        batch = [TextNode(id_="n0", text="changed", embedding=GOOD[4]),
                 TextNode(id_="blank", text="", embedding=ZERO)]  # fmt: skip
        with pytest.raises(VectorError, match=r"record 'blank'.*all zeros.*COSINE"):
            store.add(batch)
        with pytest.raises(VectorError, match=r"record 'blank'.*all zeros.*COSINE"):
            await store.async_add(batch)
        assert snapshot(client, names.prefix) == before
        query = VectorStoreQuery(query_embedding=ZERO, similarity_top_k=2)
        with pytest.raises(VectorError, match=r"all zeros.*COSINE"):
            store.query(query)
        with pytest.raises(VectorError, match=r"all zeros.*COSINE"):
            await store.aquery(query)
    finally:
        await store.aclose()
