"""Schema evolution without re-embedding (`redisvec.evolve`), against the real server.

Ground truth is plain Python / numpy over the data the test generated: which documents carry a
metadata value, and exact nearest neighbours.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import redis
from _langchain_support import TableEmbeddings  # type: ignore[import-not-found]

from redisvec import Num, SchemaMismatchError, SearchIndex, Tag, VectorQuery, evolve
from redisvec.langchain import RedisVectorStore
from redisvec.layout import metadata_fields

N = 10_000
DIMS = 16
GENRES = ["drama", "comedy", "noir", "sci fi, classic", "a|b"]


class CountingEmbeddings(TableEmbeddings):
    """Counts calls; after `freeze` any call fails the test."""

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.calls = 0
        self.frozen = False

    def freeze(self) -> None:
        self.frozen = True

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        assert not self.frozen, "embed_documents called after the initial add"
        self.calls += 1
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        assert not self.frozen, "embed_query called after the initial add"
        self.calls += 1
        return super().embed_query(text)


def _corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, DIMS)).astype(np.float32)
    texts = [f"document number {i}" for i in range(n)]
    metadatas: list[dict[str, Any]] = []
    for i in range(n):
        meta: dict[str, Any] = {"n": i}
        if i % 7:  # some documents have no genre at all
            meta["genre"] = GENRES[i % len(GENRES)]
        if i % 11 == 0:
            meta["genre"] = [GENRES[0], GENRES[3]]  # a list: two tags
        metadatas.append(meta)
    return texts, vectors, metadatas


def _expected(metadatas: list[dict[str, Any]], genre: str) -> set[str]:
    out = set()
    for i, meta in enumerate(metadatas):
        value = meta.get("genre")
        values = value if isinstance(value, list) else [value]
        if genre in values:
            out.add(str(i))
    return out


@pytest.fixture(scope="module")
def redis_url(own_server_url: str) -> str:
    # A rebuild fills its new HNSW version in SCAN order, which depends on every key the server
    # holds: on a server of its own the graph, so the recall compared below, is the same each run.
    return own_server_url


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], np.ndarray, list[dict[str, Any]]]:
    return _corpus(N)


def _langchain_store(redis_url: str, names: Any, corpus: Any) -> tuple[Any, CountingEmbeddings]:
    texts, vectors, metadatas = corpus
    embeddings = CountingEmbeddings(dict(zip(texts, vectors.tolist())))
    store = RedisVectorStore(
        embeddings,
        index_name=names.index,
        redis_url=redis_url,
        key_prefix=names.prefix,
        metadata_schema=[{"name": "n", "type": "numeric"}],  # genre is NOT declared
    )
    store.add_texts(texts, metadatas, ids=[str(i) for i in range(len(texts))])
    embeddings.freeze()
    return store, embeddings


def test_add_tag_field_to_a_langchain_index_without_reembedding(
    redis_url: str, names: Any, corpus: Any, client: redis.Redis
) -> None:
    _texts, vectors, metadatas = corpus
    store, embeddings = _langchain_store(redis_url, names, corpus)
    calls = embeddings.calls

    # Before: the field is not in the index.
    with pytest.raises(Exception, match="genre"):
        store.similarity_search_by_vector(vectors[0].tolist(), k=3, filter=Tag("genre") == "noir")

    [genre] = metadata_fields([{"name": "genre", "type": "tag"}])
    the_plan = evolve.plan(client, names.index, store.index.schema.with_fields(genre))
    assert [f.name for f in the_plan.add] == ["genre"] and not the_plan.needs_rebuild
    written = evolve.add_fields(client, names.index, [genre])
    assert written == sum(1 for m in metadatas if m.get("genre"))

    reopened = RedisVectorStore.from_existing_index(
        embeddings, index_name=names.index, redis_url=redis_url
    )
    index = reopened.index
    for value in GENRES:
        expected = _expected(metadatas, value)
        got = {
            index.schema.id_from_key(k)
            for batch in index.iter_keys(Tag("genre") == value)
            for k in batch
        }
        assert got == expected, value
    # Through the LangChain adapter: a filtered KNN over every document.
    noir = _expected(metadatas, "noir")
    docs = reopened.similarity_search_by_vector(
        vectors[0].tolist(), k=len(noir) + 10, filter=Tag("genre") == "noir"
    )
    assert {d.id for d in docs} == noir
    # Documents without the field: "missing" filters work (INDEXMISSING).
    missing = {str(i) for i, m in enumerate(metadatas) if not m.get("genre")}
    assert index.count(Tag("genre").is_missing()) == len(missing)
    # The metadata the adapter returns is still exactly what was stored, vectors untouched.
    fetched = reopened.get_by_ids(["11", "12"])
    assert [d.metadata for d in fetched] == [metadatas[11], metadatas[12]]
    raw = client.hget(f"{names.prefix}12", "embedding")
    assert np.array_equal(np.frombuffer(raw, dtype=np.float32), vectors[12])
    assert embeddings.calls == calls


def test_add_field_dry_run_writes_nothing(redis_url: str, names: Any, client: redis.Redis) -> None:
    texts, vectors, metadatas = _corpus(50, seed=1)
    store, _ = _langchain_store(redis_url, names, (texts, vectors, metadatas))
    before = SearchIndex.from_existing(client, names.index).schema
    [genre] = metadata_fields([{"name": "genre", "type": "tag"}])
    the_plan = evolve.plan(client, names.index, store.index.schema.with_fields(genre))
    assert any("genre" in line for line in the_plan.describe())
    assert SearchIndex.from_existing(client, names.index).schema == before
    assert client.hget(f"{names.prefix}1", "genre") is None


def test_add_field_on_json_storage(redis_url: str, names: Any, client: redis.Redis) -> None:
    texts, vectors, metadatas = _corpus(300, seed=2)
    embeddings = CountingEmbeddings(dict(zip(texts, vectors.tolist())))
    store = RedisVectorStore(
        embeddings, index_name=names.index, redis_url=redis_url, key_prefix=names.prefix,
        storage_type="json",
    )  # fmt: skip
    store.add_texts(texts, metadatas, ids=[str(i) for i in range(len(texts))])
    embeddings.freeze()
    [genre] = metadata_fields([{"name": "genre", "type": "tag"}])
    evolve.add_fields(client, names.index, [genre])
    index = SearchIndex.from_existing(client, names.index)
    for value in GENRES:
        got = {
            index.schema.id_from_key(k) for b in index.iter_keys(Tag("genre") == value) for k in b
        }
        assert got == _expected(metadatas, value), value


# -- rebuild behind an alias ----------------------------------------------------------------------


def _recall_at_10(index: SearchIndex, vectors: np.ndarray, queries: np.ndarray) -> float:
    normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    hits = 0
    for q in queries:
        truth = np.argsort(-(normed @ (q / np.linalg.norm(q))))[:10]
        got = index.search(VectorQuery(q, k=10))
        hits += len({str(i) for i in truth} & {h.id for h in got.hits})
    return hits / (10 * len(queries))


# Seen failing only inside a full run on a loaded 2-core machine (HNSW recall, a document count
# right after a rebuild); never alone. Under investigation
# (closing note of stop 11): retried, so a consistent failure still fails.
@pytest.mark.flaky(reruns=2)
def test_rebuild_float32_to_float16_behind_an_alias_under_queries(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    n = 5000
    texts, vectors, metadatas = _corpus(n, seed=4)
    store, embeddings = _langchain_store(redis_url, names, (texts, vectors, metadatas))
    schema = store.index.schema
    target = schema.with_fields(replace(schema.vector_field, datatype="float16"))
    the_plan = evolve.plan(client, names.index, target)
    assert the_plan.needs_rebuild and the_plan.rewrite_vectors
    rng = np.random.default_rng(9)
    queries = rng.normal(size=(50, DIMS)).astype(np.float32)
    recall_before = _recall_at_10(store.index, vectors, queries)

    failures: list[BaseException] = []
    empties: list[int] = []
    done = threading.Event()
    count = [0]

    def hammer() -> None:
        # A SearchIndex opened before the switch holds the float32 schema; across the switch its
        # search notices that the vector encoding behind the name changed and goes on, with no
        # error reaching the caller.
        with redis.Redis.from_url(redis_url) as own:
            index = SearchIndex.from_existing(own, names.index)
            i = 0
            while not done.is_set():
                try:
                    result = index.search(VectorQuery(queries[i % 50], k=10))
                except redis.RedisError as exc:
                    failures.append(exc)
                else:
                    if result.total == 0 or not result.hits:
                        empties.append(i)
                i += 1
                count[0] = i
            datatypes.append(index.schema.vector_field.datatype)

    datatypes: list[str] = []
    thread = threading.Thread(target=hammer, daemon=True)
    thread.start()
    time.sleep(0.2)
    try:
        report = evolve.rebuild(client, the_plan)
        time.sleep(0.2)
    finally:
        done.set()
        thread.join(30)
    assert count[0] > 10
    assert failures == [] and empties == []
    assert datatypes == ["float16"]  # the hammering index adopted the new encoding
    # The LangChain store opened before the switch still answers (its index adopts it too).
    assert len(store.similarity_search_by_vector(queries[0].tolist(), k=10)) == 10
    # It must not write float32 records under the old prefix, which nothing indexes any more,
    # nor create a second index of the alias's name: a clear error instead.
    # Its writes go to the new version too (its index adopted the new schema while searching):
    # never float32 records under the old prefix, which nothing indexes any more, nor a second
    # index of the alias's name.
    listed = set(client.execute_command("FT._LIST"))
    embeddings.frozen = False
    store.add_texts([texts[0]], ids=["late"])
    assert set(client.execute_command("FT._LIST")) == listed
    assert not list(client.scan_iter(match=f"{names.prefix}*"))
    (late,) = SearchIndex.from_existing(client, names.index).fetch(["late"])
    assert late is not None and late["embedding"].dtype == np.float16
    assert SearchIndex.from_existing(client, names.index).delete(["late"]) == 1
    # A store opened before the switch that has not searched since refuses to write.
    stale = RedisVectorStore(
        TableEmbeddings({texts[1]: vectors[1].tolist()}), index_name=names.index,
        redis_url=redis_url, key_prefix=names.prefix,
    )  # fmt: skip
    stale._managed.use(schema, stale._managed.requested)  # what it read before the switch
    with pytest.raises(SchemaMismatchError):
        stale.add_texts([texts[1]], ids=["later"])
    assert set(client.execute_command("FT._LIST")) == listed
    assert not list(client.scan_iter(match=f"{names.prefix}*"))
    assert report.num_docs == n and report.copied == n
    # After the switch: the name is an alias of the float16 version, the old copies are gone.
    opened = SearchIndex.from_existing(client, names.index)
    assert opened.schema.vector_field.datatype == "float16"
    assert names.index.encode() not in client.execute_command("FT._LIST")
    assert not list(client.scan_iter(match=f"{names.prefix}*"))
    recall = _recall_at_10(opened, vectors, queries)
    print(
        f"\nrecall@10 (HNSW, default EF_RUNTIME, {n} docs, {DIMS}-d): float32 {recall_before:.3f}"
        f" -> float16 {recall:.3f}"
    )
    # HNSW graphs of random 16-d vectors differ from build to build: a loose bound on the loss
    assert recall >= recall_before - 0.06
    # The adapters read through the alias: ids and metadata as before.
    reopened = RedisVectorStore.from_existing_index(
        embeddings, index_name=names.index, redis_url=redis_url
    )
    [doc] = reopened.similarity_search_by_vector(vectors[123].tolist(), k=1)
    assert doc.id == "123" and doc.metadata == metadatas[123]
    # A second rebuild goes through FT.ALIASUPDATE.
    hnsw_to_flat = opened.schema.with_fields(replace(opened.schema.vector_field, algorithm="flat"))
    second = evolve.rebuild(client, evolve.plan(client, names.index, hnsw_to_flat))
    assert second.copied == 0 and second.new_index == f"{names.index}__v3"
    assert SearchIndex.from_existing(client, names.index).count() == n
    _drop_versions(client, names.index)


def _drop_versions(client: redis.Redis, name: str) -> None:
    for raw in client.execute_command("FT._LIST"):
        if raw.decode().startswith(name):
            client.execute_command("FT.DROPINDEX", raw, "DD")


def test_writes_made_during_a_copying_rebuild_are_not_lost(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    # 1,200 documents are copied in batches of 500; after the first batch, a writer changes two
    # documents, deletes twelve and adds a new one under the old prefix. SCAN order decides which
    # were copied already: of twelve deleted, some were (a copy that must not come back), and the
    # check holds either way.
    texts, vectors, metadatas = _corpus(1200, seed=6)
    store, _ = _langchain_store(redis_url, names, (texts, vectors, metadatas))
    schema = store.index.schema
    target = schema.with_fields(replace(schema.vector_field, datatype="float16"))
    the_plan = evolve.plan(client, names.index, target)
    changed = {"3": [0.5] * DIMS, "7": [-0.25] * DIMS, "new-1": [1.0] + [0.0] * (DIMS - 1)}
    table = {f"edited {i}": v for i, v in changed.items()}
    writer = RedisVectorStore(TableEmbeddings(table), index_name=names.index, redis_url=redis_url)
    batches = [0]
    deleted = [str(i) for i in range(11, 1200, 100)]
    already: list[str] = []  # deleted after their copy was made

    def progress(done: int) -> None:
        batches[0] += 1
        if batches[0] == 1:
            ids = list(changed)
            writer.add_texts(list(table), [{"n": -1, "genre": "edited"}] * len(ids), ids=ids)
            copies = replace(schema, prefixes=tuple(the_plan.new_prefixes or ()))
            already.extend(i for i in deleted if client.exists(copies.key(i)))
            writer.delete(deleted)

    report = evolve.rebuild(client, the_plan, batch_size=500, progress=progress)
    assert batches[0] == 3
    assert already  # else this run did not test a deletion after the copy
    after = SearchIndex.from_existing(client, names.index)
    assert after.fetch(deleted) == [None] * len(deleted)
    expected_ids = {str(i) for i in range(1200)} - set(deleted) | set(changed)
    # before the catch-up: "new-1" not yet copied, the copies of deleted documents not yet gone
    assert report.num_docs <= len(expected_ids) + len(already)
    assert after.info().num_docs == len(expected_ids)
    got = after.fetch(sorted(expected_ids))
    assert all(r is not None for r in got)
    stored = {i: r for i, r in zip(sorted(expected_ids), got, strict=True)}
    for i, vec in changed.items():  # the edited versions, re-encoded to float16
        assert stored[i]["text"] == f"edited {i}"
        assert np.allclose(stored[i]["embedding"], np.asarray(vec, dtype=np.float16), atol=1e-3)
    assert stored["0"]["text"] == texts[0]
    assert not list(client.scan_iter(match=f"{names.prefix}*"))  # every old copy is gone


def test_dims_change_is_refused(redis_url: str, names: Any, client: redis.Redis) -> None:
    store, _ = _langchain_store(redis_url, names, _corpus(20, seed=5))
    schema = store.index.schema
    target = schema.with_fields(replace(schema.vector_field, dims=DIMS * 2))
    with pytest.raises(ValueError, match="new embeddings"):
        evolve.plan(client, names.index, target)


# -- metadata updates -----------------------------------------------------------------------------


def test_update_metadata_by_ids_and_by_filter(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    texts, vectors, metadatas = _corpus(400, seed=6)
    embeddings = CountingEmbeddings(dict(zip(texts, vectors.tolist())))
    store = RedisVectorStore(
        embeddings, index_name=names.index, redis_url=redis_url, key_prefix=names.prefix,
        metadata_schema=[{"name": "n", "type": "numeric"}, {"name": "genre", "type": "tag"}],
    )  # fmt: skip
    store.add_texts(texts, metadatas, ids=[str(i) for i in range(len(texts))])
    embeddings.freeze()
    index = store.index
    expected = [dict(m) for m in metadatas]

    assert evolve.update_metadata(index, ["1", "2", "missing"], {"genre": "western", "x": 1}) == 2
    for i in (1, 2):
        expected[i].update({"genre": "western", "x": 1})
    # by filter: every noir document loses its genre and gets a flag
    matched = evolve.update_where(index, Tag("genre") == "noir", {"genre": None, "flag": True})
    noir = [i for i, m in enumerate(metadatas) if i not in (1, 2) and "noir" in _as_list(m)]
    assert matched == len(noir)
    for i in noir:
        expected[i].pop("genre", None)
        expected[i]["flag"] = True

    for value in [*GENRES, "western"]:
        got = {
            index.schema.id_from_key(k) for b in index.iter_keys(Tag("genre") == value) for k in b
        }
        want = {str(i) for i, m in enumerate(expected) if value in _as_list(m)}
        assert got == want, value
    fetched = store.get_by_ids([str(i) for i in range(len(texts))])
    assert [d.metadata for d in fetched] == expected
    raw = client.hget(f"{names.prefix}2", "embedding")
    assert np.array_equal(np.frombuffer(raw, dtype=np.float32), vectors[2])


def _as_list(meta: dict[str, Any]) -> list[Any]:
    value = meta.get("genre")
    return value if isinstance(value, list) else [value]


def test_expire_where_sets_the_ttl_of_exactly_the_matching_documents(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    texts, vectors, metadatas = _corpus(300, seed=8)
    embeddings = CountingEmbeddings(dict(zip(texts, vectors.tolist())))
    store = RedisVectorStore(
        embeddings, index_name=names.index, redis_url=redis_url, key_prefix=names.prefix,
        metadata_schema=[{"name": "n", "type": "numeric"}],
    )  # fmt: skip
    store.add_texts(texts, metadatas, ids=[str(i) for i in range(len(texts))])
    index = store.index
    small = {str(i) for i, m in enumerate(metadatas) if m["n"] < 50}
    assert small and len(small) < 300
    assert evolve.expire_where(index, Num("n") < 50, 3600) == len(small)
    ttls = {str(i): client.ttl(names.prefix + str(i)) for i in range(300)}
    assert {i for i, t in ttls.items() if t > 0} == small
    assert all(0 < ttls[i] <= 3600 for i in small)
    assert evolve.expire_where(index, Num("n") < 50, None) == len(small)  # PERSIST again
    assert all(client.ttl(names.prefix + i) == -1 for i in small)
    with pytest.raises(ValueError, match="seconds"):
        evolve.expire_where(index, None, 0)


def test_catch_up_changes_a_copy_only_if_it_is_still_the_rebuilds(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    # The digest computed here of what a rebuild wrote must be what the server's script computes
    # of the stored copy (HASH: whatever HGETALL's field order; JSON: the text JSON.GET gives).
    from redisvec.evolve import _copy_digest, _if_copy_is
    from redisvec.schema import IndexSchema, TagField

    hashes = IndexSchema(names.index, prefixes=(names.prefix,), fields=(TagField("t"),))
    key = f"{names.prefix}copy"
    doc = {b"text": b"hello", b"vec": np.arange(4, dtype=np.float16).tobytes(), b"n": b"3"}
    client.hset(key, mapping=doc)
    for field in (b"n", b"text"):  # a different field order than doc's
        client.hset(key, field, doc[field])
    assert client.execute_command(*_if_copy_is(hashes, key, "0" * 16, [("UNLINK", key)])) == 0
    assert client.execute_command(*_if_copy_is(hashes, key, _copy_digest(doc), [("UNLINK", key)]))
    assert not client.exists(key)
    # a writer changed the copy after the switch: the catch-up's re-copy is dropped
    client.hset(key, mapping=doc)
    client.hset(key, "text", "the writer's")
    stale = [("DEL", key), ("HSET", key, "text", "the rebuild's")]
    assert client.execute_command(*_if_copy_is(hashes, key, _copy_digest(doc), stale)) == 0
    assert client.hget(key, "text") == b"the writer's"
    # no copy expected ("") and none there: the commands run; one there: they do not
    assert client.execute_command(
        *_if_copy_is(hashes, key + "2", "", [("HSET", key + "2", "a", "b")])
    )
    assert client.execute_command(*_if_copy_is(hashes, key, "", [("UNLINK", key)])) == 0
    # JSON: the digest of the text the rebuild wrote
    jsons = replace(hashes, storage="json")
    client.execute_command(
        "JSON.SET", key + "j", "$", '{"a": 1.5, "b": ["x", 2], "c": {"d": null}}'
    )
    raw = client.execute_command("JSON.GET", key + "j")
    assert client.execute_command(
        *_if_copy_is(jsons, key + "j", _copy_digest(raw), [("UNLINK", key + "j")])
    )
    assert not client.exists(key + "j")
    client.delete(key, key + "2")
