"""Chat histories on the real server: LangChain's RedisChatMessageHistory and LlamaIndex's
RedisChatStore, both on the core MessageStore. Expected contents are the lists the test itself
added (ground truth kept in plain Python), compared after reading back from Redis."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from llama_index.core.llms import ChatMessage, MessageRole

from redisvec.langchain import RedisChatMessageHistory
from redisvec.llama_index import RedisChatStore
from redisvec.messages import MessageStore


def _history(redis_url: str, names: Any, session: str, **kwargs: Any) -> RedisChatMessageHistory:
    return RedisChatMessageHistory(
        session, redis_url=redis_url, index_name=names.index, key_prefix=names.prefix, **kwargs
    )


def _conversation(n: int, tag: str) -> list[BaseMessage]:
    out: list[BaseMessage] = [SystemMessage(f"system {tag}")]
    for i in range(n):
        out.append(HumanMessage(f"question {i} from {tag}", id=f"{tag}-h{i}"))
        out.append(AIMessage(f"answer {i} for {tag}", additional_kwargs={"i": i}))
    return out


def test_langchain_history_round_trip_order_and_sessions(redis_url: str, names: Any) -> None:
    alice = _history(redis_url, names, "alice")
    bob = _history(redis_url, names, "bob")
    # Lookalike ids that Redis tags would confuse stay separate sessions.
    lookalikes = [_history(redis_url, names, s) for s in ("Alice", " alice", "alice,bob")]
    assert alice.messages == []
    expected = _conversation(3, "alice")
    alice.add_messages(expected[:3])
    bob.add_messages(_conversation(1, "bob"))
    alice.add_messages(expected[3:])
    alice.add_message(ToolMessage("42", tool_call_id="call-1"))
    expected.append(ToolMessage("42", tool_call_id="call-1"))
    for h in lookalikes:
        h.add_user_message(f"I am {h.session_id!r}")
    assert alice.messages == expected
    assert bob.messages == _conversation(1, "bob")
    assert alice.get_messages(last=2) == expected[-2:]
    assert alice.get_messages(last=100) == expected
    for h in lookalikes:
        assert h.messages == [HumanMessage(f"I am {h.session_id!r}")]
    assert alice.sessions() == sorted(["alice", "bob", "Alice", " alice", "alice,bob"])
    # Search: words of past messages, this session or all.
    found = alice.search_messages("answer 2", k=3)
    assert found and found[0] == expected[6]  # "answer 2 for alice"
    everywhere = alice.search_messages("bob", k=10, all_sessions=True)
    assert {m.content for m in everywhere} >= {"question 0 from bob", "answer 0 for bob"}
    assert all("alice" not in str(m.content) for m in alice.search_messages("bob"))
    alice.clear()
    assert alice.messages == [] and bob.messages == _conversation(1, "bob")
    assert "alice" not in alice.sessions()
    alice.add_ai_message("fresh start")
    assert alice.messages == [AIMessage("fresh start")]


def test_langchain_history_more_than_a_page(redis_url: str, names: Any) -> None:
    h = _history(redis_url, names, "long")
    expected = [HumanMessage(f"m{i}") for i in range(2345)]
    h.add_messages(expected)
    assert h.messages == expected
    assert h.get_messages(last=1500) == expected[-1500:]


async def test_langchain_history_async_and_concurrent_writers(redis_url: str, names: Any) -> None:
    h = _history(redis_url, names, "async")
    await h.aadd_messages([HumanMessage("one")])
    assert await h.aget_messages() == [HumanMessage("one")]
    # Concurrent writers: each batch stays contiguous and every message is there once.
    batches = [[HumanMessage(f"w{w}-{i}") for i in range(5)] for w in range(8)]
    await asyncio.gather(*(h.aadd_messages(b) for b in batches))
    got = await h.aget_messages()
    assert len(got) == 41
    for b in batches:
        start = got.index(b[0])
        assert got[start : start + 5] == b
    assert await h.asessions() == ["async"]
    assert [m.content for m in await h.asearch_messages("w3")][:1] != []
    await h.aclear()
    assert await h.aget_messages() == [] and h.messages == []
    await h.aclose()


def test_history_ttl(redis_url: str, names: Any, client: redis.Redis) -> None:
    h = _history(redis_url, names, "short", ttl=1)
    h.add_messages([HumanMessage("gone soon"), AIMessage("yes")])
    keys = list(client.scan_iter(match=f"{names.prefix}*"))
    assert len(keys) == 3  # two messages and the session's counter
    assert all(0 < client.pttl(k) <= 1000 for k in keys)
    time.sleep(1.3)
    assert h.messages == [] and h.sessions() == []


def test_bad_input_is_refused_and_writes_nothing(redis_url: str, names: Any) -> None:
    with pytest.raises(ValueError, match="session_id"):
        _history(redis_url, names, "")
    h = _history(redis_url, names, "s")
    with pytest.raises(TypeError, match="expected LangChain messages"):
        h.add_messages([HumanMessage("ok"), "not a message"])  # type: ignore[list-item]
    assert h.messages == []
    with pytest.raises(ValueError, match="ttl"):
        MessageStore(h.store.connections, ttl=0)


# --- LlamaIndex ----------------------------------------------------------------------------------


def _msg(role: MessageRole, text: str) -> ChatMessage:
    return ChatMessage(role=role, content=text)


def test_llama_chat_store(redis_url: str, names: Any) -> None:
    store = RedisChatStore(redis_url=redis_url, index_name=names.index, key_prefix=names.prefix)
    truth = [_msg(MessageRole.USER, f"u{i}") for i in range(5)]
    store.set_messages("k1", truth)
    store.add_message("k2", _msg(MessageRole.ASSISTANT, "other"))
    assert store.get_messages("k1") == truth
    assert store.get_keys() == ["k1", "k2"]
    store.add_message("k1", _msg(MessageRole.ASSISTANT, "a"))
    truth.append(_msg(MessageRole.ASSISTANT, "a"))
    store.add_message("k1", _msg(MessageRole.SYSTEM, "first"), idx=0)
    truth.insert(0, _msg(MessageRole.SYSTEM, "first"))
    assert store.get_messages("k1") == truth
    assert store.delete_message("k1", 2) == truth.pop(2)
    assert store.delete_message("k1", 99) is None
    assert store.delete_last_message("k1") == truth.pop()
    assert store.get_messages("k1") == truth
    store.set_messages("k1", truth[:2])
    assert store.get_messages("k1") == truth[:2]
    assert store.delete_messages("k1") == truth[:2]
    assert store.get_messages("k1") == [] and store.get_keys() == ["k2"]
    assert store.delete_messages("k1") is None and store.delete_last_message("k1") is None


async def test_llama_chat_store_async(redis_url: str, names: Any) -> None:
    store = RedisChatStore(redis_url=redis_url, index_name=names.index, key_prefix=names.prefix)
    truth = [_msg(MessageRole.USER, "hi"), _msg(MessageRole.ASSISTANT, "hello")]
    await store.aset_messages("k", truth)
    await store.async_add_message("k", _msg(MessageRole.USER, "bye"))
    truth.append(_msg(MessageRole.USER, "bye"))
    assert await store.aget_messages("k") == truth
    assert store.get_messages("k") == truth
    assert await store.aget_keys() == ["k"]
    assert await store.adelete_message("k", -1) == truth.pop()
    assert await store.adelete_last_message("k") == truth.pop()
    assert await store.adelete_messages("k") == truth
    assert await store.aget_keys() == []
    await store.aclose()


def test_llama_chat_memory_on_the_store(redis_url: str, names: Any) -> None:
    """LlamaIndex's ChatMemoryBuffer keeps a conversation in the store across instances."""
    from llama_index.core.memory import ChatMemoryBuffer

    store = RedisChatStore(redis_url=redis_url, index_name=names.index, key_prefix=names.prefix)
    memory = ChatMemoryBuffer.from_defaults(chat_store=store, chat_store_key="user-1")
    memory.put(_msg(MessageRole.USER, "my name is Ada"))
    memory.put(_msg(MessageRole.ASSISTANT, "hello Ada"))
    again = ChatMemoryBuffer.from_defaults(
        chat_store=RedisChatStore(
            redis_url=redis_url, index_name=names.index, key_prefix=names.prefix
        ),
        chat_store_key="user-1",
    )
    assert [m.content for m in again.get_all()] == ["my name is Ada", "hello Ada"]
