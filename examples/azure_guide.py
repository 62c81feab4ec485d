"""The Azure Managed Redis vector-search walk-through, redone with redisvec.

Each step runs the guide's raw redis-py code and the redisvec code that replaces it, on the same
server, and checks that both return the same documents with the same distances:

1. create the index (HNSW, FLOAT32, COSINE, 1536 dimensions, on a ``doc:`` prefix);
2. bulk-ingest with pipelines;
3. KNN; 4. hybrid (tag filter + KNN); 5. VECTOR_RANGE; 6. EF_RUNTIME;
7. what redisvec adds: a wrong-dimension query fails *before* it is sent, with a message that
   names the index, the field and both dimensions; k > 10 returns k (the raw query needs LIMIT).

    python examples/azure_guide.py                        # embedded server
    python examples/azure_guide.py --redis-url rediss://:<key>@<name>.<region>.redis.azure.net:10000
"""

from __future__ import annotations

import argparse
import contextlib
import os

import numpy as np
import redis
from redis.commands.search.field import TagField as RawTag
from redis.commands.search.field import TextField as RawText
from redis.commands.search.field import VectorField as RawVector

try:
    from redis.commands.search.index_definition import IndexDefinition, IndexType
except ImportError:  # redis-py < 6 spells the module indexDefinition
    from redis.commands.search.indexDefinition import IndexDefinition, IndexType  # type: ignore[no-redef]
from redis.commands.search.query import Query

from redisvec import RangeQuery, SearchIndex, Tag, VectorError, VectorQuery
from redisvec.server import url_or_local

DIMS = 1536
CATEGORIES = ("documentation", "faq", "news")


def make_documents(count: int) -> tuple[list[dict[str, object]], np.ndarray]:
    """Stand-in embeddings (random unit vectors): the guide's model is Azure OpenAI's."""
    rng = np.random.default_rng(42)
    vectors = rng.normal(size=(count, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = [
        {
            "id": f"{i:04d}",
            "title": f"Article {i}",
            "content": f"Body of article {i} about Azure AI and Redis.",
            "category": CATEGORIES[i % len(CATEGORIES)],
        }
        for i in range(count)
    ]
    return docs, vectors


def raw_ids(result: object, prefix: str) -> list[tuple[str, float]]:
    return [(d.id.removeprefix(prefix), round(float(d.score), 5)) for d in result.docs]  # type: ignore[attr-defined]


def ours(hits: object) -> list[tuple[str, float]]:
    return [(h.id, round(float(h.distance), 5)) for h in hits]  # type: ignore[attr-defined]


def show(step: str, raw: list[tuple[str, float]], mine: list[tuple[str, float]]) -> None:
    assert raw == mine, f"{step}: raw {raw[:3]} != redisvec {mine[:3]}"
    print(f"{step}: {len(mine)} hits, identical (top: {mine[0] if mine else None})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--fast", action="store_true", help="fewer documents")
    args = parser.parse_args()
    namespace = os.environ.get("REDISVEC_EXAMPLE_NAMESPACE", "")
    index_name = f"{namespace}idx:documents"
    prefix = f"{namespace}doc:"
    docs, vectors = make_documents(300 if args.fast else 3000)

    with url_or_local(args.redis_url) as url, redis.Redis.from_url(url) as client:
        # 1. The index, as the guide creates it with raw redis-py...
        with contextlib.suppress(redis.ResponseError):
            client.ft(index_name).dropindex(delete_documents=True)
        schema = (
            RawText("title"),
            RawText("content"),
            RawTag("category"),
            RawVector(
                "embedding", "HNSW", {"TYPE": "FLOAT32", "DIM": DIMS, "DISTANCE_METRIC": "COSINE"}
            ),
        )
        client.ft(index_name).create_index(
            fields=schema, definition=IndexDefinition(prefix=[prefix], index_type=IndexType.HASH)
        )
        # ...and opened by redisvec: the schema is read from the server (FT.INFO).
        index = SearchIndex.from_existing(client, index_name)
        vf = index.schema.vector_field
        print(
            f"1. index {index_name!r}: {vf.algorithm} {vf.datatype} {vf.distance_metric} dims={vf.dims}"
        )

        # 2. Bulk ingestion. Raw: one HSET per document in a pipeline (first half)...
        half = len(docs) // 2
        pipe = client.pipeline()
        for doc, vector in zip(docs[:half], vectors[:half]):
            pipe.hset(
                f"{prefix}{doc['id']}",
                mapping={
                    "title": doc["title"],
                    "content": doc["content"],
                    "embedding": vector.tobytes(),
                    "category": doc["category"],
                },
            )
        pipe.execute()
        # ...redisvec: one call; vectors checked and encoded as one batch, non-transactional
        # pipelines of batch_size, a report of exactly which ids failed if any do.
        index.load(
            [{**doc, "embedding": v} for doc, v in zip(docs[half:], vectors[half:])],
            id_field="id",
            batch_size=500,
        )
        print(f"2. loaded {len(docs)} documents; the index counts {index.count()}")

        query_vec = vectors[7] + 0.01 * np.random.default_rng(1).normal(size=DIMS).astype(
            np.float32
        )
        query_bytes = query_vec.astype(np.float32).tobytes()
        search = client.ft(index_name).search

        # 3. KNN
        raw = search(
            Query("*=>[KNN 5 @embedding $query_vec AS score]")
            .return_fields("title", "score")
            .sort_by("score")
            .dialect(2),
            query_params={"query_vec": query_bytes},
        )
        show(
            "3. KNN k=5",
            raw_ids(raw, prefix),
            ours(index.search(VectorQuery(query_vec, k=5, return_fields=["title"]))),
        )

        # 4. Hybrid: a tag filter, then KNN among the matches
        raw = search(
            Query("@category:{documentation}=>[KNN 3 @embedding $query_vec AS score]")
            .return_fields("title", "category", "score")
            .sort_by("score")
            .dialect(2),
            query_params={"query_vec": query_bytes},
        )
        hybrid = VectorQuery(
            query_vec, k=3, filter=Tag("category") == "documentation", return_fields=["title"]
        )
        show("4. hybrid", raw_ids(raw, prefix), ours(index.search(hybrid)))

        # 5. VECTOR_RANGE: everything within a COSINE distance
        threshold = float(
            sorted(h.distance or 0 for h in index.search(VectorQuery(query_vec, k=20)))[-1]
        )
        raw = search(
            Query(
                f"@embedding:[VECTOR_RANGE {threshold!r} $query_vec]=>{{$YIELD_DISTANCE_AS: score}}"
            )
            .return_fields("title", "score")
            .sort_by("score")
            .paging(0, 1000)
            .dialect(2),
            query_params={"query_vec": query_bytes},
        )
        show(
            "5. range",
            raw_ids(raw, prefix),
            ours(index.search(RangeQuery(query_vec, threshold, k=1000))),
        )

        # 6. EF_RUNTIME per query
        raw = search(
            Query("*=>[KNN 10 @embedding $query_vec EF_RUNTIME 200 AS score]")
            .return_fields("title", "score")
            .sort_by("score")
            .dialect(2),
            query_params={"query_vec": query_bytes},
        )
        show(
            "6. EF_RUNTIME 200",
            raw_ids(raw, prefix),
            ours(index.search(VectorQuery(query_vec, k=10, ef_runtime=200))),
        )

        # 7. What the raw code leaves to you.
        raw = search(
            Query("*=>[KNN 25 @embedding $query_vec AS score]").sort_by("score").dialect(2),
            query_params={"query_vec": query_bytes},
        )
        print(
            f"7. KNN 25 without LIMIT, raw: {len(raw.docs)} hits; redisvec: "
            f"{len(index.search(VectorQuery(query_vec, k=25)).hits)} hits"
        )
        try:
            index.search(VectorQuery(query_vec[:768], k=5))
        except VectorError as exc:
            print(f"   a 768-d query vector, before anything is sent: {exc}")
        index.drop(delete_documents=True)


if __name__ == "__main__":
    main()
