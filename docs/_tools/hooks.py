"""MkDocs hook: the pages link the benchmark chart where it lives in the repository
(``../benchmarks/results.png``, so the link works on GitHub too); the site gets a copy of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
# Files outside docs/ that pages show: repository path -> path in the site.
EXTERNAL = {"benchmarks/results.png": "assets/benchmark-results.png"}


def on_files(files: Files, config: Any) -> Files:
    for source, dest in EXTERNAL.items():
        files.append(File.generated(config, dest, abs_src_path=str(ROOT / source)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    depth = page.file.src_uri.count("/")
    for source, dest in EXTERNAL.items():
        markdown = markdown.replace(
            f"]({'../' * (depth + 1)}{source})", f"]({'../' * depth}{dest})"
        )
    return markdown
