"""`make eval`: retrieval quality of vector-only, BM25-only and hybrid search on labelled questions.

    python benchmarks/eval_hybrid.py                       # hashing embedder (no model)
    .venv-demo/bin/python benchmarks/eval_hybrid.py --embeddings minilm
    python benchmarks/eval_hybrid.py --write               # also write benchmarks/HYBRID_EVAL.md

The questions (`hybrid_questions.json`) were written and labelled before any run: each names the
passage ids of the demo corpus (`examples/_support_corpus.py`, Python's reference topics) that
answer it; half name an identifier or keyword, half do not. Every passage is stored in one index
(FLAT, exact, so the vector side has no approximation of its own) and each question is asked
four ways: KNN, BM25, hybrid with reciprocal rank fusion, hybrid with linear fusion (alpha 0.5),
all with the library's defaults. Reported: MRR@10 (1 / rank of the first relevant passage in the
top 10, else 0) and recall@5 (share of the relevant passages in the top 5), overall and per kind
of question, and the median latency of each way next to a plain KNN query.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import redis

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from _embeddings import CachedEmbedder, default_cache_dir, make_embedder  # noqa: E402
from _support_corpus import corpus_hash, load_passages  # noqa: E402

from redisvec import (  # noqa: E402
    HybridFallbackWarning,
    HybridQuery,
    IndexSchema,
    SearchIndex,
    TagField,
    TextField,
    TextQuery,
    VectorField,
    VectorQuery,
)
from redisvec.server import url_or_local  # noqa: E402

QUESTIONS = HERE / "hybrid_questions.json"
RESULTS = HERE / "HYBRID_EVAL.md"
K = 10
WAYS = ("vector", "bm25", "hybrid rrf", "hybrid linear")


def mrr_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    for position, i in enumerate(ranked[:k], 1):
        if i in relevant:
            return 1.0 / position
    return 0.0


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 5) -> float:
    return len(relevant & set(ranked[:k])) / len(relevant)


def _index(client: redis.Redis, dims: int, name: str) -> SearchIndex:
    schema = IndexSchema(
        name,
        prefixes=(f"{name}:",),
        fields=(
            TextField("text"),
            TagField("topic"),
            VectorField("embedding", dims=dims, algorithm="flat", distance_metric="cosine"),
        ),
    )
    index = SearchIndex(schema, client)
    index.create(overwrite=True, drop_documents=True)
    return index


def _ways(index: SearchIndex, text: str, vector: np.ndarray) -> dict[str, Callable[[], list[str]]]:
    def bm25() -> list[str]:
        try:
            return [h.id for h in index.search(TextQuery(text, k=K)).hits]
        except ValueError:  # only stopwords: BM25 has nothing to search for
            return []

    return {
        "vector": lambda: [h.id for h in index.search(VectorQuery(vector, k=K)).hits],
        "bm25": bm25,
        "hybrid rrf": lambda: [h.id for h in index.hybrid_search(HybridQuery(text, vector, k=K))],
        "hybrid linear": lambda: [
            h.id for h in index.hybrid_search(HybridQuery(text, vector, k=K, fusion="linear"))
        ],
    }


def evaluate(url: str, embeddings: str, rounds: int) -> dict[str, Any]:
    passages = load_passages()
    questions = json.loads(QUESTIONS.read_text())["questions"]
    embedder = make_embedder(embeddings)
    cache = CachedEmbedder(
        embedder, CachedEmbedder.file_for(default_cache_dir(), embedder, corpus_hash(passages))
    )
    doc_vectors = cache.embed([p.text for p in passages], "document")
    query_vectors = cache.embed([q["question"] for q in questions], "query")
    client = redis.Redis.from_url(url)
    index = _index(client, doc_vectors.shape[1], f"hybrid_eval_{embedder.name}")
    try:
        index.load(
            [
                {"text": p.text, "topic": p.topic, "embedding": v}
                for p, v in zip(passages, doc_vectors)
            ],
            ids=[p.id for p in passages],
        )
        scores: dict[str, dict[str, list[tuple[float, float]]]] = {w: {} for w in WAYS}
        timings: dict[str, list[float]] = {w: [] for w in WAYS}
        per_question = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HybridFallbackWarning)
            for q, vector in zip(questions, query_vectors):
                relevant = set(q["relevant"])
                row = {"id": q["id"], "kind": q["kind"]}
                for way, run in _ways(index, q["question"], vector).items():
                    ranked = run()
                    pair = (mrr_at(ranked, relevant), recall_at(ranked, relevant))
                    for group in ("all", q["kind"]):
                        scores[way].setdefault(group, []).append(pair)
                    row[way] = pair[0]
                per_question.append(row)
            # latency: every way over every question, interleaved, the order rotated each time
            for n in range(rounds * len(questions)):
                q, vector = questions[n % len(questions)], query_vectors[n % len(questions)]
                runs = list(_ways(index, q["question"], vector).items())
                for way, run in runs[n % 4 :] + runs[: n % 4]:
                    start = time.perf_counter()
                    run()
                    timings[way].append(time.perf_counter() - start)
    finally:
        index.drop(delete_documents=True)
        client.close()
    summary = {
        way: {
            group: (
                statistics.fmean(m for m, _ in pairs),
                statistics.fmean(r for _, r in pairs),
                len(pairs),
            )
            for group, pairs in groups.items()
        }
        for way, groups in scores.items()
    }
    latency = {way: statistics.median(t) * 1000 for way, t in timings.items()}
    return {
        "embeddings": embedder.name,
        "summary": summary,
        "latency_ms": latency,
        "per_question": per_question,
        "passages": len(passages),
        "questions": len(questions),
    }


def report(result: dict[str, Any]) -> str:
    s, lat = result["summary"], result["latency_ms"]
    lines = [
        f"### Embeddings: {result['embeddings']} ({result['questions']} questions, "
        f"{result['passages']} passages)",
        "",
        "| method | MRR@10 all | MRR@10 identifier | MRR@10 conceptual | recall@5 all "
        "| recall@5 identifier | recall@5 conceptual | median latency | vs plain KNN |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for way in WAYS:
        groups = s[way]
        cells = [f"{groups[g][0]:.3f}" for g in ("all", "identifier", "conceptual")]
        cells += [f"{groups[g][1]:.3f}" for g in ("all", "identifier", "conceptual")]
        added = lat[way] - lat["vector"]
        cells += [f"{lat[way]:.2f} ms", "—" if way == "vector" else f"{added:+.2f} ms"]
        lines.append(f"| {way} | " + " | ".join(cells) + " |")
    best_single = max(s["vector"]["all"][0], s["bm25"]["all"][0])
    lines.append("")
    for way in ("hybrid rrf", "hybrid linear"):
        delta = s[way]["all"][0] - best_single
        verdict = "beats" if delta > 0 else "does not beat"
        lines.append(
            f"- {way} {verdict} the better single method overall (MRR@10 {delta:+.3f}); on "
            f"identifier questions {s[way]['identifier'][0] - max(s['vector']['identifier'][0], s['bm25']['identifier'][0]):+.3f}, "
            f"on conceptual questions {s[way]['conceptual'][0] - max(s['vector']['conceptual'][0], s['bm25']['conceptual'][0]):+.3f} "
            "(each against the better single method on that kind)."
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embeddings", default="hashing", help="hashing (default) or minilm")
    parser.add_argument("--redis-url", default=None, help="default: an embedded server")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds over the questions")
    parser.add_argument("--write", action="store_true", help=f"append the table to {RESULTS.name}")
    parser.add_argument("--json", type=Path, default=None, help="write the raw results here")
    args = parser.parse_args(argv)
    with url_or_local(args.redis_url) as url:
        result = evaluate(url, args.embeddings, args.rounds)
    text = report(result)
    print(text)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=1))
    if args.write:
        with RESULTS.open("a") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
