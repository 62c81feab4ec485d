"""Where the client time of a core KNN query goes, next to raw redis-py and the server's own time.

Usage (any environment with redisvec[server]; the dev `.venv` will do)::

    .venv/bin/python benchmarks/profile_knn.py            # 3,000 384-d HNSW docs, 400 queries
    .venv/bin/python benchmarks/profile_knn.py --cprofile # and the top functions of index.search
    .venv/bin/python benchmarks/profile_knn.py --adapters # raw, core and both adapters' client CPU

One embedded server, one corpus (the benchmark's), and these measured in interleaved rounds, each
as a per-query median:

* the server's own time (INFO commandstats: FT.SEARCH usec / calls over the measured queries) and
  the loopback round trip (PING on a plain socket: no client library);
* the phases of one core query: building the arguments (`VectorQuery.to_args`), packing them
  (`Connection.pack_command`), the wire (send the packed bytes, receive the whole reply, on a plain
  socket), parsing the reply (hiredis's Reader, or redis-py's pure-Python parser), redis-py's own
  path around them (execute_command minus the wire and parse), and building hits
  (`parse_search_reply`);
* end to end: raw `execute_command` + a dict per hit (the benchmark's raw floor), and the core's
  `SearchIndex.search`, each with hiredis and with redis-py's pure-Python parser.

``--adapters`` compares the benchmark's own workers (raw, core, LangChain, LlamaIndex: the same
calls `make bench` times) by client CPU time per KNN query (the thread's CPU clock, so the other
processes of a shared machine move it much less than the wall clock): end to end, and with the
server's replies recorded and replayed (no I/O: only the client's work, with warm caches), next
to the frameworks' own object construction for the same 10 hits (the floor an adapter cannot cut).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import socket
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import redis
from redis._parsers import _RESP2Parser, _RESP3Parser

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE / "workers")]

from run import FULL, ensure_data  # noqa: E402

from redisvec.index import SearchIndex  # noqa: E402
from redisvec.query import VectorQuery  # noqa: E402
from redisvec.results import parse_search_reply  # noqa: E402
from redisvec.schema import IndexSchema, NumericField, TagField, TextField, VectorField  # noqa: E402
from redisvec.server import LocalRedis  # noqa: E402

RETURN = ["text", "category", "year"]


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


class Wire:
    """A plain socket to the server: the round trip with no client library in it."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def roundtrip(self, payload: bytes, reply_len: int) -> bytes:
        self.sock.sendall(payload)
        chunks, got = [], 0
        while got < reply_len:
            chunk = self.sock.recv(65536)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def record(self, payload: bytes) -> bytes:
        """The whole reply to one command (hiredis tells when it is complete)."""
        import hiredis

        reader = hiredis.Reader()
        self.sock.sendall(payload)
        data = b""
        while True:
            chunk = self.sock.recv(65536)
            data += chunk
            reader.feed(chunk)
            if reader.gets() is not False:
                return data


def _commandstats(client: redis.Redis) -> tuple[int, int]:
    stats = client.info("commandstats").get("cmdstat_FT.SEARCH", {})
    return int(stats.get("usec", 0)), int(stats.get("calls", 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--adapters", action="store_true", help="the adapters next to raw and core")
    parser.add_argument("--algo", default="HNSW", help="with --adapters: FLAT or HNSW (384-d)")
    args = parser.parse_args()
    if args.adapters:
        return adapters(args.algo.upper(), max(1, args.queries // 100))
    dims, algo, n = 384, "HNSW", FULL.n[(384, "HNSW")]
    ensure_data(FULL)
    vectors = np.load(HERE / ".data" / f"vectors_{dims}.npy")[:n]
    queries = np.load(HERE / ".data" / f"queries_{dims}.npy")[: FULL.q]
    server = LocalRedis().start()
    try:
        url = server.url
        host, port = url.split("//")[1].split(":")
        port = int(port.split("/")[0])
        fast = redis.Redis.from_url(url)
        protocol = int(fast.connection_pool.get_connection().protocol or 2)  # redis-py 8: RESP3
        pure = _RESP3Parser if protocol == 3 else _RESP2Parser
        slow = redis.Redis.from_url(url, parser_class=pure)
        schema = IndexSchema(
            "prof",
            prefixes=("prof:",),
            fields=(
                TextField("text"),
                TagField("category"),
                NumericField("year"),
                VectorField("embedding", dims=dims, algorithm=algo),
            ),
        )
        index = SearchIndex(schema, fast)
        index.create()
        index.load(
            [
                {"text": f"d{i} " + "word " * 24, "category": f"c{i % 10}", "year": 1990 + i % 35,
                 "embedding": vectors[i]}
                for i in range(n)
            ],
            ids=[f"d{i}" for i in range(n)],
        )  # fmt: skip
        slow_index = SearchIndex(schema, slow)
        conn = fast.connection_pool.get_connection()
        wire = Wire(host, port)
        if protocol == 3:  # the plain socket speaks what redis-py speaks
            wire.record(b"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n")
        qs = [VectorQuery(queries[i % len(queries)], k=10, return_fields=RETURN) for i in range(64)]
        argv = [("FT.SEARCH", *q.to_args(schema)) for q in qs]
        payloads = [b"".join(conn.pack_command(*a)) for a in argv]
        replies = [wire.record(p) for p in payloads]
        parsed = [fast.execute_command(*a) for a in argv]
        ping = b"*1\r\n$4\r\nPING\r\n"

        import hiredis

        def hiredis_parse(i: int) -> Any:
            reader = hiredis.Reader()
            reader.feed(replies[i])
            return reader.gets()

        def raw_hits(reply: Any) -> list[dict[str, Any]]:
            """The benchmark's raw floor: a dict of text per hit (RESP3 or RESP2)."""
            hits = []
            if isinstance(reply, dict):
                for item in reply[b"results"]:
                    attrs = item[b"extra_attributes"]
                    fields = {k.decode(): v.decode() for k, v in attrs.items()}
                    fields["id"] = item[b"id"].decode()
                    hits.append(fields)
                return hits
            for j in range(1, len(reply), 2):
                flat = reply[j + 1]
                fields = {flat[m].decode(): flat[m + 1].decode() for m in range(0, len(flat), 2)}
                fields["id"] = reply[j].decode()
                hits.append(fields)
            return hits

        phases: dict[str, Callable[[int], Any]] = {
            "PING round trip (plain socket)": lambda i: wire.roundtrip(ping, 7),
            "FT.SEARCH round trip (plain socket)": lambda i: wire.roundtrip(
                payloads[i], len(replies[i])
            ),
            "build arguments (to_args)": lambda i: qs[i].to_args(schema),
            "pack command (redis-py)": lambda i: conn.pack_command(*argv[i]),
            "parse reply (hiredis)": hiredis_parse,
            "build hits (parse_search_reply)": lambda i: parse_search_reply(parsed[i], schema),
            "raw's hits (a dict of text per hit)": lambda i: raw_hits(parsed[i]),
            "raw: execute_command + dicts, hiredis": lambda i: raw_hits(
                fast.execute_command(*argv[i])
            ),
            "raw: execute_command + dicts, pure-Python parser": lambda i: raw_hits(
                slow.execute_command(*argv[i])
            ),
            "core: index.search, hiredis": lambda i: index.search(qs[i]),
            "core: index.search, pure-Python parser": lambda i: slow_index.search(qs[i]),
        }
        times: dict[str, list[float]] = {name: [] for name in phases}
        server_us: dict[str, list[float]] = {name: [] for name in phases if ":" in name}
        for call in phases.values():  # warm up
            for i in range(20):
                call(i % len(qs))
        rounds = max(1, args.queries // len(qs))
        clock = time.perf_counter
        for rnd in range(rounds):
            names = list(phases)
            names = names[rnd % len(names) :] + names[: rnd % len(names)]
            for name in names:
                call = phases[name]
                usec0, calls0 = _commandstats(fast)
                for i in range(len(qs)):
                    t0 = clock()
                    call(i)
                    times[name].append(clock() - t0)
                usec1, calls1 = _commandstats(fast)
                if name in server_us and calls1 > calls0:
                    server_us[name].append((usec1 - usec0) / (calls1 - calls0) * 1e-6)
        print(f"redis-py {redis.__version__} (RESP{protocol}), hiredis {hiredis.__version__}")
        print(f"{n} {dims}-d {algo} docs, {rounds * len(qs)} queries per line, medians (us)")
        for name in phases:
            extra = ""
            if server_us.get(name):
                extra = f"   server {_median_us(server_us[name]):6.0f}"
            print(f"  {name:<50} {_median_us(times[name]):7.1f}{extra}")
        if args.cprofile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(10):
                for q in qs:
                    index.search(q)
            profile.disable()
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(18)
            print(out.getvalue())
        index.drop(delete_documents=True)
    finally:
        server.stop()
    return 0


def adapters(algo: str, rounds: int) -> int:
    """Client CPU per KNN query of the benchmark's workers, end to end and replayed."""
    import timeit

    from common import make_data
    from langchain_core.documents import Document
    from llama_index.core.schema import TextNode
    from raw import Raw
    from redisvec_core import Core
    from redisvec_langchain import RedisvecLangChain
    from redisvec_llama_index import RedisvecLlamaIndex

    dims, n = 384, FULL.n[(384, algo)]
    ensure_data(FULL)
    data = make_data(str(HERE / ".data"), dims, n, 100)
    classes = {
        "raw": Raw,
        "core": Core,
        "LangChain": RedisvecLangChain,
        "LlamaIndex": RedisvecLlamaIndex,
    }
    server = LocalRedis().start()
    try:
        workers = {}
        for name, cls in classes.items():
            case = {"dims": dims, "algo": algo, "dtype": "float32", "index": f"p_{name}",
                    "prefix": f"p_{name}:"}  # fmt: skip
            worker = cls(server.url, case, data)
            worker.create()
            worker.ingest(0, n)
            workers[name] = worker

        def client(worker: Any) -> Any:
            if hasattr(worker, "r"):
                return worker.r
            if hasattr(worker, "index"):
                return worker.index.client
            return worker.store._managed.index().client

        def timed(calls: dict[str, Callable[[int], Any]]) -> dict[str, float]:
            samples: dict[str, list[float]] = {name: [] for name in calls}
            for rnd in range(rounds * 4):
                names = list(calls)[rnd % 4 :] + list(calls)[: rnd % 4]
                for name in names:
                    for i in range(100):
                        t0 = time.thread_time()
                        calls[name](i)
                        samples[name].append(time.thread_time() - t0)
            return {name: _median_us(s) for name, s in samples.items()}

        live = {name: (lambda i, w=w: w.knn(i, False)) for name, w in workers.items()}
        for call in live.values():
            for i in range(100):
                call(i)
        end_to_end = timed(live)
        replayed: dict[str, Callable[[int], Any]] = {}
        for name, worker in workers.items():
            c = client(worker)
            replies = [_reply_of(c, worker, i) for i in range(100)]
            current: list[Any] = [None]
            c.execute_command = lambda *a, current=current, **k: current[0]

            def replay(i: int, w: Any = worker, r: list[Any] = replies, cur: list[Any] = current):
                cur[0] = r[i]
                return w.knn(i, False)

            replayed[name] = replay
        warm = timed(replayed)
        print(f"{n} {dims}-d {algo} docs, 10 hits per query; client CPU per query, medians (us)")
        print(f"  {'variant':<12} {'end to end':>11} {'x raw':>6} {'replayed':>9} {'+ raw':>7}")
        for name in classes:
            print(
                f"  {name:<12} {end_to_end[name]:11.1f} {end_to_end[name] / end_to_end['raw']:6.2f}"
                f" {warm[name]:9.1f} {warm[name] - warm['raw']:+7.1f}"
            )
        hits = workers["core"].knn(0, False).hits
        texts = [h.fields["text"] for h in hits]
        metadata = [{"category": h.fields["category"], "year": 1990} for h in hits]

        def per_query(label: str, make: Callable[[], Any]) -> None:
            best = min(timeit.Timer(make, timer=time.thread_time).repeat(number=2000, repeat=7))
            print(f"  {label:<58} {best / 2000 * 1e6:6.1f}")

        print("the frameworks' objects for the same 10 hits alone (the floor; us, best of 7):")
        per_query(
            "10 TextNode(id_=, text=, metadata=), validated",
            lambda: [TextNode(id_=h.id, text=t, metadata=dict(m)) for h, t, m in zip(hits, texts, metadata)],
        )  # fmt: skip
        per_query(
            "10 Document(id=, page_content=, metadata=), validated",
            lambda: [Document(id=h.id, page_content=t, metadata=dict(m)) for h, t, m in zip(hits, texts, metadata)],
        )  # fmt: skip
        for worker in workers.values():
            worker.close()
    finally:
        server.stop()
    return 0


def _reply_of(client: Any, worker: Any, i: int) -> Any:
    """The server's reply to the one command ``worker``'s query ``i`` sends through ``client``."""
    seen: list[Any] = []
    real = client.execute_command

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    client.execute_command = spy
    try:
        worker.knn(i, False)
    finally:
        del client.execute_command
    return seen[-1]


if __name__ == "__main__":
    sys.exit(main())
