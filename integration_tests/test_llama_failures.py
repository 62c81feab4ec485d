"""One test per failure of the current official integration (issue 5) that ours must not have."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis
from llama_index.core.schema import (
    ImageNode,
    IndexNode,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
)

from redisvec.errors import FilterError, SchemaMismatchError
from redisvec.llama_index import RedisVectorStore
from redisvec.server import LocalRedis

Op = FilterOperator
F = MetadataFilter
SCHEMA = [
    {"name": "color", "type": "tag"},
    {"name": "n", "type": "numeric"},
    {"name": "title", "type": "text"},
]


def vec(i: int, dims: int = 4) -> list[float]:
    return [float(x) for x in np.random.default_rng(i).normal(size=dims)]


def make(redis_url: str, names: Any, **kw: Any) -> RedisVectorStore:
    options: dict[str, Any] = {"metadata_schema": SCHEMA, "key_prefix": names.prefix}
    options.update(kw)
    return RedisVectorStore(index_name=names.index, redis_url=redis_url, **options)


def seed(store: RedisVectorStore) -> None:
    rows = [
        ("a", {"color": "red", "n": 0, "title": "hello world"}),
        ("b", {"color": "blue", "n": 1, "title": "hello) | @color:{blue"}),
        ("c", {"color": "green", "n": 2, "title": "goodbye world"}),
        ("d", {"n": 3}),
        ("e", {"color": "0", "n": 4, "title": ""}),
    ]
    store.add(
        [
            TextNode(id_=i, text=f"node {i}", embedding=vec(k), metadata=md)
            for k, (i, md) in enumerate(rows)
        ]
    )


def ids(
    store: RedisVectorStore, *filters: Any, condition: FilterCondition = FilterCondition.AND
) -> set[str]:
    got = store.get_nodes(filters=MetadataFilters(filters=list(filters), condition=condition))
    return {n.node_id for n in got}


@pytest.fixture
def store(redis_url: str, names: Any) -> RedisVectorStore:
    s = make(redis_url, names)
    seed(s)
    return s


def test_not_is_not_or(store: RedisVectorStore) -> None:
    red, blue = F(key="color", value="red"), F(key="color", value="blue")
    assert ids(store, red, blue, condition=FilterCondition.OR) == {"a", "b"}
    assert ids(store, red, blue, condition=FilterCondition.NOT) == {"c", "d", "e"}


def test_any_all_text_match_insensitive_and_is_empty_work(store: RedisVectorStore) -> None:
    assert ids(store, F(key="color", value=["red", "green"], operator=Op.ANY)) == {"a", "c"}
    assert ids(store, F(key="color", value=["red"], operator=Op.ALL)) == {"a"}
    assert ids(store, F(key="title", value="HELLO World", operator=Op.TEXT_MATCH_INSENSITIVE)) == {
        "a"
    }
    assert ids(store, F(key="color", value=None, operator=Op.IS_EMPTY)) == {"d"}
    assert ids(store, F(key="title", value=None, operator=Op.IS_EMPTY)) == {"d", "e"}


def test_tag_eq_with_empty_zero_or_list_does_not_match_everything(store: RedisVectorStore) -> None:
    with pytest.raises(FilterError, match="empty value"):
        ids(store, F(key="color", value=""))
    assert ids(store, F(key="color", value=0)) == {"e"}  # the tag "0", nothing else
    with pytest.raises(FilterError, match="one value"):
        ids(store, F(key="color", value=[]))


def test_text_match_values_are_escaped(store: RedisVectorStore) -> None:
    # query syntax in a value is punctuation between words: the words, anywhere
    hostile = F(key="title", value="hello) @color:{blue", operator=Op.TEXT_MATCH)
    assert ids(store, hostile) == {"b"}  # not a query that matches "red"/"blue"
    assert ids(store, F(key="title", value="world) (*", operator=Op.TEXT_MATCH)) == {"a", "c"}
    # '|' (redisvl's "any of") cannot be a word match: refused, not read as AND
    for value in ("hello) | @color:{blue", "world) | (*"):
        with pytest.raises(FilterError, match="any of"):
            ids(store, F(key="title", value=value, operator=Op.TEXT_MATCH))


def test_filter_on_unindexed_field_raises_and_delete_nodes_is_not_a_silent_no_op(
    store: RedisVectorStore,
) -> None:
    missing = MetadataFilters(filters=[F(key="author", value="x")])
    message = r"'author'.*not indexed.*indexed fields: \[.*'color'.*'n'.*'title'"
    with pytest.raises(FilterError, match=message):
        store.get_nodes(filters=missing)
    with pytest.raises(FilterError, match=message):
        store.delete_nodes(filters=missing)
    with pytest.raises(FilterError, match=message):
        store.query(VectorStoreQuery(query_embedding=vec(0), filters=missing))
    assert len(store.get_nodes()) == 5


def test_list_dict_bool_none_metadata_and_node_types_round_trip(redis_url: str, names: Any) -> None:
    s = make(redis_url, names)
    metadata = {
        "l": [1, "x"],
        "d": {"k": {"z": [True]}},
        "b": True,
        "none": None,
        "color": ["red", "x"],
    }
    nodes = [
        TextNode(id_="t", text="t", embedding=vec(1), metadata=metadata),
        IndexNode(id_="i", text="i", embedding=vec(2), index_id="elsewhere", metadata=metadata),
        ImageNode(
            id_="m", text="m", embedding=vec(3), image_url="http://x/y.png", metadata=metadata
        ),
    ]
    assert s.add(nodes) == ["t", "i", "m"]
    for original, back in zip(nodes, s.get_nodes(["t", "i", "m"])):
        assert type(back) is type(original)
        assert back.metadata == metadata
    result = s.query(VectorStoreQuery(query_embedding=vec(2), similarity_top_k=3))
    assert {type(n) for n in result.nodes} == {TextNode, IndexNode, ImageNode}


def test_ids_are_node_ids_not_keys(redis_url: str, names: Any) -> None:
    s = make(redis_url, names)
    tricky = [f"{names.prefix}x", "a:b:c", names.prefix.rstrip(":"), "日本:語"]
    nodes = [TextNode(id_=i, text=i, embedding=vec(k)) for k, i in enumerate(tricky)]
    assert s.add(nodes) == tricky
    result = s.query(VectorStoreQuery(query_embedding=vec(0), similarity_top_k=4))
    assert sorted(result.ids) == sorted(tricky)
    assert {n.node_id for n in result.nodes} == set(tricky)
    assert [n.node_id for n in s.get_nodes(tricky)] == tricky


@pytest.fixture(scope="module")
def capped_server() -> Any:
    with LocalRedis() as server:
        with redis.Redis.from_url(server.url) as c:
            c.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", "100")
        yield server


async def test_delete_get_and_delete_nodes_page_past_maxsearchresults(capped_server: Any) -> None:
    url = capped_server.url
    with redis.Redis.from_url(url) as c:
        assert b"100" in repr(c.execute_command("FT.CONFIG", "GET", "MAXSEARCHRESULTS")).encode()
    s = RedisVectorStore(index_name="capped", redis_url=url, metadata_schema=SCHEMA, dims=4)

    def batch(prefix: str, doc: str, color: str) -> list[TextNode]:
        return [
            TextNode(
                id_=f"{prefix}{i}",
                text="x",
                embedding=vec(i),
                metadata={"color": color},
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
            )
            for i in range(250)
        ]

    s.add(batch("p", "docP", "red") + batch("q", "docQ", "blue") + batch("r", "docR", "green"))
    with redis.Redis.from_url(url) as c, pytest.raises(redis.ResponseError, match="100"):
        c.execute_command(
            "FT.SEARCH", "capped", "*", "NOCONTENT", "LIMIT", 0, 250
        )  # the cap is real
    reds = MetadataFilters(filters=[F(key="color", value="red")])
    assert len(s.get_nodes(filters=reds)) == 250
    assert len(await s.aget_nodes(filters=reds)) == 250
    s.delete("docP")  # 250 nodes of one document
    assert len(s.get_nodes()) == 500
    s.delete_nodes(filters=MetadataFilters(filters=[F(key="color", value="blue")]))
    assert len(s.get_nodes()) == 250
    await s.adelete("docR")
    assert s.get_nodes() == []
    s.add(batch("z", "docZ", "red"))
    await s.adelete_nodes(filters=reds)
    assert await s.aget_nodes() == []


async def test_clear_works_and_overwrite_drops_exactly_once(redis_url: str, names: Any) -> None:
    first = make(redis_url, names)
    first.add([TextNode(id_=f"old{i}", text="old", embedding=vec(i)) for i in range(3)])
    first.clear()
    assert first.get_nodes() == []
    first.add([TextNode(id_=f"old{i}", text="old", embedding=vec(i)) for i in range(3)])
    fresh = make(redis_url, names, overwrite=True)
    await fresh.async_add([TextNode(id_="new1", text="new", embedding=vec(9))])  # drops old*, once
    fresh.add([TextNode(id_="new2", text="new", embedding=vec(8))])
    await fresh.async_add([TextNode(id_="new3", text="new", embedding=vec(7))])
    assert sorted(n.node_id for n in await fresh.aget_nodes()) == ["new1", "new2", "new3"]
    assert sorted(n.node_id for n in first.get_nodes()) == ["new1", "new2", "new3"]


async def test_an_existing_index_must_index_metadata_schema_with_its_types(
    redis_url: str, names: Any
) -> None:
    first = make(redis_url, names)
    first.add([TextNode(id_="a", text="x", embedding=vec(0), metadata={"color": "red"})])
    retyped = [{"name": "color", "type": "numeric"}, {"name": "extra", "type": "tag"}]
    store = make(redis_url, names, metadata_schema=retyped)
    with pytest.raises(SchemaMismatchError) as sync_error:
        store.get_nodes()
    with pytest.raises(SchemaMismatchError) as async_error:
        await store.aget_nodes()
    for message in (str(sync_error.value), str(async_error.value)):
        assert "metadata field 'color': asked for 'numeric', index has 'tag'" in message
        assert "metadata field 'extra': asked for 'tag', index has None" in message
    # fewer metadata fields than the index has, or none given: it is used as it is
    for schema in (SCHEMA[:1], None):
        other = make(redis_url, names, metadata_schema=schema)
        assert [n.node_id for n in other.get_nodes()] == ["a"]
    assert [n.node_id for n in first.get_nodes()] == ["a"]


@pytest.mark.parametrize("metric", ["L2", "IP"])
def test_scores_follow_the_metric(redis_url: str, names: Any, metric: str) -> None:
    s = make(redis_url, names, distance_metric=metric, algorithm="flat")
    far = [10.0, 0.0, 0.0, 0.0]
    s.add(
        [
            TextNode(id_="near", text="n", embedding=[1.0, 0, 0, 0]),
            TextNode(id_="far", text="f", embedding=far),
        ]
    )
    result = s.query(VectorStoreQuery(query_embedding=[1.0, 0, 0, 0], similarity_top_k=2))
    assert all(0.0 <= x <= 1.0 for x in result.similarities)
    if metric == "L2":  # 1 / (1 + euclidean): exact match 1, distance 9 -> 0.1 (not 1 - 81)
        assert result.ids == ["near", "far"]
        assert result.similarities == pytest.approx([1.0, 0.1])
    else:  # the raw dot products are 1 and 10: clipped to [0, 1], never above 1
        assert result.ids == ["far", "near"]
        assert result.similarities == pytest.approx([1.0, 1.0])


async def test_async_client_from_rediss_url_keeps_tls(names: Any) -> None:
    from _infra import tls_endpoint

    with LocalRedis() as server, tls_endpoint(server.port) as tls:
        s = RedisVectorStore(
            index_name=names.index,
            redis_url=tls.url,
            connection_options={"ssl_ca_certs": tls.ca_file},
            metadata_schema=SCHEMA,
        )
        before = tls.handshakes
        await s.async_add([TextNode(id_="t", text="secure", embedding=vec(1))])
        result = await s.aquery(VectorStoreQuery(query_embedding=vec(1)))
        assert result.ids == ["t"]
        assert tls.handshakes > before  # the async client went through the TLS terminator
        pool = s.async_client.connection_pool  # type: ignore[union-attr]
        assert "SSL" in pool.connection_class.__name__
        await s.aclose()


def test_mmr_hybrid_node_ids_doc_ids_query_str_alpha_mmr_threshold_are_honoured(
    redis_url: str, names: Any
) -> None:
    s = make(redis_url, names, algorithm="flat")
    base = np.array([1.0, 0.0, 0.0, 0.0])
    nodes = []
    for i in range(12):
        v = base + np.array([0, 0.01 * i, 0.3 * (i % 3), 0])  # three tight clusters
        nodes.append(
            TextNode(
                id_=f"n{i}",
                text="needle" if i == 11 else "hay",
                embedding=v.tolist(),
                metadata={"n": i},
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=f"d{i % 2}")},
            )
        )
    s.add(nodes)
    q = base.tolist()
    Mode = VectorStoreQueryMode
    plain = s.query(VectorStoreQuery(query_embedding=q, similarity_top_k=3)).ids
    mmr = s.query(
        VectorStoreQuery(query_embedding=q, similarity_top_k=3, mode=Mode.MMR, mmr_threshold=0.1)
    ).ids
    assert mmr != plain and mmr[0] == plain[0]
    mmr_1 = s.query(
        VectorStoreQuery(query_embedding=q, similarity_top_k=3, mode=Mode.MMR, mmr_threshold=1.0)
    ).ids
    assert mmr_1 == plain
    only = s.query(
        VectorStoreQuery(query_embedding=q, similarity_top_k=3, node_ids=["n5", "n7"])
    ).ids
    assert sorted(only) == ["n5", "n7"]
    by_doc = s.query(VectorStoreQuery(query_embedding=q, similarity_top_k=12, doc_ids=["d1"])).ids
    assert sorted(by_doc) == sorted(f"n{i}" for i in range(1, 12, 2))
    text = s.query(
        VectorStoreQuery(query_str="needle", similarity_top_k=3, mode=Mode.TEXT_SEARCH)
    ).ids
    assert text == ["n11"]

    def hybrid(alpha: float) -> list[str]:
        vsq = VectorStoreQuery(
            query_embedding=q, query_str="needle", similarity_top_k=3, mode=Mode.HYBRID, alpha=alpha
        )
        return s.query(vsq).ids

    assert hybrid(0.0)[0] == "n11" and hybrid(1.0) == plain
