"""Indexes with their own stopword list (FT.CREATE ... STOPWORDS): text queries and filters leave
out exactly that list, and the list survives a read back from the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from redisvec.errors import SchemaError
from redisvec.filters import Text
from redisvec.index import SearchIndex
from redisvec.query import CountQuery, FilterQuery, TextQuery
from redisvec.schema import IndexSchema, TextField, VectorField

DOCS = {
    "d1": "a cat and the dog",
    "d2": "foo fighters in concert",
    "d3": "the bar is open",
    "d4": "Foo and bar together",
    "d5": "nothing in common",
}


def words(text: str, stop: set[str]) -> set[str]:
    """Terms as a NOSTEM field indexes them under the stopword list ``stop``."""
    return {w.lower() for w in re.split(r"[^0-9A-Za-z_]+", text) if w and w.lower() not in stop}


def _index(client: redis.Redis, names: Any, stopwords: tuple[str, ...]) -> SearchIndex:
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(TextField("body", no_stem=True), VectorField("v", dims=2, algorithm="flat")),
        stopwords=stopwords,
    )
    idx = SearchIndex(schema, client)
    idx.create()
    idx.load([{"body": t, "v": [1.0, 0.5]} for t in DOCS.values()], ids=list(DOCS))
    return idx


@pytest.fixture(params=[("foo", "BAR"), ()], ids=["custom", "none"])
def index(request: Any, client: redis.Redis, names: Any) -> Iterator[SearchIndex]:
    idx = _index(client, names, request.param)
    yield idx
    idx.drop(delete_documents=True)


@pytest.mark.parametrize("question", ["the foo", "bar and the cat", "in concert", "a"])
def test_text_query_leaves_out_the_index_s_own_stopwords(index: SearchIndex, question: str) -> None:
    stop = {w.lower() for w in index.schema.stopwords or ()}
    asked = words(question, stop)
    if not asked:
        with pytest.raises(ValueError, match="stopwords"):
            index.search(TextQuery(question, k=10, text_field="body"))
        return
    expected = {i for i, t in DOCS.items() if asked & words(t, stop)}
    got = {h.id for h in index.search(TextQuery(question, k=10, text_field="body")).hits}
    assert got == expected


def test_a_phrase_filter_uses_the_index_s_stopwords(index: SearchIndex) -> None:
    stop = {w.lower() for w in index.schema.stopwords or ()}
    # "the" is a stopword only for the default list: with STOPWORDS 0 it must be matched
    expected = {i for i, t in DOCS.items() if {"the", "dog"} - stop <= words(t, stop)}
    flt = Text("body") % "the dog"
    assert {h.id for h in index.search(FilterQuery(flt, limit=10)).hits} == expected
    assert index.search(CountQuery(flt)).total == len(expected)


def test_the_list_is_read_back_and_compared(client: redis.Redis, names: Any) -> None:
    idx = _index(client, names, ("Foo", "bar", "foo"))
    try:
        back = IndexSchema.from_existing(client, names.index)
        assert back.stopwords == ("bar", "foo")
        assert back == idx.schema
        other = IndexSchema(
            names.index,
            prefixes=(names.prefix,),
            fields=idx.schema.fields,
            stopwords=("baz",),
        )
        assert ("stopwords", ("baz",), ("bar", "foo")) in other.differences(back)
        assert IndexSchema.from_dict(back.to_dict()) == back
    finally:
        idx.drop(delete_documents=True)


def test_a_default_index_reads_back_as_the_default(client: redis.Redis, names: Any) -> None:
    schema = IndexSchema(names.index, prefixes=(names.prefix,), fields=(TextField("body"),))
    idx = SearchIndex(schema, client)
    idx.create()
    try:
        assert IndexSchema.from_existing(client, names.index).stopwords is None
    finally:
        idx.drop()


@pytest.mark.parametrize("bad", ["foo", ["two words"], [""], [1]])
def test_a_malformed_stopword_list_is_refused(bad: Any) -> None:
    with pytest.raises(SchemaError, match="stopwords"):
        IndexSchema("i", fields=(TextField("t"),), stopwords=bad)
