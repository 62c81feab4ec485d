"""`python -m redisvec` / `redisvec`: command line entry points.

``redisvec server`` needs only the core (and the server extra); every other command lives in
`redisvec.cli`, which needs the ``cli`` extra (click, rich).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["server"]:
        from redisvec.server import main as server_main

        return server_main(args[1:])
    try:
        from redisvec.cli import main as cli_main
    except ImportError as exc:
        print(
            f"redisvec: the command line needs the cli extra ({exc.name} is missing): "
            "pip install 'redisvec[cli]'\n"
            "usage: redisvec server [--port PORT]   start an embedded Redis with search",
            file=sys.stderr,
        )
        return 2
    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
