"""The floor: redis-py done well (hiredis, one numpy call per batch, non-transactional pipelines).

No library between the caller and the wire: the cost every vector-store client adds is measured
against this.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import redis
import redis.asyncio as aredis
from common import Variant, serve

BATCH = 500
_DTYPES = {"float32": np.float32, "float16": np.float16}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Raw(Variant):
    name = "raw redis-py"
    datatypes = ("float32", "float16", "none")

    def create(self) -> None:
        self.r = redis.Redis.from_url(self.url)
        fields = ["text", "TEXT", "category", "TAG", "year", "NUMERIC"]
        if self.dtype != "none":
            fields += [
                "embedding", "VECTOR", self.algo, 6, "TYPE", self.dtype.upper(),
                "DIM", self.dims, "DISTANCE_METRIC", "COSINE",
            ]  # fmt: skip
        self.r.execute_command(
            "FT.CREATE", self.index_name, "ON", "HASH", "PREFIX", 1, self.prefix, "SCHEMA", *fields
        )
        self.np_dtype = _DTYPES.get(self.dtype, np.float32)

    def ingest(self, start: int, stop: int) -> None:
        d = self.data
        blobs = self._blobs(start, stop)
        with_vector = self.dtype != "none"
        prefix = self.prefix
        for first in range(start, stop, BATCH):
            pipe = self.r.pipeline(transaction=False)
            for i in range(first, min(first + BATCH, stop)):
                args: list[Any] = [
                    "HSET", prefix + d.ids[i],
                    "text", d.texts[i], "category", d.categories[i], "year", d.years[i],
                ]  # fmt: skip
                if with_vector:
                    args += ["embedding", blobs[i - start]]
                pipe.execute_command(*args)
            pipe.execute()

    def _blobs(self, start: int, stop: int) -> list[bytes]:
        # one numpy conversion for the whole batch, then each row's bytes (faster than slicing
        # one tobytes() blob, which copies every vector twice)
        rows = self.data.vectors[start:stop].astype(self.np_dtype, copy=False)
        return [row.tobytes() for row in rows]

    def _query_bytes(self, qi: int) -> bytes:
        return self.data.queries[qi].astype(self.np_dtype, copy=False).tobytes()

    def _args(self, qi: int, query: str, extra: list[Any]) -> list[Any]:
        vector = self._query_bytes(qi)
        return [
            "FT.SEARCH", self.index_name, query,
            "PARAMS", 2 + len(extra), "v", vector, *extra,
            "SORTBY", "dist", "ASC",
            "RETURN", 4, "text", "category", "year", "dist",
            "LIMIT", 0, 100 if extra else 10,
            "DIALECT", 2,
        ]  # fmt: skip

    def _knn_args(self, qi: int, filtered: bool) -> list[Any]:
        knn = "=>[KNN 10 @embedding $v AS dist]"
        where = f"(@category:{{{self.data.query_category(qi)}}})" if filtered else "*"
        return self._args(qi, where + knn, [])

    def knn(self, qi: int, filtered: bool) -> Any:
        return self._result(self.r.execute_command(*self._knn_args(qi, filtered)))

    def range(self, qi: int, radius: float) -> Any:
        query = "@embedding:[VECTOR_RANGE $r $v]=>{$YIELD_DISTANCE_AS: dist}"
        return self._result(self.r.execute_command(*self._args(qi, query, ["r", radius])))

    async def aopen(self) -> None:
        self.ar = aredis.Redis.from_url(self.url)

    async def aknn(self, qi: int) -> Any:
        return self._result(await self.ar.execute_command(*self._knn_args(qi, False)))

    async def aclose(self) -> None:
        await self.ar.aclose()

    def _result(self, reply: Any) -> Any:
        return _parse(reply)

    def texts_of(self, result: Any) -> list[str]:
        return [hit["text"] for hit in result]

    def close(self) -> None:
        self.r.close()


def _parse(reply: Any) -> list[dict[str, Any]]:
    """Hits as dicts of text fields plus the id and the distance, from RESP3 or RESP2."""
    hits = []
    if isinstance(reply, dict):
        for item in reply[b"results"]:
            fields = {_text(k): _text(v) for k, v in item[b"extra_attributes"].items()}
            fields["id"] = _text(item[b"id"])
            fields["dist"] = float(fields["dist"])
            hits.append(fields)
        return hits
    for i in range(1, len(reply), 2):
        flat = reply[i + 1]
        fields = {_text(flat[j]): _text(flat[j + 1]) for j in range(0, len(flat), 2)}
        fields["id"] = _text(reply[i])
        fields["dist"] = float(fields["dist"])
        hits.append(fields)
    return hits


if __name__ == "__main__":
    serve(Raw)
