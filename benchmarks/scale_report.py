"""SCALE.md and scale.png from the points `scale.py` saved (every point so far, any run)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ORDER = (
    "raw", "redisvec-core", "redisvec-langchain", "redisvec-llama-index",
    "langchain-redis", "llama-index-redis",
)  # fmt: skip
LABELS = {
    "raw": "raw redis-py",
    "redisvec-core": "redisvec core",
    "redisvec-langchain": "redisvec LangChain",
    "redisvec-llama-index": "redisvec LlamaIndex",
    "langchain-redis": "langchain-redis",
    "llama-index-redis": "llama-index-vector-stores-redis",
}

NOTES = """\
## Notes

- **HNSW ingestion is the server's graph insertion** (EF_CONSTRUCTION 200, M 16, on one server
  thread), for every client: compare the clients' rates on HNSW at the same point, and expect
  every one of them to slow down as the graph grows. The corpus is deliberately hard (clusters
  whose members are about equally far from each other), which makes the insertion's candidate
  search long and recall low, the more so the larger the index; real embeddings have more
  local structure: at 1M 384-d, EF_RUNTIME 200 finds 0.59 of the exact 10, and every client
  reads exactly what raw redis-py reads from the same index. (The run's sanity floor for that
  recall is 0.3, far above chance, k/N: it is there to catch a misread reply, not to grade the
  server's graph.)
- **The adapters' KNN on HNSW** (1.20-1.31x raw at the largest points, where raw's query is
  ~0.45 ms) is the frameworks' objects: a LangChain `Document` or a LlamaIndex node per hit,
  built from the reply, and the query embedding a Python list. `make bench` measures raw
  redis-py doing that same work (`raw redis-py + LangChain objects` / `+ LlamaIndex objects`):
  it alone costs 1.1-1.2x raw. On FLAT, where the server's search is ~99% of a query, every
  client is within 4% of raw.
- **langchain-redis** adds a text filter on its `_index_name` field to every query, so on HNSW
  the server runs a filtered query. What the server chooses for it changes with the size: at
  10k its recall is exact and its server time per query many times raw redis-py's on an index
  of the same documents (a brute-force pass over the filter's matches), at 100k its recall and
  server time are close to raw's (the filtered HNSW path). Every client's 10% category filter
  shows the same switch: exact recall at 10k, an approximate one (below 1) at larger sizes.
- **Memory per document is about twice the vector bytes plus 2-3 KB**: HASH storage keeps each
  vector in the hash field and the vector index keeps its own copy (compare *B/doc* with
  *vector index MB* per document in the index tables); the text, tag and numeric fields and the
  key make the rest. The adapters' `metadata` JSON field adds a little on top.
- The server is one process shared by every index of a run; the used_memory deltas are taken
  around one client's chunk at a time, with the server idle before each chunk.
"""

METHOD = """\
## Method

- **Data.** Unit vectors around 64 random centres (as in `make bench`), generated once in chunks
  of 50,000 rows from per-chunk seeds into a `.npy` memory map under `benchmarks/.data`
  (`scale_data.py`); doc *i* is in category `c<i % 10>`, query *i* filters on `c<i % 10>` (10% of
  the documents). 100 queries (20 in quick mode), drawn like the documents.
- **One growing index per (dims, algorithm).** raw redis-py creates it (HASH, `text` TEXT,
  `category` TAG, `year` NUMERIC, `embedding` VECTOR FLOAT32 COSINE; HNSW with M=16,
  EF_CONSTRUCTION=200). redisvec's core opens it with `SearchIndex.from_existing`, its LangChain
  and LlamaIndex adapters with `from_existing_index`: all four write the same fields under the
  same prefix (the adapters add one `metadata` JSON field, which their memory per document
  shows), and all four query the same index. Documents arrive in chunks, each chunk written by one
  of the four in turn, so each writer's rate is measured on the same index at the same size, and
  an index of 1M documents is built once, not four times. The official integrations
  (langchain-redis, llama-index-vector-stores-redis) write their own layouts (their own field
  names, key prefixes and, for LlamaIndex, a node JSON), so each gets its own index, fed every
  chunk of the same rotation (interleaved with the writers of the shared index, so noise on this
  shared machine hits all of them), up to 100k documents; their HNSW settings are the server's
  defaults, M=16 and EF_CONSTRUCTION=200 (FT.INFO, in the index table).
- **Ingestion** is the time inside the library call (`HSET` pipelines of 500, `load`,
  `add_texts`, `add`); the inputs (records, texts and metadata, `TextNode`s) are built from the
  memory map just before the call, outside the clock, and dropped after it, as a streaming
  application's would be. The runner waits for the server to be idle before each chunk. The rate
  of a checkpoint is over the documents added since the previous checkpoint.
- **Queries.** At each checkpoint, every client runs the same queries in blocks of 10, the order
  of the clients rotating block by block: KNN 10 with and without the category filter, and for
  HNSW raw redis-py again at EF_RUNTIME 10, 50 and 200. p50 / p95 are of single-query wall times
  in the client process.
- **Server and client time.** INFO commandstats' FT.SEARCH `usec` delta around each client's own
  block, divided by its queries, is the server's time per query (the other clients are idle
  then); *client* is the mean wall time minus that: the client library, the kernel and the
  loopback. On this loaded machine the mean carries the tails (see p95) of a worker waiting
  for a core, so compare clients at the same point rather than reading it as a constant. `ping` is a plain-socket PING from the runner: the round trip no client avoids.
- **Memory.** *B/doc (index)* is the server's `used_memory` growth since before FT.CREATE divided
  by the documents; a client's *B/doc* is the `used_memory` deltas around its own chunks divided
  by its documents (HNSW and the doc table grow in blocks, so one client's chunk can pay for a
  block the next ones fill: read it over large stages). *Peak RSS* is the worker process's
  VmHWM since it started for this (dims, algorithm), so it is the peak up to that size. It
  follows the chunk size more than the index size: a chunk's inputs are built at once (for
  LangChain, its embeddings as lists of Python floats, about 32 bytes per dimension), and
  chunks grow with the stage (about six per writer, 250 to 5,000 documents: the *chunk* column).
- **Checks** (a failure fails the run): FT.INFO `num_docs` equals the documents loaded, for the
  shared index and each official one; every query returns 10 hits; every filtered hit is in the
  query's category; FLAT recall@10 against numpy's exact search >= 0.99 (plain and filtered);
  on HNSW, each client's recall equals raw redis-py's on the same index (within 0.02; 0.1 for the
  officials, whose graph is their own: not more than 0.1 below), recall at EF_RUNTIME 200 not
  below EF 10's and >= 0.3 (a sanity floor: a misread reply or a wrong vector gives ~k/N).
  The exact answers are numpy brute force over the memory map in chunks, cached per checkpoint.
- **Order.** The indexes of a run live side by side on the one server and grow checkpoint by
  checkpoint across them (every index to 10k, then to 100k, then to its largest size; FLAT
  before HNSW), so a run cut short still has every small point.
- **Resumable.** Each finished point is a JSON file under `benchmarks/.scale/`; a rerun skips it.
  A (dims, algorithm) with points left is rebuilt from empty (the server is not persisted):
  its finished checkpoints are re-ingested, unmeasured, then the missing ones are measured.
"""


def _load(state: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    points = [json.loads(p.read_text()) for p in sorted(state.glob("*_*_*.json"))]
    points.sort(key=lambda p: (p["dims"], p["algo"], p["n"]))
    meta_path = state / "meta.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return points, meta


def _n(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def _ratio(value: float | None, base: float | None) -> str:
    return f" ({value / base:.2f}x)" if value and base else ""


def _client(kind: dict[str, Any]) -> float:
    """The client's share of a query: mean wall time minus the server's mean time per query."""
    return float(kind["client_us"])


def _rss(v: dict[str, Any]) -> str:
    """Peak RSS, marked when the worker read the corpus through a memory map (**)."""
    return f"{v['peak_rss_mb']:,.0f}" + ("" if "rss_anon_mb" in v else " (**)")


def _point_rows(p: dict[str, Any]) -> list[str]:
    raw = p["variants"]["raw"]
    rows = []
    for key in ORDER:
        v = p["variants"].get(key)
        if v is None:
            continue
        ingest = v.get("ingest_docs_per_s")
        knn, flt = v["knn"], v["filtered"]
        rows.append(
            f"| {_n(p['n'])} | {LABELS[key]} "
            f"| {ingest or 0:,.0f}{_ratio(ingest, raw.get('ingest_docs_per_s'))} "
            f"| {knn['p50_ms']:.2f} / {knn['p95_ms']:.2f}{_ratio(knn['p50_ms'], raw['knn']['p50_ms'])} "
            f"| {flt['p50_ms']:.2f} / {flt['p95_ms']:.2f}{_ratio(flt['p50_ms'], raw['filtered']['p50_ms'])} "
            f"| {knn['server_us']:,.0f} / {_client(knn):,.0f} "
            f"| {flt['server_us']:,.0f} / {_client(flt):,.0f} "
            f"| {knn['recall']:.3f} / {flt['recall']:.3f} "
            f"| {v.get('mem_bytes_per_doc', 0):,.0f} | {_rss(v)} |"
        )  # fmt: skip
    return rows


def _group_table(points: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| N | client | ingest docs/s (x raw) | KNN p50 / p95 ms (x raw) "
        "| filtered p50 / p95 ms (x raw) | KNN server / client us | filtered server / client us "
        "| recall@10 KNN / filtered | B/doc | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        lines += _point_rows(p)
    return lines


def _index_table(points: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| N | num_docs | B/doc (index) | vector index MB | settings (FT.INFO) | ping us "
        "| EF_RUNTIME 10 / 50 / 200: recall@10, p50 ms, server us | chunk | point took s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        idx, raw = p["index"], p["variants"]["raw"]
        # the first run's FLAT 10k and 100k points counted the official indexes too
        per_doc = f"{idx['bytes_per_doc']:,.0f}" if "memory_basis" in idx else "n/a (*)"
        vec = idx.get("vector", {})
        settings = ", ".join(
            f"{k} {vec[k]}" for k in ("ALGORITHM", "M", "EF_CONSTRUCTION") if k in vec
        )
        ef = " / ".join(
            f"{raw[f'ef{e}']['recall']:.3f}, {raw[f'ef{e}']['p50_ms']:.2f}, "
            f"{raw[f'ef{e}']['server_us']:,.0f}"
            for e in (10, 50, 200)
            if f"ef{e}" in raw
        )
        lines.append(
            f"| {_n(p['n'])} | {idx['num_docs']:,} | {per_doc} "
            f"| {idx['sizes_mb'].get('vector_index_sz_mb', 0):,.1f} | {settings} "
            f"| {p['ping_p50_us']:.0f} | {ef or 'n/a (FLAT)'} | {_chunk(p, points):,} "
            f"| {p['stage_seconds']:.0f} |"
        )
    return lines


def _chunk(p: dict[str, Any], points: list[dict[str, Any]]) -> int:
    """The chunk size of a point's stage (the first points did not record it: same formula)."""
    if "chunk" in p:
        return int(p["chunk"])
    from scale import chunk_size

    previous = [q["n"] for q in points if q["dims"] == p["dims"] and q["n"] < p["n"]]
    return chunk_size(max(previous, default=0), p["n"], 4)


def _headline(points: list[dict[str, Any]]) -> list[str]:
    """The largest point of each group: every client's ratios to raw redis-py."""
    lines = [
        "| point | client | ingest x raw | KNN p50 x raw | filtered p50 x raw | KNN client us "
        "(server us) | recall@10 | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    largest: dict[tuple[int, str], dict[str, Any]] = {}
    for p in points:
        largest[(p["dims"], p["algo"])] = p
    for (dims, algo), p in sorted(largest.items()):
        raw = p["variants"]["raw"]
        for key in ORDER:
            v = p["variants"].get(key)
            if v is None:
                continue
            ingest = v.get("ingest_docs_per_s", 0) / raw.get("ingest_docs_per_s", 1)
            lines.append(
                f"| {dims}/{algo} {_n(p['n'])} | {LABELS[key]} | {ingest:.2f} "
                f"| {v['knn']['p50_ms'] / raw['knn']['p50_ms']:.2f} "
                f"| {v['filtered']['p50_ms'] / raw['filtered']['p50_ms']:.2f} "
                f"| {_client(v['knn']):,.0f} ({v['knn']['server_us']:,.0f}) "
                f"| {v['knn']['recall']:.3f} | {_rss(v)} |"
            )
    return lines


def _chart(points: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(17, 9.5))
    panels = [
        (axes[0][0], "ingestion docs/s", lambda v: v.get("ingest_docs_per_s")),
        (axes[0][1], "KNN p50 ms", lambda v: v["knn"]["p50_ms"]),
        (axes[1][0], "server bytes per document (client's chunks)", lambda v: v.get("mem_bytes_per_doc")),
        (axes[1][1], "client peak RSS MB", lambda v: v["peak_rss_mb"]),
        (axes[1][2], "KNN client time us (mean - server)", lambda v: _client(v["knn"])),
    ]  # fmt: skip
    styles = {(384, "FLAT"): "-", (384, "HNSW"): "--", (1536, "FLAT"): ":", (1536, "HNSW"): "-."}
    colors = dict(zip(ORDER, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    for ax, title, get in panels:
        for (dims, algo), style in styles.items():
            group = [p for p in points if (p["dims"], p["algo"]) == (dims, algo)]
            for key in ORDER:
                xs = [p["n"] for p in group if key in p["variants"]]
                ys = [get(p["variants"][key]) for p in group if key in p["variants"]]
                if xs and all(y is not None for y in ys):
                    ax.plot(xs, ys, style, marker="o", ms=3, color=colors[key],
                            label=f"{LABELS[key]} {dims}/{algo}")  # fmt: skip
        ax.set_xscale("log")
        ax.set_title(title)
        ax.set_xlabel("documents")
    axes[0][0].set_yscale("log")
    axes[0][1].set_yscale("log")
    ax = axes[0][2]
    for p in points:
        raw = p["variants"]["raw"]
        if p["algo"] == "HNSW":
            efs = [e for e in (10, 50, 200) if f"ef{e}" in raw]
            ax.plot(efs, [raw[f"ef{e}"]["recall"] for e in efs], marker="o",
                    label=f"{p['dims']}-d {_n(p['n'])}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_title("HNSW recall@10 vs EF_RUNTIME (raw redis-py)")
    ax.set_xlabel("EF_RUNTIME")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=7)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.savefig(path, dpi=70)
    plt.close(fig)


def write(state: Path, out: Path, plan: dict[int, tuple[int, ...]]) -> bool:
    """Write SCALE.md and scale.png into ``out``; True if any saved point failed a check."""
    points, meta = _load(state)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Scale: 10k to 1M documents", ""]
    if meta.get("quick"):
        lines += [
            "**Quick mode** (up to 20k documents, 20 queries): a check, not a measurement.",
            "",
        ]
    machine, server = meta.get("machine", {}), meta.get("server", {})
    lines += [
        "Generated by `make bench-scale` (`benchmarks/scale.py`). Machine: "
        + ", ".join(f"{k} {v}" for k, v in machine.items())
        + ". Server: "
        + ", ".join(f"{k} {v}" for k, v in server.items())
        + ". This 2-core machine was shared with other jobs during the run (load average at the "
        f"end {', '.join(f'{x:.1f}' for x in meta.get('load', []))}): absolute figures drift, "
        "ratios to raw redis-py measured at the same point much less.",
        "",
        "Clients: "
        + "; ".join(
            f"{LABELS.get(k, k)}: "
            + ", ".join(f"{p} {v}" for p, v in h.get("versions", {}).items())
            + f" (Python {h.get('python')}, {h.get('parser')})"
            for k, h in sorted(meta.get("versions", {}).items(), key=lambda kv: ORDER.index(kv[0]))
        )
        + ".",
        "",
    ]
    if meta.get("unavailable"):
        lines += [
            "Not measured: "
            + "; ".join(f"{LABELS.get(k, k)} ({why})" for k, why in meta["unavailable"].items())
            + ".",
            "",
        ]
    if points:
        done = sorted(p["finished"] for p in points)
        lines += [f"Points measured between {done[0]} and {done[-1]}.", ""]
    runs = meta.get("runs", [])
    if runs:
        lines += [
            "Runs (each resumes the last): "
            + ", ".join(
                f"started {r['started']} ("
                + (f"{r['seconds']:.0f} s)" if r.get("seconds") else "no end recorded)")
                for r in runs
            )
            + ".",
            "",
        ]
    missing = [
        f"{d}/{a} {_n(n)}"
        for d, ns in sorted(plan.items())
        for a in ("FLAT", "HNSW")
        for n in ns
        if not any((p["dims"], p["algo"], p["n"]) == (d, a, n) for p in points)
    ]
    if missing:
        lines += ["**Points not measured yet:** " + ", ".join(missing) + ".", ""]
    failed = [f"{p['dims']}/{p['algo']} {_n(p['n'])}: {c}" for p in points for c in p["checks"]]
    lines += ["## Checks", ""]
    lines += [f"- FAILED {f}" for f in failed] or [
        f"All {len(points)} points passed every check (counts, recall against numpy exact "
        "search, filtered hits in the query's category)."
    ]
    lines += ["", "## Headline: the largest point of each index, ratios to raw redis-py", ""]
    lines += _headline(points)
    lines += ["", "![scale curves](scale.png)", ""]
    for dims in sorted({p["dims"] for p in points}):
        for algo in ("FLAT", "HNSW"):
            group = [p for p in points if (p["dims"], p["algo"]) == (dims, algo)]
            if not group:
                continue
            lines += ["", f"## {dims}-d {algo}", "", *_group_table(group), ""]
            lines += ["Index:", "", *_index_table(group), ""]
    if any("rss_anon_mb" not in v for p in points for v in p["variants"].values()):
        lines += [
            "(**) Points measured by the first version of the workers, which read the corpus"
            " through a memory map: the mapped pages count in their peak RSS, about"
            " dims x 4 bytes for every document the client wrote (a quarter of them for the"
            " four clients sharing the index; all of them for an official integration). Later"
            " points read the corpus with plain file reads.",
            "",
        ]
    if any("memory_basis" not in p["index"] for p in points):
        lines += [
            "(*) These points were measured by the first version of the runner, which divided the"
            " server's whole used_memory growth by the documents: with the official"
            " integrations' indexes on the same server that counts them too. The per-client B/doc"
            " of the same points is right.",
            "",
        ]
    lines += ["", NOTES, "", METHOD]
    (out / "SCALE.md").write_text("\n".join(lines) + "\n")
    try:
        import matplotlib  # noqa: F401  (in the benchmark's environment; not in every venv)
    except ImportError:
        print("matplotlib is not installed: no scale.png", file=sys.stderr)
    else:
        if points:
            _chart(points, out / "scale.png")
    return bool(failed)
