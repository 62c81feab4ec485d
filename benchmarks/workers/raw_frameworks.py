"""The floor for an adapter: raw redis-py (`raw.Raw`, the same commands) fed what the framework
gives and returning what the framework needs.

An application that uses LangChain or LlamaIndex with raw redis-py, and no vector-store
integration, still gets its embeddings as Python lists of floats and still builds the framework's
objects (validated, the way the frameworks' own code makes them) from each hit. That is work no
adapter can skip, so each adapter is also measured against this.

Lists are packed with one precompiled ``struct.Struct`` per vector (the fastest way from a list
of floats to float32 bytes, measured against numpy and array); metadata comes back typed.
"""

from __future__ import annotations

import struct
import sys
from typing import Any

from common import serve
from raw import Raw


class _FrameworkInputs(Raw):
    packages = ("redis", "hiredis", "numpy")
    datatypes = ("float32",)

    def create(self) -> None:
        super().create()
        d = self.data
        self.pack = struct.Struct(f"<{self.dims}f").pack
        self.query_lists = d.queries.tolist()  # what an embedding model's query embedding is

    def _query_bytes(self, qi: int) -> bytes:
        return self.pack(*self.query_lists[qi])

    def _record(self, hit: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """A hit's id (the key without the prefix), text and metadata (typed)."""
        key = hit["id"]
        metadata = {"category": hit["category"], "year": int(hit["year"])}
        return (
            key[len(self.prefix) :] if key.startswith(self.prefix) else key,
            hit["text"],
            metadata,
        )


class RawLangChain(_FrameworkInputs):
    """Embeddings as lists (``Embeddings.embed_documents``); hits as ``(Document, distance)``."""

    name = "raw redis-py + LangChain objects"
    packages = ("redis", "hiredis", "numpy", "langchain-core")

    def create(self) -> None:
        super().create()
        self.vector_lists = self.data.vectors.tolist()

    def _blobs(self, start: int, stop: int) -> list[bytes]:
        pack = self.pack
        return [pack(*v) for v in self.vector_lists[start:stop]]

    def _result(self, reply: Any) -> Any:
        from langchain_core.documents import Document

        scored = []
        for hit in super()._result(reply):
            id_, text, metadata = self._record(hit)
            scored.append((Document(id=id_, page_content=text, metadata=metadata), hit["dist"]))
        return scored

    def texts_of(self, result: Any) -> list[str]:
        return [doc.page_content for doc, _ in result]


class RawLlamaIndex(_FrameworkInputs):
    """``TextNode``s with embeddings in; a ``VectorStoreQueryResult`` of ``TextNode``s out."""

    name = "raw redis-py + LlamaIndex objects"
    packages = ("redis", "hiredis", "numpy", "llama-index-core")

    def create(self) -> None:
        from llama_index.core.schema import TextNode

        super().create()
        d = self.data
        self.nodes = [
            TextNode(id_=i, text=t, metadata={"category": c, "year": y}, embedding=v)
            for i, t, c, y, v in zip(d.ids, d.texts, d.categories, d.years, d.vectors.tolist())
        ]

    def _blobs(self, start: int, stop: int) -> list[bytes]:
        pack = self.pack
        return [pack(*node.embedding) for node in self.nodes[start:stop]]

    def _result(self, reply: Any) -> Any:
        from llama_index.core.schema import TextNode
        from llama_index.core.vector_stores.types import VectorStoreQueryResult

        nodes, similarities, ids = [], [], []
        for hit in super()._result(reply):
            id_, text, metadata = self._record(hit)
            nodes.append(TextNode(id_=id_, text=text, metadata=metadata))
            similarities.append(1.0 - hit["dist"])
            ids.append(id_)
        return VectorStoreQueryResult(nodes=nodes, similarities=similarities, ids=ids)

    def texts_of(self, result: Any) -> list[str]:
        return [node.get_content() for node in result.nodes]


if __name__ == "__main__":
    serve({"raw-langchain": RawLangChain, "raw-llama-index": RawLlamaIndex}[sys.argv[1]])
