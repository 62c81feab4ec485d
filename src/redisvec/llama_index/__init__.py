"""LlamaIndex adapter: ``from redisvec.llama_index import RedisVectorStore``, and the rest of a
Redis-backed app: `RedisChatStore`, `RedisKVStore` (also the ingestion cache's), `RedisDocumentStore`,
`RedisIndexStore`.

Needs ``llama-index-core`` (``pip install redisvec[llama-index]``).
"""

from __future__ import annotations

from redisvec.llama_index.chat_store import RedisChatStore
from redisvec.llama_index.filters import to_filter_expression
from redisvec.llama_index.kvstore import RedisDocumentStore, RedisIndexStore, RedisKVStore
from redisvec.llama_index.vectorstore import RedisVectorStore

__all__ = [
    "RedisChatStore",
    "RedisDocumentStore",
    "RedisIndexStore",
    "RedisKVStore",
    "RedisVectorStore",
    "to_filter_expression",
]
