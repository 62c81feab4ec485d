"""Hybrid search: fuse a vector ranking and a full-text ranking into one.

Two ways, both plain functions over the two legs' ranked lists (`redisvec.hybrid` runs the legs):

Reciprocal rank fusion (`rrf`, the default of `redisvec.hybrid.HybridQuery`): each list adds
``1 / (constant + rank)`` (rank 1 is the best) to the score of each id it holds. Only ranks count,
so the two legs' incomparable scores need no scaling; ``constant`` (60 in the RRF paper and in the
server's ``FT.HYBRID``) damps the advantage of the very first places.

Relative score fusion (`fuse_scores`): each side's score is put on [0, 1] and mixed linearly,

    fused = alpha * vector + (1 - alpha) * text

- ``vector``: the similarity of `redisvec.results.distance_to_similarity`, already in [0, 1] and
  comparable across queries, so it is used as is (min-max scaling would turn a poor best hit
  into a perfect 1).
- ``text``: BM25 scores are unbounded and only comparable within one query, so they are divided
  by the best score of the query (the best text hit gets 1).

A candidate found by one side only gets 0 from the other. ``alpha=1`` is pure vector order,
``alpha=0`` pure text order (LlamaIndex's convention: "0 for bm25, 1 for vector search").
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["RRF_CONSTANT", "fuse_scores", "rrf"]

#: The RRF constant of the paper (Cormack et al., 2009) and of the server's ``FT.HYBRID``.
RRF_CONSTANT = 60


def fuse_scores(
    vector: Sequence[tuple[str, float]],
    text: Sequence[tuple[str, float]],
    *,
    alpha: float = 0.5,
    k: int | None = None,
) -> list[tuple[str, float]]:
    """``[(id, similarity)]`` and ``[(id, bm25)]`` -> the best ``k`` ``[(id, fused)]``, best first.

    Ties keep the order of first appearance (vector hits first), so the result is deterministic.
    """
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(
            f"alpha must be a number in [0, 1] (0: text only, 1: vector only), got {alpha!r}"
        )
    best_text = max((score for _, score in text), default=0.0)
    scaled_text = {i: (s / best_text if best_text > 0 else 0.0) for i, s in text}
    scaled_vector = {i: min(1.0, max(0.0, s)) for i, s in vector}
    order = list(dict.fromkeys([i for i, _ in vector] + [i for i, _ in text]))
    fused = [
        (i, alpha * scaled_vector.get(i, 0.0) + (1.0 - alpha) * scaled_text.get(i, 0.0))
        for i in order
    ]
    position = {i: n for n, i in enumerate(order)}
    fused.sort(key=lambda pair: (-pair[1], position[pair[0]]))
    return fused if k is None else fused[: max(k, 0)]


def rrf(
    vector: Sequence[str],
    text: Sequence[str],
    *,
    constant: float = RRF_CONSTANT,
    k: int | None = None,
) -> list[tuple[str, float]]:
    """Two rankings of ids, best first -> the best ``k`` ``[(id, fused)]`` by reciprocal rank fusion.

    ``fused = sum over the lists holding the id of 1 / (constant + rank)``, rank counted from 1.
    Ties keep the order of first appearance (vector hits first), as in `fuse_scores`.
    """
    if isinstance(constant, bool) or not isinstance(constant, (int, float)) or not constant >= 0:
        raise ValueError(f"the RRF constant must be a number >= 0 (usually 60), got {constant!r}")
    fused: dict[str, float] = {}
    for ranking in (vector, text):
        for rank, i in enumerate(ranking, 1):
            fused[i] = fused.get(i, 0.0) + 1.0 / (constant + rank)
    position = {i: n for n, i in enumerate(fused)}
    ordered = sorted(fused.items(), key=lambda pair: (-pair[1], position[pair[0]]))
    return ordered if k is None else ordered[: max(k, 0)]
