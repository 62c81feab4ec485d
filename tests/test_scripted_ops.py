"""The operation generators of `redisvec.index`, driven by a scripted runner: no server.

Each test scripts what the server says to each request an operation yields (a reply, or an
error as redis-py raises it) and checks what the operation does with it: a load refused midway
by the ACL, a connection lost mid-load, the ``FT.CREATE`` race, RESP2 and RESP3 cursor replies.
The replies are the shapes the real server sends (captured from Redis 8 with both protocols).
The runner translates server errors exactly as `SearchIndex._run` does (`translate_server_error`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
import redis.asyncio as aredis

from redisvec import (
    AsyncSearchIndex,
    BatchWriteError,
    IndexNotFoundError,
    IndexSchema,
    SchemaMismatchError,
    SearchIndex,
    TagField,
    VectorField,
    WriteDeniedError,
)
from redisvec.errors import translate_server_error
from redisvec.index import _Call, _Pipeline, _Receive, _Send, _Sleep

SCHEMA = IndexSchema(
    "docs",
    prefixes=("docs:",),
    fields=(TagField("t"), VectorField("v", dims=2)),
)
#: ``FT.INFO docs`` (RESP2) of an index created with SCHEMA.
INFO = [
    b"index_name", b"docs", b"index_options", [],
    b"index_definition", [b"key_type", b"HASH", b"prefixes", [b"docs:"], b"default_score", b"1"],
    b"attributes", [
        [b"identifier", b"t", b"attribute", b"t", b"type", b"TAG", b"SEPARATOR", b","],
        [b"identifier", b"v", b"attribute", b"v", b"type", b"VECTOR", b"algorithm", b"HNSW",
         b"data_type", b"FLOAT32", b"dim", 2, b"distance_metric", b"COSINE", b"M", 16,
         b"ef_construction", 200],
    ],
    b"num_docs", 0, b"indexing", 0, b"percent_indexed", b"1",
]  # fmt: skip
NOPERM = "User reader has no permissions to run the 'hset' command"


def _client() -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=1)  # never connected: the script answers


Outcome = Any  # a reply, an exception to raise, or a function of the request giving either


@dataclass
class Script:
    """What the server answers, request by request: ``(expected, outcome)`` pairs.

    ``expected`` is a request type (`_Call`, `_Send`, ...) or, for a `_Call`, the command name.
    A `_Receive` outcome may be a function of the commands of the `_Send` it answers."""

    steps: list[tuple[Any, Outcome]]
    index: str = "docs"
    seen: list[Any] = field(default_factory=list)
    _unread: deque[Sequence[tuple[Any, ...]]] = field(default_factory=deque)

    def answer(self, request: Any) -> Any:
        assert self.steps, f"the operation asked for more than the script has: {request!r}"
        expected, outcome = self.steps.pop(0)
        self.seen.append(request)
        if isinstance(expected, str):
            assert isinstance(request, _Call) and request.args[0] == expected, (expected, request)
        else:
            assert isinstance(request, expected), (expected, request)
        if isinstance(request, _Send):
            self._unread.append(request.commands)
        if isinstance(request, _Receive):
            commands = self._unread.popleft()
            outcome = outcome(commands) if callable(outcome) else outcome
        if isinstance(outcome, BaseException):
            if isinstance(outcome, redis.ResponseError) and isinstance(request, _Call):
                raise translate_server_error(outcome, self.index, request.args)
            raise outcome
        return outcome

    def done(self) -> None:
        assert not self.steps, f"the operation stopped before {self.steps[0]!r}"


def drive(op: Any, script: Script) -> Any:
    """Run an operation generator against the script, as `SearchIndex._run` runs it against a
    server: each request's reply is sent in, each error thrown in at the ``yield``."""
    try:
        request = next(op)
        while True:
            try:
                reply = script.answer(request)
            except Exception as exc:
                request = op.throw(exc)
            else:
                request = op.send(reply)
    except StopIteration as stop:
        return stop.value


def transaction_replies(deny: bool = False) -> Callable[[Sequence[tuple[Any, ...]]], list[Any]]:
    """A batch's replies, one per command: each record's MULTI, queued commands, EXEC. With
    ``deny``, the server refuses every HSET while queueing (NOPERM), so EXEC aborts."""

    def replies(commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        out: list[Any] = []
        queued: list[Any] = []
        for command in commands:
            name = command[0]
            if name == "MULTI":
                out.append(b"OK")
                queued = []
            elif name == "EXEC":
                if any(isinstance(r, BaseException) for r in queued):
                    out.append(
                        redis.exceptions.ExecAbortError(
                            "Transaction discarded because of previous errors."
                        )
                    )
                else:
                    out.append([1] * len(queued))
            else:
                reply: Any = (
                    redis.exceptions.NoPermissionError(NOPERM)
                    if deny and name == "HSET"
                    else b"QUEUED"
                )
                queued.append(reply)
                out.append(reply)
        return out

    return replies


def _records(n: int) -> tuple[list[dict[str, Any]], list[str]]:
    return [{"t": "a", "v": [1.0, float(i)]} for i in range(n)], [f"r{i}" for i in range(n)]


def _load(index: SearchIndex, n: int, batch_size: int) -> Any:
    records, ids = _records(n)
    return index._load_op(records, ids, None, None, None, batch_size)


def test_the_info_reply_is_the_schemas() -> None:
    assert IndexSchema.from_info(INFO, "docs") == SCHEMA


# -- load --------------------------------------------------------------------------------------


def _three_batches() -> Script:
    """A load of three batches: two sent before the first replies are read, then one behind."""
    return Script(
        [
            (_Send, None),
            (_Send, None),
            (_Receive, transaction_replies()),
            (_Send, None),
            (_Receive, transaction_replies()),
            (_Receive, transaction_replies()),
        ]
    )


def test_a_load_writes_every_batch_and_reads_replies_one_batch_behind() -> None:
    index = SearchIndex(SCHEMA, _client())
    script = _three_batches()
    assert drive(_load(index, 5, 2), script) == ["r0", "r1", "r2", "r3", "r4"]
    script.done()
    sent = [r.commands for r in script.seen if isinstance(r, _Send)]
    assert next(c for batch in sent for c in batch if c[0] == "HSET")[1] == "docs:r0"
    assert [len([c for c in b if c[0] == "MULTI"]) for b in sent] == [2, 2, 1]


def test_noperm_midway_stops_the_load_and_reports_what_was_written() -> None:
    # 4 batches of 2: batch 1 written; batch 2 refused (NOPERM); batch 3 was already in flight
    # (sent before batch 2's replies were read) and is refused too; batch 4 is never sent.
    index = SearchIndex(SCHEMA, _client())
    script = Script(
        [
            (_Send, None),
            (_Send, None),
            (_Receive, transaction_replies()),
            (_Send, None),
            (_Receive, transaction_replies(deny=True)),
            (_Receive, transaction_replies(deny=True)),
        ]
    )
    with pytest.raises(WriteDeniedError) as caught:
        drive(_load(index, 8, 2), script)
    script.done()
    error = caught.value
    assert error.written_ids == ["r0", "r1"]
    assert error.failed_ids == ["r2", "r3", "r4", "r5", "r6", "r7"]
    assert error.unconfirmed_ids == []
    assert all(isinstance(e, redis.exceptions.NoPermissionError) for e in error.errors)
    assert len(error.errors) == 4
    assert "NOPERM" in str(error) and "ACL SETUSER" in str(error)
    assert sum(isinstance(r, _Send) for r in script.seen) == 3  # batch 4 never sent


def test_a_refused_record_does_not_stop_the_others() -> None:
    def one_refused(commands: Sequence[tuple[Any, ...]]) -> list[Any]:
        replies = transaction_replies()(commands)
        replies[3] = [redis.ResponseError("OOM command not allowed"), 1]  # r0's EXEC
        return replies

    index = SearchIndex(SCHEMA, _client())
    script = Script([(_Send, None), (_Receive, one_refused)])
    with pytest.raises(BatchWriteError) as caught:
        drive(_load(index, 2, 2), script)
    assert not isinstance(caught.value, WriteDeniedError)
    assert caught.value.failed_ids == ["r0"] and caught.value.written_ids == ["r1"]
    assert "OOM" in str(caught.value.errors[0])


def test_a_lost_connection_leaves_the_in_flight_records_unconfirmed() -> None:
    # 3 batches of 2: batch 1 confirmed; the connection drops while reading batch 2's replies,
    # with batch 3 already sent: batches 2 and 3 may or may not be stored.
    index = SearchIndex(SCHEMA, _client())
    script = Script(
        [
            (_Send, None),
            (_Send, None),
            (_Receive, transaction_replies()),
            (_Send, None),
            (_Receive, redis.ConnectionError("Connection closed by server.")),
        ]
    )
    with pytest.raises(BatchWriteError) as caught:
        drive(_load(index, 6, 2), script)
    script.done()
    error = caught.value
    assert error.written_ids == ["r0", "r1"]
    assert error.unconfirmed_ids == ["r2", "r3", "r4", "r5"]
    assert error.failed_ids == ["r2", "r3", "r4", "r5"]
    assert "unconfirmed_ids" in str(error) and "127.0.0.1" in str(error)


def test_a_lost_connection_before_later_batches_are_sent() -> None:
    # batch_size 1, 4 records: lost while reading record 0's replies; records 0 and 1 were sent,
    # 2 and 3 never were (failed, certainly not stored, so not unconfirmed).
    index = SearchIndex(SCHEMA, _client())
    script = Script(
        [(_Send, None), (_Send, None), (_Receive, redis.TimeoutError("Timeout reading"))]
    )
    with pytest.raises(BatchWriteError) as caught:
        drive(_load(index, 4, 1), script)
    error = caught.value
    assert error.written_ids == []
    assert error.unconfirmed_ids == ["r0", "r1"]
    assert error.failed_ids == ["r0", "r1", "r2", "r3"]


# -- FT.CREATE ---------------------------------------------------------------------------------


def _create(index: SearchIndex, exist_ok: bool = True) -> Any:
    return index._create_op(exist_ok, False, False, False)


def test_create_race_adopts_the_index_another_client_just_created() -> None:
    index = SearchIndex(SCHEMA, _client())
    script = Script(
        [
            ("FT.INFO", redis.ResponseError("Unknown index name")),
            ("FT._LIST", []),
            ("FT.CREATE", redis.ResponseError("Index already exists")),
            ("FT.INFO", INFO),
        ]
    )
    assert drive(_create(index), script) is None
    script.done()
    create = next(r for r in script.seen if r.args[0] == "FT.CREATE")
    assert create.args == ("FT.CREATE", *SCHEMA.ft_create_args())


def test_create_race_with_a_different_index_is_a_mismatch() -> None:
    other = list(INFO)
    other[other.index(b"attributes") + 1] = [
        [b"identifier", b"v", b"attribute", b"v", b"type", b"VECTOR", b"algorithm", b"FLAT",
         b"data_type", b"FLOAT32", b"dim", 3, b"distance_metric", b"L2"],
    ]  # fmt: skip
    index = SearchIndex(SCHEMA, _client())
    script = Script(
        [
            ("FT.INFO", redis.ResponseError("Unknown index name")),
            ("FT._LIST", []),
            ("FT.CREATE", redis.ResponseError("Index already exists")),
            ("FT.INFO", other),
        ]
    )
    with pytest.raises(SchemaMismatchError, match="dims"):
        drive(_create(index), script)


def test_create_race_without_exist_ok_is_the_servers_refusal() -> None:
    index = SearchIndex(SCHEMA, _client())
    script = Script(
        [
            ("FT.INFO", redis.ResponseError("Unknown index name")),
            ("FT._LIST", []),
            ("FT.CREATE", redis.ResponseError("Index already exists")),
        ]
    )
    with pytest.raises(redis.ResponseError, match="already exists"):
        drive(_create(index, exist_ok=False), script)
    script.done()


# -- cursors -----------------------------------------------------------------------------------

#: ``FT.AGGREGATE ... LOAD 1 @__key WITHCURSOR COUNT 2`` then ``FT.CURSOR READ`` over 3 keys.
CURSOR_RESP2 = [
    [[1, [b"__key", b"docs:0"], [b"__key", b"docs:1"]], 610106254],
    [[1, [b"__key", b"docs:2"]], 0],
]
CURSOR_RESP3 = [
    [
        {b"attributes": [], b"total_results": 1, b"format": b"STRING", b"warning": [],
         b"results": [{b"extra_attributes": {b"__key": b"docs:0"}, b"values": []},
                      {b"extra_attributes": {b"__key": b"docs:1"}, b"values": []}]},
        610106254,
    ],
    [
        {b"attributes": [], b"total_results": 1, b"format": b"STRING", b"warning": [],
         b"results": [{b"extra_attributes": {b"__key": b"docs:2"}, b"values": []}]},
        0,
    ],
]  # fmt: skip


class ScriptedIndex(SearchIndex):
    script: Script

    def _perform(self, request: _Call | _Pipeline | _Sleep) -> Any:
        return self.script.answer(request)


class AsyncScriptedIndex(AsyncSearchIndex):
    script: Script

    async def _perform(self, request: _Call | _Pipeline | _Sleep) -> Any:
        return self.script.answer(request)


@pytest.mark.parametrize("pages", [CURSOR_RESP2, CURSOR_RESP3], ids=["resp2", "resp3"])
def test_iter_keys_reads_cursor_pages(pages: list[Any]) -> None:
    index = ScriptedIndex(SCHEMA, _client())
    index.script = Script([("FT.AGGREGATE", pages[0]), ("FT.CURSOR", pages[1])])
    assert list(index.iter_keys(batch_size=2)) == [["docs:0", "docs:1"], ["docs:2"]]
    index.script.done()
    read = index.script.seen[1]
    assert read.args == ("FT.CURSOR", "READ", "docs", 610106254)


@pytest.mark.parametrize("pages", [CURSOR_RESP2, CURSOR_RESP3], ids=["resp2", "resp3"])
async def test_async_iter_keys_reads_cursor_pages(pages: list[Any]) -> None:
    index = AsyncScriptedIndex(SCHEMA, aredis.Redis(host="127.0.0.1", port=1))
    index.script = Script([("FT.AGGREGATE", pages[0]), ("FT.CURSOR", pages[1])])
    assert [keys async for keys in index.iter_keys(batch_size=2)] == [
        ["docs:0", "docs:1"],
        ["docs:2"],
    ]
    index.script.done()


def test_iter_keys_on_a_missing_index() -> None:
    index = ScriptedIndex(SCHEMA, _client())
    index.script = Script([("FT.AGGREGATE", redis.ResponseError("docs: no such index"))])
    with pytest.raises(IndexNotFoundError, match="'docs'"):
        list(index.iter_keys())


def test_a_generator_is_read_a_batch_ahead_of_the_replies_and_reports_progress() -> None:
    # 3 batches of 2 from a generator: each batch is read from it only when it is to be sent,
    # and progress hears of each batch once its replies are read.
    index = SearchIndex(SCHEMA, _client())
    records, ids = _records(6)
    read: list[int] = []
    settled: list[int] = []

    def generate() -> Any:
        for i, record in enumerate(records):
            read.append(i)
            yield record

    script = _three_batches()
    op = index._load_op(generate(), ids, None, None, None, 2, settled.append)
    assert drive(op, script) == ids
    script.done()
    assert read == list(range(6)) and settled == [2, 2, 2]


def test_a_lost_connection_in_a_generator_load_lists_only_what_was_read() -> None:
    # The records a generator has not handed over yet are not read to name them: the error
    # lists the records sent (unconfirmed), none of the rest.
    index = SearchIndex(SCHEMA, _client())
    records, ids = _records(8)
    read: list[str] = []

    def generate() -> Any:
        for record, rid in zip(records, ids):
            read.append(rid)
            yield {**record, "id": rid}

    script = Script(
        [(_Send, None), (_Send, None), (_Receive, redis.TimeoutError("Timeout reading"))]
    )
    with pytest.raises(BatchWriteError) as caught:
        drive(index._load_op(generate(), None, "id", None, None, 2), script)
    assert read == ["r0", "r1", "r2", "r3"]  # the generator was not read past what was sent
    error = caught.value
    assert error.written_ids == [] and error.unconfirmed_ids == ["r0", "r1", "r2", "r3"]
    assert error.failed_ids == ["r0", "r1", "r2", "r3"]
