"""Exact FT.SEARCH arguments of each query builder (no server)."""

from __future__ import annotations

import numpy as np
import pytest

from redisvec.errors import FilterError
from redisvec.filters import Num, Tag
from redisvec.query import (
    DISTANCE_ALIAS,
    CountQuery,
    FilterQuery,
    RangeQuery,
    TextQuery,
    VectorQuery,
)
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField

V = [1.0, 2.0, 3.0]
BLOB = np.array(V, dtype="<f4").tobytes()


def schema(storage: str = "hash", algorithm: str = "hnsw") -> IndexSchema:
    return IndexSchema(
        "idx",
        prefixes=("doc",),
        storage=storage,
        fields=(
            TagField("color"),
            NumericField("n"),
            TextField("body"),
            VectorField("v", dims=3, algorithm=algorithm, distance_metric="l2"),
        ),
    )


def test_knn_args() -> None:
    args = VectorQuery(V, k=25, return_fields=["color"]).to_args(schema())
    assert args == [
        "idx", f"*=>[KNN 25 @v $vector AS {DISTANCE_ALIAS}]",
        "PARAMS", 2, "vector", BLOB,
        "SORTBY", DISTANCE_ALIAS, "ASC",
        "RETURN", 2, "color", DISTANCE_ALIAS,
        "LIMIT", 0, 25,
        "DIALECT", 2,
    ]  # fmt: skip


def test_knn_with_filter_ef_runtime_and_vector() -> None:
    q = VectorQuery(V, k=3, filter=Tag("color") == "a b", ef_runtime=100, return_vector=True,
                    return_fields=["n"])  # fmt: skip
    args = q.to_args(schema())
    assert args[1] == (
        f"(@color:{{a\\ b}})=>[KNN 3 @v $vector EF_RUNTIME $ef_runtime AS {DISTANCE_ALIAS}]"
    )
    assert args[2:8] == ["PARAMS", 4, "vector", BLOB, "ef_runtime", 100]
    assert args[args.index("RETURN") : args.index("LIMIT")] == [
        "RETURN", 3, "n", DISTANCE_ALIAS, "v",
    ]  # fmt: skip
    assert args[-5:] == ["LIMIT", 0, 3, "DIALECT", 2]


def test_knn_errors() -> None:
    with pytest.raises(ValueError, match=r"HNSW.*FLAT"):
        VectorQuery(V, ef_runtime=10).to_args(schema(algorithm="flat"))
    with pytest.raises(ValueError, match="k must be a positive integer"):
        VectorQuery(V, k=0).to_args(schema())
    with pytest.raises(ValueError, match=r"'idx'.*'v'.*expected 3 dimensions, received 2"):
        VectorQuery([1.0, 2.0]).to_args(schema())
    with pytest.raises(ValueError, match="not a vector field"):
        VectorQuery(V, vector_field="color").to_args(schema())


def test_json_return_fields_use_paths_for_unindexed_names() -> None:
    args = VectorQuery(V, k=2, return_fields=["color", "meta"]).to_args(schema("json"))
    assert args[args.index("RETURN") : args.index("LIMIT")] == [
        "RETURN", 5, "color", "$.meta", "AS", "meta", DISTANCE_ALIAS,
    ]  # fmt: skip


def test_range_args() -> None:
    args = RangeQuery(V, distance_threshold=0.5, k=40, filter=Num("n") > 1).to_args(schema())
    assert args == [
        "idx",
        f"(@v:[VECTOR_RANGE $radius $vector]=>{{$YIELD_DISTANCE_AS: {DISTANCE_ALIAS}}}) "
        "(@n:[(1 +inf])",
        "PARAMS", 4, "radius", "0.5", "vector", BLOB,
        "SORTBY", DISTANCE_ALIAS, "ASC",
        "LIMIT", 0, 40,
        "DIALECT", 2,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="distance_threshold"):
        RangeQuery(V, distance_threshold=-1).to_args(schema())
    eps = RangeQuery(V, distance_threshold=1, epsilon=0.5).to_args(schema())[1]
    assert "$EPSILON: 0.5" in str(eps)


def test_filter_and_count_args() -> None:
    args = FilterQuery(Tag("color") == "red", return_fields=["n"], offset=5, limit=7,
                       sort_by="n", ascending=False).to_args(schema())  # fmt: skip
    assert args == ["idx", "@color:{red}", "RETURN", 1, "n", "SORTBY", "n", "DESC",
                    "LIMIT", 5, 7, "DIALECT", 2]  # fmt: skip
    assert FilterQuery(no_content=True).to_args(schema()) == [
        "idx", "*", "NOCONTENT", "LIMIT", 0, 10, "DIALECT", 2,
    ]  # fmt: skip
    assert CountQuery(Num("n") == 3).to_args(schema()) == [
        "idx", "@n:[3 3]", "LIMIT", 0, 0, "DIALECT", 2,
    ]  # fmt: skip


def test_text_args() -> None:
    args = TextQuery("hello, world!", k=4, text_field="body").to_args(schema())
    assert args == ["idx", "@body:(hello | world)", "WITHSCORES", "SCORER", "BM25",
                    "LIMIT", 0, 4, "DIALECT", 2]  # fmt: skip
    with pytest.raises(ValueError, match="no words"):
        TextQuery("!!").to_args(schema())


def test_ids_restrict_every_search_to_those_keys() -> None:
    inkeys = ["INKEYS", 2, "doc:a", "doc:b"]
    queries = [
        VectorQuery(V, k=3, ids=["a", "b", "a"]),  # repeated ids are sent once
        RangeQuery(V, 0.5, ids=("a", "b")),
        FilterQuery(ids=["a", "b"]),
        TextQuery("hello", ids=["a", "b"]),
    ]
    for q in queries:
        args = q.to_args(schema())
        at = args.index("INKEYS")
        assert args[at : at + 4] == inkeys, q
        assert args[-2:] == ["DIALECT", 2]
        assert "INKEYS" not in type(q)(**{**q.__dict__, "ids": None}).to_args(schema())
    assert FilterQuery(ids=[]).to_args(schema())[2:4] == ["INKEYS", 0]  # no record
    with pytest.raises(TypeError, match=r"ids must be a list of ids.*pass \[.a.\]"):
        FilterQuery(ids="a").to_args(schema())


def test_with_scores_only_for_text() -> None:
    assert TextQuery("x").with_scores is True
    for q in (VectorQuery(V), RangeQuery(V, 1.0), FilterQuery(), CountQuery()):
        assert q.with_scores is False
        assert "WITHSCORES" not in q.to_args(schema())
    assert "WITHSCORES" in TextQuery("x").to_args(schema())


def test_epsilon_is_for_hnsw_and_positive() -> None:
    args = RangeQuery(V, 0.5, epsilon=0.2).to_args(schema())
    assert args[1].endswith("=>{$YIELD_DISTANCE_AS: __vector_distance; $EPSILON: 0.2}")
    with pytest.raises(ValueError, match="FLAT, whose range queries are exact"):
        RangeQuery(V, 0.5, epsilon=1.0).to_args(schema(algorithm="flat"))
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="epsilon must be a number > 0"):
            RangeQuery(V, 0.5, epsilon=bad).to_args(schema())


def test_knn_args_are_rebuilt_around_each_vector() -> None:
    """The non-vector arguments are cached per schema and settings: each query still gets its own
    vector, its own list, and the settings it asked for."""
    s = schema()
    names = ["color"]
    first = VectorQuery(V, k=5, return_fields=names).to_args(s)
    first[0] = "mutated"  # a caller's changes to one list do not leak into the next
    other = [4.0, 5.0, 6.0]
    second = VectorQuery(np.array(other), k=5, return_fields=names).to_args(s)
    assert second == [
        "idx", f"*=>[KNN 5 @v $vector AS {DISTANCE_ALIAS}]",
        "PARAMS", 2, "vector", np.array(other, dtype="<f4").tobytes(),
        "SORTBY", DISTANCE_ALIAS, "ASC",
        "RETURN", 2, "color", DISTANCE_ALIAS,
        "LIMIT", 0, 5,
        "DIALECT", 2,
    ]  # fmt: skip
    names.append("n")  # the same list, changed: the settings are read at each call
    assert VectorQuery(V, k=5, return_fields=names).to_args(s)[9:14] == [
        "RETURN", 3, "color", "n", DISTANCE_ALIAS,
    ]  # fmt: skip
    assert VectorQuery(V, k=5, return_fields=names, ids=["a"]).to_args(s)[9:] == [
        "RETURN", 3, "color", "n", DISTANCE_ALIAS,
        "INKEYS", 1, "doc:a",
        "LIMIT", 0, 5,
        "DIALECT", 2,
    ]  # fmt: skip
    filtered = VectorQuery(V, k=5, filter="@n:[1 2]", return_fields=names).to_args(s)
    assert filtered[1] == f"(@n:[1 2])=>[KNN 5 @v $vector AS {DISTANCE_ALIAS}]"
    renamed = IndexSchema("other", fields=(VectorField("w", dims=3, datatype="float64"),))
    assert VectorQuery(V, k=5, return_fields=[]).to_args(renamed)[:6] == [
        "other", f"*=>[KNN 5 @w $vector AS {DISTANCE_ALIAS}]",
        "PARAMS", 2, "vector", np.array(V, dtype="<f8").tobytes(),
    ]  # fmt: skip


def test_knn_validation_runs_on_every_call() -> None:
    s = schema()
    VectorQuery(V, k=1, ef_runtime=1).to_args(s)  # cached with k == 1 == True
    for bad in (True, 1.0, 0):
        with pytest.raises(ValueError, match="k must be a positive integer"):
            VectorQuery(V, k=bad, ef_runtime=1).to_args(s)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ef_runtime must be a positive integer"):
        VectorQuery(V, k=1, ef_runtime=True).to_args(s)
    flat = schema(algorithm="flat")
    for _ in range(2):
        with pytest.raises(ValueError, match=r"HNSW.*FLAT"):
            VectorQuery(V, ef_runtime=10).to_args(flat)
    VectorQuery(V).to_args(s)
    with pytest.raises(ValueError, match="non-finite"):
        VectorQuery([1.0, float("nan"), 3.0]).to_args(s)


def test_a_filter_is_checked_and_rendered_per_schema() -> None:
    """Rendered filters are reused per (schema, filter) object: never across either."""
    red, blue = Tag("color") == "red", Tag("color") == "blue"
    tags = schema()
    numeric = IndexSchema("other", fields=(NumericField("color"), VectorField("v", dims=3)))
    for _ in range(2):
        assert VectorQuery(V, filter=red).to_args(tags)[1].startswith("(@color:{red})=>[KNN")
        assert VectorQuery(V, filter=blue).to_args(tags)[1].startswith("(@color:{blue})=>[KNN")
        assert FilterQuery(filter=red).to_args(tags)[1] == "@color:{red}"
        with pytest.raises(FilterError, match="'color' is a numeric field"):
            VectorQuery(V, filter=red).to_args(numeric)


def test_wire_args_are_the_bytes_redis_py_sends_for_to_args() -> None:
    """What a KNN query sends (already encoded, so redis-py skips encoding it) is byte for byte
    what redis-py would make of `to_args`, for every option of the template and around it."""
    from redis.connection import Connection

    pack = Connection().pack_command
    s = schema("json")
    queries = [
        VectorQuery(V, k=25, return_fields=["color", "body", "extra.path"]),
        VectorQuery(np.array(V), k=3, filter=(Tag("color") == "é") & (Num("n") > 2.5),
                    ef_runtime=40, return_vector=True),
        VectorQuery(V, ids=["a", "b é"], filter="@n:[1 2]"),
    ]  # fmt: skip
    for q in queries:
        for _ in range(2):  # the template's first use and a cached one
            wire = q.wire_args(s)
            assert all(type(a) is bytes for a in wire)
            assert pack("FT.SEARCH", *wire) == pack("FT.SEARCH", *q.to_args(s))
