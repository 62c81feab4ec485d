"""`HybridQuery`: BM25 full-text and vector similarity in one ranked list.

A question that names an identifier (``__slots__``, ``EF_RUNTIME``, an error code) is where a
vector search fails and keywords win; a conceptual question is the opposite. A hybrid query runs
both legs, a KNN query and a BM25 text query, with the same filter, and fuses their rankings:
reciprocal rank fusion by default, or a weighted linear combination of normalised scores
(`redisvec.fusion`). Each fused hit keeps its rank and score in each leg (`HybridHit`).

How it runs (`SearchIndex.hybrid_search`), the fastest correct way the server offers:

- ``FT.HYBRID`` (Redis 8.4+), for reciprocal rank fusion with one window for both legs: one
  command, fused on the server. The embedded server (search 2.10) does not have it, so this path
  is built from the documented syntax and reply (redis.io, ``commands/ft.hybrid``) and tested
  against that reply only; its hits carry per-leg scores but no per-leg ranks (the reply has
  none). The first hybrid query of an index object finds out whether the server has the command;
  a server without it (or one that refuses the query) gets the legs from then on.
- Otherwise both legs as ``FT.SEARCH`` commands in one pipeline (one round trip), fused here.

Not one ``FT.AGGREGATE``: on search 2.10 a KNN clause cannot be part of a union (``(@t:x) |
(*=>[KNN ...])`` is a syntax error), and the optional-text form ``(~@t:(x))=>[KNN ...]`` scores only
the KNN candidates: a passage that matches every keyword but is not among the nearest vectors is
never seen. That is re-ranking, not fusion, and it is not what the two legs return.

Text that has no searchable word (empty, punctuation, only the index's stopwords) cannot match:
the query runs as the plain vector search it then is, with a `HybridFallbackWarning`, never an
empty result.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redisvec.codec import VectorLike
from redisvec.errors import HybridFallbackWarning
from redisvec.fusion import RRF_CONSTANT, fuse_scores, rrf
from redisvec.query import (
    DISTANCE_ALIAS,
    Arg,
    Filter,
    TextQuery,
    VectorQuery,
    _render_filter,
    _vector_field,
    codec_for,
    positive_int,
    search_terms,
    text_match,
)
from redisvec.results import Hit, SearchResult, _text, distance_to_similarity

if TYPE_CHECKING:
    from redisvec.schema import IndexSchema

__all__ = ["FUSIONS", "HybridHit", "HybridQuery", "HybridResult", "fuse_legs", "parse_hybrid_reply"]

FUSIONS = ("rrf", "linear")
METHODS = ("auto", "pipeline", "native")
#: Candidates each leg contributes when not given (``FT.HYBRID``'s default window).
DEFAULT_WINDOW = 20
#: The names under which ``FT.HYBRID`` is asked to yield each leg's score.
TEXT_SCORE_ALIAS = "__text_score"
VECTOR_SCORE_ALIAS = "__vector_score"


@dataclass(slots=True)
class HybridHit(Hit):
    """A fused hit: ``score`` is the fused score (higher is better), ``distance`` the server's
    vector distance when the vector leg found it. ``vector_rank`` / ``text_rank`` are the hit's
    places (1 is the best) in each leg, None where that leg did not return it; ``vector_score``
    is the vector similarity in [0, 1] (`distance_to_similarity`), ``text_score`` the BM25 score.
    From ``FT.HYBRID`` the ranks are None and the scores are the server's."""

    vector_rank: int | None = None
    vector_score: float | None = None
    text_rank: int | None = None
    text_score: float | None = None


@dataclass(frozen=True)
class HybridResult(SearchResult):
    """Fused hits, best first. ``total``: distinct candidates the legs returned (the server's
    count for ``FT.HYBRID``). ``method``: ``"pipeline"`` (both legs, fused here),
    ``"vector-only"`` (the text had no searchable word) or ``"FT.HYBRID"``."""

    method: str = "pipeline"


@dataclass(frozen=True)
class HybridQuery:
    """``text`` by BM25 and ``vector`` by KNN, both restricted by ``filter``, fused into ``k`` hits.

    - ``fusion="rrf"`` (default): reciprocal rank fusion, ``1 / (rrf_constant + rank)`` summed
      over the legs; needs no score scaling and is what ``FT.HYBRID`` computes.
    - ``fusion="linear"``: ``alpha * vector similarity + (1 - alpha) * BM25 / best BM25``
      (`redisvec.fusion.fuse_scores`; ``alpha`` 1: vector order, 0: text order).

    ``vector_k`` / ``text_k``: candidates taken from each leg (default ``max(k, 20)``); a hit
    that only one leg found gets nothing from the other. ``method``: ``"auto"`` uses
    ``FT.HYBRID`` where the server has it and the query fits it, ``"pipeline"`` always runs the
    legs, ``"native"`` insists on ``FT.HYBRID``. The text is searched as `TextQuery` searches it
    (every word but stopwords, OR-ed, stemmed), in ``text_field`` or every text field.
    """

    text: str | None
    vector: VectorLike
    k: int = 10
    filter: Filter = None
    fusion: str = "rrf"
    alpha: float = 0.5
    rrf_constant: float = RRF_CONSTANT
    vector_k: int | None = None
    text_k: int | None = None
    text_field: str | None = None
    vector_field: str | None = None
    return_fields: Sequence[str] | None = None
    ef_runtime: int | None = None
    scorer: str = "BM25"
    ids: Sequence[str] | None = None
    method: str = "auto"

    def _windows(self) -> tuple[int, int, int]:
        """(k, vector_k, text_k), checked, with the settings that do not depend on a schema."""
        k = positive_int("k", self.k)
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        alpha = self.alpha
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
            raise ValueError(
                f"alpha must be a number in [0, 1] (0: text only, 1: vector only), got {alpha!r}"
            )
        c = self.rrf_constant
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not c >= 0:
            raise ValueError(f"rrf_constant must be a number >= 0 (usually 60), got {c!r}")
        if self.text is not None and not isinstance(self.text, str):
            raise ValueError(f"a hybrid query's text must be a string, got {self.text!r}")
        window = max(k, DEFAULT_WINDOW)
        vector_k = window if self.vector_k is None else positive_int("vector_k", self.vector_k)
        text_k = window if self.text_k is None else positive_int("text_k", self.text_k)
        return k, vector_k, text_k

    def terms(self, schema: IndexSchema) -> list[str]:
        """The words the text leg searches for (empty: the query runs vector-only)."""
        return search_terms(self.text, schema) if self.text else []

    def legs(self, schema: IndexSchema) -> tuple[VectorQuery, TextQuery | None]:
        """The two queries whose rankings are fused; no text query when the text has no word
        to search for."""
        _, vector_k, text_k = self._windows()
        common: dict[str, Any] = {
            "filter": self.filter,
            "return_fields": self.return_fields,
            "ids": self.ids,
        }
        vector = VectorQuery(
            self.vector,
            k=vector_k,
            vector_field=self.vector_field,
            ef_runtime=self.ef_runtime,
            **common,
        )
        if not self.terms(schema):
            return vector, None
        text = TextQuery(
            self.text or "", k=text_k, text_field=self.text_field, scorer=self.scorer, **common
        )
        return vector, text

    def native_args(self, schema: IndexSchema) -> list[Arg] | None:
        """``FT.HYBRID`` arguments (after the command name), or None where the command cannot
        compute what the legs compute: linear fusion (its LINEAR normalisation is not
        documented), different windows per leg (it has one WINDOW), ``ids`` (no INKEYS) or a
        text with no word to search for (that is a plain KNN query).

        Built from the documented syntax (Redis 8.4): ``SEARCH q SCORER s YIELD_SCORE_AS a
        VSIM @field $vector KNN n K k [EF_RUNTIME e] YIELD_SCORE_AS b [FILTER f] COMBINE RRF 4
        CONSTANT c WINDOW w LOAD n fields LIMIT 0 k PARAMS 2 vector <blob>``."""
        k, vector_k, text_k = self._windows()
        terms = self.terms(schema)
        if self.fusion != "rrf" or vector_k != text_k or self.ids is not None or not terms:
            return None
        vf = _vector_field(schema, self.vector_field)
        where = _render_filter(self.filter, schema)
        match = text_match(terms, self.text_field, schema)
        search = match if where == "*" else f"{match} ({where})"
        knn: list[Arg] = ["K", vector_k]
        if self.ef_runtime is not None:
            knn += ["EF_RUNTIME", positive_int("ef_runtime", self.ef_runtime)]
        args: list[Arg] = [
            schema.name,
            "SEARCH", search, "SCORER", self.scorer, "YIELD_SCORE_AS", TEXT_SCORE_ALIAS,
            "VSIM", f"@{vf.name}", "$vector", "KNN", len(knn), *knn,
            "YIELD_SCORE_AS", VECTOR_SCORE_ALIAS,
        ]  # fmt: skip
        if where != "*":
            args += ["FILTER", where]
        constant = repr(float(self.rrf_constant))
        args += ["COMBINE", "RRF", 4, "CONSTANT", constant, "WINDOW", vector_k]
        args += _load_args(schema, self.return_fields)
        args += ["LIMIT", 0, k, "PARAMS", 2, "vector", codec_for(schema, vf).encode(self.vector)]
        return args


def _load_args(schema: IndexSchema, names: Sequence[str] | None) -> list[Arg]:
    """``LOAD``: the key always (hits are named by it), and the fields asked for (all: ``*``)."""
    if names is None:
        return ["LOAD", "*"]
    tokens: list[Arg] = ["@__key"]
    count = 1
    for name in names:
        count += 1
        if schema.storage == "json" and name not in schema.fields_by_name:
            tokens += [f"$.{name}", "AS", name]  # an alias is not counted
        else:
            tokens.append(f"@{name}")
    return ["LOAD", count, *tokens]


def no_terms_message(text: str | None) -> str:
    return (
        f"hybrid query text {text!r} has no word to search for (empty, punctuation or only the "
        "index's stopwords): ran the vector search alone"
    )


def warn_no_terms(text: str | None) -> None:
    warnings.warn(no_terms_message(text), HybridFallbackWarning, stacklevel=4)


def fuse_legs(
    query: HybridQuery,
    schema: IndexSchema,
    vector: SearchResult,
    text: SearchResult | None,
) -> HybridResult:
    """The two legs' results (``text`` None: vector-only) -> the fused `HybridResult`."""
    k = query._windows()[0]
    metric = _vector_field(schema, query.vector_field).distance_metric
    v_hits, t_hits = vector.hits, (text.hits if text is not None else [])
    similarity = {h.id: distance_to_similarity(h.distance or 0.0, metric) for h in v_hits}
    if query.fusion == "rrf":
        fused = rrf(
            [h.id for h in v_hits], [h.id for h in t_hits], constant=query.rrf_constant, k=k
        )
    else:
        fused = fuse_scores(
            [(h.id, similarity[h.id]) for h in v_hits],
            [(h.id, h.score or 0.0) for h in t_hits],
            alpha=query.alpha,
            k=k,
        )
    v_at = {h.id: (rank, h) for rank, h in enumerate(v_hits, 1)}
    t_at = {h.id: (rank, h) for rank, h in enumerate(t_hits, 1)}
    hits: list[Hit] = []
    for id_, score in fused:
        v_rank, v_hit = v_at.get(id_, (None, None))
        t_rank, t_hit = t_at.get(id_, (None, None))
        some = v_hit or t_hit
        assert some is not None
        fields = {**t_hit.fields, **v_hit.fields} if v_hit and t_hit else dict(some.fields)
        hits.append(
            HybridHit(
                id_,
                some.key,
                fields,
                v_hit.distance if v_hit else None,
                score,
                None,
                v_rank,
                similarity.get(id_),
                t_rank,
                t_hit.score if t_hit else None,
            )
        )
    total = len({h.id for h in v_hits} | {h.id for h in t_hits})
    return HybridResult(total, hits, "pipeline" if text is not None else "vector-only")


# -- FT.HYBRID replies (documented shape; see the module docstring) --------------------------------


def _as_map(value: Any) -> dict[str, Any]:
    """A RESP3 map, or the flat ``[name, value, ...]`` array RESP2 sends for one."""
    if isinstance(value, Mapping):
        return {str(_text(k)): v for k, v in value.items()}
    if isinstance(value, (list, tuple)) and len(value) % 2 == 0:
        return {str(_text(k)): v for k, v in zip(value[::2], value[1::2])}
    raise ValueError(f"unexpected FT.HYBRID reply element: {value!r}")


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(_text(value))
    return None if math.isnan(number) else number


def parse_hybrid_reply(reply: Any, schema: IndexSchema) -> HybridResult:
    """An ``FT.HYBRID`` reply -> `HybridResult`. RESP3: a map of ``total_results``,
    ``results`` (a map per hit: ``__key``, ``__score``, the yielded leg scores, the loaded
    fields), ``warnings``, ``execution_time``; RESP2: the same map as a flat array. A timeout
    warning raises `QueryTimeoutError`, as for FT.SEARCH."""
    from redisvec.results import _raise_on_timeout

    top = _as_map(reply)
    warned = top.get("warnings") or top.get("warning") or []
    if warned:
        _raise_on_timeout([_text(w) for w in warned])
    vector_names = {vf.name for vf in schema.vector_fields}
    hits: list[Hit] = []
    for raw in top.get("results") or []:
        item = {name: value for name, value in _as_map(raw).items() if name not in vector_names}
        key = str(_text(item.pop("__key", item.pop("__id", ""))))
        score = _float(item.pop("__score", None))
        text_score = _float(item.pop(TEXT_SCORE_ALIAS, None))
        vector_score = _float(item.pop(VECTOR_SCORE_ALIAS, None))
        distance = _float(item.pop(DISTANCE_ALIAS, None))
        fields = {name: _text(value) for name, value in item.items()}
        if schema.storage == "json" and isinstance(fields.get("$"), str):  # LOAD *
            document = json.loads(fields.pop("$"))
            fields = {**document, **fields} if isinstance(document, dict) else fields
            for name in vector_names:
                fields.pop(name, None)
        hits.append(
            HybridHit(
                schema.id_from_key(key),
                key,
                fields,
                distance,
                score,
                None,
                None,
                vector_score,
                None,
                text_score,
            )
        )
    total = int(_text(top.get("total_results", len(hits))))
    return HybridResult(total, hits, "FT.HYBRID")
