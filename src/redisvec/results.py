"""Typed search results, parsed from RESP2 or RESP3 ``FT.SEARCH`` replies, and score conventions.

Distances are the server's own (lower is closer). `similarity` turns one into a relevance in
[0, 1], higher is closer, with one documented definition per metric, so both adapters report the
same numbers for the same hit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from redisvec.errors import _TIMEOUT_ADVICE, QueryTimeoutError
from redisvec.memo import ReplyPlanKey, memo_put
from redisvec.query import DISTANCE_ALIAS, codec_for

if TYPE_CHECKING:
    from redisvec.schema import IndexSchema

__all__ = [
    "Hit",
    "Rows",
    "SearchResult",
    "distance_to_similarity",
    "parse_search_reply",
    "read_rows",
    "similarity_function",
]


def distance_to_similarity(distance: float, metric: str) -> float:
    """A relevance in [0, 1] (higher is closer) from the server's distance for ``metric``.

    - ``cosine``: distance is ``1 - cos(a, b)``; similarity is ``cos(a, b)`` clipped to [0, 1]
      (``1 - distance``, what LangChain and LlamaIndex call cosine relevance).
    - ``ip``: distance is ``1 - a·b``; similarity is ``a·b`` clipped to [0, 1] (for normalized
      embeddings, the same number as cosine).
    - ``l2``: distance is the *squared* Euclidean distance; similarity is ``1 / (1 + ‖a - b‖)``,
      which is 1 for identical vectors and tends to 0 far away, whatever the scale.
    """
    return similarity_function(metric)(distance)


def similarity_function(metric: str) -> Callable[[float], float]:
    """`distance_to_similarity` for one ``metric``, looked up once for all the hits of a result."""
    metric = metric.lower()
    if metric in ("cosine", "ip"):
        return _one_minus
    if metric == "l2":
        return _inverse_euclidean
    raise ValueError(f"unknown distance metric {metric!r}; use cosine, l2 or ip")


def _one_minus(distance: float) -> float:
    return min(1.0, max(0.0, 1.0 - distance))


def _inverse_euclidean(distance: float) -> float:
    return 1.0 / (1.0 + math.sqrt(max(distance, 0.0)))


@dataclass(slots=True)
class Hit:
    """One record of a result: its id (key without the index's prefix), fields and distance.

    Not frozen, with slots: a frozen dataclass's ``__init__`` sets each attribute through
    ``object.__setattr__``, several times slower, and every hit of every query builds one."""

    id: str
    key: str
    fields: dict[str, Any] = field(default_factory=dict)
    distance: float | None = None
    score: float | None = None
    vector: npt.NDArray[Any] | None = None


@dataclass(frozen=True)
class SearchResult:
    """A page of hits and the total number of matches on the server."""

    total: int
    hits: list[Hit]

    def __iter__(self) -> Any:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


def _text(value: Any) -> Any:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return value
    return value


_RESULTS = (b"results", "results")
_ATTRIBUTES = (b"extra_attributes", "extra_attributes")
_SCORE = (b"score", "score")
_ID = (b"id", "id")
_TOTAL = (b"total_results", "total_results")
_WARNING = (b"warning", "warning")


@dataclass(frozen=True, slots=True)
class Rows:
    """A page of hits as plain tuples, ``(id, distance, value, ...)`` with the values of the
    fields asked for in their order (`read_rows`), and the total number of matches."""

    total: int
    rows: list[tuple[Any, ...]]

    def __iter__(self) -> Any:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


class _Plan:
    """What parsing needs from a schema, worked out once per schema rather than once per reply:
    the key prefix(es) to strip, the vector field's name, the storage, and the decoded field names
    of earlier replies (a dict lookup is cheaper than decoding the same name for every hit)."""

    __slots__ = ("is_json", "names", "prefix", "prefixes", "row_readers", "vector", "vector_names")

    def __init__(self, schema: IndexSchema) -> None:
        # `IndexSchema.id_from_key`'s prefixes: non-empty, longest first
        self.prefixes = [p for p in sorted(schema.key_prefixes, key=len, reverse=True) if p]
        self.prefix = self.prefixes[0] if len(self.prefixes) == 1 else None
        self.is_json = schema.storage == "json"
        self.vector = schema.vector_fields[0] if schema.vector_fields else None
        name = self.vector.name if self.vector is not None else ""
        self.vector_names = (name.encode(), name)
        self.names: dict[bytes, str] = {}  # field names as the replies send them -> decoded
        # `read_rows`' loop for each tuple of names, and the names as the replies send them
        self.row_readers: dict[tuple[str, ...], tuple[_RowReader, list[bytes]]] = {}


def _plan(schema: IndexSchema) -> _Plan:
    memo = schema.memo(ReplyPlanKey)
    plan: _Plan | None = memo.get(_PLAN)
    if plan is None:
        plan = memo[_PLAN] = _Plan(schema)
    return plan


_PLAN = ReplyPlanKey()


def _resp2_items(reply: list[Any], with_scores: bool, b: int) -> list[dict[Any, Any]]:
    """RESP2's flat ``key, [score], [fields], key, ...`` as RESP3's items."""
    id_, score_, attributes = _ID[b], _SCORE[b], _ATTRIBUTES[b]
    items = []
    i, n = 1, len(reply)
    while i < n:
        item = {id_: reply[i]}
        i += 1
        if with_scores:
            item[score_] = reply[i]
            i += 1
        if i < n and isinstance(reply[i], list):
            pairs = iter(reply[i])
            item[attributes] = dict(zip(pairs, pairs))
            i += 1
        items.append(item)
    return items


def _raise_on_timeout(warnings: list[Any]) -> None:
    if any("timeout" in str(w).lower() for w in warnings):
        raise QueryTimeoutError(_TIMEOUT_ADVICE.format(said="; ".join(map(str, warnings))))


def parse_search_reply(
    reply: Any,
    schema: IndexSchema,
    *,
    with_scores: bool = False,
    decode_vector: bool = False,
) -> SearchResult:
    """Turn a raw ``FT.SEARCH`` reply, RESP3 or RESP2, into `Hit`s.

    Field values are decoded as UTF-8 text (bytes that are not text stay bytes). On JSON storage a
    reply without RETURN carries the whole document under ``$``, which is parsed into the fields.
    The vector field is taken out of ``fields`` (before decoding: it is binary); it becomes
    ``Hit.vector`` when ``decode_vector``.

    This runs for every query: what depends only on the schema is in its cached `_Plan`, what
    depends on the reply (bytes, or str on a decode_responses client) is decided once per reply,
    and the loop does only what each hit needs.
    """
    if isinstance(reply, dict):  # RESP3
        b = 0 if isinstance(next(iter(reply), b""), bytes) else 1
        warnings = reply.get(_WARNING[b])
        if warnings:
            _raise_on_timeout([_text(w) for w in warnings])
        total = int(reply.get(_TOTAL[b]) or 0)
        items = reply.get(_RESULTS[b]) or ()
    else:  # RESP2: total, key, [score], [fields], key, ...
        b = 0 if len(reply) < 2 or isinstance(reply[1], bytes) else 1
        total = int(reply[0])
        items = _resp2_items(reply, with_scores, b)
    plan = _plan(schema)
    vf = plan.vector
    codec = codec_for(schema, vf) if vf is not None and decode_vector else None
    is_json, prefix, names = plan.is_json, plan.prefix, plan.names
    vector_name = plan.vector_names[b]
    key_, attributes = _ID[b], _ATTRIBUTES[b]
    score_ = _SCORE[b] if with_scores else None
    hits = []
    for item in items:
        raw = item.get(attributes) or {}
        vector_raw = None
        if vector_name in raw:  # taken out before decoding (it is binary), from a copy
            raw = dict(raw)
            vector_raw = raw.pop(vector_name)
        try:  # the common case: names seen before, UTF-8 values and key
            fields = {names[k]: v.decode() for k, v in raw.items()}
            key = item[key_].decode()
        except (KeyError, AttributeError, UnicodeDecodeError):
            fields = _fields(raw, names)
            key = _text(item[key_])
        distance = fields.pop(DISTANCE_ALIAS, None)
        if is_json and "$" in fields:
            document = json.loads(fields.pop("$"))
            rest = fields
            fields = document if isinstance(document, dict) else {"$": document}
            if vf is not None:
                vector_raw = fields.pop(vf.name, vector_raw)
            fields.update(rest)
        if prefix is None:
            id_ = _strip(key, plan.prefixes)
        else:
            id_ = key[len(prefix) :] if key.startswith(prefix) else key
        vector = None
        if codec is not None and vector_raw is not None:
            vector = _decode_vector(vector_raw, codec, is_json)
        score = item.get(score_)
        hits.append(
            Hit(
                id_,
                key,
                fields,
                None if distance is None else float(distance),
                None if score is None else float(score),
                vector,
            )
        )
    return SearchResult(total, hits)


def read_rows(reply: Any, schema: IndexSchema, names: Sequence[str]) -> Rows:
    """The hits of an ``FT.SEARCH`` reply as ``(id, distance, value, ...)`` tuples: the values of
    ``names`` in that order, decoded like `parse_search_reply`'s fields (None where a hit has no
    such field; the distance is None without a vector clause).

    For callers that turn every hit into objects of their own (the adapters' Documents and
    nodes): the common reply (RESP3 or RESP2 from a bytes client, UTF-8 values, one key prefix)
    is read in one pass without a `Hit` and a dict of every field per hit; any other reply goes
    through `parse_search_reply`, so the rows are the same either way. ``names`` must not hold a
    vector field (its bytes are not text: ask `parse_search_reply` with ``decode_vector``)."""
    plan = _plan(schema)
    key = tuple(names)
    cached = plan.row_readers.get(key)
    if cached is None:
        if "$" in key or {vf.name for vf in schema.vector_fields} & set(key):
            raise ValueError(
                f"read_rows reads text fields; {names!r} holds the vector field or '$' "
                "(use parse_search_reply for those)"
            )
        cached = (_row_reader(len(key)), [n.encode() for n in key])
        memo_put(plan.row_readers, key, cached, bound=64)
    reader, wanted = cached
    if plan.prefix is not None:
        hits = _bytes_hits(reply, plan.is_json)
        if hits is not None:
            try:
                rows = reader(hits[1], plan.prefix, wanted)
            except (AttributeError, UnicodeDecodeError, ValueError):
                pass  # values that are not UTF-8 text: the general path keeps them as bytes
            else:
                return Rows(hits[0], rows)
    result = parse_search_reply(reply, schema)
    return Rows(
        result.total,
        [(hit.id, hit.distance, *map(hit.fields.get, key)) for hit in result.hits],
    )


def _bytes_hits(reply: Any, is_json: bool) -> tuple[int, list[tuple[Any, Any]]] | None:
    """The total and each hit's ``(key, {field: value})`` of a reply from a bytes client, or None
    for any other (a str reply, a RESP3 warning, NOCONTENT, WITHSCORES, whole JSON documents)."""
    try:
        if isinstance(reply, dict):
            if reply.get(b"warning") or b"results" not in reply:
                return None
            total = int(reply.get(b"total_results") or 0)
            hits = [(item[b"id"], item[b"extra_attributes"]) for item in reply[b"results"]]
        else:  # RESP2: total, key, [field, value, ...], key, ...
            total = int(reply[0])
            hits = []
            for i in range(1, len(reply), 2):
                if type(reply[i + 1]) is not list:
                    return None
                flat = iter(reply[i + 1])
                hits.append((reply[i], dict(zip(flat, flat))))
    except (KeyError, TypeError, IndexError, ValueError):
        return None
    if is_json and any(b"$" in fields for _, fields in hits):
        return None  # whole documents: their fields are inside
    return total, hits


#: `read_rows`' loop for ``n`` fields, written out once per ``n`` (a comprehension per hit, or a
#: loop over the names, costs more than the rest of the row): ``reader(hits, prefix, names)``.
_READER = """
def read(hits, prefix, names):
    cut = len(prefix)
    {unpack}
    rows = []
    append = rows.append
    for raw_key, fields in hits:
        key = raw_key.decode()
        distance = fields.get({distance!r})
        {gets}
        append((
            key[cut:] if key.startswith(prefix) else key,
            None if distance is None else float(distance),
            {values}
        ))
    return rows
"""


_RowReader = Callable[[list[tuple[Any, Any]], str, list[bytes]], list[tuple[Any, ...]]]


def _row_reader(n: int) -> _RowReader:
    source = _READER.format(
        unpack=f"({''.join(f'n{i}, ' for i in range(n))}) = names" if n else "",
        distance=DISTANCE_ALIAS.encode(),
        gets="; ".join(f"v{i} = fields.get(n{i})" for i in range(n)) or "pass",
        values="".join(f"None if v{i} is None else v{i}.decode(), " for i in range(n)),
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, f"<redisvec read_rows, {n} fields>", "exec"), namespace)
    return namespace["read"]  # type: ignore[no-any-return]


def _fields(raw: dict[Any, Any], names: dict[bytes, str]) -> dict[str, Any]:
    """The slow path: names and values decoded as UTF-8 text where they are text (bytes that are
    not stay bytes, values that are not bytes stay as they are). Learns the names it decodes, for
    the fast path's next hits (up to a bound: names come from the data)."""
    for k in raw:
        if isinstance(k, bytes) and k not in names and len(names) < 512:
            name = _text(k)
            if isinstance(name, str):
                names[k] = name
    return {_text(k): _text(v) for k, v in raw.items()}


def _strip(key: str, prefixes: list[str]) -> str:
    """`IndexSchema.id_from_key` given the non-empty prefixes, longest first."""
    for p in prefixes:
        if key.startswith(p):
            return key[len(p) :]
    return key


def _decode_vector(raw: Any, codec: Any, is_json: bool) -> npt.NDArray[Any]:
    if is_json or isinstance(raw, (list, str)):
        values = json.loads(_text(raw)) if not isinstance(raw, list) else raw
        if values and isinstance(values[0], list):  # a JSONPath reply wraps the value in a list
            values = values[0]
        return np.asarray(values, dtype=codec.float_dtype)
    return codec.decode(raw)  # type: ignore[no-any-return]


def decode_hash(raw: Mapping[Any, Any]) -> dict[str, Any]:
    """HGETALL reply -> str keys, text values (bytes that are not UTF-8 text stay bytes)."""
    return {_text(k): _text(v) for k, v in raw.items()}
