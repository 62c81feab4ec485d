"""`make bench-scale`: how ingestion, latency, recall and memory change from 10k to 1M documents.

Usage::

    python benchmarks/scale.py            # every point (resumable; creates benchmarks/.venvs)
    python benchmarks/scale.py --quick    # up to 20k documents, a few minutes at most
    python benchmarks/scale.py --quick --here --variants raw,redisvec-core   # no venvs

Points: (dims, algorithm, N) for 384-d at 10k / 100k / 1M and 1536-d at 10k / 100k / 250k, FLAT
and HNSW (M=16, EF_CONSTRUCTION=200). One index per (dims, algorithm) grows through its
checkpoints: raw redis-py and redisvec's core and two adapters write into it in rotation (the
four write the same HASH layout: text, category, year and embedding fields under one prefix; the
adapters add a ``metadata`` JSON field), and at each checkpoint every one of them queries it. The
official integrations write their own layouts, so each gets its own index, fed the same chunks
in the same rotation, up to 100k. Each finished point is saved as JSON under ``--state``
(default benchmarks/.scale); a rerun skips it (a partly done group re-ingests up to its first
missing point, unmeasured). SCALE.md and scale.png are written from every saved point.

Every point is checked: FT.INFO num_docs equals what was loaded, recall@10 against numpy's exact
answer, filtered hits all in the query's category. A failed check fails the run (exit 2).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import run
import scale_data

HERE = run.HERE
STATE = HERE / ".scale"
EFS = (10, 50, 200)
OFFICIAL_MAX = 100_000
BLOCK = 10  # queries per rotated query block
MAIN = ("raw", "redisvec-core", "redisvec-langchain", "redisvec-llama-index")
OFFICIAL = ("langchain-redis", "llama-index-redis")


@dataclass(frozen=True)
class Plan:
    checkpoints: dict[int, tuple[int, ...]]  # dims -> N
    queries: int


FULL = Plan({384: (10_000, 100_000, 1_000_000), 1536: (10_000, 100_000, 250_000)}, 100)
QUICK = Plan({384: (2_000, 10_000), 1536: (1_000, 3_000)}, 20)
log = run.log


def chunk_size(a: int, b: int, writers: int) -> int:
    """Documents per chunk from ``a`` to ``b``: about six chunks per writer of the shared index,
    250 to 5,000. A client's peak RSS follows it (the inputs of one chunk are built at once)."""
    return max(250, min(5000, (b - a) // (writers * 6)))


def point_name(dims: int, algo: str, n: int) -> str:
    return f"{dims}_{algo}_{n}"


def ft_info(client: Any, index: str) -> dict[str, Any]:
    """FT.INFO with str keys, whichever RESP version the client speaks."""
    reply = client.execute_command("FT.INFO", index)
    items = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2])
    return {(k.decode() if isinstance(k, bytes) else str(k)): v for k, v in items}


def _text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def vector_attributes(info: dict[str, Any]) -> dict[str, str]:
    """The vector field's settings (ALGORITHM, M, EF_CONSTRUCTION, ...) as FT.INFO lists them."""
    for attr in info.get("attributes", []):
        flat = list(attr.items()) if isinstance(attr, dict) else list(zip(attr[::2], attr[1::2]))
        pairs = {_text(k).upper(): v for k, v in flat}
        if _text(pairs.get("TYPE", "")).upper() == "VECTOR":
            out = {k: _text(v) for k, v in pairs.items() if not isinstance(v, (list, dict))}
            for nested in (v for v in pairs.values() if isinstance(v, (list, dict))):
                items = (
                    nested.items() if isinstance(nested, dict) else zip(nested[::2], nested[1::2])
                )
                out.update({_text(k).upper(): _text(v) for k, v in items})
            return out
    return {}


def index_sizes(info: dict[str, Any]) -> dict[str, float]:
    return {k: float(_text(v)) for k, v in info.items() if k.endswith("_mb")}


def used_memory(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


@dataclass
class Tally:
    """One variant's ingestion in the current stage and its query samples at a checkpoint."""

    docs: int = 0
    seconds: float = 0.0
    memory: int = 0
    times: dict[str, list[float]] = field(default_factory=dict)
    ids: dict[str, list[list[int]]] = field(default_factory=dict)
    server: dict[str, list[int]] = field(default_factory=dict)  # kind -> [usec, calls, queries]


class Group:
    """One (dims, algorithm): the shared index, the official ones, and their checkpoints."""

    def __init__(
        self, ctx: Context, dims: int, algo: str, todo: list[int], checkpoints: tuple[int, ...]
    ) -> None:
        self.ctx, self.dims, self.algo = ctx, dims, algo
        self.todo, self.checkpoints = todo, checkpoints
        tag = f"{os.getpid()}_{dims}_{algo}"
        self.index, self.prefix = f"scale_{tag}", f"scale:{tag}:"
        self.own = {k: (f"scale_{k}_{tag}", f"scale:{k}:{tag}:") for k in OFFICIAL}
        self.workers: dict[str, run.Worker] = {}
        self.tallies: dict[str, Tally] = {}
        self.stopped = False
        self.store = f"{dims}/{algo}"

    # -- set-up ------------------------------------------------------------------------------

    def start(self) -> None:
        ctx = self.ctx
        mem0 = used_memory(ctx.client)
        extra = ["M", 16, "EF_CONSTRUCTION", 200] if self.algo == "HNSW" else []
        ctx.client.execute_command(
            "FT.CREATE", self.index, "ON", "HASH", "PREFIX", 1, self.prefix, "SCHEMA",
            "text", "TEXT", "category", "TAG", "year", "NUMERIC",
            "embedding", "VECTOR", self.algo, 6 + len(extra), "TYPE", "FLOAT32", "DIM", self.dims,
            "DISTANCE_METRIC", "COSINE", *extra,
        )  # fmt: skip
        # the shared index's memory: FT.CREATE's, then every shared-index chunk's delta (the
        # other groups' indexes live on the same server, so a total since start would count them)
        self.index_memory = used_memory(ctx.client) - mem0
        officials_needed = min(self.todo) <= OFFICIAL_MAX
        keys = [k for k in ctx.keys if k in MAIN or (officials_needed and k in OFFICIAL)]
        # started side by side: importing LangChain and LlamaIndex is most of a worker's start
        with ThreadPoolExecutor(len(keys)) as pool:
            for key, opened in zip(keys, pool.map(self._open, keys)):
                if isinstance(opened, str):
                    ctx.unavailable[key] = opened
                    log(f"variant {key} unavailable: {opened}")
                    continue
                ctx.hellos[key] = opened.hello
                self.workers[key] = opened
                self.tallies[key] = Tally()
        if "raw" not in self.workers:
            raise RuntimeError("the raw floor could not start")

    def _open(self, key: str) -> run.Worker | str:
        """A worker with its store open, or why not."""
        ctx, spec = self.ctx, run.BY_KEY[key]
        w = ctx.pool.get(key)
        if w is None:
            log_name = f"scale-{key}" + ("" if ctx.shared else f"-{self.dims}-{self.algo}")
            try:
                w = run.Worker(spec, ctx.pythons[spec.env], "scale_worker.py", log_name)
            except Exception as exc:
                return str(exc).splitlines()[-1]
            if ctx.shared:
                ctx.pool[key] = w
        index, prefix = self.own.get(key, (self.index, self.prefix))
        answer = w.call(
            "open", store=self.store, url=ctx.url, index=index, prefix=prefix, dims=self.dims,
            algo=self.algo,
            vectors=str(ctx.vectors[self.dims]), queries=str(ctx.queries[self.dims]),
        )  # fmt: skip
        if "error" in answer:
            self._release(w)
            return f"its store did not open: {answer['error']}"
        return w

    def _release(self, w: run.Worker) -> None:
        """Close this index's store in a shared worker; stop a worker of this index's own."""
        if self.ctx.shared:
            w.call("close", store=self.store)
        else:
            w.stop()

    def stop(self) -> None:
        """Stop the workers, drop the indexes and their documents (once)."""
        if self.stopped:
            return
        self.stopped = True
        for w in self.workers.values():
            self._release(w)
        for index, prefix in [(self.index, self.prefix), *self.own.values()]:
            run.cleanup(self.ctx.client, index, prefix)

    def _drop_officials(self) -> None:
        for key in [k for k in self.workers if k in OFFICIAL]:
            self._release(self.workers.pop(key))
            run.cleanup(self.ctx.client, *self.own[key])

    # -- ingestion ---------------------------------------------------------------------------

    def _ingest(self, key: str, start: int, stop: int) -> None:
        client = self.ctx.client
        run.settle(client, step=0.05)
        mem0 = used_memory(client)
        answer = self.workers[key].call("ingest", store=self.store, start=start, stop=stop)
        if "error" in answer:
            raise RuntimeError(f"{key} ingest {start}..{stop}: {answer['error']}\n"
                               f"{answer.get('traceback', '')}")  # fmt: skip
        tally = self.tallies[key]
        tally.docs += stop - start
        tally.seconds += answer["seconds"]
        delta = used_memory(client) - mem0
        tally.memory += delta
        if key in MAIN:
            self.index_memory += delta

    def grow(self, a: int, b: int, stage: int) -> None:
        """Docs a .. b-1: each chunk to one of the shared index's writers in turn, and the same
        chunk to every official integration's own index, the order rotating chunk by chunk."""
        main = [k for k in self.workers if k in MAIN]
        chunk = self.chunk = chunk_size(a, b, len(main))
        for j, start in enumerate(range(a, b, chunk)):
            stop = min(start + chunk, b)
            writer = main[(j + stage) % len(main)]
            jobs = [writer, *(k for k in self.workers if k in OFFICIAL)]
            for key in run._rotate(jobs, j):
                self._ingest(key, start, stop)
            if j % 20 == 19:
                log(f"{self.dims}/{self.algo}: {stop:,} documents")

    # -- a checkpoint ------------------------------------------------------------------------

    def _queries(self, key: str, kind: str, qis: list[int], ef: int | None = None) -> None:
        tally = self.tallies[key]
        before = self.ctx.floor.stats()
        answer = self.workers[key].call("queries", store=self.store, kind=kind, qis=qis, ef=ef)
        after = self.ctx.floor.stats()
        if "error" in answer:
            raise RuntimeError(f"{key} {kind}: {answer['error']}\n{answer.get('traceback', '')}")
        tally.times.setdefault(kind, []).extend(answer["times"])
        tally.ids.setdefault(kind, []).extend(answer["ids"])
        s = tally.server.setdefault(kind, [0, 0, 0])
        s[0] += after[0] - before[0]
        s[1] += after[1] - before[1]
        s[2] += len(qis)

    def measure(self, n: int, started: float) -> dict[str, Any]:
        ctx, q = self.ctx, self.ctx.plan.queries
        truth, truth_f = ctx.truth[self.dims][n]
        for tally in self.tallies.values():
            tally.times, tally.ids, tally.server = {}, {}, {}
        for w in self.workers.values():  # warm-up: connections, lazy initialisation
            for kind in ("knn", "filtered"):
                w.call("queries", store=self.store, kind=kind, qis=list(range(5)), ef=None)
        ctx.floor.pings.clear()
        keys = list(self.workers)
        for b, first in enumerate(range(0, q, BLOCK)):
            ctx.floor.ping()
            qis = list(range(first, min(first + BLOCK, q)))
            for key in run._rotate(keys, b):
                for kind in ("knn", "filtered"):
                    self._queries(key, kind, qis)
            if self.algo == "HNSW":
                for ef in EFS:
                    self._queries("raw", f"ef{ef}", qis, ef)
        checks: list[str] = []
        point: dict[str, Any] = {
            "dims": self.dims, "algo": self.algo, "n": n, "queries": q, "chunk": self.chunk,
            "ping_p50_us": sorted(ctx.floor.pings)[len(ctx.floor.pings) // 2] * 1e6,
        }  # fmt: skip
        info = ft_info(ctx.client, self.index)
        docs = int(float(_text(info["num_docs"])))
        if docs != n:
            checks.append(f"shared index: FT.INFO num_docs {docs}, loaded {n}")
        point["index"] = {
            "num_docs": docs,
            "bytes_per_doc": self.index_memory / n,
            "memory_basis": "FT.CREATE and the shared index's own chunks",
            "sizes_mb": index_sizes(info),
            "vector": vector_attributes(info),
        }
        variants: dict[str, Any] = {}
        for key, tally in self.tallies.items():
            if key not in self.workers:
                continue
            out = variants[key] = {"label": run.BY_KEY[key].label}
            if key in OFFICIAL:
                oinfo = ft_info(ctx.client, self.own[key][0])
                odocs = int(float(_text(oinfo["num_docs"])))
                out["own_index"] = {
                    "num_docs": odocs,
                    "sizes_mb": index_sizes(oinfo),
                    "vector": vector_attributes(oinfo),
                }
                if odocs != n:
                    checks.append(f"{key}'s index: FT.INFO num_docs {odocs}, loaded {n}")
            if tally.docs:
                out.update(
                    ingest_docs=tally.docs,
                    ingest_docs_per_s=tally.docs / tally.seconds,
                    mem_bytes_per_doc=tally.memory / tally.docs,
                )
            for kind, times in tally.times.items():
                out[kind] = self._kind(key, kind, times, tally, truth, truth_f, checks)
            rss = self.workers[key].call("rss")
            out["peak_rss_mb"], out["rss_anon_mb"] = rss["peak_rss_mb"], rss.get("rss_anon_mb")
        self._cross_checks(variants, checks)
        point["variants"] = variants
        point["checks"] = checks
        point["stage_seconds"] = time.perf_counter() - started
        for tally in self.tallies.values():
            tally.docs, tally.seconds, tally.memory = 0, 0.0, 0
        return point

    def _kind(
        self, key: str, kind: str, times: list[float], tally: Tally, truth: Any, truth_f: Any,
        checks: list[str],
    ) -> dict[str, Any]:  # fmt: skip
        import numpy as np

        ms = np.asarray(times) * 1e3
        usec, calls, queries = tally.server[kind]
        out: dict[str, Any] = {
            "p50_ms": float(np.percentile(ms, 50)),
            "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": float(ms.mean()),
            "server_us": usec / queries,
            "server_calls": calls / queries,
        }
        out["client_us"] = out["mean_ms"] * 1e3 - out["server_us"]
        filtered = kind == "filtered"
        exact = truth_f if filtered else truth
        recalls, short, off = [], 0, 0
        for qi, got in zip(range(len(tally.ids[kind])), tally.ids[kind]):
            qi %= self.ctx.plan.queries
            recalls.append(len(set(got) & set(exact[qi].tolist())) / scale_data.K)
            short += len(got) != scale_data.K
            if filtered:
                off += sum(g % scale_data.CATEGORIES != qi % scale_data.CATEGORIES for g in got)
        out["recall"] = float(np.mean(recalls))
        name = f"{key} {kind}"
        if short:
            checks.append(f"{name}: {short} queries returned fewer than {scale_data.K} hits")
        if off:
            checks.append(f"{name}: {off} hits outside the query's category")
        if self.algo == "FLAT" and out["recall"] < 0.99:
            checks.append(f"{name}: FLAT recall@10 {out['recall']:.3f} < 0.99 (exact search)")
        return out

    def _cross_checks(self, variants: dict[str, Any], checks: list[str]) -> None:
        """HNSW recall is the index's, not the client's: every client on the shared index must
        read the same answers as raw redis-py; a larger EF_RUNTIME must not lose recall."""
        if self.algo != "HNSW":
            return
        raw = variants["raw"]
        for key, out in variants.items():
            for kind in ("knn", "filtered"):
                got, floor = out[kind]["recall"], raw[kind]["recall"]
                # an official builds its own graph (or searches differently): not below raw's
                bad = got < floor - 0.1 if key in OFFICIAL else abs(got - floor) > 0.02
                if bad:
                    checks.append(
                        f"{key} {kind}: recall {got:.3f}, raw's on the same "
                        f"{'data' if key in OFFICIAL else 'index'} {floor:.3f}"
                    )
        if raw["ef200"]["recall"] < raw["ef10"]["recall"] - 0.01:
            checks.append("recall at EF_RUNTIME 200 below recall at 10")
        # A sanity floor, not a quality target: a wrong vector or a misread reply gives about
        # k/N (chance). 0.7 was the first guess; this corpus (64 wide clusters of nearly
        # equidistant unit vectors) gives 0.59 at 1M 384-d with EF 200, the index's own recall
        # (every client reads the same answers), so the floor is 0.3: far above chance.
        if raw["ef200"]["recall"] < 0.3:
            checks.append(f"recall@10 at EF_RUNTIME 200 is {raw['ef200']['recall']:.3f} < 0.3")

    # -- the whole group ---------------------------------------------------------------------

    def stages(self) -> int:
        """How many checkpoints this run grows the index through."""
        return 1 + self.checkpoints.index(max(self.todo))

    def step(self, stage: int) -> None:
        """Grow to checkpoint ``stage`` and measure it (unless an earlier run saved it)."""
        done = self.checkpoints[stage - 1] if stage else 0
        n = self.checkpoints[stage]
        if n > OFFICIAL_MAX:
            self._drop_officials()
        started = time.perf_counter()
        log(f"{self.dims}/{self.algo}: ingesting {done:,} .. {n:,}")
        self.grow(done, n, stage)
        if n in self.todo:
            self.ctx.save(self.measure(n, started))
        for tally in self.tallies.values():  # saved by an earlier run: re-ingested, unmeasured
            tally.docs, tally.seconds, tally.memory = 0, 0.0, 0


class Context:
    """What the groups share: the server, the data, the worker environments, the saved points."""

    def __init__(self, args: argparse.Namespace, pythons: dict[str, str]) -> None:
        import redis

        from redisvec.server import LocalRedis

        self.args, self.pythons = args, pythons
        self.plan = QUICK if args.quick else FULL
        self.state: Path = args.state or (STATE / ("quick" if args.quick else "full"))
        self.state.mkdir(parents=True, exist_ok=True)
        self.keys = [k.strip() for k in args.variants.split(",") if k.strip()]
        self.unavailable: dict[str, str] = {
            k: "not selected" for k in OFFICIAL if k not in self.keys
        }
        for key in self.keys:
            if run.BY_KEY[key].env not in pythons:
                self.unavailable[key] = f"environment {run.BY_KEY[key].env} is missing"
        self.keys = [k for k in self.keys if k not in self.unavailable]
        self.hellos: dict[str, Any] = {}
        self.started_at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        # Quick mode: one worker per client for every index (LangChain and LlamaIndex take
        # seconds to import); a full run: one per index, so its peak RSS is that index's.
        self.shared: bool = args.quick
        self.pool: dict[str, run.Worker] = {}
        self.server = None
        self.url = os.environ.get("REDIS_URL", "")
        if not self.url:
            self.server = LocalRedis().start()
            self.url = self.server.url
        self.client = redis.Redis.from_url(self.url)
        self.floor = run.Floor(self.client, self.url)
        self.vectors: dict[int, Path] = {}
        self.queries: dict[int, Path] = {}
        self.truth: dict[int, dict[int, Any]] = {}

    def data(self, dims: int) -> None:
        checkpoints = list(self.plan.checkpoints[dims])
        t0 = time.perf_counter()
        self.vectors[dims] = scale_data.vectors(run.DATA, dims, max(checkpoints))
        self.queries[dims] = scale_data.queries(run.DATA, dims)
        self.truth[dims] = scale_data.truth(
            run.DATA, self.vectors[dims], self.queries[dims], checkpoints
        )
        log(f"{dims}-d corpus and exact answers ready ({time.perf_counter() - t0:.0f} s)")

    def done(self, dims: int, algo: str, n: int) -> bool:
        return (self.state / f"{point_name(dims, algo, n)}.json").exists()

    def save(self, point: dict[str, Any]) -> None:
        point["variant_versions"] = {k: self.hellos[k] for k in point["variants"]}
        point["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        name = point_name(point["dims"], point["algo"], point["n"])
        tmp = self.state / f"{name}.json.tmp"
        tmp.write_text(json.dumps(point, indent=1))
        os.replace(tmp, self.state / f"{name}.json")
        self.write_meta()
        v = point["variants"]
        log(
            f"point {name} saved in {point['stage_seconds']:.0f} s: raw ingest "
            f"{v['raw'].get('ingest_docs_per_s', 0):.0f}/s, knn p50 {v['raw']['knn']['p50_ms']:.2f}"
            f" ms, recall {v['raw']['knn']['recall']:.3f}"
            + (f"; CHECKS FAILED: {point['checks']}" if point["checks"] else "")
        )

    def write_meta(self, seconds: float | None = None) -> None:
        """meta.json: the machine, the server, every client's versions (kept from earlier runs),
        and each run's duration (``seconds`` when it ended; an interrupted run has none)."""
        path = self.state / "meta.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        meta = {**self.meta(), "versions": {**old.get("versions", {}), **self.hellos}}
        runs = [r for r in old.get("runs", []) if r.get("started") != self.started_at]
        meta["runs"] = [*runs, {"started": self.started_at, "seconds": seconds}]
        path.write_text(json.dumps(meta, indent=1))

    def meta(self) -> dict[str, Any]:
        return {
            "machine": run.machine_info(),
            "server": run.server_info(self.client),
            "unavailable": self.unavailable,
            "quick": self.args.quick,
            "here": self.args.here,
            "plan": {str(d): list(n) for d, n in self.plan.checkpoints.items()},
            "queries": self.plan.queries,
            "load": os.getloadavg(),
            "finished": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        }

    def close(self) -> None:
        for w in self.pool.values():
            w.stop()
        self.floor.close()
        self.client.close()
        if self.server is not None:
            self.server.stop()


def _pythons(args: argparse.Namespace, argv: list[str]) -> dict[str, str] | None:
    """The interpreter of each environment; re-executes in the runner's environment (as
    run.py does), which has redisvec and matplotlib."""
    keys = [k.strip() for k in args.variants.split(",") if k.strip()]
    if args.here:
        return {run.BY_KEY[k].env: sys.executable for k in keys}
    run.VENVS.mkdir(exist_ok=True)
    base = os.environ.get("BENCH_PYTHON", sys.executable)
    pythons: dict[str, str] = {}
    for env in sorted({run.BY_KEY[k].env for k in keys} | {run.RUNNER_ENV}):
        try:
            pythons[env] = str(run.ensure_env(run.ENVS[env], base))
        except Exception as exc:
            log(f"environment {env} could not be created ({exc}); its variants are skipped")
    runner = pythons.get(run.RUNNER_ENV)
    if runner is None:
        log("the redisvec environment is required to run the benchmark")
        return None
    if (
        not args.in_runner_env
        and Path(sys.prefix).resolve() != (run.VENVS / run.RUNNER_ENV).resolve()
    ):
        os.execv(runner, [runner, __file__, *argv, "--in-runner-env"])
    return pythons


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="up to 20k documents, 20 queries")
    parser.add_argument("--here", action="store_true", help="no venvs: this interpreter")
    parser.add_argument("--variants", default=",".join(MAIN + OFFICIAL))
    parser.add_argument("--groups", help="comma-separated dims/algorithm, e.g. 384/HNSW")
    parser.add_argument("--state", type=Path, help="where finished points are saved")
    parser.add_argument("--out", type=Path, help="where SCALE.md and scale.png go")
    parser.add_argument(
        "--report", action="store_true", help="only write SCALE.md from the saved points"
    )
    parser.add_argument("--in-runner-env", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.report:
        import scale_report

        plan = QUICK if args.quick else FULL
        state = args.state or (STATE / ("quick" if args.quick else "full"))
        out = args.out or (HERE if not args.quick else state)
        return 2 if scale_report.write(state, out, plan.checkpoints) else 0
    if "raw" not in args.variants.split(","):
        parser.error("raw redis-py ('raw') is the floor every ratio is to: include it")
    pythons = _pythons(args, argv)
    if pythons is None:
        return 1
    started = time.perf_counter()
    ctx = Context(args, pythons)
    # FLAT first: its points are quick; HNSW at EF_CONSTRUCTION 200 is the long part
    groups = [(d, a) for a in ("FLAT", "HNSW") for d in sorted(ctx.plan.checkpoints)]
    if args.groups:
        wanted = {(int(g.split("/")[0]), g.split("/")[1].upper()) for g in args.groups.split(",")}
        groups = [g for g in groups if g in wanted]
    live: list[Group] = []
    try:
        log(f"server {ctx.url}; points saved in {ctx.state}")
        for dims, algo in groups:
            checkpoints = ctx.plan.checkpoints[dims]
            todo = [n for n in checkpoints if not ctx.done(dims, algo, n)]
            if not todo:
                log(f"{dims}/{algo}: every point already saved")
                continue
            if dims not in ctx.vectors:
                ctx.data(dims)
            group = Group(ctx, dims, algo, todo, checkpoints)
            live.append(group)
            group.start()
        # Checkpoint by checkpoint across the indexes (all of them at 10k, then at 100k, then the
        # largest, the longest last): a run cut short has every small point, not one index's all.
        for stage in range(max((g.stages() for g in live), default=0)):
            for group in sorted(
                live, key=lambda g: (g.algo == "HNSW", g.checkpoints[-1] * g.dims, -g.dims)
            ):
                if stage < group.stages():
                    group.step(stage)
                    if stage == group.stages() - 1:
                        group.stop()
        ctx.write_meta(time.perf_counter() - started)
    finally:
        for group in live:
            group.stop()
        ctx.close()
    import scale_report

    out = args.out or (HERE if not args.quick else ctx.state)
    failed = scale_report.write(ctx.state, out, ctx.plan.checkpoints)
    log(f"done in {time.perf_counter() - started:.0f} s; wrote {out / 'SCALE.md'}")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
