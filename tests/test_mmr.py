"""mmr_select against hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from redisvec.mmr import mmr_select

# a and b are near-duplicates; c points elsewhere
VECTORS = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]])
RELEVANCE = [0.9, 0.85, 0.5]


def test_lambda_one_is_relevance_order() -> None:
    rel = [0.2, 0.9, 0.5, 0.7]
    vectors = np.random.default_rng(0).normal(size=(4, 3))
    assert mmr_select(rel, vectors, k=4, lambda_mult=1.0) == [1, 3, 2, 0]


def test_lambda_zero_picks_diverse() -> None:
    # first pick is always the most relevant (a); then the least similar to it: c
    assert mmr_select(RELEVANCE, VECTORS, k=2, lambda_mult=0.0) == [0, 2]


def test_hand_computed_half() -> None:
    # lambda 0.5, after a: b scores 0.5*0.85 - 0.5*cos(a,b) = 0.425 - 0.5*0.99/|b|
    cos_ab = 0.99 / np.hypot(0.99, 0.141)
    score_b = 0.5 * 0.85 - 0.5 * cos_ab  # ~ -0.07
    score_c = 0.5 * 0.5 - 0.5 * 0.0  # 0.25
    assert score_c > score_b
    assert mmr_select(RELEVANCE, VECTORS, k=3, lambda_mult=0.5) == [0, 2, 1]
    # lambda 0.95: b wins (0.8075 - 0.05*0.99 = 0.758 > 0.475)
    assert mmr_select(RELEVANCE, VECTORS, k=2, lambda_mult=0.95) == [0, 1]


def test_edges() -> None:
    assert mmr_select([], np.empty((0, 2)), k=3) == []
    assert mmr_select(RELEVANCE, VECTORS, k=0) == []
    assert mmr_select(RELEVANCE, VECTORS, k=10) == [0, 2, 1]
    with pytest.raises(ValueError, match="lambda_mult"):
        mmr_select(RELEVANCE, VECTORS, k=2, lambda_mult=1.5)
