"""Record encoding rules of `redisvec.records` (see its docstring), HASH and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest

from redisvec.errors import SchemaError, VectorError
from redisvec.records import RecordStream, chunks, prepare_records
from redisvec.schema import (
    GeoField,
    IndexSchema,
    NumericField,
    TagField,
    TextField,
    VectorField,
)


def schema(storage: str = "hash", datatype: str = "float32") -> IndexSchema:
    return IndexSchema(
        "idx",
        prefixes=("doc",),
        storage=storage,
        fields=(
            TagField("tags"),
            NumericField("n"),
            GeoField("loc"),
            TextField("body"),
            VectorField("v", dims=3, datatype=datatype),
        ),
    )


def one(storage: str, record: dict[str, object], datatype: str = "float32") -> dict[str, object]:
    (prepared,) = prepare_records(schema(storage, datatype), [record], ids=["1"])
    assert (prepared.id, prepared.key) == ("1", "doc:1")
    return prepared.payload


def test_hash_encoding() -> None:
    payload = one("hash", {
        "v": [1.0, 2.0, 3.0], "tags": ["a b", "c|d", 3, True], "n": True, "loc": (2.5, 48.0),
        "body": "text", "count": 7, "ratio": 0.1, "flag": False, "meta": {"k": [1, "é"]},
        "gone": None,
    })  # fmt: skip
    assert payload == {
        "v": np.array([1, 2, 3], dtype="<f4").tobytes(),
        "tags": "a b,c|d,3,true",
        "n": "1",
        "loc": "2.5,48.0",
        "body": "text",
        "count": "7",
        "ratio": "0.1",
        "flag": "false",
        "meta": json.dumps({"k": [1, "é"]}, ensure_ascii=False),
    }
    assert one("hash", {"n": 3})["n"] == "3" and one("hash", {"n": 2.5})["n"] == "2.5"


def test_json_encoding_keeps_types() -> None:
    payload = one("json", {
        "v": np.array([1.0, 2.0, 3.0]), "tags": ("x", 1.0), "n": 4.0, "loc": "1,2",
        "meta": {"k": [1, 2]}, "flag": True, "gone": None,
    })  # fmt: skip
    assert payload == {
        "v": [1.0, 2.0, 3.0], "tags": ["x", "1"], "n": 4, "loc": "1.0,2.0",
        "meta": {"k": [1, 2]}, "flag": True,
    }  # fmt: skip
    assert one("json", {"tags": "single"})["tags"] == "single"


@pytest.mark.parametrize("datatype", ["float16", "bfloat16", "float64"])
def test_vector_datatypes(datatype: str) -> None:
    blob = one("hash", {"v": [0.1, -2.0, 3.0]}, datatype)["v"]
    assert isinstance(blob, bytes) and len(blob) == 3 * (8 if datatype == "float64" else 2)
    values = one("json", {"v": [0.1, -2.0, 3.0]}, datatype)["v"]
    assert isinstance(values, list) and values[1:] == [-2.0, 3.0]
    if datatype == "float64":
        assert values[0] == 0.1
    else:
        assert values[0] != 0.1 and abs(values[0] - 0.1) < 1e-3  # rounded to the datatype


@pytest.mark.parametrize("storage", ["hash", "json"])
@pytest.mark.parametrize(
    ("record", "error", "pattern"),
    [
        (
            {"v": [1.0, 2.0]},
            VectorError,
            r"index 'idx', field 'v': expected 3 dimensions, received 2",
        ),
        ({"v": [1.0, float("nan"), 2.0]}, VectorError, "non-finite"),
        ({"v": ["a", "b", "c"]}, VectorError, "cannot read vectors as numbers"),
        ({"tags": "a,b"}, SchemaError, r"index 'idx', tag field 'tags': value 'a,b'"),
        ({"tags": ["ok", "x,y"]}, SchemaError, r"'x,y' contains the field's separator"),
        ({"n": "ten"}, SchemaError, r"index 'idx', numeric field 'n': value 'ten' is not a number"),
        ({"n": float("nan")}, SchemaError, "NaN"),
        ({"loc": "200,10"}, SchemaError, "geo field 'loc'.*outside"),
        ({"loc": "nowhere"}, SchemaError, "geo field 'loc'.*'nowhere'"),
    ],
)
def test_bad_values(storage: str, record: dict[str, object], error: type, pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        prepare_records(schema(storage), [{"v": [1.0, 1.0, 1.0]}, record], ids=["a", "b"])


def test_infinity_in_a_json_numeric_field() -> None:
    assert one("hash", {"n": float("inf")})["n"] == "inf"
    with pytest.raises(SchemaError, match=r"'n'.*JSON has no infinity"):
        one("json", {"n": float("inf")})


def test_ids_keys_and_id_field() -> None:
    s = schema()
    recs = [{"body": "a", "uid": "u1"}, {"body": "b", "uid": 2}]
    assert [p.key for p in prepare_records(s, recs, id_field="uid")] == ["doc:u1", "doc:2"]
    by_key = prepare_records(s, recs, keys=["doc:x", "other:y"])
    assert [(p.id, p.key) for p in by_key] == [("x", "doc:x"), ("other:y", "other:y")]
    generated = prepare_records(s, recs)
    assert len({p.id for p in generated}) == 2 and all(p.key == "doc:" + p.id for p in generated)
    with pytest.raises(ValueError, match="1 ids for 2 records"):
        prepare_records(s, recs, ids=["only"])
    with pytest.raises(ValueError, match="empty"):
        prepare_records(s, recs, ids=["", "b"])
    with pytest.raises(ValueError, match="no fields"):
        prepare_records(s, [{"body": None}], ids=["a"])


def test_chunks() -> None:
    assert [list(c) for c in chunks([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    with pytest.raises(ValueError, match="batch_size"):
        list(chunks([1], 0))


def test_a_record_stream_reads_any_iterable_a_batch_at_a_time() -> None:
    s = schema("hash")
    pulled: list[int] = []

    def generate(n: int) -> Iterator[dict[str, object]]:
        for i in range(n):
            pulled.append(i)
            yield {"v": [1.0, float(i), 1.0], "uid": f"u{i}"}

    stream = RecordStream(s, generate(5), id_field="uid", size=2)
    batches = iter(stream)
    first = next(batches)
    assert [p.id for p in first] == ["u0", "u1"] and pulled == [0, 1] and stream.read == 2
    assert [[p.id for p in b] for b in batches] == [["u2", "u3"], ["u4"]]
    assert stream.unread_ids() == []  # a generator is never read further to name its records
    # ids alongside: sliced per batch; a count that does not match is found when it can be
    listed = RecordStream(s, [{"v": [1.0, 1.0, 1.0]}] * 3, ids=["a", "b", "c"], size=2)
    assert [p.id for b in listed for p in b] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="2 ids for 3 records"):
        RecordStream(s, [{"v": [1.0, 1.0, 1.0]}] * 3, ids=["a", "b"])
    late = iter(RecordStream(s, iter([{"v": [1.0, 1.0, 1.0]}] * 3), ids=["a", "b"], size=2))
    assert [p.id for p in next(late)] == ["a", "b"]
    with pytest.raises(ValueError, match="2 ids for 3 records"):
        next(late)
    with pytest.raises(TypeError, match="pass \\[record\\]"):
        RecordStream(s, {"v": [1.0, 1.0, 1.0]})
