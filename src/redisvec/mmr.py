"""Maximal marginal relevance: pick results that are relevant *and* unlike each other.

Relevance is each candidate's similarity to the query as the index measures it (from the
server's distance, `redisvec.results.distance_to_similarity`), so with ``lambda_mult=1`` the
order is exactly the index's nearest-neighbour order, for every metric. Redundancy is the cosine
similarity between candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from redisvec.layout import StoredDocument

__all__ = ["mmr_rerank", "mmr_select"]

D = TypeVar("D", bound="StoredDocument")


def mmr_select(
    relevance: Sequence[float] | npt.NDArray[Any],
    candidates: npt.NDArray[Any],
    k: int,
    lambda_mult: float = 0.5,
) -> list[int]:
    """Indices of ``k`` candidates in MMR order.

    ``relevance[i]`` is candidate i's similarity to the query (higher is closer);
    ``candidates`` holds their vectors, one per row. ``lambda_mult`` 1 is pure relevance,
    0 pure diversity.
    """
    if not 0.0 <= lambda_mult <= 1.0:
        raise ValueError(f"lambda_mult must be in [0, 1], got {lambda_mult}")
    rel = np.asarray(relevance, dtype=np.float64)
    n = len(rel)
    if n == 0 or k <= 0:
        return []
    vectors = np.asarray(candidates, dtype=np.float64).reshape(n, -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    pairwise = unit @ unit.T
    chosen = [int(np.argmax(rel))]
    redundancy = pairwise[chosen[0]].copy()
    available = np.ones(n, dtype=bool)
    available[chosen[0]] = False
    while len(chosen) < min(k, n):
        scores = lambda_mult * rel - (1.0 - lambda_mult) * redundancy
        scores[~available] = -np.inf
        best = int(np.argmax(scores))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, pairwise[best])
    return chosen


def mmr_rerank(docs: Sequence[D], k: int, lambda_mult: float = 0.5) -> list[tuple[D, float]]:
    """The MMR step both adapters take: ``k`` of ``docs`` (hits read with their vectors, in the
    index's order) in MMR order, each with its similarity to the query."""
    if not docs:
        return []
    relevance = [d.similarity or 0.0 for d in docs]
    vectors = np.stack([np.asarray(d.vector, dtype=np.float64) for d in docs])
    return [(docs[i], relevance[i]) for i in mmr_select(relevance, vectors, k, lambda_mult)]
