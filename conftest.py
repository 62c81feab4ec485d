"""Test-run settings shared by `tests/` and `integration_tests/`.

Property tests (hypothesis) run derandomized by default, so `make test` and CI see the same
examples on every run: a red CI is reproducible, never a coin toss. Explore new examples with
``pytest --hypothesis-profile=explore``.
"""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile("deterministic")
