"""Issue "No silent wrong answers": JSON fields named with a dot, a space or non-ASCII.

Indexed as ``$.source.url`` a member named ``source.url`` is looked for at ``source`` -> ``url``
(and ``$.file name`` / ``$.catégorie`` do not parse): nothing is indexed and filters match
nothing, silently. Such names are now indexed by bracket notation (``$["source.url"]``). Each
filter here is compared with what plain Python predicts over the same records, on the core and
both adapters; HASH storage is checked alongside (the names are plain hash fields there).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis
from conftest import Names
from langchain_core.documents import Document

from redisvec import SchemaMismatchError
from redisvec.filters import Num, Tag, Text
from redisvec.index import SearchIndex
from redisvec.query import FilterQuery
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField

N, DIMS = 60, 4
URLS = ["https://a.example/x", "https://b.example/y", "file:///tmp/z"]
NAMES = ["annual report", "minutes", "draft plan"]
VECTORS = np.random.default_rng(3).normal(size=(N, DIMS))


def metadata(i: int) -> dict[str, Any]:
    return {"source.url": URLS[i % 3], "file name": NAMES[i % 3], "catégorie": i % 7}


CASES: list[tuple[Any, Any]] = [  # (filter, the same predicate in Python)
    (Tag("source.url") == URLS[1], lambda m: m["source.url"] == URLS[1]),
    (Num("catégorie") >= 4, lambda m: m["catégorie"] >= 4),
    (Text("file name") % "report", lambda m: "report" in m["file name"].split()),
    (
        (Tag("source.url") == URLS[2]) & (Num("catégorie") < 3),
        lambda m: m["source.url"] == URLS[2] and m["catégorie"] < 3,
    ),
]


def expected(predicate: Any) -> set[str]:
    ids = {f"d{i}" for i in range(N) if predicate(metadata(i))}
    assert 0 < len(ids) < N  # the filter tells records apart
    return ids


def core_schema(names: Names, storage: str) -> IndexSchema:
    return IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage=storage,
        fields=(
            TagField("source.url"),
            TextField("file name"),
            NumericField("catégorie"),
            VectorField("v", dims=DIMS, algorithm="flat"),
        ),
    )


@pytest.mark.parametrize("storage", ["json", "hash"])
def test_core_filters_on_dotted_spaced_and_non_ascii_names(
    client: redis.Redis, names: Names, storage: str
) -> None:
    index = SearchIndex(core_schema(names, storage), client)
    index.create()
    if storage == "json":
        args = index.schema.ft_create_args()
        assert '$["source.url"]' in args and '$["file name"]' in args and '$["catégorie"]' in args
    index.load([metadata(i) | {"v": VECTORS[i]} for i in range(N)], ids=[f"d{i}" for i in range(N)])
    assert index.info().indexing_failures == 0
    for flt, predicate in CASES:
        hits = index.search(FilterQuery(flt, limit=N)).hits
        assert {h.id for h in hits} == expected(predicate), flt
    # read back from the server with the same names
    assert index.from_existing(client, names.index).schema.field_path("source.url") == (
        '$["source.url"]' if storage == "json" else "source.url"
    )


def test_an_index_made_with_the_wrong_json_path_is_a_mismatch_not_silence(
    client: redis.Redis, names: Names
) -> None:
    """An index created before this fix (``$.source.url AS source.url``) indexes nothing for a
    member named ``source.url``: opening it for that schema must say so."""
    client.execute_command(
        "FT.CREATE", names.index, "ON", "JSON", "PREFIX", 1, names.prefix, "SCHEMA",
        "$.source.url", "AS", "source.url", "TAG",
        "$.v", "AS", "v", "VECTOR", "FLAT", 6, "TYPE", "FLOAT32", "DIM", DIMS,
        "DISTANCE_METRIC", "COSINE",
    )  # fmt: skip
    schema = IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage="json",
        fields=(TagField("source.url"), VectorField("v", dims=DIMS, algorithm="flat")),
    )
    with pytest.raises(SchemaMismatchError, match=r"JSON path of 'source.url'"):
        SearchIndex(schema, client).create()


ADAPTER_SCHEMA = [
    {"name": "source.url", "type": "tag"},
    {"name": "file name", "type": "text"},
    {"name": "catégorie", "type": "numeric"},
]


def test_langchain_filters_on_such_names_json(redis_url: str, names: Names) -> None:
    from langchain_core.embeddings import Embeddings

    from redisvec.langchain import RedisVectorStore

    class Fixed(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [VECTORS[int(t[4:])].tolist() for t in texts]

        def embed_query(self, text: str) -> list[float]:
            return VECTORS[0].tolist()

    store = RedisVectorStore(
        Fixed(),
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        storage_type="json",
        metadata_schema=ADAPTER_SCHEMA,
        algorithm="FLAT",
    )
    try:
        store.add_documents(
            [Document(f"doc {i}", metadata=metadata(i)) for i in range(N)],
            ids=[f"d{i}" for i in range(N)],
        )
        for flt, predicate in CASES:
            got = store.similarity_search("q", k=N, filter=flt)
            assert {d.id for d in got} == expected(predicate), flt
        got = store.similarity_search("q", k=N, filter={"source.url": URLS[0]})
        assert {d.id for d in got} == expected(lambda m: m["source.url"] == URLS[0])
    finally:
        store.close()


def test_llama_index_filters_on_such_names_json(redis_url: str, names: Names) -> None:
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import (
        FilterOperator,
        MetadataFilter,
        MetadataFilters,
        VectorStoreQuery,
    )

    from redisvec.llama_index import RedisVectorStore

    store = RedisVectorStore(
        index_name=names.index,
        key_prefix=names.prefix,
        redis_url=redis_url,
        storage_type="json",
        metadata_schema=ADAPTER_SCHEMA,
        algorithm="flat",
    )
    store.add(
        [
            TextNode(id_=f"d{i}", text=f"doc {i}", embedding=VECTORS[i].tolist(),
                     metadata=metadata(i))
            for i in range(N)
        ]
    )  # fmt: skip
    cases = [
        (MetadataFilter(key="source.url", value=URLS[1]), lambda m: m["source.url"] == URLS[1]),
        (
            MetadataFilter(key="catégorie", value=4, operator=FilterOperator.GTE),
            lambda m: m["catégorie"] >= 4,
        ),
        (
            MetadataFilter(key="file name", value="report", operator=FilterOperator.TEXT_MATCH),
            lambda m: "report" in m["file name"].split(),
        ),
    ]
    for flt, predicate in cases:
        result = store.query(
            VectorStoreQuery(
                query_embedding=VECTORS[0].tolist(),
                similarity_top_k=N,
                filters=MetadataFilters(filters=[flt]),
            )
        )
        assert set(result.ids or []) == expected(predicate), flt
