"""The worker of `benchmarks/scale.py`: one client library, fed chunk by chunk into a large index.

Usage: ``python scale_worker.py VARIANT`` (a key of ``CLIENTS``), then JSON jobs on stdin as in
`common.serve`. Unlike `common.Session`, which builds every input of a small corpus up front, a
chunk's inputs (records, texts and metadata, nodes) are built from the memory-mapped corpus just
before the timed call and dropped after it, as an application streaming its documents would: the
worker's peak RSS then measures the client library, not the benchmark's own copy of the corpus.

The calls are the ones `make bench` times (raw.py's pipelined HSETs and FT.SEARCH, `load`,
``add_texts``, ``add``, each library's KNN call), so the two benchmarks measure the same code.
Only the redis-py/numpy part is imported at start; a library is imported by the variant using it.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
from common import CATEGORIES, Data, K, _parser, _versions, index_of_text, text_of


class Corpus:
    """The saved vectors, read chunk by chunk with plain file reads. Not a memory map: mapped
    pages count in the process's RSS, which would then grow with the corpus read, not with
    what the client library holds."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = {(1, 0): np.lib.format.read_array_header_1_0}.get(
                version, np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read(f)
            self.offset = f.tell()
        assert dtype == np.float32
        self.dims: int = shape[1]

    def rows(self, start: int, stop: int) -> np.ndarray:
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self.dims * 4)
            flat = np.fromfile(f, dtype=np.float32, count=(stop - start) * self.dims)
        return flat.reshape(stop - start, self.dims)


def _chunk(corpus: Corpus, start: int, stop: int) -> Data:
    """Docs ``start .. stop-1`` with the ids, texts and metadata `make bench` gives them."""
    rng = range(start, stop)
    return Data(
        corpus.rows(start, stop),
        np.zeros((0, corpus.dims), np.float32),
        [f"d{i}" for i in rng],
        [text_of(i) for i in rng],
        [f"c{i % CATEGORIES}" for i in rng],
        [1990 + i % 35 for i in rng],
    )


class Client:
    """One library on one index. ``prepare`` is untimed; ``ingest`` and ``knn`` are timed."""

    packages: tuple[str, ...] = ("redis", "hiredis", "numpy")

    def __init__(self, job: dict[str, Any], queries: np.ndarray) -> None:
        self.url: str = job["url"]
        self.index: str = job["index"]
        self.prefix: str = job["prefix"]
        self.dims: int = job["dims"]
        self.algo: str = job["algo"]
        self.queries = queries
        self.query_lists = queries.tolist()

    def case(self) -> dict[str, Any]:
        """What `common.Variant` reads from a `make bench` case."""
        return {
            "dims": self.dims, "algo": self.algo, "dtype": "float32",
            "index": self.index, "prefix": self.prefix,
        }  # fmt: skip

    def prepare(self, chunk: Data) -> Any:
        return chunk

    def ingest(self, batch: Any) -> None:
        raise NotImplementedError

    def knn(self, qi: int, category: str | None, ef: int | None) -> Any:
        raise NotImplementedError

    def texts(self, result: Any) -> list[str]:
        raise NotImplementedError


class RawClient(Client):
    """raw.py's `Raw` on a chunk: the same pipelined HSETs and the same FT.SEARCH arguments."""

    def __init__(self, job: dict[str, Any], queries: np.ndarray) -> None:
        super().__init__(job, queries)
        import redis
        from raw import Raw

        empty = Data(np.zeros((0, self.dims), np.float32), queries, [], [], [], [])
        self.raw = Raw(self.url, self.case(), empty)
        self.raw.r = redis.Redis.from_url(self.url)
        self.raw.np_dtype = np.float32

    def ingest(self, batch: Data) -> None:
        queries, self.raw.data = self.raw.data.queries, batch
        try:
            self.raw.ingest(0, batch.n)
        finally:
            self.raw.data = Data(batch.vectors[:0], queries, [], [], [], [])

    def knn(self, qi: int, category: str | None, ef: int | None) -> Any:
        from raw import _parse

        where = f"(@category:{{{category}}})" if category else "*"
        knn = "=>[KNN 10 @embedding $v" + (" EF_RUNTIME $ef" if ef else "") + " AS dist]"
        args = self.raw._args(qi, where + knn, ["ef", ef] if ef else [])
        return _parse(self.raw.r.execute_command(*args))

    def texts(self, result: Any) -> list[str]:
        return [hit["text"] for hit in result]


class CoreClient(Client):
    """redisvec's `SearchIndex` on the shared index: ``load`` of dict records."""

    packages = ("redisvec", "redis", "hiredis", "numpy")

    def __init__(self, job: dict[str, Any], queries: np.ndarray) -> None:
        super().__init__(job, queries)
        import redis

        from redisvec.index import SearchIndex

        self.index_obj = SearchIndex.from_existing(redis.Redis.from_url(self.url), self.index)

    def prepare(self, chunk: Data) -> Any:
        records = [
            {"text": t, "category": c, "year": y, "embedding": v}
            for t, c, y, v in zip(chunk.texts, chunk.categories, chunk.years, chunk.vectors)
        ]
        return records, chunk.ids

    def ingest(self, batch: Any) -> None:
        self.index_obj.load(batch[0], ids=batch[1])

    def knn(self, qi: int, category: str | None, ef: int | None) -> Any:
        from redisvec.filters import Tag
        from redisvec.query import VectorQuery

        flt = Tag("category") == category if category else None
        query = VectorQuery(
            self.queries[qi], k=K, filter=flt, ef_runtime=ef,
            return_fields=["text", "category", "year"],
        )  # fmt: skip
        return self.index_obj.search(query)

    def texts(self, result: Any) -> list[str]:
        return [hit.fields["text"] for hit in result.hits]


class LangChainClient(Client):
    """A LangChain store: ``add_texts`` with ids and metadata, embeddings precomputed."""

    packages = ("langchain-core", "redis", "hiredis", "numpy")

    def __init__(self, job: dict[str, Any], queries: np.ndarray) -> None:
        super().__init__(job, queries)
        from langchain_common import Precomputed

        self.embeddings = Precomputed({}, self.dims)
        self.store = self.make_store()

    def make_store(self) -> Any:
        raise NotImplementedError

    def prepare(self, chunk: Data) -> Any:
        metadatas = [{"category": c, "year": y} for c, y in zip(chunk.categories, chunk.years)]
        return chunk.texts, metadatas, chunk.ids, dict(zip(chunk.texts, chunk.vectors.tolist()))

    def ingest(self, batch: Any) -> None:
        texts, metadatas, ids, by_text = batch
        self.embeddings.by_text = by_text
        self.store.add_texts(texts, metadatas, ids=ids)

    def knn(self, qi: int, category: str | None, ef: int | None) -> Any:
        flt = self.category_filter(category) if category else None
        return self.store.similarity_search_with_score_by_vector(
            self.query_lists[qi], k=K, filter=flt
        )

    def category_filter(self, category: str) -> Any:
        raise NotImplementedError

    def texts(self, result: Any) -> list[str]:
        return [doc.page_content for doc, _ in result]


class RedisvecLangChainClient(LangChainClient):
    """redisvec's LangChain adapter, opened on the shared index."""

    packages = ("redisvec", *LangChainClient.packages)

    def make_store(self) -> Any:
        from redisvec.langchain import RedisVectorStore

        return RedisVectorStore.from_existing_index(
            embedding=self.embeddings, index_name=self.index, redis_url=self.url
        )

    def category_filter(self, category: str) -> Any:
        return {"category": category}


class OfficialLangChainClient(LangChainClient):
    """langchain-redis on its own index, configured as `make bench` configures it."""

    packages = ("langchain-redis", "redisvl", *LangChainClient.packages)

    def make_store(self) -> Any:
        from langchain_redis_official import LangChainRedis

        return LangChainRedis(self.url, self.case(), None).make_store(self.embeddings)  # type: ignore[arg-type]

    def category_filter(self, category: str) -> Any:
        from redisvl.query.filter import Tag

        return Tag("category") == category


class LlamaIndexClient(Client):
    """A LlamaIndex store: ``add`` of `TextNode`s with embeddings."""

    packages = ("llama-index-core", "redis", "hiredis", "numpy")

    def __init__(self, job: dict[str, Any], queries: np.ndarray) -> None:
        super().__init__(job, queries)
        self.store = self.make_store()

    def make_store(self) -> Any:
        raise NotImplementedError

    def prepare(self, chunk: Data) -> Any:
        from llama_index.core.schema import TextNode

        return [
            TextNode(id_=i, text=t, metadata={"category": c, "year": y}, embedding=v)
            for i, t, c, y, v in zip(
                chunk.ids, chunk.texts, chunk.categories, chunk.years, chunk.vectors.tolist()
            )
        ]

    def ingest(self, batch: Any) -> None:
        self.store.add(batch)

    def knn(self, qi: int, category: str | None, ef: int | None) -> Any:
        from llama_index.core.vector_stores.types import (
            ExactMatchFilter,
            MetadataFilters,
            VectorStoreQuery,
        )

        filters = None
        if category:
            filters = MetadataFilters(filters=[ExactMatchFilter(key="category", value=category)])
        query = VectorStoreQuery(
            query_embedding=self.query_lists[qi], similarity_top_k=K, filters=filters
        )
        return self.store.query(query)

    def texts(self, result: Any) -> list[str]:
        return [node.get_content() for node in result.nodes]


class RedisvecLlamaIndexClient(LlamaIndexClient):
    """redisvec's LlamaIndex adapter, opened on the shared index."""

    packages = ("redisvec", *LlamaIndexClient.packages)

    def make_store(self) -> Any:
        from redisvec.llama_index import RedisVectorStore

        return RedisVectorStore.from_existing_index(index_name=self.index, redis_url=self.url)


class OfficialLlamaIndexClient(LlamaIndexClient):
    """llama-index-vector-stores-redis on its own index, configured as `make bench` does."""

    packages = ("llama-index-vector-stores-redis", "redisvl", *LlamaIndexClient.packages)

    def make_store(self) -> Any:
        from llama_index_redis_official import LlamaIndexRedis

        store = LlamaIndexRedis(self.url, self.case(), None).make_store()  # type: ignore[arg-type]
        store.create_index()  # what its first add would do; created here, outside the clock
        return store


CLIENTS: dict[str, type[Client]] = {
    "raw": RawClient,
    "redisvec-core": CoreClient,
    "redisvec-langchain": RedisvecLangChainClient,
    "redisvec-llama-index": RedisvecLlamaIndexClient,
    "langchain-redis": OfficialLangChainClient,
    "llama-index-redis": OfficialLlamaIndexClient,
}


class Worker:
    """The jobs: open, ingest (a range of the corpus), queries (a list, one kind), rss. A worker
    can hold several stores (one per index, named by the job's ``store``)."""

    def __init__(self, cls: type[Client]) -> None:
        self.cls = cls
        self.stores: dict[str, tuple[Client, Corpus]] = {}

    def open(self, job: dict[str, Any]) -> dict[str, Any]:
        vectors = Corpus(job["vectors"])
        queries = np.ascontiguousarray(np.load(job["queries"]), dtype=np.float32)
        self.stores[job.get("store", "")] = (self.cls(job, queries), vectors)
        return {"ok": True}

    def close(self, job: dict[str, Any]) -> dict[str, Any]:
        self.stores.pop(job.get("store", ""), None)
        return {"ok": True}

    def ingest(self, job: dict[str, Any]) -> dict[str, Any]:
        client, vectors = self.stores[job.get("store", "")]
        batch = client.prepare(_chunk(vectors, job["start"], job["stop"]))
        t0 = time.perf_counter()
        client.ingest(batch)
        return {"seconds": time.perf_counter() - t0}

    def queries(self, job: dict[str, Any]) -> dict[str, Any]:
        """Timed queries; the ids they returned (parsed from the texts, untimed) for the runner's
        checks against the exact answer."""
        client = self.stores[job.get("store", "")][0]
        ef, filtered = job.get("ef"), job["kind"] == "filtered"
        times, results = [], []
        for qi in job["qis"]:
            category = f"c{qi % CATEGORIES}" if filtered else None
            t0 = time.perf_counter()
            res = client.knn(qi, category, ef)
            times.append(time.perf_counter() - t0)
            results.append(res)
        ids = [[index_of_text(t) for t in client.texts(r)] for r in results]
        return {"times": times, "ids": ids}


def _status_mb(name: str) -> float | None:
    """A size from /proc/self/status (Linux), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size. VmHWM, not ``ru_maxrss``: Linux carries
    ``ru_maxrss`` across exec, so a worker would report its parent's (the runner's) peak."""
    peak = _status_mb("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB or bytes


def main() -> None:
    cls = CLIENTS[sys.argv[1]]
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from libraries go to stderr, not into the protocol
    sys.stdout = sys.stderr

    def send(message: dict[str, Any]) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    send(
        {
            "hello": sys.argv[1],
            "python": platform.python_version(),
            "executable": sys.executable,
            "versions": _versions(cls.packages),
            "parser": _parser(),
        }
    )
    worker = Worker(cls)
    for line in sys.stdin:
        job = json.loads(line)
        try:
            if job["op"] == "quit":
                break
            if job["op"] == "rss":
                send({"peak_rss_mb": peak_rss_mb(), "rss_anon_mb": _status_mb("RssAnon")})
            else:
                send(getattr(worker, job["op"])(job))
        except Exception as exc:
            send({"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()})


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
