"""`benchmarks/run.py --quick` end to end, for the variants that need no package registry.

The peers (langchain-redis, llama-index-vector-stores-redis) live in their own virtual
environments, which need the registry to create; here every worker runs with this interpreter
(`--here`): raw redis-py and redisvec (core and both adapters). The runner starts its own server
(it deletes what each job wrote, and must not touch the shared test server).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = (
    "raw", "raw-langchain", "raw-llama-index",
    "redisvec-core", "redisvec-langchain", "redisvec-llama-index",
)  # fmt: skip
CASES = {"384/FLAT", "384/HNSW", "1536/FLAT", "1536/HNSW"}


def test_quick_benchmark_runs_and_its_results_are_correct(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable, str(ROOT / "benchmarks" / "run.py"),
            "--quick", "--here", "--variants", ",".join(VARIANTS), "--out", str(tmp_path),
        ],
        capture_output=True, text=True, env=env, timeout=240,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr[-3000:]
    # A guard against a quick mode that stopped being quick (it takes ~30 s on an idle 2-core
    # machine), with room for a machine busy with other jobs: timing is not what this test checks.
    assert elapsed < 180, f"--quick took {elapsed:.0f} s; it must stay well under 3 minutes"

    report = (tmp_path / "RESULTS.md").read_text()
    assert "## Targets (issues 7 and 18)" in report and "Quick mode" in report
    data = json.loads((tmp_path / "results.json").read_text())
    results = data["results"]
    assert not data["meta"]["errors"]
    # raw and the core always run; the adapters and their raw floors too when their frameworks
    # are installed here
    measured = {r["key"] for r in results}
    assert {"raw", "redisvec-core"} <= measured
    assert measured <= set(VARIANTS)
    for r in results:
        assert r["checks"] == [], (r["key"], r["case"], r["dtype"], r["checks"])
        assert r["ingest_docs_per_s"] > 0 and r["mem_bytes_per_doc"] > 0
    for key in ("raw", "redisvec-core"):
        f32 = {r["case"]: r for r in results if r["key"] == key and r["dtype"] == "float32"}
        f16 = {r["case"]: r for r in results if r["key"] == key and r["dtype"] == "float16"}
        assert set(f32) == CASES and set(f16) == CASES
        for case in ("384/FLAT", "1536/FLAT"):
            # FLAT is exact: every returned neighbour list equals numpy's brute force
            assert f32[case]["recall_at_10"] == 1.0
            assert f16[case]["recall_at_10"] >= 0.98
            # float16 halves the vector bytes; what else a document holds is the same
            assert f16[case]["mem_bytes_per_doc"] < 0.65 * f32[case]["mem_bytes_per_doc"]
        for r in f32.values():
            for metric in ("knn_p50_ms", "knn_filtered_p50_ms", "range_p50_ms", "async_conc_qps"):
                assert r[metric] > 0, (key, r["case"], metric)
            # the floor: the server's FT.SEARCH time counted around this variant's own query
            # blocks only (one call per query: nothing of the warm-up or of other variants),
            # and a round trip shorter than any query
            for kind in ("knn", "knn_filtered", "range"):
                assert r[f"server_{kind}_calls"] == 1.0, (key, r["case"], kind)
                assert r[f"server_{kind}_us"] > 0, (key, r["case"], kind)
            assert 0 < r["ping_p50_us"] < r["knn_p50_ms"] * 1e3, (key, r["case"])
    assert "## Distance to the physical floor" in report
    # the default install: redis-py parses with hiredis, which comes with redisvec
    assert data["meta"]["workers"]["redisvec-core"]["parser"].startswith("hiredis")
