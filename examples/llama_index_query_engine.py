"""A LlamaIndex query engine on Redis, end to end: index documents, retrieve, filter, answer.

python examples/llama_index_query_engine.py                          # on an embedded server
python examples/llama_index_query_engine.py --redis-url redis://localhost:6379
python examples/llama_index_query_engine.py --fast                   # hashing embeddings

Runs offline: the embeddings are the examples' embedder (``--fast``: a hashed bag of words, no
model; else ``REDISVEC_EMBEDDINGS``, default ``hashing``) and the LLM is LlamaIndex's ``MockLLM``
(placeholder tokens). Swap in real ones (e.g. ``AzureOpenAIEmbedding`` and ``AzureOpenAI``) and
nothing else changes.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from _embeddings import CachedEmbedder, HashingEmbedder, LlamaIndexEmbedding, make_embedder
from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.vector_stores.types import FilterOperator, MetadataFilter, MetadataFilters

from redisvec.llama_index import RedisVectorStore
from redisvec.server import url_or_local

DOCUMENTS = [
    (
        "To reset your password, open Settings, choose Security and click Reset password.",
        "account",
        2024,
    ),
    ("Two-factor authentication is enabled under Settings, Security, Two-factor.", "account", 2023),
    (
        "Invoices are emailed on the first day of each month; download them under Billing.",
        "billing",
        2022,
    ),
    ("Refunds for annual plans are prorated and reach your card within ten days.", "billing", 2024),
    ("The API rate limit is 100 requests per second per key; bursts are queued.", "api", 2021),
    (
        "API keys are created under Settings, Developer, Keys and can be revoked any time.",
        "api",
        2024,
    ),
]
# (question, filters, the document that must come first)
QUESTIONS = [
    ("How do I reset my password?", None, "doc-0"),
    (
        "When do refunds reach my card?",
        MetadataFilters(filters=[MetadataFilter(key="category", value="billing")]),
        "doc-3",
    ),
    (
        "How are API keys created?",
        MetadataFilters(
            filters=[
                MetadataFilter(
                    key="category", value=["api", "account"], operator=FilterOperator.IN
                ),
                MetadataFilter(key="year", value=2024, operator=FilterOperator.GTE),
            ]
        ),
        "doc-5",
    ),
]


async def run(url: str, fast: bool) -> None:
    embedder = (
        HashingEmbedder(dims=256)
        if fast
        else make_embedder(os.environ.get("REDISVEC_EMBEDDINGS", "hashing"))
    )
    embed_model = LlamaIndexEmbedding(CachedEmbedder(embedder, None))
    store = RedisVectorStore(
        index_name="example_llama_support",
        redis_url=url,
        metadata_schema=[{"name": "category", "type": "tag"}, {"name": "year", "type": "numeric"}],
        overwrite=True,  # a fresh index on every run
    )
    documents = [
        Document(text=text, id_=f"doc-{i}", metadata={"category": category, "year": year})
        for i, (text, category, year) in enumerate(DOCUMENTS)
    ]
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=embed_model,
    )
    for question, filters, expected in QUESTIONS:
        engine = index.as_query_engine(
            llm=MockLLM(max_tokens=24), similarity_top_k=2, filters=filters
        )
        response = await engine.aquery(question)
        top = response.source_nodes[0]
        print(f"Q: {question}")
        print(
            f"   top source {top.node.ref_doc_id} (score {top.score:.3f}): {top.node.get_content()}"
        )
        print(f"   answer (MockLLM): {str(response)[:60]!r}")
        assert top.node.ref_doc_id == expected, (question, top.node.ref_doc_id)

    # The same index reopened from the server, queried in hybrid mode (vector + BM25).
    reopened = VectorStoreIndex.from_vector_store(
        RedisVectorStore.from_existing_index(index_name="example_llama_support", redis_url=url),
        embed_model=embed_model,
    )
    retriever = reopened.as_retriever(
        similarity_top_k=1, vector_store_query_mode="hybrid", alpha=0.5
    )
    (hit,) = retriever.retrieve("invoices billing")
    print(f"hybrid: {hit.node.ref_doc_id} (fused score {hit.score:.3f})")
    assert hit.node.ref_doc_id == "doc-2"

    index.delete_ref_doc("doc-0")
    left = store.get_nodes()
    print(f"after deleting doc-0: {len(left)} nodes")
    assert len(left) == len(DOCUMENTS) - 1
    await store.aclose()
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL"), help="default: an embedded server"
    )
    parser.add_argument("--fast", action="store_true", help="hashing embeddings (no model)")
    args = parser.parse_args()
    with url_or_local(args.redis_url) as url:
        asyncio.run(run(url, args.fast))


if __name__ == "__main__":
    main()
