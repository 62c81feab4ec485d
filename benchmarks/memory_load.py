"""Client peak memory while `SearchIndex.load` streams records from a generator (issue 18).

Each size runs in a fresh process (peak RSS only ever grows): it creates an index, loads ``n``
384-d records produced by a generator, and reports its peak RSS (``VmHWM``) before and after the
load. The target: loading 1M records peaks within 200 MB of loading 10k. Then the load is checked,
not only timed: the index counts exactly ``n`` documents and sampled vectors read back equal the
generator's (regenerated from their seed).

    python benchmarks/memory_load.py                 # 10k and 1M, embedded server
    python benchmarks/memory_load.py --sizes 10000,200000 --url redis://... --json

Vectors are FLOAT16 in the index, so that a million of them fit in a shared machine's memory
(the client generates float32 and encodes them; what the client holds per batch is the same
either way). Only the standard library, numpy, redis-py and redisvec are used.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

DIMS = 384
BLOCK = 1000  # records generated per random draw (seeded by block number: reproducible)
SAMPLES = 50


def vectors(block: int) -> np.ndarray:
    """The float32 vectors of records ``block * BLOCK`` ... (a pure function of ``block``)."""
    return np.random.default_rng(block).standard_normal((BLOCK, DIMS), dtype=np.float32)


def records(n: int) -> Iterator[dict[str, Any]]:
    """``n`` records, generated a block at a time: nothing but the current block is held."""
    for block in range(0, (n + BLOCK - 1) // BLOCK):
        rows = vectors(block)
        for j in range(min(BLOCK, n - block * BLOCK)):
            i = block * BLOCK + j
            yield {"id": f"d{i}", "category": f"c{i % 10}", "v": rows[j]}


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")


def measure(url: str, n: int, batch_size: int = 500) -> dict[str, Any]:
    """Load ``n`` records in this process; its peak RSS before and after, and the checks."""
    import redis

    from redisvec import IndexSchema, SearchIndex

    name = f"memload_{uuid.uuid4().hex[:8]}"
    schema = IndexSchema.from_dict(
        {
            "index": {"name": name, "prefix": f"{name}:", "storage_type": "hash"},
            "fields": [
                {"name": "category", "type": "tag"},
                {
                    "name": "v",
                    "type": "vector",
                    "attrs": {"dims": DIMS, "algorithm": "flat", "datatype": "float16"},
                },
            ],
        }
    )
    client = redis.Redis.from_url(url)
    index = SearchIndex(schema, client)
    index.create()
    try:
        before = peak_rss_mb()
        started = time.perf_counter()
        ids = index.load(records(n), id_field="id", batch_size=batch_size)
        seconds = time.perf_counter() - started
        after = peak_rss_mb()
        count = index.count()
        sample = sorted({int(i) for i in np.linspace(0, n - 1, SAMPLES)})
        fetched = index.fetch([f"d{i}" for i in sample])
        mismatched = [
            i
            for i, doc in zip(sample, fetched)
            if doc is None
            or not np.array_equal(doc["v"], vectors(i // BLOCK)[i % BLOCK].astype(np.float16))
        ]
        return {
            "n": n,
            "peak_before_mb": round(before, 1),
            "peak_mb": round(after, 1),
            "seconds": round(seconds, 2),
            "docs_per_s": round(n / seconds),
            "returned_ids": len(ids),
            "count": count,
            "vectors_checked": len(sample),
            "vectors_mismatched": mismatched,
        }
    finally:
        index.drop(delete_documents=True)
        client.close()


def run(url: str, n: int) -> dict[str, Any]:
    """`measure` in a fresh interpreter (this file, ``--child``): a clean peak RSS."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(n), "--url", url],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"loading {n} records failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,1000000", help="record counts, smallest first")
    parser.add_argument("--url", default=None, help="a Redis with search (default: embedded)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure(args.url, args.child)))
        return
    from redisvec.server import url_or_local

    sizes = [int(s) for s in args.sizes.split(",")]
    with url_or_local(args.url) as url:
        results = [run(url, n) for n in sizes]
    if args.json:
        print(json.dumps(results))
        return
    base = results[0]["peak_mb"]
    print(f"{'records':>10} {'peak RSS MB':>12} {'over smallest':>14} {'docs/s':>8}  checks")
    for r in results:
        ok = r["count"] == r["n"] == r["returned_ids"] and not r["vectors_mismatched"]
        print(
            f"{r['n']:>10} {r['peak_mb']:>12.1f} {r['peak_mb'] - base:>+14.1f} "
            f"{r['docs_per_s']:>8}  {'ok' if ok else 'FAILED: ' + json.dumps(r)}"
        )


if __name__ == "__main__":
    main()
