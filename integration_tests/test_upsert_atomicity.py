"""Issue "Nothing lost, nothing leaked", item 1: an interrupted upsert never loses a record.

A load used to UNLINK a batch's keys and then HSET them: a cancelled re-upsert deleted records,
one refused for lack of memory (``maxmemory`` with ``noeviction``) left the refused records absent,
and searches running meanwhile missed records. Here every record already exists (version A) and is
upserted again (version B, with different values and, for half of them, one field fewer, so a
stale field that survived would show). Whatever interrupts the load (cancellation, the server out
of memory, the connection killed from the server's side, the loading process killed), afterwards
each record must be exactly A or exactly B, read back with plain redis-py and compared with what
plain Python computes, and a reader thread counting what searches see throughout must always count
every record.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import redis
import redis.asyncio as aredis
from conftest import Names
from redis.backoff import NoBackoff
from redis.retry import Retry

from redisvec.errors import BatchWriteError
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField
from redisvec.server import LocalRedis

pytestmark = pytest.mark.reliability

N = 1500
DIMS = 64
BATCH = 100  # many batches: interruptions land in the middle of a load


def make_schema(names: Names, storage: str = "hash") -> IndexSchema:
    return IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage=storage,
        fields=(
            TextField("body"),
            TagField("color"),
            NumericField("n"),
            VectorField("v", dims=DIMS, algorithm="flat", distance_metric="cosine"),
        ),
    )


IDS = [f"r{i}" for i in range(N)]


def record(i: int, version: str, padding: int = 0) -> dict[str, Any]:
    """Version "A" or "B" of record ``i``; B has no ``n`` for odd ``i`` (a field fewer)."""
    rng = np.random.default_rng(i * 2 + (version == "B"))
    rec: dict[str, Any] = {
        "body": f"{version} text of record {i} " + "x" * padding,
        "color": "red" if version == "A" else "blue",
        "v": rng.uniform(0.1, 1.0, DIMS).tolist(),
    }
    if version == "A" or i % 2 == 0:
        rec["n"] = i if version == "A" else i + 100_000
    return rec


def records(version: str, padding: int = 0) -> list[dict[str, Any]]:
    return [record(i, version, padding) for i in range(N)]


def as_hash(rec: dict[str, Any]) -> dict[bytes, bytes]:
    out = {k.encode(): str(v).encode() for k, v in rec.items() if k != "v"}
    out[b"v"] = np.asarray(rec["v"], dtype="<f4").tobytes()
    return out


def as_json(rec: dict[str, Any]) -> dict[str, Any]:
    """As a JSON document reads back, vector as float32 values (the server's JSON prints doubles
    with its own last digit)."""
    out = dict(rec)
    out["v"] = np.asarray(rec["v"], dtype=np.float32).tolist()
    return out


def states(
    client: redis.Redis, names: Names, storage: str = "hash", padding: int = 0
) -> dict[str, str]:
    """Each id -> "A", "B", "absent" or "other" (neither version exactly)."""
    pipe = client.pipeline(transaction=False)
    for i in IDS:
        if storage == "hash":
            pipe.hgetall(names.prefix + i)
        else:
            pipe.execute_command("JSON.GET", names.prefix + i, "$")
    stored = pipe.execute()
    out = {}
    for n, (i, value) in enumerate(zip(IDS, stored)):
        if not value:
            out[i] = "absent"
            continue
        if storage != "hash":
            value = json.loads(value)[0]
            value["v"] = np.asarray(value.get("v"), dtype=np.float32).tolist()
        versions = {"A": record(n, "A"), "B": record(n, "B", padding)}
        convert = as_hash if storage == "hash" else as_json
        out[i] = next((v for v, rec in versions.items() if convert(rec) == value), "other")
    return out


class Reader(threading.Thread):
    """Counts, over and over, every record a search sees (``FT.SEARCH <index> *``)."""

    def __init__(self, url: str, index: str) -> None:
        super().__init__(daemon=True)
        self.url, self.index = url, index
        self.seen: list[int] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with redis.Redis.from_url(self.url, protocol=2) as r:
                while not self.stop.is_set():
                    self.seen.append(int(r.execute_command("FT.SEARCH", self.index, "*",
                                                           "LIMIT", 0, 0)[0]))  # fmt: skip
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc


@contextlib.contextmanager
def reading(url: str, index: str) -> Iterator[Reader]:
    reader = Reader(url, index)
    reader.start()
    try:
        yield reader
    finally:
        reader.stop.set()
        reader.join(10)
    assert reader.error is None, reader.error
    assert len(reader.seen) > 10, "the reader did not run alongside the load"
    assert min(reader.seen) == N, f"searches saw as few as {min(reader.seen)} of {N} records"


@pytest.mark.parametrize("storage", ["hash", "json"])
async def test_a_cancelled_reupsert_leaves_every_record_old_or_new(
    redis_url: str, names: Names, client: redis.Redis, storage: str
) -> None:
    aclient = aredis.Redis.from_url(redis_url)
    try:
        index = AsyncSearchIndex(make_schema(names, storage), aclient)
        await index.create()
        await index.load(records("A"), ids=IDS, batch_size=BATCH)
        assert set(states(client, names, storage).values()) == {"A"}
        interrupted = 0
        with reading(redis_url, names.index):
            started = time.perf_counter()  # how long a whole re-upsert takes, the reader running
            await index.load(records("B"), ids=IDS, batch_size=BATCH)
            full = time.perf_counter() - started
            for attempt in range(12):
                version = "A" if attempt % 2 == 0 else "B"
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        index.load(records(version), ids=IDS, batch_size=BATCH),
                        full * (0.05 + 0.9 * ((attempt * 5) % 12) / 12),
                    )
                got = states(client, names, storage)
                assert set(got.values()) <= {"A", "B"}, sorted(
                    (i, s) for i, s in got.items() if s not in ("A", "B")
                )[:5]
                interrupted += len(set(got.values())) == 2  # cut in the middle of the load
            assert interrupted >= 1, "no load was interrupted part-way: the test proved nothing"
            # the pool still works and a complete load leaves every record new
            await index.load(records("B"), ids=IDS, batch_size=BATCH)
        assert set(states(client, names, storage).values()) == {"B"}
        assert await index.count() == N
    finally:
        await aclient.aclose()


def test_a_reupsert_refused_at_maxmemory_keeps_every_old_version(names: Names) -> None:
    padding = 400  # version B is bigger: the server runs out of memory part-way
    with LocalRedis() as server:  # this test's own server: its maxmemory changes nobody else's
        client = redis.Redis.from_url(server.url, protocol=2)
        index = SearchIndex(make_schema(names), client)
        index.create()
        index.load(records("A"), ids=IDS, batch_size=BATCH)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory-policy", "noeviction")
        client.config_set("maxmemory", used + N * padding // 3)
        try:
            with reading(server.url, names.index), pytest.raises(BatchWriteError) as caught:
                index.load(records("B", padding), ids=IDS, batch_size=50)
        finally:
            client.config_set("maxmemory", 0)
        err = caught.value
        got = states(client, names, padding=padding)
        assert set(got.values()) <= {"A", "B"}, sorted(
            (i, s) for i, s in got.items() if s not in ("A", "B")
        )[:5]
        # the report is exact: what it calls written is new, what it calls failed is still old
        assert sorted(err.written_ids) == sorted(i for i, s in got.items() if s == "B")
        assert sorted(err.failed_ids) == sorted(i for i, s in got.items() if s == "A")
        assert err.failed_ids and not err.unconfirmed_ids
        assert "maxmemory" in str(err)
        assert index.count() == N
        client.close()


def _kill_loader(url: str, name: str, stop: threading.Event, kills: list[int]) -> None:
    """Close, from the server's side, the connections named ``name``, every few milliseconds."""
    with redis.Redis.from_url(url) as admin:
        while not stop.is_set():
            for c in admin.client_list():
                if c.get("name") == name:
                    with contextlib.suppress(redis.ResponseError):
                        admin.client_kill_filter(_id=c["id"])
                        kills.append(1)
            time.sleep(0.01)


@pytest.mark.parametrize("retries", [0, 10])
def test_a_connection_killed_during_a_reupsert_loses_no_record(
    redis_url: str, names: Names, client: redis.Redis, retries: int
) -> None:
    loader = redis.Redis.from_url(
        redis_url, client_name=f"loader-{names.index}", retry=Retry(NoBackoff(), retries)
    )
    index = SearchIndex(make_schema(names), loader)
    index.create()
    index.load(records("A"), ids=IDS, batch_size=BATCH)
    stop, kills = threading.Event(), []
    killer = threading.Thread(
        target=_kill_loader, args=(redis_url, f"loader-{names.index}", stop, kills), daemon=True
    )
    with reading(redis_url, names.index):
        killer.start()
        try:
            for _ in range(20):  # until a kill lands during a load
                try:
                    index.load(records("B"), ids=IDS, batch_size=BATCH)
                except BatchWriteError as err:
                    got = states(client, names)
                    assert set(got.values()) <= {"A", "B"}
                    unconfirmed = set(err.unconfirmed_ids)
                    assert all(got[i] == "B" for i in err.written_ids)
                    assert all(got[i] == "A" for i in set(err.failed_ids) - unconfirmed)
                    assert retries == 0, err  # with retries the load rides the kills out
                else:
                    assert set(states(client, names).values()) == {"B"}
                if kills:
                    break
                index.load(records("A"), ids=IDS, batch_size=BATCH)
        finally:
            stop.set()
            killer.join(10)
    assert kills, "no connection was killed: the test proved nothing"
    got = states(client, names)
    assert set(got.values()) <= {"A", "B"}
    loader.close()


_CHILD = """
import sys, numpy as np, redis
sys.path.insert(0, {tests!r})
from test_upsert_atomicity import IDS, BATCH, make_schema, records
from conftest import Names
from redisvec.index import SearchIndex
index = SearchIndex(make_schema(Names({index!r}, {prefix!r})), redis.Redis.from_url({url!r}))
print("loading", flush=True)
while True:
    index.load(records("B"), ids=IDS, batch_size=BATCH)
    index.load(records("A"), ids=IDS, batch_size=BATCH)
"""


def test_a_loading_process_killed_mid_reupsert_loses_no_record(
    redis_url: str, names: Names, client: redis.Redis
) -> None:
    index = SearchIndex(make_schema(names), client)
    index.create()
    index.load(records("A"), ids=IDS, batch_size=BATCH)
    code = _CHILD.format(
        tests=os.path.dirname(__file__), index=names.index, prefix=names.prefix, url=redis_url
    )
    with reading(redis_url, names.index):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None and child.stdout.readline() == "loading\n"
            time.sleep(1.0)  # several loads in, most likely in the middle of one
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
            if child.stdout is not None:
                child.stdout.close()
        time.sleep(0.2)  # the server notices the closed connection and discards its transaction
        got = states(client, names)
    assert set(got.values()) <= {"A", "B"}, sorted(
        (i, s) for i, s in got.items() if s not in ("A", "B")
    )[:5]
    assert index.count() == N


def test_a_user_without_multi_is_told_so_and_what_was_written_is_reported(
    redis_url: str, names: Names, client: redis.Redis
) -> None:
    """An ACL user who may write but not run MULTI/EXEC: the server runs the batch's commands
    one by one (not atomically), so the load stops at once, says which permission is missing,
    and reports the records that were written as written."""
    from _infra import acl_user

    from redisvec.errors import WriteDeniedError

    index = SearchIndex(make_schema(names), client)
    index.create()
    with acl_user(client, "nomulti", "pw-nomulti", ("~*", "&*", "+@all", "-multi")):
        user = redis.Redis.from_url(redis_url, username="nomulti", password="pw-nomulti")
        limited = SearchIndex(make_schema(names), user)
        with pytest.raises(WriteDeniedError, match=r"'multi'.*\+@transaction") as caught:
            limited.load(records("A")[:300], ids=IDS[:300], batch_size=BATCH)
        user.close()
    err = caught.value
    got = states(client, names)
    written = sorted(i for i, s in got.items() if s == "A")
    assert sorted(err.written_ids) == written and written  # the first batches, sent ahead
    assert sorted(err.failed_ids) == sorted(set(IDS[:300]) - set(written))
