"""LangChain caches on the real server: langchain-tests' cache suites, then hits and misses decided
by a cosine distance computed here in numpy, scopes (no cross-tenant hit), TTL expiry."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest
import redis
from langchain_core.caches import BaseCache
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, Generation
from langchain_tests.integration_tests import AsyncCacheTestSuite, SyncCacheTestSuite

from redisvec.langchain import RedisCache, RedisSemanticCache

DIMS = 16


class TableEmbeddings(Embeddings):
    """Given vectors for known texts, a seeded random vector for any other; counts calls."""

    def __init__(self, table: dict[str, np.ndarray] | None = None) -> None:
        self.table = dict(table or {})
        self.calls = 0

    def vector(self, text: str) -> np.ndarray:
        if text in self.table:
            return self.table[text]
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).normal(size=DIMS)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self.vector(t).tolist() for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a32, b32 = a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
    return float(1 - a32 @ b32 / (np.linalg.norm(a32) * np.linalg.norm(b32)))


# --- the framework's own suites ------------------------------------------------------------------


class TestRedisCacheSync(SyncCacheTestSuite):
    @pytest.fixture
    def cache(self, redis_url: str, names: Any) -> Iterator[BaseCache]:
        c = RedisCache(redis_url, key_prefix=names.prefix + "exact:")
        yield c
        c.clear()
        c.close()


class TestRedisCacheAsync(AsyncCacheTestSuite):
    @pytest.fixture
    async def cache(self, redis_url: str, names: Any) -> AsyncIterator[BaseCache]:
        c = RedisCache(redis_url, key_prefix=names.prefix + "exact:")
        yield c
        await c.aclear()
        await c.aclose()


def _semantic(redis_url: str, names: Any, **kwargs: Any) -> RedisSemanticCache:
    options: dict[str, Any] = {"distance_threshold": 0.1} | kwargs
    return RedisSemanticCache(
        options.pop("embeddings", None) or TableEmbeddings(),
        redis_url=redis_url,
        name=names.index,
        key_prefix=names.prefix + "sem:",
        **options,
    )


class TestRedisSemanticCacheSync(SyncCacheTestSuite):
    @pytest.fixture
    def cache(self, redis_url: str, names: Any) -> Iterator[BaseCache]:
        c = _semantic(redis_url, names)
        yield c
        c.drop()
        c.close()


class TestRedisSemanticCacheAsync(AsyncCacheTestSuite):
    @pytest.fixture
    async def cache(self, redis_url: str, names: Any) -> AsyncIterator[BaseCache]:
        c = _semantic(redis_url, names)
        yield c
        await c.adrop()
        await c.aclose()


# --- semantic hits against numpy -----------------------------------------------------------------


def _near(base: np.ndarray, rng: np.random.Generator, scale: float) -> np.ndarray:
    return base + rng.normal(scale=scale, size=base.shape)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_hit_or_miss_is_the_numpy_distance_against_the_threshold(
    redis_url: str, names: Any, is_async: bool
) -> None:
    rng = np.random.default_rng(7)
    stored = {f"stored prompt {i}": rng.normal(size=DIMS) for i in range(20)}
    probes: dict[str, np.ndarray] = {}
    for i, base in enumerate(stored.values()):
        for j, scale in enumerate((0.05, 0.2, 0.4, 1.0)):
            probes[f"probe {i}.{j}"] = _near(base, rng, scale * np.linalg.norm(base) / 4)
    threshold = 0.05
    emb = TableEmbeddings(stored | probes)
    cache = _semantic(redis_url, names, embeddings=emb, distance_threshold=threshold)
    llm = "model=x temperature=0"
    answers = {p: [Generation(text=f"answer to {p}")] for p in stored}

    truth: dict[str, str | None] = {}
    for probe, v in probes.items():
        d = {p: cosine_distance(v, w) for p, w in stored.items()}
        best = min(d, key=lambda p: d[p])
        assert all(abs(x - threshold) > 1e-4 for x in d.values()), "a probe on the boundary"
        truth[probe] = best if d[best] <= threshold else None
    assert 5 < sum(t is not None for t in truth.values()) < len(truth) - 5  # both kinds occur

    try:
        if is_async:
            for p, g in answers.items():
                await cache.aupdate(p, llm, g)
            got = {probe: await cache.alookup(probe, llm) for probe in probes}
        else:
            for p, g in answers.items():
                cache.update(p, llm, g)
            got = {probe: cache.lookup(probe, llm) for probe in probes}
        for probe, best in truth.items():
            expected = None if best is None else answers[best]
            assert got[probe] == expected, (probe, best)
        # The hit reports the distance numpy computes.
        probe = next(p for p, b in truth.items() if b is not None)
        hit = cache.lookup_hit(probe, llm)
        assert hit is not None and hit.prompt == truth[probe]
        assert hit.distance == pytest.approx(
            cosine_distance(probes[probe], stored[hit.prompt]), abs=1e-5
        )
        # Another model never gets these answers.
        assert cache.lookup(next(iter(stored)), "model=y") is None
    finally:
        cache.drop()
        await cache.aclose()


def test_scopes_never_cross(redis_url: str, names: Any) -> None:
    v = np.ones(DIMS)
    emb = TableEmbeddings({"what is my balance?": v, "what's my balance?": v + 0.01})
    cache = _semantic(redis_url, names, embeddings=emb, scope_fields=["tenant", "user"])
    try:
        alice = cache.with_scope(tenant="acme", user="alice")
        bob = cache.with_scope(tenant="acme", user="bob")
        # Values that differ only where Redis tags are lossy (case, whitespace, separators).
        lookalikes = [
            cache.with_scope(tenant="acme", user=u)
            for u in ("Alice", " alice", "alice ", "alice,bob", "alice|x", "*")
        ]
        other_tenant = cache.with_scope(tenant="umbrella", user="alice")
        alice.update("what is my balance?", "m", [Generation(text="alice: 10 EUR")])
        assert alice.lookup("what's my balance?", "m") == [Generation(text="alice: 10 EUR")]
        assert bob.lookup("what's my balance?", "m") is None
        assert other_tenant.lookup("what is my balance?", "m") is None
        for c in lookalikes:
            assert c.lookup("what is my balance?", "m") is None, c.scope
        # Unscoped use of a scoped cache is refused, naming what is missing.
        with pytest.raises(ValueError, match="missing \\['tenant', 'user'\\]"):
            cache.lookup("what is my balance?", "m")
        with pytest.raises(ValueError, match="missing \\['user'\\]"):
            cache.with_scope(tenant="acme")
        with pytest.raises(ValueError, match="unknown scope field"):
            cache.with_scope(tenant="acme", user="a", team="x")
        # Clearing one scope leaves the others.
        bob.update("what is my balance?", "m", [Generation(text="bob: 3 EUR")])
        alice.clear()
        assert alice.lookup("what is my balance?", "m") is None
        assert bob.lookup("what is my balance?", "m") == [Generation(text="bob: 3 EUR")]
    finally:
        cache.drop()


def test_ttl_expires_entries(redis_url: str, names: Any, client: redis.Redis) -> None:
    sem = _semantic(redis_url, names, ttl=1)
    exact = RedisCache(redis_url, key_prefix=names.prefix + "exact:", ttl=1)
    gen = [Generation(text="soon gone")]
    try:
        for c in (sem, exact):
            c.update("p", "m", gen)
            assert c.lookup("p", "m") == gen
        keys = list(client.scan_iter(match=f"{names.prefix}*"))
        assert len(keys) == 2 and all(0 < client.pttl(k) <= 1000 for k in keys)
        time.sleep(1.3)
        for c in (sem, exact):
            assert c.lookup("p", "m") is None
    finally:
        sem.drop()


def test_chat_model_uses_the_semantic_cache(redis_url: str, names: Any) -> None:
    """Through a real chat model: the second, similar question is answered from the cache."""
    v = np.arange(1, DIMS + 1, dtype=float)
    emb = TableEmbeddings({"How do I reset my password?": v, "how to reset my password": v * 1.1})
    cache = _semantic(redis_url, names, embeddings=emb)
    try:
        llm = FakeListChatModel(responses=["Open Settings.", "SHOULD NOT BE CALLED"], cache=cache)
        assert llm.invoke("How do I reset my password?").content == "Open Settings."
        assert llm.invoke("how to reset my password").content == "Open Settings."
        assert llm.i == 1  # the model answered once
        hit = cache.lookup_hit("how to reset my password", llm._get_llm_string())  # a plain prompt
        assert hit is not None and hit.distance == pytest.approx(0, abs=1e-6)
    finally:
        cache.drop()


def test_chat_generations_round_trip(redis_url: str, names: Any) -> None:
    cache = RedisCache(redis_url, key_prefix=names.prefix + "exact:")
    gens = [ChatGeneration(message=AIMessage(content="hi", id="m1"), generation_info={"n": 1})]
    cache.update("p", "m", gens)
    assert cache.lookup("p", "m") == gens


def test_bad_settings_are_refused(redis_url: str, names: Any) -> None:
    with pytest.raises(ValueError, match="distance_threshold"):
        _semantic(redis_url, names, distance_threshold=-0.1)
    with pytest.raises(ValueError, match="ttl"):
        _semantic(redis_url, names, ttl=0)
    with pytest.raises(ValueError, match="scope_fields must be a list"):
        _semantic(redis_url, names, scope_fields="user")
    with pytest.raises(ValueError, match="key_prefix"):
        RedisCache(redis_url, key_prefix="")
