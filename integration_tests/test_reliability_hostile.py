"""Issue 8, item 6: hostile input on the real server.

- Property-based (hypothesis): random unicode tag values (punctuation, whitespace, CJK, query
  syntax), random unicode text, random numbers and random filter trees in both adapters' filter
  languages (LangChain dicts, LlamaIndex ``MetadataFilters``) return exactly the ids a plain-Python
  evaluation returns, never raise for valid input, and the metadata reads back equal.
- Oversized input: a 1 MB text, 5,000 metadata keys, 4096-d vectors, 10,000-character ids and index
  names with punctuation are stored and read back equal (or rejected with a clear error).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redisvec.errors import FilterError, RedisVecError
from redisvec.index import SearchIndex
from redisvec.query import VectorQuery
from redisvec.schema import IndexSchema, TextField, VectorField

# --- a small world of records and a Python evaluator ----------------------------------------------

# Values mix what breaks query syntax with unicode; \x1f is the adapters' tag separator (excluded).
TAG_ALPHABET = st.sampled_from(
    list("aAbZ09 ,.|-@(){}[]:;\"'\\*%$~!?#&^=<>/\t") + list("日本語éÉßΩ")
)
TAGS = st.text(TAG_ALPHABET, min_size=1, max_size=8)
TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
NUMS = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)

RECORD = st.fixed_dictionaries(
    {"t": st.none() | TAGS, "n": st.none() | NUMS, "body": TEXTS},
)


def leaf(values: list[str]) -> st.SearchStrategy[tuple[Any, ...]]:
    tag_value = st.sampled_from(values) | TAGS if values else TAGS
    return st.one_of(
        st.tuples(st.just("t"), st.sampled_from(["eq", "ne"]), tag_value),
        st.tuples(
            st.just("t"),
            st.sampled_from(["in", "nin"]),
            st.lists(tag_value, min_size=1, max_size=3),
        ),
        st.tuples(st.just("n"), st.sampled_from(["eq", "ne", "gt", "gte", "lt", "lte"]), NUMS),
    )


def tree(values: list[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaf(values),
        lambda kids: st.one_of(
            st.tuples(st.sampled_from(["and", "or"]), st.lists(kids, min_size=1, max_size=3)),
            st.tuples(st.just("not"), kids),
        ),
        max_leaves=6,
    )


def evaluate(node: Any, meta: dict[str, Any]) -> bool:
    """Plain Python: ``ne``/``nin``/``not`` also match records without the field (documented)."""
    op = node[0]
    if op in ("and", "or"):
        results = [evaluate(k, meta) for k in node[1]]
        return all(results) if op == "and" else any(results)
    if op == "not":
        return not evaluate(node[1], meta)
    field, cmp, value = node
    have = meta.get(field)
    if cmp == "ne":
        return have != value
    if cmp == "nin":
        return have not in value
    if have is None:
        return False
    if cmp == "in":
        return have in value
    return bool(
        {"eq": have == value, "gt": have > value, "gte": have >= value,
         "lt": have < value, "lte": have <= value}[cmp]
    )  # fmt: skip


def blank_tag(node: Any) -> bool:
    """A whitespace-only tag value in the filter: the server trims tags, so the core refuses it
    with a FilterError (a clear rejection, not a silent mismatch)."""
    if node[0] in ("and", "or"):
        return any(blank_tag(k) for k in node[1])
    if node[0] == "not":
        return blank_tag(node[1])
    values = node[2] if isinstance(node[2], list) else [node[2]]
    return node[0] == "t" and any(isinstance(v, str) and not v.strip() for v in values)


def to_langchain(node: Any) -> dict[str, Any]:
    op = node[0]
    if op in ("and", "or"):
        return {f"${op}": [to_langchain(k) for k in node[1]]}
    if op == "not":
        return {"$not": to_langchain(node[1])}
    field, cmp, value = node
    return {field: {f"${cmp}": value}}


def to_llama(node: Any) -> Any:
    from llama_index.core.vector_stores.types import (
        FilterCondition,
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
    )

    ops = {"eq": FilterOperator.EQ, "ne": FilterOperator.NE, "gt": FilterOperator.GT,
           "gte": FilterOperator.GTE, "lt": FilterOperator.LT, "lte": FilterOperator.LTE,
           "in": FilterOperator.IN, "nin": FilterOperator.NIN}  # fmt: skip
    op = node[0]
    if op in ("and", "or"):
        condition = FilterCondition.AND if op == "and" else FilterCondition.OR
        return MetadataFilters(filters=[to_llama(k) for k in node[1]], condition=condition)
    if op == "not":
        return MetadataFilters(filters=[to_llama(node[1])], condition=FilterCondition.NOT)
    field, cmp, value = node
    return MetadataFilters(filters=[MetadataFilter(key=field, operator=ops[cmp], value=value)])


METADATA_SCHEMA = [
    {"name": "t", "type": "tag", "case_sensitive": True},
    {"name": "n", "type": "numeric"},
]
DIMS = 4
PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _clean(meta: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in meta.items() if v is not None}


def _drop(url: str, name: str) -> None:
    with redis.Redis.from_url(url) as c, contextlib.suppress(redis.ResponseError):
        c.execute_command("FT.DROPINDEX", name, "DD")


@PROPERTY
@given(data=st.data())
def test_langchain_filters_equal_python(redis_url: str, data: st.DataObject) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.embeddings import FakeEmbeddings

    from redisvec.langchain import RedisVectorStore

    records = data.draw(st.lists(RECORD, min_size=1, max_size=25))
    values = sorted({r["t"] for r in records if r["t"] is not None})
    trees = data.draw(st.lists(tree(values), min_size=1, max_size=4))
    name = f"hostile_lc_{uuid.uuid4().hex[:8]}"
    store = RedisVectorStore(
        FakeEmbeddings(size=DIMS), index_name=name, redis_url=redis_url,
        metadata_schema=METADATA_SCHEMA, algorithm="FLAT",
    )  # fmt: skip
    try:
        ids = [f"r{i}" for i in range(len(records))]
        metas = [_clean({"t": r["t"], "n": r["n"], "body": r["body"]}) for r in records]
        store.add_texts([r["body"] for r in records], metadatas=metas, ids=ids)
        for doc, meta in zip(store.get_by_ids(ids), metas):
            assert doc.page_content == meta["body"]
            assert {k: doc.metadata.get(k) for k in meta} == meta  # types and text round-trip
        for node in trees:
            expected = {i for i, m in zip(ids, metas) if evaluate(node, m)}
            if blank_tag(node):
                with pytest.raises(FilterError, match="empty value"):
                    store.similarity_search("q", k=100, filter=to_langchain(node))
                continue
            found = store.similarity_search("q", k=100, filter=to_langchain(node))
            assert {d.id for d in found} == expected, to_langchain(node)
    finally:
        _drop(redis_url, name)
        store.close()


@PROPERTY
@given(data=st.data())
def test_llama_index_filters_equal_python(redis_url: str, data: st.DataObject) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from redisvec.llama_index import RedisVectorStore

    records = data.draw(st.lists(RECORD, min_size=1, max_size=25))
    values = sorted({r["t"] for r in records if r["t"] is not None})
    trees = data.draw(st.lists(tree(values), min_size=1, max_size=4))
    name = f"hostile_li_{uuid.uuid4().hex[:8]}"
    store = RedisVectorStore(
        index_name=name, redis_url=redis_url, metadata_schema=METADATA_SCHEMA, algorithm="FLAT"
    )
    rng = np.random.default_rng(0)
    try:
        ids = [f"r{i}" for i in range(len(records))]
        metas = [_clean({"t": r["t"], "n": r["n"]}) for r in records]
        nodes = [
            TextNode(id_=i, text=r["body"], metadata=m, embedding=rng.random(DIMS).tolist())
            for i, r, m in zip(ids, records, metas)
        ]
        store.add(nodes)
        for node in trees:
            expected = {i for i, m in zip(ids, metas) if evaluate(node, m)}
            query = VectorStoreQuery(
                query_embedding=[1.0] * DIMS, similarity_top_k=100, filters=to_llama(node)
            )
            if blank_tag(node):
                with pytest.raises(FilterError, match="empty value"):
                    store.query(query)
                continue
            assert set(store.query(query).ids or []) == expected, node
    finally:
        _drop(redis_url, name)


# --- oversized input (core) -----------------------------------------------------------------------


@pytest.fixture
def client_url(redis_url: str) -> Iterator[tuple[redis.Redis, str]]:
    with redis.Redis.from_url(redis_url) as c:
        yield c, redis_url


def _index(client: redis.Redis, name: str, dims: int = 8, storage: str = "hash") -> SearchIndex:
    schema = IndexSchema(
        name,
        prefixes=(f"big_{uuid.uuid4().hex[:8]}:",),
        storage=storage,
        fields=(TextField("body"), VectorField("v", dims=dims, algorithm="flat", distance_metric="l2")),
    )  # fmt: skip
    index = SearchIndex(schema, client)
    index.create()
    return index


@pytest.mark.parametrize("storage", ["hash", "json"])
def test_one_megabyte_text_and_five_thousand_metadata_keys(
    client_url: tuple[redis.Redis, str], storage: str
) -> None:
    client, _ = client_url
    index = _index(client, f"big_{uuid.uuid4().hex[:8]}", storage=storage)
    rng = np.random.default_rng(1)
    body = "".join(rng.choice(list("abc déf 日本語 \n\t,.")) for _ in range(1 << 18)) * 4
    assert len(body.encode()) > 1_000_000
    extra = {f"meta_{i}:ключ {i}": f"value {i} ✓" for i in range(5000)}
    v = rng.standard_normal(8).astype(np.float32)
    try:
        index.load([{"body": body, "v": v, **extra}], ids=["big"])
        [got] = index.fetch(["big"])
        assert got is not None and got["body"] == body
        assert {k: got[k] for k in extra} == extra and len(got) == 2 + len(extra)
        assert [h.id for h in index.search(VectorQuery(v, k=1)).hits] == ["big"]
    finally:
        index.drop(delete_documents=True)


def test_4096_dimensional_vectors_equal_numpy(client_url: tuple[redis.Redis, str]) -> None:
    client, _ = client_url
    index = _index(client, f"big_{uuid.uuid4().hex[:8]}", dims=4096)
    vectors = np.random.default_rng(2).standard_normal((64, 4096)).astype(np.float32)
    try:
        index.load([{"body": str(i), "v": v} for i, v in enumerate(vectors)],
                   ids=[str(i) for i in range(64)])  # fmt: skip
        q = np.random.default_rng(3).standard_normal(4096).astype(np.float32)
        d = ((vectors.astype(np.float64) - q) ** 2).sum(axis=1)
        truth = [str(i) for i in np.argsort(d)[:10]]
        hits = index.search(VectorQuery(q, k=10)).hits
        assert [h.id for h in hits] == truth
        np.testing.assert_allclose([h.distance for h in hits], np.sort(d)[:10], rtol=1e-4)
        [got] = index.fetch(["7"])
        assert got is not None
        np.testing.assert_array_equal(got["v"], vectors[7])
        with pytest.raises(RedisVecError, match="4096"):  # a wrong length is refused, nothing sent
            index.load([{"body": "x", "v": vectors[0][:4095]}], ids=["bad"])
        assert index.fetch(["bad"]) == [None]
    finally:
        index.drop(delete_documents=True)


def test_ten_thousand_character_ids(client_url: tuple[redis.Redis, str]) -> None:
    client, _ = client_url
    index = _index(client, f"big_{uuid.uuid4().hex[:8]}")
    ids = [("id-" + chr(0x4E00 + i) + " :{}|,") * 1250 + str(i) for i in range(5)]
    assert all(len(i) >= 10_000 for i in ids)
    vectors = np.eye(8, dtype=np.float32)[:5]
    try:
        assert index.load([{"body": "b", "v": v} for v in vectors], ids=ids) == ids
        assert [f is not None for f in index.fetch(ids)] == [True] * 5
        assert [h.id for h in index.search(VectorQuery(vectors[3], k=1)).hits] == [ids[3]]
        assert index.delete(ids) == 5
        assert index.count() == 0
    finally:
        index.drop(delete_documents=True)


@pytest.mark.parametrize(
    "name",
    [
        "idx-with.dots",
        "idx:colon/slash",
        "idx name with spaces",
        "ídx_日本語",
        "a'b\"c",
        "idx{braces}@(x)|y",
        "idx\\back",
    ],
)
def test_index_names_with_punctuation(client_url: tuple[redis.Redis, str], name: str) -> None:
    client, _ = client_url
    unique = f"{name}-{uuid.uuid4().hex[:6]}"
    try:
        index = _index(client, unique)
    except RedisVecError as exc:  # a refusal must name the index
        assert unique in str(exc)
        return
    try:
        v = np.ones(8, dtype=np.float32)
        index.load([{"body": "hello", "v": v}], ids=["1"])
        assert index.exists() and index.count() == 1
        assert [h.id for h in index.search(VectorQuery(v, k=1)).hits] == ["1"]
        assert SearchIndex.from_existing(client, unique).schema.name == unique
    finally:
        index.drop(delete_documents=True)
    assert not index.exists()
