"""House rules that a reader cannot check by eye across the whole package: one cache mechanism
(`redisvec.memo`), and no speed figures in comments (they go stale; figures live in
``benchmarks/``)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import redisvec
import redisvec.memo as memo

SRC = Path(redisvec.__file__).parent


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text(encoding="utf-8")) for p in sorted(SRC.rglob("*.py"))]


def test_caches_are_schema_memos_keyed_by_the_types_of_redisvec_memo() -> None:
    key_types = {n for n, v in vars(memo).items() if isinstance(v, type) and n.endswith("Key")}
    lru, bad_kinds, checked = [], [], set()
    for path, text in _sources():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef):
                for deco in node.decorator_list:
                    name = ast.unparse(deco)
                    is_cache = re.match(r"(functools\.)?(lru_cache|cache)\b", name)
                    if is_cache:
                        lru.append(f"{path.relative_to(SRC)}:{node.name} @{name}")
            if not isinstance(node, ast.Call) or not node.args:
                continue
            callee = getattr(node.func, "attr", getattr(node.func, "id", None))
            if callee in ("memo", "shared"):
                checked.add(callee)
                if ast.unparse(node.args[0]) not in key_types:
                    bad_kinds.append(f"{path.relative_to(SRC)}:{node.lineno} {ast.unparse(node)}")
    assert lru == [], "cache with redisvec.memo (schema.memo / shared, a key type) instead"
    assert bad_kinds == [], "memo kinds are key types of redisvec.memo"
    assert checked == {"memo", "shared"}  # both homes were found, so both were checked


_FIGURE = re.compile(r"\d\s*(us|µs|ns|ms)\b|microsecond|nanosecond|\d+%\s*(faster|slower)", re.I)


def test_no_speed_figures_in_comments_or_docstrings() -> None:
    found = []
    for path, text in _sources():
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            is_doc = tok.type == tokenize.STRING and tok.string.lstrip("rbuRBU").startswith('"""')
            if (tok.type == tokenize.COMMENT or is_doc) and _FIGURE.search(tok.string):
                found.append(f"{path.relative_to(SRC)}:{tok.start[0]}")
    assert found == [], "keep speed figures in benchmarks/, not in comments"
