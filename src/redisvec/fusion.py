"""Hybrid search: fuse a vector ranking and a full-text ranking into one, weighted by ``alpha``.

The server (search 2.10) has no hybrid command (``FT.HYBRID`` needs Redis 8.4 and is documented as
unsupported on Redis Enterprise / Cloud), so both adapters run a KNN query and a BM25 text query
and fuse the two lists here, the same way.

Relative score fusion: each side's score is put on [0, 1] and the two are mixed linearly,

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

__all__ = ["fuse_scores"]


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
