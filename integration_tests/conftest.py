"""One server for the whole run: ``REDIS_URL`` when set, otherwise an embedded `LocalRedis`.

Each test gets its own uniquely named index and key prefix (``names``) and everything under that
prefix is removed afterwards, so the suite can run against a shared server.

A module whose checks depend on the shape of an HNSW graph overrides ``redis_url`` with
``own_server_url``: a graph depends on the order its vectors were inserted in, and an index that
a rebuild fills, or one created over existing keys, is filled in SCAN order, which depends on
every other key the server holds. On a server of its own the graph, so the result, is the same on
every run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import redis
import redis.asyncio as aredis

from redisvec.server import url_or_local


def _server_url() -> Iterator[str]:
    with url_or_local(os.environ.get("REDIS_URL")) as url:
        yield url


redis_url = pytest.fixture(scope="session", name="redis_url")(_server_url)
# The same, but a server of the module's own (unless REDIS_URL names one): see above.
own_server_url = pytest.fixture(scope="module", name="own_server_url")(_server_url)


@dataclass(frozen=True)
class Names:
    """A unique index name and key prefix for one test."""

    index: str
    prefix: str

    def new(self, suffix: str) -> Names:
        return Names(f"{self.index}_{suffix}", f"{self.prefix}{suffix}:")


def _drop_everything(client: redis.Redis, names: Names) -> None:
    for index in client.execute_command("FT._LIST"):
        name = index.decode() if isinstance(index, bytes) else str(index)
        if name.startswith(names.index):
            client.execute_command("FT.DROPINDEX", name)
    pipe = client.pipeline(transaction=False)
    # and the copies a rebuild made under a new version's prefix (`redisvec.evolve`)
    for pattern in (f"{names.prefix}*", f"{names.index}__v*"):
        for key in client.scan_iter(match=pattern, count=1000):
            pipe.unlink(key)  # one key per command: safe on clustered endpoints
    pipe.execute()


@pytest.fixture
def names(redis_url: str) -> Iterator[Names]:
    tag = uuid.uuid4().hex[:10]
    value = Names(index=f"test_{tag}", prefix=f"test_{tag}:")
    yield value
    with redis.Redis.from_url(redis_url) as client:
        _drop_everything(client, value)


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as c:
        yield c


@pytest.fixture
async def async_client(redis_url: str) -> AsyncIterator[aredis.Redis]:
    c = aredis.Redis.from_url(redis_url)
    yield c
    await c.aclose()
