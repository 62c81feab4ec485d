"""`benchmarks/scale.py --quick` end to end (`make bench-scale`'s checks on a small scale).

Every worker runs with this interpreter (`--here`): raw redis-py and redisvec's core and both
adapters; the official integrations need their own environments (the package registry) and are
left out. The runner starts its own server: it measures the server's memory and command
statistics, which other tests on the shared server would disturb.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ("raw", "redisvec-core", "redisvec-langchain", "redisvec-llama-index")
POINTS = {(384, 2_000), (384, 10_000), (1536, 1_000), (1536, 3_000)}


def _scale(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable, str(ROOT / "benchmarks" / "scale.py"), "--quick", "--here",
            "--variants", ",".join(VARIANTS), "--state", str(tmp_path), "--out", str(tmp_path),
        ],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    return proc, time.monotonic() - started


def test_quick_scale_run_checks_every_point_and_resumes(tmp_path: Path) -> None:
    proc, elapsed = _scale(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # ~1 minute on this 2-core machine with other jobs running; timing is not what is checked
    assert elapsed < 150, f"--quick took {elapsed:.0f} s; it must stay well under 2 minutes"

    points = [json.loads(p.read_text()) for p in tmp_path.glob("*_*_*.json")]
    assert {(p["dims"], p["n"]) for p in points} == POINTS
    assert {p["algo"] for p in points} == {"FLAT", "HNSW"} and len(points) == 2 * len(POINTS)
    for p in points:
        name = f"{p['dims']}/{p['algo']} {p['n']}"
        assert p["checks"] == [], (name, p["checks"])
        assert p["index"]["num_docs"] == p["n"], name
        assert set(p["variants"]) == set(VARIANTS), name
        for key, v in p["variants"].items():
            assert v["ingest_docs_per_s"] > 0 and v["ingest_docs"] > 0, (name, key)
            assert 0 < v["rss_anon_mb"] <= v["peak_rss_mb"] < 2000, (name, key)
            for kind in ("knn", "filtered"):
                assert v[kind]["p50_ms"] > 0, (name, key, kind)
                # the server's own time is counted around this client's queries only: one
                # FT.SEARCH per query, and less than the client waited for
                assert v[kind]["server_calls"] == 1.0, (name, key, kind)
                assert 0 < v[kind]["server_us"] < v[kind]["mean_ms"] * 1e3, (name, key, kind)
                if p["algo"] == "FLAT":
                    assert v[kind]["recall"] >= 0.99, (name, key, kind)  # exact search
        if p["algo"] == "HNSW":
            raw = p["variants"]["raw"]
            assert raw["ef200"]["recall"] >= raw["ef10"]["recall"], name
            assert p["index"]["vector"]["M"] == "16", name
            assert p["index"]["vector"]["EF_CONSTRUCTION"] == "200", name
    # the four writers share one index: each stage's documents were written once, by one of them
    for p in points:
        previous = max(
            [q["n"] for q in points if q["dims"] == p["dims"] and q["n"] < p["n"]] or [0]
        )
        assert sum(v["ingest_docs"] for v in p["variants"].values()) == p["n"] - previous
    report = (tmp_path / "SCALE.md").read_text()
    assert "passed every check" in report and "Points not measured yet" not in report
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "scale.png").stat().st_size > 10_000

    # a rerun finds every point saved and measures nothing again
    before = {p.name: p.stat().st_mtime for p in tmp_path.glob("*_*_*.json")}
    again, _ = _scale(tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stderr.count("every point already saved") == 4
    assert {p.name: p.stat().st_mtime for p in tmp_path.glob("*_*_*.json")} == before
