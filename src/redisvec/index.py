"""`SearchIndex` and `AsyncSearchIndex`: one index's lifecycle, loading, fetching and searching.

The two classes are twins: the same methods, the same arguments, the same results; the async one
runs on ``redis.asyncio`` natively (no threads). Each operation is written once, in `_IndexCore`,
as a generator that *yields* the I/O it needs (a command, a pipeline, a batch to stream or its
replies, a pause) and receives the reply; `SearchIndex` runs it with blocking calls,
`AsyncSearchIndex` with awaits. So the twins cannot drift apart, and everything that is not I/O
stays testable without a server.

Cluster safety: the data path touches one key per command, and a load one key per transaction
(MULTI/EXEC, or a script on a cluster client: see `_IndexCore._write_commands`), so keys may live
in any hash slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import warnings
from collections import deque
from collections.abc import (
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, replace
from itertools import chain
from typing import Any, Generic, TypeVar

import numpy as np
import redis
import redis.asyncio.cluster as acluster
import redis.cluster as scluster

from redisvec._resp import normalize_info
from redisvec.connection import (
    AsyncClient,
    ConnectionFailedError,
    SyncClient,
    check_client,
    connection_error,
)
from redisvec.errors import SEARCH_SERVERS as SEARCH_SERVERS  # its old home
from redisvec.errors import (
    HybridFallbackWarning,
    IndexingTimeoutError,
    IndexNotFoundError,
    KeySpaceError,
    PermissionDeniedError,
    RedisVecError,
    SchemaMismatchError,
    SearchUnavailableError,
    already_exists,
    translate_server_error,
)
from redisvec.filters import FilterExpression
from redisvec.hybrid import (
    HybridQuery,
    HybridResult,
    fuse_legs,
    parse_hybrid_reply,
    warn_no_terms,
)
from redisvec.loading import LoadLedger
from redisvec.pipelining import AsyncBatchWriter, BatchWriter
from redisvec.query import CountQuery, FilterQuery, Query, VectorQuery, codec_for
from redisvec.records import PreparedRecord, RecordStream, chunks
from redisvec.results import Rows, SearchResult, decode_hash, parse_search_reply, read_rows
from redisvec.schema import IndexSchema, check_id_list, shared_key_spaces

__all__ = ["AsyncSearchIndex", "IndexInfo", "SearchIndex"]

ClientT = TypeVar("ClientT")
T = TypeVar("T")
_CLUSTERS = (scluster.RedisCluster, acluster.RedisCluster)
Filter = FilterExpression | str | None
Progress = Callable[[int], None]  # called with how many records a batch just settled


@dataclass(frozen=True)
class IndexInfo:
    """The parts of ``FT.INFO`` people check: size, indexing progress, indexing failures."""

    name: str
    num_docs: int
    indexing: bool
    percent_indexed: float
    indexing_failures: int
    last_indexing_error: str | None
    raw: Mapping[str, Any]

    @classmethod
    def from_reply(cls, name: str, reply: Any) -> IndexInfo:
        info = normalize_info(reply)
        errors = info.get("Index Errors") or {}
        last_error = errors.get("last indexing error") if isinstance(errors, Mapping) else None
        return cls(
            name=name,
            num_docs=int(float(info.get("num_docs", 0))),
            indexing=bool(int(float(info.get("indexing", 0)))),
            percent_indexed=float(info.get("percent_indexed", 1.0)),
            indexing_failures=int(float(info.get("hash_indexing_failures", 0))),
            last_indexing_error=None if last_error in (None, "N/A") else str(last_error),
            raw=info,
        )


# The query vector's byte size is not the index's: the index behind the name (an alias) was
# rebuilt with another datatype since this SearchIndex read its schema (`redisvec.evolve`).
_VECTOR_SIZE_CHANGED = re.compile(r"blob size .* does not match", re.IGNORECASE)


@dataclass(frozen=True)
class _Call:
    """Run one command (server errors translated: missing index, no search, NOPERM)."""

    args: tuple[Any, ...]


@dataclass(frozen=True)
class _Pipeline:
    """Run single-key commands in one non-transactional pipeline; replies (or errors) in order.
    ``transaction``: as one MULTI/EXEC instead (keyless commands, e.g. an alias switch)."""

    commands: Sequence[tuple[Any, ...]]
    raise_on_error: bool = True
    transaction: bool = False


@dataclass(frozen=True)
class _Sleep:
    seconds: float


@dataclass(frozen=True)
class _Send:
    """Write a batch of commands without waiting for its replies (see `redisvec.pipelining`)."""

    commands: Sequence[tuple[Any, ...]]


@dataclass(frozen=True)
class _Receive:
    """The replies (errors in place) of the oldest `_Send` whose replies were not read yet."""


_Request = _Call | _Pipeline | _Sleep
Op = Generator[_Request | _Send | _Receive, Any, T]


def wait_indexed_op(name: str, timeout: float) -> Op[IndexInfo]:
    """The info of index ``name`` once the server's background scan of it has ended (``FT.INFO``
    polled until then), `IndexingTimeoutError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        info = IndexInfo.from_reply(name, (yield _Call(("FT.INFO", name))))
        if not info.indexing and info.percent_indexed >= 1:
            return info
        if time.monotonic() > deadline:
            raise IndexingTimeoutError(
                f"index {name!r} was still indexing its existing documents after {timeout} s "
                f"({info.percent_indexed:.0%} done, {info.num_docs} documents so far); wait "
                "longer (timeout=), or search knowing that documents not reached yet are missed"
            )
        yield _Sleep(0.05)


class _IndexCore(Generic[ClientT]):
    """What both twins share: the schema, the client, and every non-I/O step."""

    def __init__(self, schema: IndexSchema, client: ClientT) -> None:
        check_client(client)
        self.schema = schema
        self.client = client

    @property
    def name(self) -> str:
        return self.schema.name

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.schema.name!r} prefix={self.schema.key_prefix!r}>"

    @property
    def _sep(self) -> str:
        return self.schema.key_separator

    def _adopt(self, fresh: IndexSchema) -> bool:
        """Take the schema the server now has behind this name when only the vector encoding
        changed (a rebuild behind an alias: datatype), so that queries go on working across the
        switch; anything else is a real mismatch, left to the caller's error."""
        old, new = self.schema.vector_fields, fresh.vector_fields
        same_vectors = [(v.name, v.dims) for v in old] == [(v.name, v.dims) for v in new]
        if fresh == self.schema or not same_vectors:
            return False
        self.schema = fresh
        return True

    def _mismatch(self, existing: IndexSchema) -> SchemaMismatchError | None:
        diffs = self.schema.differences(existing)
        if not diffs:
            return None
        lines = "\n".join(
            f"  {what}: asked for {ours!r}, index has {theirs!r}" for what, ours, theirs in diffs
        )
        return SchemaMismatchError(
            f"index {self.name!r} already exists and disagrees with the schema asked for:\n{lines}\n"
            "Use the index's own settings, a different index name, or recreate it "
            "(overwrite=True; add drop_documents=True to also delete its documents)."
        )

    def _queue(self, send: _Send, queued: deque[Sequence[tuple[Any, ...]]]) -> bool:
        """Whether ``send`` streams on one connection (`redisvec.pipelining`). A cluster client
        routes each key to its own node, so its batches are queued instead and each runs as one
        ordinary pipeline when its replies are asked for (`_Receive`), in order."""
        if isinstance(self.client, _CLUSTERS):
            queued.append(send.commands)
            return False
        return True

    @property
    def _transactional(self) -> bool:
        """Whether a load wraps each record's commands in MULTI/EXEC (one connection to one
        endpoint) rather than in a script (a cluster client routes each command by its key, and
        MULTI has none)."""
        return not isinstance(self.client, _CLUSTERS)

    def _write_commands(
        self, batch: Sequence[PreparedRecord], ttl: int | None
    ) -> tuple[list[tuple[Any, ...]], list[int]]:
        """Each record's commands, and how many each record has.

        An upsert replaces the whole record (stale fields and expiry included) and must never
        leave it absent: a record is its old version or its new one whatever interrupts the load
        (cancellation, a lost connection, a full server, a killed client). So each record's
        UNLINK, HSET (or JSON.SET) and EXPIRE (or PERSIST) run as one MULTI/EXEC transaction:
        all or nothing (a connection closed before the server has the whole transaction
        discards it; a command refused while queueing, e.g. OOM under ``maxmemory``, discards
        it), and no search runs in between. One transaction per record, not per batch: a
        transaction's keys must share a hash slot on a sharded endpoint (Redis Enterprise, Azure
        Managed Redis: CROSSSLOT otherwise), and a whole batch run at once would hold up every
        concurrent query until it is indexed. A cluster client runs one script per record
        instead (`_UPSERT_SCRIPT`), with the same guarantee.
        """
        is_json = self.schema.storage == "json"
        if not self._transactional:
            return self._script_commands(batch, ttl, is_json), [1] * len(batch)
        commands: list[tuple[Any, ...]] = []
        multi, exec_ = ("MULTI",), ("EXEC",)
        if is_json:
            for record in batch:
                key = record.key
                commands += (
                    multi,
                    ("JSON.SET", key, "$", _json_dumps(record.payload)),
                    # JSON.SET keeps the key, and so its expiry: the upsert replaces it
                    ("PERSIST", key) if ttl is None else ("EXPIRE", key, ttl),
                    exec_,
                )
            return commands, [4] * len(batch)
        for record in batch:
            key = record.key
            write = ("HSET", key, *chain.from_iterable(record.payload.items()))
            if ttl is None:
                commands += (multi, ("UNLINK", key), write, exec_)
            else:
                commands += (multi, ("UNLINK", key), write, ("EXPIRE", key, ttl), exec_)
        return commands, [4 if ttl is None else 5] * len(batch)

    @staticmethod
    def _script_commands(
        batch: Sequence[PreparedRecord], ttl: int | None, is_json: bool
    ) -> list[tuple[Any, ...]]:
        """One EVAL per record (single-key, so a cluster routes it to the key's node). EVAL with
        the script's text rather than EVALSHA: the server caches it by its digest, and a script
        cache emptied by a restart cannot fail the load with NOSCRIPT."""
        expiry = "" if ttl is None else str(ttl)
        if is_json:
            return [
                ("EVAL", _UPSERT_SCRIPT, 1, r.key, expiry, "json", _json_dumps(r.payload))
                for r in batch
            ]
        return [
            ("EVAL", _UPSERT_SCRIPT, 1, r.key, expiry, "hash",
             *chain.from_iterable(r.payload.items()))
            for r in batch
        ]  # fmt: skip

    def _decode_fetched(self, raw: Any) -> dict[str, Any] | None:
        if not raw:
            return None
        if self.schema.storage == "json":
            document: dict[str, Any] = _json_loads(raw)
            for vf in self.schema.vector_fields:
                if vf.name in document:
                    dtype = codec_for(self.schema, vf).float_dtype  # float64 keeps its precision
                    document[vf.name] = np.asarray(document[vf.name], dtype=dtype)
            return document
        # Vector fields are decoded from their bytes before anything else looks at them: a blob
        # that happens to be valid UTF-8 (float16 0.5 is b"\x008") must not come back as text.
        blobs = {vf.name.encode(): vf for vf in self.schema.vector_fields}
        fields = decode_hash({k: v for k, v in raw.items() if k not in blobs})
        for key, vf in blobs.items():
            blob = raw.get(key)
            if isinstance(blob, bytes):
                fields[vf.name] = codec_for(self.schema, vf).decode(blob)
        return fields

    def _parse(self, query: Query, reply: Any) -> SearchResult:
        return parse_search_reply(
            reply,
            self.schema,
            with_scores=query.with_scores,
            decode_vector=bool(getattr(query, "return_vector", False)),
        )

    def _cursor_args(self, flt: Filter, batch_size: int) -> list[Any]:
        where = FilterQuery(flt).to_args(self.schema)[1]
        return [
            "FT.AGGREGATE", self.name, where, "LOAD", 1, "@__key",
            "WITHCURSOR", "COUNT", batch_size, "DIALECT", 2,
        ]  # fmt: skip

    @staticmethod
    def _cursor_page(reply: Any) -> tuple[list[str], int]:
        rows, cursor = reply[0], int(reply[1])
        keys: list[str] = []
        if isinstance(rows, Mapping):  # RESP3
            for item in rows.get(b"results", rows.get("results", [])):
                attrs = item.get(b"extra_attributes", item.get("extra_attributes", {}))
                key = attrs.get(b"__key", attrs.get("__key"))
                if key is not None:
                    keys.append(key.decode() if isinstance(key, bytes) else str(key))
        else:
            for row in rows[1:]:
                pairs = dict(zip(row[::2], row[1::2]))
                key = pairs.get(b"__key", pairs.get("__key"))
                if key is not None:
                    keys.append(key.decode() if isinstance(key, bytes) else str(key))
        return keys, cursor

    # -- operations, written once (see the module docstring) -------------------------------------

    def _info_op(self) -> Op[IndexInfo]:
        return IndexInfo.from_reply(self.name, (yield _Call(("FT.INFO", self.name))))

    def _exists_op(self, check: bool = False) -> Op[bool]:
        # FT._LIST is cheap; FT.INFO builds and parses the index's whole statistics. Stores check
        # before each write. FT._LIST lists no aliases, so a name it lacks is asked for with
        # FT.INFO, which resolves one (`redisvec.evolve` puts an index behind its old name).
        try:
            listed = yield _Call(("FT._LIST",))
        except (redis.ResponseError, PermissionDeniedError, SearchUnavailableError):
            pass
        else:
            if self.name in {n.decode() if isinstance(n, bytes) else str(n) for n in listed}:
                return True
        try:
            reply = yield _Call(("FT.INFO", self.name))
        except IndexNotFoundError:
            return False
        if check:  # an alias may now name an index of another layout: never write past it
            self._check_info(reply)
        return True

    def _check_info(self, info_reply: Any) -> None:
        mismatch = self._mismatch(IndexSchema.from_info(info_reply, self.name))
        if mismatch is not None:
            raise mismatch

    def _check_schema_op(self) -> Op[None]:
        self._check_info((yield _Call(("FT.INFO", self.name))))

    def _create_op(
        self, exist_ok: bool, overwrite: bool, drop_documents: bool, allow_shared_prefix: bool
    ) -> Op[None]:
        try:
            info = yield _Call(("FT.INFO", self.name))
        except IndexNotFoundError:
            pass
        else:  # it exists; its FT.INFO is all the schema check needs
            if overwrite:
                yield from self._drop_op(drop_documents, 60.0, force=False)
            elif exist_ok:
                self._check_info(info)
                return
            else:
                raise SchemaMismatchError(f"index {self.name!r} already exists (exist_ok=False)")
        yield from self._check_key_space_op(allow_shared_prefix)
        try:
            yield _Call(("FT.CREATE", *self.schema.ft_create_args()))
        except redis.ResponseError as exc:
            # Another writer created it between our check and FT.CREATE: adopt theirs if it fits.
            if not (exist_ok and already_exists(exc)):
                raise
            yield from self._check_schema_op()

    def _other_indexes_op(self) -> Op[list[tuple[str, tuple[str, ...]]]]:
        """``(name, prefixes)`` of every other index on the server (FT._LIST, then FT.INFO each).
        Where the server or the ACL user refuses the listing, a warning and none."""
        try:
            listed = yield _Call(("FT._LIST",))
        except (redis.ResponseError, PermissionDeniedError, SearchUnavailableError) as exc:
            warnings.warn(
                f"cannot list the server's indexes ({exc}), so index {self.name!r} was not "
                "checked for key prefixes shared with other indexes",
                stacklevel=4,
            )
            return []
        found = []
        for raw in listed:
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            if name == self.name:
                continue
            try:
                info = yield _Call(("FT.INFO", name))
            except (redis.ResponseError, IndexNotFoundError, PermissionDeniedError):
                continue  # dropped since the listing, or not visible to this ACL user
            found.append((name, _prefixes(info)))
        return found

    def _check_key_space_op(self, allow_shared_prefix: bool) -> Op[None]:
        """Before creating: no empty prefix, and (unless allowed) no other index whose key space
        contains or is contained by this one's."""
        prefixes = self.schema.prefixes
        if "" in prefixes:
            raise KeySpaceError(
                f"index {self.name!r}: the key prefix '' covers every key in the database, so "
                "the index would take in (and drop with its documents) every other application's "
                f"hashes; give a prefix such as {self.name + ':'!r}"
            )
        if allow_shared_prefix:
            return
        clashes = _clashes(prefixes, (yield from self._other_indexes_op()))
        if clashes:
            raise KeySpaceError(
                f"index {self.name!r} (prefixes {list(prefixes)}) would share keys with "
                f"{clashes}: each index would search the other's documents, and dropping either "
                "with its documents would delete the other's. Use a prefix outside the other "
                "index's key space, or pass allow_shared_prefix=True if both indexes are meant to "
                "cover the same documents"
            )

    def _drop_op(self, delete_documents: bool, timeout: float, force: bool = False) -> Op[None]:
        with contextlib.suppress(IndexNotFoundError):
            if delete_documents:  # DD skips documents the background scan has not reached yet
                info = yield from self._info_op()
                if not force:
                    ours = _prefixes(info.raw)
                    clashes = _clashes(ours, (yield from self._other_indexes_op()))
                    if clashes:
                        raise KeySpaceError(
                            f"dropping index {self.name!r} (prefixes {list(ours)}) with its "
                            f"documents would delete documents that {clashes} also cover(s); "
                            "nothing was dropped. Drop it without its documents "
                            "(delete_documents=False), or pass force=True to delete every "
                            "document it covers"
                        )
                if info.indexing:
                    with contextlib.suppress(IndexingTimeoutError):
                        yield from wait_indexed_op(self.name, timeout)
            yield _Call(("FT.DROPINDEX", self.name, *(["DD"] if delete_documents else [])))

    def _load_op(
        self,
        records: Iterable[Mapping[str, Any]],
        ids: Sequence[str] | None,
        id_field: str | None,
        keys: Sequence[str] | None,
        ttl: int | None,
        batch_size: int,
        progress: Progress | None = None,
    ) -> Op[list[str]]:
        stream = RecordStream(
            self.schema, records, ids=ids, id_field=id_field, keys=keys, size=batch_size
        )
        batches = iter(stream)
        ledger = LoadLedger(self.name, transactional=self._transactional)
        # Batch N+1 is read, built and sent while the server runs batch N; only then are batch
        # N's replies read. So at most three batches are held: one built, two unread. Nothing is
        # sent after a batch is refused for lack of permission.
        unread: deque[tuple[Sequence[PreparedRecord], list[int]]] = deque()
        denied: BaseException | None = None
        stopped: BaseException | None = None  # an invalid record, or the iterable raising

        def settle_oldest() -> Op[BaseException | None]:
            done, counts = unread.popleft()
            refused = ledger.settle(done, counts, (yield _Receive()))
            if progress is not None:
                progress(len(done))
            return refused

        try:
            while denied is None:
                try:
                    batch = next(batches, None)
                except Exception as exc:  # raised below, once the batches sent are settled
                    stopped = exc
                    break
                if batch is None:
                    break
                commands, counts = self._write_commands(batch, ttl)
                unread.append((batch, counts))
                ledger.sent(batch)
                yield _Send(commands)
                if len(unread) > 1:
                    denied = yield from settle_oldest()
            while unread:
                refused = yield from settle_oldest()
                denied = denied if denied is not None else refused
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            # where (masked), what the client saw, and what to check
            lost = f"{connection_error(self.client, exc)}, after retrying"
            raise ledger.error(stream.unread_ids(), lost) from exc
        if stopped is not None:
            ledger.note(stopped)
            raise stopped
        if denied is not None:
            raise ledger.denied(denied, stream.unread_ids())
        if ledger.failed:
            raise ledger.error([])
        return ledger.ids

    def _fetch_op(self, ids: Sequence[str]) -> Op[list[dict[str, Any] | None]]:
        command = "JSON.GET" if self.schema.storage == "json" else "HGETALL"
        replies = yield _Pipeline([(command, self.schema.key(i)) for i in ids])
        return [self._decode_fetched(raw) for raw in replies]

    def _delete_keys_op(self, keys: Sequence[str]) -> Op[int]:
        deleted = 0
        for batch in chunks(keys, 1000):  # one key per UNLINK: keys may span hash slots
            deleted += sum(int(n) for n in (yield _Pipeline([("UNLINK", k) for k in batch])))
        return deleted

    def _page_op(
        self, flt: Filter, batch_size: int, cursor: int | None
    ) -> Op[tuple[list[str], int]]:
        """One page of keys matching ``flt`` from a server-side cursor (None: open it), and the
        cursor to read next (0: none left)."""
        if cursor is None:
            reply = yield _Call(tuple(self._cursor_args(flt, batch_size)))
        else:
            reply = yield _Call(("FT.CURSOR", "READ", self.name, cursor))
        return self._cursor_page(reply)

    def _keys_op(self, flt: Filter, batch_size: int = 1000) -> Op[list[str]]:
        """Every key matching ``flt`` (see `SearchIndex.iter_keys`), listed before anything is
        changed: a document rewritten while a cursor walks the index moves in it, and the
        cursor would miss it or see it twice."""
        keys: list[str] = []
        cursor: int | None = None
        while cursor != 0:
            page, cursor = yield from self._page_op(flt, batch_size, cursor)
            keys += page
        return list(dict.fromkeys(keys))

    def _delete_where_op(self, flt: Filter) -> Op[int]:
        return (yield from self._delete_keys_op((yield from self._keys_op(flt))))

    _ft_hybrid: bool | None = None  # whether the server runs FT.HYBRID (None: not tried yet)

    def _hybrid_op(self, query: HybridQuery) -> Op[HybridResult]:
        """FT.HYBRID where the server has it and the query fits it, else both legs in one
        pipeline, fused here (`redisvec.hybrid`)."""
        native = None
        if query.method == "native" or (query.method == "auto" and self._ft_hybrid is not False):
            native = query.native_args(self.schema)
            if native is None and query.method == "native":
                raise ValueError(
                    "method='native': FT.HYBRID cannot run this hybrid query (it takes RRF "
                    "fusion, one window for both legs, no ids, and text with a word to search "
                    "for); use method='auto'"
                )
        if native is not None:
            try:
                reply = yield _Call(("FT.HYBRID", *native))
            except (SearchUnavailableError, redis.ResponseError) as exc:
                if query.method == "native" or (
                    isinstance(exc, RedisVecError) and not isinstance(exc, SearchUnavailableError)
                ):
                    raise
                self._ft_hybrid = False
                if not isinstance(exc, SearchUnavailableError):  # it has it, and refused
                    warnings.warn(
                        f"index {self.name!r}: the server refused FT.HYBRID ({exc}); hybrid "
                        "queries run as two pipelined searches from now on",
                        HybridFallbackWarning,
                        stacklevel=4,
                    )
            else:
                self._ft_hybrid = True
                return parse_hybrid_reply(reply, self.schema)
        vector, text = query.legs(self.schema)
        if text is None:
            warn_no_terms(query.text)
            reply = yield self._search_call(vector)
            return fuse_legs(query, self.schema, self._parse(vector, reply), None)
        commands = [self._search_call(vector).args, self._search_call(text).args]
        try:
            replies = yield _Pipeline(commands)
        except redis.ResponseError as exc:
            raise translate_server_error(exc, self.name, commands[1]) from exc
        return fuse_legs(
            query, self.schema, self._parse(vector, replies[0]), self._parse(text, replies[1])
        )

    def _search_call(self, query: Query) -> _Call:
        # One command, no operation generator to drive: search is the hot path.
        if type(query) is VectorQuery:
            return _Call(("FT.SEARCH", *query.wire_args(self.schema)))
        return _Call(("FT.SEARCH", *query.to_args(self.schema)))


def _prefixes(info_reply: Any) -> tuple[str, ...]:
    """The key prefixes of an index, from its FT.INFO reply (no prefix: every key, ``""``)."""
    definition = normalize_info(info_reply).get("index_definition") or {}
    return tuple(str(p) for p in definition.get("prefixes") or ("",))


def _clashes(ours: Sequence[str], others: Sequence[tuple[str, tuple[str, ...]]]) -> str:
    """The other indexes whose key spaces overlap ``ours``, named with their prefixes."""
    return ", ".join(
        f"index {name!r} (prefixes {list(theirs)})"
        for name, theirs in others
        if shared_key_spaces(ours, theirs)
    )


# A cluster client's upsert of one record (see `_IndexCore._write_commands`): replace it whole,
# with its expiry, atomically. KEYS[1]: the record's key; ARGV[1]: its TTL in seconds ("" for
# none); ARGV[2]: "json" or "hash"; then the JSON document, or the HASH's field / value pairs.
_UPSERT_SCRIPT = """
if ARGV[2] == 'json' then
  redis.call('JSON.SET', KEYS[1], '$', ARGV[3])
else
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
end
if ARGV[1] ~= '' then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
elseif ARGV[2] == 'json' then
  redis.call('PERSIST', KEYS[1])
end
return 1
"""


def _json_dumps(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_loads(raw: Any) -> Any:
    import json

    value = json.loads(raw)
    return (
        value[0]
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict)
        else value
    )


class SearchIndex(_IndexCore[SyncClient]):
    """One search index on a (sync) redis-py client: ``redis.Redis`` or ``RedisCluster``.

    >>> index = SearchIndex(schema, redis.Redis.from_url(url))   # doctest: +SKIP
    >>> index.create(); index.load(records, ids=ids); index.search(VectorQuery(v, k=5))
    """

    @classmethod
    def from_existing(cls, client: SyncClient, name: str) -> SearchIndex:
        """Open an index that any tool created; the schema is read from ``FT.INFO``."""
        try:
            schema = IndexSchema.from_existing(client, name)
        except redis.ResponseError as exc:
            raise translate_server_error(exc, name) from exc
        return cls(schema, client)

    def _run(self, op: Op[T]) -> T:
        """Drive an operation with blocking I/O."""
        writer: BatchWriter | None = None
        queued: deque[Sequence[tuple[Any, ...]]] = deque()  # cluster clients: see `_queue`
        try:
            request = next(op)
            while True:
                try:
                    if isinstance(request, _Send):
                        if self._queue(request, queued):
                            writer = writer or BatchWriter(self.client)  # type: ignore[arg-type]
                            writer.send(request.commands)
                        reply = None
                    elif isinstance(request, _Receive) and queued:
                        reply = self._perform(_Pipeline(queued.popleft(), raise_on_error=False))
                    elif isinstance(request, _Receive):
                        reply = writer.receive()  # type: ignore[union-attr]
                    else:
                        reply = self._perform(request)
                except Exception as exc:
                    request = op.throw(exc)
                else:
                    request = op.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            if writer is not None:
                writer.close()

    def _perform(self, request: _Request) -> Any:
        if isinstance(request, _Call):
            try:
                return self.client.execute_command(*request.args)  # type: ignore[no-untyped-call]
            except redis.ResponseError as exc:
                raise translate_server_error(exc, self.name, request.args) from exc
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if isinstance(exc, ConnectionFailedError):
                    raise
                raise connection_error(self.client, exc) from exc  # names the masked endpoint
        if isinstance(request, _Pipeline):
            pipe = self.client.pipeline(transaction=request.transaction)
            for command in request.commands:
                pipe.execute_command(*command)
            return pipe.execute(raise_on_error=request.raise_on_error)
        time.sleep(request.seconds)
        return None

    def exists(self, *, check: bool = False) -> bool:
        """Whether the index (or an alias of that name) is on the server. ``check``: one found
        through an alias must agree with this schema (`SchemaMismatchError` otherwise)."""
        return self._run(self._exists_op(check))

    def create(
        self,
        *,
        exist_ok: bool = True,
        overwrite: bool = False,
        drop_documents: bool = False,
        allow_shared_prefix: bool = False,
    ) -> None:
        """Create the index. An existing one is kept if it agrees with the schema (``exist_ok``),
        replaced with ``overwrite`` (its documents too with ``drop_documents``), or an error.

        A new index must not share keys with another index on the server (`KeySpaceError`
        naming both), unless ``allow_shared_prefix`` (two indexes meant to cover the same
        documents, e.g. an HNSW and a FLAT index over one corpus); the prefix ``""`` is refused."""
        self._run(self._create_op(exist_ok, overwrite, drop_documents, allow_shared_prefix))

    def drop(
        self, *, delete_documents: bool = False, timeout: float = 60.0, force: bool = False
    ) -> None:
        """Drop the index; with ``delete_documents`` also every document it indexes.

        ``FT.DROPINDEX DD`` deletes only documents already indexed: a document still waiting for
        the background scan (after a create over existing data) would survive, so this waits for
        the scan to finish first (up to ``timeout`` seconds). With ``delete_documents``, while
        another index covers some of the same keys, nothing is dropped (`KeySpaceError` naming
        it) unless ``force``."""
        self._run(self._drop_op(delete_documents, timeout, force))

    def info(self) -> IndexInfo:
        return self._run(self._info_op())

    def wait_indexed(self, timeout: float = 60.0) -> IndexInfo:
        """Wait until the server has indexed every document already under the index's prefixes;
        returns its info then (`IndexingTimeoutError` after ``timeout`` seconds).

        ``FT.CREATE`` over existing keys (and ``FT.ALTER``) indexes them in the background: until
        that scan ends, searches miss the documents it has not reached, and on HNSW the graph
        changes under identical queries (docs/deployments.md). Documents written after the
        create are indexed as they are written; this is for data that was there before."""
        return self._run(wait_indexed_op(self.name, timeout))

    def check_schema(self) -> None:
        """Raise `SchemaMismatchError` if the index on the server disagrees with ``self.schema``."""
        self._run(self._check_schema_op())

    def load(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
        id_field: str | None = None,
        keys: Sequence[str] | None = None,
        ttl: int | None = None,
        batch_size: int = 500,
        progress: Progress | None = None,
    ) -> list[str]:
        """Upsert ``records`` (any iterable, e.g. a generator); returns their ids. Raises
        `BatchWriteError` listing the ids not written (see its docstring).

        ``records`` are read ``batch_size`` at a time and streamed on one connection: the next
        batch is read, validated and sent before the last one's replies are read
        (`redisvec.pipelining`), so the client builds while the server writes, and at most three
        batches are held, however many records there are (plus the ids returned). A batch is
        validated whole before any of it is sent: an invalid record (or an error raised by the
        iterable) stops the load with nothing of its batch written; the batches before it stay
        written (the error's note says how many). ``progress`` is called after each batch with
        how many records it settled. The connection is held for the whole load."""
        return self._run(self._load_op(records, ids, id_field, keys, ttl, batch_size, progress))

    def fetch(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        """The stored fields of each id (None where missing), in order; vectors decoded."""
        check_id_list(ids, "ids")
        return self._run(self._fetch_op(ids))

    def delete(self, ids: Sequence[str]) -> int:
        """Delete records by id; returns how many existed."""
        check_id_list(ids, "ids")
        return self._delete_keys([self.schema.key(i) for i in ids])

    def _delete_keys(self, keys: Sequence[str]) -> int:
        return self._run(self._delete_keys_op(keys))

    def count(self, filter: Filter = None) -> int:
        return self.search(CountQuery(filter)).total

    def search(self, query: Query) -> SearchResult:
        return self._parse(query, self._reply(query))

    def search_rows(self, query: Query, names: Sequence[str]) -> Rows:
        """``query``'s hits as ``(id, distance, value, ...)`` tuples of the fields ``names`` (see
        `read_rows`): for code that turns each hit into an object of its own."""
        return read_rows(self._reply(query), self.schema, names)

    def _reply(self, query: Query) -> Any:
        try:
            return self._perform(self._search_call(query))
        except redis.ResponseError as exc:
            if not _VECTOR_SIZE_CHANGED.search(str(exc)):
                raise
            fresh = IndexSchema.from_existing(self.client, self.name, key_separator=self._sep)
            if not self._adopt(fresh):
                raise
        return self._perform(self._search_call(query))

    def hybrid_search(self, query: HybridQuery) -> HybridResult:
        """BM25 and vector search fused into one ranking (see `redisvec.hybrid`)."""
        return self._run(self._hybrid_op(query))

    def iter_keys(self, filter: Filter = None, *, batch_size: int = 1000) -> Iterator[list[str]]:
        """Every key matching ``filter``, a batch at a time, with a server-side cursor: unlike
        ``LIMIT`` paging it is not capped by the server's MAXSEARCHRESULTS."""
        cursor: int | None = None
        while cursor != 0:
            keys, cursor = self._run(self._page_op(filter, batch_size, cursor))
            if keys:
                yield keys

    def paginate(self, query: FilterQuery, page_size: int = 100) -> Iterator[SearchResult]:
        """Pages of a filter query (``LIMIT`` paging: capped by MAXSEARCHRESULTS)."""
        offset = query.offset
        while True:
            page = self.search(replace(query, offset=offset, limit=page_size))
            if page.hits:
                yield page
            offset += page_size
            if len(page.hits) < page_size or offset >= page.total:
                return

    def delete_where(self, filter: Filter = None) -> int:
        """Delete every record matching ``filter`` (all of the index's records when None)."""
        return self._run(self._delete_where_op(filter))

    def clear(self) -> int:
        """Delete every record of the index; the index itself stays."""
        return self.delete_where(None)


class AsyncSearchIndex(_IndexCore[AsyncClient]):
    """The async twin of `SearchIndex`, on ``redis.asyncio``."""

    @classmethod
    async def from_existing(cls, client: AsyncClient, name: str) -> AsyncSearchIndex:
        try:
            schema = await IndexSchema.afrom_existing(client, name)
        except redis.ResponseError as exc:
            raise translate_server_error(exc, name) from exc
        return cls(schema, client)

    async def _run(self, op: Op[T]) -> T:
        """Drive an operation with awaits."""
        writer: AsyncBatchWriter | None = None
        queued: deque[Sequence[tuple[Any, ...]]] = deque()
        try:
            request = next(op)
            while True:
                try:
                    if isinstance(request, _Send):
                        if self._queue(request, queued):
                            writer = writer or await AsyncBatchWriter.open(self.client)  # type: ignore[arg-type]
                            await writer.send(request.commands)
                        reply = None
                    elif isinstance(request, _Receive) and queued:
                        pipeline = _Pipeline(queued.popleft(), raise_on_error=False)
                        reply = await self._perform(pipeline)
                    elif isinstance(request, _Receive):
                        reply = await writer.receive()  # type: ignore[union-attr]
                    else:
                        reply = await self._perform(request)
                except Exception as exc:
                    request = op.throw(exc)
                else:
                    request = op.send(reply)
        except StopIteration as stop:
            result: T = stop.value
            return result
        finally:
            if writer is not None:
                await writer.close()

    async def _perform(self, request: _Request) -> Any:
        if isinstance(request, _Call):
            try:
                return await self.client.execute_command(*request.args)  # type: ignore[no-untyped-call]
            except redis.ResponseError as exc:
                raise translate_server_error(exc, self.name, request.args) from exc
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                if isinstance(exc, ConnectionFailedError):
                    raise
                raise connection_error(self.client, exc) from exc
        if isinstance(request, _Pipeline):
            pipe = self.client.pipeline(transaction=request.transaction)
            for command in request.commands:
                pipe.execute_command(*command)  # not .unlink() & co: coroutines on a cluster
            return await pipe.execute(raise_on_error=request.raise_on_error)
        await asyncio.sleep(request.seconds)
        return None

    async def exists(self, *, check: bool = False) -> bool:
        return await self._run(self._exists_op(check))

    async def create(
        self,
        *,
        exist_ok: bool = True,
        overwrite: bool = False,
        drop_documents: bool = False,
        allow_shared_prefix: bool = False,
    ) -> None:
        await self._run(self._create_op(exist_ok, overwrite, drop_documents, allow_shared_prefix))

    async def drop(
        self, *, delete_documents: bool = False, timeout: float = 60.0, force: bool = False
    ) -> None:
        await self._run(self._drop_op(delete_documents, timeout, force))

    async def info(self) -> IndexInfo:
        return await self._run(self._info_op())

    async def wait_indexed(self, timeout: float = 60.0) -> IndexInfo:
        return await self._run(wait_indexed_op(self.name, timeout))

    async def check_schema(self) -> None:
        await self._run(self._check_schema_op())

    async def load(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        ids: Sequence[str] | None = None,
        id_field: str | None = None,
        keys: Sequence[str] | None = None,
        ttl: int | None = None,
        batch_size: int = 500,
        progress: Progress | None = None,
    ) -> list[str]:
        return await self._run(
            self._load_op(records, ids, id_field, keys, ttl, batch_size, progress)
        )

    async def fetch(self, ids: Sequence[str]) -> list[dict[str, Any] | None]:
        check_id_list(ids, "ids")
        return await self._run(self._fetch_op(ids))

    async def delete(self, ids: Sequence[str]) -> int:
        check_id_list(ids, "ids")
        return await self._delete_keys([self.schema.key(i) for i in ids])

    async def _delete_keys(self, keys: Sequence[str]) -> int:
        return await self._run(self._delete_keys_op(keys))

    async def count(self, filter: Filter = None) -> int:
        return (await self.search(CountQuery(filter))).total

    async def search(self, query: Query) -> SearchResult:
        return self._parse(query, await self._reply(query))

    async def search_rows(self, query: Query, names: Sequence[str]) -> Rows:
        return read_rows(await self._reply(query), self.schema, names)

    async def _reply(self, query: Query) -> Any:
        try:
            return await self._perform(self._search_call(query))
        except redis.ResponseError as exc:
            if not _VECTOR_SIZE_CHANGED.search(str(exc)):
                raise
            fresh = await IndexSchema.afrom_existing(
                self.client, self.name, key_separator=self._sep
            )
            if not self._adopt(fresh):
                raise
        return await self._perform(self._search_call(query))

    async def hybrid_search(self, query: HybridQuery) -> HybridResult:
        return await self._run(self._hybrid_op(query))

    async def iter_keys(
        self, filter: Filter = None, *, batch_size: int = 1000
    ) -> AsyncIterator[list[str]]:
        cursor: int | None = None
        while cursor != 0:
            keys, cursor = await self._run(self._page_op(filter, batch_size, cursor))
            if keys:
                yield keys

    async def paginate(
        self, query: FilterQuery, page_size: int = 100
    ) -> AsyncIterator[SearchResult]:
        offset = query.offset
        while True:
            page = await self.search(replace(query, offset=offset, limit=page_size))
            if page.hits:
                yield page
            offset += page_size
            if len(page.hits) < page_size or offset >= page.total:
                return

    async def delete_where(self, filter: Filter = None) -> int:
        return await self._run(self._delete_where_op(filter))

    async def clear(self) -> int:
        return await self.delete_where(None)
