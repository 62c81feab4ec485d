"""A bounded soak on loopback: 8 async writers and 8 async readers on one index, then checks.

    python benchmarks/soak.py                       # 3 minutes on an embedded server
    python benchmarks/soak.py --seconds 20 --redis-url redis://127.0.0.1:6379
    python benchmarks/soak.py --report benchmarks/SOAK.md   # also rewrite SOAK.md's soak section

Writers load batches of new documents through `AsyncSearchIndex.load` (and every fifth batch
re-loads one they wrote before: an upsert that must not add a document); readers run filtered and
unfiltered KNN queries and counts. It stops by itself after ``--seconds``. Pass criteria: zero
errors, every reader reply well formed, and the final count equal to the number of distinct ids
written, both by the index (``FT.SEARCH`` count, after indexing settles) and by the keys on the
server. Latency percentiles are per call (one write batch, one query). Exit status 1 on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import platform
import random
import re
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import redis

from redisvec import AsyncSearchIndex, IndexSchema, Tag, VectorQuery
from redisvec.connection import ConnectionConfig
from redisvec.query import CountQuery
from redisvec.schema import NumericField, TagField, TextField, VectorField
from redisvec.server import url_or_local

COLORS = ("red", "green", "blue", "a,b c", "日本語")
BEGIN, END = "<!-- soak:begin -->", "<!-- soak:end -->"


@dataclass
class Stats:
    write_ms: list[float] = field(default_factory=list)
    read_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    docs_sent: int = 0


@dataclass(frozen=True)
class SoakReport:
    seconds: float
    writers: int
    readers: int
    dims: int
    batch: int
    docs_sent: int
    distinct_ids: int
    index_count: int
    key_count: int
    write_batches: int
    reads: int
    errors: tuple[str, ...]
    write_p50_ms: float
    write_p99_ms: float
    read_p50_ms: float
    read_p99_ms: float

    @property
    def ok(self) -> bool:
        return not self.errors and self.index_count == self.key_count == self.distinct_ids

    def markdown(self) -> str:
        status = "PASS" if self.ok else "FAIL"
        return "\n".join(
            [
                f"Result: **{status}** — {self.seconds:.0f} s, {self.writers} async writers + "
                f"{self.readers} async readers on one index (HNSW, {self.dims}-d float32, COSINE; "
                f"write batches of {self.batch}), loopback, {platform.python_version()} on "
                f"{platform.machine()}.",
                "",
                "| | calls | p50 ms | p99 ms |",
                "|---|---:|---:|---:|",
                f"| write (`load`, one batch) | {self.write_batches} | {self.write_p50_ms:.2f} | "
                f"{self.write_p99_ms:.2f} |",
                f"| read (KNN k=10 / count) | {self.reads} | {self.read_p50_ms:.2f} | "
                f"{self.read_p99_ms:.2f} |",
                "",
                f"Errors: {len(self.errors)}. Documents sent {self.docs_sent} (upserts included), "
                f"distinct ids {self.distinct_ids}; final count by the index {self.index_count}, "
                f"keys on the server {self.key_count}.",
            ]
        )


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def _schema(name: str, dims: int) -> IndexSchema:
    return IndexSchema(
        name,
        prefixes=(f"{name}:",),
        fields=(
            TextField("body"),
            TagField("color", separator="\x1f"),
            NumericField("n"),
            VectorField("v", dims=dims, algorithm="hnsw", distance_metric="cosine"),
        ),
    )


async def _writer(
    index: AsyncSearchIndex, w: int, deadline: float, dims: int, batch: int, stats: Stats
) -> None:
    rng = np.random.default_rng(w)
    seq = 0
    previous: list[tuple[list[str], list[dict[str, Any]]]] = []
    while time.monotonic() < deadline:
        if seq % 5 == 4 and previous:
            ids, records = previous[int(rng.integers(len(previous)))]  # an upsert
        else:
            ids = [f"w{w}-{seq}-{j}" for j in range(batch)]
            vectors = rng.standard_normal((batch, dims)).astype(np.float32)
            records = [
                {"body": f"writer {w} doc {i}", "color": COLORS[j % len(COLORS)], "n": j, "v": v}
                for j, (i, v) in enumerate(zip(ids, vectors))
            ]
            previous = [*previous, (ids, records)][-10:]
        seq += 1
        started = time.perf_counter()
        try:
            await index.load(records, ids=ids)
        except Exception as exc:  # counted, never fatal: the soak reports every error
            stats.errors.append(f"writer {w}: {exc!r}")
            continue
        stats.write_ms.append((time.perf_counter() - started) * 1000)
        stats.ids.update(ids)
        stats.docs_sent += len(ids)


async def _reader(
    index: AsyncSearchIndex, r: int, deadline: float, dims: int, stats: Stats
) -> None:
    rng = np.random.default_rng(1000 + r)
    n = 0
    while time.monotonic() < deadline:
        q = rng.standard_normal(dims).astype(np.float32)
        flt = Tag("color") == COLORS[n % len(COLORS)] if n % 2 else None
        started = time.perf_counter()
        try:
            if n % 10 == 9:
                total = (await index.search(CountQuery(None))).total
                if total < 0:
                    raise AssertionError(f"negative count {total}")
            else:
                result = await index.search(VectorQuery(q, k=10, filter=flt))
                distances = [h.distance for h in result.hits]
                if len(distances) > 10 or distances != sorted(distances):
                    raise AssertionError(f"malformed KNN reply: {distances}")
                if flt is not None and any(
                    h.fields.get("color") != COLORS[n % len(COLORS)] for h in result.hits
                ):
                    raise AssertionError("a filtered KNN returned a document outside the filter")
        except Exception as exc:
            stats.errors.append(f"reader {r}: {exc!r}")
        else:
            stats.read_ms.append((time.perf_counter() - started) * 1000)
        n += 1


async def run_soak(
    url: str,
    seconds: float = 180.0,
    *,
    writers: int = 8,
    readers: int = 8,
    dims: int = 32,
    batch: int = 50,
) -> SoakReport:
    """Run the soak against ``url`` and return its figures (the index is dropped afterwards)."""
    name = f"soak_{uuid.uuid4().hex[:8]}"
    schema = _schema(name, dims)
    client = ConnectionConfig(url=url).async_client()
    index = AsyncSearchIndex(schema, client)  # type: ignore[arg-type]
    stats = Stats()
    try:
        await index.create()
        deadline = time.monotonic() + seconds
        started = time.monotonic()
        await asyncio.gather(
            *(_writer(index, w, deadline, dims, batch, stats) for w in range(writers)),
            *(_reader(index, r, deadline, dims, stats) for r in range(readers)),
        )
        elapsed = time.monotonic() - started
        settle = time.monotonic() + 60
        while (await index.info()).indexing and time.monotonic() < settle:
            await asyncio.sleep(0.1)
        index_count = await index.count()
        key_count = 0
        async for _ in client.scan_iter(match=f"{schema.key_prefix}*", count=5000):
            key_count += 1
    finally:
        with contextlib.suppress(redis.RedisError):
            await index.drop(delete_documents=True)
        await client.aclose()
    return SoakReport(
        seconds=elapsed,
        writers=writers,
        readers=readers,
        dims=dims,
        batch=batch,
        docs_sent=stats.docs_sent,
        distinct_ids=len(stats.ids),
        index_count=index_count,
        key_count=key_count,
        write_batches=len(stats.write_ms),
        reads=len(stats.read_ms),
        errors=tuple(stats.errors),
        write_p50_ms=_percentile(stats.write_ms, 50),
        write_p99_ms=_percentile(stats.write_ms, 99),
        read_p50_ms=_percentile(stats.read_ms, 50),
        read_p99_ms=_percentile(stats.read_ms, 99),
    )


def write_report(path: Path, report: SoakReport) -> None:
    """Replace the text between the soak markers of ``path`` (appended when absent)."""
    text = path.read_text() if path.exists() else "# Soak\n"
    block = f"{BEGIN}\n{report.markdown()}\n{END}"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--redis-url", default=None, help="default: an embedded server")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--dims", type=int, default=32)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--report", type=Path, default=None, help="rewrite this file's section")
    args = parser.parse_args(argv)
    random.seed(0)
    with url_or_local(args.redis_url) as url:
        report = asyncio.run(
            run_soak(url, args.seconds, writers=args.writers, readers=args.readers,
                     dims=args.dims, batch=args.batch)
        )  # fmt: skip
    print(report.markdown())
    for line in report.errors[:20]:
        print("ERROR", line, file=sys.stderr)
    if args.report is not None:
        write_report(args.report, report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
