"""The batch packer `redisvec.pipelining` uses must put on the wire exactly what redis-py would."""

from __future__ import annotations

import pytest
import redis

from redisvec.pipelining import _packer

COMMANDS = [
    ("HSET", "doc:1", "text", "héllo ✓", "n", 42, "x", 1.5, "tiny", 1e-20, "blob", b"\x00\xff\r\n"),
    ("UNLINK", "doc:1", "doc:2"),
    ("JSON.SET", "doc:3", "$", '{"a":[1,2.5,"€"]}'),
    ("EXPIRE", "doc:3", 60),
]


def _connection(**kwargs: object) -> redis.Connection:
    return redis.Redis(**kwargs).connection_pool.make_connection()  # type: ignore[arg-type]


def test_fast_packer_writes_the_same_bytes_as_redis_py() -> None:
    conn = _connection()
    pack = _packer(conn)
    assert pack is not conn.pack_commands  # hiredis is installed: the direct path is taken
    assert b"".join(pack(COMMANDS)) == b"".join(conn.pack_commands(COMMANDS))


def test_an_argument_hiredis_refuses_gets_redis_pys_error() -> None:
    pack = _packer(_connection())
    with pytest.raises(redis.DataError):
        pack([("HSET", "doc:1", "meta", {"not": "packable"})])


def test_a_connection_with_another_encoding_packs_as_redis_py_does() -> None:
    conn = _connection(encoding="latin-1")
    assert b"".join(_packer(conn)(COMMANDS)) == b"".join(conn.pack_commands(COMMANDS))
