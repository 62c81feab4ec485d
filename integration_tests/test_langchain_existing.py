"""`RedisVectorStore.from_existing_index` on an index built with raw redis-py exactly as the Azure
Managed Redis guide does it (/work/shared/reference/azure-managed-redis-vector-guide.txt):
TEXT title/content, TAG category, HNSW FLOAT32 COSINE 1536-d on a ``doc:`` prefix, HSET with
``tobytes()``. KNN, hybrid and range results must equal the guide's raw ``FT.SEARCH`` queries.

The index name and prefix get the test's unique namespace in front (``<names.prefix>doc:``) so the
test can share a server; everything else is the guide's code.
"""

from __future__ import annotations

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings
from redis.commands.search.field import TagField, TextField, VectorField
from redis.commands.search.query import Query

try:
    from redis.commands.search.index_definition import IndexDefinition, IndexType
except ImportError:  # redis-py < 6
    from redis.commands.search.indexDefinition import IndexDefinition, IndexType

from redisvec import FilterError, IndexNotFoundError
from redisvec.langchain import RedisVectorStore

DIM = 1536
CATEGORIES = ["documentation", "tutorial", "faq, misc"]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@pytest.fixture
def guide_index(client: redis.Redis, names) -> tuple[str, str, np.ndarray, np.ndarray]:
    index, prefix = names.index, f"{names.prefix}doc:"
    schema = (
        TextField("title"),
        TextField("content"),
        TagField("category"),
        VectorField(
            "embedding", "HNSW", {"TYPE": "FLOAT32", "DIM": DIM, "DISTANCE_METRIC": "COSINE"}
        ),
    )
    client.ft(index).create_index(
        fields=schema, definition=IndexDefinition(prefix=[prefix], index_type=IndexType.HASH)
    )
    rng = np.random.default_rng(11)
    vectors = rng.normal(size=(60, DIM)).astype(np.float32)
    pipeline = client.pipeline()
    for i, vec in enumerate(vectors):
        pipeline.hset(
            f"{prefix}{i:03d}",
            mapping={
                "title": f"Title {i}",
                "content": f"Content of document {i}",
                "embedding": np.array(vec, dtype=np.float32).tobytes(),
                "category": CATEGORIES[i % 3],
            },
        )
    pipeline.execute()
    query = rng.normal(size=DIM).astype(np.float32)
    return index, prefix, vectors, query


def _raw(
    client: redis.Redis, index: str, text: str, query: np.ndarray, n: int
) -> list[tuple[str, float, str]]:
    q = (
        Query(text)
        .return_fields("title", "content", "score")
        .sort_by("score")
        .paging(0, n)
        .dialect(2)
    )
    res = client.ft(index).search(q, query_params={"query_vec": query.tobytes()})
    return [(_text(d.id), float(d.score), _text(d.content)) for d in res.docs]


async def test_from_existing_index_matches_raw_ft_search(
    guide_index, client: redis.Redis, redis_url: str
) -> None:
    index, prefix, vectors, query = guide_index
    emb = TableEmbeddings({"question": query.tolist()})
    store = RedisVectorStore.from_existing_index(emb, index_name=index, redis_url=redis_url)
    astore = await RedisVectorStore.afrom_existing_index(emb, index_name=index, redis_client=client)

    def ours(scored) -> list[tuple[str, float, str]]:
        return [(prefix + d.id, s, d.page_content) for d, s in scored]

    def same(a: list[tuple[str, float, str]], b: list[tuple[str, float, str]]) -> None:
        assert [x[0] for x in a] == [x[0] for x in b]
        assert [x[2] for x in a] == [x[2] for x in b]
        np.testing.assert_allclose([x[1] for x in a], [x[1] for x in b], rtol=1e-6, atol=1e-6)

    # KNN
    raw = _raw(client, index, "*=>[KNN 5 @embedding $query_vec AS score]", query, 5)
    assert len(raw) == 5
    same(ours(store.similarity_search_with_score("question", k=5)), raw)
    same(ours(await astore.asimilarity_search_with_score("question", k=5)), raw)
    # k beyond the server's default LIMIT of 10
    raw = _raw(client, index, "*=>[KNN 25 @embedding $query_vec AS score]", query, 25)
    assert len(raw) == 25
    same(ours(store.similarity_search_with_score("question", k=25)), raw)
    # hybrid
    raw = _raw(
        client, index, "@category:{documentation}=>[KNN 3 @embedding $query_vec AS score]", query, 3
    )
    assert len(raw) == 3
    same(
        ours(
            store.similarity_search_with_score(
                "question", k=3, filter={"category": "documentation"}
            )
        ),
        raw,
    )
    raw = _raw(
        client,
        index,
        "@category:{faq | tutorial}=>[KNN 30 @embedding $query_vec AS score]",
        query,
        30,
    )
    assert len(raw) == 30  # "faq, misc" was split on the guide's default separator ','
    flt = {"category": {"$in": ["faq", "tutorial"]}}
    same(ours(await astore.asimilarity_search_with_score("question", k=30, filter=flt)), raw)
    # the whole stored value would silently match nothing (the server split it): a clear error
    message = (
        r"Tag\('category'\) value 'faq, misc' contains the field's separator ',': .*'faq', 'misc'"
    )
    assert client.ft(index).search(Query("@category:{faq\\,\\ misc}").dialect(2)).total == 0
    with pytest.raises(FilterError, match=message):
        store.similarity_search("question", k=30, filter={"category": "faq, misc"})
    with pytest.raises(FilterError, match=message):
        await astore.asimilarity_search(
            "question", k=30, filter={"category": {"$in": ["faq, misc"]}}
        )
    llama = pytest.importorskip("redisvec.llama_index")
    from llama_index.core.vector_stores.types import MetadataFilter, VectorStoreQuery

    lstore = llama.RedisVectorStore.from_existing_index(
        index_name=index, redis_url=redis_url, text_field="content"
    )
    with pytest.raises(FilterError, match=message):
        lstore.query(
            VectorStoreQuery(
                query_embedding=query.tolist(),
                filters=MetadataFilter(key="category", value="faq, misc"),  # type: ignore[arg-type]
            )
        )
    lstore.close()
    # range
    radius = 1.0
    raw = _raw(
        client,
        index,
        f"@embedding:[VECTOR_RANGE {radius} $query_vec]=>{{$YIELD_DISTANCE_AS: score}}",
        query,
        100,
    )
    assert 0 < len(raw) < 60
    same(
        ours(store.similarity_search_with_score("question", k=100, distance_threshold=radius)), raw
    )

    # the other stored fields come back as metadata, the id is the key without the prefix
    doc = store.get_by_ids(["007"])[0]
    assert doc.id == "007" and doc.page_content == "Content of document 7"
    assert doc.metadata == {"title": "Title 7", "category": "tutorial"}
    top = store.similarity_search("question", k=1)[0]
    assert set(top.metadata) == {"title", "category"}
    # cosine relevance
    [(_, relevance)] = store.similarity_search_with_relevance_scores("question", k=1)
    v = vectors[int(top.id)].astype(np.float64)
    cos = float(v @ query / (np.linalg.norm(v) * np.linalg.norm(query)))
    assert relevance == pytest.approx(max(0.0, cos), abs=1e-6)
    await store.aclose()
    await astore.aclose()


def test_from_existing_index_missing_or_misnamed(guide_index, redis_url: str) -> None:
    index = guide_index[0]
    emb = TableEmbeddings({})
    with pytest.raises(IndexNotFoundError, match="does not exist"):
        RedisVectorStore.from_existing_index(emb, index_name=index + "_nope", redis_url=redis_url)
    with pytest.raises(ValueError, match="'title' is not a vector field"):
        RedisVectorStore.from_existing_index(
            emb, index_name=index, redis_url=redis_url, vector_field="title"
        )
    store = RedisVectorStore.from_existing_index(
        emb, index_name=index, redis_url=redis_url, text_field="title"
    )
    assert store.get_by_ids(["001"])[0].page_content == "Title 1"
    store.close()
    with pytest.warns(DeprecationWarning, match="content_field"):
        old = RedisVectorStore.from_existing_index(
            emb, index_name=index, redis_url=redis_url, content_field="title"
        )
    assert old.get_by_ids(["001"])[0].page_content == "Title 1"
    old.close()
