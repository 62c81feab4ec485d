"""Vectors <-> the bytes (HASH) or JSON arrays (JSON) the Query Engine stores.

The server silently skips a HASH document whose vector blob has the wrong length, and rejects a
query vector of the wrong length only after the round trip; so every vector is checked here,
before anything is sent, with a message that names the index, the field and both dimensions.

A batch of ndarray rows is converted with one ``numpy.asarray`` call. Lists of Python floats,
what embedding models return, are packed row by row with ``struct`` instead, faster than
``numpy.asarray``, whose list-of-lists discovery is the slow part (figures: ``benchmarks/``).
Both are C casts from double, so the bytes are the same; anything the packer cannot take (ragged
rows, strings, overflow) takes the numpy path, which names the problem.
"""

from __future__ import annotations

import contextlib
import struct
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from redisvec.errors import VectorError

__all__ = ["DATATYPES", "VectorCodec", "VectorLike", "naming_records"]

VectorLike: TypeAlias = Sequence[float] | npt.NDArray[Any]

#: numpy storage dtype of each datatype the Query Engine knows (bfloat16 is stored as uint16 bits).
DATATYPES: dict[str, np.dtype[Any]] = {
    "float32": np.dtype("<f4"),
    "float64": np.dtype("<f8"),
    "float16": np.dtype("<f2"),
    "bfloat16": np.dtype("<u2"),
    "int8": np.dtype("i1"),
    "uint8": np.dtype("u1"),
}

_INT_RANGES = {"int8": (-128, 127), "uint8": (0, 255)}
_ZERO_BYTES = b"\x00\x80"  # the bytes of 0.0 and -0.0 (float16 / 32 / 64)


def _surely_finite(blob: bytes, size: int) -> bool:
    """Whether no little-endian float in ``blob`` (values of ``size`` bytes) can be inf or NaN.

    Checked on the bytes, without a numpy call or a loop over Python floats: a value is inf or NaN
    when its exponent bits are all ones, so its top byte (the last of each value: sign and the
    exponent's high 7 bits) is 0x7F or 0xFF. Finite values with such a top byte (above ~1.7e38 in
    float32, 2**1009 in float64) also give False: the caller's full path tells them apart."""
    top = blob[size - 1 :: size]
    return b"\x7f" not in top and b"\xff" not in top


def _float32_to_bfloat16_bits(values: npt.NDArray[np.float32]) -> npt.NDArray[np.uint16]:
    """Round to nearest even, as hardware bfloat16 conversion does."""
    bits = values.astype("<f4").view("<u4")
    rounding = ((bits >> 16) & 1) + 0x7FFF
    rounded: npt.NDArray[np.uint16] = ((bits + rounding) >> 16).astype("<u2")
    return rounded


def _bfloat16_bits_to_float32(bits: npt.NDArray[np.uint16]) -> npt.NDArray[np.float32]:
    return (bits.astype("<u4") << 16).view("<f4")


@contextlib.contextmanager
def naming_records(ids: Sequence[str]) -> Iterator[None]:
    """A `VectorError` about one vector of a batch, raised inside, names its record: ``ids`` are
    the batch's ids, in order (the codec only knows positions)."""
    try:
        yield
    except VectorError as exc:
        if exc.row is None or not 0 <= exc.row < len(ids):
            raise
        raise VectorError(f"record {ids[exc.row]!r}: {exc}", row=exc.row) from None


def _row_packer(dims: int, kind: str, checked: bool = False) -> struct.Struct:
    """Packs one row of ``dims`` floats (``kind`` "f" or "d") little-endian. Native order where
    that is little-endian: CPython's native float packer is a plain C cast, faster than the
    standard-size one behind "<". ``checked``: always "<", whose packer raises
    OverflowError for a double that float32 cannot hold, where the native one makes it inf."""
    order = "" if sys.byteorder == "little" and not checked else "<"
    return struct.Struct(f"{order}{dims}{kind}")


@dataclass(frozen=True)
class VectorCodec:
    """Encodes and decodes the vectors of one vector field.

    ``index`` and ``field`` only serve error messages, so that a failure says where it happened.
    ``metric``: the field's distance metric; on ``cosine`` a zero vector is refused (it has no
    direction: the server computes a NaN distance for it and ranks it first).
    """

    dims: int
    datatype: str = "float32"
    index: str = ""
    field: str = ""
    metric: str = ""

    def __post_init__(self) -> None:
        if self.datatype not in DATATYPES:
            raise VectorError(
                f"{self._where()}unknown datatype {self.datatype!r}; "
                f"use one of {', '.join(DATATYPES)}"
            )

    @property
    def dtype(self) -> np.dtype[Any]:
        return DATATYPES[self.datatype]

    @property
    def float_dtype(self) -> np.dtype[Any]:
        """The dtype a decoded JSON vector keeps its stored precision in (float64 stays float64)."""
        return np.dtype(np.float64 if self.datatype == "float64" else np.float32)

    @property
    def byte_length(self) -> int:
        return self.dims * self.dtype.itemsize

    def _where(self) -> str:
        parts = [
            f"index {self.index!r}" if self.index else "",
            f"field {self.field!r}" if self.field else "",
        ]
        where = ", ".join(p for p in parts if p)
        return f"{where}: " if where else ""

    def _pack_lists(
        self, vectors: Sequence[VectorLike] | npt.NDArray[Any]
    ) -> tuple[list[bytes], npt.NDArray[Any]] | None:
        """A batch of lists (or tuples) of numbers as float32 rows (float64 for float64 fields):
        each row's bytes and the whole batch as a read-only 2-D array, all finite and of the
        right length; None for anything else (numpy arrays, ragged or non-finite rows, values
        that are not numbers), which `_as_array` converts or explains."""
        if not isinstance(vectors, (list, tuple)) or not vectors:
            return None
        if not all(type(v) is list or type(v) is tuple for v in vectors):
            return None
        pack = _row_packer(self.dims, "d" if self.datatype == "float64" else "f").pack
        try:
            rows = [pack(*v) for v in vectors]
        except (struct.error, TypeError, ValueError, OverflowError):
            return None
        dtype = "<f8" if self.datatype == "float64" else "<f4"
        array = np.frombuffer(b"".join(rows), dtype=dtype).reshape(len(rows), self.dims)
        if not np.isfinite(array).all():  # also a double out of float32's range (cast to inf)
            return None
        return rows, array

    def to_array(self, vectors: Sequence[VectorLike] | npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Validate a batch and return it as a 2-D array of the storage dtype (bfloat16: float32)."""
        packed = self._pack_lists(vectors)
        array = packed[1].copy() if packed is not None else self._as_array(vectors)
        self._check_range(array)
        self._check_nonzero(array)
        return array

    def _check_nonzero(self, array: npt.NDArray[Any]) -> None:
        if self.metric.lower() != "cosine" or not array.size:
            return
        zero = ~array.any(axis=1)
        if zero.any():
            row = int(np.argmax(zero))
            raise VectorError(
                f"{self._where()}vector {row} is all zeros, which the COSINE distance metric "
                "cannot compare (no direction: the server gives it a NaN distance and ranks it "
                "first); an empty text embeds to zeros with some models: leave such records "
                "out, or embed something else",
                row=row,
            )

    def _as_array(self, vectors: Sequence[VectorLike] | npt.NDArray[Any]) -> npt.NDArray[Any]:
        """numpy's conversion, with every check that `_pack_lists` does and an error naming what
        is wrong."""
        try:
            # A double beyond float32's range becomes inf, which the finiteness check below
            # reports as the error: numpy's own overflow warning would only repeat it.
            with np.errstate(over="ignore"):
                array = np.asarray(
                    vectors, dtype=np.float64 if self.datatype == "float64" else np.float32
                )
        except (TypeError, ValueError) as exc:
            sizes = [len(v) if hasattr(v, "__len__") else None for v in vectors]
            lengths = sorted({n for n in sizes if n is not None})
            if len(lengths) > 1:
                # name the first offender: the acceptance asks for expected *and* received dims
                row = next((i for i, n in enumerate(sizes) if n not in (None, self.dims)), 0)
                raise VectorError(
                    f"{self._where()}expected {self.dims} dimensions, received {sizes[row]} "
                    f"(vector {row} of the batch; vectors of different lengths {lengths} in one "
                    "batch)",
                    row=row,
                ) from exc
            raise VectorError(f"{self._where()}cannot read vectors as numbers: {exc}") from exc
        if array.ndim == 1 and array.size == 0 and len(vectors) == 0:
            return array.reshape(0, self.dims)
        if array.ndim != 2:
            raise VectorError(
                f"{self._where()}expected a batch of vectors (2-D), got an array of shape "
                f"{array.shape}; wrap a single vector in a list"
            )
        if array.shape[1] != self.dims:
            raise VectorError(
                f"{self._where()}expected {self.dims} dimensions, received {array.shape[1]}; "
                "the embedding model and the index must agree (recreate the index with "
                f"dims={array.shape[1]} or use the model that made it)"
            )
        finite = np.isfinite(array)
        if not finite.all():
            row, col = (int(i) for i in np.argwhere(~finite)[0])
            raise VectorError(
                f"{self._where()}vector {row} has a non-finite value ({array[row, col]}) at "
                f"position {col}; NaN and infinity cannot be indexed",
                row=row,
            )
        return array

    def _check_range(self, array: npt.NDArray[Any]) -> None:
        if self.datatype in _INT_RANGES:
            low, high = _INT_RANGES[self.datatype]
            if (array != np.round(array)).any() or array.min() < low or array.max() > high:
                raise VectorError(
                    f"{self._where()}{self.datatype} vectors need whole numbers in "
                    f"[{low}, {high}]; quantize the embeddings first"
                )
        if self.datatype == "float16" and np.abs(array).max(initial=0.0) > 65504:
            raise VectorError(f"{self._where()}a value exceeds float16's range (65504)")

    def encode_batch(self, vectors: Sequence[VectorLike] | npt.NDArray[Any]) -> list[bytes]:
        """Validate a batch and return each vector's little-endian bytes (HASH storage)."""
        packed = self._pack_lists(vectors)
        if packed is not None and self.datatype in ("float32", "float64"):
            self._check_nonzero(packed[1])
            return packed[0]  # already the stored bytes
        array = packed[1] if packed is not None else self._as_array(vectors)
        self._check_range(array)
        self._check_nonzero(array)
        if self.datatype == "bfloat16":
            stored = _float32_to_bfloat16_bits(array.astype(np.float32))
        else:
            stored = array.astype(self.dtype, copy=False)
        # One bytes object per row, copied straight from the array: 2-3x faster than slicing
        # one big tobytes() (which copies every vector twice).
        return [row.tobytes() for row in np.ascontiguousarray(stored)]

    def encode(self, vector: VectorLike) -> bytes:
        # Short-cut for the common query vector, a 1-D float ndarray of the right size: converted
        # and checked directly (a value out of float32's range turns inf and takes the full path,
        # which raises the same error as for a batch). float16 and the rest take the full path.
        if (
            isinstance(vector, np.ndarray)
            and vector.shape == (self.dims,)
            and vector.dtype.kind == "f"
            and self.datatype in ("float32", "float64")
        ):
            blob = vector.astype(self.dtype, copy=False).tobytes()
            # A vector whose bytes are all 0x00 / 0x80 may be all zeros (or -0.0): the full path
            # tells (and refuses it on a cosine field). lstrip leaves a byte iff one is neither;
            # on the first 64 bytes first, so that a 6 KB vector is not copied to tell.
            if _surely_finite(blob, self.dtype.itemsize) and (
                blob[:64].lstrip(_ZERO_BYTES) or blob.lstrip(_ZERO_BYTES)
            ):
                return blob
        # Short-cut for a query vector given as a list (what embedding models return), in as few
        # steps as possible: right after a network wait the code and data are out of the CPU's
        # caches, where each numpy call is slow (this path makes none; `_pack_lists` makes
        # several). The checked packer refuses values out of float32's range; inf and NaN are
        # looked for in the packed bytes (cheaper than summing the Python floats).
        if type(vector) is list and self.datatype in ("float32", "float64"):
            kind = "d" if self.datatype == "float64" else "f"
            try:
                blob = _row_packer(self.dims, kind, True).pack(*vector)
                if _surely_finite(blob, 8 if kind == "d" else 4) and any(vector):
                    return blob
            except (struct.error, TypeError, ValueError, OverflowError):
                pass
        return self.encode_batch([vector])[0]

    def to_json_batch(self, vectors: Sequence[VectorLike] | npt.NDArray[Any]) -> list[list[float]]:
        """Validate a batch and return JSON-ready lists (JSON storage), rounded to the datatype."""
        array = self.to_array(vectors)
        if self.datatype == "bfloat16":
            array = _bfloat16_bits_to_float32(_float32_to_bfloat16_bits(array.astype(np.float32)))
        elif self.datatype in _INT_RANGES:
            return array.astype(np.int64).tolist()  # type: ignore[no-any-return]
        else:
            array = array.astype(self.dtype)
        return array.astype(np.float64).tolist()  # type: ignore[no-any-return]

    def decode(self, blob: bytes) -> npt.NDArray[Any]:
        """Bytes as stored -> a 1-D array (float32 for bfloat16)."""
        if len(blob) != self.byte_length:
            raise VectorError(
                f"{self._where()}stored vector has {len(blob)} bytes, expected {self.byte_length} "
                f"({self.dims} x {self.datatype})"
            )
        array = np.frombuffer(blob, dtype=self.dtype)
        if self.datatype == "bfloat16":
            return _bfloat16_bits_to_float32(array)
        return array

    def decode_batch(self, blobs: Sequence[bytes]) -> npt.NDArray[Any]:
        if not blobs:
            return np.empty((0, self.dims), dtype=np.float32)
        return np.stack([self.decode(b) for b in blobs])
