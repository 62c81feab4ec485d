"""Every error redisvec raises derives from `RedisVecError`.

Each subclass also derives from the builtin a caller would naturally catch (`ValueError` for bad
input, `LookupError` for a missing index), so ``except ValueError`` keeps working.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import redis.exceptions

__all__ = [
    "SEARCH_SERVERS",
    "BatchWriteError",
    "ConnectionFailedError",
    "FileError",
    "FilterError",
    "HybridFallbackWarning",
    "IndexNotFoundError",
    "KeySpaceError",
    "PermissionDeniedError",
    "PortTakenError",
    "QueryTimeoutError",
    "RedisVecError",
    "ReplyTimeoutError",
    "ResultLimitError",
    "SchemaError",
    "SchemaMismatchError",
    "SearchUnavailableError",
    "ServerNotFoundError",
    "VectorError",
    "WriteDeniedError",
    "already_exists",
    "denied_text",
    "is_missing_index",
    "translate_server_error",
]


class RedisVecError(Exception):
    """Base class of redisvec's errors."""


class SchemaError(RedisVecError, ValueError):
    """An index schema (or a field in it) is invalid."""


class VectorError(RedisVecError, ValueError):
    """A vector has the wrong dimension, a non-finite value, is all zeros on a COSINE field, or
    cannot be converted. ``row``: the position in its batch of the vector at fault, if one is."""

    def __init__(self, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


class FilterError(RedisVecError, ValueError):
    """A filter names an unknown field, uses an operator its field type lacks, or has a bad value."""


class SchemaMismatchError(RedisVecError, ValueError):
    """An existing index disagrees with the schema that was asked for."""


class KeySpaceError(RedisVecError, ValueError):
    """Two indexes would cover the same keys, or an index would cover every key.

    Two indexes whose prefixes overlap (``kb:`` and ``kb:staging:``) both index every document
    under the longer one: each searches the other's documents, and dropping one with its
    documents deletes the other's. Creating such an index, or dropping one with its documents
    while another covers some of them, is refused unless asked for (``allow_shared_prefix=True``
    / ``force=True``). The message names both indexes and their prefixes.
    """


class IndexNotFoundError(RedisVecError, LookupError):
    """The index does not exist on the server."""


class ConnectionFailedError(RedisVecError, redis.exceptions.ConnectionError):
    """The server could not be reached or refused the credentials (message names the masked URL).

    Also a ``redis.exceptions.ConnectionError``, so existing ``except`` clauses keep working.
    """


class ReplyTimeoutError(RedisVecError, redis.exceptions.TimeoutError):
    """A connected server did not answer within the client's ``socket_timeout``.

    Not a `ConnectionFailedError`: the endpoint works, the command was slower than the client
    waits (a large load or KNN, a busy or paused server). The message names the ``socket_timeout``
    in force and how to raise it. Also a ``redis.exceptions.TimeoutError``.
    """


class ResultLimitError(RedisVecError, redis.exceptions.ResponseError, ValueError):
    """A query asked for more results than the server returns for one query (MAXSEARCHRESULTS).

    Also the ``redis.exceptions.ResponseError`` the server's refusal was before.
    """


class HybridFallbackWarning(UserWarning):
    """A hybrid query ran another way than asked: its text had no word to search for (it ran
    as a vector search), or the server refused ``FT.HYBRID`` (it ran as two pipelined legs)."""


class SearchUnavailableError(RedisVecError):
    """The server has no Query Engine (search module)."""


class ServerNotFoundError(RedisVecError, RuntimeError):
    """No redis-server with search could be found or started for `redisvec.server.LocalRedis`."""


class PortTakenError(RedisVecError, RuntimeError):
    """The port `redisvec.server.LocalRedis` chose was taken before its server bound it.

    `LocalRedis.start` catches it and tries another free port (another process may take the
    port between the probe and the bind).
    """


class FileError(RedisVecError, ValueError):
    """A file the command line was given cannot be used; the message names file and line."""


class IndexingTimeoutError(RedisVecError, TimeoutError):
    """An index was still indexing its existing documents when `SearchIndex.wait_indexed` (or a
    rebuild, `redisvec.evolve`) stopped waiting. Also a ``TimeoutError``."""


class QueryTimeoutError(RedisVecError, TimeoutError):
    """The server stopped a query at its time limit and would have returned partial results.

    The Query Engine's default (``ON_TIMEOUT RETURN``, ``TIMEOUT 500`` ms) hands back whatever it
    found so far, which for a KNN query means wrong neighbours presented as the answer. On RESP3
    the reply says so and redisvec raises this instead; RESP2 replies carry no such warning.
    """


class BatchWriteError(RedisVecError):
    """Some records of a load were not written.

    Every id of the call that is not in ``failed_ids`` was written (``written_ids``). Of
    ``failed_ids``, those not in ``unconfirmed_ids`` are certainly not stored (refused by the
    server, with the reason in ``errors``, or never sent). ``unconfirmed_ids`` are the records sent
    whose replies were not read when the connection was lost (at most two batches: the loader
    sends the next batch before it reads the last one's replies): the client cannot know which of
    them the server applied. Running the same load again is safe either way (upsert).
    """

    def __init__(
        self,
        message: str,
        failed_ids: Sequence[str],
        errors: Sequence[BaseException | str] = (),
        written_ids: Sequence[str] = (),
        unconfirmed_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.failed_ids = list(failed_ids)
        self.errors = list(errors)
        self.written_ids = list(written_ids)
        self.unconfirmed_ids = list(unconfirmed_ids)


class PermissionDeniedError(RedisVecError, PermissionError):
    """The Redis (ACL) user may not run a command redisvec needs (the server said ``NOPERM``).

    The message names the index, the refused command and the ACL rule to grant. Retrying cannot
    help, which is why this is not a connection error.
    """


class WriteDeniedError(PermissionDeniedError, BatchWriteError):
    """A load stopped at the first batch whose writes the ACL user may not make.

    ``failed_ids`` / ``written_ids`` as in `BatchWriteError`; the remaining batches were not sent.
    """


# --- translating the server's refusals --------------------------------------------------------

SEARCH_SERVERS = (
    "Redis 8 or later (open source), Redis Stack, Redis Cloud, Redis Enterprise, "
    "or Azure Managed Redis created with the RediSearch module"
)

_MISSING_INDEX = re.compile(r"unknown index|no such index|not found|index .*does not exist", re.I)
_UNKNOWN_COMMAND = re.compile(r"unknown command|unknown subcommand", re.I)
_LIMIT_EXCEEDED = re.compile(r"LIMIT exceeds maximum of (\d+)", re.IGNORECASE)


def is_missing_index(exc: BaseException) -> bool:
    """Whether a server error says the index does not exist (the wording differs by version)."""
    return _MISSING_INDEX.search(str(exc)) is not None


def already_exists(exc: BaseException) -> bool:
    """Whether ``FT.CREATE`` was refused because the index exists (another client won a race)."""
    return "already exists" in str(exc).lower()


def denied_text(index: str, text: str) -> str:
    """The message of a ``NOPERM`` refusal: what was refused and the ACL rule to grant."""
    return (
        f"the Redis user may not do this on index {index!r}: NOPERM {text}. Grant the ACL user the "
        "command (e.g. ACL SETUSER <user> +@write +@search +@transaction +@scripting "
        "~<key prefix>*: loads run MULTI/EXEC, or EVAL on a cluster) or use another user"
    )


_TIMEOUT_ADVICE = (
    "the server stopped the query at its time limit ({said}) and would have returned partial "
    "results; raise the limit (FT.CONFIG SET TIMEOUT <ms>, or TIMEOUT on managed services' "
    "module arguments), ask for fewer results, or make the server fail instead (ON_TIMEOUT FAIL)"
)


def _limit_asked(args: Sequence[Any]) -> Any:
    """The count of the command's ``LIMIT offset count`` (the last one: a vector's bytes, earlier
    in the command, could spell it), as str or bytes; "more" without one."""
    for i in range(len(args) - 3, -1, -1):
        if args[i] in ("LIMIT", b"LIMIT"):
            count = args[i + 2]
            return count.decode() if isinstance(count, bytes) else count
    return "more"


def translate_server_error(
    exc: redis.exceptions.ResponseError, index: str, args: Sequence[Any] = ()
) -> Exception:
    """A server error about a missing command or index, a refused LIMIT (``args``: the command
    sent) or a ``NOPERM`` -> our error, else the original."""
    text = str(exc)
    limit = _LIMIT_EXCEEDED.search(text)
    if limit is not None:
        asked = _limit_asked(args)
        return ResultLimitError(
            f"index {index!r}: the query asks for {asked} results (its k or limit; fetch_k for "
            f"MMR), but the server returns at most {limit.group(1)} per query (its MAXSEARCHRESULTS; "
            f"it said: {text}). Ask for at most that many, or raise the server's limit "
            "(FT.CONFIG SET MAXSEARCHRESULTS <n>; hosted plans may not allow it)"
        )
    if isinstance(exc, redis.exceptions.NoPermissionError):
        return PermissionDeniedError(denied_text(index, text))
    if _UNKNOWN_COMMAND.search(text) and "FT." in text.upper():
        return SearchUnavailableError(
            f"the server has no search module (Query Engine): {text}. Vector search needs "
            f"{SEARCH_SERVERS}."
        )
    if _MISSING_INDEX.search(text):
        return IndexNotFoundError(f"index {index!r} does not exist on the server ({text})")
    if "timeout limit was reached" in text.lower():
        # What the server says instead of a reply when a query timed out before it had any
        # partial result to return (or under ON_TIMEOUT FAIL): the same event as the warning.
        return QueryTimeoutError(f"index {index!r}: {_TIMEOUT_ADVICE.format(said=text)}")
    return exc
