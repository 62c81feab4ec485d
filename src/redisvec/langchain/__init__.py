"""LangChain adapter: `RedisVectorStore`, a ``langchain_core`` ``VectorStore`` on redisvec's core.

Needs ``langchain-core`` (``pip install 'redisvec[langchain]'``).
"""

from __future__ import annotations

from redisvec.langchain.filters import from_dict
from redisvec.langchain.vectorstore import RedisVectorStore

__all__ = ["RedisVectorStore", "from_dict"]
