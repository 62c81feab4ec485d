"""redisvec: Redis (Query Engine) as the vector store behind LangChain and LlamaIndex."""

from __future__ import annotations

from redisvec.errors import (
    BatchWriteError,
    FilterError,
    IndexNotFoundError,
    RedisVecError,
    SchemaError,
    SchemaMismatchError,
    SearchUnavailableError,
    ServerNotFoundError,
    VectorError,
)

__version__ = "0.1.0"

__all__ = [
    "BatchWriteError",
    "FilterError",
    "IndexNotFoundError",
    "RedisVecError",
    "SchemaError",
    "SchemaMismatchError",
    "SearchUnavailableError",
    "ServerNotFoundError",
    "VectorError",
    "__version__",
]
