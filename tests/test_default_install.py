"""The default install parses replies with hiredis: redis-py silently falls back to its pure-Python
parser when hiredis is missing or older than it accepts, and KNN queries are then markedly slower
(benchmarks/RESULTS.md). This runs in both locks, so the lower bounds are checked too."""

from __future__ import annotations

import importlib.metadata

import redis.utils
from redis.connection import DefaultParser


def test_hiredis_is_a_dependency() -> None:
    requires = importlib.metadata.requires("redisvec") or []
    assert any(r.startswith("hiredis") and "extra ==" not in r for r in requires), requires


def test_redis_py_uses_hiredis() -> None:
    assert redis.utils.HIREDIS_AVAILABLE, importlib.metadata.version("hiredis")
    assert "Hiredis" in DefaultParser.__name__
