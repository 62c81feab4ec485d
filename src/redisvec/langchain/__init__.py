"""LangChain adapter: `RedisVectorStore`, a ``langchain_core`` ``VectorStore`` on redisvec's core,
and the rest of a Redis-backed app: `RedisCache`, `RedisSemanticCache`,
`RedisChatMessageHistory`.

Needs ``langchain-core`` (``pip install 'redisvec[langchain]'``).
"""

from __future__ import annotations

from redisvec.langchain.cache import RedisCache, RedisSemanticCache
from redisvec.langchain.chat_history import RedisChatMessageHistory
from redisvec.langchain.filters import from_dict
from redisvec.langchain.vectorstore import RedisVectorStore

__all__ = [
    "RedisCache",
    "RedisChatMessageHistory",
    "RedisSemanticCache",
    "RedisVectorStore",
    "from_dict",
]
