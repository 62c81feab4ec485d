"""IndexSchema against a real server: what FT.CREATE accepts and what FT.INFO gives back, in
both RESP2 and RESP3, for our own indexes and for indexes made the way other tools make them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
import redis.asyncio as aredis
from redis.commands.search import field as rf

try:
    from redis.commands.search.index_definition import IndexDefinition, IndexType
except ImportError:  # redis-py < 6 spells the module indexDefinition
    from redis.commands.search.indexDefinition import IndexDefinition, IndexType  # type: ignore[no-redef]

from redisvec.errors import IndexNotFoundError
from redisvec.schema import (
    Field,
    GeoField,
    IndexSchema,
    NumericField,
    TagField,
    TextField,
    VectorField,
)

PROTOCOLS = [2, 3]


@pytest.fixture(params=PROTOCOLS, ids=["resp2", "resp3"])
def proto_client(request: pytest.FixtureRequest, redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url, protocol=request.param) as c:
        yield c


def _create(client: redis.Redis, schema: IndexSchema) -> None:
    client.execute_command("FT.CREATE", *schema.ft_create_args())


def _all_fields(datatypes: tuple[str, ...]) -> tuple[Field, ...]:
    """Every field type and option; one HNSW and one FLAT vector field per datatype."""
    out: list[Field] = [
        TextField("title", weight=2.5, no_stem=True, sortable=True, index_missing=True),
        TextField("body", index_empty=True),
        TagField("cat", separator="|", case_sensitive=True, sortable=True, index_empty=True),
        TagField("plain", index_missing=True),
        NumericField("n", sortable=True, index_missing=True),
        NumericField("plain_n"),
        GeoField("g", index_missing=True),
        GeoField("plain_g"),
    ]
    for i, datatype in enumerate(datatypes):
        metric = ("cosine", "l2", "ip")[i % 3]
        out.append(
            VectorField(
                f"h_{datatype}",
                dims=4 + i,
                datatype=datatype,
                distance_metric=metric,
                m=8 + i,
                ef_construction=100 + i,
            )
        )
        out.append(VectorField(f"f_{datatype}", dims=3, algorithm="flat", datatype=datatype))
    return tuple(out)


FLOATS = ("float32", "float64", "float16", "bfloat16")


@pytest.mark.parametrize("storage", ["hash", "json"])
def test_every_option_round_trips(proto_client: redis.Redis, names: Any, storage: str) -> None:
    fields = _all_fields(FLOATS)
    if storage == "json":  # nested paths and a JSON-only "no separator" tag as well
        fields += (NumericField("deep", path="$.meta.deep"), TagField("arr", separator=None))
    schema = IndexSchema(names.index, prefixes=(names.prefix,), storage=storage, fields=fields)
    _create(proto_client, schema)
    back = IndexSchema.from_existing(proto_client, names.index)
    assert back == schema
    assert schema.differences(back) == []


def test_int8_uint8_when_supported(proto_client: redis.Redis, names: Any) -> None:
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=tuple(
            VectorField(f"{alg}_{dt}", dims=4, algorithm=alg, datatype=dt)
            for dt in ("int8", "uint8")
            for alg in ("flat", "hnsw")
        ),
    )
    try:
        _create(proto_client, schema)
    except redis.ResponseError as exc:  # Redis < 8.0: detect, do not assume
        assert "Bad arguments" in str(exc)
        pytest.skip(f"server rejects INT8/UINT8 (needs Redis 8.0 search): {exc}")
    assert IndexSchema.from_existing(proto_client, names.index) == schema


def test_unreported_tunables_come_back_as_server_defaults(
    proto_client: redis.Redis,
    names: Any,
) -> None:
    """FT.INFO (search 2.10) omits EF_RUNTIME, EPSILON, BLOCK_SIZE and INITIAL_CAP, and always
    reports M / EF_CONSTRUCTION: the defaults 16 / 200 come back as None."""
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(
            VectorField("h", dims=4, m=16, ef_construction=200, ef_runtime=50, epsilon=0.2, initial_cap=10),
            VectorField("f", dims=4, algorithm="flat", block_size=64, initial_cap=10),
        ),
    )  # fmt: skip
    _create(proto_client, schema)
    back = IndexSchema.from_existing(proto_client, names.index)
    assert back.fields == (VectorField("h", dims=4), VectorField("f", dims=4, algorithm="flat"))
    assert schema.differences(back) == []


def test_azure_guide_index(proto_client: redis.Redis, names: Any) -> None:
    """The index exactly as the Azure Managed Redis vector guide creates it with redis-py."""
    proto_client.ft(names.index).create_index(
        fields=(
            rf.TextField("title"),
            rf.TextField("content"),
            rf.TagField("category"),
            rf.VectorField(
                "embedding", "HNSW", {"TYPE": "FLOAT32", "DIM": 1536, "DISTANCE_METRIC": "COSINE"}
            ),
        ),
        definition=IndexDefinition(prefix=["doc:"], index_type=IndexType.HASH),
    )
    schema = IndexSchema.from_existing(proto_client, names.index)
    assert schema == IndexSchema(
        names.index,
        prefixes=("doc:",),
        fields=(
            TextField("title"),
            TextField("content"),
            TagField("category"),
            VectorField("embedding", dims=1536),
        ),
    )
    assert schema.key_prefix == "doc:"
    assert (schema.vector_field.dims, schema.vector_field.distance_metric) == (1536, "cosine")
    assert schema.field_types == {
        "title": "text",
        "content": "text",
        "category": "tag",
        "embedding": "vector",
    }


def test_redisvl_style_index(proto_client: redis.Redis, names: Any) -> None:
    """redisvl (and langchain-redis, built on it) create through redis-py with the bare prefix
    (no separator), every HNSW parameter spelled out, and ``$.x AS x`` on JSON."""
    bare = names.prefix + "lc"  # e.g. langchain-redis: key_prefix defaults to the index name
    proto_client.ft(names.index).create_index(
        fields=(
            rf.TagField("id"),
            rf.TextField("text"),
            rf.TagField("source", separator="|"),
            rf.VectorField(
                "embedding",
                "HNSW",
                {
                    "TYPE": "FLOAT32", "DIM": 8, "DISTANCE_METRIC": "COSINE",
                    "M": 16, "EF_CONSTRUCTION": 200, "EF_RUNTIME": 10, "EPSILON": 0.01,
                },
            ),
        ),
        definition=IndexDefinition(prefix=[bare], index_type=IndexType.HASH),
    )  # fmt: skip
    found = IndexSchema.from_existing(proto_client, names.index)
    assert found.prefixes == (bare,)  # exactly as on the server: its key space
    assert found.key_prefix == bare  # ids are the rest of the key, so they round-trip
    assert found.key(found.id_from_key(bare + ":x")) == bare + ":x"
    asked = IndexSchema.from_dict(
        {
            "index": {"name": names.index, "prefix": bare, "storage_type": "hash"},
            "fields": [
                {"name": "id", "type": "tag"},
                {"name": "text", "type": "text"},
                {"name": "source", "type": "tag", "attrs": {"separator": "|"}},
                {
                    "name": "embedding",
                    "type": "vector",
                    "attrs": {"dims": 8, "distance_metric": "cosine", "algorithm": "hnsw"},
                },
            ],
        }
    )
    # asked with our separator, the prefix is another (smaller) key space than the bare one
    assert replace(found, prefixes=(bare + ":",)) == asked
    assert asked.differences(found) == [("prefixes", (bare + ":",), (bare,))]
    other = names.new("json")
    proto_client.ft(other.index).create_index(
        fields=(
            rf.TextField("$.text", as_name="text"),
            rf.VectorField(
                "$.embedding",
                "FLAT",
                {"TYPE": "FLOAT32", "DIM": 8, "DISTANCE_METRIC": "L2"},
                as_name="embedding",
            ),
        ),
        definition=IndexDefinition(prefix=[other.prefix], index_type=IndexType.JSON),
    )
    assert IndexSchema.from_existing(proto_client, other.index) == IndexSchema(
        other.index,
        prefixes=(other.prefix,),
        storage="json",
        fields=(
            TextField("text"),
            VectorField("embedding", dims=8, algorithm="flat", distance_metric="l2"),
        ),
    )


def test_hash_alias_and_json_default_separator(proto_client: redis.Redis, names: Any) -> None:
    proto_client.execute_command(
        "FT.CREATE", names.index, "ON", "HASH", "PREFIX", 1, names.prefix,
        "SCHEMA", "title", "AS", "t", "TEXT",
    )  # fmt: skip
    aliased = IndexSchema.from_existing(proto_client, names.index)
    assert aliased.fields == (TextField("t", path="title"),)
    other = names.new("j")
    proto_client.execute_command(
        "FT.CREATE", other.index, "ON", "JSON", "PREFIX", 1, other.prefix,
        "SCHEMA", "$.tags", "AS", "tags", "TAG",
    )  # fmt: skip
    schema = IndexSchema.from_existing(proto_client, other.index)
    assert schema.fields == (TagField("tags", separator=None),)
    # ... and our arguments recreate exactly that index.
    again = replace(schema, name=other.index + "_again")
    _create(proto_client, again)
    assert replace(IndexSchema.from_existing(proto_client, again.name), name=schema.name) == schema


def test_unit_separator_tag(proto_client: redis.Redis, names: Any) -> None:
    schema = IndexSchema(
        names.index, prefixes=(names.prefix,), fields=(TagField("t", separator="\x1f"),)
    )
    _create(proto_client, schema)
    assert IndexSchema.from_existing(proto_client, names.index) == schema
    proto_client.hset(schema.key("1"), mapping={"t": "a\x1fb,c"})
    proto_client.hset(schema.key("2"), mapping={"t": "b"})

    def ids(query: str) -> list[str]:
        reply = proto_client.execute_command(
            "FT.SEARCH", names.index, query, "NOCONTENT", "DIALECT", 2
        )
        keys = reply[1:] if isinstance(reply, list) else [r[b"id"] for r in reply[b"results"]]
        return sorted(schema.id_from_key(k.decode()) for k in keys)

    assert ids("@t:{a}") == ["1"]
    assert ids("@t:{b\\,c}") == ["1"]  # split on \x1f only: "b,c" is one tag
    assert ids("@t:{b}") == ["2"]


def test_prefix_without_separator_does_not_over_match(client: redis.Redis, names: Any) -> None:
    schema = IndexSchema(names.index, prefixes=(names.prefix + "doc",), fields=(TagField("t"),))
    _create(client, schema)
    client.hset(names.prefix + "doc:1", mapping={"t": "x"})
    client.hset(names.prefix + "document:1", mapping={"t": "x"})
    reply = client.execute_command("FT.SEARCH", names.index, "@t:{x}", "NOCONTENT", "DIALECT", 2)
    # RESP3 (redis-py >= 8's default) or RESP2 (older redis-py's)
    keys = reply[1:] if isinstance(reply, list) else [r[b"id"] for r in reply[b"results"]]
    assert keys == [(names.prefix + "doc:1").encode()]
    assert IndexSchema.from_existing(client, names.index).prefixes == (names.prefix + "doc:",)


def test_info_parsed_by_redis_py_is_accepted(proto_client: redis.Redis, names: Any) -> None:
    schema = IndexSchema(
        names.index, prefixes=(names.prefix,), fields=(TagField("t"), VectorField("v", dims=2))
    )
    _create(proto_client, schema)
    assert IndexSchema.from_info(proto_client.ft(names.index).info()) == schema


def test_missing_index(proto_client: redis.Redis, names: Any) -> None:
    with pytest.raises(IndexNotFoundError, match=names.index):
        IndexSchema.from_existing(proto_client, names.index)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_async_from_existing(
    async_client: aredis.Redis,
    redis_url: str,
    names: Any,
    protocol: int,
) -> None:
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage="json",
        fields=(TextField("title"), VectorField("v", dims=4, algorithm="flat")),
    )
    await async_client.execute_command("FT.CREATE", *schema.ft_create_args())
    c = aredis.Redis.from_url(redis_url, protocol=protocol)
    try:
        assert await IndexSchema.afrom_existing(c, names.index) == schema
        with pytest.raises(IndexNotFoundError):
            await IndexSchema.afrom_existing(c, names.index + "_missing")
    finally:
        await c.aclose()
