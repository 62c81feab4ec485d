"""The core in one page: create an index, load documents, run KNN, filtered and range queries.

python examples/quickstart.py                 # on an embedded server
python examples/quickstart.py --redis-url redis://localhost:6379
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import redis

from redisvec import IndexSchema, RangeQuery, SearchIndex, Tag, VectorQuery
from redisvec.server import url_or_local

DOCS = [
    (
        "Getting started with Azure AI",
        "documentation",
        "Azure AI Services provide pre-built models.",
    ),
    ("Vector search in Redis", "documentation", "HNSW and FLAT indexes answer KNN queries."),
    ("Pricing FAQ", "faq", "Managed Redis is billed per hour of the chosen tier."),
    ("Resetting a password", "faq", "Use the portal to reset an access key."),
    ("Release notes 8.2", "news", "Redis 8.2 adds SVS-VAMANA vector indexes."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument(
        "--fast", action="store_true", help="(accepted for uniformity; already fast)"
    )
    args = parser.parse_args()

    # Stand-in embeddings: deterministic random unit vectors, so the example needs no model.
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(len(DOCS), 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)

    schema = IndexSchema.from_dict(
        {
            "index": {"name": "quickstart", "prefix": "quickstart", "storage_type": "hash"},
            "fields": [
                {"name": "title", "type": "text"},
                {"name": "content", "type": "text"},
                {"name": "category", "type": "tag"},
                {
                    "name": "embedding",
                    "type": "vector",
                    "attrs": {"dims": 64, "algorithm": "hnsw", "distance_metric": "cosine"},
                },
            ],
        }
    )
    with url_or_local(args.redis_url) as url, redis.Redis.from_url(url) as client:
        index = SearchIndex(schema, client)
        index.create(overwrite=True, drop_documents=True)
        records = [
            {"title": t, "category": c, "content": body, "embedding": v}
            for (t, c, body), v in zip(DOCS, vectors)
        ]
        index.load(records, ids=[f"{i:03d}" for i in range(len(DOCS))])

        query = vectors[1] + 0.1 * rng.normal(size=64).astype(np.float32)
        print("KNN (k=3):")
        for hit in index.search(VectorQuery(query, k=3, return_fields=["title"])):
            print(f"  {hit.id}  distance={hit.distance:.4f}  {hit.fields['title']}")
        print("KNN among category == 'faq':")
        knn = VectorQuery(query, k=3, filter=Tag("category") == "faq", return_fields=["title"])
        for hit in index.search(knn):
            print(f"  {hit.id}  distance={hit.distance:.4f}  {hit.fields['title']}")
        print("Everything within cosine distance 0.5:")
        for hit in index.search(RangeQuery(query, 0.5, return_fields=["title"])):
            print(f"  {hit.id}  distance={hit.distance:.4f}  {hit.fields['title']}")
        index.drop(delete_documents=True)


if __name__ == "__main__":
    main()
