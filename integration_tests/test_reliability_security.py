"""Issue 8, items 1, 2 and 7 on real endpoints: the core over TLS, ACL users, no secret printed.

- KNN through `SearchIndex` / `AsyncSearchIndex` whose clients `ConnectionConfig` built for a TLS
  terminator in front of the embedded server (the terminator counts the TLS sessions, so the test
  proves the queries went through it); results equal a numpy brute force.
- Capability detection without ``MODULE LIST``: an ACL user that may not run ``MODULE`` creates,
  opens and queries an index.
- An ACL user that may search but not write: ``load`` raises `WriteDeniedError` naming the index
  and the refused command, and the server is unchanged (count and keys).
- A wrong password: the error, the logs and every repr involved never contain it.

Fast: runs in ``make test``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import numpy as np
import pytest
import redis
from _infra import READ_ONLY_SEARCH_RULES, TLSEndpoint, acl_user, tls_endpoint

from redisvec.connection import ConnectionConfig, ConnectionFailedError, aping, ping
from redisvec.errors import BatchWriteError, PermissionDeniedError, WriteDeniedError
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import VectorQuery
from redisvec.schema import IndexSchema, TagField, TextField, VectorField
from redisvec.server import LocalRedis

DIMS = 16
SECRET = "s3cr3t-Pa55word-ZQX"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalRedis]:
    with LocalRedis() as s:
        yield s


@pytest.fixture(scope="module")
def tls(server: LocalRedis) -> Iterator[TLSEndpoint]:
    with tls_endpoint(server.port) as endpoint:
        yield endpoint


@pytest.fixture
def admin(server: LocalRedis) -> Iterator[redis.Redis]:
    with redis.Redis(port=server.port) as c:
        yield c


def _schema(tag: str) -> IndexSchema:
    return IndexSchema(
        f"sec_{tag}",
        prefixes=(f"sec_{tag}:",),
        fields=(
            TextField("body"),
            TagField("color"),
            VectorField("v", dims=DIMS, algorithm="flat", distance_metric="l2"),
        ),
    )


def _records(n: int, seed: int = 7) -> tuple[list[dict[str, object]], np.ndarray]:
    vectors = np.random.default_rng(seed).standard_normal((n, DIMS)).astype(np.float32)
    records = [
        {"body": f"doc {i}", "color": ("red", "blue")[i % 2], "v": vectors[i]} for i in range(n)
    ]
    return records, vectors


def _truth(vectors: np.ndarray, q: np.ndarray, k: int) -> list[str]:
    d = ((vectors.astype(np.float64) - q.astype(np.float64)) ** 2).sum(axis=1)
    return [str(i) for i in np.argsort(d, kind="stable")[:k]]


def _keys(client: redis.Redis, schema: IndexSchema) -> set[bytes]:
    return set(client.scan_iter(match=f"{schema.key_prefix}*", count=1000))


# --- 1. the core over TLS ------------------------------------------------------------------------


async def test_knn_over_tls_sync_and_async(tls: TLSEndpoint, admin: redis.Redis) -> None:
    schema = _schema(uuid.uuid4().hex[:8])
    config = ConnectionConfig(url=tls.url, ssl_ca_certs=tls.ca_file, ssl_cert_reqs="required")
    sync_client, async_client = config.sync_client(), config.async_client()
    assert isinstance(sync_client, redis.Redis)
    before = tls.handshakes
    index = SearchIndex(schema, sync_client)
    index.create()
    records, vectors = _records(200)
    index.load(records, ids=[str(i) for i in range(200)])
    q = np.random.default_rng(1).standard_normal(DIMS).astype(np.float32)
    expected = _truth(vectors, q, 12)
    assert [h.id for h in index.search(VectorQuery(q, k=12)).hits] == expected
    sync_handshakes = tls.handshakes - before
    assert sync_handshakes >= 1

    aindex = AsyncSearchIndex(schema, async_client)  # type: ignore[arg-type]
    assert [h.id for h in (await aindex.search(VectorQuery(q, k=12))).hits] == expected
    assert await aindex.count() == 200
    assert tls.handshakes - before > sync_handshakes  # the async client opened its own TLS session
    index.drop(delete_documents=True)
    assert _keys(admin, schema) == set()
    sync_client.close()
    await async_client.aclose()


# --- 2. capability detection without MODULE, and a read-only user ---------------------------------


def test_user_without_module_command_creates_opens_and_queries(
    server: LocalRedis, admin: redis.Redis
) -> None:
    schema = _schema(uuid.uuid4().hex[:8])
    with acl_user(admin, "nomodule", SECRET, ("~*", "&*", "+@all", "-module")):
        config = ConnectionConfig(url=f"redis://127.0.0.1:{server.port}", username="nomodule",
                                  password=SECRET)  # fmt: skip
        client = config.sync_client()
        assert isinstance(client, redis.Redis)
        with pytest.raises(redis.exceptions.NoPermissionError):
            client.execute_command("MODULE", "LIST")  # what managed services refuse
        index = SearchIndex(schema, client)
        assert not index.exists()
        index.create()
        records, vectors = _records(40)
        index.load(records, ids=[str(i) for i in range(40)])
        opened = SearchIndex.from_existing(client, schema.name)
        assert opened.schema.vector_field.dims == DIMS
        q = vectors[3]
        assert [h.id for h in opened.search(VectorQuery(q, k=5)).hits] == _truth(vectors, q, 5)
        opened.drop(delete_documents=True)
        client.close()


async def test_read_only_user_gets_a_clear_permission_error_and_nothing_is_written(
    server: LocalRedis, admin: redis.Redis
) -> None:
    schema = _schema(uuid.uuid4().hex[:8])
    owner = SearchIndex(schema, admin)
    owner.create()
    records, _ = _records(30)
    owner.load(records[:10], ids=[str(i) for i in range(10)])
    stored_before = {k: admin.hgetall(k) for k in _keys(admin, schema)}
    assert len(stored_before) == 10
    url = f"redis://reader:{SECRET}@127.0.0.1:{server.port}"
    with acl_user(admin, "reader", SECRET, READ_ONLY_SEARCH_RULES):
        config = ConnectionConfig(url=url)
        reader = SearchIndex(schema, config.sync_client())  # type: ignore[arg-type]
        assert reader.exists() and reader.count() == 10  # it may search
        # Overwrite 5 existing ids and add 20 new ones, in 3 batches.
        ids = [str(i) for i in range(5, 30)]
        with pytest.raises(WriteDeniedError) as info:
            reader.load(records[5:30], ids=ids, batch_size=10)
        err = info.value
        assert isinstance(err, PermissionDeniedError) and isinstance(err, BatchWriteError)
        assert isinstance(err, PermissionError)
        text = str(err)
        assert repr(schema.name) in text and "NOPERM" in text and "no permissions" in text
        assert "unlink" in text.lower() or "hset" in text.lower()  # the refused command
        assert "+@write" in text  # the fix
        assert sorted(err.failed_ids, key=int) == ids and err.written_ids == []
        assert SECRET not in text and SECRET not in repr(err)

        areader = AsyncSearchIndex(schema, config.async_client())  # type: ignore[arg-type]
        with pytest.raises(WriteDeniedError) as ainfo:
            await areader.load(records[5:30], ids=ids, batch_size=10)
        assert sorted(ainfo.value.failed_ids, key=int) == ids

        with pytest.raises(PermissionDeniedError) as cinfo:  # FT.CREATE is refused clearly too
            SearchIndex(_schema(uuid.uuid4().hex[:8]), reader.client).create()
        assert "ft.create" in str(cinfo.value).lower()
        await areader.client.aclose()
        reader.client.close()
    # Nothing half-written: the same keys with the same content, the same count.
    assert {k: admin.hgetall(k) for k in _keys(admin, schema)} == stored_before
    assert owner.count() == 10
    owner.drop(delete_documents=True)


# --- 1 / 7. a wrong password is never printed ----------------------------------------------------


async def test_wrong_password_error_logs_and_reprs_never_show_it(
    server: LocalRedis, admin: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    schema = _schema(uuid.uuid4().hex[:8])
    with acl_user(admin, "app", "the-right-one"):
        url = f"redis://app:{SECRET}@127.0.0.1:{server.port}/0"
        config = ConnectionConfig(url=url, password=SECRET)
        texts = [repr(config), str(config)]
        sync_client, async_client = config.sync_client(), config.async_client()
        for check, client in ((ping, sync_client), (aping, async_client)):
            with pytest.raises(ConnectionFailedError) as info:
                result = check(client)  # type: ignore[arg-type]
                if result is not None:
                    await result
            texts += [str(info.value), repr(info.value)]
            assert "username-password" in str(info.value) or "WRONGPASS" in str(info.value)
        index = SearchIndex(schema, sync_client)  # type: ignore[arg-type]
        texts.append(repr(index))
        with pytest.raises(redis.exceptions.RedisError) as sinfo:
            index.create()
        texts += [str(sinfo.value), repr(sinfo.value)]
        with pytest.raises((redis.exceptions.RedisError, BatchWriteError)) as linfo:
            index.load(_records(3)[0], ids=["a", "b", "c"])
        texts += [str(linfo.value), repr(linfo.value)]
        if isinstance(linfo.value, BatchWriteError):
            texts += [repr(e) for e in linfo.value.errors]
        await async_client.aclose()
        sync_client.close()
    texts += [r.getMessage() for r in caplog.records] + [caplog.text]
    leaked = [t for t in texts if SECRET in t]
    assert leaked == []


async def test_adapters_over_tls_sync_and_async(tls: TLSEndpoint, admin: redis.Redis) -> None:
    pytest.importorskip("langchain_core")
    pytest.importorskip("llama_index.core")
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from llama_index.core.schema import TextNode
    from llama_index.core.vector_stores.types import VectorStoreQuery

    from redisvec.langchain import RedisVectorStore as LCStore
    from redisvec.llama_index import RedisVectorStore as LIStore

    config = ConnectionConfig(url=tls.url, ssl_ca_certs=tls.ca_file, ssl_cert_reqs="required")
    before = tls.handshakes
    name = f"sec_lc_{uuid.uuid4().hex[:8]}"
    lc = LCStore(DeterministicFakeEmbedding(size=DIMS), index_name=name, connection=config)
    texts = [f"text number {i}" for i in range(20)]
    lc.add_texts(texts, ids=[str(i) for i in range(20)])
    assert lc.similarity_search(texts[4], k=1)[0].page_content == texts[4]
    assert (await lc.asimilarity_search(texts[7], k=1))[0].page_content == texts[7]
    lc.drop_index(delete_documents=True)
    await lc.aclose()

    name = f"sec_li_{uuid.uuid4().hex[:8]}"
    li = LIStore(index_name=name, connection=config)
    vectors = np.random.default_rng(5).standard_normal((20, DIMS)).astype(np.float32)
    li.add(
        [TextNode(id_=str(i), text=f"t{i}", embedding=v.tolist()) for i, v in enumerate(vectors)]
    )
    query = VectorStoreQuery(query_embedding=vectors[9].tolist(), similarity_top_k=1)
    assert li.query(query).ids == ["9"]
    assert (await li.aquery(query)).ids == ["9"]
    admin.execute_command("FT.DROPINDEX", name, "DD")
    assert tls.handshakes - before >= 4  # sync and async clients of both stores went through TLS
