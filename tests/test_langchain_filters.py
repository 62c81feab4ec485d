"""LangChain filter dicts -> core filter expressions (rendering only; the server-side meaning is
pinned by integration_tests/test_langchain_vectorstore.py against a Python evaluation)."""

from __future__ import annotations

from typing import Any

import pytest

from redisvec import FilterError
from redisvec.filters import Num, Tag, Text
from redisvec.langchain import RedisVectorStore
from redisvec.langchain.filters import from_dict

TYPES = {
    "color": "tag",
    "year": "numeric",
    "title": "text",
    "loc": "geo",
    "embedding": "vector",
}


def render(flt: dict[str, Any]) -> str:
    return from_dict(flt, TYPES).render(TYPES)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ({"color": "red"}, Tag("color") == "red"),
        ({"color": {"$eq": "a b"}}, Tag("color") == "a b"),
        ({"color": {"$ne": "red"}}, Tag("color") != "red"),
        ({"color": {"$in": ["a", "b"]}}, Tag("color") == ["a", "b"]),
        ({"color": {"$nin": ["a", "b"]}}, ~Tag("color").one_of(["a", "b"])),
        ({"color": True}, Tag("color") == "true"),
        ({"color": {"$exists": False}}, Tag("color").is_missing()),
        ({"color": {"$exists": True}}, ~Tag("color").is_missing()),
        ({"year": 2000}, Num("year") == 2000),
        ({"year": {"$gt": 1, "$lte": 5}}, (Num("year") > 1) & (Num("year") <= 5)),
        ({"year": {"$gte": 1.5}}, Num("year") >= 1.5),
        ({"year": {"$lt": -3}}, Num("year") < -3),
        ({"year": {"$ne": 3}}, Num("year") != 3),
        ({"year": {"$in": [1, 2]}}, (Num("year") == 1) | (Num("year") == 2)),
        ({"year": {"$nin": [1, 2]}}, ~((Num("year") == 1) | (Num("year") == 2))),
        ({"year": True}, Num("year") == 1),
        ({"title": "hello world"}, Text("title") == "hello world"),
        ({"title": {"$like": "hel%"}}, Text("title").like("hel*")),
        ({"loc": {"$exists": True}}, ~Num("loc").is_missing()),
        ({"color": "red", "year": 1}, (Tag("color") == "red") & (Num("year") == 1)),
        (
            {"$or": [{"color": "red"}, {"year": {"$lt": 3}}]},
            (Tag("color") == "red") | (Num("year") < 3),
        ),
        (
            {"$and": [{"color": "red"}, {"$not": {"year": 1}}]},
            (Tag("color") == "red") & ~(Num("year") == 1),
        ),
        ({"$not": [{"color": "a"}, {"year": 2}]}, ~((Tag("color") == "a") & (Num("year") == 2))),
        ({}, None),
    ],
)
def test_translation(flt: dict[str, Any], expected: Any) -> None:
    rendered = render(flt)
    assert rendered == ("*" if expected is None else expected.render())


def test_empty_in_lists() -> None:
    assert render({"color": {"$nin": []}}) == "*"
    nothing = render({"color": {"$in": []}})
    assert nothing != "*" and "-" in nothing  # "x and not x": an explicit empty set
    # an explicit empty set on the field ("x and not x"), which callers can see as nothing
    assert render({"year": {"$in": []}}) == "(@year:[-inf +inf] -(@year:[-inf +inf]))"
    assert from_dict({"year": {"$in": []}}, TYPES).is_nothing()
    assert from_dict({"color": {"$in": []}}, TYPES).is_nothing()
    assert render({"year": {"$nin": []}}) == "*"


@pytest.mark.parametrize(
    ("flt", "message"),
    [
        (
            {"colour": "red"},
            r"'colour', which is not indexed; indexed fields: \['color', 'loc', 'title', 'year'\]",
        ),
        ({"color": {"$regex": "r"}}, r"unknown operator '\$regex'; operators: \$eq"),
        ({"$nor": []}, r"unknown filter operator '\$nor'.*indexed fields"),
        (
            {"color": {"$gt": 1}},
            r"\$gt does not apply to tag field 'color'; tag fields support: \$eq, \$ne, \$in, "
            r"\$nin, \$exists$",
        ),
        ({"title": {"$lt": "b"}}, r"\$lt does not apply to text field 'title'.*use \$eq"),
        ({"loc": "1,2"}, r"\$eq does not apply to geo field 'loc'; geo fields support: \$exists"),
        ({"embedding": [1, 2]}, r"does not apply to vector field 'embedding'.*vector query"),
        ({"color": {"$in": "red"}}, r"\$in takes a list of values"),
        ({"color": ["a", "b"]}, r"use \$in"),
        ({"color": {"$exists": "yes"}}, r"\$exists takes true or false"),
        ({"color": ""}, r"empty value"),
        ({"year": "2000"}, r"compares numbers"),
        ({"title": 3}, r"takes a string"),
        ({"$or": []}, r"\$or needs at least one condition"),
        ({"color": {}}, r"empty condition"),
    ],
)
def test_errors_name_the_problem(flt: dict[str, Any], message: str) -> None:
    with pytest.raises(FilterError, match=message):
        from_dict(flt, TYPES)


def test_not_a_dict() -> None:
    with pytest.raises(FilterError, match="must be a dict"):
        from_dict(["color"], TYPES)  # type: ignore[arg-type]


class _NoEmbeddings:
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("not called")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("not called")


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"distance_metric": "dot"}, "unknown distance_metric 'dot'"),
        ({"algorithm": "ivf"}, "unknown algorithm 'ivf'"),
        ({"storage_type": "xml"}, "storage 'xml'"),
        ({"metadata_schema": [{"name": "x", "type": "vector"}]}, "type 'vector' is not one of"),
        ({"metadata_schema": [{"name": "text", "type": "tag"}]}, "collide with the layout"),
        ({"dims": 0}, "dims must be a positive integer"),
    ],
)
def test_constructor_validates_without_a_server(option: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RedisVectorStore(_NoEmbeddings(), index_name="x", redis_url="redis://nowhere:1", **option)  # type: ignore[arg-type]
