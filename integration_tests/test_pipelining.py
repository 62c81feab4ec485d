"""`redisvec.pipelining`: batches streamed on one connection, replies read later, in order.

What the server stored is read back with plain redis-py and compared with what was sent; the
connection is broken from the server's side (CLIENT KILL) to check that unread batches are sent
again and that a writer closed early never leaves stale replies on a pooled connection.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis
import redis.asyncio as aredis
from conftest import Names
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from redisvec.pipelining import AsyncBatchWriter, BatchWriter


def _batches(prefix: str, n_batches: int = 3, size: int = 200) -> list[list[tuple[Any, ...]]]:
    return [
        [("HSET", f"{prefix}{b}:{i}", "n", b * size + i, "blob", bytes([i % 256]) * 64)
         for i in range(size)]
        for b in range(n_batches)
    ]  # fmt: skip


def _assert_stored(client: redis.Redis, batches: list[list[tuple[Any, ...]]]) -> None:
    pipe = client.pipeline(transaction=False)
    for batch in batches:
        for _, key, *_rest in batch:
            pipe.hgetall(key)
    stored = pipe.execute()
    expected = [{b"n": str(cmd[3]).encode(), b"blob": cmd[5]} for batch in batches for cmd in batch]
    assert stored == expected


def _kill(client: redis.Redis, name: str) -> int:
    """Close, from the server's side, every connection whose CLIENT SETNAME is ``name``."""
    ids = [c["id"] for c in client.client_list() if c.get("name") == name]
    for client_id in ids:
        client.client_kill_filter(_id=client_id)
    return len(ids)


def test_batches_sent_ahead_are_stored_and_replies_come_in_order(
    client: redis.Redis, redis_url: str, names: Names
) -> None:
    client.set(f"{names.prefix}string", "x")  # HSET on it: WRONGTYPE, in its place
    batches = _batches(names.prefix)
    batches[1][5] = ("HSET", f"{names.prefix}string", "n", 1)
    with redis.Redis.from_url(redis_url) as own:
        writer = BatchWriter(own)
        try:
            writer.send(batches[0])
            writer.send(batches[1])  # sent before the first batch's replies are read
            first = writer.receive()
            writer.send(batches[2])
            second, third = writer.receive(), writer.receive()
        finally:
            writer.close()
        assert first == [2] * 200 and third == [2] * 200
        assert isinstance(second[5], redis.ResponseError) and "WRONGTYPE" in str(second[5])
        assert second[:5] + second[6:] == [2] * 199
        assert own.ping()  # the connection went back to the pool clean
    del batches[1][5]
    _assert_stored(client, batches)


def test_a_connection_killed_with_replies_unread_is_reopened_and_the_batches_sent_again(
    client: redis.Redis, redis_url: str, names: Names
) -> None:
    name = f"writer-{uuid.uuid4().hex[:8]}"
    batches = _batches(names.prefix)
    with redis.Redis.from_url(redis_url, client_name=name, retry=Retry(NoBackoff(), 2)) as own:
        writer = BatchWriter(own)
        try:
            writer.send(batches[0])
            writer.send(batches[1])
            assert _kill(client, name) == 1
            writer.send(batches[2])
            replies = [writer.receive(), writer.receive(), writer.receive()]
        finally:
            writer.close()
        # 2 new fields, or 0 for a batch the server had applied before the kill and got again
        assert all(len(r) == 200 and set(r) <= {0, 2} for r in replies)
        assert _kill(client, name) == 1  # the writer had opened a new connection
    _assert_stored(client, batches)


def test_closing_with_replies_unread_leaves_no_stale_reply_on_the_pool(
    client: redis.Redis, redis_url: str, names: Names
) -> None:
    batches = _batches(names.prefix, n_batches=2)
    with redis.Redis.from_url(redis_url, max_connections=1) as own:
        writer = BatchWriter(own)
        writer.send(batches[0])
        writer.send(batches[1])
        writer.close()  # e.g. the caller stopped: two batches of replies never read
        # The pool has one connection; a stale reply would answer this command.
        assert own.echo("fresh") == b"fresh"
        assert own.set(f"{names.prefix}after", "1") is True


def test_without_retries_a_lost_connection_raises_connection_error(
    client: redis.Redis, redis_url: str, names: Names
) -> None:
    name = f"writer-{uuid.uuid4().hex[:8]}"
    with redis.Redis.from_url(redis_url, client_name=name, retry=Retry(NoBackoff(), 0)) as own:
        writer = BatchWriter(own)
        try:
            assert (
                _kill(client, name) == 1
            )  # the writer's pooled connection, before anything is sent
            with pytest.raises(redis.ConnectionError):
                writer.send(_batches(names.prefix, n_batches=1)[0])
                writer.receive()
        finally:
            writer.close()
        assert own.ping()


async def test_async_writer_streams_retries_and_closes_clean(
    client: redis.Redis, redis_url: str, names: Names
) -> None:
    name = f"awriter-{uuid.uuid4().hex[:8]}"
    batches = _batches(names.prefix)
    own = aredis.Redis.from_url(
        redis_url, client_name=name, max_connections=1, retry=AsyncRetry(NoBackoff(), 2)
    )
    try:
        writer = await AsyncBatchWriter.open(own)
        try:
            await writer.send(batches[0])
            await writer.send(batches[1])
            first = await writer.receive()
            assert _kill(client, name) == 1
            await writer.send(batches[2])
            rest = [await writer.receive(), await writer.receive()]
        finally:
            await writer.close()
        assert first == [2] * 200
        assert all(len(r) == 200 and set(r) <= {0, 2} for r in rest)
        _assert_stored(client, batches)

        writer = await AsyncBatchWriter.open(own)
        await writer.send(batches[0])
        await writer.close()  # replies unread
        assert await own.echo("fresh") == b"fresh"
    finally:
        await own.aclose()


def test_a_close_interrupted_while_disconnecting_still_returns_the_connection(
    redis_url: str, names: Names
) -> None:
    with redis.Redis.from_url(redis_url, max_connections=1) as own:
        writer = BatchWriter(own)
        writer.send(_batches(names.prefix, n_batches=1)[0])
        conn = own.connection_pool._in_use_connections.copy().pop()
        real_disconnect = conn.disconnect

        def interrupted(*args: Any, **kwargs: Any) -> None:
            real_disconnect()
            raise KeyboardInterrupt  # e.g. Ctrl-C while the writer closes its connection

        conn.disconnect = interrupted  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            writer.close()
        conn.disconnect = real_disconnect  # type: ignore[method-assign]
        # The pool's only connection is back: without it, this would raise "Too many connections".
        assert own.echo("fresh") == b"fresh"
