"""`make bench`: redisvec next to raw redis-py and the official integrations, on one server.

Usage::

    python benchmarks/run.py            # full run (creates benchmarks/.venvs on first use)
    python benchmarks/run.py --quick    # tiny corpus, one round: a smoke test (< 60 s)
    python benchmarks/run.py --here --variants raw,redisvec-core   # no venvs: this interpreter

Each variant runs in its own worker process, in its own virtual environment (langchain-redis
and llama-index-vector-stores-redis pin incompatible redisvl versions, and neither may become a
dependency of the project). The runner starts one server, sends every worker the same cases
(`workers/common.py` does the timing, so every library is measured by the same code), rotates
the order of the variants each round, and reports medians and ratios to the raw floor measured
in the same run: the machine is shared and noisy, absolute times drift, ratios much less.

The runner needs only the standard library to bootstrap: it creates the environments, then
re-executes itself in the redisvec environment (which also holds matplotlib, for the chart).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENVS = HERE / ".venvs"
DATA = HERE / ".data"
LOGS = HERE / ".logs"
SEED = 20261126  # v2: clustered corpus
JOB_TIMEOUT = 600.0


@dataclass(frozen=True)
class Env:
    name: str
    requirements: str
    editable: str | None = None  # the project itself, installed editable with these extras


ENVS = {
    "raw": Env("raw", "requirements-raw.txt"),
    "langchain-redis": Env("langchain-redis", "requirements-langchain-redis.txt"),
    "llama-index-redis": Env("llama-index-redis", "requirements-llama-index-redis.txt"),
    "redisvec": Env(
        "redisvec", "requirements-redisvec.txt", editable="langchain,llama-index,server"
    ),
}
RUNNER_ENV = "redisvec"


@dataclass(frozen=True)
class VariantSpec:
    key: str
    label: str
    script: str
    env: str
    ours: bool = False
    official: bool = False


VARIANTS = [
    VariantSpec("raw", "raw redis-py", "raw.py", "raw"),
    # raw redis-py fed the frameworks' inputs, building their objects: an adapter's own floor
    VariantSpec(
        "raw-langchain", "raw redis-py + LangChain objects", "raw_frameworks.py", "redisvec"
    ),
    VariantSpec(
        "raw-llama-index", "raw redis-py + LlamaIndex objects", "raw_frameworks.py", "redisvec"
    ),
    VariantSpec(
        "langchain-redis", "langchain-redis", "langchain_redis_official.py", "langchain-redis",
        official=True,
    ),
    VariantSpec(
        "llama-index-redis", "llama-index-vector-stores-redis", "llama_index_redis_official.py",
        "llama-index-redis", official=True,
    ),
    VariantSpec("redisvec-core", "redisvec core", "redisvec_core.py", "redisvec", ours=True),
    VariantSpec(
        "redisvec-langchain", "redisvec LangChain", "redisvec_langchain.py", "redisvec", ours=True
    ),
    VariantSpec(
        "redisvec-llama-index", "redisvec LlamaIndex", "redisvec_llama_index.py", "redisvec",
        ours=True,
    ),
]  # fmt: skip
BY_KEY = {v.key: v for v in VARIANTS}
FP16_VARIANTS = ("raw", "redisvec-core")


@dataclass(frozen=True)
class Size:
    n: dict[tuple[int, str], int]
    q: int
    q_async: int
    rounds: int


FULL = Size(
    n={(384, "FLAT"): 5000, (384, "HNSW"): 3000, (1536, "FLAT"): 5000, (1536, "HNSW"): 2000},
    q=100,
    q_async=160,
    rounds=5,
)
QUICK = Size(
    n={(384, "FLAT"): 300, (384, "HNSW"): 300, (1536, "FLAT"): 300, (1536, "HNSW"): 300},
    q=20,
    q_async=32,
    rounds=1,
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- environments -----------------------------------------------------------------------------


def _venv_python(env: str) -> Path:
    return VENVS / env / "bin" / "python"


def ensure_env(env: Env, base_python: str) -> Path:
    """Create (or reuse) one environment; reinstall only when its requirements changed."""
    python = _venv_python(env.name)
    req = HERE / env.requirements
    stamp_text = req.read_text() + (env.editable or "")
    if env.editable:
        stamp_text += (ROOT / "pyproject.toml").read_text()
    digest = hashlib.sha256(stamp_text.encode()).hexdigest()[:16]
    stamp = VENVS / env.name / ".installed"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    log(f"creating environment {env.name} (pip install -r {env.requirements}) ...")
    if not python.exists():
        subprocess.run([base_python, "-m", "venv", str(VENVS / env.name)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--upgrade"]
    subprocess.run([*pip, "-r", str(req)], check=True)
    if env.editable:
        subprocess.run([*pip, "-e", f"{ROOT}[{env.editable}]"], check=True)
    stamp.write_text(digest)
    return python


# -- data -------------------------------------------------------------------------------------


def ensure_data(size: Size) -> dict[tuple[int, int], float]:
    """Unit vectors from a fixed seed, saved once, and the range radius per (dims, n): the
    median over the queries of the exact 10th-nearest cosine distance.

    Documents are drawn around 64 random centres (real embeddings cluster; uniformly random
    high-dimensional vectors are all nearly equidistant, which no real corpus is, and which
    makes HNSW's recall meaningless). Queries are documents' centres plus fresh noise."""
    import numpy as np

    DATA.mkdir(exist_ok=True)
    n_max = max(FULL.n.values())
    q_max = max(FULL.q, FULL.q_async, 16)
    radii: dict[tuple[int, int], float] = {}
    for dims in sorted({d for d, _ in size.n}):
        vpath, qpath = DATA / f"vectors_{dims}.npy", DATA / f"queries_{dims}.npy"
        if not (vpath.exists() and qpath.exists()):
            rng = np.random.default_rng(SEED + dims)
            centres = rng.standard_normal((64, dims)).astype(np.float32)
            centres /= np.linalg.norm(centres, axis=1, keepdims=True)
            for path, rows in ((vpath, n_max), (qpath, q_max)):
                noise = rng.standard_normal((rows, dims)).astype(np.float32) / np.sqrt(dims)
                x = centres[rng.integers(0, len(centres), rows)] + 1.0 * noise
                x /= np.linalg.norm(x, axis=1, keepdims=True)
                np.save(path, x.astype(np.float32))
        vectors, queries = np.load(vpath), np.load(qpath)[: size.q]
        for (d, _), n in size.n.items():
            if d == dims:
                sims = queries @ vectors[:n].T
                tenth = -np.sort(-sims, axis=1)[:, 9]
                radii[(dims, n)] = float(np.median(1.0 - tenth))
    return radii


# -- workers ----------------------------------------------------------------------------------


class Worker:
    """One variant's worker process, speaking one JSON line per job."""

    def __init__(
        self, spec: VariantSpec, python: str, script: str | None = None, log: str | None = None
    ) -> None:
        """``script`` (default: the variant's own) is started with the variant's key as its
        argument; ``log`` names its stderr file under .logs (default: the key)."""
        self.spec = spec
        LOGS.mkdir(exist_ok=True)
        self.log_path = LOGS / f"{log or spec.key}.log"
        self.proc = subprocess.Popen(
            [python, str(HERE / "workers" / (script or spec.script)), spec.key],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log_path.open("w"),
            text=True,
            cwd=str(HERE / "workers"),
        )
        self.hello = self._read(180.0)

    def _read(self, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            tail = self.log_path.read_text()[-1500:] if self.log_path.exists() else ""
            raise RuntimeError(f"worker {self.spec.key} gave no answer; its log ends:\n{tail}")
        return json.loads(line)  # type: ignore[no-any-return]

    def call(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        return self._read(JOB_TIMEOUT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except Exception:
                self.proc.kill()


# -- the run ----------------------------------------------------------------------------------


def _server_cpu(client: Any) -> float:
    info = client.info("cpu")
    return sum(float(info.get(k, 0)) for k in ("used_cpu_sys", "used_cpu_user",
               "used_cpu_sys_children", "used_cpu_user_children"))  # fmt: skip


def settle(client: Any, limit: float = 5.0, step: float = 0.1) -> None:
    """Wait until the server is idle (under 5% CPU over ``step`` seconds, its threads and forks
    included): dropping an index frees memory and collects garbage in the background (threads,
    a forked GC), which on a 2-core machine would slow whichever variant ran next."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu0, t0 = _server_cpu(client), time.monotonic()
        time.sleep(step)
        if (_server_cpu(client) - cpu0) / (time.monotonic() - t0) < 0.05:
            return


def cleanup(client: Any, index: str, prefix: str) -> None:
    """Remove one job's index and keys (never FLUSHALL: REDIS_URL may be someone's server), and
    wait for lazy freeing, so the next job's memory delta starts from a settled server."""
    with contextlib.suppress(Exception):  # the job may have failed before creating it
        client.execute_command("FT.DROPINDEX", index, "DD")
    for key in client.scan_iter(match=prefix + "*", count=1000):
        client.unlink(key)
    deadline = time.monotonic() + 10
    while int(client.info("memory").get("lazyfree_pending_objects", 0)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.01)


def server_info(client: Any) -> dict[str, str]:
    info = client.info("server")
    modules = {}
    try:
        for m in client.execute_command("MODULE", "LIST"):
            m = {(k.decode() if isinstance(k, bytes) else k): v for k, v in dict(m).items()}
            name = m["name"].decode() if isinstance(m["name"], bytes) else m["name"]
            modules[name] = str(m["ver"])
    except Exception:  # hosted servers may refuse MODULE LIST
        pass
    return {"redis_version": str(info.get("redis_version")), **modules}


def machine_info() -> dict[str, str]:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "os": platform.platform(),
        "runner python": platform.python_version(),
    }


BLOCK = 10  # queries per interleaved block
PINGS = 20  # plain-socket PINGs per query block: the loopback round trip


class Floor:
    """What no client can go below: the server's own time per query (INFO commandstats, the
    FT.SEARCH usec delta around a variant's own query block: the other workers are idle then) and
    the loopback round trip (PING on a plain socket from this process: no client library)."""

    def __init__(self, client: Any, url: str) -> None:
        import socket
        from urllib.parse import urlparse

        self.client = client
        u = urlparse(url)
        self.sock = socket.create_connection((u.hostname or "localhost", u.port or 6379))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if u.password:
            self._send(b"AUTH", *([u.username.encode()] if u.username else []), u.password.encode())
        self.pings: list[float] = []
        # (variant key, case sid, kind) -> [usec, calls, queries]
        self.server: dict[tuple[str, str, str], list[int]] = {}

    def _send(self, *words: bytes) -> bytes:
        self.sock.sendall(
            b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
        )
        data = b""
        while not data.endswith(b"\r\n"):
            data += self.sock.recv(4096)
        return data

    def ping(self) -> None:
        for _ in range(PINGS):
            t0 = time.perf_counter()
            self.sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            data = b""
            while len(data) < 7:  # +PONG\r\n
                data += self.sock.recv(64)
            self.pings.append(time.perf_counter() - t0)

    def stats(self) -> tuple[int, int]:
        found = self.client.info("commandstats").get("cmdstat_FT.SEARCH", {})
        return int(found.get("usec", 0)), int(found.get("calls", 0))

    def add(self, key: tuple[str, str, str], before: tuple[int, int], queries: int) -> None:
        after = self.stats()
        total = self.server.setdefault(key, [0, 0, 0])
        total[0] += after[0] - before[0]
        total[1] += after[1] - before[1]
        total[2] += queries

    def take(self, key: str, sid: str) -> dict[str, float]:
        """This session's server time per query (per kind), its FT.SEARCH calls per query, and
        the case's PING p50 (then forgotten: the next case measures its own)."""
        out: dict[str, float] = {}
        names = {"knn": "knn", "filtered": "knn_filtered", "range": "range"}
        for kind, name in names.items():
            usec, calls, queries = self.server.pop((key, sid, kind), (0, 0, 0))
            if queries:
                out[f"server_{name}_us"] = usec / queries
                out[f"server_{name}_calls"] = calls / queries
        if self.pings:
            out["ping_p50_us"] = sorted(self.pings)[len(self.pings) // 2] * 1e6
        return out

    def close(self) -> None:
        self.sock.close()


CHUNK = 1000  # documents per interleaved ingestion chunk


def _rotate(items: list[Any], shift: int) -> list[Any]:
    shift %= max(len(items), 1)
    return items[shift:] + items[:shift]


class Run:
    """Drives the workers through the rounds and collects their answers."""

    def __init__(self, url: str, client: Any, workers: dict[str, Worker], size: Size) -> None:
        self.url, self.client, self.workers, self.size = url, client, workers, size
        self.floor = Floor(client, url)
        self.results: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.count = 0

    def _ok(self, spec: VariantSpec, case: dict[str, Any], answer: dict[str, Any]) -> bool:
        if "error" in answer:
            self.errors.append(f"{spec.key} {case['case']} {case['dtype']}: {answer['error']}")
            log(f"ERROR {self.errors[-1]}\n{answer.get('traceback', '')}")
            return False
        return True

    def _case(self, spec: VariantSpec, base: dict[str, Any], dtype: str) -> dict[str, Any]:
        self.count += 1
        tag = f"{os.getpid()}_{self.count}"
        return {
            **base,
            "dtype": dtype,
            "index": f"bench_{spec.key}_{tag}",
            "prefix": f"bench:{spec.key}:{tag}:",
            "sid": tag,
        }

    def _done(self, spec: VariantSpec, case: dict[str, Any], answer: dict[str, Any]) -> None:
        cleanup(self.client, case["index"], case["prefix"])
        if not self._ok(spec, case, answer):
            return
        answer.update(key=spec.key, dtype=case["dtype"], round=case["round"])
        answer.update(self.floor.take(spec.key, case["sid"]))
        self.results.append(answer)
        log(
            f"r{case['round']} {case['case']:>9} {case['dtype']:<7} {spec.key:<20} "
            f"ingest {answer['ingest_docs_per_s']:8.0f}/s"
            + (f"  knn p50 {answer['knn_p50_ms']:.2f} ms" if "knn_p50_ms" in answer else "")
        )

    def case(self, rnd: int, ci: int, base: dict[str, Any], variants: list[VariantSpec]) -> None:
        """One case of one round. The float32 sessions of every variant are created, then fed
        the corpus in interleaved chunks, then queried in interleaved blocks, then each runs its
        async measure. float16 / no-vector sessions only ingest and measure memory and recall,
        one at a time."""
        q, n = self.size.q, base["n"]
        live: list[tuple[VariantSpec, dict[str, Any]]] = []
        for spec in _rotate(variants, rnd + ci):
            w = self.workers[spec.key]
            dtypes = ["float32"]
            if spec.key in FP16_VARIANTS:
                dtypes.append("float16")
            if spec.key == "raw" and rnd == 0:
                dtypes.append("none")
            for dtype in dtypes:
                case = self._case(spec, base, dtype)
                settle(self.client)
                answer = w.call("setup", sid=case["sid"], url=self.url, case=case)
                if not self._ok(spec, case, answer):
                    cleanup(self.client, case["index"], case["prefix"])
                    continue
                if dtype == "float32":
                    live.append((spec, case))
                    continue
                answer = w.call("ingest", sid=case["sid"], start=0, stop=n)
                if self._ok(spec, case, answer):
                    answer = w.call("ready", sid=case["sid"])
                if self._ok(spec, case, answer) and dtype == "float16":
                    w.call("queries", sid=case["sid"], kind="knn", start=0, count=q)
                self._done(spec, case, w.call("finish", sid=case["sid"]))
        for chunk, start in enumerate(range(0, n, CHUNK)):
            for spec, case in _rotate(live, chunk):
                settle(self.client, step=0.05)
                answer = self.workers[spec.key].call(
                    "ingest", sid=case["sid"], start=start, stop=min(start + CHUNK, n)
                )
                self._ok(spec, case, answer)
        kinds: dict[str, list[str]] = {}
        for spec, case in live:
            answer = self.workers[spec.key].call("ready", sid=case["sid"])
            if self._ok(spec, case, answer):
                kinds[case["sid"]] = answer["kinds"]
        live = [(spec, case) for spec, case in live if case["sid"] in kinds]
        self.floor.pings.clear()
        for block, start in enumerate(range(0, q, BLOCK)):
            self.floor.ping()
            for spec, case in _rotate(live, block):
                for kind in kinds[case["sid"]]:
                    count = min(BLOCK, q - start)
                    before = self.floor.stats()
                    answer = self.workers[spec.key].call(
                        "queries", sid=case["sid"], kind=kind, start=start, count=count
                    )
                    if self._ok(spec, case, answer):
                        self.floor.add((spec.key, case["sid"], kind), before, count)
        for spec, case in live:
            settle(self.client, step=0.05)
            self._ok(spec, case, self.workers[spec.key].call("async", sid=case["sid"]))
        for spec, case in live:
            self._done(spec, case, self.workers[spec.key].call("finish", sid=case["sid"]))

    def all(self, variants: list[VariantSpec], radii: dict[tuple[int, int], float]) -> None:
        cases = sorted(self.size.n)
        for rnd in range(self.size.rounds):
            for ci, (dims, algo) in enumerate(cases):
                n = self.size.n[(dims, algo)]
                base = {
                    "case": f"{dims}/{algo}",
                    "dims": dims,
                    "algo": algo,
                    "n": n,
                    "q": self.size.q,
                    "q_async": self.size.q_async,
                    "radius": radii[(dims, n)],
                    "data_dir": str(DATA),
                    "round": rnd,
                }
                self.case(rnd, ci, base, variants)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny corpus, one round (< 60 s)")
    parser.add_argument("--rounds", type=int, help="repeat every case this many times")
    parser.add_argument(
        "--variants", default=",".join(v.key for v in VARIANTS), help="comma-separated keys"
    )
    parser.add_argument(
        "--here",
        action="store_true",
        help="no virtual environments: run every worker with this interpreter (variants whose "
        "packages are missing are reported as unavailable)",
    )
    parser.add_argument("--cases", help="comma-separated dims/algorithm, e.g. 384/HNSW,1536/FLAT")
    parser.add_argument("--out", type=Path, default=HERE, help="where RESULTS.md and the PNG go")
    parser.add_argument("--in-runner-env", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    variants = [BY_KEY[k.strip()] for k in args.variants.split(",") if k.strip()]
    if variants[0].key != "raw" and "raw" not in [v.key for v in variants]:
        parser.error("the raw floor ('raw') must be one of the variants: ratios are to it")

    pythons: dict[str, str] = {}
    if args.here:
        pythons = {v.env: sys.executable for v in variants}
    else:
        VENVS.mkdir(exist_ok=True)
        base = os.environ.get("BENCH_PYTHON", sys.executable)
        needed = sorted({v.env for v in variants} | {RUNNER_ENV})
        for env in needed:
            try:
                pythons[env] = str(ensure_env(ENVS[env], base))
            except subprocess.CalledProcessError as exc:
                log(f"environment {env} could not be created ({exc}); its variants are skipped")
        runner = pythons.get(RUNNER_ENV)
        if runner is None:
            log("the redisvec environment is required to run the benchmark")
            return 1
        if not args.in_runner_env and Path(sys.prefix).resolve() != (VENVS / RUNNER_ENV).resolve():
            os.execv(runner, [runner, __file__, *(argv or sys.argv[1:]), "--in-runner-env"])

    size = QUICK if args.quick else FULL
    if args.rounds:
        size = Size(size.n, size.q, size.q_async, args.rounds)
    if args.cases:
        wanted = {(int(c.split("/")[0]), c.split("/")[1].upper()) for c in args.cases.split(",")}
        size = Size(
            {c: n for c, n in size.n.items() if c in wanted}, size.q, size.q_async, size.rounds
        )
    started = time.perf_counter()
    radii = ensure_data(size)

    import redis

    from redisvec.server import LocalRedis

    server = None
    url = os.environ.get("REDIS_URL")
    if not url:
        server = LocalRedis().start()
        url = server.url
    client = redis.Redis.from_url(url)
    log(f"server {url}")
    workers: dict[str, Worker] = {}
    unavailable: dict[str, str] = {}
    for spec in variants:
        python = pythons.get(spec.env)
        if python is None:
            unavailable[spec.key] = f"environment {spec.env} is missing"
            continue
        try:
            workers[spec.key] = Worker(spec, python)
            log(f"worker {spec.key}: {workers[spec.key].hello['versions']}")
        except Exception as exc:
            unavailable[spec.key] = str(exc).splitlines()[-1]
            log(f"variant {spec.key} unavailable: {unavailable[spec.key]}")
    if "raw" not in workers:
        log("the raw floor could not start; nothing to compare with")
        return 1
    active = [v for v in variants if v.key in workers]
    run = Run(url, client, workers, size)
    try:
        run.all(active, radii)
        results, errors = run.results, run.errors
        meta = {
            "machine": machine_info(),
            "server": server_info(client),
            "workers": {k: w.hello for k, w in workers.items()},
            "unavailable": unavailable,
            "errors": errors,
            "size": {
                "n": {f"{d}/{a}": n for (d, a), n in size.n.items()},
                "q": size.q,
                "q_async": size.q_async,
                "rounds": size.rounds,
            },
            "radii": {f"{d}/{n}": r for (d, n), r in radii.items()},
            "quick": args.quick,
            "here": args.here,
            "seconds": time.perf_counter() - started,
        }
    finally:
        for w in workers.values():
            w.stop()
        run.floor.close()
        client.close()
        if server is not None:
            server.stop()

    import report

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    text = report.write(results, meta, args.out)
    print(text)
    log(f"done in {meta['seconds']:.0f} s; wrote {args.out / 'RESULTS.md'}")
    return 0 if not errors else 2


if __name__ == "__main__":
    sys.exit(main())
