"""Key spaces, prefixes and ids (issues "Nothing lost, nothing leaked" and "No silent wrong
answers": 21.3, 21.4, 21.5, 13.6, 13.8, 13.9), against the real server.

Ground truth is the server's key space read with plain SCAN (and FT._LIST / FT.INFO for which
index covers what), never what redisvec reports.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings
from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from redisvec import FilterQuery, IndexSchema, KeySpaceError, SearchIndex, TextField, VectorField
from redisvec.errors import SchemaError
from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore

DIMS = 4
TEXTS = ["one", "two", "twelve", "three"]
EMBEDDINGS = TableEmbeddings({t: np.random.default_rng(i).normal(size=DIMS) for i, t in
                              enumerate(TEXTS)})  # fmt: skip


def keys(client: redis.Redis, prefix: str) -> set[str]:
    return {k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000)}


def index_names(client: redis.Redis) -> set[str]:
    return {
        n.decode() if isinstance(n, bytes) else str(n) for n in client.execute_command("FT._LIST")
    }


def core_schema(name: str, prefix: str) -> IndexSchema:
    return IndexSchema(
        name,
        prefixes=(prefix,),
        fields=(TextField("text"), VectorField("embedding", dims=DIMS, algorithm="flat")),
    )


def vec(i: int) -> list[float]:
    return [float(x) for x in np.random.default_rng(i).normal(size=DIMS)]


def records(n: int) -> list[dict[str, Any]]:
    return [{"text": f"doc {i}", "embedding": vec(i)} for i in range(n)]


def lc_store(redis_url: str, name: str, prefix: str, **kw: Any) -> LangChainStore:
    return LangChainStore(EMBEDDINGS, index_name=name, redis_url=redis_url, key_prefix=prefix,
                          dims=DIMS, **kw)  # fmt: skip


def llama_store(redis_url: str, name: str, prefix: str, **kw: Any) -> LlamaStore:
    return LlamaStore(index_name=name, redis_url=redis_url, key_prefix=prefix, dims=DIMS, **kw)


# -- 21.3: one id given as a string ------------------------------------------------------------


async def test_a_string_where_ids_are_expected_is_refused_and_nothing_changes(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    lc = lc_store(redis_url, names.index, names.prefix)
    ids = lc.add_texts(["one", "two", "twelve"], ids=["1", "2", "12"])
    before = keys(client, names.prefix)
    assert before == {names.prefix + i for i in ids}
    calls = [
        ("ids", lambda: lc.delete("12")),
        ("ids", lambda: lc.get_by_ids("12")),
        ("ids", lambda: lc.add_texts(["one", "two"], ids="12")),  # type: ignore[arg-type]
    ]
    for argument, call in calls:
        with pytest.raises(TypeError, match=rf"^{argument} must be a list of ids.*pass \['12'\]"):
            call()
    for coro in (lc.adelete("12"), lc.aget_by_ids("12")):
        with pytest.raises(TypeError, match=r"pass \['12'\]"):
            await coro
    # texts given as one string would be one document per character
    with pytest.raises(TypeError, match=r"^texts must be a list of texts.*pass \[text\]"):
        lc.add_texts("12", ids=["x"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^texts must be a list of texts"):
        await lc.aadd_texts("12")  # type: ignore[arg-type]
    core = SearchIndex.from_existing(client, names.index)
    for call in (lambda: core.delete("12"), lambda: core.fetch("12")):  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"ids must be a list of ids"):
            call()
    with pytest.raises(TypeError, match=r"ids must be a list of ids"):
        core.load([{"text": "a"}, {"text": "b"}], ids="12")  # type: ignore[arg-type]
    assert keys(client, names.prefix) == before
    lc.delete(["12"])
    assert keys(client, names.prefix) == before - {names.prefix + "12"}


async def test_llama_index_refuses_a_string_where_node_ids_are_expected(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    li = llama_store(redis_url, names.index, names.prefix)
    li.add([TextNode(id_=i, text=i, embedding=vec(k)) for k, i in enumerate(["1", "2", "12"])])
    before = keys(client, names.prefix)
    assert len(before) == 3
    calls = [
        ("node_ids", lambda: li.delete_nodes(node_ids="12")),  # type: ignore[arg-type]
        ("node_ids", lambda: li.get_nodes(node_ids="12")),  # type: ignore[arg-type]
        ("VectorStoreQuery.node_ids",
         lambda: li.query(VectorStoreQuery(query_embedding=vec(0), node_ids="12"))),  # type: ignore[arg-type]
        ("VectorStoreQuery.doc_ids",
         lambda: li.query(VectorStoreQuery(query_embedding=vec(0), doc_ids="12"))),  # type: ignore[arg-type]
    ]  # fmt: skip
    for argument, call in calls:
        with pytest.raises(TypeError, match=rf"^{argument} must be a list of ids"):
            call()
    for coro in (li.adelete_nodes(node_ids="12"), li.aget_nodes(node_ids="12")):  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"node_ids must be a list of ids"):
            await coro
    assert keys(client, names.prefix) == before
    assert [n.node_id for n in li.get_nodes(node_ids=["12"])] == ["12"]


# -- 21.4 / 13.8: key spaces that cannot overlap -------------------------------------------------


def test_an_index_inside_or_around_another_key_space_is_refused(
    client: redis.Redis, names: Any
) -> None:
    kb = SearchIndex(core_schema(names.index + "_kb", names.prefix + "kb"), client)
    kb.create()
    assert kb.schema.prefixes == (names.prefix + "kb:",)
    inner = SearchIndex(core_schema(names.index + "_st", names.prefix + "kb:staging"), client)
    outer = SearchIndex(core_schema(names.index + "_all", names.prefix), client)
    for index in (inner, outer):
        with pytest.raises(KeySpaceError) as raised:
            index.create()
        text = str(raised.value)
        for part in (index.name, index.schema.prefixes[0], kb.name, kb.schema.prefixes[0]):
            assert repr(part) in text or part in text, (part, text)
        assert "allow_shared_prefix=True" in text
        assert index.name not in index_names(client)
    # a neighbour whose prefix only starts alike is another key space
    SearchIndex(core_schema(names.index + "_kb2", names.prefix + "kb2"), client).create()
    # the id "staging:x" written to kb stays in kb's key space: no other index covers it
    kb.load([{"text": "x", "embedding": vec(1)}], ids=["staging:x"])
    key = names.prefix + "kb:staging:x"
    assert keys(client, names.prefix + "kb:") == {key}
    covering = {
        n for n in index_names(client)
        if any(key.startswith(p) for p in IndexSchema.from_existing(client, n).prefixes)
    }  # fmt: skip
    assert covering == {kb.name}
    assert [h.id for h in kb.search(FilterQuery(limit=10)).hits] == ["staging:x"]
    # opted in: created, and both see the shared documents
    inner.create(allow_shared_prefix=True)
    assert inner.name in index_names(client)


def test_adapters_refuse_a_shared_key_space_before_writing_and_accept_the_opt_in(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    lc_store(redis_url, names.index, names.prefix).add_texts(["one"], ids=["a"])
    for make in (lc_store, llama_store):
        inner_prefix = names.prefix + "inner:"
        store = make(redis_url, names.index + "_in", inner_prefix)
        with pytest.raises(KeySpaceError, match=names.index):
            if isinstance(store, LangChainStore):
                store.add_texts(["two"], ids=["b"])
            else:
                store.add([TextNode(id_="b", text="two", embedding=vec(2))])
        assert keys(client, inner_prefix) == set()
        assert names.index + "_in" not in index_names(client)
    shared = lc_store(redis_url, names.index + "_in", names.prefix + "inner:",
                      allow_shared_prefix=True)  # fmt: skip
    shared.add_texts(["two"], ids=["b"])
    li = llama_store(redis_url, names.index + "_in2", names.prefix + "inner2:",
                     allow_shared_prefix=True)  # fmt: skip
    li.add([TextNode(id_="c", text="three", embedding=vec(3))])
    assert {names.index + "_in", names.index + "_in2"} <= index_names(client)


def test_an_empty_prefix_is_refused_and_unrelated_keys_survive(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    unrelated = names.prefix + "rt_session:42"
    client.hset(unrelated, mapping={"user": "u1"})
    for make in (lc_store, llama_store):
        with pytest.raises(KeySpaceError, match=r"key_prefix='' covers every key"):
            make(redis_url, names.index, "")
    with pytest.raises(KeySpaceError, match=r"prefix '' covers every key"):
        SearchIndex(core_schema(names.index, ""), client).create()
    assert names.index not in index_names(client)
    assert client.hgetall(unrelated) == {b"user": b"u1"}


async def test_dropping_with_documents_another_index_covers_is_refused_unless_forced(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    lc = lc_store(redis_url, names.index, names.prefix)
    lc.add_texts(["one", "two"], ids=["a", "b"])
    twin = SearchIndex(core_schema(names.index + "_flat", names.prefix), client)
    twin.create(allow_shared_prefix=True)
    before = keys(client, names.prefix)
    assert len(before) == 2
    for drop in (
        lambda: lc.drop_index(),
        lambda: SearchIndex.from_existing(client, names.index).drop(delete_documents=True),
    ):
        with pytest.raises(KeySpaceError) as raised:
            drop()
        assert twin.name in str(raised.value) and names.prefix in str(raised.value)
        assert "force=True" in str(raised.value)
    with pytest.raises(KeySpaceError, match=twin.name):
        await lc.adrop_index()
    assert keys(client, names.prefix) == before
    assert {names.index, twin.name} <= index_names(client)
    # the index that overwrites itself does not take the other's documents either
    with pytest.raises(KeySpaceError, match=twin.name):
        SearchIndex(core_schema(names.index, names.prefix), client).create(
            overwrite=True, drop_documents=True, allow_shared_prefix=True
        )
    assert keys(client, names.prefix) == before
    # without its documents: allowed; forced: allowed, and the documents go
    twin.drop()
    assert keys(client, names.prefix) == before
    twin.create(allow_shared_prefix=True)
    lc.drop_index(force=True)
    assert keys(client, names.prefix) == set()
    assert names.index not in index_names(client)


# -- 13.9 / 13.6: prefixes read back ------------------------------------------------------------


def test_an_index_read_back_equals_the_schema_that_created_it(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    bare = names.prefix + "docs"  # no separator, as existing users write it
    asked = core_schema(names.index, bare)
    SearchIndex(asked, client).create()
    found = IndexSchema.from_existing(client, names.index)
    assert found == asked
    assert found.prefixes == (bare + ":",)
    wire = client.execute_command("FT.INFO", names.index)
    assert bare + ":" in str(wire)  # the server holds the separated prefix
    other = names.new("lc")
    store = lc_store(redis_url, other.index, other.prefix.rstrip(":"),
                     metadata_schema=[{"name": "year", "type": "numeric"}])  # fmt: skip
    store.add_texts(["one"], metadatas=[{"year": 2024}], ids=["a"])
    assert keys(client, other.prefix) == {other.prefix + "a"}
    assert IndexSchema.from_existing(client, other.index) == store.index_schema


def test_ids_of_a_foreign_prefix_without_separator_round_trip(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    prefix = names.prefix + "name/vector"
    client.execute_command(
        "FT.CREATE", names.index, "ON", "HASH", "PREFIX", 1, prefix, "SCHEMA",
        "text", "TEXT", "embedding", "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", DIMS,
        "DISTANCE_METRIC", "COSINE",
    )  # fmt: skip
    written = [prefix + "_a", prefix + "/b", prefix + ":c"]
    for i, key in enumerate(written):
        client.hset(key, mapping={"text": f"t{i}",
                                  "embedding": np.asarray(vec(i), np.float32).tobytes()})  # fmt: skip
    li = LlamaStore.from_existing_index(index_name=names.index, redis_url=redis_url)
    result = li.query(VectorStoreQuery(query_embedding=vec(0), similarity_top_k=10))
    ids = result.ids or []
    assert sorted(prefix + i for i in ids) == sorted(written)
    assert sorted(n.node_id for n in li.get_nodes(node_ids=ids)) == sorted(ids)
    li.delete_nodes(node_ids=[ids[0]])
    assert keys(client, prefix) == set(written) - {prefix + ids[0]}

    lc = LangChainStore.from_existing_index(EMBEDDINGS, index_name=names.index,
                                            redis_url=redis_url)  # fmt: skip
    rest = sorted(set(ids) - {ids[0]})
    assert sorted(d.id for d in lc.get_by_ids(rest) if d.id) == rest
    lc.delete([rest[0]])
    assert keys(client, prefix) == {prefix + rest[1]}


# -- 21.5: ref_doc_ids the tag index cannot match exactly ----------------------------------------


def node(node_id: str, ref_doc_id: str, i: int) -> TextNode:
    return TextNode(
        id_=node_id,
        text=node_id,
        embedding=vec(i),
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=ref_doc_id)},
    )


async def test_ref_doc_ids_are_exact_or_refused(
    redis_url: str, client: redis.Redis, names: Any
) -> None:
    li = llama_store(redis_url, names.index, names.prefix)
    li.add([node("n1", "doc", 1), node("n2", "doc", 2), node("n3", "doc2", 3)])
    before = keys(client, names.prefix)
    for bad in ("doc ", " doc", "doc\t", "doc\n", "doc\x01", "do\x7fc", ""):
        with pytest.raises(SchemaError, match=r"ref_doc_id"):
            li.add([node("n9", bad, 9)])
        with pytest.raises(SchemaError, match=r"ref_doc_id"):
            li.delete(bad)
        with pytest.raises(SchemaError, match=r"ref_doc_id"):
            await li.adelete(bad)
        with pytest.raises(SchemaError, match=r"ref_doc_id"):
            li.query(VectorStoreQuery(query_embedding=vec(0), doc_ids=[bad]))
    assert keys(client, names.prefix) == before
    # the server trims tag values: this is what the refusal prevents
    client.hset(names.prefix + "raw", mapping={"doc_id": "doc2 "})
    with redis.Redis.from_url(redis_url, protocol=2) as resp2:
        trimmed = resp2.execute_command(
            "FT.SEARCH", names.index, "@doc_id:{doc2}", "NOCONTENT", "DIALECT", 2
        )
    assert sorted(k.decode() for k in trimmed[1:]) == [names.prefix + "n3", names.prefix + "raw"]
    client.delete(names.prefix + "raw")
    li.delete("doc")
    assert keys(client, names.prefix) == {names.prefix + "n3"}
