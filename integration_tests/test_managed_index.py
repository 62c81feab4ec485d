"""`ManagedIndex` on a real server: an existing index is opened and checked, a missing one created
by the first write (and only by a good one), concurrent creators agree on one index, drop then
recreate, overwrite once, and the async twin does the same. What the server holds is read back
with FT.INFO / SCAN, not taken from the object under test."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis

from redisvec.connection import Connections
from redisvec.errors import IndexNotFoundError, SchemaError, SchemaMismatchError, VectorError
from redisvec.index import SearchIndex
from redisvec.layout import DocumentLayout, metadata_fields
from redisvec.managed import ManagedIndex
from redisvec.schema import IndexSchema

COLOR = tuple(metadata_fields([{"name": "color", "type": "tag"}]))
HINT = "Try the other thing."

Make = Callable[..., ManagedIndex]


@pytest.fixture
async def make(redis_url: str, names: Any) -> AsyncIterator[Make]:
    made: list[ManagedIndex] = []

    def build(layout: DocumentLayout | None = None, **options: Any) -> ManagedIndex:
        managed = ManagedIndex(
            Connections(redis_url),
            layout or DocumentLayout(),
            index_name=names.index,
            key_prefix=names.prefix,
            hint=HINT,
            **options,
        )
        made.append(managed)
        return managed

    yield build
    for managed in made:
        await managed.connections.aclose()


def server_dims(client: redis.Redis, name: str) -> int | None:
    """The vector dimension of index ``name`` on the server, or None when it does not exist."""
    if name.encode() not in client.execute_command("FT._LIST"):
        return None
    return IndexSchema.from_existing(client, name).vector_field.dims


def keys(client: redis.Redis, prefix: str) -> int:
    return sum(1 for _ in client.scan_iter(match=f"{prefix}*"))


def existing(client: redis.Redis, names: Any, dims: int = 4) -> SearchIndex:
    """An index made without ManagedIndex, holding one document."""
    layout = DocumentLayout(indexed=COLOR)
    index = SearchIndex(
        layout.build_schema(index_name=names.index, dims=dims, key_prefix=names.prefix), client
    )
    index.create()
    index.load(layout.to_records(["a"], [[0.5] * dims], [{"color": "red"}]), ids=["a"])
    return index


def test_opens_and_checks_an_existing_index(make: Make, client: redis.Redis, names: Any) -> None:
    made = existing(client, names)
    managed = make()  # no dims, no metadata fields: takes the index as it is
    index = managed.index()
    assert index is not None and index.schema == IndexSchema.from_existing(client, names.index)
    assert managed.index() is index  # built once, then a plain attribute read
    assert "color" in {f.name for f in managed.layout.indexed}  # the index's own fields
    assert index.fetch(["a"])[0] is not None and keys(client, names.prefix) == 1
    kept = make(DocumentLayout(indexed=COLOR), use_index_fields=False)
    assert kept.index() is not None and kept.layout == kept.requested
    assert made.schema.vector_field.dims == 4


def test_a_mismatch_names_both_sides_and_the_hint(
    make: Make, client: redis.Redis, names: Any
) -> None:
    existing(client, names, dims=4)
    with pytest.raises(SchemaMismatchError) as caught:
        make(dims=8, distance_metric="L2").index()
    message = str(caught.value)
    assert "dims: asked for 8, index has 4" in message
    assert "distance_metric: asked for 'l2', index has 'cosine'" in message
    assert message.endswith(HINT)
    with pytest.raises(SchemaMismatchError, match="dims: asked for 3, index has 4"):
        make().index([[0.1, 0.2, 0.3]])  # no dims given: the batch's
    numeric = tuple(metadata_fields([{"name": "color", "type": "numeric"}]))
    with pytest.raises(SchemaMismatchError, match="metadata field 'color': asked for 'numeric'"):
        make(DocumentLayout(indexed=numeric)).index()
    assert server_dims(client, names.index) == 4 and keys(client, names.prefix) == 1


def test_created_from_the_first_vector_or_dims(make: Make, client: redis.Redis, names: Any) -> None:
    managed = make()
    assert managed.index() is None and managed.index([]) is None  # nothing to size it by
    assert server_dims(client, names.index) is None
    index = managed.index([[0.1] * 5, [0.2] * 5])
    assert index is not None and server_dims(client, names.index) == 5
    assert managed.layout == managed.requested and index.schema == managed.schema
    other = make(dims=5)  # configured dims win, and agree with the index now there
    assert other.index([[0.1] * 5]) is not None


@pytest.mark.parametrize(
    "batch",
    [[[0.1, 0.2, 0.3], [0.1, 0.2]], [[math.nan, 0.1, 0.2]], [["a", "b", "c"]]],
    ids=["ragged", "nan", "text"],
)
def test_a_bad_first_batch_creates_nothing(
    make: Make, client: redis.Redis, names: Any, batch: list[list[Any]]
) -> None:
    managed = make()
    with pytest.raises(VectorError):
        managed.index(batch)
    assert server_dims(client, names.index) is None and managed.schema is None
    with pytest.raises(VectorError, match="expected 6 dimensions, received 3"):
        make(dims=6).index([[0.1, 0.2, 0.3]])  # configured dims: the batch must fit them
    assert server_dims(client, names.index) is None
    assert managed.index([[0.1, 0.2, 0.3]]) is not None  # a good batch afterwards creates it
    assert server_dims(client, names.index) == 3


async def test_concurrent_creators_share_one_index(
    make: Make, client: redis.Redis, names: Any
) -> None:
    managers = [make() for _ in range(8)]
    indexes = await asyncio.gather(*(m.aindex([[0.1] * 7]) for m in managers))
    assert all(i is not None and i.schema == indexes[0].schema for i in indexes)  # type: ignore[union-attr]
    assert server_dims(client, names.index) == 7
    assert [i.decode() for i in client.execute_command("FT._LIST")].count(names.index) == 1


async def test_concurrent_creators_that_disagree(
    make: Make, client: redis.Redis, names: Any
) -> None:
    outcomes = await asyncio.gather(
        make().aindex([[0.1] * 4]), make().aindex([[0.1] * 9]), return_exceptions=True
    )
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == 1 and isinstance(failed[0], SchemaMismatchError), outcomes
    assert server_dims(client, names.index) in (4, 9)
    assert "dims: asked for" in str(failed[0])


def test_drop_then_recreate(make: Make, client: redis.Redis, names: Any) -> None:
    existing(client, names, dims=4)
    managed = make()
    assert managed.index() is not None
    managed.drop()
    assert server_dims(client, names.index) is None and keys(client, names.prefix) == 0
    assert managed.schema is None and managed.layout == managed.requested
    assert managed.index() is None  # forgotten, and nothing to create from
    assert managed.index([[0.1] * 6]) is not None and server_dims(client, names.index) == 6
    managed.drop(delete_documents=False)
    managed.drop()  # nothing left: a no-op
    assert server_dims(client, names.index) is None


def test_a_store_opened_by_name_does_not_recreate(
    make: Make, client: redis.Redis, names: Any
) -> None:
    existing(client, names, dims=4)
    managed = make()
    managed.adopt(IndexSchema.from_existing(client, names.index), text_field="text")
    managed.existing_only = True
    client.execute_command("FT.DROPINDEX", names.index)
    managed.forget()
    with pytest.raises(IndexNotFoundError, match=names.index):
        managed.index([[0.1] * 4])
    assert server_dims(client, names.index) is None
    with pytest.raises(SchemaError, match="'color' is not a vector field"):
        make().adopt(existing(client, names).schema, vector_field="color")


async def test_async_twin_and_overwrite_once(make: Make, client: redis.Redis, names: Any) -> None:
    existing(client, names, dims=4)
    with pytest.raises(SchemaMismatchError, match="dims: asked for 2, index has 4"):
        await make(dims=2).aindex()
    fresh = make(overwrite=True)
    with pytest.raises(VectorError):  # a bad batch drops nothing, and the overwrite is kept
        await fresh.aindex([[math.inf] * 3])
    assert server_dims(client, names.index) == 4 and keys(client, names.prefix) == 1
    index = await fresh.aindex([[0.1] * 3])
    assert index is not None and await fresh.aindex() is index
    assert server_dims(client, names.index) == 3 and keys(client, names.prefix) == 0
    await index.load(fresh.layout.to_records(["b"], [[0.1] * 3], [{}]), ids=["b"])
    fresh.forget()  # overwrite happens once: the next first contact keeps the index
    assert await fresh.aindex() is not None and keys(client, names.prefix) == 1
    await fresh.adrop()
    assert server_dims(client, names.index) is None and keys(client, names.prefix) == 0
    assert fresh.schema is None and await fresh.aindex() is None
