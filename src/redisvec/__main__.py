"""`python -m redisvec` / `redisvec`: command line entry points."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(
            "usage: redisvec server [--port PORT]   start an embedded Redis with search; prints its URL"
        )
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "server":
        from redisvec.server import main as server_main

        return server_main(rest)
    print(f"redisvec: unknown command {command!r}; try `redisvec --help`", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
