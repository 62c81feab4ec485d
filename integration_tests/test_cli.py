"""The ``redisvec`` command line, run as users run it: the installed entry point in a subprocess.

Ground truth comes from the server through redis-py (FT._LIST, SCAN, HGETALL) or from numpy over the
records the test wrote, never from the command line itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis
from _infra import acl_user  # type: ignore[import-not-found]

from redisvec.index import SearchIndex

REDISVEC = Path(sys.executable).with_name("redisvec")


def run(
    url: str | None, *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    environ.update(env or {})
    argv = [str(REDISVEC), *(["--url", url] if url else []), *args]
    return subprocess.run(
        argv, capture_output=True, text=True, input=input, env=environ, timeout=120
    )


def ok(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    done = run(url, *args)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


def as_json(url: str, *args: str) -> Any:
    return json.loads(ok(url, *args, "--json").stdout)


def failed(done: subprocess.CompletedProcess[str]) -> str:
    """A clean failure: non-zero, no traceback; returns stderr."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    return done.stderr


def schema_yaml(index: str, prefix: str, dims: int = 4) -> str:
    return f"""\
index:
  name: {index}
  prefix: "{prefix}"
  storage_type: hash
fields:
  - name: title
    type: text
  - name: genre
    type: tag
  - name: year
    type: numeric
  - name: v
    type: vector
    attrs:
      dims: {dims}
      algorithm: flat
      distance_metric: l2
"""


def _records(n: int, dims: int = 4, seed: int = 0) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dims)).astype(np.float32)
    return [
        {
            "id": f"r{i}",
            "title": f"title {i}",
            "genre": ["drama", "comedy", "noir"][i % 3],
            "year": 1990 + i % 30,
            "v": vectors[i].tolist(),
        }
        for i in range(n)
    ]


@pytest.fixture
def made(redis_url: str, names: Any, tmp_path: Path) -> tuple[str, list[dict[str, Any]]]:
    """An index created and loaded through the command line; its records."""
    schema = tmp_path / "schema.yaml"
    schema.write_text(schema_yaml(names.index, names.prefix))
    ok(redis_url, "index", "create", "--schema", str(schema))
    records = _records(120)
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    ok(redis_url, "load", str(data), "-i", names.index, "--batch-size", "50")
    return names.index, records


def test_help_and_version() -> None:
    done = run(None, "--help")
    assert done.returncode == 0
    for command in ("index", "load", "search", "stats", "server", "alter", "migrate"):
        assert command in done.stdout
    import redisvec

    assert run(None, "--version").stdout.strip().endswith(redisvec.__version__)


def test_server_subcommand_still_answers_help() -> None:
    done = run(None, "server", "--help")
    assert done.returncode == 0 and "--port" in done.stdout


def test_create_list_info_stats(redis_url: str, names: Any, made: Any, client: redis.Redis) -> None:
    name, records = made
    listed = {row["name"]: row for row in as_json(redis_url, "index", "list")}
    server_names = {n.decode() for n in client.execute_command("FT._LIST")}
    assert set(listed) == server_names
    assert listed[name]["num_docs"] == len(records)
    assert listed[name]["prefixes"] == [names.prefix]

    info = as_json(redis_url, "index", "info", name)
    assert info["num_docs"] == len(records)
    assert info["indexing_failures"] == 0 and info["last_indexing_error"] is None
    assert info["memory_mb"] > 0
    assert [f["name"] for f in info["schema"]["fields"]] == ["title", "genre", "year", "v"]
    # rvl's spelling: -i NAME
    assert as_json(redis_url, "index", "info", "-i", name)["num_docs"] == len(records)
    table = ok(redis_url, "index", "info", name).stdout
    assert "num_docs" in table and "genre" in table

    stats = as_json(redis_url, "stats", "-i", name)
    assert stats["num_docs"] == len(records)
    assert "vector_index_sz_mb" in stats


def test_info_reports_indexing_failures_with_the_last_error(
    redis_url: str, made: Any, names: Any, client: redis.Redis
) -> None:
    name, _ = made
    client.hset(f"{names.prefix}broken", mapping={"title": "x", "v": b"\x00\x01\x02"})
    info = as_json(redis_url, "index", "info", name)
    assert info["indexing_failures"] == 1
    assert "blob size" in info["last_indexing_error"]
    assert info["last_indexing_error_key"] == f"{names.prefix}broken"


def test_load_writes_every_record(made: Any, names: Any, client: redis.Redis) -> None:
    _, records = made
    stored = {k.decode() for k in client.scan_iter(match=f"{names.prefix}*", count=1000)}
    assert stored == {names.prefix + r["id"] for r in records}
    one = client.hgetall(f"{names.prefix}r7")
    assert one[b"genre"] == b"comedy"
    got = np.frombuffer(one[b"v"], dtype=np.float32)
    assert np.array_equal(got, np.asarray(records[7]["v"], dtype=np.float32))


def test_load_parquet(redis_url: str, names: Any, tmp_path: Path, client: redis.Redis) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    schema = tmp_path / "schema.yaml"
    schema.write_text(schema_yaml(names.index, names.prefix))
    ok(redis_url, "index", "create", "--schema", str(schema))
    records = _records(40, seed=3)
    path = tmp_path / "r.parquet"
    pq.write_table(pa.Table.from_pylist(records), path)
    assert as_json(redis_url, "load", str(path), "-i", names.index)["loaded"] == 40
    assert as_json(redis_url, "index", "info", names.index)["num_docs"] == 40
    assert client.hget(f"{names.prefix}r5", "title") == b"title 5"


def test_search_by_vector_matches_numpy(redis_url: str, made: Any, tmp_path: Path) -> None:
    name, records = made
    query = np.asarray(records[5]["v"], dtype=np.float32) + 0.01
    qfile = tmp_path / "q.npy"
    np.save(qfile, query)
    got = as_json(redis_url, "search", name, "--vector", str(qfile), "-k", "5")
    matrix = np.asarray([r["v"] for r in records], dtype=np.float32)
    distances = ((matrix - query) ** 2).sum(axis=1)
    expected = [records[i]["id"] for i in np.argsort(distances)[:5]]
    assert [h["id"] for h in got["hits"]] == expected
    # A filtered KNN, with the vector as a JSON list.
    (tmp_path / "q.json").write_text(json.dumps(query.tolist()))
    got = as_json(
        redis_url, "search", name, "-v", str(tmp_path / "q.json"), "-f", "@genre:{noir}", "-k", "3"
    )
    noir = [i for i, r in enumerate(records) if r["genre"] == "noir"]
    expected = [records[noir[j]]["id"] for j in np.argsort(distances[noir])[:3]]
    assert [h["id"] for h in got["hits"]] == expected
    table = ok(redis_url, "search", name, "-v", str(qfile), "-k", "2").stdout
    assert expected[0] not in table or "distance" in table


def test_search_by_filter_only(redis_url: str, made: Any) -> None:
    name, records = made
    got = as_json(redis_url, "search", name, "-f", "@genre:{drama} @year:[2000 2005]", "-k", "100")
    expected = {r["id"] for r in records if r["genre"] == "drama" and 2000 <= r["year"] <= 2005}
    assert got["total"] == len(expected)
    assert {h["id"] for h in got["hits"]} == expected


def test_delete_keeps_data_destroy_drops_it(
    redis_url: str, made: Any, names: Any, client: redis.Redis
) -> None:
    name, records = made
    ok(redis_url, "index", "delete", name)
    assert name.encode() not in client.execute_command("FT._LIST")
    assert sum(1 for _ in client.scan_iter(match=f"{names.prefix}*")) == len(records)

    ok(redis_url, "index", "create", "--schema", str(_schema_file(names)))
    # destroy asks first: without a terminal and without --yes nothing is deleted
    refused = failed(run(redis_url, "index", "destroy", name, input=""))
    assert "--yes" in refused
    assert sum(1 for _ in client.scan_iter(match=f"{names.prefix}*")) == len(records)
    ok(redis_url, "index", "destroy", name, "--yes")
    assert name.encode() not in client.execute_command("FT._LIST")
    assert sum(1 for _ in client.scan_iter(match=f"{names.prefix}*")) == 0


def _schema_file(names: Any) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "schema.yaml"
    path.write_text(schema_yaml(names.index, names.prefix))
    return path


# -- bad input -------------------------------------------------------------------------------------


def test_malformed_yaml_names_the_line(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("index:\n  name: x\nfields:\n  - name: a\n    type: [tag\n")
    message = failed(run(redis_url, "index", "create", "--schema", str(path)))
    assert f"{path}:" in message and "not valid YAML" in message
    line = int(message.split(f"{path}:")[1].split(":")[0])
    assert line in (5, 6)  # the unclosed bracket's line (or the end of the file after it)


def test_schema_error_names_the_field_and_its_line(
    redis_url: str, names: Any, tmp_path: Path, client: redis.Redis
) -> None:
    text = schema_yaml(names.index, names.prefix).replace("algorithm: flat", "algorithm: flatt")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    message = failed(run(redis_url, "index", "create", "--schema", str(path)))
    lines = text.splitlines()
    field_line = lines.index("  - name: v") + 1
    assert f"{path}:{field_line}:" in message
    assert "'v'" in message and "flatt" in message
    assert names.index.encode() not in client.execute_command("FT._LIST")


def test_malformed_json_schema_names_line_and_column(redis_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        '{\n  "index": {"name": "x"},\n  "fields": [\n    {"name": "a" "type": "tag"}\n]}'
    )
    message = failed(run(redis_url, "index", "create", "--schema", str(path)))
    assert f"{path}:4:" in message and "not valid JSON" in message


def test_json_schema_error_names_the_field_line(redis_url: str, tmp_path: Path) -> None:
    data = {
        "index": {"name": "x", "prefix": "x"},
        "fields": [{"name": "a", "type": "tag"}, {"name": "v", "type": "vector", "attrs": {}}],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data, indent=2))
    message = failed(run(redis_url, "index", "create", "--schema", str(path)))
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if '"v"' in text)
    assert f"{path}:" in message and "dims" in message
    reported = int(message.split(f"{path}:")[1].split(":")[0])
    assert reported in (line - 1, line)  # the mapping opens on the line before its "name"


def test_unknown_index(redis_url: str) -> None:
    for args in (
        ("index", "info", "no_such_index_x"),
        ("stats", "no_such_index_x"),
        ("index", "delete", "no_such_index_x"),
        ("search", "no_such_index_x", "-f", "*"),
    ):
        message = failed(run(redis_url, *args))
        assert "no_such_index_x" in message and "does not exist" in message


def test_bad_record_line(redis_url: str, made: Any, tmp_path: Path) -> None:
    name, _ = made
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "title": "ok"}\n{"id": "b", \n')
    message = failed(run(redis_url, "load", str(path), "-i", name))
    assert f"{path}:2:" in message


def test_wrong_vector_size_is_one_clear_line(redis_url: str, made: Any, tmp_path: Path) -> None:
    name, _ = made
    (tmp_path / "q.json").write_text("[1, 2]")
    message = failed(run(redis_url, "search", name, "-v", str(tmp_path / "q.json")))
    assert "2" in message and "4" in message


def test_wrong_password_is_not_echoed(redis_url: str, client: redis.Redis) -> None:
    secret = "s3cret-Pa55word-xyz"
    with acl_user(client, "cli_user", "the-right-one") as user:
        url = redis_url.replace("redis://", f"redis://{user}:{secret}@")
        for done in (
            run(url, "index", "list"),
            run(None, "index", "list", env={"REDIS_URL": url}),
        ):
            message = failed(done)
            assert secret not in done.stderr + done.stdout
            assert "password" in message.lower() or "WRONGPASS" in message
            assert "****" in message


def test_unreachable_server(tmp_path: Path) -> None:
    from _infra import free_port

    url = f"redis://u:topsecret@127.0.0.1:{free_port()}"
    done = run(url, "index", "list")
    message = failed(done)
    assert "topsecret" not in done.stderr + done.stdout
    assert "127.0.0.1" in message


def test_bad_url_scheme() -> None:
    done = run("http://user:pw12345@localhost:1", "index", "list")
    assert done.returncode != 0
    assert "pw12345" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


# -- alter / migrate -------------------------------------------------------------------------------


def test_alter_adds_a_field_from_the_metadata_copy(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    from redisvec import SearchIndex, Tag
    from redisvec.layout import DocumentLayout

    layout = DocumentLayout()
    schema = layout.build_schema(index_name=names.index, dims=4, key_prefix=names.prefix)
    index = SearchIndex(schema, client)
    index.create()
    metas = [{"team": ["red", "blue"][i % 2]} if i % 3 else {} for i in range(60)]
    vectors = np.random.default_rng(1).normal(size=(60, 4)).tolist()
    index.load(layout.to_records([f"t{i}" for i in range(60)], vectors, metas),
               ids=[str(i) for i in range(60)])  # fmt: skip

    plan = as_json(redis_url, "alter", names.index, "--add-field", "team:tag", "--dry-run")
    assert plan["add_fields"] == ["team"] and plan["dry_run"] is True
    assert "team" not in SearchIndex.from_existing(client, names.index).schema.fields_by_name

    done = as_json(redis_url, "alter", names.index, "-a", "team:tag")
    assert done["backfilled"] == sum(1 for m in metas if m)
    opened = SearchIndex.from_existing(client, names.index)
    got = {opened.schema.id_from_key(k) for b in opened.iter_keys(Tag("team") == "red") for k in b}
    assert got == {str(i) for i, m in enumerate(metas) if m.get("team") == "red"}
    message = failed(run(redis_url, "alter", names.index, "-a", "badspec"))
    assert "NAME:TYPE" in message


def test_migrate_datatype_behind_an_alias(redis_url: str, made: Any, names: Any) -> None:
    name, records = made
    plan = as_json(redis_url, "migrate", name, "--datatype", "float16", "--dry-run")
    assert plan["new_version"] == f"{name}__v2" and plan["dry_run"] is True
    assert as_json(redis_url, "index", "info", name)["alias_of"] is None
    done = as_json(redis_url, "migrate", name, "--datatype", "float16")
    assert done["copied"] == len(records)
    info = as_json(redis_url, "index", "info", name)
    assert info["alias_of"] == f"{name}__v2" and info["num_docs"] == len(records)
    vector = next(f for f in info["schema"]["fields"] if f["name"] == "v")
    assert vector["attrs"]["datatype"] == "float16"
    got = as_json(redis_url, "search", name, "-f", "@genre:{noir}", "-k", "1000")
    assert {h["id"] for h in got["hits"]} == {r["id"] for r in records if r["genre"] == "noir"}
    # destroy through the alias removes the version and its documents
    ok(redis_url, "index", "destroy", name, "--yes")
    listed = {row["name"] for row in as_json(redis_url, "index", "list")}
    assert f"{name}__v2" not in listed


def test_migrate_refuses_a_dims_change(redis_url: str, made: Any, tmp_path: Path) -> None:
    name, _ = made
    path = tmp_path / "s.yaml"
    path.write_text(schema_yaml(name, "x", dims=8))
    message = failed(run(redis_url, "migrate", name, "--schema", str(path), "--dry-run"))
    assert "new embeddings" in message


def test_convert_a_langchain_redis_index_without_re_embedding(
    redis_url: str, names: Any, client: redis.Redis
) -> None:
    from test_peers import LC_META, write_langchain_redis  # type: ignore[import-not-found]

    source = names.index
    vectors = write_langchain_redis(client, source)
    target = f"{source}_converted"
    try:
        done = as_json(redis_url, "convert", source, "--to", target, "--batch-size", "2")
        assert done == {"source": source, "index": target, "copied": len(LC_META)}
        copied = SearchIndex.from_existing(client, target)
        assert copied.schema.prefixes == (f"{target}:",)
        for doc_id, metadata in LC_META.items():
            (record,) = copied.fetch([doc_id])
            assert record is not None and record["text"] == f"text of {doc_id}"
            # the vector is the stored one, byte for byte (nothing was embedded again)
            assert (
                np.asarray(record["embedding"], np.float32).tobytes()
                == np.asarray(vectors[doc_id], np.float32).tobytes()
            )
            assert json.loads(record["metadata"]) == metadata
        # the source is untouched; a second run into the same target is refused cleanly
        assert SearchIndex.from_existing(client, source).info().num_docs == len(LC_META)
        failed(run(redis_url, "convert", "no_such_index", "--to", f"{target}_2"))
    finally:
        for name in (source, target):
            with contextlib.suppress(redis.ResponseError):
                client.execute_command("FT.DROPINDEX", name, "DD")
