"""Full-text search and text filters against the real server, compared with plain Python.

Ground truth: a tokeniser written here (split at ASCII punctuation and whitespace, fold ASCII
case, leave out the default stopwords, listed here independently), over the same texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redisvec.errors import FilterError
from redisvec.filters import Tag, Text
from redisvec.index import SearchIndex
from redisvec.query import FilterQuery, TextQuery, VectorQuery
from redisvec.schema import IndexSchema, TagField, TextField, VectorField

# The server's default stopwords (search 2.10), written out here, not imported from redisvec.
STOP = {
    "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in",
    "into", "it", "no", "not", "of", "on", "or", "such", "that", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
}  # fmt: skip


def words(text: str) -> list[str]:
    """Terms as the server indexes them (NOSTEM): ASCII punctuation/whitespace split, ASCII
    lower-case, stopwords out."""
    out = []
    for w in re.split(r"[^0-9A-Za-z_\u0080-\U0010ffff]+", text):
        w = "".join(c.lower() if c.isascii() else c for c in w)
        if w and w not in STOP:
            out.append(w)
    return out


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


DOCS = {
    "d1": "A medical professional with expertise in lung cancer",
    "d2": "The engineer fixed the engine of the car",
    "d3": "Software engineering for engineers",
    "d4": "doctor visits: the docker containers",
    "d5": "Lung transplant; cancers of the blood",
    "d6": "over the lazy dog, a quick fox",
    "d7": "documentation is a vector of knowledge",
}


def _schema(names: Any, *, stem: bool) -> IndexSchema:
    return IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(
            TextField("body", no_stem=not stem),
            TextField("title", index_missing=False),
            TagField("kind", index_missing=True),
            VectorField("v", dims=2, algorithm="flat", distance_metric="l2"),
        ),
    )


@pytest.fixture(params=[False, True], ids=["nostem", "stemmed"])
def index(request: Any, client: redis.Redis, names: Any) -> Iterator[SearchIndex]:
    idx = SearchIndex(_schema(names, stem=request.param), client)
    idx.create()
    recs = [
        {"body": t, "title": t, "kind": k, "v": [1.0, float(i)]}
        for i, (k, t) in enumerate(DOCS.items())
    ]
    idx.load(recs, ids=list(DOCS))
    yield idx
    idx.drop(delete_documents=True)


def _ids(index: SearchIndex, query: Any) -> set[str]:
    return {h.id for h in index.search(query).hits}


def _expected_any(question: str) -> set[str]:
    q = set(words(question))
    return {k for k, t in DOCS.items() if q & set(words(t))}


# --- A1: full-text queries keep every word ---------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "a medical professional with expertise in lung cancer",
        "what is the engine of a car",
        "expertise in lung",  # "in" used to cut the union after "expertise"
        "a an the quick",  # two stopwords first: the raw union crashed search 2.10.5
        "Hello—world, DOCTOR?",
    ],
)
def test_text_query_keeps_every_word_of_a_question(index: SearchIndex, question: str) -> None:
    if index.schema.fields_by_name["body"].no_stem:  # type: ignore[union-attr]
        expected = _expected_any(question)
        assert _ids(index, TextQuery(question, k=50, text_field="body")) == expected
        assert expected  # the case is not vacuous


def test_text_query_of_only_stopwords_is_refused(index: SearchIndex) -> None:
    with pytest.raises(ValueError, match="only stopwords"):
        index.search(TextQuery("it is the", k=5))


def test_text_query_stems_on_a_stemmed_field(index: SearchIndex) -> None:
    """Known Porter pairs: cancers/cancer, engineers/engineering/engineer, visiting/visits."""
    stemmed = not index.schema.fields_by_name["body"].no_stem  # type: ignore[union-attr]
    cases = {"cancers": {"d1", "d5"}, "engineers": {"d2", "d3"}, "visiting": {"d4"}}
    for word, with_stems in cases.items():
        exact = {k for k, t in DOCS.items() if word in words(t)}
        got = _ids(index, TextQuery(word, k=50, text_field="body"))
        assert got == (with_stems if stemmed else exact), word


# --- A2: patterns are patterns ----------------------------------------------------------------


def test_patterns_match_like_python(index: SearchIndex) -> None:
    def check(pattern: str, pred: Any) -> None:
        expected = {k for k, t in DOCS.items() if any(pred(w) for w in words(t))}
        got = _ids(index, FilterQuery(Text("body") % pattern, limit=50))
        assert got == expected, pattern
        assert expected, pattern

    check("doc*", lambda w: w.startswith("doc"))
    check("*ker", lambda w: w.endswith("ker"))
    check("*ngin*", lambda w: "ngin" in w)
    check("%docter%", lambda w: levenshtein(w, "docter") <= 1)
    check("%%dicter%%", lambda w: levenshtein(w, "dicter") <= 2)
    assert _ids(index, FilterQuery(Text("body") % "doc* lung", limit=50)) == set()
    assert _ids(index, FilterQuery(Text("body") % "doc* docker", limit=50)) == {"d4"}


# --- A3: a text filter selects the same records in every query ---------------------------------


@pytest.mark.parametrize("value", ["engine", "Engineer", "lung cancer", "lazy the dog"])
def test_text_filter_agrees_across_query_kinds(index: SearchIndex, value: str) -> None:
    flt = Text("body") % value
    wanted = set(words(value))
    expected = {k for k, t in DOCS.items() if wanted <= set(words(t))}
    assert _ids(index, FilterQuery(flt, limit=50)) == expected
    assert index.count(flt) == len(expected)
    knn = VectorQuery(np.array([1.0, 0.0]), k=50, filter=flt, vector_field="v")
    assert _ids(index, knn) == expected
    negated = set(DOCS) - expected
    assert _ids(index, FilterQuery(~flt, limit=50)) == negated
    assert index.delete_where(flt) == len(expected)
    assert _ids(index, FilterQuery(None, limit=50)) == negated


# --- A4: LlamaIndex TEXT_MATCH matches words --------------------------------------------------


def test_llama_text_match_matches_words_not_a_quoted_phrase(index: SearchIndex) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter

    from redisvec.llama_index.filters import to_filter_expression

    for value in ["cancer lung", "expertise in lung", "THE engine", "fox, lazy"]:
        flt = to_filter_expression(
            MetadataFilter(key="body", value=value, operator=FilterOperator.TEXT_MATCH),
            index.schema,
        )
        wanted = set(words(value))
        expected = {k for k, t in DOCS.items() if wanted <= set(words(t))}
        assert expected
        assert _ids(index, FilterQuery(flt, limit=50)) == expected, value  # type: ignore[arg-type]


def test_phrase_with_a_stopword_matches(index: SearchIndex) -> None:
    assert _ids(index, FilterQuery(Text("body") == "over the lazy dog", limit=50)) == {"d6"}
    assert _ids(index, FilterQuery(Text("body") == "lazy over", limit=50)) == set()


# --- property: TextQuery == a Python tokeniser --------------------------------------------------

VOCAB = ["alpha", "bravo", "charlie", "delta", "echo", "Foxtrot", "golf", "hotel"]
_WORD = st.sampled_from(VOCAB) | st.sampled_from(sorted(STOP)) | st.sampled_from(["The", "IS"])
_SEP = st.sampled_from([" ", ", ", "-", ". ", "|", "*", "$", "  "])


@st.composite
def _texts(draw: st.DrawFn, max_words: int) -> str:
    ws = draw(st.lists(_WORD, min_size=1, max_size=max_words))
    return "".join(w + draw(_SEP) for w in ws)


@pytest.fixture(scope="module")
def prop_index(redis_url: str) -> Iterator[SearchIndex]:
    import uuid

    tag = uuid.uuid4().hex[:10]
    schema = IndexSchema(
        f"test_{tag}_txt",
        prefixes=(f"test_{tag}_txt:",),
        fields=(
            TextField("body", no_stem=True),
            VectorField("v", dims=2, algorithm="flat", distance_metric="l2"),
        ),
    )
    with redis.Redis.from_url(redis_url) as client:
        idx = SearchIndex(schema, client)
        idx.create()
        try:
            yield idx
        finally:
            idx.drop(delete_documents=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(_texts(6), min_size=1, max_size=12), question=_texts(5))
def test_text_query_matches_a_python_tokeniser(
    prop_index: SearchIndex, docs: list[str], question: str
) -> None:
    prop_index.clear()
    ids = [f"r{i}" for i in range(len(docs))]
    prop_index.load([{"body": t, "v": [0.0, 1.0]} for t in docs], ids=ids)
    q = set(words(question))
    if not q:
        with pytest.raises(ValueError, match=r"stopwords|no words"):
            prop_index.search(TextQuery(question, k=100))
        return
    expected = {i for i, t in zip(ids, docs, strict=True) if q & set(words(t))}
    assert _ids(prop_index, TextQuery(question, k=100, text_field="body")) == expected


# --- B7: $like is SQL LIKE, $ never a parameter; B11: $exists and tag lists ----------------------


@pytest.fixture
def lc_index(client: redis.Redis, names: Any) -> Iterator[SearchIndex]:
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        fields=(
            TextField("title", index_missing=True),
            TagField("label", index_missing=True),
            TagField("plain"),  # no INDEXMISSING
            VectorField("v", dims=2, algorithm="flat", distance_metric="l2"),
        ),
    )
    idx = SearchIndex(schema, client)
    idx.create()
    titles = {"a": "vector search", "b": "snake_case names", "c": "one", "d": "100 percent"}
    labels = {"a": "$vector", "b": "$1", "c": "*", "d": "plain"}
    idx.load(
        [{"title": titles[k], "label": labels[k], "plain": "p", "v": [0.0, 1.0]} for k in titles],
        ids=list(titles),
    )
    yield idx
    idx.drop(delete_documents=True)


def _lc(index: SearchIndex, flt: dict[str, Any]) -> set[str]:
    pytest.importorskip("langchain_core")
    from redisvec.langchain.filters import from_dict

    expr = from_dict(flt, index.schema.field_types)
    return _ids(index, FilterQuery(expr, limit=50))


def test_like_is_sql_like(lc_index: SearchIndex) -> None:
    assert _lc(lc_index, {"title": {"$like": "vec%"}}) == {"a"}
    assert _lc(lc_index, {"title": {"$like": "snake\\_%"}}) == {"b"}
    assert _lc(lc_index, {"title": {"$like": "o_e"}}) == {"c"}
    assert _lc(lc_index, {"title": {"$like": "%"}}) == {"a", "b", "c", "d"}
    for pattern in ["*", "$vector", "$1", "vec*", "on?", "100\\%", "a b%"]:
        with pytest.raises(FilterError, match="'title'"):
            _lc(lc_index, {"title": {"$like": pattern}})


def test_dollar_in_tag_values_is_literal(lc_index: SearchIndex) -> None:
    assert _lc(lc_index, {"label": "$vector"}) == {"a"}
    assert _lc(lc_index, {"label": "$1"}) == {"b"}
    assert _lc(lc_index, {"label": "*"}) == {"c"}
    knn = VectorQuery([0.0, 1.0], k=10, filter=Tag("label") == "$vector", vector_field="v")
    assert _ids(lc_index, knn) == {"a"}


def test_exists_without_indexmissing_is_a_filter_error_in_both_adapters(
    lc_index: SearchIndex,
) -> None:
    with pytest.raises(FilterError, match=r"'plain'.*INDEXMISSING"):
        _lc(lc_index, {"plain": {"$exists": True}})
    assert _lc(lc_index, {"label": {"$exists": True}}) == {"a", "b", "c", "d"}
    pytest.importorskip("llama_index.core")
    from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter

    from redisvec.llama_index.filters import to_filter_expression

    with pytest.raises(FilterError, match=r"'plain'.*INDEXMISSING"):
        to_filter_expression(
            MetadataFilter(key="plain", value=None, operator=FilterOperator.IS_EMPTY),
            lc_index.schema,
        )


@pytest.mark.parametrize("bad", [None, float("nan")])
def test_none_or_nan_in_a_tag_list_names_the_field(lc_index: SearchIndex, bad: Any) -> None:
    with pytest.raises(FilterError, match="'label'"):
        _lc(lc_index, {"label": {"$in": ["$vector", bad]}})
    pytest.importorskip("llama_index.core")
    from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter

    from redisvec.llama_index.filters import to_filter_expression

    with pytest.raises(FilterError, match="'label'"):
        to_filter_expression(  # model_construct: pydantic refuses a None item itself
            MetadataFilter.model_construct(
                key="label", value=[1.0, bad], operator=FilterOperator.IN
            ),
            lc_index.schema,
        )
