"""The lower bounds pyproject.toml publishes are the versions `make test-lowest` installs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parent.parent
# Extras that are not part of what a user installs redisvec with: the test tools (locked in
# requirements/dev.txt), the demo's model stack and the documentation tools.
NOT_RUNTIME = {"dev", "demo", "docs"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared_lower_bounds() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra, reqs in project["optional-dependencies"].items():
        if extra not in NOT_RUNTIME:
            requirements += reqs
    bounds = {}
    for req in requirements:
        match = re.search(r">=\s*([\w.]+)", req)
        assert match, f"{req!r} in pyproject.toml has no lower bound: give it one (>=X)"
        bounds[_name(req)] = match.group(1)
    return bounds


def _pinned(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version.split(";")[0].strip()
    return pins


def test_every_runtime_lower_bound_is_pinned_for_test_lowest() -> None:
    assert _pinned(ROOT / "requirements" / "lowest-bounds.txt") == _declared_lower_bounds()


def test_the_lowest_lock_installs_exactly_those_bounds() -> None:
    lock = _pinned(ROOT / "requirements" / "lowest.txt")
    for name, version in _declared_lower_bounds().items():
        assert lock.get(name) == version, (
            f"{name}: lowest.txt has {lock.get(name)}, bound {version}"
        )
