"""Issue 8, item 5: a 20-second version of `benchmarks/soak.py` (8 async writers, 8 async readers on
one index): zero errors and the exact final count, by the index and by the keys on the server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.reliability

SOAK = Path(__file__).resolve().parent.parent / "benchmarks" / "soak.py"


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redisvec_soak", SOAK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


async def test_twenty_second_soak(redis_url: str) -> None:
    soak = _soak_module()
    report = await soak.run_soak(redis_url, 20.0, writers=8, readers=8)
    print("\n" + report.markdown())
    assert report.errors == ()
    assert report.distinct_ids > 1000 and report.reads > 500  # it really ran
    assert report.docs_sent > report.distinct_ids  # upserts happened ...
    assert report.index_count == report.key_count == report.distinct_ids  # ... and added nothing
    assert report.ok
