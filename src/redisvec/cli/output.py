"""What the command line prints: rich tables for people, ``--json`` for scripts.

JSON output is strict JSON (the server's NaN averages become ``null``) on stdout; messages and
progress go to stderr, so ``redisvec ... --json | jq`` always reads one document.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["err", "out", "print_json", "print_pairs", "print_table", "plain"]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def plain(value: Any) -> Any:
    """``value`` as strict JSON data: NaN / inf -> None, bytes -> text, numpy -> Python."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return plain(value.tolist())
    return value


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n")


def _cell(value: Any, width: int = 80) -> str:
    value = plain(value)
    if value is None:
        return "-"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(
    columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    out.print(table)


def print_pairs(pairs: Mapping[str, Any], title: str | None = None) -> None:
    print_table(("", "value"), list(pairs.items()), title=title)
