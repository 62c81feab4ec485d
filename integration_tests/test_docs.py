"""The documentation cannot rot: every ```python block of docs/*.md runs against a real server,
and the site builds in strict mode (a broken link or API reference fails).

The blocks of one page run in order in one namespace, like a reader pasting them into one Python
session, with ``REDIS_URL`` set to the test server and the repository root as working directory.
A block that needs a real cloud endpoint is preceded by ``<!-- docs-test: skip (reason) -->``;
such markers are counted, so that skipping stays the exception. Indexes a page creates are dropped
with their documents afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
MAX_SKIPPED = 4


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # 1-based line of the first line of code
    lang: str
    code: str
    skip: str | None  # the reason, when marked


def blocks(path: Path) -> list[Block]:
    """Fenced blocks at the start of a line; a skip marker applies to the next block only."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    skip: str | None = None
    i = 0
    while i < len(lines):
        marker = SKIP.search(lines[i])
        fence = FENCE.match(lines[i])
        if marker:
            skip = marker["reason"]
        elif fence:
            start, i = i + 1, i + 1
            while i < len(lines) and lines[i].rstrip() != "```":
                i += 1
            if i == len(lines):
                raise AssertionError(f"{path.name}:{start}: unclosed code fence")
            code = "\n".join(lines[start:i]) + "\n"
            out.append(Block(path.name, start + 1, fence["lang"], code, skip))
            skip = None
        i += 1
    return out


def _indexes(client: redis.Redis) -> set[str]:
    return {n.decode() if isinstance(n, bytes) else n for n in client.execute_command("FT._LIST")}


PYTHON_PAGES = [p for p in PAGES if any(b.lang == "python" for b in blocks(p))]


def test_the_docs_have_python_blocks() -> None:
    assert len(PYTHON_PAGES) >= 6, [p.name for p in PYTHON_PAGES]


def test_blocks_are_python_or_declared_not() -> None:
    """An untagged fence would silently escape the tests; skipping stays rare and says why."""
    all_blocks = [b for p in PAGES for b in blocks(p)]
    untagged = [f"{b.page}:{b.line}" for b in all_blocks if not b.lang]
    assert not untagged, f"code fences without a language (python, sh, text...): {untagged}"
    skipped = [b for b in all_blocks if b.skip]
    assert all(b.lang == "python" for b in skipped), "skip markers belong before python blocks"
    assert len(skipped) <= MAX_SKIPPED, [f"{b.page}:{b.line} ({b.skip})" for b in skipped]


def test_block_parser_sees_markers_and_fences(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "text\n```python\na = 1\n```\n<!-- docs-test: skip (needs Azure) -->\n"
        "```python\nb = 2\n```\n```sh\nls\n```\n"
    )
    assert blocks(page) == [
        Block("p.md", 3, "python", "a = 1\n", None),
        Block("p.md", 7, "python", "b = 2\n", "needs Azure"),
        Block("p.md", 10, "sh", "ls\n", None),
    ]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=lambda p: p.name)
def test_page_runs(
    page: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch, client: redis.Redis
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # pages may add examples/ to it
    before = _indexes(client)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    try:
        for block in blocks(page):
            if block.lang != "python" or block.skip:
                continue
            # Compiled with the page and line as file name: a failure points at the docs.
            code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
            exec(code, namespace)
    finally:
        for name in _indexes(client) - before:
            client.execute_command("FT.DROPINDEX", name, "DD")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=240,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    assert "WARNING" not in log, log
    return out


def test_site_builds_strict_with_every_page(site: Path) -> None:
    for page in PAGES:
        assert (site / page.with_suffix(".html").name).is_file(), page.name
    api = (site / "api" / "core.html").read_text(encoding="utf-8")
    # The reference is generated from the docstrings, not just headings.
    assert "Create the index. An existing one is kept" in api
    assert (site / "assets" / "benchmark-results.png").read_bytes() == (
        ROOT / "benchmarks" / "results.png"
    ).read_bytes()


def _screenshot_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "docs_screenshot", DOCS / "_tools" / "screenshot.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_site_in_a_real_browser(site: Path, tmp_path: Path) -> None:
    """Headless Chromium renders the home page and API pages; their DOM has the navigation and
    highlighted code, and the PNGs are not blank (`make docs-screenshot` keeps them)."""
    tool = _screenshot_tool()
    chromium = tool.find_chromium()
    if chromium is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    shots = tool.render(site, tmp_path, chromium)
    assert [s.page for s in shots] == list(tool.PAGES)
    assert all(not s.problems for s in shots), [(s.page, s.problems) for s in shots]


def test_readme_links_every_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [p.name for p in PAGES if f"](docs/{p.name})" not in readme]
    assert not missing, f"README.md's Documentation section does not link {missing}"
