"""Index lifecycle, loading, fetching and deleting through `SearchIndex` on the real server.

Ground truth is what the test wrote, read back with plain redis-py commands (HGETALL, JSON.GET,
TTL, DBSIZE-like key scans), never what redisvec returned earlier.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import redis

from redisvec.errors import (
    BatchWriteError,
    IndexNotFoundError,
    SchemaError,
    SchemaMismatchError,
    SearchUnavailableError,
    VectorError,
)
from redisvec.filters import Num, Tag
from redisvec.index import SearchIndex
from redisvec.query import FilterQuery, VectorQuery
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField
from redisvec.server import LocalRedis, find_binaries

DIMS = 4


def make_schema(
    names: Any,
    storage: str = "hash",
    *,
    dims: int = DIMS,
    metric: str = "cosine",
    datatype: str = "float32",
    vector: str = "v",
) -> IndexSchema:
    return IndexSchema(
        names.index,
        prefixes=(names.prefix,),
        storage=storage,
        fields=(
            TagField("color"),
            NumericField("n", sortable=True),
            TextField("body"),
            VectorField(
                vector, dims=dims, algorithm="flat", datatype=datatype, distance_metric=metric
            ),
        ),
    )


def rec(i: int, **extra: Any) -> dict[str, Any]:
    return {"color": ("red", "green")[i % 2], "n": i, "body": f"doc {i}", "v": [1.0, i, 2.0, -i],
            **extra}  # fmt: skip


def stored_keys(client: redis.Redis, prefix: str) -> set[str]:
    return {k.decode() for k in client.scan_iter(match=f"{prefix}*", count=1000)}


def snapshot(client: redis.Redis, prefix: str) -> dict[str, Any]:
    """Every key under ``prefix`` with its raw content, to prove that nothing changed."""
    out: dict[str, Any] = {}
    for key in sorted(stored_keys(client, prefix)):
        kind = client.type(key).decode()
        out[key] = (
            client.hgetall(key) if kind == "hash" else client.execute_command("JSON.GET", key)
        )
    return out


@pytest.fixture(params=["hash", "json"])
def storage(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def index(client: redis.Redis, names: Any, storage: str) -> SearchIndex:
    idx = SearchIndex(make_schema(names, storage), client)
    idx.create()
    return idx


# --- create / exists / drop / info -----------------------------------------------------------


def test_create_exists_info_drop(client: redis.Redis, names: Any, storage: str) -> None:
    index = SearchIndex(make_schema(names, storage), client)
    assert not index.exists()
    with pytest.raises(IndexNotFoundError, match=names.index):
        index.info()
    index.create()
    assert index.exists()
    assert names.index.encode() in client.execute_command("FT._LIST")
    index.load([rec(i) for i in range(5)], ids=[str(i) for i in range(5)])
    _wait_indexed(index, 5)  # FT.CREATE's own scan may still be running on a busy server
    info = index.info()
    assert (info.name, info.num_docs, info.indexing, info.percent_indexed) == (
        names.index, 5, False, 1.0,
    )  # fmt: skip
    assert info.indexing_failures == 0 and info.last_indexing_error is None

    index.create()  # exist_ok: the same schema again is fine, data kept
    assert index.info().num_docs == 5
    with pytest.raises(SchemaMismatchError, match="exist_ok=False"):
        index.create(exist_ok=False)

    index.create(overwrite=True)  # documents kept and re-indexed
    assert len(stored_keys(client, names.prefix)) == 5
    _wait_indexed(index, 5)
    index.create(overwrite=True, drop_documents=True)
    assert stored_keys(client, names.prefix) == set()
    assert index.exists() and index.info().num_docs == 0

    index.load([rec(1)], ids=["1"])
    index.drop()
    assert not index.exists()
    assert stored_keys(client, names.prefix) == {names.prefix + "1"}  # drop keeps documents
    index.drop()  # dropping a missing index is a no-op
    index.create()
    index.drop(delete_documents=True)
    assert stored_keys(client, names.prefix) == set()


def _wait_indexed(index: SearchIndex, n: int) -> None:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        info = index.info()
        if not info.indexing and info.num_docs == n:
            return
        time.sleep(0.02)
    raise AssertionError(f"index never reached {n} documents: {index.info()}")


@pytest.mark.parametrize(
    ("change", "what", "ours", "theirs"),
    [
        ({"dims": 8}, "dims", "8", "4"),
        ({"metric": "l2"}, "distance_metric", "'l2'", "'cosine'"),
        ({"datatype": "float64"}, "datatype", "'float64'", "'float32'"),
        ({"vector": "embedding"}, "vector field", "'embedding'", "('v',)"),
    ],
)
def test_schema_disagreement_is_an_error_showing_both_sides(
    client: redis.Redis,
    names: Any,
    storage: str,
    change: dict[str, Any],
    what: str,
    ours: str,
    theirs: str,
) -> None:
    existing = SearchIndex(make_schema(names, storage), client)
    existing.create()
    existing.load([rec(i) for i in range(3)], ids=["a", "b", "c"])
    before = snapshot(client, names.prefix)
    asked = SearchIndex(make_schema(names, storage, **change), client)
    for attempt in (asked.check_schema, asked.create):
        with pytest.raises(SchemaMismatchError) as caught:
            attempt()
        message = str(caught.value)
        assert names.index in message and what in message
        assert f"asked for {ours}" in message and f"index has {theirs}" in message, message
    assert snapshot(client, names.prefix) == before
    assert existing.count() == 3
    existing.check_schema()  # agrees with itself


@pytest.mark.parametrize(
    ("field", "theirs"),
    [(NumericField("color"), "'tag'"), (TagField("year"), "None")],
)
def test_a_requested_metadata_field_the_index_lacks_or_types_differently_is_a_mismatch(
    client: redis.Redis, names: Any, field: Any, theirs: str
) -> None:
    existing = SearchIndex(make_schema(names), client)
    existing.create()
    asked = SearchIndex(existing.schema.with_fields(field), client)
    for attempt in (asked.check_schema, asked.create):
        with pytest.raises(SchemaMismatchError) as caught:
            attempt()
        message = str(caught.value)
        assert f"metadata field {field.name!r}: asked for '{field.type}', index has {theirs}" in (
            message
        ), message
    # the schema the index was made with, minus a field, still agrees (extra fields are fine)
    fewer = replace(existing.schema, fields=existing.schema.fields[1:])
    SearchIndex(fewer, client).check_schema()
    existing.check_schema()


def test_missing_index(client: redis.Redis, names: Any) -> None:
    with pytest.raises(IndexNotFoundError, match=names.index):
        SearchIndex.from_existing(client, names.index)
    with pytest.raises(IndexNotFoundError, match=names.index):
        SearchIndex(make_schema(names), client).check_schema()


# --- a server without search -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def bare_server() -> Iterator[str]:
    """A redis-server without modules (LocalRedis refuses to start one)."""
    binary = find_binaries().server
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp,
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"redis://127.0.0.1:{port}"
            deadline = time.monotonic() + 10
            while True:
                try:
                    with redis.Redis.from_url(url) as c:
                        c.ping()
                    break
                except redis.ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            with redis.Redis.from_url(url) as c:
                try:
                    c.execute_command("FT._LIST")
                except redis.ResponseError:
                    pass
                else:
                    pytest.skip("this redis-server has search built in; no bare server to test")
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_server_without_search(bare_server: str, names: Any) -> None:
    with redis.Redis.from_url(bare_server) as c:
        c.set(names.prefix + "keep", "x")
        index = SearchIndex(make_schema(names), c)
        calls = [
            index.exists, index.create, index.info, index.check_schema, index.count,
            lambda: SearchIndex.from_existing(c, names.index),
            lambda: index.search(VectorQuery([1.0] * DIMS)),
        ]  # fmt: skip
        for call in calls:
            with pytest.raises(SearchUnavailableError) as caught:
                call()
            assert "Redis 8" in str(caught.value) and "Redis Stack" in str(caught.value)
        assert c.get(names.prefix + "keep") == b"x"
        c.delete(names.prefix + "keep")


# --- loading ----------------------------------------------------------------------------------


def _read(client: redis.Redis, schema: IndexSchema, key: str) -> dict[str, Any] | None:
    if schema.storage == "json":
        raw = client.execute_command("JSON.GET", key)
        return None if raw is None else dict(json.loads(raw))
    raw_hash = client.hgetall(key)
    return {k.decode(): v for k, v in raw_hash.items()} or None


def test_ids_id_field_keys_and_generated_ids(
    client: redis.Redis, names: Any, index: SearchIndex
) -> None:
    schema = index.schema
    assert index.load([rec(0)], ids=["x0"]) == ["x0"]
    assert index.load([rec(1, uid="u1")], id_field="uid") == ["u1"]
    assert index.load([rec(2)], keys=[names.prefix + "k2"]) == ["k2"]
    generated = index.load([rec(3), rec(4)])
    assert len(set(generated)) == 2 and all(generated)
    expected = {names.prefix + i for i in ["x0", "u1", "k2", *generated]}
    assert stored_keys(client, names.prefix) == expected
    assert index.count() == 5
    stored = _read(client, schema, names.prefix + "u1")
    assert stored is not None
    if schema.storage == "hash":
        assert stored["color"] == b"green" and stored["n"] == b"1"
        np.testing.assert_array_equal(
            np.frombuffer(stored["v"], dtype="<f4"), np.array([1.0, 1, 2, -1], dtype="<f4")
        )
    else:
        assert stored["color"] == "green" and stored["n"] == 1 and stored["v"] == [1, 1, 2, -1]


def test_ttl(client: redis.Redis, names: Any, index: SearchIndex) -> None:
    index.load([rec(0), rec(1)], ids=["a", "b"], ttl=100)
    index.load([rec(2)], ids=["c"])
    assert 90 < client.ttl(names.prefix + "a") <= 100
    assert 90 < client.ttl(names.prefix + "b") <= 100
    assert client.ttl(names.prefix + "c") == -1
    # an upsert replaces the expiry with the record (HASH and JSON alike): a new ttl, or none
    index.load([rec(0), rec(2)], ids=["a", "c"], ttl=1000)
    index.load([rec(1)], ids=["b"])
    assert 990 < client.ttl(names.prefix + "a") <= 1000
    assert 990 < client.ttl(names.prefix + "c") <= 1000
    assert client.ttl(names.prefix + "b") == -1


@pytest.mark.parametrize("batch_size", [1, 7, 500])
def test_batch_sizes(client: redis.Redis, names: Any, index: SearchIndex, batch_size: int) -> None:
    ids = [f"r{i}" for i in range(23)]
    assert index.load([rec(i) for i in range(23)], ids=ids, batch_size=batch_size) == ids
    assert stored_keys(client, names.prefix) == {names.prefix + i for i in ids}
    assert index.count() == 23
    with pytest.raises(ValueError, match="batch_size"):
        index.load([rec(0)], ids=["z"], batch_size=0)


def test_upsert_replaces_the_record(client: redis.Redis, names: Any, index: SearchIndex) -> None:
    index.load([rec(0, extra="stale", color="blue")], ids=["a"])
    index.load([rec(1)], ids=["b"])
    index.load([{"body": "new", "n": 42, "v": [0.0, 0.0, 1.0, 0.0]}], ids=["a"])
    stored = _read(client, index.schema, names.prefix + "a")
    assert stored is not None
    assert set(stored) == {"body", "n", "v"}  # stale fields gone
    assert index.count() == 2
    assert index.count(Tag("color") == "blue") == 0
    assert index.count(Num("n") == 42) == 1


@pytest.mark.parametrize(
    ("bad", "pattern"),
    [
        ({"v": [1.0, 2.0, 3.0]}, r"'v'.*expected 4 dimensions, received 3"),
        ({"v": [1.0, float("nan"), 0.0, 0.0]}, r"'v'.*non-finite value \(nan\)"),
        ({"color": "a,b"}, r"tag field 'color'.*'a,b'.*separator ','"),
        ({"n": "twelve"}, r"numeric field 'n'.*'twelve' is not a number"),
    ],
)
def test_a_bad_record_stops_the_load_before_its_batch_is_sent(
    client: redis.Redis, names: Any, index: SearchIndex, bad: dict[str, Any], pattern: str
) -> None:
    """A load streams: the batches before the bad record's are written (and the error's note says
    so), nothing of its batch nor after it is."""
    index.load([rec(0), rec(1)], ids=["a", "b"])
    before = snapshot(client, names.prefix)
    records = [rec(i) for i in range(5)] + [rec(5, **bad)] + [rec(6)]
    with pytest.raises((VectorError, SchemaError), match=pattern) as caught:
        index.load(iter(records), ids=[f"new{i}" for i in range(7)], batch_size=2)
    assert names.index in str(caught.value)
    if sys.version_info >= (3, 11):
        assert "the 4 records before were sent in earlier batches: 4 written" in str(
            caught.value.__notes__
        )
    after = snapshot(client, names.prefix)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) - set(before) == {f"{names.prefix}new{i}" for i in range(4)}
    assert index.count() == 6
    # fewer records than one batch: nothing at all is sent
    with pytest.raises((VectorError, SchemaError), match=pattern):
        index.load([rec(7), rec(8, **bad)], ids=["x", "y"])
    assert index.count() == 6


def test_server_side_failures_report_exactly_the_failed_ids(
    client: redis.Redis, names: Any
) -> None:
    index = SearchIndex(make_schema(names, "json"), client)
    index.create()
    # keys that already exist as another type: JSON.SET fails with WRONGTYPE
    client.hset(names.prefix + "r3", "x", "1")
    client.set(names.prefix + "r8", "text")
    ids = [f"r{i}" for i in range(12)]
    with pytest.raises(BatchWriteError) as caught:
        index.load([rec(i) for i in range(12)], ids=ids, batch_size=5)
    err = caught.value
    assert err.failed_ids == ["r3", "r8"]
    assert sorted(err.written_ids) == sorted(set(ids) - {"r3", "r8"})
    assert all("wrong" in str(e).lower() for e in err.errors)
    assert "'r3'" in str(err) and "'r8'" in str(err) and "wrong" in str(err).lower()
    for i in set(ids) - {"r3", "r8"}:
        assert _read(client, index.schema, names.prefix + i) is not None
    assert client.hgetall(names.prefix + "r3") == {b"x": b"1"}
    assert client.get(names.prefix + "r8") == b"text"
    assert index.count() == 10


# --- fetch / delete / iterate ------------------------------------------------------------------


@pytest.mark.parametrize("datatype", ["float32", "float64", "float16", "bfloat16"])
def test_fetch(client: redis.Redis, names: Any, storage: str, datatype: str) -> None:
    index = SearchIndex(make_schema(names, storage, datatype=datatype), client)
    index.create()
    vectors = np.array([[0.1, 0.2, 0.3, 0.4], [1.5, -2.25, 3.0, 0.0]])
    index.load([{"body": "x", "v": vectors[0]}, {"body": "y", "n": 7, "v": vectors[1]}],
               ids=["a", "b"])  # fmt: skip
    got = index.fetch(["b", "missing", "a"])
    assert got[1] is None
    b, a = got[0], got[2]
    assert b is not None and a is not None
    assert a["body"] == "x" and b["body"] == "y" and float(b["n"]) == 7
    if datatype == "bfloat16":
        expected = (vectors.astype(np.float32).view(np.uint32) + 0x8000) >> 16 << 16
        expected_values = expected.astype(np.uint32).view(np.float32)
    else:
        expected_values = vectors.astype(datatype)
    np.testing.assert_allclose(np.asarray(a["v"], dtype=np.float64), expected_values[0], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(b["v"], dtype=np.float64), expected_values[1], rtol=1e-15)
    assert index.fetch([]) == []


def test_delete_delete_where_clear(client: redis.Redis, names: Any, index: SearchIndex) -> None:
    ids = [str(i) for i in range(20)]
    index.load([rec(i) for i in range(20)], ids=ids)
    assert index.delete(["0", "1", "nope"]) == 2
    assert index.count() == 18
    assert index.delete_where(Tag("color") == "red") == 9  # even n, 2..18
    assert stored_keys(client, names.prefix) == {names.prefix + str(i) for i in range(3, 20, 2)}
    client.set("unrelated:" + names.prefix, "x")
    try:
        assert index.clear() == 9
        assert stored_keys(client, names.prefix) == set()
        assert client.get("unrelated:" + names.prefix) == b"x"
    finally:
        client.delete("unrelated:" + names.prefix)
    assert index.exists()


def test_paginate(index: SearchIndex) -> None:
    index.load([rec(i) for i in range(23)], ids=[f"r{i}" for i in range(23)])
    pages = list(index.paginate(FilterQuery(Num("n") >= 3, sort_by="n"), page_size=7))
    assert [len(p) for p in pages] == [7, 7, 6]
    assert [h.id for p in pages for h in p] == [f"r{i}" for i in range(3, 23)]
    assert all(p.total == 20 for p in pages)


@pytest.fixture(scope="module")
def small_max_results() -> Iterator[str]:
    with LocalRedis() as server:
        with redis.Redis.from_url(server.url) as c:
            c.execute_command("FT.CONFIG", "SET", "MAXSEARCHRESULTS", "50")
        yield server.url


@pytest.mark.parametrize("protocol", [2, 3])
def test_iter_keys_beyond_maxsearchresults(
    small_max_results: str, storage: str, protocol: int
) -> None:
    with redis.Redis.from_url(small_max_results, protocol=protocol) as c:
        names = type(
            "N", (), {"index": f"big_{storage}_{protocol}", "prefix": f"big{storage}{protocol}:"}
        )
        index = SearchIndex(make_schema(names, storage), c)
        index.create(overwrite=True, drop_documents=True)
        ids = [f"r{i}" for i in range(120)]
        index.load([rec(i) for i in range(120)], ids=ids)
        assert index.count() == 120
        with pytest.raises(redis.ResponseError, match="LIMIT"):
            index.search(FilterQuery(limit=100))  # the cap iter_keys must avoid
        batches = list(index.iter_keys(batch_size=30))
        assert all(len(b) <= 30 for b in batches)
        assert sorted(k for b in batches for k in b) == sorted(names.prefix + i for i in ids)
        red = {names.prefix + i for i in ids if int(i[1:]) % 2 == 0}
        assert {k for b in index.iter_keys(Tag("color") == "red", batch_size=25) for k in b} == red
        assert index.delete_where(Tag("color") == "red") == 60
        assert index.clear() == 60
        assert index.count() == 0
        index.drop()


@pytest.mark.parametrize("datatype", ["float16", "float32"])
def test_fetch_decodes_a_vector_whose_bytes_are_valid_utf8(
    client: redis.Redis, names: Any, datatype: str
) -> None:
    # float16 0.5 is b"\x00\x38" and float32 0.0 is four NULs: both are valid UTF-8 text, which a
    # generic HGETALL decoder would have returned as a str instead of a vector.
    index = SearchIndex(make_schema(names, datatype=datatype, metric="l2"), client)
    index.create()
    try:
        vector = [0.5, 0.0, 0.5, 0.0]
        assert np.frombuffer(np.asarray(vector, dtype=datatype).tobytes(), np.uint8).max() < 0x80
        index.load([{**rec(0), "v": vector}], ids=["a"])
        (got,) = index.fetch(["a"])
        assert got is not None and isinstance(got["v"], np.ndarray)
        assert got["v"].tolist() == vector and got["body"] == "doc 0"
    finally:
        index.drop(delete_documents=True)
