"""A LangChain retrieval chain (RAG) end to end on Redis: index, retrieve, prompt, answer.

python examples/langchain_chain.py                                  # on an embedded server
python examples/langchain_chain.py --redis-url redis://localhost:6379

Runs offline: the embeddings are the examples' hashing bag of words (deterministic, no model) and
the chat model is LangChain's ``FakeListChatModel``. Swap in real ones (e.g.
``AzureOpenAIEmbeddings`` and ``AzureChatOpenAI``) and nothing else changes. The chain is
``{context: retriever | format, question} | prompt | llm``; it also runs natively async.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from _embeddings import HashingEmbedder
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from redisvec.langchain import RedisVectorStore
from redisvec.server import url_or_local

PASSAGES = [
    ("To reset your password, open Settings, choose Security and click Reset password.", "account"),
    ("Two-factor authentication is enabled under Settings, Security, Two-factor.", "account"),
    (
        "Invoices are emailed on the first day of each month; download them under Billing.",
        "billing",
    ),
    ("Refunds for annual plans are prorated and reach your card within ten days.", "billing"),
    ("The API rate limit is 100 requests per second per key; bursts are queued.", "api"),
    ("API keys are created under Settings, Developer, Keys and can be revoked any time.", "api"),
]
# (question, metadata filter, the passage that must come first)
QUESTIONS = [
    ("How do I reset my password?", None, "p0"),
    ("When do refunds reach my card?", {"category": "billing"}, "p3"),
]


class HashingEmbeddings(Embeddings):
    """LangChain face of the examples' hashing embedder."""

    def __init__(self) -> None:
        self.model = HashingEmbedder(dims=256)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.embed(texts, "document").tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed([text], "query")[0].tolist()  # type: ignore[no-any-return]


def format_docs(docs: list[Document]) -> str:
    return "\n".join(f"[{d.id}] {d.page_content}" for d in docs)


def question(state: dict[str, Any]) -> str:
    return str(state["question"])


def prompt_inputs(state: dict[str, Any]) -> dict[str, str]:
    return {"context": format_docs(state["docs"]), "question": state["question"]}


def build_chain(
    store: RedisVectorStore, answers: list[str], flt: dict[str, str] | None
) -> Runnable[dict[str, Any], dict[str, Any]]:
    """``{"question"}`` -> ``{"question", "docs", "answer"}``: the sources stay next to the
    answer, as a RAG app shows them."""
    search_kwargs: dict[str, Any] = {"k": 2} | ({"filter": flt} if flt else {})
    retriever = store.as_retriever(search_kwargs=search_kwargs)
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "Answer from the context only; cite passage ids.\nContext:\n{context}"),
            ("human", "{question}"),
        ]
    )
    llm = FakeListChatModel(responses=answers)
    answer: Runnable[dict[str, Any], str] = (
        RunnableLambda(prompt_inputs) | prompt | llm | StrOutputParser()
    )
    retrieve: Runnable[dict[str, Any], list[Document]] = RunnableLambda(question) | retriever
    return RunnablePassthrough.assign(docs=retrieve).assign(answer=answer)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--fast", action="store_true", help="(accepted; the example is fast)")
    args = parser.parse_args()
    namespace = os.environ.get("REDISVEC_EXAMPLE_NAMESPACE", "")

    with url_or_local(args.redis_url) as url:
        store = RedisVectorStore.from_texts(
            [text for text, _ in PASSAGES],
            HashingEmbeddings(),
            metadatas=[{"category": c, "n": i} for i, (_, c) in enumerate(PASSAGES)],
            ids=[f"p{i}" for i in range(len(PASSAGES))],
            index_name=f"{namespace}langchain_chain",
            key_prefix=f"{namespace}langchain_chain:",
            redis_url=url,
            metadata_schema=[{"name": "category", "type": "tag"}],
        )
        try:
            for question, flt, best in QUESTIONS:
                chain = build_chain(store, [f"(fake LLM) An answer to: {question}"], flt)
                result = chain.invoke({"question": question})
                print(f"Q: {question}" + (f"   filter={flt}" if flt else ""))
                for doc in result["docs"]:
                    print(f"   source [{doc.id}] {doc.metadata['category']}: {doc.page_content}")
                print(f"A: {result['answer']}\n")
                assert result["docs"][0].id == best, f"expected passage {best} first"
                if flt:
                    assert all(d.metadata["category"] == flt["category"] for d in result["docs"])

            # The same chain, natively async; an MMR and a score-threshold retriever for contrast.
            async def run_async() -> None:
                chain = build_chain(store, ["(fake LLM) async answer"], None)
                result = await chain.ainvoke({"question": "How do API keys work?"})
                print("async sources:", [d.id for d in result["docs"]])
                mmr = store.as_retriever(search_type="mmr", search_kwargs={"k": 3, "fetch_k": 6})
                print("mmr sources:  ", [d.id for d in await mmr.ainvoke("API keys rate limit")])
                sure = store.as_retriever(
                    search_type="similarity_score_threshold",
                    search_kwargs={"score_threshold": 0.2, "k": 6},
                )
                print("score >= 0.2: ", [d.id for d in await sure.ainvoke("reset password")])
                await store.aclose()

            asyncio.run(run_async())
        finally:
            store.drop_index(delete_documents=True)
            store.close()


if __name__ == "__main__":
    main()
