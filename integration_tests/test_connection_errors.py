"""Clear errors where raw ones leaked (issue "Nothing lost, nothing leaked", items 6 and 11).

On a server this module owns (it sets a password, pauses clients and lowers MAXSEARCHRESULTS):

- a password holding ``/``, ``+``, ``=``, ``#`` and ``?`` works URL-encoded and as ``password=``;
- a wrong password and a refused port are `ConnectionFailedError` naming the masked endpoint at
  the first contact of every entry point (both adapters' writes, searches and ``from_existing``,
  sync and async, and the core's ``from_existing``), never showing the password;
- a server that does not answer within ``socket_timeout`` is a `ReplyTimeoutError` (a
  ``redis.exceptions.TimeoutError``) naming it, not a connection failure;
- ``k`` above the server's MAXSEARCHRESULTS is a `ResultLimitError` naming k and the limit;
- ``k`` as a numpy integer is accepted (results equal a numpy brute force);
- a metadata key that is not a string is refused, naming the key, with nothing written.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
import redis
from _infra import acl_user
from _langchain_support import TableEmbeddings
from conftest import Names
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import VectorStoreQuery

from redisvec import (
    ConnectionConfig,
    ConnectionFailedError,
    ReplyTimeoutError,
    ResultLimitError,
    SchemaError,
)
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.langchain import RedisVectorStore as LangChainStore
from redisvec.llama_index import RedisVectorStore as LlamaStore
from redisvec.server import LocalRedis

DIMS = 4
VECTORS = np.random.default_rng(3).standard_normal((12, DIMS))
QUERY = np.random.default_rng(4).standard_normal(DIMS)
# Shaped like an Azure access key, plus the other characters that end a URL's host part.
AZURE_KEY = "Zk9/aB3+xQ/r7Ly2mN0p#W8s?Tq1uVw4c5e6f7g8h9iJk="
WRONG = "Wr0ng-pa55word-QZX"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalRedis]:
    with LocalRedis() as s:
        yield s


@pytest.fixture
def admin(server: LocalRedis) -> Iterator[redis.Redis]:
    with redis.Redis(port=server.port) as c:
        yield c


def _embeddings() -> TableEmbeddings:
    table = {f"d{i}": VECTORS[i] for i in range(len(VECTORS))}
    table["q"] = QUERY
    return TableEmbeddings(table)


def _nearest(k: int) -> list[str]:
    cos = (VECTORS @ QUERY) / (np.linalg.norm(VECTORS, axis=1) * np.linalg.norm(QUERY))
    return [f"d{i}" for i in np.argsort(-cos, kind="stable")[:k]]


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def _entry_points(url: str, names: Names) -> dict[str, Callable[[], Any]]:
    """Every way a store or index first talks to the server, each from a fresh object."""
    emb = _embeddings()
    options: dict[str, Any] = {"index_name": names.index, "key_prefix": names.prefix}

    def lc() -> LangChainStore:
        return LangChainStore(emb, connection=ConnectionConfig(url=url, retries=0), **options)

    def li() -> LlamaStore:
        return LlamaStore(connection=ConnectionConfig(url=url, retries=0), dims=DIMS, **options)

    query = VectorStoreQuery(query_embedding=list(QUERY), similarity_top_k=2)
    node = TextNode(id_="n", text="n", embedding=list(VECTORS[0]))
    plain = ConnectionConfig(url=url, retries=0)
    return {
        "langchain add_texts": lambda: lc().add_texts(["d0"]),
        "langchain similarity_search": lambda: lc().similarity_search("q"),
        "langchain asimilarity_search": lambda: lc().asimilarity_search("q"),
        "langchain aadd_texts": lambda: lc().aadd_texts(["d0"]),
        "langchain from_existing_index": lambda: LangChainStore.from_existing_index(
            emb, index_name=names.index, connection=plain
        ),
        "langchain afrom_existing_index": lambda: LangChainStore.afrom_existing_index(
            emb, index_name=names.index, connection=plain
        ),
        "llama add": lambda: li().add([node]),
        "llama query": lambda: li().query(query),
        "llama aquery": lambda: li().aquery(query),
        "llama async_add": lambda: li().async_add([node]),
        "llama from_existing_index": lambda: LlamaStore.from_existing_index(
            index_name=names.index, connection=plain
        ),
        "core SearchIndex.from_existing": lambda: SearchIndex.from_existing(
            plain.sync_client(), names.index
        ),
        "core AsyncSearchIndex.from_existing": lambda: AsyncSearchIndex.from_existing(
            plain.async_client(), names.index
        ),
    }


def _raised(call: Callable[[], Any]) -> BaseException:
    try:
        result = call()
        if isinstance(result, Awaitable):
            asyncio.run(_await(result))
    except Exception as exc:
        return exc
    raise AssertionError("no error raised")


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


# --- item 6: a key with '/' works encoded or as password= -----------------------------------------


async def test_a_key_with_url_characters_works_url_encoded_and_as_password(
    server: LocalRedis, admin: redis.Redis
) -> None:
    with acl_user(admin, "azure", AZURE_KEY):
        endpoint = f"127.0.0.1:{server.port}"
        for config in (
            ConnectionConfig(url=f"redis://azure:{quote(AZURE_KEY, safe='')}@{endpoint}"),
            ConnectionConfig(url=f"redis://{endpoint}", username="azure", password=AZURE_KEY),
        ):
            sync, asy = config.sync_client(), config.async_client()
            assert sync.acl_whoami() == b"azure"
            assert await asy.acl_whoami() == b"azure"
            await asy.aclose()
            sync.close()
        with pytest.raises(ValueError, match="URL-encode") as info:
            ConnectionConfig(url=f"redis://azure:{AZURE_KEY}@{endpoint}")
        assert "aB3" not in str(info.value) and "Tq1" not in str(info.value)


# --- item 11: first contact -----------------------------------------------------------------------


def test_wrong_password_is_a_connection_failure_at_every_first_contact(
    server: LocalRedis, admin: redis.Redis, names: Names
) -> None:
    with acl_user(admin, "app", "the-right-one"):
        url = f"redis://app:{WRONG}@127.0.0.1:{server.port}/0"
        for where, call in _entry_points(url, names).items():
            exc = _raised(call)
            assert isinstance(exc, ConnectionFailedError), (where, repr(exc))
            text = str(exc)
            assert f"redis://app:****@127.0.0.1:{server.port}/0" in text, (where, text)
            assert "username/password" in text, (where, text)
            assert WRONG not in text and WRONG not in repr(exc), where
    assert names.index.encode() not in set(admin.execute_command("FT._LIST"))  # nothing made


def test_refused_port_is_a_connection_failure_at_every_first_contact(names: Names) -> None:
    port = _refused_port()
    url = f"redis://127.0.0.1:{port}/0"
    for where, call in _entry_points(url, names).items():
        exc = _raised(call)
        assert isinstance(exc, ConnectionFailedError), (where, repr(exc))
        assert f"redis://127.0.0.1:{port}/0" in str(exc), where
        assert "connection refused" in str(exc), where


# --- item 11: a slow reply is a timeout naming socket_timeout -------------------------------------


def _paused(admin: redis.Redis, ms: int = 1500) -> None:
    admin.execute_command("CLIENT", "PAUSE", ms, "ALL")


def _assert_reply_timeout(exc: BaseException, started: float) -> None:
    assert isinstance(exc, ReplyTimeoutError), repr(exc)
    assert isinstance(exc, redis.exceptions.TimeoutError)
    assert not isinstance(exc, ConnectionFailedError)
    assert "socket_timeout=0.3" in str(exc) and "firewall" not in str(exc)
    assert time.monotonic() - started < 1.2  # not waiting for the pause to end


def test_a_slow_reply_is_a_timeout_naming_socket_timeout(
    server: LocalRedis, admin: redis.Redis, names: Names
) -> None:
    config = ConnectionConfig(url=server.url, socket_timeout=0.3, retries=0)
    options: dict[str, Any] = {"index_name": names.index, "key_prefix": names.prefix}
    lc = LangChainStore(_embeddings(), connection=config, **options)
    texts = [f"d{i}" for i in range(len(VECTORS))]
    lc.add_texts(texts, ids=texts)
    li = LlamaStore.from_existing_index(connection=config, **options)
    query = VectorStoreQuery(query_embedding=list(QUERY), similarity_top_k=3)
    assert li.query(query).ids == _nearest(3)  # connected before the pause

    async def both_async() -> None:
        assert [d.page_content for d in await lc.asimilarity_search("q", k=3)] == _nearest(3)
        assert (await li.aquery(query)).ids == _nearest(3)
        for call in (lambda: lc.asimilarity_search("q", k=3), lambda: li.aquery(query)):
            _paused(admin)
            started = time.monotonic()
            with pytest.raises(ReplyTimeoutError) as info:
                await call()
            _assert_reply_timeout(info.value, started)
            await asyncio.sleep(1.6)

    for call in (lambda: lc.similarity_search("q", k=3), lambda: li.query(query)):
        _paused(admin)
        started = time.monotonic()
        _assert_reply_timeout(_raised(call), started)
        time.sleep(1.6)
    asyncio.run(both_async())
    # Once the server answers again, so does the store.
    assert [d.page_content for d in lc.similarity_search("q", k=3)] == _nearest(3)


# --- item 11: k ------------------------------------------------------------------------------------


def test_k_above_maxsearchresults_names_k_and_the_limit(
    server: LocalRedis, admin: redis.Redis, names: Names
) -> None:
    before = admin.execute_command("FT.CONFIG", "GET", "MAXSEARCHRESULTS")
    admin.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", 50)
    try:
        options: dict[str, Any] = {"index_name": names.index, "key_prefix": names.prefix}
        lc = LangChainStore(_embeddings(), redis_url=server.url, **options)
        texts = [f"d{i}" for i in range(len(VECTORS))]
        lc.add_texts(texts, ids=texts)
        li = LlamaStore.from_existing_index(redis_url=server.url, **options)
        # At the limit: every document, nearest first.
        assert [d.page_content for d in lc.similarity_search("q", k=50)] == _nearest(12)
        query = VectorStoreQuery(query_embedding=list(QUERY), similarity_top_k=51)
        calls: list[Callable[[], Any]] = [
            lambda: lc.similarity_search("q", k=51),
            lambda: lc.asimilarity_search("q", k=51),
            lambda: lc.max_marginal_relevance_search("q", k=2, fetch_k=51),
            lambda: li.query(query),
            lambda: li.aquery(query),
        ]
        for call in calls:
            exc = _raised(call)
            assert isinstance(exc, ResultLimitError) and isinstance(exc, ValueError), repr(exc)
            assert isinstance(exc, redis.ResponseError)  # what the refusal was before
            assert "asks for 51 results" in str(exc) and "at most 50" in str(exc)
            assert "MAXSEARCHRESULTS" in str(exc)
    finally:
        (value,) = before.values() if isinstance(before, dict) else [before[0][1]]
        admin.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", value)


def test_k_may_be_a_numpy_integer_but_not_a_bool_or_float(redis_url: str, names: Names) -> None:
    options: dict[str, Any] = {"index_name": names.index, "key_prefix": names.prefix}
    lc = LangChainStore(_embeddings(), redis_url=redis_url, **options)
    texts = [f"d{i}" for i in range(len(VECTORS))]
    lc.add_texts(texts, ids=texts)
    li = LlamaStore.from_existing_index(redis_url=redis_url, **options)
    for k in (np.int64(3), np.int32(5), np.uint8(2)):
        assert [d.page_content for d in lc.similarity_search("q", k=k)] == _nearest(int(k))
        docs = asyncio.run(lc.asimilarity_search("q", k=k))
        assert [d.page_content for d in docs] == _nearest(int(k))
        query = VectorStoreQuery(query_embedding=list(QUERY), similarity_top_k=k)
        assert li.query(query).ids == _nearest(int(k))
    for bad in (True, 2.0, np.float64(3), 0, np.int64(-1)):
        with pytest.raises(ValueError, match="positive integer") as info:
            lc.similarity_search("q", k=bad)
        assert repr(bad) in str(info.value)
        query = VectorStoreQuery(query_embedding=list(QUERY), similarity_top_k=bad)
        with pytest.raises(ValueError, match="similarity_top_k must be a positive integer"):
            li.query(query)


# --- item 11: metadata keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        ({1: "one"}, "metadata key 1 (int)"),
        ({("a", "b"): "pair"}, "metadata key ('a', 'b') (tuple)"),
        ({"ok": {2: "nested"}}, "metadata['ok'] key 2 (int)"),
    ],
)
def test_a_metadata_key_that_is_not_a_string_is_refused_and_nothing_written(
    redis_url: str, client: redis.Redis, names: Names, metadata: dict[Any, str], named: str
) -> None:
    options: dict[str, Any] = {"index_name": names.index, "key_prefix": names.prefix}
    lc = LangChainStore(_embeddings(), redis_url=redis_url, **options)
    with pytest.raises(SchemaError, match="is not a string") as info:
        lc.add_texts(["d0", "d1"], metadatas=[{"fine": 1}, metadata], ids=["d0", "d1"])
    assert named in str(info.value) and "use a string key" in str(info.value)
    with pytest.raises(SchemaError, match="is not a string"):
        asyncio.run(lc.aadd_texts(["d0"], metadatas=[metadata], ids=["d0"]))
    li = LlamaStore(redis_url=redis_url, dims=DIMS, **options)
    node = TextNode(id_="n", text="n", embedding=list(VECTORS[0]))
    node.metadata.update(metadata)  # pydantic checks keys at construction only
    with pytest.raises(SchemaError, match="is not a string") as info:
        li.add([node])
    assert named in str(info.value)
    assert list(client.scan_iter(match=f"{names.prefix}*")) == []
