"""Conformance suite for `redisvec.llama_index.RedisVectorStore` (LlamaIndex has no standard one).

Modelled on LangChain's ``VectorStoreIntegrationTests``: an empty store, add / query / upsert /
mutation / delete by document / delete_nodes / get_nodes / clear, missing ids, node round trips.
Every case runs sync and async, on hash and json storage, against the real server.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
import pytest
from llama_index.core.schema import (
    BaseNode,
    Document,
    IndexNode,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)
from llama_index.core.vector_stores.types import (
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from redisvec.llama_index import RedisVectorStore

DIMS = 8
SCHEMA = [{"name": "color", "type": "tag"}, {"name": "n", "type": "numeric"}]
ASYNC = {
    "add": "async_add",
    "delete": "adelete",
    "delete_nodes": "adelete_nodes",
    "get_nodes": "aget_nodes",
    "clear": "aclear",
    "query": "aquery",
}


class Runner:
    """Calls a store method, or its async twin: the same test body covers both."""

    def __init__(self, store: RedisVectorStore, use_async: bool) -> None:
        self.store, self.use_async = store, use_async

    async def __call__(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if self.use_async:
            result = getattr(self.store, ASYNC[name])(*args, **kwargs)
            assert inspect.isawaitable(result)
            return await result
        return getattr(self.store, name)(*args, **kwargs)


def vec(i: int) -> list[float]:
    rng = np.random.default_rng(i)
    return [float(x) for x in rng.normal(size=DIMS)]


def node(i: int, doc: str = "docA", **metadata: Any) -> TextNode:
    return TextNode(
        id_=f"node-{i}",
        text=f"text number {i}",
        embedding=vec(i),
        metadata={"color": "red" if i % 2 else "blue", "n": i, **metadata},
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=doc)},
    )


@pytest.fixture(params=["hash", "json"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest, redis_url: str, names: Any, storage: str) -> Runner:
    store = RedisVectorStore(
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        storage_type=storage,
        metadata_schema=SCHEMA,
    )
    return Runner(store, request.param == "async")


def q(i: int, k: int = 4, **kw: Any) -> VectorStoreQuery:
    return VectorStoreQuery(query_embedding=vec(i), similarity_top_k=k, **kw)


def ids_of(nodes: list[BaseNode]) -> list[str]:
    return sorted(n.node_id for n in nodes)


async def test_store_is_empty(run: Runner) -> None:
    result = await run("query", q(0))
    assert result.ids == [] and result.nodes == [] and result.similarities == []
    assert await run("get_nodes") == []
    assert await run("get_nodes", ["node-1"]) == []
    await run("delete", "nothing")  # no index yet: nothing to do, no error
    await run("clear")


async def test_add_returns_node_ids_and_query_finds_them(run: Runner) -> None:
    nodes = [node(i) for i in range(5)]
    assert await run("add", nodes) == [n.node_id for n in nodes]
    result = await run("query", q(3, k=1))
    assert result.ids == ["node-3"]
    assert result.nodes[0].get_content() == "text number 3"
    assert result.nodes[0].metadata == {"color": "red", "n": 3}
    assert result.similarities[0] == pytest.approx(1.0, abs=1e-5)


async def test_add_nothing(run: Runner) -> None:
    assert await run("add", []) == []


async def test_add_with_same_ids_is_idempotent(run: Runner) -> None:
    nodes = [node(i) for i in range(4)]
    await run("add", nodes)
    await run("add", nodes)
    assert ids_of(await run("get_nodes")) == [f"node-{i}" for i in range(4)]
    assert len((await run("query", q(0, k=10))).ids) == 4


async def test_add_by_id_with_mutation(run: Runner) -> None:
    await run("add", [node(i) for i in range(3)])
    changed = node(1)
    changed.set_content("new text")
    changed.metadata = {"n": 100}  # color removed: must not linger in the index
    await run("add", [changed])
    (got,) = await run("get_nodes", ["node-1"])
    assert got.get_content() == "new text"
    assert got.metadata == {"n": 100}
    reds = MetadataFilters(filters=[MetadataFilter(key="color", value="red")])
    assert ids_of(await run("get_nodes", filters=reds)) == []


async def test_delete_by_ref_doc_id(run: Runner) -> None:
    await run(
        "add", [node(i, doc="docA") for i in range(3)] + [node(i, doc="docB") for i in range(3, 6)]
    )
    await run("delete", "docA")
    assert ids_of(await run("get_nodes")) == ["node-3", "node-4", "node-5"]
    assert set((await run("query", q(0, k=10))).ids) == {"node-3", "node-4", "node-5"}


async def test_delete_missing_ref_doc_id(run: Runner) -> None:
    await run("add", [node(i) for i in range(2)])
    await run("delete", "no-such-doc")
    assert len(await run("get_nodes")) == 2


async def test_delete_nodes_by_ids(run: Runner) -> None:
    await run("add", [node(i) for i in range(5)])
    await run("delete_nodes", ["node-0", "node-4", "missing"])
    assert ids_of(await run("get_nodes")) == ["node-1", "node-2", "node-3"]


async def test_delete_nodes_by_filters_and_by_both(run: Runner) -> None:
    await run("add", [node(i) for i in range(6)])
    reds = MetadataFilters(filters=[MetadataFilter(key="color", value="red")])
    await run("delete_nodes", ["node-1", "node-2"], filters=reds)  # intersection: node-1 only
    assert ids_of(await run("get_nodes")) == ["node-0", "node-2", "node-3", "node-4", "node-5"]
    await run("delete_nodes", filters=reds)
    assert ids_of(await run("get_nodes")) == ["node-0", "node-2", "node-4"]
    with pytest.raises(ValueError, match="clear"):
        await run("delete_nodes")


async def test_get_nodes_by_ids_filters_and_both(run: Runner) -> None:
    nodes = [node(i) for i in range(6)]
    await run("add", nodes)
    got = await run("get_nodes", ["node-2", "missing", "node-5"])
    assert [n.node_id for n in got] == ["node-2", "node-5"]
    assert got[0].embedding == pytest.approx(nodes[2].embedding, rel=1e-6)
    big = MetadataFilters(filters=[MetadataFilter(key="n", value=3, operator=FilterOperator.GTE)])
    assert ids_of(await run("get_nodes", filters=big)) == ["node-3", "node-4", "node-5"]
    assert ids_of(await run("get_nodes", ["node-1", "node-4"], filters=big)) == ["node-4"]
    assert await run("get_nodes", []) == []


async def test_clear_empties_and_store_stays_usable(run: Runner) -> None:
    await run("add", [node(i) for i in range(4)])
    await run("clear")
    assert await run("get_nodes") == []
    assert (await run("query", q(0))).ids == []
    await run("add", [node(9)])
    assert (await run("query", q(9, k=3))).ids == ["node-9"]


async def test_top_k_above_ten_returns_k(run: Runner) -> None:
    await run("add", [node(i) for i in range(30)])
    assert len((await run("query", q(0, k=25))).ids) == 25


async def test_nodes_round_trip_whole(run: Runner) -> None:
    text = TextNode(
        id_="t1",
        text="body of t1",
        embedding=vec(1),
        metadata={
            "color": "red",
            "n": 7,
            "ratio": 0.25,
            "flag": False,
            "tags": ["a", "b,c"],
            "nested": {"k": [1, {"x": None}]},
            "none": None,
            "unicode": "日本語",
        },
        relationships={
            NodeRelationship.SOURCE: RelatedNodeInfo(node_id="doc-1", metadata={"p": 1}),
            NodeRelationship.PREVIOUS: RelatedNodeInfo(node_id="t0"),
            NodeRelationship.NEXT: RelatedNodeInfo(node_id="t2"),
        },
        excluded_embed_metadata_keys=["n"],
        excluded_llm_metadata_keys=["ratio"],
        start_char_idx=3,
        end_char_idx=12,
    )
    index_node = IndexNode(
        id_="i1", text="points elsewhere", index_id="other-index", embedding=vec(2)
    )
    document = Document(id_="d1", text="a whole document", embedding=vec(3), metadata={"n": 1})
    originals: list[BaseNode] = [text, index_node, document]
    await run("add", originals)
    got = {n.node_id: n for n in await run("get_nodes", ["t1", "i1", "d1"])}
    for original in originals:
        back = got[original.node_id]
        assert type(back) is type(original)
        assert back.model_dump(exclude={"embedding"}) == original.model_dump(exclude={"embedding"})
        assert back.embedding == pytest.approx(original.embedding, rel=1e-6)  # float32 storage
    assert got["t1"].ref_doc_id == "doc-1"
    result = await run("query", q(1, k=1))
    assert isinstance(result.nodes[0], TextNode) and result.nodes[0].metadata == text.metadata
    assert result.nodes[0].relationships == text.relationships


async def test_query_then_filters_then_doc_ids(run: Runner) -> None:
    await run("add", [node(i, doc=f"doc{i % 3}") for i in range(9)])
    result = await run("query", q(4, k=9, doc_ids=["doc1"]))
    assert sorted(result.ids) == ["node-1", "node-4", "node-7"]
    assert result.ids[0] == "node-4"
    reds = MetadataFilters(filters=[MetadataFilter(key="color", value="red")])
    result = await run("query", q(4, k=9, doc_ids=["doc1"], filters=reds))
    assert sorted(result.ids) == ["node-1", "node-7"]
