"""The LangChain adapter's per-query shortcuts, without a server: Documents built without
validation must equal validated ones, and a dict filter translated once per schema must be the
filter a fresh translation gives."""

from __future__ import annotations

import re
from typing import Any

import pytest
from langchain_core.documents import Document

from redisvec import FilterError
from redisvec.langchain import RedisVectorStore
from redisvec.langchain.filters import from_dict
from redisvec.langchain.vectorstore import _document
from redisvec.layout import DocumentLayout, metadata_fields
from redisvec.schema import IndexSchema


class _NoEmbeddings:
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("not called")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("not called")


def _schema(color: str) -> IndexSchema:
    fields = [{"name": "color", "type": color}, {"name": "year", "type": "numeric"}]
    layout = DocumentLayout(indexed=tuple(metadata_fields(fields)))
    return layout.build_schema(index_name="docs", dims=2)


def _store(schema: IndexSchema) -> RedisVectorStore:
    store = RedisVectorStore(_NoEmbeddings(), index_name="docs", redis_url="redis://nowhere:1")  # type: ignore[arg-type]
    store._managed.adopt(schema)  # as if opened on a server
    return store


@pytest.mark.parametrize(
    ("id", "text", "metadata"),
    [("a", "text", {"k": [1, {"x": None}]}), ("", "", {}), ("b", "é", {"n": 1.5})],
)
def test_documents_equal_validated_ones(id: str, text: str, metadata: dict[str, Any]) -> None:
    ours = _document(id, text, metadata)
    theirs = Document(id=id, page_content=text, metadata=metadata)
    assert ours == theirs and repr(ours) == repr(theirs)
    assert ours.model_dump() == theirs.model_dump()
    assert ours.model_fields_set == theirs.model_fields_set
    ours.page_content = "changed"  # a normal, mutable Document
    assert ours.page_content == "changed"


def test_values_validation_would_change_are_validated() -> None:
    with pytest.raises(ValueError, match="page_content"):
        _document("a", None, {})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="metadata"):
        _document("a", "t", [1])


FILTERS: list[dict[str, Any]] = [
    {"color": "red"},
    {"year": 1},
    {"year": True},
    {"year": 1.0},
    {"year": "1"},  # an error, not the int's filter
    {"year": {"$in": [1, 2]}},
    {"year": {"$in": (1, 2)}},
    {"color": {"$in": {"b", "a"}}},  # a set: not cached, still translated
    {"$not": [{"color": "a"}, {"year": 2}]},
    {"color": "red", "year": {"$gte": 3}},
    {},
]


@pytest.mark.parametrize("color", ["tag", "text"])
def test_dict_filters_are_the_fresh_translation(color: str) -> None:
    schema = _schema(color)
    store = _store(schema)
    for _ in range(2):  # the second round comes from the cache
        for flt in FILTERS:
            try:
                expected = from_dict(flt, schema.field_types).render(schema.fields_by_name)
            except FilterError as exc:
                with pytest.raises(FilterError, match=re.escape(str(exc))):
                    store._filter(flt)
            else:
                assert store._filter(flt) == expected


def test_a_new_schema_translates_again() -> None:
    store = _store(_schema("tag"))
    as_tag = store._filter({"color": "red"})
    store._managed.adopt(_schema("text"))
    as_text = store._filter({"color": "red"})
    assert as_tag == "@color:{red}" and as_text != as_tag
    assert as_text == from_dict({"color": "red"}, {"color": "text"}).render()


def test_filter_errors_are_raised_every_time() -> None:
    store = _store(_schema("tag"))
    for _ in range(2):
        with pytest.raises(FilterError, match="'colour', which is not indexed"):
            store._filter({"colour": "red"})
