"""The connection layer against real endpoints: TLS (and mutual TLS) through a terminator in front of
the embedded server, ACL users, a refused port, a server restart, and a local 3-shard cluster."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio as aredis
from _infra import (
    READ_ONLY_SEARCH_RULES,
    TLSEndpoint,
    acl_user,
    free_port,
    local_cluster,
    tls_endpoint,
)
from redis.cluster import RedisCluster

from redisvec.connection import (
    ConnectionConfig,
    ConnectionFailedError,
    aping,
    async_twin,
    ping,
    sync_twin,
)
from redisvec.server import LocalRedis


@pytest.fixture(scope="module")
def server() -> Iterator[LocalRedis]:
    with LocalRedis() as s:
        yield s


@pytest.fixture(scope="module")
def tls(server: LocalRedis) -> Iterator[TLSEndpoint]:
    with tls_endpoint(server.port) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def mtls(server: LocalRedis) -> Iterator[TLSEndpoint]:
    with tls_endpoint(server.port, require_client_cert=True) as endpoint:
        yield endpoint


def _list(reply: object) -> list[bytes]:
    assert isinstance(reply, list | set)
    return sorted(reply)


def _create_index(server: LocalRedis, name: str) -> None:
    with redis.Redis(port=server.port) as admin:
        admin.execute_command("FT.CREATE", name, "PREFIX", "1", f"{name}:", "SCHEMA", "t", "TEXT")


async def test_rediss_sync_client_and_its_async_twin_go_through_tls(
    server: LocalRedis, tls: TLSEndpoint
) -> None:
    _create_index(server, "conn_tls_idx")
    config = ConnectionConfig(url=tls.url, ssl_ca_certs=tls.ca_file)
    sync = config.sync_client()
    before = tls.handshakes
    assert b"conn_tls_idx" in _list(sync.execute_command("FT._LIST"))
    assert (
        tls.handshakes == before + 1
    )  # the TLS terminator carried it; the plain port was never given
    twin = async_twin(sync)
    assert isinstance(twin, aredis.Redis)
    assert b"conn_tls_idx" in _list(await twin.execute_command("FT._LIST"))
    assert tls.handshakes == before + 2
    # And the config's own async client as well.
    asy = config.async_client()
    assert b"conn_tls_idx" in _list(await asy.execute_command("FT._LIST"))
    assert tls.handshakes == before + 3
    await twin.aclose()
    await asy.aclose()
    sync.close()


async def test_without_the_ca_verification_fails_in_both_flavours(tls: TLSEndpoint) -> None:
    sync = ConnectionConfig(url=tls.url, retries=0).sync_client()
    with pytest.raises(ConnectionFailedError, match="CERTIFICATE_VERIFY_FAILED") as info:
        ping(sync)
    assert f"rediss://127.0.0.1:{tls.port}" in str(info.value)
    with pytest.raises(ConnectionFailedError, match="CERTIFICATE_VERIFY_FAILED"):
        await aping(async_twin(sync))


def test_plain_client_on_the_tls_port_fails_fast(tls: TLSEndpoint) -> None:
    plain = ConnectionConfig(
        url=f"redis://127.0.0.1:{tls.port}", socket_timeout=1.0, retries=0
    ).sync_client()
    started = time.monotonic()
    with pytest.raises(ConnectionFailedError):
        ping(plain)
    assert time.monotonic() - started < 3


async def test_mutual_tls_needs_the_client_certificate(mtls: TLSEndpoint) -> None:
    without = ConnectionConfig(url=mtls.url, ssl_ca_certs=mtls.ca_file, retries=0)
    with pytest.raises(ConnectionFailedError):
        ping(without.sync_client())
    config = ConnectionConfig(
        url=mtls.url,
        ssl_ca_certs=mtls.ca_file,
        ssl_certfile=mtls.client_cert_file,
        ssl_keyfile=mtls.client_key_file,
    )
    sync = config.sync_client()
    before = mtls.handshakes
    assert sync.ping() is True
    twin = async_twin(sync)
    assert await twin.ping() is True
    assert mtls.handshakes == before + 2
    # The way back: a sync twin of an async mTLS client.
    back = sync_twin(config.async_client())
    assert back.ping() is True
    await twin.aclose()


async def test_acl_user_over_tls_sync_and_async(server: LocalRedis, tls: TLSEndpoint) -> None:
    secret = "ro-Pa55word"
    with (
        redis.Redis(port=server.port) as admin,
        acl_user(admin, "conn_ro", secret, READ_ONLY_SEARCH_RULES),
    ):
        url = f"rediss://conn_ro:{secret}@127.0.0.1:{tls.port}/0"
        config = ConnectionConfig(url=url, ssl_ca_certs=tls.ca_file)
        sync = config.sync_client()
        _list(sync.execute_command("FT._LIST"))
        with pytest.raises(redis.exceptions.NoPermissionError):
            sync.set("conn_ro:key", b"1")
        with pytest.raises(redis.exceptions.NoPermissionError):
            sync.execute_command("MODULE", "LIST")
        twin = async_twin(sync)
        _list(await twin.execute_command("FT._LIST"))
        await twin.aclose()
        wrong = ConnectionConfig(url=url.replace(secret, "wrong"), ssl_ca_certs=tls.ca_file)
        with pytest.raises(ConnectionFailedError, match="username/password") as info:
            ping(wrong.sync_client())
        assert "wrong" not in str(info.value) and secret not in str(info.value)
        assert "conn_ro:****@127.0.0.1" in str(info.value)


async def test_refused_connection_fails_fast_with_masked_url() -> None:
    port = free_port()  # nothing listens here
    config = ConnectionConfig(url=f"redis://app:hunter2@127.0.0.1:{port}/0")
    for check, client in ((ping, config.sync_client()), (aping, config.async_client())):
        started = time.monotonic()
        with pytest.raises(ConnectionFailedError) as info:
            result = check(client)  # type: ignore[arg-type]
            if result is not None:
                await result
        elapsed = time.monotonic() - started
        assert elapsed < 3, f"took {elapsed:.1f}s with the default retry policy"
        text = str(info.value)
        assert f"redis://app:****@127.0.0.1:{port}/0" in text and "hunter2" not in text
        assert "refused" in text.lower()


def test_next_command_survives_a_server_restart() -> None:
    with LocalRedis() as first:
        port = first.port
        client = ConnectionConfig(url=first.url).sync_client()
        client.set("restart:key", b"before")
        assert _list(client.execute_command("FT._LIST")) == []
    with LocalRedis(port=port):  # a fresh, empty server on the same port
        assert client.get("restart:key") is None  # the retry reconnected to the new server
        assert client.ping() is True


@pytest.mark.skipif(
    int(redis.__version__.split(".")[0]) < 8,
    reason="redis-py < 8 takes a pooled connection outside its Retry: a restart is not retried",
)
async def test_command_during_a_restart_is_retried_until_the_server_is_back() -> None:
    server = LocalRedis().start()
    port = server.port
    config = ConnectionConfig(url=server.url, retries=10, backoff_base=0.2, backoff_cap=1.0)
    sync, asy = config.sync_client(), config.async_client()
    assert sync.ping() and await asy.ping()
    server.stop()
    started = time.monotonic()
    # Both commands are issued while nothing listens; the server comes back 0.5 s later. (It is
    # started from this thread: LocalRedis's child dies with the *thread* that started it.)
    sync_call = asyncio.create_task(asyncio.to_thread(sync.execute_command, "FT._LIST"))
    async_call = asyncio.create_task(asy.execute_command("FT._LIST"))
    await asyncio.sleep(0.5)
    with LocalRedis(port=port):
        assert _list(await sync_call) == []
        assert _list(await async_call) == []
        assert time.monotonic() - started >= 0.5  # it really waited for the new server
    await asy.aclose()


@pytest.fixture(scope="module")
def cluster_urls() -> Iterator[list[str]]:
    with local_cluster(3) as urls:
        yield urls


async def test_cluster_writes_reads_deletes_across_slots(cluster_urls: list[str]) -> None:
    config = ConnectionConfig(url=cluster_urls[0], cluster=True)
    client = config.sync_client()
    assert isinstance(client, RedisCluster)
    keys = [f"conn:cluster:{i}" for i in range(1000)]
    slots = {client.keyslot(k) for k in keys}
    assert len(slots) > 900
    pipe = client.pipeline(transaction=False)  # single-key commands, grouped per node
    for i, key in enumerate(keys):
        pipe.hset(key, mapping={"n": i, "v": bytes([i % 256]) * 8})
    assert pipe.execute() == [2] * 1000
    per_node = [redis.Redis.from_url(u).dbsize() for u in cluster_urls]
    assert all(n > 200 for n in per_node) and sum(per_node) == 1000
    twin = async_twin(client)
    for i in (0, 1, 499, 999):
        assert await twin.hget(keys[i], "n") == str(i).encode()
        assert await twin.hget(keys[i], "v") == bytes([i % 256]) * 8
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.unlink(key)
    assert sum(pipe.execute()) == 1000
    assert sum(redis.Redis.from_url(u).dbsize() for u in cluster_urls) == 0
    back = sync_twin(twin)
    assert isinstance(back, RedisCluster) and back.ping()
    await twin.aclose()


def test_cluster_search_module_is_per_node(cluster_urls: list[str]) -> None:
    """Pins what the embedded search does in OSS cluster mode: the module loads on every node, the
    index name is routed like a key, and the index sees only the keys of the node that owns it."""
    nodes = [redis.Redis.from_url(u, protocol=2) for u in cluster_urls]
    assert all(n.execute_command("FT._LIST") == [] for n in nodes)
    client = ConnectionConfig(url=cluster_urls[0], cluster=True, protocol=2).sync_client()
    client.execute_command("FT.CREATE", "conn_cidx", "PREFIX", "1", "cdoc:", "SCHEMA", "t", "TEXT")
    keys = [f"cdoc:{i}" for i in range(60)]
    for key in keys:
        client.hset(key, "t", "hello")
    owner = client.get_node_from_key("conn_cidx")
    on_owner = sum(1 for k in keys if client.get_node_from_key(k).name == owner.name)
    assert 0 < on_owner < len(keys)
    found = client.execute_command("FT.SEARCH", "conn_cidx", "*", "NOCONTENT", "LIMIT", "0", "0")
    assert found[0] == on_owner  # not 60: a standalone search module indexes its node only
    client.execute_command("FT.DROPINDEX", "conn_cidx", "DD")
    for key in keys:
        client.unlink(key)
