"""Constructor spellings of switching users (no server needed: stores connect lazily)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore
from redisvec.peers import schema_from
from redisvec.schema import IndexSchema

URL = "redis://127.0.0.1:1"  # never contacted by these tests


class NoEmbeddings(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        raise AssertionError("no embedding expected")

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("no embedding expected")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"bogus_kw": 1}, "bogus_kw"),
        ({"overwrit": True}, "overwrit"),
        ({"bogus_kw": 1, "other": 2}, "'bogus_kw', 'other'"),
    ],
)
def test_llama_unknown_keywords_raise_naming_them(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(TypeError, match=named):
        LlamaStore(redis_url=URL, **kwargs)


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("return_fields", "every stored field"),
        ("legacy_filters", "escaping"),
        ("index_prefix", "key_prefix="),
        ("metadata_fields", "metadata_schema="),
    ],
)
def test_llama_refused_spellings_name_the_equivalent(name: str, hint: str) -> None:
    with pytest.raises(TypeError, match=f"{name}=.*{hint}"):
        LlamaStore(redis_url=URL, **{name: 1})


def test_llama_spellings_of_switching_users() -> None:
    store = LlamaStore(redis_url=URL)
    assert store.index_name == "llama_index"  # LlamaIndex's default name
    schema = {
        "index": {"name": "custom", "prefix": "docs", "key_separator": "_"},
        "fields": [
            {"name": "id", "type": "tag"},
            {"name": "doc_id", "type": "tag"},
            {"name": "text", "type": "text"},
            {"name": "vector", "type": "vector", "attrs": {"dims": 3, "algorithm": "flat"}},
            {"name": "year", "type": "numeric"},
        ],
    }
    custom = LlamaStore(redis_url=URL, schema=schema, overwrite=True)
    assert custom.index_name == "custom"  # the schema is kept, not dropped
    assert custom.layout.peer == "llama-index-vector-stores-redis"
    assert custom._managed.plan(3).key_prefix == "docs_"
    assert [f.name for f in custom.layout.indexed] == ["year"]
    with pytest.raises(ValueError, match="schema names index 'custom'"):
        LlamaStore(redis_url=URL, index_name="other", schema=schema)


def test_langchain_unknown_and_refused_keywords() -> None:
    emb = NoEmbeddings()
    with pytest.raises(TypeError, match="bogus"):
        LangChainStore(emb, index_name="x", redis_url=URL, bogus=1)
    with pytest.raises(TypeError, match=r"ttl=.*add_texts\(\.\.\., ttl="):
        LangChainStore(emb, index_name="x", redis_url=URL, ttl=5)
    with pytest.raises(TypeError, match="both embeddings= and embedding="):
        LangChainStore(emb, embeddings=emb, index_name="x", redis_url=URL)
    store = LangChainStore(
        embeddings=emb,
        index_name="x",
        redis_url=URL,
        indexing_algorithm="FLAT",
        vector_datatype="FLOAT64",
        embedding_dimensions=5,
    )
    planned = store._managed.plan(5).vector_field
    assert store.embeddings is emb
    assert (planned.algorithm, planned.datatype, planned.dims) == ("flat", "float64", 5)


def test_schema_from_accepts_what_switching_users_pass(tmp_path: Any) -> None:
    data = {
        "version": "0.1.0",
        "index": {"name": "n", "prefix": "p", "storage_type": "hash"},
        "fields": [
            {"name": "text", "type": "text"},
            {"name": "embedding", "type": "vector", "attrs": {"dims": 4}},
        ],
    }
    ours = schema_from(data)
    assert isinstance(ours, IndexSchema) and ours.name == "n" and ours.key_prefix == "p:"
    path = tmp_path / "schema.yaml"
    path.write_text(ours.to_yaml())
    assert schema_from(str(path)) == ours

    class RedisVLLike:  # redisvl's IndexSchema: anything with to_dict()
        def to_dict(self) -> dict[str, Any]:
            return data

    assert schema_from(RedisVLLike()) == ours
    assert schema_from(ours) is ours
    with pytest.raises(Exception, match="schema must be"):
        schema_from(42)
