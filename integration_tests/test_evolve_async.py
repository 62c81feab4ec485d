"""The async twins of `redisvec.evolve` (``aplan``, ``aapply``, ``arebuild``, ``aupdate_*``,
``aexpire_where``) against the real server, on ``redis.asyncio``.

They run the same operations as the sync functions (`test_evolve.py`); these tests check that the
async runner carries each of them through. Ground truth: plain Python over the generated metadata,
numpy for the vectors.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aredis
from test_evolve import (  # type: ignore[import-not-found]
    GENRES,
    _as_list,
    _corpus,
    _expected,
    _langchain_store,
)

from redisvec import (
    AsyncSearchIndex,
    IndexSchema,
    Num,
    SchemaError,
    SearchIndex,
    Tag,
    TagField,
    TextField,
    VectorField,
    VectorQuery,
    evolve,
)
from redisvec.layout import metadata_fields


async def _ids(index: AsyncSearchIndex, flt: Any) -> set[str]:
    return {index.schema.id_from_key(k) async for batch in index.iter_keys(flt) for k in batch}


async def test_async_add_field_plan_then_apply(
    redis_url: str, names: Any, async_client: aredis.Redis
) -> None:
    texts, vectors, metadatas = _corpus(300, seed=11)
    store, _ = _langchain_store(redis_url, names, (texts, vectors, metadatas))  # frozen after
    [genre] = metadata_fields([{"name": "genre", "type": "tag"}])
    the_plan = await evolve.aplan(async_client, names.index, store.index.schema.with_fields(genre))
    assert not the_plan.needs_rebuild and [f.name for f in the_plan.add] == ["genre"]
    done = await evolve.aapply(async_client, the_plan)
    assert done["backfilled"] == sum(1 for m in metadatas if "genre" in m)
    index = await AsyncSearchIndex.from_existing(async_client, names.index)
    for value in GENRES:
        assert await _ids(index, Tag("genre") == value) == _expected(metadatas, value), value


async def test_async_add_fields_refuses_a_field_it_has(
    redis_url: str, names: Any, async_client: aredis.Redis
) -> None:
    _langchain_store(redis_url, names, _corpus(10, seed=12))
    [n] = metadata_fields([{"name": "n", "type": "numeric"}])
    with pytest.raises(SchemaError, match="already has field"):
        await evolve.aadd_fields(async_client, names.index, [n])


async def test_async_rebuild_float32_to_float16_behind_an_alias(
    redis_url: str, names: Any, async_client: aredis.Redis, client: redis.Redis
) -> None:
    n = 600
    texts, vectors, metadatas = _corpus(n, seed=13)
    store, _ = _langchain_store(redis_url, names, (texts, vectors, metadatas))
    schema = store.index.schema
    target = schema.with_fields(replace(schema.vector_field, datatype="float16"))
    the_plan = await evolve.aplan(async_client, names.index, target)
    assert the_plan.rewrite_vectors
    batches: list[int] = []
    report = await evolve.arebuild(async_client, the_plan, batch_size=250, progress=batches.append)
    assert batches == [250, 250, 100] and report.copied == n
    assert report.new_index == f"{names.index}__v2"
    listed = {n.decode() for n in await async_client.execute_command("FT._LIST")}
    assert report.new_index in listed and names.index not in listed  # the name is an alias now
    assert (await evolve.aresolve(async_client, names.index))[0] == report.new_index
    index = await AsyncSearchIndex.from_existing(async_client, names.index)
    assert index.schema.vector_field.datatype == "float16"
    assert (await index.info()).num_docs == n
    stored = await index.fetch([str(i) for i in range(n)])
    got = np.stack([r["embedding"] for r in stored if r is not None]).astype(np.float32)
    assert np.array_equal(got, vectors.astype(np.float16).astype(np.float32))
    # each stored vector is its own nearest neighbour (cosine) through the alias
    for i in (0, 123, 599):
        hits = (await index.search(VectorQuery(vectors[i], k=1))).hits
        assert hits[0].key == f"{names.index}__v2:{i}"
    assert not list(client.scan_iter(match=f"{names.prefix}*"))  # the old copies are gone


async def test_async_metadata_updates_and_expiry(
    redis_url: str, names: Any, async_client: aredis.Redis
) -> None:
    texts, vectors, metadatas = _corpus(200, seed=14)
    store, _ = _langchain_store(redis_url, names, (texts, vectors, metadatas))
    [genre] = metadata_fields([{"name": "genre", "type": "tag"}])
    await evolve.aadd_fields(async_client, names.index, [genre])
    index = await AsyncSearchIndex.from_existing(async_client, names.index)
    expected = [dict(m) for m in metadatas]

    assert await evolve.aupdate_metadata(index, ["1", "2", "nope"], {"genre": "western"}) == 2
    for i in (1, 2):
        expected[i]["genre"] = "western"
    noir = {i for i, m in enumerate(expected) if "noir" in _as_list(m)}
    assert await evolve.aupdate_where(index, Tag("genre") == "noir", {"genre": None}) == len(noir)
    for i in noir:
        del expected[i]["genre"]
    for value in [*GENRES, "western"]:
        want = {str(i) for i, m in enumerate(expected) if value in _as_list(m)}
        assert await _ids(index, Tag("genre") == value) == want, value
    assert [d.metadata for d in store.get_by_ids([str(i) for i in range(200)])] == expected

    small = {str(i) for i in range(200) if expected[i]["n"] < 20}
    assert await evolve.aexpire_where(index, Num("n") < 20, 600) == len(small)
    ttls = {str(i): await async_client.ttl(names.prefix + str(i)) for i in range(200)}
    assert {i for i, t in ttls.items() if t > 0} == small
    assert await evolve.aexpire_where(index, Num("n") < 20, None) == len(small)
    assert all([await async_client.ttl(names.prefix + i) == -1 for i in small])


@pytest.mark.parametrize("storage", ["hash", "json"])
async def test_documents_without_a_json_copy_are_updated_field_by_field(
    names: Any, client: redis.Redis, async_client: aredis.Redis, storage: str
) -> None:
    # An index of another tool's layout (redisvl's, say): its fields are the metadata. An update
    # used to do nothing on HASH (no copy to merge into) and to add a copy holding only the
    # changes on JSON (which then hid the other fields from the adapters).
    schema = IndexSchema(
        names.index, prefixes=(names.prefix,), storage=storage,
        fields=(TextField("content"), TagField("category"), VectorField("embedding", dims=2)),
    )  # fmt: skip
    SearchIndex(schema, client).create()
    records = [{"content": f"c{i}", "category": "xy"[i % 2], "embedding": [1, i]} for i in range(6)]
    SearchIndex(schema, client).load(records, ids=[str(i) for i in range(6)])
    index = AsyncSearchIndex(schema, async_client)
    assert (
        await evolve.aupdate_metadata(index, ["0", "1", "nope"], {"category": "z", "n": "five"})
        == 2
    )
    assert await evolve.aupdate_where(index, Tag("category") == "y", {"category": None}) == 2
    expected = [
        dict(r, category="z", n="five") if i < 2 else dict(r) for i, r in enumerate(records)
    ]
    for i in (3, 5):
        del expected[i]["category"]
    fetched = await index.fetch([str(i) for i in range(6)])
    for want, got in zip(expected, fetched, strict=True):
        assert got is not None and "metadata" not in got
        assert {k: v for k, v in got.items() if k != "embedding"} == {
            k: v for k, v in want.items() if k != "embedding"
        }
    assert await _ids(index, Tag("category") == "z") == {"0", "1"}
    assert await _ids(index, Tag("category") == "x") == {"2", "4"}
