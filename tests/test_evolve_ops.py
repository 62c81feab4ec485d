"""The operations of `redisvec.evolve`, driven by scripted replies: no server.

Each operation is one generator run by `SearchIndex` or `AsyncSearchIndex`; here a scripted
runner answers it (`test_scripted_ops.Script`), so the failure paths that are hard to provoke on a
live server are checked: a rebuild whose new version indexed too few documents switches nothing,
writes made during a copying rebuild (a change, a new document, a deletion) are carried over at
the switch, a key deleted between listing and expiring is not counted.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
import redis
import redis.asyncio as aredis
from test_scripted_ops import (  # type: ignore[import-not-found]
    INFO,
    SCHEMA,
    AsyncScriptedIndex,
    Script,
    ScriptedIndex,
    drive,
)

from redisvec import IndexSchema, SchemaMismatchError, TagField, TextField, VectorField, evolve
from redisvec.evolve import (
    _catch_up_op,
    _Copied,
    _copy_digest,
    _if_copy_is,
    _plan_op,
    _rebuild_op,
    _switch_op,
)
from redisvec.index import _Pipeline

#: The layout redisvec's adapters write: metadata as a JSON copy, ``genre`` declared as a tag.
DOCS = IndexSchema(
    "docs",
    prefixes=("docs:",),
    fields=(
        TagField("doc_id"),
        TextField("text"),
        TagField("genre"),
        VectorField("embedding", dims=2),
    ),
)
UNKNOWN = redis.ResponseError("Unknown index name")


def _info(num_docs: int, name: str = "docs") -> list[Any]:
    out = list(INFO)
    out[out.index(b"num_docs") + 1] = num_docs
    out[out.index(b"index_name") + 1] = name.encode()
    return out


def _pipelines(script: Script) -> list[_Pipeline]:
    return [r for r in script.seen if isinstance(r, _Pipeline)]


# -- metadata updates, both twins --------------------------------------------------------------

STORED = [json.dumps({"genre": "noir", "n": 1}).encode(), None]  # docs:a, docs:b (missing)
EXPECTED_WRITE = [
    ("HSET", "docs:a", "metadata", json.dumps({"genre": "western", "n": 1}), "genre", "western")
]


def test_update_metadata_rewrites_the_copy_and_the_indexed_field_in_one_command() -> None:
    index = ScriptedIndex(DOCS, redis.Redis(host="127.0.0.1", port=1))
    index.script = Script([(_Pipeline, STORED), (_Pipeline, [1])])
    assert evolve.update_metadata(index, ["a", "b"], {"genre": "western"}) == 1
    index.script.done()
    reads, writes = _pipelines(index.script)
    assert reads.commands == [("HGET", "docs:a", "metadata"), ("HGET", "docs:b", "metadata")]
    assert writes.commands == EXPECTED_WRITE


async def test_aupdate_metadata_runs_the_same_operation() -> None:
    index = AsyncScriptedIndex(DOCS, aredis.Redis(host="127.0.0.1", port=1))
    index.script = Script([(_Pipeline, STORED), (_Pipeline, [1])])
    assert await evolve.aupdate_metadata(index, ["a", "b"], {"genre": "western"}) == 1
    index.script.done()
    assert _pipelines(index.script)[1].commands == EXPECTED_WRITE


def test_removing_a_key_drops_its_indexed_field() -> None:
    index = ScriptedIndex(DOCS, redis.Redis(host="127.0.0.1", port=1))
    index.script = Script([(_Pipeline, STORED[:1]), (_Pipeline, [1, 1])])
    assert evolve.update_metadata(index, ["a"], {"genre": None}) == 1
    assert _pipelines(index.script)[1].commands == [
        ("HSET", "docs:a", "metadata", json.dumps({"n": 1})),
        ("HDEL", "docs:a", "genre"),
    ]


def test_update_metadata_refuses_a_string_of_ids() -> None:
    index = ScriptedIndex(DOCS, redis.Redis(host="127.0.0.1", port=1))
    index.script = Script([])
    with pytest.raises(TypeError, match="list of ids"):
        evolve.update_metadata(index, "abc", {"genre": "x"})


# -- expiry ------------------------------------------------------------------------------------


async def test_expire_where_counts_keys_that_still_exist() -> None:
    page = [[1, [b"__key", b"docs:0"], [b"__key", b"docs:1"], [b"__key", b"docs:2"]], 0]
    for index in (
        ScriptedIndex(SCHEMA, redis.Redis(host="127.0.0.1", port=1)),
        AsyncScriptedIndex(SCHEMA, aredis.Redis(host="127.0.0.1", port=1)),
    ):
        # docs:1 is deleted between the listing and its EXPIRE (the server answers 0)
        index.script = Script([("FT.AGGREGATE", page), (_Pipeline, [1, 0, 1])])
        if isinstance(index, ScriptedIndex):
            assert evolve.expire_where(index, None, 60) == 2
        else:
            assert await evolve.aexpire_where(index, None, 60) == 2
        assert _pipelines(index.script)[0].commands == [
            ("EXPIRE", "docs:0", 60),
            ("EXPIRE", "docs:1", 60),
            ("EXPIRE", "docs:2", 60),
        ]


# -- rebuild -----------------------------------------------------------------------------------


def _flat_plan() -> evolve.Plan:
    target = SCHEMA.with_fields(replace(SCHEMA.vector_field, algorithm="flat"))
    return drive(_plan_op("docs", target), Script([("FT.INFO", INFO)]))  # type: ignore[no-any-return]


def test_plan_reads_the_change_and_copies_nothing_for_an_algorithm_change() -> None:
    the_plan = _flat_plan()
    assert the_plan.needs_rebuild and the_plan.new_prefixes is None
    assert the_plan.rebuild_reasons == ("vector field 'v': algorithm 'hnsw' -> 'flat'",)


def test_a_new_version_that_indexed_too_few_documents_switches_nothing() -> None:
    runner = ScriptedIndex(SCHEMA, redis.Redis(host="127.0.0.1", port=1))
    script = Script(
        [
            ("FT._LIST", [b"docs"]),  # docs__v2 does not exist yet
            ("FT.INFO", UNKNOWN),
            ("FT.INFO", UNKNOWN),  # create: still absent
            ("FT.CREATE", b"OK"),
            ("FT.INFO", _info(3, "docs__v2")),  # indexing done: 3 documents
            ("FT.INFO", _info(5)),  # the live index has 5
            ("FT.DROPINDEX", b"OK"),  # the new version goes again
        ]
    )
    with pytest.raises(SchemaMismatchError, match="indexed 3 of 5 documents"):
        drive(_rebuild_op(runner, _flat_plan(), 500, None, 5.0), script)
    script.done()
    sent = [r.args[:2] for r in script.seen if hasattr(r, "args")]
    assert ("FT.DROPINDEX", "docs__v2") in sent
    assert not [a for a in sent if str(a[0]).startswith("FT.ALIAS")]


def test_the_first_switch_is_one_transaction_later_ones_update_the_alias() -> None:
    script = Script([(_Pipeline, [b"OK", b"OK"])])
    drive(_switch_op("docs", "docs", "docs__v2"), script)
    [switch] = _pipelines(script)
    assert switch.transaction
    assert switch.commands == [("FT.DROPINDEX", "docs"), ("FT.ALIASADD", "docs", "docs__v2")]
    script = Script([("FT.ALIASUPDATE", b"OK"), ("FT.DROPINDEX", b"OK")])
    drive(_switch_op("docs", "docs__v2", "docs__v3"), script)
    script.done()
    assert [r.args for r in script.seen] == [
        ("FT.ALIASUPDATE", "docs", "docs__v3"),
        ("FT.DROPINDEX", "docs__v2"),
    ]


def test_catch_up_carries_over_changes_new_documents_and_deletions() -> None:
    old = SCHEMA
    new = replace(SCHEMA, name="docs__v2", prefixes=("docs__v2:",))
    a, b, c = ({b"t": x} for x in (b"a", b"b", b"c"))
    copied = {k: _Copied(_copy_digest(d), _copy_digest(d)) for k, d in zip("abc", (a, b, c))}
    copied = {f"docs:{k}": v for k, v in copied.items()}
    c_now, d_new = {b"t": b"c edited"}, {b"t": b"d"}
    script = Script(
        [
            # docs:b was deleted during the rebuild, docs:c changed, docs:d is new
            ("SCAN", (0, [b"docs:a", b"docs:c", b"docs:d"])),
            (_Pipeline, [1]),  # delete docs__v2:b if it is still the rebuild's copy
            (_Pipeline, [a, c_now, d_new]),  # HGETALL of what is left
            (_Pipeline, [c_now, -1, d_new, 5000]),  # copy again: HGETALL + PTTL
            (_Pipeline, [1, 1]),  # each copy written if still the rebuild's (or none, for d)
            (_Pipeline, [1, 1, 1]),  # UNLINK the old copies
        ]
    )
    drive(_catch_up_op(old, new, copied, 500), script)
    script.done()
    unlink_new, _, _, recopy, unlink_old = _pipelines(script)
    assert unlink_new.commands == [
        _if_copy_is(new, "docs__v2:b", copied["docs:b"].written, [("UNLINK", "docs__v2:b")])
    ]
    assert recopy.commands == [
        _if_copy_is(new, "docs__v2:c", copied["docs:c"].written, [
            ("DEL", "docs__v2:c"), ("HSET", "docs__v2:c", b"t", b"c edited"),
        ]),
        _if_copy_is(new, "docs__v2:d", "", [
            ("DEL", "docs__v2:d"), ("HSET", "docs__v2:d", b"t", b"d"),
            ("PEXPIRE", "docs__v2:d", 5000),
        ]),
    ]  # fmt: skip
    assert unlink_old.commands == [("UNLINK", k) for k in ("docs:a", "docs:c", "docs:d")]


#: Another tool's layout: no JSON copy of the metadata, the fields are the metadata.
FOREIGN = IndexSchema(
    "docs",
    prefixes=("docs:",),
    fields=(TextField("content"), TagField("genre"), VectorField("embedding", dims=2)),
)


def test_a_document_without_a_json_copy_is_updated_field_by_field() -> None:
    index = ScriptedIndex(FOREIGN, redis.Redis(host="127.0.0.1", port=1))
    # docs:a has no copy (HGET: None) but exists; docs:b does not exist at all
    index.script = Script([(_Pipeline, [None, 1, None, 0]), (_Pipeline, [1, 1])])
    assert evolve.update_metadata(index, ["a", "b"], {"genre": "noir", "note": "x"}) == 1
    reads, writes = _pipelines(index.script)
    assert reads.commands == [
        ("HGET", "docs:a", "metadata"),
        ("EXISTS", "docs:a"),
        ("HGET", "docs:b", "metadata"),
        ("EXISTS", "docs:b"),
    ]
    assert writes.commands == [("HSET", "docs:a", "genre", "noir", "note", "x")]


def test_a_json_document_without_a_copy_gets_none() -> None:
    schema = replace(FOREIGN, storage="json")
    index = ScriptedIndex(schema, redis.Redis(host="127.0.0.1", port=1))
    index.script = Script([(_Pipeline, [b"[]"]), (_Pipeline, [b"OK", b"OK", 1])])
    assert evolve.update_metadata(index, ["a"], {"genre": "noir", "note": "x", "old": None}) == 1
    assert _pipelines(index.script)[1].commands == [
        ("JSON.SET", "docs:a", "$.genre", '"noir"'),
        ("JSON.SET", "docs:a", "$.note", '"x"'),
        ("JSON.DEL", "docs:a", "$.old"),
    ]
