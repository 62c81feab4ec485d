"""Every FilterOperator and FilterCondition, nested, against a plain-Python evaluation.

The evaluator below is written from the documented semantics (`redisvec.llama_index.filters`),
independently of the translation: a tag value that is a list holds each item, negations match
records without the field, IS_EMPTY is missing / None / "" / [], text matching is the value's
words adjacent and in order ignoring case and punctuation, NOT is "none of".
"""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np
import pytest
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)

from redisvec.errors import FilterError
from redisvec.llama_index import RedisVectorStore

Op = FilterOperator
DIMS = 4
SCHEMA = [
    {"name": "color", "type": "tag"},
    {"name": "labels", "type": "tag"},
    {"name": "n", "type": "numeric"},
    {"name": "title", "type": "text", "no_stem": True},
]
COLORS = [
    "red",
    "blue",
    "a,b",
    "foo bar",
    "x|y",
    "@title:(hack)",
    "{brace}",
    "-neg",
    "100%",
    "日本語",
]
LABELS = ["l1", "l2", "l3", "with space", "c,d"]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "zeta"]
NUMBERS = [-3, -1, 0, 1, 2, 2.5, 3, 7, 10]


def make_metadata(rng: random.Random) -> dict[str, Any]:
    md: dict[str, Any] = {"i": rng.random()}  # an unindexed key, stored only
    roll = rng.random()
    if roll < 0.8:
        md["color"] = rng.choice(COLORS)
    elif roll < 0.9:
        md["color"] = rng.choice(["", None])
    roll = rng.random()
    if roll < 0.75:
        md["labels"] = rng.sample(LABELS, rng.randint(1, 3))
    elif roll < 0.85:
        md["labels"] = []
    if rng.random() < 0.85:
        md["n"] = rng.choice(NUMBERS)
    roll = rng.random()
    if roll < 0.8:
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
        md["title"] = rng.choice([" ", ", ", "-"]).join(words).capitalize() + rng.choice(
            ["", "!", "."]
        )
    elif roll < 0.9:
        md["title"] = ""
    return md


# -- the independent evaluator --------------------------------------------------------------------


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != []


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


_STOP = {"a", "the", "of", "and", "is", "in", "to", "with"}  # the server's, those used here


def _words(text: str) -> list[str]:
    return [w.lower() for w in re.split(r"[^0-9A-Za-z_]+", text) if w]


def holds(md: dict[str, Any], f: MetadataFilter) -> bool:
    value = md.get(f.key)
    op, target = f.operator, f.value
    if op == Op.IS_EMPTY:
        return not _present(value)
    if op in (Op.NE, Op.NIN):
        positive = MetadataFilter(key=f.key, value=target, operator=Op.EQ if op == Op.NE else Op.IN)
        return not holds(md, positive)
    if op == Op.ALL and target == []:
        return True  # every one of no values: vacuously true, even without the field
    if not _present(value):
        return False
    assert target is not None
    if op in (Op.EQ, Op.CONTAINS):
        return target in _items(value)
    if op in (Op.IN, Op.ANY):
        return any(t in _items(value) for t in target)  # type: ignore[union-attr]
    if op == Op.ALL:
        return all(t in _items(value) for t in target)  # type: ignore[union-attr]
    if op in (Op.TEXT_MATCH, Op.TEXT_MATCH_INSENSITIVE):  # every word, anywhere, unstemmed
        return set(_words(str(target))) - _STOP <= set(_words(value))
    compare = {Op.GT: value > target, Op.GTE: value >= target, Op.LT: value < target}
    return compare.get(op, value <= target)  # type: ignore[operator]


def evaluate(md: dict[str, Any], filters: MetadataFilters) -> bool:
    results = [
        evaluate(md, f) if isinstance(f, MetadataFilters) else holds(md, f)  # type: ignore[arg-type]
        for f in filters.filters
    ]
    if not results:
        return True
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.AND:
        return all(results)
    if condition == FilterCondition.OR:
        return any(results)
    return not any(results)


# -- random filters over every operator and condition ---------------------------------------------

LEAVES: dict[str, list[FilterOperator]] = {
    "color": [Op.EQ, Op.NE, Op.IN, Op.NIN, Op.ANY, Op.ALL, Op.CONTAINS, Op.IS_EMPTY],
    "labels": [Op.EQ, Op.NE, Op.IN, Op.NIN, Op.ANY, Op.ALL, Op.CONTAINS, Op.IS_EMPTY],
    "n": [Op.EQ, Op.NE, Op.GT, Op.GTE, Op.LT, Op.LTE, Op.IN, Op.NIN, Op.IS_EMPTY],
    "title": [Op.TEXT_MATCH, Op.TEXT_MATCH_INSENSITIVE, Op.IS_EMPTY],
}


def random_leaf(rng: random.Random) -> MetadataFilter:
    key = rng.choice(list(LEAVES))
    op = rng.choice(LEAVES[key])
    pool: list[Any] = {"color": COLORS, "labels": LABELS, "n": NUMBERS}.get(key, WORDS)
    value: Any
    if op == Op.IS_EMPTY:
        value = None
    elif op in (Op.IN, Op.NIN, Op.ANY, Op.ALL):
        value = rng.sample(pool, rng.choice([0, 1, 2, 2, 3]))
        if key == "n":
            value = [v for v in value if isinstance(v, int)] or [int(rng.choice([0, 3]))]
    elif key == "title":
        start = rng.randrange(len(WORDS))
        words = WORDS[start : start + rng.randint(1, 2)]
        value = " ".join(words)
        if op == Op.TEXT_MATCH_INSENSITIVE:
            value = value.upper()
    else:
        value = rng.choice(pool)
    return MetadataFilter(key=key, value=value, operator=op)


def random_filters(rng: random.Random, depth: int = 0) -> MetadataFilters:
    items: list[Any] = []
    for _ in range(rng.randint(1, 3)):
        if depth < 3 and rng.random() < 0.35:
            items.append(random_filters(rng, depth + 1))
        else:
            items.append(random_leaf(rng))
    return MetadataFilters(filters=items, condition=rng.choice(list(FilterCondition)))


# -- the data -------------------------------------------------------------------------------------

N_RECORDS = 240


@pytest.fixture(scope="module", params=["hash", "json"])
def loaded(request: pytest.FixtureRequest, redis_url: str) -> Any:
    import uuid

    import redis

    tag = uuid.uuid4().hex[:10]
    rng = random.Random(1234)
    metadata = [make_metadata(rng) for _ in range(N_RECORDS)]
    vectors = np.random.default_rng(5).normal(size=(N_RECORDS, DIMS))
    store = RedisVectorStore(
        index_name=f"test_llf_{tag}",
        key_prefix=f"test_llf_{tag}:",
        redis_url=redis_url,
        storage_type=request.param,
        metadata_schema=SCHEMA,
        algorithm="flat",
    )
    nodes = [
        TextNode(id_=f"r{i}", text=f"record {i}", embedding=vectors[i].tolist(), metadata=md)
        for i, md in enumerate(metadata)
    ]
    store.add(nodes)
    yield store, {n.node_id: n.metadata for n in nodes}
    with redis.Redis.from_url(redis_url) as client:
        client.execute_command("FT.DROPINDEX", f"test_llf_{tag}", "DD")


def expected(data: dict[str, dict[str, Any]], filters: MetadataFilters) -> set[str]:
    return {i for i, md in data.items() if evaluate(md, filters)}


def test_evaluator_sanity() -> None:
    """The evaluator itself, on hand-made cases (so a wrong evaluator cannot hide a bug)."""
    md = {"color": "red", "labels": ["l1", "l2"], "n": 3, "title": "Alpha, beta gamma!"}
    f = MetadataFilter
    assert holds(md, f(key="labels", value="l1", operator=Op.EQ))
    assert not holds(md, f(key="labels", value=["l1", "l3"], operator=Op.ALL))
    assert holds(md, f(key="missing", value="x", operator=Op.NE))
    assert holds(md, f(key="title", value="BETA GAMMA", operator=Op.TEXT_MATCH_INSENSITIVE))
    assert holds(md, f(key="title", value="gamma beta", operator=Op.TEXT_MATCH))  # any order
    assert not holds(md, f(key="title", value="gamma delta", operator=Op.TEXT_MATCH))
    assert holds({"title": ""}, f(key="title", value=None, operator=Op.IS_EMPTY))
    nots = MetadataFilters(
        filters=[f(key="n", value=3), f(key="color", value="blue")], condition=FilterCondition.NOT
    )
    assert not evaluate(md, nots)


@pytest.mark.parametrize("op", [op for op in Op])
def test_each_operator_alone(loaded: Any, op: FilterOperator) -> None:
    store, data = loaded
    rng = random.Random(hash(op.value) % 1000)
    tried = 0
    for _ in range(200):
        leaf = random_leaf(rng)
        if leaf.operator != op:
            continue
        tried += 1
        filters = MetadataFilters(filters=[leaf])
        got = {n.node_id for n in store.get_nodes(filters=filters)}
        assert got == expected(data, filters), leaf
    assert tried > 0


def test_random_nested_filters_equal_python(loaded: Any) -> None:
    store, data = loaded
    rng = random.Random(99)
    nontrivial = 0
    for _ in range(150):
        filters = random_filters(rng)
        want = expected(data, filters)
        got = {n.node_id for n in store.get_nodes(filters=filters)}
        assert got == want, filters.model_dump()
        nontrivial += 0 < len(want) < len(data)
    assert nontrivial > 60  # the cases are not all "everything" or "nothing"


async def test_filters_in_vector_queries_sync_and_async(loaded: Any) -> None:
    store, data = loaded
    rng = random.Random(7)
    for _ in range(30):
        filters = random_filters(rng)
        want = expected(data, filters)
        query = VectorStoreQuery(
            query_embedding=[0.1, 0.2, 0.3, 0.4], similarity_top_k=N_RECORDS, filters=filters
        )
        assert set(store.query(query).ids) == want
        assert set((await store.aquery(query)).ids) == want
        assert {n.node_id for n in await store.aget_nodes(filters=filters)} == want


async def test_a_bare_metadata_filter_works_as_a_group_of_one(loaded: Any) -> None:
    """``query.filters = MetadataFilter(...)`` (not wrapped in MetadataFilters) was an
    AttributeError; it is the group of that one filter."""
    store, data = loaded
    leaves = (
        MetadataFilter(key="n", value=2, operator=Op.GTE),
        MetadataFilter(key="color", value=["red", "blue"], operator=Op.NIN),
        MetadataFilter(key="n", value=[], operator=Op.IN),
    )
    wants = [expected(data, MetadataFilters(filters=[leaf])) for leaf in leaves]
    assert all(0 < len(w) < len(data) for w in wants[:2]) and wants[2] == set()
    for leaf, want in zip(leaves, wants):
        query = VectorStoreQuery(
            query_embedding=[0.1, 0.2, 0.3, 0.4],
            similarity_top_k=N_RECORDS,
            filters=leaf,  # type: ignore[arg-type]
        )
        assert set(store.query(query).ids or []) == want, leaf
        assert set((await store.aquery(query)).ids or []) == want, leaf
        assert {n.node_id for n in store.get_nodes(filters=leaf)} == want, leaf


def test_empty_value_lists(loaded: Any) -> None:
    store, data = loaded
    f = MetadataFilter
    for op in (Op.IN, Op.NIN, Op.ANY, Op.ALL):
        for key in ("color", "n"):
            if key == "n" and op in (Op.ANY, Op.ALL):
                continue
            filters = MetadataFilters(filters=[f(key=key, value=[], operator=op)])
            got = {n.node_id for n in store.get_nodes(filters=filters)}
            assert got == expected(data, filters), (key, op)


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        (MetadataFilter(key="nope", value="x"), r"'nope'.*not indexed.*indexed fields: \["),
        (MetadataFilter(key="i", value=0.5, operator=Op.GT), r"'i'.*not indexed"),
        (MetadataFilter(key="color", value="x", operator=Op.GT), r"GT does not apply to tag"),
        (MetadataFilter(key="n", value="x", operator=Op.TEXT_MATCH), r"TEXT_MATCH does not apply"),
        (MetadataFilter(key="title", value="alpha", operator=Op.EQ), r"use TEXT_MATCH"),
        (MetadataFilter(key="n", value=1, operator=Op.CONTAINS), r"CONTAINS does not apply"),
        (MetadataFilter(key="color", value="", operator=Op.EQ), r"empty value.*is_missing"),
        (MetadataFilter(key="color", value=["a"], operator=Op.EQ), r"one value"),
        (MetadataFilter(key="color", value="a", operator=Op.IN), r"takes a list"),
        (MetadataFilter(key="n", value="x", operator=Op.EQ), r"compares numbers"),
    ],
)
def test_bad_filters_raise_clearly(loaded: Any, flt: MetadataFilter, message: str) -> None:
    store, _ = loaded
    with pytest.raises(FilterError, match=message):
        store.get_nodes(filters=MetadataFilters(filters=[flt]))
    with pytest.raises(FilterError, match=message):
        store.delete_nodes(filters=MetadataFilters(filters=[flt]))
    query = VectorStoreQuery(query_embedding=[1, 0, 0, 0], filters=MetadataFilters(filters=[flt]))
    with pytest.raises(FilterError, match=message):
        store.query(query)
