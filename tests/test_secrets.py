"""Issue 8, items 1 and 7: no password or token is ever printed.

Every object a user may print or log (`ConnectionConfig`, `Connections`, clients through
`describe`, `SearchIndex` / `AsyncSearchIndex`, both adapters' stores, their ``str``, ``repr``,
pydantic dumps) and every error raised when a connection fails, plus everything logged meanwhile,
is searched for the secrets. The endpoints are unreachable (a refused loopback port), so no server
is needed; the wrong-password case against a real server is in
``integration_tests/test_reliability_security.py``.
"""

from __future__ import annotations

import functools
import logging
import socket
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis

from redisvec.connection import (
    ConnectionConfig,
    Connections,
    async_twin,
    describe,
    mask_url,
    ping,
    sync_twin,
)
from redisvec.errors import BatchWriteError
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import VectorQuery
from redisvec.schema import IndexSchema, TextField, VectorField

PASSWORD = "Pw-9f3kQ-ultra"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.tOkEn-7x"
SECRETS = (PASSWORD, TOKEN)


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


@pytest.fixture
def port() -> int:
    return _refused_port()


def _leaks(texts: list[str]) -> list[str]:
    return [t for t in texts if any(s in t for s in SECRETS)]


class FakeCredentialProvider:
    """Stands in for redis-entraid's provider: holds a token it must never be printed with."""

    def __init__(self) -> None:
        self.token = TOKEN

    def get_credentials(self) -> tuple[str, str]:
        return ("app", self.token)

    async def get_credentials_async(self) -> tuple[str, str]:
        return ("app", self.token)

    def __repr__(self) -> str:  # a careless provider: the library must not call this
        return f"FakeCredentialProvider(token={self.token!r})"


@pytest.fixture
def captured(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog
    logged = [r.getMessage() for r in caplog.records] + [caplog.text]
    assert _leaks(logged) == []


def _schema() -> IndexSchema:
    return IndexSchema(
        "secrets", prefixes=("secrets:",), fields=(TextField("t"), VectorField("v", dims=4))
    )


def _urls(port: int) -> list[str]:
    return [
        f"redis://app:{PASSWORD}@127.0.0.1:{port}/0",
        f"rediss://app:{PASSWORD}@127.0.0.1:{port}/0?ssl_cert_reqs=none",
        f"redis://:{PASSWORD}@127.0.0.1:{port}",
        f"rediss://{TOKEN}@127.0.0.1:{port}",  # a lone token as userinfo
        f"redis://127.0.0.1:{port}/0?password={PASSWORD}",
    ]


def test_mask_url_hides_every_form(port: int) -> None:
    masked = [mask_url(u) for u in _urls(port)]
    assert _leaks(masked) == []
    assert all(f"127.0.0.1:{port}" in m for m in masked)


def test_config_connections_clients_and_indexes_print_no_secret(
    port: int, captured: pytest.LogCaptureFixture
) -> None:
    texts: list[str] = []
    for url in _urls(port):
        config = ConnectionConfig(url=url, retries=0)
        conns = Connections(config=config)
        sync_client, async_client = conns.sync, conns.async_
        texts += [repr(config), str(config), repr(conns), describe(sync_client)]
        texts += [describe(async_client), describe(async_twin(sync_client))]
        texts += [describe(sync_twin(async_client))]
        texts += [repr(SearchIndex(_schema(), sync_client)), repr(AsyncSearchIndex(_schema(), async_client))]  # type: ignore[arg-type]  # fmt: skip
    provider = FakeCredentialProvider()
    config = ConnectionConfig(url=f"redis://127.0.0.1:{port}", credential_provider=provider)
    texts += [repr(config), describe(config.sync_client()), describe(config.async_client())]
    texts.append(repr(ConnectionConfig(url=f"redis://127.0.0.1:{port}", password=PASSWORD)))
    assert _leaks(texts) == [], _leaks(texts)


async def test_errors_from_a_refused_endpoint_print_no_secret(
    port: int, captured: pytest.LogCaptureFixture
) -> None:
    q = np.ones(4, dtype=np.float32)
    texts: list[str] = []
    for url in _urls(port):
        if url.startswith("rediss"):
            continue  # same code path; TLS to a closed port adds nothing
        config = ConnectionConfig(url=url, retries=0)
        index = SearchIndex(_schema(), config.sync_client())  # type: ignore[arg-type]
        aindex = AsyncSearchIndex(_schema(), config.async_client())  # type: ignore[arg-type]
        load = functools.partial(index.load, [{"t": "x", "v": q}], ids=["a"])
        calls: list[Any] = [
            functools.partial(ping, index.client),
            index.create,
            functools.partial(index.search, VectorQuery(q, k=1)),
            load,
            functools.partial(index.fetch, ["a"]),
        ]
        for call in calls:
            with pytest.raises((redis.RedisError, BatchWriteError)) as info:
                call()
            texts += _exception_texts(info.value)
        aload = functools.partial(aindex.load, [{"t": "x", "v": q}], ids=["a"])
        for acall in (aindex.create, aload):
            with pytest.raises((redis.RedisError, BatchWriteError)) as ainfo:
                await acall()
            texts += _exception_texts(ainfo.value)
        await aindex.client.aclose()
    assert texts and _leaks(texts) == [], _leaks(texts)


def _exception_texts(exc: BaseException) -> list[str]:
    """The exception, its chain (what a traceback prints) and the errors it carries."""
    out: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        out += [str(seen), repr(seen)]
        out += [str(e) for e in getattr(seen, "errors", [])]
        seen = seen.__cause__ or seen.__context__
    return out


def test_langchain_store_prints_no_secret(port: int, captured: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.embeddings import FakeEmbeddings

    from redisvec.langchain import RedisVectorStore

    texts: list[str] = []
    for url in _urls(port):
        store = RedisVectorStore(FakeEmbeddings(size=4), index_name="secrets", redis_url=url)
        texts += [repr(store), str(store), repr(vars(store))]
        if not url.startswith("rediss"):
            with pytest.raises((redis.RedisError, BatchWriteError)) as info:
                store.similarity_search("x", k=1)
            texts += _exception_texts(info.value)
    assert _leaks(texts) == [], _leaks(texts)


def test_llama_index_store_prints_no_secret(port: int, captured: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("llama_index.core")
    from redisvec.llama_index import RedisVectorStore

    texts: list[str] = []
    for url in _urls(port):
        store = RedisVectorStore(index_name="secrets", redis_url=url)
        texts += [repr(store), str(store), str(store.model_dump()), store.model_dump_json()]
        texts.append(str(store.to_dict()) if hasattr(store, "to_dict") else "")
    assert _leaks(texts) == [], _leaks(texts)
