"""LlamaIndex adapter: ``from redisvec.llama_index import RedisVectorStore``.

Needs ``llama-index-core`` (``pip install redisvec[llama-index]``).
"""

from __future__ import annotations

from redisvec.llama_index.filters import to_filter_expression
from redisvec.llama_index.vectorstore import RedisVectorStore

__all__ = ["RedisVectorStore", "to_filter_expression"]
