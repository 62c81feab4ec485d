"""`MessageStore`: chat sessions on Redis, one HASH per message, for both adapters' chat histories.

A message is stored opaque (``payload``: the framework's own JSON for it) next to what the store
needs: its session, its role, its text (a TEXT field, so past messages can be searched) and its
position. Positions come from a per-session counter (``INCRBY``), so the order is the server's,
whichever client wrote; a session's messages are read with a filter query sorted by position.

Sessions are matched by the SHA-256 of their id (an exact-match tag), so ids that Redis tags would
confuse (case, surrounding whitespace, separators) stay distinct sessions; the id itself is
stored, and `sessions` lists ids with ``FT.AGGREGATE ... GROUPBY``.

Keys: ``<prefix><session hash>:<position>`` per message and ``<prefix>seq:<session hash>`` for the
counter: every command names one key, so keys may live on any cluster node. With a ``ttl`` each
message (and the counter) expires that many seconds after it was written.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redisvec._resp import to_str
from redisvec._steps import Op, Step, arun, run
from redisvec.connection import Connections
from redisvec.errors import IndexNotFoundError, is_missing_index
from redisvec.filters import FilterExpression, Tag
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.query import FilterQuery, TextQuery
from redisvec.schema import IndexSchema, NumericField, TagField, TextField

__all__ = ["MessageStore", "StoredMessage"]

_PAGE = 1000
_FIELDS = ["session", "role", "payload", "seq"]


@dataclass(frozen=True)
class StoredMessage:
    """One stored message: its id (key without the prefix), session, position, role and the
    payload it was written with."""

    id: str
    session: str
    seq: int
    role: str
    payload: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _check_session(session: object) -> str:
    if not isinstance(session, str) or not session:
        raise ValueError(f"a session id must be a non-empty string, got {session!r}")
    return session


class MessageStore:
    """Chat sessions in index ``name`` (keys under ``key_prefix``, default ``<name>:``), on
    ``connections``; ``ttl`` in seconds. Sync methods and their ``a``-prefixed twins."""

    def __init__(
        self,
        connections: Connections,
        *,
        name: str = "chat_history",
        key_prefix: str | None = None,
        ttl: int | None = None,
        allow_shared_prefix: bool = False,
    ) -> None:
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl < 1):
            raise ValueError(f"ttl must be a whole number of seconds >= 1 or None, got {ttl!r}")
        self.connections = connections
        self.ttl = ttl
        self.allow_shared_prefix = allow_shared_prefix
        self.schema = IndexSchema(
            name,
            prefixes=(key_prefix if key_prefix is not None else f"{name}:",),
            key_separator="",
            fields=(
                TagField("session_tag", case_sensitive=True),
                TagField("role"),
                TextField("content"),
                NumericField("seq", sortable=True),
            ),
        )
        self._created = False
        self._sync: SearchIndex | None = None
        self._async: AsyncSearchIndex | None = None

    def __repr__(self) -> str:
        return f"<MessageStore {self.schema.name!r} prefix={self.schema.key_prefix!r}>"

    # -- no I/O ----------------------------------------------------------------------------------

    def _counter(self, session: str) -> str:
        return f"{self.schema.key_prefix}seq:{_digest(session)}"

    @staticmethod
    def _where(session: str | None) -> FilterExpression | None:
        return None if session is None else Tag("session_tag") == _digest(_check_session(session))

    @staticmethod
    def _message(hit: Any) -> StoredMessage:
        f = hit.fields
        return StoredMessage(
            id=hit.id,
            session=str(f.get("session", "")),
            seq=int(float(f.get("seq", 0))),
            role=str(f.get("role", "")),
            payload=str(f.get("payload", "")),
        )

    @staticmethod
    def _groups(reply: Any) -> list[str]:
        """Session ids of one FT.AGGREGATE page, RESP2 or RESP3."""
        if isinstance(reply, Mapping):
            rows = reply.get(b"results", reply.get("results", []))
            attrs = [r.get(b"extra_attributes", r.get("extra_attributes", {})) for r in rows]
            values = [a.get(b"session", a.get("session")) for a in attrs]
        else:
            values = [dict(zip(row[::2], row[1::2])).get(b"session") for row in reply[1:]]
        return [to_str(v) for v in values if v is not None]

    # -- operations, written once ----------------------------------------------------------------

    def _ensure(self) -> Op[None]:
        if not self._created:
            yield Step("index", "create", kwargs={"allow_shared_prefix": self.allow_shared_prefix})
            self._created = True

    def _append_op(
        self, session: str, messages: Sequence[tuple[str, str, str]]
    ) -> Op[list[StoredMessage]]:
        """``messages``: (role, text, payload) each."""
        _check_session(session)
        if not messages:
            return []
        yield from self._ensure()
        counter = self._counter(session)
        last = int((yield Step("client", "incrby", (counter, len(messages)))))
        if self.ttl is not None:
            yield Step("client", "expire", (counter, self.ttl))
        tag, now = _digest(session), time.time()
        first = last - len(messages) + 1
        stored = [
            StoredMessage(f"{tag}:{first + i:012d}", session, first + i, role, payload)
            for i, (role, _, payload) in enumerate(messages)
        ]
        records = [
            {
                "session_tag": tag,
                "session": session,
                "role": m.role or None,
                "content": text,
                "payload": m.payload,
                "seq": m.seq,
                "created_at": now,
            }
            for m, (_, text, _) in zip(stored, messages)
        ]
        yield Step("index", "load", (records,), {"ids": [m.id for m in stored], "ttl": self.ttl})
        return stored

    def _read_op(self, session: str, last: int | None) -> Op[list[StoredMessage]]:
        where = self._where(session)
        if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 0):
            raise ValueError(f"last must be a whole number >= 0 or None, got {last!r}")
        if last == 0:
            return []
        out: list[StoredMessage] = []
        offset = 0
        while True:
            limit = _PAGE if last is None else min(_PAGE, last - len(out))
            query = FilterQuery(
                where,
                return_fields=_FIELDS,
                offset=offset,
                limit=limit,
                sort_by="seq",
                ascending=last is None,
            )
            try:
                page = yield Step("index", "search", (query,))
            except IndexNotFoundError:
                return []
            out += [self._message(h) for h in page.hits]
            offset += limit
            if len(page.hits) < limit or (last is not None and len(out) >= last):
                break
        return out if last is None else out[::-1]

    def _delete_op(self, session: str, ids: Sequence[str] | None) -> Op[int]:
        """The messages ``ids`` of ``session``; all of them (and its counter) when None."""
        if ids is not None:
            deleted: int = yield Step("index", "delete", (list(ids),))
            return deleted
        where = self._where(session)
        try:
            deleted = yield Step("index", "delete_where", (where,))
        except IndexNotFoundError:
            deleted = 0
        yield Step("client", "unlink", (self._counter(session),))
        return deleted

    def _sessions_op(self) -> Op[list[str]]:
        found: list[str] = []
        offset = 0
        while True:
            args = (
                "FT.AGGREGATE", self.schema.name, "*", "LOAD", 1, "@session",
                "GROUPBY", 1, "@session", "SORTBY", 2, "@session", "ASC",
                "LIMIT", offset, _PAGE, "DIALECT", 2,
            )  # fmt: skip
            try:
                page = self._groups((yield Step("client", "execute_command", args)))
            except Exception as exc:
                if is_missing_index(exc):
                    return []
                raise
            found += page
            offset += _PAGE
            if len(page) < _PAGE:
                return found

    def _search_op(self, text: str, session: str | None, k: int) -> Op[list[StoredMessage]]:
        query = TextQuery(
            text, k=k, text_field="content", filter=self._where(session), return_fields=_FIELDS
        )
        try:
            found = yield Step("index", "search", (query,))
        except IndexNotFoundError:
            return []
        return [self._message(h) for h in found.hits]

    # -- runners ---------------------------------------------------------------------------------

    def _targets(self) -> dict[str, Any]:
        if self._sync is None:
            self._sync = SearchIndex(self.schema, self.connections.sync)
        return {"index": self._sync, "client": self.connections.sync}

    def _atargets(self) -> dict[str, Any]:
        if self._async is None:
            self._async = AsyncSearchIndex(self.schema, self.connections.async_)
        return {"index": self._async, "client": self.connections.async_}

    def append(self, session: str, messages: Sequence[tuple[str, str, str]]) -> list[StoredMessage]:
        """Add ``messages`` (``(role, text, payload)`` each) at the end of ``session``."""
        return run(self._append_op(session, messages), self._targets())

    def read(self, session: str, *, last: int | None = None) -> list[StoredMessage]:
        """The session's messages, oldest first (only the ``last`` n when given)."""
        return run(self._read_op(session, last), self._targets())

    def delete(self, session: str, ids: Sequence[str] | None = None) -> int:
        """Delete messages ``ids`` of the session, or the whole session when None."""
        return run(self._delete_op(session, ids), self._targets())

    def sessions(self) -> list[str]:
        """Every session id that has messages, sorted."""
        return run(self._sessions_op(), self._targets())

    def search(self, text: str, *, session: str | None = None, k: int = 10) -> list[StoredMessage]:
        """Messages whose text matches words of ``text`` (BM25, best first), of one session or
        of all."""
        return run(self._search_op(text, session, k), self._targets())

    def drop(self) -> None:
        """Drop the index and every message (counters expire with their ttl, or stay)."""
        self._targets()["index"].drop(delete_documents=True)
        self._created = False

    async def aappend(
        self, session: str, messages: Sequence[tuple[str, str, str]]
    ) -> list[StoredMessage]:
        return await arun(self._append_op(session, messages), self._atargets())

    async def aread(self, session: str, *, last: int | None = None) -> list[StoredMessage]:
        return await arun(self._read_op(session, last), self._atargets())

    async def adelete(self, session: str, ids: Sequence[str] | None = None) -> int:
        return await arun(self._delete_op(session, ids), self._atargets())

    async def asessions(self) -> list[str]:
        return await arun(self._sessions_op(), self._atargets())

    async def asearch(
        self, text: str, *, session: str | None = None, k: int = 10
    ) -> list[StoredMessage]:
        return await arun(self._search_op(text, session, k), self._atargets())

    async def adrop(self) -> None:
        await self._atargets()["index"].drop(delete_documents=True)
        self._created = False
