"""Shared helpers for the LangChain adapter tests: an embedding model whose vectors the test
chooses, and numpy ground truth for every metric (computed here, independently of redisvec)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
from langchain_core.embeddings import Embeddings


class TableEmbeddings(Embeddings):
    """Text -> the vector the test put in the table (an unknown text is a KeyError)."""

    def __init__(self, table: Mapping[str, Sequence[float]]) -> None:
        self.table = {k: [float(x) for x in v] for k, v in table.items()}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.table[t] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.table[text]


def distances(
    metric: str, data: npt.NDArray[np.float64], q: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """What the server reports: cosine ``1 - cos``, ip ``1 - dot``, l2 the squared distance."""
    if metric == "cosine":
        return 1.0 - (data @ q) / (np.linalg.norm(data, axis=1) * np.linalg.norm(q))
    if metric == "ip":
        return 1.0 - data @ q
    return ((data - q) ** 2).sum(axis=1)


def relevance(
    metric: str, data: npt.NDArray[np.float64], q: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """The documented relevance in [0, 1]: cosine / ip clipped, l2 ``1 / (1 + euclidean)``."""
    if metric == "cosine":
        return np.clip((data @ q) / (np.linalg.norm(data, axis=1) * np.linalg.norm(q)), 0, 1)
    if metric == "ip":
        return np.clip(data @ q, 0, 1)
    return 1.0 / (1.0 + np.sqrt(((data - q) ** 2).sum(axis=1)))
