"""What the batch packer of `redisvec.pipelining` puts on the wire, against the RESP spelling
written out here (not against redis-py's packer of the day), and the client settings it refuses."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aredis

from redisvec import IndexSchema, SearchIndex
from redisvec.connection import Connections, check_client
from redisvec.pipelining import _packer

COMMANDS = [
    ("HSET", "doc:1", "text", "héllo ✓", "n", 42, "x", 1.5, "tiny", 1e-20, "blob", b"\x00\xff\r\n"),
    ("UNLINK", "doc:1", "doc:2"),
    ("JSON.SET", "doc:3", "$", '{"a":[1,2.5,"€"]}'),
    ("EXPIRE", "doc:3", 60),
]


def _bulk(arg: object) -> bytes:
    """RESP bulk string of one argument, as redisvec promises to send it: bytes as they are, text
    as UTF-8, integers in decimal, floats by ``repr`` (shortest round-trip spelling)."""
    if isinstance(arg, bytes):
        raw = arg
    elif isinstance(arg, str):
        raw = arg.encode("utf-8")
    elif isinstance(arg, int | float):
        raw = repr(arg).encode("ascii")
    else:  # pragma: no cover - the test data has no other type
        raise TypeError(arg)
    return b"$%d\r\n%s\r\n" % (len(raw), raw)


def _resp(commands: list[tuple[object, ...]]) -> bytes:
    return b"".join(
        b"*%d\r\n" % len(command) + b"".join(_bulk(a) for a in command) for command in commands
    )


def _connection(**kwargs: object) -> redis.Connection:
    return redis.Redis(**kwargs).connection_pool.make_connection()  # type: ignore[arg-type]


def test_the_packer_writes_utf8_resp() -> None:
    assert b"".join(_packer(_connection())(COMMANDS)) == _resp(COMMANDS)


def test_redis_pys_packer_writes_the_same_resp() -> None:
    # Without hiredis redisvec sends through redis-py's own packer: both paths must agree. Checked
    # on every redis-py the project tests (the lock, `make test-lowest`: 5.x, `make test-latest`).
    assert b"".join(_connection().pack_commands(COMMANDS)) == _resp(COMMANDS)


def test_an_argument_hiredis_refuses_gets_redis_pys_error() -> None:
    pack = _packer(_connection())
    with pytest.raises(redis.DataError):
        pack([("HSET", "doc:1", "meta", {"not": "packable"})])


@pytest.mark.parametrize(
    "settings",
    [
        {"encoding": "latin-1"},
        {"encoding": "utf-16"},
        {"encoding": "no-such-codec"},
        {"encoding_errors": "replace"},
        {"decode_responses": True},
    ],
)
def test_a_client_that_would_garble_text_is_refused_by_name(settings: dict[str, object]) -> None:
    schema = IndexSchema.from_dict(
        {"index": {"name": "enc"}, "fields": [{"name": "t", "type": "text"}]}
    )
    for client in (redis.Redis(**settings), aredis.Redis(**settings)):  # type: ignore[arg-type]
        setting = next(iter(settings))
        with pytest.raises(ValueError, match=setting):
            check_client(client)
        with pytest.raises(ValueError, match=setting):
            SearchIndex(schema, client)  # type: ignore[arg-type]
        pair = {"redis_client" if isinstance(client, redis.Redis) else "async_client": client}
        with pytest.raises(ValueError, match=setting):
            Connections(**pair)  # type: ignore[arg-type]


@pytest.mark.parametrize("encoding", ["utf-8", "UTF8", "utf_8"])
def test_every_spelling_of_utf8_is_accepted(encoding: str) -> None:
    check_client(redis.Redis(encoding=encoding))
