"""IndexSchema without a server: wire arguments, dict/YAML, validation, differences, FT.INFO
parsing of both reply shapes (the replies below were captured from search 2.10.5)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from redisvec._resp import normalize_info, pairs, to_str
from redisvec.errors import SchemaError
from redisvec.schema import (
    GeoField,
    IndexSchema,
    NumericField,
    TagField,
    TextField,
    VectorField,
    check_id_list,
    shared_key_spaces,
)

HASH = IndexSchema(
    "idx",
    prefixes=("doc:", "x:"),
    fields=(
        TextField("title", weight=2.5, no_stem=True, sortable=True, index_missing=True),
        TextField("body", index_empty=True),
        TagField("cat", separator="|", case_sensitive=True, sortable=True, index_empty=True),
        NumericField("n", sortable=True, index_missing=True),
        GeoField("g", index_missing=True),
        VectorField("v", dims=8, datatype="float16", distance_metric="ip", m=24, ef_runtime=20),
        VectorField("f", dims=4, algorithm="flat", distance_metric="l2", block_size=512),
    ),
)

JSON = IndexSchema(
    "jidx",
    prefixes=("jd:",),
    storage="json",
    fields=(
        TextField("title"),
        TagField("cat", separator="\x1f"),
        TagField("plain", separator=None),
        NumericField("n", path="$.meta.n"),
        VectorField("embedding", dims=3, algorithm="hnsw", epsilon=0.05),
    ),
)


def test_ft_create_args_hash() -> None:
    assert HASH.ft_create_args() == [
        "idx", "ON", "HASH", "PREFIX", "2", "doc:", "x:", "SCHEMA",
        "title", "TEXT", "WEIGHT", "2.5", "NOSTEM", "INDEXMISSING", "SORTABLE",
        "body", "TEXT", "INDEXEMPTY",
        "cat", "TAG", "SEPARATOR", "|", "CASESENSITIVE", "INDEXEMPTY", "SORTABLE",
        "n", "NUMERIC", "INDEXMISSING", "SORTABLE",
        "g", "GEO", "INDEXMISSING",
        "v", "VECTOR", "HNSW", "10", "TYPE", "FLOAT16", "DIM", "8", "DISTANCE_METRIC", "IP",
        "M", "24", "EF_RUNTIME", "20",
        "f", "VECTOR", "FLAT", "8", "TYPE", "FLOAT32", "DIM", "4", "DISTANCE_METRIC", "L2",
        "BLOCK_SIZE", "512",
    ]  # fmt: skip


def test_ft_create_args_json() -> None:
    assert JSON.ft_create_args() == [
        "jidx", "ON", "JSON", "PREFIX", "1", "jd:", "SCHEMA",
        "$.title", "AS", "title", "TEXT",
        "$.cat", "AS", "cat", "TAG", "SEPARATOR", "\x1f",
        "$.plain", "AS", "plain", "TAG",
        "$.meta.n", "AS", "n", "NUMERIC",
        "$.embedding", "AS", "embedding", "VECTOR", "HNSW", "8", "TYPE", "FLOAT32", "DIM", "3",
        "DISTANCE_METRIC", "COSINE", "EPSILON", "0.05",
    ]  # fmt: skip


def test_hash_alias_and_svs_args() -> None:
    schema = IndexSchema(
        "s",
        fields=(
            TextField("t", path="title"),
            VectorField(
                "v", dims=4, algorithm="SVS-VAMANA", compression="lvq8", graph_max_degree=40
            ),
        ),
    )
    assert schema.ft_create_args()[4:] == [
        "1", "s:", "SCHEMA", "title", "AS", "t", "TEXT",
        "v", "VECTOR", "SVS-VAMANA", "10", "TYPE", "FLOAT32", "DIM", "4", "DISTANCE_METRIC",
        "COSINE", "COMPRESSION", "LVQ8", "GRAPH_MAX_DEGREE", "40",
    ]  # fmt: skip
    assert schema.field_path("t") == "title"
    assert JSON.field_path("title") == "$.title"
    assert JSON.field_path("n") == "$.meta.n"


def test_keys_and_prefixes() -> None:
    plain = IndexSchema("docs", fields=(TagField("a"),))
    assert plain.key_prefixes == ("docs:",)
    assert plain.key("1") == "docs:1"
    redisvl_style = IndexSchema("i", prefixes=("doc",), fields=(TagField("a"),))
    assert redisvl_style.prefixes == ("doc:",)  # never over-matching (doc* takes document:1)
    assert redisvl_style == IndexSchema("i", prefixes=("doc:",), fields=(TagField("a"),))
    assert redisvl_style.key_prefix == "doc:"
    assert redisvl_style.ft_create_args()[3:6] == ["PREFIX", "1", "doc:"]
    assert redisvl_style.to_dict()["index"]["prefix"] == "doc"  # as redisvl files spell it
    llama = IndexSchema("l", prefixes="llama/vector", key_separator="_", fields=(TagField("a"),))
    assert llama.prefixes == ("llama/vector_",)
    assert llama.key("n1") == "llama/vector_n1"
    assert IndexSchema.from_dict(llama.to_dict()) == llama
    every_key = IndexSchema("e", prefixes=("",), fields=(TagField("a"),))
    assert every_key.key("k") == "k"
    assert HASH.id_from_key("doc:a:b") == "a:b"
    assert HASH.id_from_key("x:7") == "7"
    assert HASH.id_from_key("other:7") == "other:7"
    nested = IndexSchema("n", prefixes=("a:", "a:b:"), fields=(TagField("t"),))
    assert nested.id_from_key("a:b:1") == "1"  # longest prefix wins


def test_lookups() -> None:
    assert HASH.field_types == {
        "title": "text",
        "body": "text",
        "cat": "tag",
        "n": "numeric",
        "g": "geo",
        "v": "vector",
        "f": "vector",
    }
    assert HASH.field("cat") is HASH.fields[2]
    assert HASH.vector_field.name == "v"
    assert [v.name for v in HASH.vector_fields] == ["v", "f"]
    with pytest.raises(SchemaError, match=r"no field 'nope'; fields: title, body, cat"):
        HASH.field("nope")
    with pytest.raises(SchemaError, match=r"has no vector field .*add VectorField"):
        _ = IndexSchema("t", fields=(TagField("a"),)).vector_field
    grown = HASH.with_fields(TagField("cat"), TagField("new"))
    assert grown.field("cat") == TagField("cat")
    assert [f.name for f in grown.fields][-2:] == ["f", "new"]
    assert len(grown.fields) == len(HASH.fields) + 1


def test_distance_alias_matches_query_module() -> None:
    query = pytest.importorskip("redisvec.query")
    with pytest.raises(SchemaError, match="reserved"):
        TagField(query.DISTANCE_ALIAS)


# -- dict / YAML ---------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [HASH, JSON], ids=["hash", "json"])
def test_dict_round_trip(schema: IndexSchema) -> None:
    assert IndexSchema.from_dict(schema.to_dict()) == schema


@pytest.mark.parametrize("schema", [HASH, JSON], ids=["hash", "json"])
def test_yaml_round_trip(schema: IndexSchema, tmp_path: Path) -> None:
    text = schema.to_yaml()
    assert IndexSchema.from_yaml(text) == schema
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    assert IndexSchema.from_yaml(path) == schema
    assert IndexSchema.from_yaml(str(path)) == schema


def test_canonical_dict() -> None:
    schema = IndexSchema(
        "docs",
        prefixes=("doc",),
        fields=(TagField("category"), VectorField("embedding", dims=1536, m=32)),
    )
    assert schema.to_dict() == {
        "index": {"name": "docs", "prefix": "doc", "key_separator": ":", "storage_type": "hash"},
        "fields": [
            {"name": "category", "type": "tag"},
            {
                "name": "embedding",
                "type": "vector",
                "attrs": {
                    "dims": 1536,
                    "algorithm": "hnsw",
                    "datatype": "float32",
                    "distance_metric": "cosine",
                    "m": 32,
                },
            },
        ],
    }


def test_from_redisvl_layout_case_insensitive_and_inline() -> None:
    data = {
        "version": "0.1.0",
        "index": {"name": "docs", "prefix": "doc", "storage_type": "JSON"},
        "fields": [
            {
                "name": "embedding",
                "type": "Vector",
                "path": "$.vec",
                "attrs": {"Dims": 1536, "algorithm": "HNSW", "distance_metric": "Cosine",
                          "datatype": "FLOAT32"},
            },
            {"name": "category", "type": "TAG", "separator": "|", "case_sensitive": True},
            {"name": "year", "type": "numeric", "attrs": {"sortable": True}},
        ],
    }  # fmt: skip
    schema = IndexSchema.from_dict(data)
    assert schema == IndexSchema(
        "docs",
        prefixes=("doc",),
        storage="json",
        fields=(
            VectorField("embedding", path="$.vec", dims=1536),
            TagField("category", separator="|", case_sensitive=True),
            NumericField("year", sortable=True),
        ),
    )
    assert schema.vector_field.algorithm == "hnsw"
    multi = IndexSchema.from_dict(
        {"index": {"name": "m", "prefix": ["a:", "b:"]}, "fields": data["fields"][1:]}
    )
    assert multi.prefixes == ("a:", "b:")


def test_yaml_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(ImportError, match=r"pip install 'redisvec\[yaml\]'"):
        HASH.to_yaml()
    with pytest.raises(ImportError, match=r"pip install 'redisvec\[yaml\]'"):
        IndexSchema.from_yaml("index: {}")


def test_from_yaml_missing_file() -> None:
    with pytest.raises(SchemaError, match=r"cannot read schema file 'nowhere/s\.yaml'"):
        IndexSchema.from_yaml("nowhere/s.yaml")


# -- validation ----------------------------------------------------------------------------


def _dict(*fields: dict[str, Any], **index: Any) -> dict[str, Any]:
    return {"index": {"name": "i", **index}, "fields": list(fields)}


INVALID: list[tuple[str, Any, list[str]]] = [
    ("unknown type", lambda: IndexSchema.from_dict(_dict({"name": "loc", "type": "geoshape"})),
     ["'loc'", "'geoshape'", "text, tag, numeric, geo, vector"]),
    ("dims zero", lambda: VectorField("emb", dims=0), ["'emb'", "0", "positive integer"]),
    ("dims float", lambda: VectorField("emb", dims=1.5), ["'emb'", "1.5", "positive integer"]),
    ("dims bool", lambda: VectorField("emb", dims=True), ["'emb'", "True"]),
    ("dims missing", lambda: IndexSchema.from_dict(_dict({"name": "emb", "type": "vector"})),
     ["'emb'", "needs 'dims'"]),
    ("algorithm", lambda: VectorField("emb", dims=3, algorithm="ivf"),
     ["'emb'", "'ivf'", "flat, hnsw, svs-vamana"]),
    ("datatype", lambda: VectorField("emb", dims=3, datatype="float8"),
     ["'emb'", "'float8'", "float32, float64, float16, bfloat16, int8, uint8"]),
    ("metric", lambda: VectorField("emb", dims=3, distance_metric="dot"),
     ["'emb'", "'dot'", "cosine, l2, ip"]),
    ("block_size on hnsw", lambda: VectorField("emb", dims=3, block_size=64),
     ["'emb'", "block_size=64", "'hnsw'", "flat", "m, ef_construction"]),
    ("m on flat", lambda: VectorField("emb", dims=3, algorithm="flat", m=8),
     ["'emb'", "m=8", "'flat'", "hnsw", "block_size, initial_cap"]),
    ("m negative", lambda: VectorField("emb", dims=3, m=-1), ["'emb'", "m must", "-1"]),
    ("epsilon", lambda: VectorField("emb", dims=3, epsilon=0), ["'emb'", "epsilon", "0"]),
    ("compression", lambda: VectorField("emb", dims=3, algorithm="svs-vamana", compression="pq"),
     ["'emb'", "'pq'", "LVQ8"]),
    ("duplicate", lambda: IndexSchema("i", fields=(TagField("a"), TextField("a"))),
     ["'a'", "twice"]),
    ("empty index name", lambda: IndexSchema("", fields=(TagField("a"),)),
     ["index name", "''"]),
    ("reserved name", lambda: NumericField("__vector_distance"),
     ["'__vector_distance'", "reserved", "rename"]),
    ("empty field name", lambda: TagField(""), ["field name", "''"]),
    ("separator long", lambda: TagField("cat", separator="||"),
     ["'cat'", "'||'", "exactly one character"]),
    ("separator empty", lambda: TagField("cat", separator=""), ["'cat'", "''", "one character"]),
    ("no separator on hash", lambda: IndexSchema("i", fields=(TagField("cat", separator=None),)),
     ["'cat'", "separator=None", "JSON"]),
    ("storage", lambda: IndexSchema("i", storage="string", fields=(TagField("a"),)),
     ["'string'", "'hash', 'json'"]),
    ("weight", lambda: TextField("t", weight=-1), ["'t'", "-1", ">= 0"]),
    ("flag not bool", lambda: TagField("cat", sortable="yes"), ["'cat'", "sortable", "'yes'"]),
    ("unknown option", lambda: IndexSchema.from_dict(_dict({"name": "cat", "type": "tag", "attrs": {"withsuffixtrie": True}})),
     ["'cat'", "withsuffixtrie", "allowed: path, separator"]),
    ("inline and attrs", lambda: IndexSchema.from_dict(_dict({"name": "c", "type": "tag", "separator": ",", "attrs": {"separator": "|"}})),
     ["'c'", "'separator'", "both"]),
    ("unknown index option", lambda: IndexSchema.from_dict(_dict({"name": "c", "type": "tag"}, language="german")),
     ["language", "supported"]),
    ("no fields", lambda: IndexSchema("i", fields=()), ["'i'", "no fields"]),
    ("not a field", lambda: IndexSchema("i", fields=({"name": "a", "type": "tag"},)),
     ["is not a field", "from_dict"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_validation_errors(make: Any, expected: list[str]) -> None:
    with pytest.raises(SchemaError) as info:
        make()
    for part in expected:
        assert part in str(info.value), (part, str(info.value))


def test_new_datatypes_and_svs_are_accepted() -> None:
    for datatype in ("INT8", "uint8", "BFloat16"):
        assert VectorField("v", dims=2, datatype=datatype).datatype == datatype.lower()
    svs = VectorField("v", dims=2, algorithm="SVS-vamana", compression="leanvec4X8", reduce=1)
    assert (svs.algorithm, svs.compression) == ("svs-vamana", "LeanVec4x8")


def test_prefixes_read_back_exactly_and_ids_round_trip() -> None:
    """13.6 / 13.9: a prefix read from FT.INFO is kept as the server has it; ids round-trip."""

    def info(*prefixes: bytes) -> list[Any]:
        return [
            b"index_name", b"i", b"index_definition",
            [b"key_type", b"HASH", b"prefixes", list(prefixes)],
            b"attributes", [[b"identifier", b"t", b"attribute", b"t", b"type", b"TAG",
                             b"SEPARATOR", b","]],
        ]  # fmt: skip

    ours = IndexSchema.from_info(info(b"docs:"))
    assert ours == IndexSchema("i", prefixes=("docs",), fields=(TagField("t"),))
    assert ours.key_separator == ":"
    for raw, prefix in ((b"name/vector", "name/vector"), (b"", ""), (b"kb_", "kb_")):
        foreign = IndexSchema.from_info(info(raw))
        assert foreign.prefixes == (prefix,)
        assert foreign.key_separator == ""
        for key in (prefix + "_abc", prefix + ":x", prefix + "x/y:z"):
            assert foreign.key(foreign.id_from_key(key)) == key
        assert foreign.id_from_key(prefix + "x") == "x"
        assert IndexSchema.from_dict(foreign.to_dict()) == foreign
    # a prefix that is only the separator, or ends with it twice, survives the dict layout
    for given in (":", "doc::"):
        schema = IndexSchema("i", prefixes=(given,), fields=(TagField("t"),))
        assert schema.prefixes == (given,)
        assert IndexSchema.from_dict(schema.to_dict()) == schema


def test_shared_key_spaces_and_id_lists() -> None:
    assert shared_key_spaces(["kb:"], ["kb:staging:"]) == [("kb:", "kb:staging:")]
    assert shared_key_spaces(["kb:staging:"], ["kb:"]) == [("kb:staging:", "kb:")]
    assert shared_key_spaces(["kb:"], ["kb2:", "k_b:"]) == []
    assert shared_key_spaces(["a:"], [""]) == [("a:", "")]
    for bad in ("12", b"12"):
        with pytest.raises(TypeError, match=r"node_ids must be a list of ids.*pass \["):
            check_id_list(bad, "node_ids")
    check_id_list(["12"], "ids")
    check_id_list(None, "ids")


# -- differences ---------------------------------------------------------------------------


def test_differences() -> None:
    base = IndexSchema(
        "i", prefixes=("doc",), fields=(TagField("a"), VectorField("v", dims=4, m=8))
    )
    same_shape = IndexSchema(
        "i",
        prefixes=("doc:",),  # "doc" + separator: the same key space
        # options other than the type are not compared; fields the schema does not ask for are fine
        fields=(
            VectorField("v", dims=4, ef_runtime=50),
            TagField("a", case_sensitive=True),
            TextField("extra"),
        ),
    )
    assert base.differences(same_shape) == []
    retyped = replace(same_shape, fields=(VectorField("v", dims=4), NumericField("a")))
    assert base.differences(retyped) == [("metadata field 'a'", "tag", "numeric")]
    assert base.differences(retyped, fields=()) == []  # only the named fields are compared
    assert base.differences(retyped, fields=["a"]) == [("metadata field 'a'", "tag", "numeric")]
    other = IndexSchema(
        "i",
        prefixes=("other:",),
        storage="json",
        fields=(
            VectorField("v", dims=8, distance_metric="l2", datatype="float64", algorithm="flat"),
        ),
    )
    assert base.differences(other) == [
        ("storage", "hash", "json"),
        ("prefixes", ("doc:",), ("other:",)),
        ("dims", 4, 8),
        ("distance_metric", "cosine", "l2"),
        ("datatype", "float32", "float64"),
        ("algorithm", "hnsw", "flat"),
        ("metadata field 'a'", "tag", None),
    ]
    renamed = replace(base, fields=(VectorField("emb", dims=4),))
    assert base.differences(renamed, fields=()) == [("vector field", "v", ("emb",))]
    no_vector = replace(base, fields=(TagField("v"),))
    assert base.differences(no_vector) == [
        ("vector field", "v", None),
        ("metadata field 'a'", "tag", None),
    ]


# -- FT.INFO replies -----------------------------------------------------------------------

INFO_RESP2 = [
    b"index_name", b"h2", b"index_options", [],
    b"index_definition", [b"key_type", b"HASH", b"prefixes", [b"doc:", b"x:"], b"default_score", b"1"],
    b"attributes", [
        [b"identifier", b"title", b"attribute", b"title", b"type", b"TEXT", b"WEIGHT", b"2.5",
         b"SORTABLE", b"NOSTEM", b"INDEXEMPTY", b"INDEXMISSING"],
        [b"identifier", b"cat", b"attribute", b"cat", b"type", b"TAG", b"SEPARATOR", b"|",
         b"CASESENSITIVE", b"SORTABLE", b"UNF", b"INDEXEMPTY", b"INDEXMISSING"],
        [b"identifier", b"n", b"attribute", b"n", b"type", b"NUMERIC", b"SORTABLE", b"UNF",
         b"INDEXMISSING"],
        [b"identifier", b"g", b"attribute", b"g", b"type", b"GEO", b"INDEXMISSING"],
        [b"identifier", b"v", b"attribute", b"v", b"type", b"VECTOR", b"algorithm", b"HNSW",
         b"data_type", b"FLOAT16", b"dim", 8, b"distance_metric", b"IP", b"M", 24,
         b"ef_construction", 200],
        [b"identifier", b"f", b"attribute", b"f", b"type", b"VECTOR", b"algorithm", b"FLAT",
         b"data_type", b"BFLOAT16", b"dim", 4, b"distance_metric", b"L2"],
    ],
    b"num_docs", 3, b"percent_indexed", b"1",
    b"Index Errors", [b"indexing failures", 0, b"last indexing error", b"N/A",
                      b"last indexing error key", b"N/A"],
    b"field statistics", [[b"identifier", b"title", b"attribute", b"title", b"Index Errors",
                           [b"indexing failures", 0]]],
]  # fmt: skip

INFO_RESP3 = {
    b"index_name": b"h2",
    b"index_options": [],
    b"index_definition": {b"key_type": b"HASH", b"prefixes": [b"doc:", b"x:"], b"default_score": 1.0},
    b"attributes": [
        {b"identifier": b"title", b"attribute": b"title", b"type": b"TEXT", b"WEIGHT": 2.5,
         b"flags": [b"SORTABLE", b"NOSTEM", b"INDEXEMPTY", b"INDEXMISSING"]},
        {b"identifier": b"cat", b"attribute": b"cat", b"type": b"TAG", b"SEPARATOR": b"|",
         b"flags": [b"CASESENSITIVE", b"SORTABLE", b"UNF", b"INDEXEMPTY", b"INDEXMISSING"]},
        {b"identifier": b"n", b"attribute": b"n", b"type": b"NUMERIC",
         b"flags": [b"SORTABLE", b"UNF", b"INDEXMISSING"]},
        {b"identifier": b"g", b"attribute": b"g", b"type": b"GEO", b"flags": [b"INDEXMISSING"]},
        {b"identifier": b"v", b"attribute": b"v", b"type": b"VECTOR", b"algorithm": b"HNSW",
         b"data_type": b"FLOAT16", b"dim": 8, b"distance_metric": b"IP", b"M": 24,
         b"ef_construction": 200, b"flags": []},
        {b"identifier": b"f", b"attribute": b"f", b"type": b"VECTOR", b"algorithm": b"FLAT",
         b"data_type": b"BFLOAT16", b"dim": 4, b"distance_metric": b"L2", b"flags": []},
    ],
    b"num_docs": 3,
    b"percent_indexed": 1.0,
    b"Index Errors": {b"indexing failures": 0, b"last indexing error": b"N/A",
                      b"last indexing error key": b"N/A"},
    b"field statistics": [{b"identifier": b"title", b"attribute": b"title",
                           b"Index Errors": {b"indexing failures": 0}}],
}  # fmt: skip

EXPECTED_FROM_INFO = IndexSchema(
    "h2",
    prefixes=("doc:", "x:"),
    fields=(
        TextField("title", weight=2.5, no_stem=True, sortable=True, index_missing=True, index_empty=True),
        TagField("cat", separator="|", case_sensitive=True, sortable=True, index_missing=True, index_empty=True),
        NumericField("n", sortable=True, index_missing=True),
        GeoField("g", index_missing=True),
        VectorField("v", dims=8, datatype="float16", distance_metric="ip", m=24),  # ef_construction 200 = default
        VectorField("f", dims=4, algorithm="flat", datatype="bfloat16", distance_metric="l2"),
    ),
)  # fmt: skip


def test_normalize_info_same_for_both_protocols() -> None:
    two, three = normalize_info(INFO_RESP2), normalize_info(INFO_RESP3)
    assert two == three
    assert two["index_definition"]["prefixes"] == ["doc:", "x:"]
    assert two["percent_indexed"] == 1.0
    assert two["Index Errors"]["last indexing error"] == "N/A"
    assert two["field statistics"][0]["Index Errors"] == {"indexing failures": 0}
    assert two["attributes"][1]["flags"] == [
        "CASESENSITIVE", "SORTABLE", "UNF", "INDEXEMPTY", "INDEXMISSING",
    ]  # fmt: skip


@pytest.mark.parametrize("reply", [INFO_RESP2, INFO_RESP3], ids=["resp2", "resp3"])
def test_from_info(reply: Any) -> None:
    assert IndexSchema.from_info(reply) == EXPECTED_FROM_INFO
    assert IndexSchema.from_info(reply, "renamed").name == "renamed"


def test_from_info_json_paths_and_empty_separator() -> None:
    reply = {
        b"index_name": b"j",
        b"index_definition": {b"key_type": b"JSON", b"prefixes": [b"jd:"]},
        b"attributes": [
            {b"identifier": b"$.title", b"attribute": b"title", b"type": b"TEXT", b"WEIGHT": 1.0, b"flags": []},
            {b"identifier": b"$.meta.n", b"attribute": b"n", b"type": b"NUMERIC", b"flags": []},
            {b"identifier": b"$.raw", b"attribute": b"$.raw", b"type": b"TAG", b"SEPARATOR": b"", b"flags": []},
        ],
    }  # fmt: skip
    schema = IndexSchema.from_info(reply)
    assert schema == IndexSchema(
        "j",
        prefixes=("jd:",),
        storage="json",
        fields=(
            TextField("title"),
            NumericField("n", path="$.meta.n"),
            TagField("$.raw", path="$.raw", separator=None),
        ),
    )
    assert schema.ft_create_args()[-2:] == ["$.raw", "TAG"]  # no AS when path == name


def test_from_info_skips_unmodelled_types_with_a_warning() -> None:
    reply = [
        b"index_name", b"g", b"index_definition", [b"key_type", b"HASH", b"prefixes", [b""]],
        b"attributes", [[b"identifier", b"shape", b"attribute", b"shape", b"type", b"GEOSHAPE",
                         b"coord_system", b"SPHERICAL"],
                        [b"identifier", b"t", b"attribute", b"t", b"type", b"TAG", b"SEPARATOR", b","]],
    ]  # fmt: skip
    with pytest.warns(UserWarning, match="'shape' has type GEOSHAPE"):
        schema = IndexSchema.from_info(reply)
    assert schema.fields == (TagField("t"),)
    assert schema.prefixes == ("",)


def test_resp_helpers() -> None:
    assert to_str(b"caf\xc3\xa9") == "café"
    assert to_str(7) == "7"
    assert pairs([b"a", 1, "b", [2]]) == {"a": 1, "b": [2]}
    assert pairs({b"a": 1}) == {"a": 1}
    with pytest.raises(ValueError, match="odd-length"):
        pairs([b"a"])
    with pytest.raises(TypeError):
        pairs(3)
    # redis-py's ft().info() in RESP2: str top-level keys, raw values underneath.
    parsed = {to_str(k): v for k, v in pairs(INFO_RESP2).items()}
    assert normalize_info(parsed) == normalize_info(INFO_RESP2)


def test_memo_is_per_schema_object_and_bounded() -> None:
    from redisvec.memo import CodecKey, KnnKey, memo_put

    a = IndexSchema("m", fields=(VectorField("v", dims=3),))
    b = IndexSchema("m", fields=(VectorField("v", dims=3),))
    assert a == b
    a.memo(CodecKey)[CodecKey("v")] = 1
    assert a.memo(CodecKey) == {CodecKey("v"): 1} and a.memo(KnnKey) == {}
    assert b.memo(CodecKey) == {}  # an equal schema is another object: nothing shared
    cache: dict[int, int] = {}
    for i in range(5):
        assert memo_put(cache, i, i * 10, bound=3) == i * 10
        assert len(cache) <= 3 and cache[i] == i * 10


def test_json_paths_of_names_dot_notation_cannot_address() -> None:
    schema = IndexSchema(
        "j",
        storage="json",
        fields=(TagField("source.url"), TextField("file name"), NumericField("catégorie"),
                TagField('q"uote'), TagField("plain_1")),
    )  # fmt: skip
    assert [schema.field_path(f.name) for f in schema.fields] == [
        '$["source.url"]', '$["file name"]', '$["catégorie"]', '$["q\\"uote"]', "$.plain_1",
    ]  # fmt: skip
    assert schema.ft_create_args()[7:10] == ['$["source.url"]', "AS", "source.url"]
    reply = {
        b"index_name": b"j",
        b"index_definition": {b"key_type": b"JSON", b"prefixes": [b"j:"]},
        b"attributes": [
            {b"identifier": b'$["source.url"]', b"attribute": b"source.url", b"type": b"TAG", b"flags": []},
            {b"identifier": b"$.dash-x", b"attribute": b"dash-x", b"type": b"TAG", b"flags": []},
            {b"identifier": b"$.a.b", b"attribute": b"a.b", b"type": b"TAG", b"flags": []},
        ],
    }  # fmt: skip
    read = IndexSchema.from_info(reply)
    # the default rendering (either notation where both address the member) reads as no path;
    # an index made with ``$.a.b`` for a member named ``a.b`` keeps its (wrong) path, and differs
    assert [f.path for f in read.fields] == [None, None, "$.a.b"]
    asked = IndexSchema("j", prefixes=("j:",), storage="json", fields=(TagField("a.b"),))
    assert asked.differences(read) == [("JSON path of 'a.b'", '$["a.b"]', "$.a.b")]
