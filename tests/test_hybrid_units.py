"""HybridQuery without a server: the FT.HYBRID command it builds and the reply it reads.

The embedded server (search 2.10) has no FT.HYBRID (Redis 8.4+), so this path is tested against
the syntax and reply documented on redis.io (commands/ft.hybrid: RESP3 a map of total_results,
results (a map per hit), warnings, execution_time; RESP2 the same as a flat array). The pipeline
path is tested against the real server in integration_tests/test_hybrid.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import redis

from redisvec.errors import QueryTimeoutError
from redisvec.filters import Tag
from redisvec.fusion import rrf
from redisvec.hybrid import HybridHit, HybridQuery, parse_hybrid_reply
from redisvec.index import SearchIndex, _Call, _Pipeline
from redisvec.schema import IndexSchema, TagField, TextField, VectorField

SCHEMA = IndexSchema(
    "docs",
    prefixes=("doc:",),
    fields=(TextField("body"), TagField("lang"), VectorField("v", dims=3)),
)
VEC = np.array([0.1, 0.2, 0.3], dtype=np.float32)


def test_rrf_formula_and_ties() -> None:
    fused = rrf(["a", "b", "c"], ["c", "d"], constant=60)
    by_id = dict(fused)
    assert by_id["c"] == pytest.approx(1 / 63 + 1 / 61)
    assert by_id["a"] == pytest.approx(1 / 61)
    assert by_id["d"] == pytest.approx(1 / 62)
    # c (two lists) first; a and (tied) vector rank 1 before text rank 2 d; b = 1/62 ties with d
    assert [i for i, _ in fused] == ["c", "a", "b", "d"]
    assert rrf(["a"], [], k=0) == []
    with pytest.raises(ValueError, match="constant"):
        rrf(["a"], ["b"], constant=-1)


def test_native_args_follow_the_documented_syntax() -> None:
    q = HybridQuery(
        "the try statement", VEC, k=5, filter=Tag("lang") == "en", ef_runtime=50,
        return_fields=["body", "lang"],
    )  # fmt: skip
    args = q.native_args(SCHEMA)
    assert args is not None
    assert args[:7] == [
        "docs", "SEARCH", "(try | statement) (@lang:{en})", "SCORER", "BM25",
        "YIELD_SCORE_AS", "__text_score",
    ]  # fmt: skip
    i = args.index("VSIM")
    assert args[i : i + 11] == [
        "VSIM", "@v", "$vector", "KNN", 4, "K", 20, "EF_RUNTIME", 50,
        "YIELD_SCORE_AS", "__vector_score",
    ]  # fmt: skip
    assert args[i + 11 : i + 13] == ["FILTER", "@lang:{en}"]
    j = args.index("COMBINE")
    assert args[j : j + 7] == ["COMBINE", "RRF", 4, "CONSTANT", "60.0", "WINDOW", 20]
    assert args[args.index("LOAD") :][:5] == ["LOAD", 3, "@__key", "@body", "@lang"]
    assert args[-7:] == ["LIMIT", 0, 5, "PARAMS", 2, "vector", VEC.tobytes()]


@pytest.mark.parametrize(
    "change",
    [{"fusion": "linear"}, {"vector_k": 5, "text_k": 7}, {"ids": ["a"]}, {"text": "the"}],
)
def test_queries_ft_hybrid_cannot_express_run_as_legs(change: dict[str, Any]) -> None:
    settings: dict[str, Any] = {"text": "try", "vector": VEC, **change}
    assert HybridQuery(**settings).native_args(SCHEMA) is None


RESP3 = {
    b"total_results": 2,
    b"execution_time": 0.4,
    b"warnings": [],
    b"results": [
        {b"__key": b"doc:7", b"__score": b"0.0327", b"__text_score": b"2.5",
         b"__vector_score": b"0.91", b"body": b"try except", b"v": b"\x00\x01\x02"},
        {b"__key": b"doc:3", b"__score": b"0.0161", b"__vector_score": b"0.88", b"body": b"with"},
    ],
}  # fmt: skip
RESP2 = [
    b"total_results", 2,
    b"results", [
        [b"__key", b"doc:7", b"__score", b"0.0327", b"__text_score", b"2.5",
         b"__vector_score", b"0.91", b"body", b"try except"],
        [b"__key", b"doc:3", b"__score", b"0.0161", b"__vector_score", b"0.88", b"body", b"with"],
    ],
    b"warnings", [],
    b"execution_time", b"0.4",
]  # fmt: skip


@pytest.mark.parametrize("reply", [RESP3, RESP2], ids=["resp3", "resp2"])
def test_documented_replies_parse_into_hybrid_hits(reply: Any) -> None:
    result = parse_hybrid_reply(reply, SCHEMA)
    assert result.method == "FT.HYBRID" and result.total == 2
    first, second = result.hits
    assert isinstance(first, HybridHit)
    assert (first.id, first.key, first.score) == ("7", "doc:7", pytest.approx(0.0327))
    assert (first.text_score, first.vector_score) == (2.5, 0.91)
    assert first.fields == {"body": "try except"}  # the binary vector is left out
    assert second.text_score is None and second.vector_rank is None
    assert second.fields == {"body": "with"}


def test_a_timeout_warning_raises() -> None:
    with pytest.raises(QueryTimeoutError):
        parse_hybrid_reply({**RESP3, b"warnings": [b"Timeout limit was reached"]}, SCHEMA)


def test_the_operation_sends_ft_hybrid_first_and_reads_its_reply() -> None:
    """The generator `SearchIndex` drives, fed the documented reply (no client involved)."""
    index = SearchIndex(SCHEMA, redis.Redis())  # never connects: the op is driven by hand
    op = index._hybrid_op(HybridQuery("try", VEC, k=2))
    request = next(op)
    assert isinstance(request, _Call) and request.args[0] == "FT.HYBRID"
    with pytest.raises(StopIteration) as stop:
        op.send(RESP3)
    assert [h.id for h in stop.value.value.hits] == ["7", "3"]
    assert index._ft_hybrid is True


def test_an_unknown_ft_hybrid_switches_to_the_pipeline_for_good() -> None:
    from redisvec.errors import SearchUnavailableError

    index = SearchIndex(SCHEMA, redis.Redis())
    op = index._hybrid_op(HybridQuery("try", VEC, k=2))
    next(op)
    request = op.throw(SearchUnavailableError("unknown command 'FT.HYBRID'"))
    assert isinstance(request, _Pipeline)
    assert [c[0] for c in request.commands] == ["FT.SEARCH", "FT.SEARCH"]
    assert index._ft_hybrid is False
    again = next(index._hybrid_op(HybridQuery("try", VEC, k=2)))
    assert isinstance(again, _Pipeline)  # not tried a second time
