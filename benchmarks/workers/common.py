"""What every benchmark worker shares: the protocol loop, the dataset, and the timed case.

A worker is one process in one virtual environment, driving one client library (a "variant").
It reads JSON jobs from stdin, one per line, and answers each with exactly one JSON line on the
*original* stdout; everything else a library prints goes to stderr, so it cannot corrupt the
protocol. Only numpy, redis-py and the standard library are used here: this file runs in every
benchmark environment, whatever else is installed there.

A variant implements `Variant`; `run_case` does the timing, so every library is measured by the
same code: the same inputs, prepared before the clock starts; the same clock around the same
calls; the same correctness checks on what came back (ids parsed from the returned text).
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import redis

K = 10
CONCURRENCY = 16
CATEGORIES = 10


@dataclass(frozen=True)
class Data:
    """The corpus of one case: doc i has id ``d<i>``, its text starts with that id."""

    vectors: np.ndarray  # (n, dims) float32, unit length
    queries: np.ndarray  # (q, dims) float32, unit length
    ids: list[str]
    texts: list[str]
    categories: list[str]
    years: list[int]

    @property
    def n(self) -> int:
        return len(self.ids)

    def query_category(self, i: int) -> str:
        return f"c{i % CATEGORIES}"


_WORDS = [
    *("redis", "vector", "search", "index", "query", "engine", "latency", "throughput"),
    *("memory", "cosine", "neighbour", "hash", "field", "tag", "numeric", "filter", "range"),
    *("recall", "float", "embedding", "document", "store", "retrieval"),
]


def text_of(i: int) -> str:
    """Doc ``i``'s text: its id, then 24 words."""
    return f"d{i} " + " ".join(_WORDS[(i * 7 + j * 3) % len(_WORDS)] for j in range(24))


def make_data(data_dir: str, dims: int, n: int, q: int) -> Data:
    """The first ``n`` documents and ``q`` queries of the saved corpus."""
    vectors = np.load(Path(data_dir) / f"vectors_{dims}.npy", mmap_mode="r")[:n]
    queries = np.load(Path(data_dir) / f"queries_{dims}.npy", mmap_mode="r")[:q]
    ids = [f"d{i}" for i in range(n)]
    texts = [text_of(i) for i in range(n)]
    categories = [f"c{i % CATEGORIES}" for i in range(n)]
    years = [1990 + i % 35 for i in range(n)]
    return Data(
        np.ascontiguousarray(vectors, dtype=np.float32),
        np.ascontiguousarray(queries, dtype=np.float32),
        ids,
        texts,
        categories,
        years,
    )


def index_of_text(text: str) -> int:
    """Doc index from a returned text (``d<i> ...``): works for every library's result type."""
    return int(text.split(" ", 1)[0][1:])


class Variant:
    """One client library. Methods marked *timed* are called inside the clock."""

    name = "?"
    packages: tuple[str, ...] = ("redis", "hiredis", "numpy")
    supports_range = True
    datatypes: tuple[str, ...] = ("float32",)

    def __init__(self, url: str, case: dict[str, Any], data: Data) -> None:
        self.url = url
        self.case = case
        self.data = data
        self.dims: int = case["dims"]
        self.algo: str = case["algo"]  # "FLAT" | "HNSW"
        self.dtype: str = case["dtype"]  # "float32" | "float16" | "none"
        self.index_name: str = case["index"]
        self.prefix: str = case["prefix"]  # ends with ":"

    def redisvec_store_options(self) -> dict[str, Any]:
        """The settings both redisvec adapters' stores get: the same index, so that they differ
        only in the framework around it."""
        return {
            "index_name": self.index_name,
            "redis_url": self.url,
            "key_prefix": self.prefix,
            "metadata_schema": [
                {"name": "category", "type": "tag"},
                {"name": "year", "type": "numeric"},
            ],
            "algorithm": self.algo,
            "datatype": self.dtype.upper(),
            "distance_metric": "COSINE",
            "dims": self.dims,
        }

    def create(self) -> None:
        """Create the index / store (untimed) and build each input the library expects."""

    def ingest(self, start: int, stop: int) -> None:
        """*timed*: write documents ``start .. stop-1`` (text, category, year, vector)."""
        raise NotImplementedError

    def knn(self, qi: int, filtered: bool) -> Any:
        """*timed*: the K nearest to query ``qi`` (among ``query_category(qi)`` if filtered)."""
        raise NotImplementedError

    def range(self, qi: int, radius: float) -> Any:
        """*timed*: every doc within ``radius`` (cosine distance) of query ``qi``, up to 100."""
        raise NotImplementedError

    async def aopen(self) -> None:
        """Create async clients, inside the event loop that will use them."""

    async def aknn(self, qi: int) -> Any:
        """*timed*: the async KNN (no filter)."""
        raise NotImplementedError

    async def aclose(self) -> None:
        pass

    def texts_of(self, result: Any) -> list[str]:
        """The texts of a result, nearest first (untimed; used by the checks)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


# -- measuring ------------------------------------------------------------------------------


def _percentiles(samples: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(samples) * 1e3
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def _used_memory(r: redis.Redis) -> int:
    return int(r.info("memory")["used_memory"])


def _num_docs(r: redis.Redis, index: str) -> int:
    reply = r.execute_command("FT.INFO", index)
    items = reply.items() if isinstance(reply, dict) else zip(reply[::2], reply[1::2])
    for key, value in items:
        if (key.decode() if isinstance(key, bytes) else key) == "num_docs":
            return int(float(value))
    raise RuntimeError(f"FT.INFO {index} has no num_docs")


def _exact_topk(data: Data, qi: int, category: str | None) -> list[int]:
    sims = data.vectors @ data.queries[qi]
    if category is not None:
        mask = np.fromiter((c == category for c in data.categories), bool, data.n)
        sims = np.where(mask, sims, -np.inf)
    return [int(i) for i in np.argsort(-sims, kind="stable")[:K]]


async def _async_throughput(v: Variant, count: int) -> tuple[float, float]:
    await v.aopen()
    try:
        # warm up: lazy initialisation, then one pooled connection per concurrent task
        await v.aknn(0)
        await asyncio.gather(*(v.aknn(i % count) for i in range(CONCURRENCY)))
        # Sequential and concurrent phases alternate (twice each), so that a burst of noise on
        # this shared machine does not land on one phase only.
        seq_time = conc_time = 0.0
        for _ in range(2):
            t0 = time.perf_counter()
            for i in range(count):
                await v.aknn(i)
            seq_time += time.perf_counter() - t0

            pending = iter(range(count))

            async def drain(pending: Iterator[int] = pending) -> None:
                for i in pending:
                    await v.aknn(i)

            t0 = time.perf_counter()
            await asyncio.gather(*(drain() for _ in range(CONCURRENCY)))
            conc_time += time.perf_counter() - t0
        seq, conc = 2 * count / seq_time, 2 * count / conc_time
        return seq, conc
    finally:
        await v.aclose()


class Session:
    """One variant on one case, driven by the runner: create; ingest chunks of documents; ready
    (checks, warm-up); blocks of timed queries; the async measure; finish (the summary).

    The runner interleaves the variants' chunks and query blocks, so a burst of noise on this
    shared machine hits every variant, not the one that happened to run then. Memory is the sum
    of the server's used_memory deltas around this variant's own steps (the others are idle)."""

    def __init__(self, variant_cls: type[Variant], url: str, case: dict[str, Any]) -> None:
        self.case = case
        self.data = make_data(
            case["data_dir"], case["dims"], case["n"], max(case["q"], case["q_async"])
        )
        self.out: dict[str, Any] = {"variant": variant_cls.name, "case": case["case"]}
        self.checks: list[str] = []
        self.times: dict[str, list[float]] = {"knn": [], "filtered": [], "range": []}
        self.recall: list[float] = []
        self.range_hits = 0
        self.ingest_seconds = 0.0
        self.r = redis.Redis.from_url(url)
        mem0 = _used_memory(self.r)
        self.v = variant_cls(url, case, self.data)
        self.v.create()
        self.memory = _used_memory(self.r) - mem0

    def ingest(self, start: int, stop: int) -> None:
        gc.collect()
        mem0 = _used_memory(self.r)
        t0 = time.perf_counter()
        self.v.ingest(start, stop)
        self.ingest_seconds += time.perf_counter() - t0
        self.memory += _used_memory(self.r) - mem0

    def ready(self) -> None:
        n = self.data.n
        self.out["ingest_docs_per_s"] = n / self.ingest_seconds
        self.out["mem_bytes_per_doc"] = self.memory / n
        docs = _num_docs(self.r, self.v.index_name)
        if docs != n:
            self.checks.append(f"index has {docs} docs after ingesting {n}")
        if self.case["dtype"] != "none":
            for i in range(min(10, self.case["q"])):  # warm up connections, lazy initialisation
                self.v.knn(i, False)
                self.v.knn(i, True)
                if self.v.supports_range:
                    self.v.range(i, self.case["radius"])

    def kinds(self) -> list[str]:
        return ["knn", "filtered", "range"] if self.v.supports_range else ["knn", "filtered"]

    def queries(self, kind: str, start: int, count: int) -> None:
        """Time queries ``start .. start+count-1`` of one kind, then check what they returned."""
        v, radius = self.v, self.case["radius"]
        calls = {
            "knn": lambda i: v.knn(i, False),
            "filtered": lambda i: v.knn(i, True),
            "range": lambda i: v.range(i, radius),
        }
        call = calls[kind]
        results = []
        for i in range(start, start + count):
            t0 = time.perf_counter()
            res = call(i)
            self.times[kind].append(time.perf_counter() - t0)
            results.append(res)
        for i, res in zip(range(start, start + count), results):
            self._check(kind, i, [index_of_text(t) for t in v.texts_of(res)])

    def _check(self, kind: str, i: int, got: list[int]) -> None:
        data, v = self.data, self.v
        if kind == "knn":
            self.recall.append(len(set(got) & set(_exact_topk(data, i, None))) / K)
            if len(got) != K:
                self.checks.append(f"KNN query {i} returned {len(got)} results, not {K}")
        elif kind == "filtered":
            wrong = [g for g in got if data.categories[g] != data.query_category(i)]
            if wrong or len(got) != K:
                self.checks.append(
                    f"filtered query {i}: {len(got)} hits, {len(wrong)} off-category"
                )
            elif v.algo == "FLAT" and v.dtype == "float32":
                missing = set(_exact_topk(data, i, data.query_category(i))) - set(got)
                if len(missing) > 1:
                    self.checks.append(f"filtered FLAT query {i} missed {sorted(missing)}")
        else:
            self.range_hits += len(got)
            if got:
                far = 1.0 - float(np.min(data.vectors[got] @ data.queries[i]))
                if far > self.case["radius"] + 1e-3:
                    self.checks.append(f"range query {i} returned a doc at distance {far:.4f}")

    def run_async(self) -> None:
        seq, conc = asyncio.run(_async_throughput(self.v, self.case["q_async"]))
        self.out.update(async_seq_qps=seq, async_conc_qps=conc, async_speedup=conc / seq)

    def finish(self) -> dict[str, Any]:
        self.v.close()
        self.r.close()
        names = {"knn": "knn", "filtered": "knn_filtered", "range": "range"}
        for kind, samples in self.times.items():
            if samples:
                p50, p95 = _percentiles(samples)
                self.out[f"{names[kind]}_p50_ms"], self.out[f"{names[kind]}_p95_ms"] = p50, p95
        if self.recall:
            self.out["recall_at_10"] = float(np.mean(self.recall))
        if self.times["range"]:
            self.out["range_mean_hits"] = self.range_hits / len(self.times["range"])
        self.out["checks"] = self.checks[:5]
        return self.out


# -- the protocol ---------------------------------------------------------------------------


def _versions(packages: Sequence[str]) -> dict[str, str]:
    found = {}
    for p in packages:
        try:
            found[p] = importlib.metadata.version(p)
        except importlib.metadata.PackageNotFoundError:
            found[p] = "not installed"
    return found


def _parser() -> str:
    """The reply parser and protocol redis-py uses here (it silently falls back to its
    pure-Python parser when hiredis is missing or older than it accepts)."""
    from redis.connection import Connection, DefaultParser

    name = "hiredis" if "Hiredis" in DefaultParser.__name__ else "pure-Python parser"
    return f"{name}, RESP{Connection().protocol or 2}"


def serve(variant_cls: type[Variant]) -> None:
    """The worker's main loop: a hello line, then one answer line per job line."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints (and C-level writes) from libraries go to stderr
    sys.stdout = sys.stderr

    def send(message: dict[str, Any]) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    send(
        {
            "hello": variant_cls.name,
            "python": platform.python_version(),
            "executable": sys.executable,
            "versions": _versions(variant_cls.packages),
            "parser": _parser(),
        }
    )
    sessions: dict[str, Session] = {}
    for line in sys.stdin:
        job = json.loads(line)
        op = job["op"]
        if op == "quit":
            break
        try:
            if op == "setup":
                sessions[job["sid"]] = Session(variant_cls, job["url"], job["case"])
                send({"ok": True})
            elif op == "ingest":
                sessions[job["sid"]].ingest(job["start"], job["stop"])
                send({"ok": True})
            elif op == "ready":
                session = sessions[job["sid"]]
                session.ready()
                send({"kinds": session.kinds(), **session.out})
            elif op == "queries":
                sessions[job["sid"]].queries(job["kind"], job["start"], job["count"])
                send({"ok": True})
            elif op == "async":
                sessions[job["sid"]].run_async()
                send({"ok": True})
            elif op == "finish":
                send(sessions.pop(job["sid"]).finish())
            else:
                send({"error": f"unknown op {op!r}"})
        except Exception as exc:  # report, keep serving: one failed case is not the whole run
            sessions.pop(job.get("sid", ""), None)
            send({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})
