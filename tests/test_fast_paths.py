"""The per-hit fast paths are in use with the pinned pydantic, LangChain and LlamaIndex.

Each fast path checks itself once at import against the validated way and silently falls back
to it when they differ (a new pydantic moved its model state): correct, but every search hit
then pays for validation. These tests make such a fallback a failure, so an upgrade that
disables a fast path is noticed and the fast path fixed (or deliberately removed).
"""

from __future__ import annotations

from llama_index.core.schema import TextNode

import redisvec.langchain.vectorstore as lc_store
import redisvec.llama_index.nodes as nodes
from redisvec.layout import StoredDocument
from redisvec.memo import NodeTemplateKey, shared


def test_langchain_documents_are_assembled_without_validation() -> None:
    assert lc_store._build_document.__name__ == "build", (
        "redisvec.langchain: Document assembly fell back to validation (pydantic's or "
        "LangChain's model internals changed; see redisvec._pydantic)"
    )
    built = lc_store._build_document("i", "t", {"k": [1]})
    validated = lc_store.Document(id="i", page_content="t", metadata={"k": [1]})
    assert built == validated and built.model_dump() == validated.model_dump()


def test_llama_index_nodes_are_copied_from_templates() -> None:
    assert nodes._COPIES_MATCH, (
        "redisvec.llama_index: TextNode templates are disabled (the copy no longer matches "
        "model_copy; see redisvec.llama_index.nodes)"
    )
    templates = shared(NodeTemplateKey)
    templates.clear()
    first = TextNode(id_="a", text="one", metadata={"k": 1})
    second = TextNode(id_="b", text="two", metadata={"k": 2})
    made = []
    for node in (first, second):
        text, metadata, _, node_json = nodes.node_parts(node)
        doc = StoredDocument(id=node.node_id, text=text, metadata=metadata, node=node_json)
        made.append(nodes.to_node(doc))
    assert len(templates) == 1, "the second node was validated, not copied from a template"
    for ours, theirs in zip(made, (first, second), strict=True):
        assert ours.model_dump() == theirs.model_dump()
