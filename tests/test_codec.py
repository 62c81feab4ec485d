"""The vector codec: exact bytes per datatype, and errors raised before anything is sent."""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redisvec import VectorError
from redisvec.codec import VectorCodec, naming_records


def _bfloat16_reference(x: float) -> int:
    """Round-to-nearest-even float32 -> bfloat16, computed with integers only."""
    (bits,) = struct.unpack("<I", struct.pack("<f", x))
    upper, lower = bits >> 16, bits & 0xFFFF
    if lower > 0x8000 or (lower == 0x8000 and upper & 1):
        upper += 1
    return upper & 0xFFFF


@pytest.mark.parametrize(
    ("datatype", "fmt"),
    [("float32", "<3f"), ("float64", "<3d"), ("float16", "<3e"), ("int8", "<3b"), ("uint8", "<3B")],
)
def test_bytes_match_struct_packing(datatype: str, fmt: str) -> None:
    values = [1.0, 2.0, 3.0] if datatype != "int8" else [-1.0, 2.0, 3.0]
    codec = VectorCodec(3, datatype)
    packed = values if datatype.startswith("float") else [int(v) for v in values]
    assert codec.encode(values) == struct.pack(fmt, *packed)
    np.testing.assert_array_equal(codec.decode(codec.encode(values)), values)


def test_bfloat16_rounds_to_nearest_even() -> None:
    rng = np.random.default_rng(0)
    values = [*rng.normal(size=64).astype(np.float32).tolist(), 1.00390625, 1.01171875, -0.0]
    codec = VectorCodec(len(values), "bfloat16")
    blob = codec.encode(values)
    assert list(struct.unpack(f"<{len(values)}H", blob)) == [_bfloat16_reference(v) for v in values]
    decoded = codec.decode(blob)
    np.testing.assert_allclose(decoded, values, rtol=2**-8)


def test_batch_accepts_lists_tuples_and_arrays() -> None:
    codec = VectorCodec(2)
    expected = [struct.pack("<2f", 1, 2), struct.pack("<2f", 3, 4)]
    assert codec.encode_batch([[1, 2], (3, 4)]) == expected
    assert codec.encode_batch(np.array([[1, 2], [3, 4]], dtype=np.float64)) == expected
    assert codec.encode_batch([]) == []


def test_wrong_dimension_names_index_field_and_both_dims() -> None:
    codec = VectorCodec(1536, index="docs", field="embedding")
    with pytest.raises(VectorError) as info:
        codec.encode([0.1] * 768)
    message = str(info.value)
    assert "'docs'" in message and "'embedding'" in message
    assert "1536" in message and "768" in message


def test_ragged_batch_is_refused() -> None:
    with pytest.raises(VectorError, match="different lengths"):
        VectorCodec(2).encode_batch([[1, 2], [1, 2, 3]])


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_values_are_refused(bad: float) -> None:
    with pytest.raises(VectorError, match=r"vector 1 has a non-finite value .* position 2"):
        VectorCodec(3, index="i", field="v").encode_batch([[0, 0, 0], [0, 0, bad]])


def test_a_single_vector_where_a_batch_is_expected() -> None:
    with pytest.raises(VectorError, match="wrap a single vector in a list"):
        VectorCodec(3).encode_batch([1.0, 2.0, 3.0])  # type: ignore[list-item]


def test_integer_types_need_whole_numbers_in_range() -> None:
    with pytest.raises(VectorError, match=r"int8 vectors need whole numbers in \[-128, 127\]"):
        VectorCodec(2, "int8").encode([1.5, 2])
    with pytest.raises(VectorError, match="uint8"):
        VectorCodec(2, "uint8").encode([-1, 2])


def test_float16_overflow_is_refused() -> None:
    with pytest.raises(VectorError, match="float16"):
        VectorCodec(1, "float16").encode([1e6])


def test_json_arrays_are_rounded_to_the_datatype() -> None:
    assert VectorCodec(2, "float16").to_json_batch([[0.1, 1.0]]) == [[float(np.float16(0.1)), 1.0]]
    assert VectorCodec(2, "int8").to_json_batch([[1, -2]]) == [[1, -2]]


def test_decode_checks_length() -> None:
    with pytest.raises(VectorError, match="stored vector has 4 bytes, expected 8"):
        VectorCodec(2).decode(b"\x00" * 4)


def test_unknown_datatype() -> None:
    with pytest.raises(VectorError, match="unknown datatype 'float8'"):
        VectorCodec(2, "float8")


# -- lists of Python floats: packed with struct, the same bytes as numpy's conversion --------------

_DOUBLES = st.floats(allow_nan=False, allow_infinity=False, width=64)
_ITEMS = st.one_of(_DOUBLES, st.integers(-(2**70), 2**70), st.booleans())


def _numpy_bytes(codec: VectorCodec, rows: list[list[Any]]) -> list[bytes] | str:
    """What the numpy path makes of ``rows`` (an ndarray of objects takes it), or its error."""
    try:
        return codec.encode_batch(np.array(rows, dtype=object))
    except (VectorError, OverflowError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _list_bytes(codec: VectorCodec, rows: list[list[Any]]) -> list[bytes] | str:
    try:
        return codec.encode_batch(rows)
    except (VectorError, OverflowError) as exc:
        return f"{type(exc).__name__}: {exc}"


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_ITEMS, min_size=3, max_size=3), min_size=1, max_size=4),
    datatype=st.sampled_from(["float32", "float64", "float16", "bfloat16"]),
)
def test_lists_encode_like_numpy_arrays(rows: list[list[Any]], datatype: str) -> None:
    """Any doubles (subnormals, beyond float32's range), big ints and bools: the list path gives
    numpy's bytes, or numpy's error."""
    codec = VectorCodec(3, datatype, index="i", field="v")
    assert _list_bytes(codec, rows) == _numpy_bytes(codec, rows)
    for row in rows:  # one vector, as a query has it
        assert _one(codec, row) == _one(codec, np.array(row, dtype=object))


def _one(codec: VectorCodec, vector: Any) -> bytes | str:
    try:
        return codec.encode(vector)
    except (VectorError, OverflowError) as exc:
        return f"{type(exc).__name__}: {exc}"


def test_list_rows_are_exact_float32_roundings() -> None:
    rows = [[0.1, -2.5e-45, 3.4028235e38], [1e-39, -0.0, 16777217.0]]
    expected = [struct.pack("<3f", *r) for r in rows]  # struct rounds to nearest even as well
    assert VectorCodec(3).encode_batch(rows) == expected
    assert [VectorCodec(3).encode(r) for r in rows] == expected
    assert VectorCodec(3, "float64").encode([1e308, 1e308, 1.0]) == struct.pack(
        "<3d", 1e308, 1e308, 1.0
    )  # the sum overflows: the full path, which takes it
    assert VectorCodec(3).encode_batch([tuple(r) for r in rows]) == expected
    assert VectorCodec(3, "float64").encode_batch(rows) == [struct.pack("<3d", *r) for r in rows]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([[1.0, 2.0, 3.4e39]], r"vector 0 has a non-finite value \(inf\) at position 2"),
        ([[1.0, 2.0], [1.0, float("nan"), 3.0]], "different lengths"),
        ([[1.0, 2.0, 3.0], [1.0, 2.0]], "received 2"),
        ([[1.0, None, 3.0]], r"non-finite value \(nan\) at position 1"),
        ([[0.0, float("inf"), 1.0]], r"non-finite value \(inf\) at position 1"),
        ([[0.0, 1.0, float("nan")]], r"non-finite value \(nan\) at position 2"),
        ([[1.0, "x", 3.0]], "cannot read vectors as numbers"),
    ],
)
def test_list_errors_are_numpy_path_errors(rows: list[list[Any]], message: str) -> None:
    with pytest.raises(VectorError, match=message):
        VectorCodec(3).encode_batch(rows)
    if len(rows) == 1:
        with pytest.raises(VectorError, match=message):
            VectorCodec(3).encode(rows[0])


def test_numbers_as_text_are_still_read_as_numpy_reads_them() -> None:
    assert VectorCodec(2).encode_batch([["1.5", 2]]) == [struct.pack("<2f", 1.5, 2)]


def test_to_array_of_lists_is_a_writable_copy() -> None:
    rows = [[1.0, 2.0], [3.0, 4.0]]
    array = VectorCodec(2).to_array(rows)
    np.testing.assert_array_equal(array, np.array(rows, dtype=np.float32))
    assert array.dtype == np.float32 and array.flags.writeable
    array[0, 0] = 9.0
    assert rows[0][0] == 1.0


# -- a query vector given as a 1-D float ndarray: converted and checked in a few C calls ----------


@pytest.mark.parametrize("field_type", ["float32", "float64"])
@pytest.mark.parametrize("array_type", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [float("nan"), -float("nan"), float("inf"), -float("inf")])
def test_query_array_with_a_non_finite_value_is_refused(
    field_type: str, array_type: type, bad: float
) -> None:
    """At the first, a middle and the last position, with either sign: the fast path's
    finiteness check (on the top byte of each value) is exact."""
    for position in (0, 17, 383):
        vector = np.linspace(-1.0, 1.0, 384).astype(array_type)
        vector[position] = bad
        with pytest.raises(VectorError, match=rf"non-finite value .* at position {position}"):
            VectorCodec(384, field_type, index="i", field="v").encode(vector)


@pytest.mark.parametrize("field_type", ["float32", "float64"])
@pytest.mark.parametrize("array_type", [np.float32, np.float64])
def test_query_array_encodes_to_numpy_bytes(field_type: str, array_type: type) -> None:
    big = float(np.finfo(array_type).max)  # finite: its square overflows, its value does not
    vector = np.array([0.0, -0.0, 1e-45, big, -big, 0.1], dtype=array_type)
    if field_type == "float32" and array_type is np.float64:
        vector[3:5] = [3.0e38, -3.0e38]  # within float32's range
    expected = vector.astype(field_type).tobytes()
    assert VectorCodec(6, field_type).encode(vector) == expected


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
def test_query_array_out_of_float32_range_is_refused() -> None:
    """A double that float32 cannot hold becomes inf on conversion: refused like a batch's."""
    with pytest.raises(VectorError, match=r"non-finite value \(inf\) at position 1"):
        VectorCodec(2).encode(np.array([0.0, 1e39]))


@pytest.mark.parametrize("datatype", ["float32", "float64", "float16", "bfloat16"])
def test_zero_vectors_are_refused_on_cosine_only(datatype: str) -> None:
    cosine = VectorCodec(4, datatype, "idx", "v", "cosine")
    zeros: list[object] = [[0.0] * 4, [-0.0, 0.0, -0.0, 0.0], np.zeros(4), np.zeros(4, np.float32),
                           -np.zeros(4)]  # fmt: skip
    for zero in zeros:
        with pytest.raises(VectorError, match=r"'idx'.*'v'.*vector 0 is all zeros.*COSINE"):
            cosine.encode(zero)  # type: ignore[arg-type]
        with pytest.raises(VectorError, match=r"vector 1 is all zeros") as caught:
            cosine.encode_batch([[1.0, 0, 0, 0], zero])  # type: ignore[list-item]
        assert caught.value.row == 1
        with pytest.raises(VectorError, match=r"vector 1 is all zeros"):
            cosine.to_json_batch([[1.0, 0, 0, 0], zero])  # type: ignore[list-item]
        for metric in ("l2", "ip"):
            assert len(VectorCodec(4, datatype, "idx", "v", metric).encode(zero)) > 0  # type: ignore[arg-type]
    # bytes of only 0x00 / 0x80 that are not zero (the smallest normal float32): accepted
    tiny = np.frombuffer(b"\x00\x00\x80\x00" * 4, dtype="<f4")
    assert tiny.all()
    if datatype == "float32":
        assert cosine.encode(tiny) == tiny.tobytes()


def test_naming_records_puts_the_id_in_front() -> None:
    codec = VectorCodec(2, "float32", "idx", "v", "cosine")
    named = naming_records(["a", "b"])
    with (
        pytest.raises(VectorError, match=r"^record 'b': index 'idx', field 'v': vector 1 is"),
        named,
    ):
        codec.encode_batch([[1.0, 2.0], [0.0, 0.0]])
    named = naming_records(["a", "b"])
    with pytest.raises(VectorError, match=r"^record 'a': .*non-finite"), named:
        codec.encode_batch([[float("nan"), 2.0], [1.0, 0.0]])


@pytest.mark.parametrize("datatype", ["float32", "float64"])
@pytest.mark.parametrize(
    "special",
    [float("nan"), float("inf"), -float("inf"), 3.4e38, -3.0e38, 1.7e308, 2.0**1010, 1e-45, 0.0],
)
@pytest.mark.parametrize("position", [0, 2, 4])
def test_one_list_vector_with_special_values_encodes_like_numpy(
    datatype: str, special: float, position: int
) -> None:
    """The query short-cut looks for inf and NaN in the packed bytes: a value whose top byte is
    0x7F or 0xFF (inf, NaN, or a finite value near the type's maximum) takes the full path, so
    every value gives numpy's bytes or numpy's error, wherever it sits."""
    row = [0.5, -0.25, 1.0, 2.0, -3.0]
    row[position] = special
    codec = VectorCodec(5, datatype, index="i", field="v")
    ours = _one(codec, row)
    with np.errstate(over="ignore", invalid="ignore"):
        assert ours == _one(codec, np.array(row, dtype=object))
        assert ours == _one(codec, np.array(row, dtype=np.float64))
        representable = bool(np.isfinite(np.array(row, dtype=datatype)).all())
    assert isinstance(ours, bytes) == representable
