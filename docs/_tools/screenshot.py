"""Look at the built site in a real browser: headless Chromium renders the home page and one API
reference page to PNG, and its rendered DOM must show the navigation and the code blocks.

    python docs/_tools/screenshot.py [SITE_DIR] [OUT_DIR]     (`make docs-screenshot`)

Needs Debian's ``chromium`` package (``apt-get install chromium``) or ``CHROMIUM=/path``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Page (relative to the site) -> what its rendered DOM must contain besides the navigation.
PAGES = {
    "index.html": ("Getting started", "LangChain guide"),
    "api/core.html": ("SearchIndex", "Create the index."),
}
NAVIGATION = ('class="md-nav', "API reference", "Deployments")
CODE = 'class="highlight'
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Shot:
    page: str
    png: Path
    problems: tuple[str, ...]


def find_chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    return None


def _run(chromium: str, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--virtual-time-budget=3000", *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"chromium {args[-1]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return proc.stdout


def render(site: Path, out: Path, chromium: str) -> list[Shot]:
    out.mkdir(parents=True, exist_ok=True)
    shots = []
    for page, expected in PAGES.items():
        url = (site / page).resolve().as_uri()
        png = out / (page.replace("/", "_").removesuffix(".html") + ".png")
        png.unlink(missing_ok=True)
        _run(chromium, f"--screenshot={png}", "--window-size=1280,1000", url)
        dom = _run(chromium, "--dump-dom", url)
        problems = [
            f"no {text!r} in the DOM" for text in (*NAVIGATION, *expected) if text not in dom
        ]
        if dom.count(CODE) < 1:
            problems.append("no highlighted code block")
        if not png.is_file() or not png.read_bytes().startswith(PNG_MAGIC):
            problems.append("no PNG written")
        elif png.stat().st_size < 20_000:  # a blank page compresses to a few kB
            problems.append(f"PNG of {png.stat().st_size} bytes: a blank page?")
        shots.append(Shot(page, png, tuple(problems)))
    return shots


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "site")
    out = Path(argv[1] if len(argv) > 1 else "build/screenshots")
    chromium = find_chromium()
    if chromium is None:
        print("chromium not found: apt-get install chromium (or set CHROMIUM=)", file=sys.stderr)
        return 2
    if not (site / "index.html").is_file():
        print(f"{site}/index.html not found: run `make docs` first", file=sys.stderr)
        return 2
    failed = False
    for shot in render(site, out, chromium):
        print(f"{shot.png}  {shot.page}: {'; '.join(shot.problems) or 'ok'}")
        failed |= bool(shot.problems)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
