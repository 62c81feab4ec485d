"""The toolbox's logic that needs no server: the twin driver, what the semantic cache refuses,
generation and prompt serialization, the message store's reply parsing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, Generation

from redisvec._steps import Op, Step, arun, run
from redisvec.connection import Connections
from redisvec.langchain.cache import dump_generations, load_generations, prompt_text
from redisvec.messages import MessageStore
from redisvec.semantic_cache import SemanticCache


class Target:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def add(self, a: int, b: int = 0) -> int:
        self.calls.append((a, b))
        return a + b

    def fail(self) -> None:
        raise KeyError("boom")


class AsyncTarget(Target):
    async def add(self, a: int, b: int = 0) -> int:  # type: ignore[override]
        return super().add(a, b)

    async def fail(self) -> None:  # type: ignore[override]
        raise KeyError("boom")


def _op() -> Op[tuple[int, str]]:
    x = yield Step("t", "add", (1,), {"b": 2})
    try:
        yield Step("t", "fail")
    except KeyError as exc:
        caught = str(exc)
    y = yield Step("t", "add", (x, x))
    return y, caught


def test_twin_driver_runs_the_same_op_sync_and_async() -> None:
    sync, asyn = Target(), AsyncTarget()
    assert run(_op(), {"t": sync}) == (6, "'boom'")
    assert asyncio.run(arun(_op(), {"t": asyn})) == (6, "'boom'")
    assert sync.calls == asyn.calls == [(1, 2), (3, 3)]


def _cache(**kwargs: Any) -> SemanticCache:
    return SemanticCache(Connections("redis://127.0.0.1:1"), **kwargs)  # never connects


def test_semantic_cache_refuses_bad_settings_and_scopes() -> None:
    for bad in (-1, float("nan"), float("inf"), "0.1", True):
        with pytest.raises(ValueError, match="distance_threshold"):
            _cache(distance_threshold=bad)
    with pytest.raises(ValueError, match="ttl"):
        _cache(ttl=0)
    with pytest.raises(ValueError, match="must be an identifier"):
        _cache(scope_fields=["prompt"])
    cache = _cache(scope_fields=["tenant", "user"])
    with pytest.raises(ValueError, match=r"missing \['user'\]"):
        cache._scope({"tenant": "t"})
    with pytest.raises(ValueError, match="non-empty string"):
        cache._scope({"tenant": "t", "user": ""})
    # Scope values are matched by their hash: values Redis tags would confuse differ here.
    tags = {cache._scope({"tenant": "t", "user": u})["user"] for u in ("a", "A", " a", "a,b")}
    assert len(tags) == 4
    # An entry's id depends on model, scope and prompt.
    scope = cache._scope({"tenant": "t", "user": "a"})
    ids = {
        cache._entry_id("m", scope, "p"),
        cache._entry_id("m2", scope, "p"),
        cache._entry_id("m", scope, "p2"),
        cache._entry_id("m", cache._scope({"tenant": "t", "user": "b"}), "p"),
    }
    assert len(ids) == 4


def test_generations_round_trip_through_json() -> None:
    gens = [
        Generation(text="plain", generation_info={"finish": "stop"}),
        ChatGeneration(message=AIMessage("hi", tool_calls=[]), generation_info=None),
    ]
    text = dump_generations(gens)
    assert json.loads(text)[0] == {"text": "plain", "generation_info": {"finish": "stop"}}
    assert load_generations(text) == gens
    assert load_generations(text.encode()) == gens


def test_prompt_text_of_chat_prompts() -> None:
    from langchain_core.load import dumps

    assert prompt_text(dumps([HumanMessage("How do I reset it?")])) == "How do I reset it?"
    two = dumps([SystemMessage("be brief"), HumanMessage("hi")])
    assert prompt_text(two) == "system: be brief\nhuman: hi"
    assert prompt_text("plain LLM prompt") == "plain LLM prompt"
    assert prompt_text("[1, 2]") == "[1, 2]"
    assert prompt_text('{"a": 1}') == '{"a": 1}'


def test_message_store_parses_both_protocols() -> None:
    # FT.AGGREGATE ... LOAD 1 @session GROUPBY 1 @session, as the server answered (checked).
    resp2 = [2, [b"session", b"B b"], [b"session", b"c:d"]]
    resp3 = {
        b"total_results": 2,
        b"results": [
            {b"extra_attributes": {b"session": b"B b"}, b"values": []},
            {b"extra_attributes": {b"session": b"c:d"}, b"values": []},
        ],
    }
    assert MessageStore._groups(resp2) == MessageStore._groups(resp3) == ["B b", "c:d"]
    with pytest.raises(ValueError, match="ttl"):
        MessageStore(Connections("redis://127.0.0.1:1"), ttl=-5)
