"""A documentation support bot: find the passage of the Python reference that answers a question.

    make demo                                   # venv + CPU torch + the demo extra, then this
    python examples/support_bot.py              # embedded Redis, all-MiniLM-L6-v2, full corpus
    python examples/support_bot.py --redis-url rediss://:<key>@<name>.<region>.redis.azure.net:10000
    python examples/support_bot.py --fast       # no model, small corpus: what the tests run

Everything is local and offline: the corpus is the language reference every Python carries
(`pydoc_data.topics`, split by `_support_corpus`), the embeddings come from a model installed as a
package (`_embeddings`), and the server is the embedded `redisvec.server.LocalRedis` unless
``--redis-url`` / ``REDIS_URL`` names another one (Redis 8+, Redis Stack, Azure Managed Redis).

The passages are written once through the LangChain adapter; the LangChain retriever and a
LlamaIndex query engine then answer from the *same* index (one storage layout), followed by a
filtered (hybrid) search, a max-distance search, and FLAT vs HNSW recall / latency measured on
this corpus. Corpus vectors are cached on disk, so a second run does not load the model; the index
is reused while its corpus and model are unchanged (``--reset`` rebuilds it).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import redis
from _embeddings import (
    CachedEmbedder,
    LangChainEmbeddings,
    LlamaIndexEmbedding,
    default_cache_dir,
    make_embedder,
)
from _support_corpus import FAST_TOPICS, Passage, corpus_hash, load_passages
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from redisvec.errors import RedisVecError

QUESTIONS: tuple[str, ...] = (
    "How do I catch several exceptions at once?",
    "What does the with statement do?",
    "How do I define a function with a variable number of arguments?",
    "How do I format a number with two decimal places?",
    "How can I make my own class support the + operator?",
    "How do I loop over a list and also get the index of each item?",
)
# What a correct answer is about (a pydoc topic key) for the questions that have one clear topic.
EXPECTED_TOP: dict[str, str] = {QUESTIONS[0]: "try", QUESTIONS[1]: "with"}

FILTER_QUESTION = "How do I loop over a dictionary?"
FILTER_TOPIC = "statements"
RANGE_QUESTION = "What does the with statement do?"
EF_RUNTIMES = (10, 50, 200)
BENCH_K = 10

METADATA_SCHEMA: list[dict[str, Any]] = [
    {"name": "topic", "type": "tag"},
    {"name": "key", "type": "tag"},
    {"name": "title", "type": "text"},
    {"name": "chunk", "type": "numeric"},
]


class DemoError(Exception):
    """A failure the demo explains in one line (no traceback)."""


# --- command line ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="support_bot.py", description=__doc__.splitlines()[0] if __doc__ else None
    )
    p.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL") or None,
        help="a Redis with search (redis:// or rediss://); default $REDIS_URL, else an embedded one",
    )
    p.add_argument("--reset", action="store_true", help="drop and rebuild the index")
    p.add_argument(
        "--fast",
        action="store_true",
        help="no model, a small slice of the corpus (the tests run this)",
    )
    p.add_argument(
        "--embeddings",
        default=None,
        help="minilm (default: all-MiniLM-L6-v2, local), hashing (no model; --fast), azure "
        "(Azure OpenAI via langchain-openai, 1536-d), or package.module:factory",
    )
    p.add_argument("-k", type=int, default=3, help="hits shown per question (default 3)")
    p.add_argument(
        "--max-distance",
        type=float,
        default=None,
        help="radius of the max-distance search (cosine distance; default per model)",
    )
    p.add_argument(
        "--index-name",
        default=None,
        help="index name (default support_bot_<model>; key prefix <index name>:)",
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache directory")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    p.add_argument(
        "--simulate-outage",
        action="store_true",
        help="stop the embedded server after loading, to see how a lost server is reported",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    args = p.parse_args(argv)
    if args.embeddings is None:
        args.embeddings = "hashing" if args.fast else "minilm"
    if args.k < 1:
        p.error("-k must be at least 1")
    if args.simulate_outage and args.redis_url:
        p.error("--simulate-outage stops the embedded server; it cannot be used with --redis-url")
    return args


# --- small output helpers ------------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


@contextlib.contextmanager
def progress(total: int, desc: str) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on a terminal (stderr), nothing otherwise: logs and tests stay clean."""
    try:
        from tqdm import tqdm
    except ImportError:  # the demo extra installs it; the examples work without
        yield lambda n: None
        return
    with tqdm(total=total, desc=desc, unit="passage", leave=False, disable=None) as bar:
        yield bar.update


def _shorten(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# --- results (also written with --json for the tests) ----------------------------------------------


@dataclass(frozen=True)
class Hit:
    id: str
    key: str
    title: str
    section: str
    topic: str
    score: float  # LangChain: distance (lower is closer); LlamaIndex: similarity (higher)

    @property
    def label(self) -> str:
        return f"{self.title} › {self.section}" if self.section else self.title


@dataclass
class Report:
    embeddings: str
    dims: int
    passages: int
    corpus_hash: str
    index_name: str
    embedded: int = 0  # passage vectors computed by the model in this run (0: all from cache)
    loaded: int = 0  # passages written to Redis in this run (0: index reused)
    questions: list[dict[str, Any]] = field(default_factory=list)
    filtered: dict[str, Any] = field(default_factory=dict)
    within: dict[str, Any] = field(default_factory=dict)
    benchmark: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _hit(doc_id: str | None, metadata: dict[str, Any], score: float) -> Hit:
    return Hit(
        id=str(doc_id),
        key=str(metadata.get("key", "")),
        title=str(metadata.get("title", "")),
        section=str(metadata.get("section", "")),
        topic=str(metadata.get("topic", "")),
        score=float(score),
    )


# --- the run ------------------------------------------------------------------------------------


class Bot:
    """The index, its two framework views, and the demo's steps."""

    def __init__(
        self, args: argparse.Namespace, url: str, passages: list[Passage], cached: CachedEmbedder
    ) -> None:
        from llama_index.core import VectorStoreIndex
        from llama_index.core.llms import MockLLM

        from redisvec.langchain import RedisVectorStore as LangChainStore
        from redisvec.llama_index import RedisVectorStore as LlamaIndexStore

        self.args = args
        self.url = url
        self.passages = passages
        self.cached = cached
        self.index_name = args.index_name or _default_index_name(cached.name)
        self.prefix = f"{self.index_name}:"
        # Short timeouts and one quick retry: a dead server is reported in a second, not after
        # redis-py's default backoff.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=5,
            socket_timeout=30,
            retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
        )
        self.dims = int(cached.embed([passages[0].text], "document").shape[1])
        self.lc_embeddings = LangChainEmbeddings(cached)
        self.flat_name = f"{self.index_name}_flat"

        def langchain_store(index_name: str, algorithm: str, **options: Any) -> LangChainStore:
            return LangChainStore(
                self.lc_embeddings,
                index_name=index_name,
                redis_client=self.client,
                metadata_schema=METADATA_SCHEMA,
                distance_metric="COSINE",
                algorithm=algorithm,
                key_prefix=self.prefix,
                dims=self.dims,
                **options,
            )

        # Two indexes over the same keys: HNSW (what the bot uses) and FLAT (exact, the truth).
        self.lc = langchain_store(self.index_name, "HNSW")
        self.lc_flat = langchain_store(self.flat_name, "FLAT", allow_shared_prefix=True)
        self.li = LlamaIndexStore(
            index_name=self.index_name,
            redis_client=self.client,
            metadata_schema=METADATA_SCHEMA,
            distance_metric="COSINE",
            algorithm="HNSW",
            key_prefix=self.prefix,
            dims=self.dims,
        )
        self.li_index = VectorStoreIndex.from_vector_store(
            self.li, embed_model=LlamaIndexEmbedding(cached)
        )
        self.llm = MockLLM()

    # -- loading

    @property
    def _stamp_key(self) -> str:
        return f"{self.prefix}__loaded__"

    def _stamp(self, digest: str) -> str:
        return f"{self.cached.fingerprint}/{digest}/{len(self.passages)}"

    def load(self, digest: str, reset: bool) -> int:
        """Write the passages unless the index already holds exactly these (same corpus, model).

        Next to the HNSW index sits a FLAT index over the same keys (a second index on the same
        documents; nothing is copied): exact answers for the max-distance search and the
        benchmark's ground truth.
        """
        from redisvec.index import SearchIndex

        hnsw = _open(self.client, self.index_name)
        flat = _open(self.client, self.flat_name)
        stamp = self.client.get(self._stamp_key)
        loaded = 0
        if (
            reset
            or hnsw is None
            or stamp != self._stamp(digest).encode()
            or hnsw.info().num_docs != len(self.passages)
        ):
            for index, with_docs in ((flat, False), (hnsw, True)):
                if index is not None:
                    index.drop(delete_documents=with_docs)
            flat = None
            self.client.delete(self._stamp_key)
            batch = 64
            with progress(len(self.passages), "load ") as advance:
                for start in range(0, len(self.passages), batch):
                    chunk = self.passages[start : start + batch]
                    self.lc.add_texts(
                        [p.text for p in chunk],
                        metadatas=[p.metadata for p in chunk],
                        ids=[p.id for p in chunk],
                    )
                    advance(len(chunk))
            self.client.set(self._stamp_key, self._stamp(digest))
            loaded = len(self.passages)
        if flat is None:
            schema = SearchIndex.from_existing(self.client, self.index_name).schema
            vf = schema.vector_field
            exact = dataclasses.replace(
                vf, algorithm="flat", m=None, ef_construction=None, ef_runtime=None, epsilon=None
            )
            flat = SearchIndex(
                dataclasses.replace(schema.with_fields(exact), name=self.flat_name), self.client
            )
            flat.create(allow_shared_prefix=True)  # the same documents, on purpose
        _wait_indexed(flat, len(self.passages))
        return loaded

    # -- retrieval

    def ask_langchain(self, question: str, k: int) -> list[Hit]:
        retriever = self.lc.as_retriever(search_kwargs={"k": k})
        docs = retriever.invoke(question)
        scored = self.lc.similarity_search_with_score(question, k=k)
        if [d.id for d in docs] != [d.id for d, _ in scored]:
            raise DemoError(f"the retriever and similarity_search disagree for {question!r}")
        return [_hit(d.id, d.metadata, s) for d, s in scored]

    def ask_llama_index(self, question: str, k: int) -> list[Hit]:
        engine = self.li_index.as_query_engine(llm=self.llm, similarity_top_k=k)
        response = engine.query(question)
        return [
            _hit(n.node.node_id, n.node.metadata, n.score if n.score is not None else float("nan"))
            for n in response.source_nodes
        ]

    def filtered(self, question: str, k: int) -> tuple[list[Hit], list[Hit]]:
        plain = self.lc.similarity_search_with_score(question, k=k)
        only = self.lc.similarity_search_with_score(question, k=k, filter={"topic": FILTER_TOPIC})
        return (
            [_hit(d.id, d.metadata, s) for d, s in plain],
            [_hit(d.id, d.metadata, s) for d, s in only],
        )

    def within(self, question: str, threshold: float) -> tuple[list[Hit], list[Hit]]:
        """Everything within `threshold`: exact on FLAT; on HNSW, VECTOR_RANGE is approximate (a
        graph walk bounded by EPSILON) and can miss passages, which the demo shows."""
        k = len(self.passages)
        exact = self.lc_flat.similarity_search_with_score(
            question, k=k, distance_threshold=threshold
        )
        approx = self.lc.similarity_search_with_score(question, k=k, distance_threshold=threshold)
        return [_hit(d.id, d.metadata, s) for d, s in exact], [
            _hit(d.id, d.metadata, s) for d, s in approx
        ]

    # -- FLAT vs HNSW

    def benchmark(self, queries: np.ndarray) -> list[dict[str, Any]]:
        """Recall@10 of HNSW at several EF_RUNTIME against the exact FLAT index, and the median
        latency of each (server round trip through the core; ids and distances only)."""
        from redisvec.index import SearchIndex
        from redisvec.query import VectorQuery

        hnsw = SearchIndex.from_existing(self.client, self.index_name)
        flat = SearchIndex.from_existing(self.client, self.flat_name)

        def run(index: SearchIndex, ef: int | None) -> tuple[list[list[str]], float]:
            results, times = [], []
            for v in queries:
                q = VectorQuery(v, k=BENCH_K, ef_runtime=ef, return_fields=())
                t = time.perf_counter()
                hits = index.search(q)
                times.append(time.perf_counter() - t)
                results.append([h.id for h in hits])
            return results, statistics.median(times) * 1000

        run(flat, None)  # warm up the connection and the server's caches
        truth, flat_ms = run(flat, None)
        rows = [{"index": "FLAT (exact)", "ef_runtime": None, "recall": 1.0, "ms": flat_ms}]
        for ef in EF_RUNTIMES:
            got, ms = run(hnsw, ef)
            recall = float(np.mean([len(set(g) & set(t)) / len(t) for g, t in zip(got, truth)]))
            rows.append({"index": f"HNSW ef={ef}", "ef_runtime": ef, "recall": recall, "ms": ms})
        return rows


def _open(client: redis.Redis, name: str) -> Any:
    """The index called `name`, or None when the server has none."""
    from redisvec.index import SearchIndex

    try:
        return SearchIndex.from_existing(client, name)
    except LookupError:
        return None


def _default_index_name(model: str) -> str:
    namespace = os.environ.get("REDISVEC_EXAMPLE_NAMESPACE", "")
    return f"{namespace}support_bot_{model}"


def _wait_indexed(index: Any, expected: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        info = index.info()
        if not info.indexing and info.num_docs >= expected:
            return
        if time.monotonic() > deadline:
            raise DemoError(f"index {index.name} is still indexing after {timeout:.0f} s")
        time.sleep(0.05)


def _print_hits(hits: Sequence[Hit], score_name: str, indent: str = "    ") -> None:
    for rank, h in enumerate(hits, 1):
        say(f"{indent}{rank}. {score_name} {h.score:.3f}  {_shorten(h.label, 70)}  [{h.topic}]")


def _benchmark_queries(passages: Sequence[Passage]) -> list[str]:
    """Real short queries: the questions plus every distinct topic and section heading."""
    seen: dict[str, None] = dict.fromkeys(QUESTIONS)
    for p in passages:
        seen.setdefault(p.title.split(" — ", 1)[-1])
        if p.section:
            seen.setdefault(p.section.split(" › ")[-1])
    return list(seen)


def run(args: argparse.Namespace, state: dict[str, str]) -> Report:
    t_start = time.perf_counter()
    state["step"] = "reading the corpus"
    passages = load_passages(only=FAST_TOPICS if args.fast else None)
    digest = corpus_hash(passages)
    state["step"] = f"setting up the embeddings {args.embeddings!r}"
    embedder = make_embedder(args.embeddings)
    cache_path = None
    if not args.no_cache and not args.fast:
        cache_dir = args.cache_dir or default_cache_dir()
        cache_path = CachedEmbedder.file_for(cache_dir, embedder, digest)
    cached = CachedEmbedder(embedder, cache_path)
    topics = len({p.key for p in passages})
    say(
        f"corpus    {len(passages)} passages from {topics} topics of pydoc_data.topics "
        f"(Python {sys.version.split()[0]}), corpus hash {digest}"
    )

    state["step"] = f"embedding the corpus with {embedder.name}"
    texts = [p.text for p in passages]
    todo = cached.missing(texts, "document")
    t = time.perf_counter()
    with progress(len(texts), "embed") as advance:
        cached.embed(texts, "document", batch_size=32, progress=advance)
    dt = time.perf_counter() - t
    where = f" (cache {cache_path})" if cache_path else ""
    if todo:
        say(
            f"embed     {todo} passages embedded with {embedder.name} in {dt:.1f} s "
            f"({todo / dt:.1f}/s), {len(texts) - todo} from cache{where}"
        )
    else:
        say(f"embed     {len(texts)} passages from cache{where} in {dt:.2f} s, model not loaded")

    server = None
    url = args.redis_url
    if url is None:
        from redisvec.server import LocalRedis

        state["step"] = "starting the embedded Redis"
        server = LocalRedis().start()
        url = server.url
        say(f"server    embedded redis-server with search at {url}")
    else:
        say(f"server    {_redact(url)}")
    state["url"] = _redact(url)
    try:
        state["step"] = "opening the index"
        bot = Bot(args, url, passages, cached)
        report = Report(
            embeddings=embedder.name,
            dims=bot.dims,
            passages=len(passages),
            corpus_hash=digest,
            index_name=bot.index_name,
            embedded=todo,
        )
        state["step"] = f"loading the index {bot.index_name}"
        t = time.perf_counter()
        report.loaded = bot.load(digest, args.reset)
        report.timings["load_s"] = time.perf_counter() - t
        if report.loaded:
            say(
                f"index     {report.loaded} passages loaded into {bot.index_name} (HNSW, "
                f"{bot.dims}-d, COSINE) in {report.timings['load_s']:.1f} s"
            )
        else:
            say(
                f"index     {bot.index_name} already holds these {len(passages)} passages "
                "(--reset rebuilds it)"
            )
        if args.simulate_outage and server is not None:
            say("outage    stopping the embedded server now (--simulate-outage)")
            server.stop()
        _questions(bot, args.k, report, state)
        _filtered(bot, args.k, report, state)
        _within(bot, args, report, state)
        _benchmark(bot, report, state)
    finally:
        if server is not None:
            server.stop()
    report.timings["total_s"] = time.perf_counter() - t_start
    say(f"\ndone in {report.timings['total_s']:.1f} s")
    return report


def _questions(bot: Bot, k: int, report: Report, state: dict[str, str]) -> None:
    for n, question in enumerate(QUESTIONS, 1):
        state["step"] = f"answering question {n}"
        lc = bot.ask_langchain(question, k)
        li = bot.ask_llama_index(question, k)
        if len(li) != len(lc):
            raise DemoError(
                f"the LlamaIndex query engine found {len(li)} passages and LangChain {len(lc)} "
                f"for {question!r}; both read the same index and should agree"
            )
        say(f"\nQ{n}  {question}")
        say("    LangChain retriever (cosine distance, lower is closer):")
        _print_hits(lc, "d")
        if [h.id for h in li] == [h.id for h in lc]:
            sims = ", ".join(f"{h.score:.3f}" for h in li)
            say(f"    LlamaIndex query engine: the same {len(li)} passages, similarity {sims}")
        else:
            say("    LlamaIndex query engine (similarity, higher is closer):")
            _print_hits(li, "s")
        if lc:
            body = lc[0].id and next(p for p in bot.passages if p.id == lc[0].id).text
            say(f"    answer: {_shorten(body.split(chr(10), 2)[-1], 220)}")
        report.questions.append(
            {
                "question": question,
                "langchain": [dataclasses.asdict(h) for h in lc],
                "llama_index": [dataclasses.asdict(h) for h in li],
            }
        )


def _filtered(bot: Bot, k: int, report: Report, state: dict[str, str]) -> None:
    state["step"] = "running the filtered search"
    plain, only = bot.filtered(FILTER_QUESTION, k)
    say(f'\nFiltered (hybrid) search: "{FILTER_QUESTION}"')
    say("    no filter:")
    _print_hits(plain, "d", "      ")
    say(f'    topic == "{FILTER_TOPIC}" (KNN among matching passages only):')
    _print_hits(only, "d", "      ")
    report.filtered = {
        "question": FILTER_QUESTION,
        "topic": FILTER_TOPIC,
        "plain": [dataclasses.asdict(h) for h in plain],
        "filtered": [dataclasses.asdict(h) for h in only],
    }


def _within(bot: Bot, args: argparse.Namespace, report: Report, state: dict[str, str]) -> None:
    state["step"] = "running the max-distance search"
    threshold = args.max_distance
    if threshold is None:  # what catches "a few passages" for each model
        threshold = {"minilm": 0.55, "hashing": 0.8}.get(bot.cached.name, 0.5)
    found, approx = bot.within(RANGE_QUESTION, threshold)
    say(
        f'\nMax-distance search: "{RANGE_QUESTION}": {len(found)} passages within cosine '
        f"distance {threshold} (FLAT index: exact)"
    )
    _print_hits(found[:8], "d")
    if len(found) > 8:
        say(f"    ... and {len(found) - 8} more")
    missed = len({h.id for h in found} - {h.id for h in approx})
    say(
        f"    the same range query on HNSW found {len(approx)}"
        + (f" (missed {missed}: VECTOR_RANGE on HNSW is approximate)" if missed else "")
    )
    report.within = {
        "question": RANGE_QUESTION,
        "threshold": threshold,
        "hits": [dataclasses.asdict(h) for h in found],
        "hnsw_hits": [dataclasses.asdict(h) for h in approx],
    }


def _benchmark(bot: Bot, report: Report, state: dict[str, str]) -> None:
    state["step"] = "embedding the benchmark queries"
    queries = _benchmark_queries(bot.passages)
    with progress(len(queries), "queries") as advance:
        vectors = bot.cached.embed(queries, "query", progress=advance)
    state["step"] = "measuring FLAT vs HNSW"
    rows = bot.benchmark(vectors)
    say(
        f"\nFLAT vs HNSW on this corpus: {len(bot.passages)} passages, {len(queries)} queries, "
        f"k={BENCH_K}"
    )
    say(f"    {'index':<14} {'recall@10':>9}  {'median latency':>14}")
    for row in rows:
        say(f"    {row['index']:<14} {row['recall']:>9.3f}  {row['ms']:>11.2f} ms")
    report.benchmark = rows


# --- errors ----------------------------------------------------------------------------------


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (
        f":{parts.port}" if parts.port else ""
    )
    return urlunsplit(parts._replace(netloc=netloc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def explain(exc: BaseException, state: dict[str, str]) -> str:
    """One line: what failed, where, and what to do."""
    where = state.get("url", "the server")
    step = state.get("step", "starting")
    chain = list(_causes(exc))
    for cause in chain:
        if isinstance(cause, redis.AuthenticationError):
            return f"Redis at {where} refused the credentials while {step}: {cause}"
    # redis-py's own error says it plainly ("Error 111 connecting to ... Connection refused.");
    # redisvec's wrapper around it adds advice of its own, which we replace by ours.
    lost = [c for c in chain if isinstance(c, redis.ConnectionError | redis.TimeoutError | OSError)]
    plain = [c for c in lost if not isinstance(c, RedisVecError)]
    if lost:
        return (
            f"no answer from the Redis server at {where} while {step}: {(plain or lost)[0]} "
            "(is it running? start one, or pass --redis-url)"
        )
    return f"{step} failed: {type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    state: dict[str, str] = {}
    try:
        report = run(args, state)
    except KeyboardInterrupt:
        print("support_bot: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line instead of a traceback wall
        if os.environ.get("REDISVEC_DEBUG"):
            raise
        print(f"support_bot: error: {explain(exc, state)}", file=sys.stderr)
        return 1
    if args.json is not None:
        args.json.write_text(json.dumps(dataclasses.asdict(report), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
