"""Parsing FT.SEARCH replies of both protocols, captured from the server (search 2.10.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from redisvec.results import distance_to_similarity, parse_search_reply, read_rows
from redisvec.schema import IndexSchema, TagField, TextField, VectorField

HASH = IndexSchema(
    "v",
    prefixes=("v",),
    fields=(TagField("t"), TextField("body"),
            VectorField("v", dims=2, algorithm="flat", distance_metric="l2")),
)  # fmt: skip
JSON = IndexSchema(
    "jv",
    prefixes=("jv",),
    storage="json",
    fields=(TagField("t"), VectorField("v", dims=2, algorithm="flat", distance_metric="l2")),
)

# FT.SEARCH v "*=>[KNN 2 @v $vec AS __vector_distance]" ... RETURN 3 t __vector_distance v
KNN_RESP2 = [2, b"v:a", [b"__vector_distance", b"1", b"t", b"x", b"v", b"\x00\x00\x80?\x00\x00\x00\x00"],
             b"v:b", [b"__vector_distance", b"4", b"t", b"y", b"v", b"\x00\x00\x00\x00\x00\x00\x00@"]]  # fmt: skip
KNN_RESP3 = {b"attributes": [], b"total_results": 2, b"format": b"STRING", b"results": [
    {b"id": b"v:a", b"extra_attributes": {b"__vector_distance": b"1", b"t": b"x",
     b"v": b"\x00\x00\x80?\x00\x00\x00\x00"}, b"values": []},
    {b"id": b"v:b", b"extra_attributes": {b"__vector_distance": b"4", b"t": b"y",
     b"v": b"\x00\x00\x00\x00\x00\x00\x00@"}, b"values": []}], b"warning": []}  # fmt: skip
# FT.SEARCH v "(hello)" WITHSCORES SCORER BM25 RETURN 1 body
TEXT_RESP2 = [2, b"v:b", b"0", [b"body", b"hello there"], b"v:a", b"0", [b"body", b"hello world"]]
TEXT_RESP3 = {b"attributes": [], b"total_results": 2, b"format": b"STRING", b"results": [
    {b"id": b"v:b", b"score": 0.0, b"extra_attributes": {b"body": b"hello there"}, b"values": []},
    {b"id": b"v:a", b"score": 0.0, b"extra_attributes": {b"body": b"hello world"}, b"values": []}],
    b"warning": []}  # fmt: skip
# FT.SEARCH v * NOCONTENT
IDS_RESP2 = [2, b"v:b", b"v:a"]
IDS_RESP3 = {b"attributes": [], b"total_results": 2, b"format": b"STRING", b"results": [
    {b"id": b"v:b", b"values": []}, {b"id": b"v:a", b"values": []}], b"warning": []}  # fmt: skip
# FT.SEARCH jv "*=>[KNN 1 ...]" without RETURN: the whole document under "$"
DOC = b'{"t":"x","v":[1.0,0.5],"meta":{"k":1}}'
JSON_RESP2 = [1, b"jv:a", [b"__vector_distance", b"1.25", b"$", DOC]]
JSON_RESP3 = {b"attributes": [], b"total_results": 1, b"format": b"STRING", b"results": [
    {b"id": b"jv:a", b"extra_attributes": {b"__vector_distance": b"1.25", b"$": DOC},
     b"values": []}], b"warning": []}  # fmt: skip


@pytest.mark.parametrize("reply", [KNN_RESP2, KNN_RESP3], ids=["resp2", "resp3"])
def test_knn_reply(reply: object) -> None:
    res = parse_search_reply(reply, HASH, decode_vector=True)
    assert res.total == 2 and len(res) == 2
    a, b = res.hits
    assert (a.id, a.key, a.distance, a.fields) == ("a", "v:a", 1.0, {"t": "x"})
    assert (b.id, b.distance, b.fields) == ("b", 4.0, {"t": "y"})
    assert a.vector is not None and b.vector is not None
    np.testing.assert_array_equal(a.vector, [1.0, 0.0])
    np.testing.assert_array_equal(b.vector, [0.0, 2.0])
    assert parse_search_reply(reply, HASH).hits[0].vector is None


@pytest.mark.parametrize("reply", [TEXT_RESP2, TEXT_RESP3], ids=["resp2", "resp3"])
def test_text_reply_with_scores(reply: object) -> None:
    res = parse_search_reply(reply, HASH, with_scores=True)
    assert [(h.id, h.score, h.fields) for h in res] == [
        ("b", 0.0, {"body": "hello there"}), ("a", 0.0, {"body": "hello world"}),
    ]  # fmt: skip


@pytest.mark.parametrize("reply", [IDS_RESP2, IDS_RESP3], ids=["resp2", "resp3"])
def test_nocontent_reply(reply: object) -> None:
    res = parse_search_reply(reply, HASH)
    assert res.total == 2 and [(h.id, h.fields, h.distance) for h in res] == [
        ("b", {}, None), ("a", {}, None),
    ]  # fmt: skip


@pytest.mark.parametrize("reply", [JSON_RESP2, JSON_RESP3], ids=["resp2", "resp3"])
def test_json_document_reply(reply: object) -> None:
    (hit,) = parse_search_reply(reply, JSON, decode_vector=True).hits
    assert hit.id == "a" and hit.distance == 1.25
    assert hit.fields == {"t": "x", "meta": {"k": 1}}
    assert hit.vector is not None
    np.testing.assert_array_equal(hit.vector, [1.0, 0.5])


def test_count_only_reply() -> None:
    assert parse_search_reply([7], HASH).total == 7
    assert parse_search_reply({b"total_results": 7, b"results": []}, HASH).total == 7


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_similarity_in_unit_interval_and_monotone(metric: str) -> None:
    distances = np.linspace(-1.0 if metric == "ip" else 0.0, 4.0, 101)
    sims = [distance_to_similarity(float(d), metric) for d in distances]
    assert all(0.0 <= s <= 1.0 for s in sims)
    assert all(a >= b for a, b in zip(sims, sims[1:]))  # noqa: RUF007
    assert distance_to_similarity(0.0, metric) == 1.0


def test_similarity_values() -> None:
    assert distance_to_similarity(0.25, "cosine") == 0.75
    assert distance_to_similarity(2.0, "cosine") == 0.0
    assert distance_to_similarity(-0.5, "ip") == 1.0
    assert distance_to_similarity(9.0, "L2") == 0.25  # squared distance 9 -> 1 / (1 + 3)
    assert math.isclose(distance_to_similarity(2.0, "l2"), 1 / (1 + math.sqrt(2)))
    with pytest.raises(ValueError, match="unknown distance metric"):
        distance_to_similarity(0.1, "hamming")


def _as_str(value: object) -> object:
    """A reply as a decode_responses client returns it."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, dict):
        return {_as_str(k): _as_str(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_str(v) for v in value]
    return value


@pytest.mark.parametrize("reply", [TEXT_RESP2, TEXT_RESP3], ids=["resp2", "resp3"])
def test_str_replies_parse_like_bytes(reply: object) -> None:
    res = parse_search_reply(_as_str(reply), HASH, with_scores=True)
    assert res.total == 2
    assert [(h.id, h.key, h.score, h.fields) for h in res] == [
        ("b", "v:b", 0.0, {"body": "hello there"}), ("a", "v:a", 0.0, {"body": "hello world"}),
    ]  # fmt: skip


def _schema() -> IndexSchema:  # a new schema each time: nothing learned from other tests
    return IndexSchema("p", prefixes=("p", "p:q"), fields=(TagField("t"), VectorField("v", dims=2)))


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_first_and_later_replies_agree(resp3: bool) -> None:
    """Field names are decoded the slow way once, then looked up: both give the same hits, values
    that are not UTF-8 stay bytes either way, names outside the schema are decoded too, and the
    reply is left as it was."""
    d = b"__vector_distance"
    hits = [
        (b"p:q:1", {b"t": b"x", b"extra": b"\xc3\xa9", b"v": b"\x00" * 8, d: b"0.5"}),
        (b"p:2", {b"t": b"\xff\xfe", b"extra": b"y", d: b"1e-3"}),
        (b"zz:3", {b"t": b"z", d: b"2"}),
    ]
    if resp3:
        reply: object = {b"total_results": 9, b"results": [
            {b"id": k, b"extra_attributes": dict(f), b"values": []} for k, f in hits]}  # fmt: skip
    else:
        reply = [9] + [x for k, f in hits for x in (k, [y for kv in f.items() for y in kv])]
    before = repr(reply)
    s = _schema()
    expected = [
        ("1", "p:q:1", 0.5, {"t": "x", "extra": "é"}),  # longest prefix first
        ("2", "p:2", 0.001, {"t": b"\xff\xfe", "extra": "y"}),
        ("zz:3", "zz:3", 2.0, {"t": "z"}),  # a key outside the prefixes stays whole
    ]
    for _ in range(3):
        res = parse_search_reply(reply, s)
        assert res.total == 9
        assert [(h.id, h.key, h.distance, h.fields) for h in res] == expected
        assert [s.id_from_key(h.key) for h in res] == [h.id for h in res]
        assert repr(reply) == before


def test_timeout_warning_raises_other_warnings_do_not() -> None:
    from redisvec.errors import QueryTimeoutError

    reply = {b"total_results": 0, b"results": [], b"warning": [b"Timeout limit was reached"]}
    with pytest.raises(QueryTimeoutError, match="time limit"):
        parse_search_reply(reply, HASH)
    with pytest.raises(QueryTimeoutError, match="time limit"):
        parse_search_reply(_as_str(reply), HASH)
    assert parse_search_reply({**reply, b"warning": [b"something else"]}, HASH).total == 0


# --- read_rows: the adapters' per-query reader -------------------------------------------------


@pytest.mark.parametrize("reply", [KNN_RESP2, KNN_RESP3], ids=["resp2", "resp3"])
def test_rows_of_a_knn_reply(reply: object) -> None:
    rows = read_rows(reply, HASH, ["t", "body"])
    assert rows.total == 2
    assert rows.rows == [("a", 1.0, "x", None), ("b", 4.0, "y", None)]
    assert list(rows) == rows.rows and len(rows) == 2


def _rows_of_hits(reply: object, schema: IndexSchema, names: list[str]) -> list[tuple[object, ...]]:
    """What read_rows must give: the hits of parse_search_reply, field by field."""
    hits = parse_search_reply(reply, schema).hits
    return [(h.id, h.distance, *(h.fields.get(n) for n in names)) for h in hits]


@pytest.mark.parametrize(
    "reply",
    [KNN_RESP2, KNN_RESP3, TEXT_RESP2, TEXT_RESP3, IDS_RESP2, IDS_RESP3,
     _as_str(TEXT_RESP2), _as_str(TEXT_RESP3)],
    ids=["knn2", "knn3", "text2", "text3", "ids2", "ids3", "str-text2", "str-text3"],
)  # fmt: skip
def test_rows_are_the_hits_of_any_reply(reply: object) -> None:
    """Replies the one-pass reader leaves to parse_search_reply (scores, NOCONTENT, str) give
    the same rows as the ones it reads."""
    for names in (["t"], ["body", "t"], []):
        assert read_rows(reply, HASH, names).rows == _rows_of_hits(reply, HASH, names)


@pytest.mark.parametrize("reply", [JSON_RESP2, JSON_RESP3], ids=["resp2", "resp3"])
def test_rows_of_whole_json_documents_come_from_inside_them(reply: object) -> None:
    assert read_rows(reply, JSON, ["t", "meta"]).rows == [("a", 1.25, "x", {"k": 1})]


def test_rows_of_random_replies_equal_the_hits() -> None:
    """Random replies of both protocols (missing fields, values that are not UTF-8, keys outside
    the prefix, several prefixes) against the hits parse_search_reply makes of them."""
    rng = np.random.default_rng(7)
    values = [b"x", b"", b"\xc3\xa9t\xc3\xa9", b"\xff", b'{"k": [1]}', b"3.5"]
    one = IndexSchema("p", prefixes=("p:",), fields=(TagField("a"), TagField("b")))
    for trial in range(300):
        schema = one if trial % 3 else _schema()
        hits = []
        for i in range(int(rng.integers(0, 6))):
            fields = {name: values[int(rng.integers(len(values)))]
                      for name in (b"a", b"b", b"c") if rng.random() < 0.7}  # fmt: skip
            if rng.random() < 0.8:
                fields[b"__vector_distance"] = str(rng.random()).encode()
            key = (b"p:", b"p:q", b"other:")[int(rng.integers(3))] + str(i).encode()
            hits.append((key, fields))
        reply: object
        if trial % 2:
            reply = {b"total_results": len(hits), b"warning": [], b"results": [
                {b"id": k, b"extra_attributes": f, b"values": []} for k, f in hits]}  # fmt: skip
        else:
            reply = [len(hits)] + [
                x for k, f in hits for x in (k, [y for kv in f.items() for y in kv])
            ]
        names = ["a", "c", "b"][: int(rng.integers(0, 4))]
        assert read_rows(reply, schema, names).rows == _rows_of_hits(reply, schema, names)


def test_rows_refuse_the_vector_field_and_raise_on_a_timeout() -> None:
    from redisvec.errors import QueryTimeoutError

    with pytest.raises(ValueError, match="vector field"):
        read_rows(KNN_RESP3, HASH, ["t", "v"])
    reply = {b"total_results": 0, b"results": [], b"warning": [b"Timeout limit was reached"]}
    with pytest.raises(QueryTimeoutError, match="time limit"):
        read_rows(reply, HASH, ["t"])
