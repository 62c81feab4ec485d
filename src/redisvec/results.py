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


@dataclass(frozen=True)
class Hit:
    """One record of a result: its id (key without the index's prefix), fields and distance."""

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


def _texts(raw: dict[str, Any]) -> dict[str, Any]:
    """``{k: _text(v)}``, inlined for the common all-UTF-8 case (it runs for every hit)."""
    try:
        return {k: v.decode() if type(v) is bytes else v for k, v in raw.items()}
    except UnicodeDecodeError:
        return {k: _text(v) for k, v in raw.items()}


def _strip(key: str, prefixes: list[str]) -> str:
    """`IndexSchema.id_from_key` given the non-empty prefixes, longest first."""
    for p in prefixes:
        if key.startswith(p):
            return key[len(p) :]
    return key


def _pairs(flat: list[Any]) -> dict[str, Any]:
    return {_text(flat[i]): flat[i + 1] for i in range(0, len(flat) - 1, 2)}


def _raw_rows(
    reply: Any, with_scores: bool
) -> tuple[int, list[tuple[str, float | None, dict[str, Any]]]]:
    """Both protocols -> (total, [(key, score, raw field map)])."""
    rows: list[tuple[str, float | None, dict[str, Any]]] = []
    if isinstance(reply, dict):  # RESP3: keys are bytes, or str on a decode_responses client
        warnings = [_text(w) for w in _get(reply, _WARNING) or ()]
        if any("timeout" in str(w).lower() for w in warnings):
            raise QueryTimeoutError(
                f"the server stopped the query at its time limit ({'; '.join(map(str, warnings))}) "
                "and would have returned partial results; raise the limit (FT.CONFIG SET TIMEOUT "
                "<ms>, or TIMEOUT on managed services' module arguments), ask for fewer results, "
                "or make the server fail instead (ON_TIMEOUT FAIL)"
            )
        for item in _get(reply, _RESULTS) or []:
            attrs = _get(item, _ATTRIBUTES) or {}
            score = _get(item, _SCORE)
            rows.append(
                (
                    _text(_get(item, _ID)),
                    float(score) if score is not None else None,
                    {_text(k): v for k, v in attrs.items()},
                )
            )
        return int(_get(reply, _TOTAL) or 0), rows
    total = int(reply[0])  # RESP2: total, key, [score], [fields], key, ...
    i = 1
    while i < len(reply):
        key = _text(reply[i])
        i += 1
        score = None
        if with_scores:
            score = float(reply[i])
            i += 1
        fields: dict[str, Any] = {}
        if i < len(reply) and isinstance(reply[i], list):
            fields = _pairs(reply[i])
            i += 1
        rows.append((key, score, fields))
    return total, rows


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
    The vector field is taken out of ``fields``; it becomes ``Hit.vector`` when ``decode_vector``.
    """
    from redisvec.query import codec_for

    total, rows = _raw_rows(reply, with_scores)
    vf = schema.vector_fields[0] if schema.vector_fields else None
    codec = codec_for(schema, vf) if vf is not None and decode_vector else None
    is_json = schema.storage == "json"
    # schema.id_from_key, with the prefixes sorted once per reply instead of once per hit
    prefixes = [p for p in sorted(schema.key_prefixes, key=len, reverse=True) if p]
    hits = []
    for key, score, raw in rows:
        distance = raw.pop(DISTANCE_ALIAS, None)
        vector_raw: Any = raw.pop(vf.name, None) if vf is not None else None
        fields: dict[str, Any]
        if is_json and "$" in raw:
            document = json.loads(_text(raw.pop("$")))
            fields = document if isinstance(document, dict) else {"$": document}
            if vf is not None:
                vector_raw = fields.pop(vf.name, vector_raw)
            fields.update({k: _text(v) for k, v in raw.items()})
        else:
            fields = _texts(raw)
        vector = None
        if codec is not None and vector_raw is not None:
            vector = _decode_vector(vector_raw, codec, is_json)
        hits.append(
            Hit(
                id=_strip(key, prefixes),
                key=key,
                fields=fields,
                distance=float(_text(distance)) if distance is not None else None,
                score=score,
                vector=vector,
            )
        )
    return SearchResult(total, hits)


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
