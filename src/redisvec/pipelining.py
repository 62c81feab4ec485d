"""Batches of write commands streamed on one connection, so that the client builds batch N+1 while
the server runs batch N.

A redis-py pipeline sends a batch and then waits for every reply before its caller can build the
next one: client and server take turns. A `BatchWriter` splits that in two: `send` writes a batch
to the socket and returns at once, `receive` reads the replies of the oldest batch sent. A loader
that sends batch N+1 before it reads batch N's replies keeps both sides busy (see
``benchmarks/RESULTS.md`` for what that is worth against redis-py pipelines).

Connection errors are retried as the client is configured to (the connection's ``Retry``): the
connection is opened again and every batch whose replies were not read yet is sent again. That is
safe for the loader's batches, which are upserts. What cannot be sent or confirmed after the
retries raises the client's ``ConnectionError`` / ``TimeoutError``.

Cluster clients route each key to its node, so they cannot stream on one connection: the index
runs their batches as ordinary non-transactional pipelines instead (`redisvec.index`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import redis
import redis.asyncio as aredis

try:
    from hiredis import pack_command as hiredis_pack_command
except ImportError:  # pragma: no cover - hiredis is optional for redis-py
    hiredis_pack_command = None  # type: ignore[assignment]

__all__ = ["AsyncBatchWriter", "BatchWriter"]

Command = tuple[Any, ...]
T = TypeVar("T")


def _packer(conn: Any) -> Callable[[Sequence[Command]], list[bytes]]:
    """How ``conn`` packs a batch: hiredis's packer called directly where it is installed (redis-py's
    own wrapper looks at every argument again, which is most of the client's cost of a write), the
    connection's otherwise. Both spell text as UTF-8: an index refuses any other client encoding
    (`redisvec.connection.check_client`)."""
    if hiredis_pack_command is None:
        return conn.pack_commands  # type: ignore[no-any-return]

    def pack(commands: Sequence[Command]) -> list[bytes]:
        try:
            return [b"".join(map(hiredis_pack_command, commands))]
        except TypeError:  # an argument hiredis does not take: redis-py's error says which
            return conn.pack_commands(commands)  # type: ignore[no-any-return]

    return pack


def _get_connection(pool: Any) -> Any:
    """``pool.get_connection()`` (a coroutine for ``redis.asyncio``): redis-py >= 5.3 deprecates
    the command name argument that redis-py 5.0-5.2 require."""
    try:
        return pool.get_connection()
    except TypeError:
        return pool.get_connection("_")


def _honour_cancellation() -> None:
    """Raise the cancellation of the current task if an await below swallowed it.

    redis-py writes with ``asyncio.wait_for(..., socket_timeout)``; before Python 3.12, a
    ``wait_for`` cancelled just as the write completes returns normally and the cancellation is
    lost (CPython gh-86296): a cancelled load would carry on to the end. A task whose cancellation
    is still requested (``Task.cancelling``, Python 3.11+) stops at the next batch instead."""
    task = asyncio.current_task()
    cancelling = getattr(task, "cancelling", None)
    if cancelling is not None and cancelling():
        raise asyncio.CancelledError


class BatchWriter:
    """Send batches on one pooled connection; read each batch's replies later, in order.

    Replies are the raw server replies, with a command's error reply as the exception object in
    its place (as ``pipeline.execute(raise_on_error=False)`` gives them). `close` returns the
    connection to the pool, closing it first if replies are still unread.
    """

    def __init__(self, client: redis.Redis) -> None:
        self._pool = client.connection_pool
        self._conn = _get_connection(self._pool)
        self._pack = _packer(self._conn)
        self._unread: deque[tuple[list[bytes], int]] = deque()  # packed batch, its command count
        self._broken = False  # the connection failed: resend every unread batch first

    def send(self, commands: Sequence[Command]) -> None:
        packed = self._pack(commands)
        self._unread.append((packed, len(commands)))
        self._retrying(lambda: self._write(packed))

    def receive(self) -> list[Any]:
        """The replies of the oldest batch whose replies were not read yet."""
        replies = self._retrying(self._read_oldest)
        self._unread.popleft()
        return replies

    def close(self) -> None:
        try:
            if self._unread:  # replies left on the wire must not reach the connection's next user
                self._conn.disconnect()
        finally:  # even if interrupted: a connection never released is lost to the pool
            self._pool.release(self._conn)

    def _write(self, packed: list[bytes]) -> None:
        if self._resend():
            return  # this batch was among the unread ones
        self._conn.send_packed_command(packed)

    def _read_oldest(self) -> list[Any]:
        self._resend()
        replies: list[Any] = []
        for _ in range(self._unread[0][1]):
            try:
                replies.append(self._conn.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies

    def _resend(self) -> bool:
        if not self._broken:
            return False
        self._broken = False
        for packed, _ in self._unread:
            self._conn.send_packed_command(packed)
        return True

    def _failed(self, error: Exception) -> None:
        self._broken = True
        self._conn.disconnect()

    def _retrying(self, do: Callable[[], T]) -> T:
        result: T = self._conn.retry.call_with_retry(do, self._failed)
        return result


class AsyncBatchWriter:
    """`BatchWriter` for ``redis.asyncio`` (create it with `open`)."""

    def __init__(self, pool: Any, conn: Any) -> None:
        self._pool = pool
        self._conn = conn
        self._pack = _packer(conn)
        self._unread: deque[tuple[list[bytes], int]] = deque()
        self._broken = False

    @classmethod
    async def open(cls, client: aredis.Redis) -> AsyncBatchWriter:
        pool: Any = client.connection_pool
        return cls(pool, await _get_connection(pool))

    async def send(self, commands: Sequence[Command]) -> None:
        packed = self._pack(commands)
        self._unread.append((packed, len(commands)))
        await self._retrying(lambda: self._write(packed))
        _honour_cancellation()

    async def receive(self) -> list[Any]:
        replies = await self._retrying(self._read_oldest)
        self._unread.popleft()
        _honour_cancellation()
        return replies

    async def close(self) -> None:
        try:
            if self._unread:
                await self._conn.disconnect()
        finally:
            await self._pool.release(self._conn)

    async def _write(self, packed: list[bytes]) -> None:
        if await self._resend():
            return
        await self._conn.send_packed_command(packed)

    async def _read_oldest(self) -> list[Any]:
        await self._resend()
        replies: list[Any] = []
        for _ in range(self._unread[0][1]):
            try:
                replies.append(await self._conn.read_response())
            except redis.ResponseError as exc:
                replies.append(exc)
        return replies

    async def _resend(self) -> bool:
        if not self._broken:
            return False
        self._broken = False
        for packed, _ in self._unread:
            await self._conn.send_packed_command(packed)
        return True

    async def _failed(self, error: Exception) -> None:
        self._broken = True
        await self._conn.disconnect()

    async def _retrying(self, do: Callable[[], Coroutine[Any, Any, T]]) -> T:
        result: T = await self._conn.retry.call_with_retry(do, self._failed)
        return result
