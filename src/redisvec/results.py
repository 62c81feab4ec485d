"""Typed search results, parsed from RESP2 or RESP3 ``FT.SEARCH`` replies, and score conventions.

Distances are the server's own (lower is closer). `similarity` turns one into a relevance in
[0, 1], higher is closer, with one documented definition per metric, so both adapters report the
same numbers for the same hit.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from redisvec.errors import QueryTimeoutError
from redisvec.query import DISTANCE_ALIAS

if TYPE_CHECKING:
    from redisvec.schema import IndexSchema

__all__ = ["Hit", "SearchResult", "distance_to_similarity", "parse_search_reply"]


def distance_to_similarity(distance: float, metric: str) -> float:
    """A relevance in [0, 1] (higher is closer) from the server's distance for ``metric``.

    - ``cosine``: distance is ``1 - cos(a, b)``; similarity is ``cos(a, b)`` clipped to [0, 1]
      (``1 - distance``, what LangChain and LlamaIndex call cosine relevance).
    - ``ip``: distance is ``1 - a·b``; similarity is ``a·b`` clipped to [0, 1] (for normalized
      embeddings, the same number as cosine).
    - ``l2``: distance is the *squared* Euclidean distance; similarity is ``1 / (1 + ‖a - b‖)``,
      which is 1 for identical vectors and tends to 0 far away, whatever the scale.
    """
    metric = metric.lower()
    if metric in ("cosine", "ip"):
        return min(1.0, max(0.0, 1.0 - distance))
    if metric == "l2":
        return 1.0 / (1.0 + math.sqrt(max(distance, 0.0)))
    raise ValueError(f"unknown distance metric {metric!r}; use cosine, l2 or ip")


@dataclass(slots=True)
class Hit:
    """One record of a result: its id (key without the index's prefix), fields and distance.

    Not frozen, with slots: a frozen dataclass's ``__init__`` sets each attribute through
    ``object.__setattr__`` (~0.7 us against ~0.15 us), and every hit of every query builds one."""

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


def _get(mapping: Mapping[Any, Any], key: tuple[bytes, str]) -> Any:
    """``mapping[key]`` whether the reply's keys are bytes or str (no copy of the mapping: this
    runs for every hit of every query)."""
    value = mapping.get(key[0])
    return mapping.get(key[1]) if value is None else value


def _strip(key: str, prefixes: list[str]) -> str:
    """`IndexSchema.id_from_key` given the non-empty prefixes, longest first."""
    for p in prefixes:
        if key.startswith(p):
            return key[len(p) :]
    return key


def _rows(reply: Any, with_scores: bool) -> tuple[int, list[tuple[Any, Any, dict[Any, Any]]]]:
    """Both protocols -> (total, [(key, score, field map)]); keys and names as the reply has them
    (bytes, or str on a decode_responses client): decoded once, in `_fields`."""
    if isinstance(reply, dict):  # RESP3
        warnings = [_text(w) for w in _get(reply, _WARNING) or ()]
        if any("timeout" in str(w).lower() for w in warnings):
            raise QueryTimeoutError(
                f"the server stopped the query at its time limit ({'; '.join(map(str, warnings))}) "
                "and would have returned partial results; raise the limit (FT.CONFIG SET TIMEOUT "
                "<ms>, or TIMEOUT on managed services' module arguments), ask for fewer results, "
                "or make the server fail instead (ON_TIMEOUT FAIL)"
            )
        # The items' keys are bytes, or str on a decode_responses client, as the reply's are:
        # decided once per reply rather than tried both ways for every hit.
        b = 0 if _RESULTS[0] in reply else 1
        id_, score_, attributes = _ID[b], _SCORE[b], _ATTRIBUTES[b]
        rows = [
            (item.get(id_), item.get(score_), item.get(attributes) or {})
            for item in reply.get(_RESULTS[b]) or []
        ]
        return int(reply.get(_TOTAL[b]) or 0), rows
    total = int(reply[0])  # RESP2: total, key, [score], [fields], key, ...
    rows = []
    i = 1
    while i < len(reply):
        key = reply[i]
        i += 1
        score = None
        if with_scores:
            score = reply[i]
            i += 1
        fields: dict[Any, Any] = {}
        if i < len(reply) and isinstance(reply[i], list):
            flat = reply[i]
            fields = dict(zip(flat[0 : len(flat) - 1 : 2], flat[1::2]))
            i += 1
        rows.append((key, score, fields))
    return total, rows


def _fields(raw: dict[Any, Any]) -> dict[str, Any]:
    """Names and values decoded as UTF-8 text in one pass (the common case, for every hit);
    values that are not text stay bytes, values that are not bytes stay as they are."""
    try:
        return {k.decode(): v.decode() for k, v in raw.items()}
    except (AttributeError, UnicodeDecodeError):
        return {_text(k): _text(v) for k, v in raw.items()}


def parse_search_reply(
    reply: Any,
    schema: IndexSchema,
    *,
    with_scores: bool = False,
    decode_vector: bool = False,
) -> SearchResult:
    """Turn a raw ``FT.SEARCH`` reply into `Hit`s.

    Field values are decoded as UTF-8 text (bytes that are not text stay bytes). On JSON storage a
    reply without RETURN carries the whole document under ``$``, which is parsed into the fields.
    The vector field is taken out of ``fields`` (before decoding: it is binary); it becomes
    ``Hit.vector`` when ``decode_vector``.
    """
    from redisvec.query import codec_for

    total, rows = _rows(reply, with_scores)
    vf = schema.vector_fields[0] if schema.vector_fields else None
    codec = codec_for(schema, vf) if vf is not None and decode_vector else None
    is_json = schema.storage == "json"
    prefixes = _prefixes(schema)
    vector_names = (vf.name.encode(), vf.name) if vf is not None else ()
    hits = []
    for key_raw, score, raw in rows:
        vector_raw: Any = None
        for name in vector_names:
            if name in raw:
                vector_raw = raw.pop(name)
        try:  # `_fields`, inlined for the common all-UTF-8 case (it runs for every hit)
            fields = {k.decode(): v.decode() for k, v in raw.items()}
        except (AttributeError, UnicodeDecodeError):
            fields = _fields(raw)
        distance = fields.pop(DISTANCE_ALIAS, None)
        if is_json and "$" in fields:
            document = json.loads(fields.pop("$"))
            rest = fields
            fields = document if isinstance(document, dict) else {"$": document}
            if vf is not None:
                vector_raw = fields.pop(vf.name, vector_raw)
            fields.update(rest)
        vector = None
        if codec is not None and vector_raw is not None:
            vector = _decode_vector(vector_raw, codec, is_json)
        key = _text(key_raw)
        hits.append(
            Hit(
                _strip(key, prefixes),
                key,
                fields,
                float(distance) if distance is not None else None,
                float(score) if score is not None else None,
                vector,
            )
        )
    return SearchResult(total, hits)


_PREFIXES: dict[tuple[str, ...], list[str]] = {}


def _prefixes(schema: IndexSchema) -> list[str]:
    """`IndexSchema.id_from_key`'s prefixes, non-empty, longest first (cached: once per schema's
    prefixes instead of once per reply)."""
    given = schema.key_prefixes
    found = _PREFIXES.get(given)
    if found is None:
        found = _PREFIXES[given] = [p for p in sorted(given, key=len, reverse=True) if p]
    return found


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
