"""Test-run settings shared by `tests/` and `integration_tests/`.

Property tests (hypothesis) run derandomized by default, so `make test` and CI see the same
examples on every run: a red CI is reproducible, never a coin toss. Explore new examples with
``pytest --hypothesis-profile=explore``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")


@pytest.fixture(autouse=True)
def _asyncio_run_keeps_the_test_loop() -> Iterator[None]:
    """A sync test that calls ``asyncio.run`` (event-loop tests do) leaves the main thread with no
    current event loop. pytest-asyncio < 1.0 (``make test-lowest``: langchain-tests for
    langchain-core 0.3 pins it) then fails every later async test; give its loop back."""
    policy = asyncio.get_event_loop_policy()
    before = getattr(getattr(policy, "_local", None), "_loop", None)  # read, never create one
    yield
    if before is not None and not before.is_closed():
        asyncio.set_event_loop(before)
