"""redisvec: Redis (the Query Engine) as the vector store behind LangChain and LlamaIndex.

The core is framework-free: an `IndexSchema` says what is indexed, a `SearchIndex` (or its native
async twin `AsyncSearchIndex`) creates, loads and searches it, filter expressions (`Tag`, `Num`,
`Text`, `Geo`) render to escaped query strings, and query builders (`VectorQuery`, `RangeQuery`,
`FilterQuery`, `CountQuery`, `TextQuery`) render to ``FT.SEARCH``. The adapters live in
`redisvec.langchain` and `redisvec.llama_index`; the embedded test server in `redisvec.server`.
"""

from __future__ import annotations

from redisvec.codec import VectorCodec
from redisvec.connection import ConnectionConfig
from redisvec.errors import (
    BatchWriteError,
    ConnectionFailedError,
    FileError,
    FilterError,
    HybridFallbackWarning,
    IndexingTimeoutError,
    IndexNotFoundError,
    KeySpaceError,
    PermissionDeniedError,
    PortTakenError,
    QueryTimeoutError,
    RedisVecError,
    ReplyTimeoutError,
    ResultLimitError,
    SchemaError,
    SchemaMismatchError,
    SearchUnavailableError,
    ServerNotFoundError,
    VectorError,
    WriteDeniedError,
)
from redisvec.filters import ALL, FilterExpression, Geo, Num, Tag, Text
from redisvec.hybrid import HybridHit, HybridQuery, HybridResult
from redisvec.index import AsyncSearchIndex, IndexInfo, SearchIndex
from redisvec.layout import DocumentLayout, StoredDocument
from redisvec.query import CountQuery, FilterQuery, RangeQuery, TextQuery, VectorQuery
from redisvec.results import Hit, Rows, SearchResult, distance_to_similarity
from redisvec.schema import (
    GeoField,
    IndexSchema,
    NumericField,
    TagField,
    TextField,
    VectorField,
)

__version__ = "0.1.0"

__all__ = [
    "ALL",
    "AsyncSearchIndex",
    "BatchWriteError",
    "ConnectionConfig",
    "ConnectionFailedError",
    "CountQuery",
    "DocumentLayout",
    "FileError",
    "FilterError",
    "FilterExpression",
    "FilterQuery",
    "Geo",
    "GeoField",
    "Hit",
    "HybridFallbackWarning",
    "HybridHit",
    "HybridQuery",
    "HybridResult",
    "IndexInfo",
    "IndexNotFoundError",
    "IndexingTimeoutError",
    "KeySpaceError",
    "IndexSchema",
    "Num",
    "NumericField",
    "PermissionDeniedError",
    "PortTakenError",
    "QueryTimeoutError",
    "RangeQuery",
    "RedisVecError",
    "ReplyTimeoutError",
    "ResultLimitError",
    "Rows",
    "SchemaError",
    "SchemaMismatchError",
    "SearchIndex",
    "SearchResult",
    "SearchUnavailableError",
    "ServerNotFoundError",
    "StoredDocument",
    "Tag",
    "TagField",
    "Text",
    "TextField",
    "TextQuery",
    "VectorCodec",
    "VectorError",
    "VectorField",
    "VectorQuery",
    "WriteDeniedError",
    "__version__",
    "distance_to_similarity",
]
