"""A support chat app on one Redis: retrieval, a per-user semantic cache and chat history.

python examples/chat_app.py                                  # on an embedded server
python examples/chat_app.py --redis-url redis://localhost:6379

Each turn: look the question up in the semantic cache (scoped to the user, so one user's answer
never serves another); on a miss, retrieve passages from the vector store, prompt the model with
them and the user's chat history, and cache the answer; either way, append the turn to the
user's history. Everything lives in one Redis: the vector index, the cache index and the history
index, each under its own key prefix.

Runs offline: the embeddings are the examples' hashing bag of words and the "LLM" is a
deterministic fake that quotes the best passage and counts its calls. Swap in real models and
nothing else changes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from _embeddings import HashingEmbedder
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult, Generation
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder

from redisvec.langchain import RedisChatMessageHistory, RedisSemanticCache, RedisVectorStore
from redisvec.langchain.cache import load_generations
from redisvec.server import url_or_local

PASSAGES = [
    "To reset your password, open Settings, choose Security and click Reset password.",
    "Two-factor authentication is enabled under Settings, Security, Two-factor.",
    "Invoices are emailed on the first day of each month; download them under Billing.",
    "Refunds for annual plans are prorated and reach your card within ten days.",
    "The API rate limit is 100 requests per second per key; bursts are queued.",
]
# (user, question, answered from the cache?)
TURNS = [
    ("alice", "How do I reset my password?", False),
    ("alice", "how can I reset my password", True),  # the same question reworded: a cache hit
    ("bob", "How do I reset my password?", False),  # another user: never alice's cached answer
    ("alice", "When will my refund reach my card?", False),
    ("bob", "When will my refund reach my card?", False),
    ("bob", "when does my refund reach my card", True),
]
MODEL = "fake-support-model-v1"


class HashingEmbeddings(Embeddings):
    def __init__(self) -> None:
        self.model = HashingEmbedder(dims=256)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.embed(texts, "document").tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.model.embed([text], "query")[0].tolist()  # type: ignore[no-any-return]


class QuotingModel(BaseChatModel):
    """A deterministic stand-in for an LLM: answers with the first passage of its context."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "quoting-fake"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls += 1
        context = str(messages[0].content).split("Context:\n", 1)[-1]
        answer = f"From our docs: {context.splitlines()[0]}"
        return ChatResult(generations=[ChatGeneration(message=AIMessage(answer))])


PROMPT = ChatPromptTemplate.from_messages(
    [
        ("system", "Answer from the context only.\nContext:\n{context}"),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ]
)


def answer(
    user: str,
    question: str,
    *,
    store: RedisVectorStore,
    cache: RedisSemanticCache,
    llm: QuotingModel,
    history: RedisChatMessageHistory,
) -> tuple[str, float | None]:
    """One turn; returns the answer and, when it came from the cache, the cached question's
    distance from this one."""
    scoped = cache.with_scope(user=user)
    cached = scoped.lookup_hit(question, MODEL)  # `lookup`, plus the entry's prompt and distance
    if cached is not None:
        text, distance = load_generations(cached.response)[0].text, cached.distance
    else:
        docs = store.similarity_search(question, k=2)
        messages = PROMPT.invoke(
            {
                "context": "\n".join(d.page_content for d in docs),
                "history": history.get_messages(last=6),
                "question": question,
            }
        )
        text, distance = str(llm.invoke(messages).content), None
        scoped.update(question, MODEL, [Generation(text=text)])
    history.add_messages([HumanMessage(question), AIMessage(text)])
    return text, distance


def run(url: str, namespace: str, turns: Sequence[tuple[str, str, bool]]) -> None:
    embeddings = HashingEmbeddings()
    store = RedisVectorStore.from_texts(
        PASSAGES,
        embeddings,
        ids=[f"p{i}" for i in range(len(PASSAGES))],
        index_name=f"{namespace}chat_app_docs",
        key_prefix=f"{namespace}chat_app_docs:",
        redis_url=url,
    )
    cache = RedisSemanticCache(
        embeddings,
        redis_url=url,
        name=f"{namespace}chat_app_cache",
        key_prefix=f"{namespace}chat_app_cache:",
        distance_threshold=0.25,
        ttl=3600,
        scope_fields=["user"],
    )
    histories = {
        user: RedisChatMessageHistory(
            user,
            redis_url=url,
            index_name=f"{namespace}chat_app_history",
            key_prefix=f"{namespace}chat_app_history:",
            ttl=24 * 3600,
        )
        for user in {u for u, _, _ in turns}
    }
    llm = QuotingModel()
    try:
        for user, question, expect_hit in turns:
            text, distance = answer(
                user, question, store=store, cache=cache, llm=llm, history=histories[user]
            )
            print(f"{user:>5} asks: {question}")
            source = "(model)" if distance is None else f"(cache, distance {distance:.3f})"
            print(f"        {source} {text}")
            hit = distance is not None
            assert hit == expect_hit, f"expected {'a hit' if expect_hit else 'a miss'}"
        assert llm.calls == sum(not hit for _, _, hit in turns)
        print(f"\nthe model answered {llm.calls} of {len(turns)} questions")
        alice = histories["alice"]
        print("sessions:", alice.sessions())
        print("alice's history:", [f"{m.type}: {m.content}" for m in alice.messages])
        past = alice.search_messages("refund", k=1)
        print("alice's past message about refunds:", past[0].content if past else None)
        assert len(alice.messages) == 2 * sum(u == "alice" for u, _, _ in turns)
        assert sorted(alice.sessions()) == sorted(histories)
    finally:
        for h in histories.values():
            h.clear()
            h.store.drop()
        cache.drop()
        store.drop_index(delete_documents=True)
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--fast", action="store_true", help="(accepted; the example is fast)")
    args = parser.parse_args()
    namespace = os.environ.get("REDISVEC_EXAMPLE_NAMESPACE", "")
    with url_or_local(args.redis_url) as url:
        run(url, namespace, TURNS)


if __name__ == "__main__":
    main()
