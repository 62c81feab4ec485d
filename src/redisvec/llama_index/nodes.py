"""LlamaIndex nodes <-> the shared storage layout.

A node is split over the layout's fields so that other readers see clean data:

- ``text``: the node's content; ``metadata``: the user's metadata only (JSON, types kept);
- ``doc_id``: ``node.ref_doc_id`` (the source document), which ``delete(ref_doc_id)`` filters on;
- ``node``: everything else LlamaIndex needs to rebuild the node exactly (its class, id,
  relationships, templates, excluded keys, character offsets ...), as JSON.

A record without a ``node`` field (written by the LangChain adapter or another tool) comes back as
a `TextNode` with the record's id, text and metadata, and a SOURCE relationship to its ``doc_id``.
"""

from __future__ import annotations

import json
from typing import Any

from llama_index.core.schema import (
    BaseNode,
    Document,
    ImageDocument,
    ImageNode,
    IndexNode,
    MetadataMode,
    Node,
    NodeRelationship,
    RelatedNodeInfo,
    TextNode,
)

from redisvec.layout import StoredDocument

__all__ = ["node_parts", "to_node"]

_CLASSES: dict[str, type[BaseNode]] = {
    cls.class_name(): cls for cls in (TextNode, IndexNode, ImageNode, Node, Document, ImageDocument)
}

#: ``json.dumps(..., ensure_ascii=False)`` builds this encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def node_parts(node: BaseNode) -> tuple[str, dict[str, Any], str | None, str]:
    """``(text, metadata, ref_doc_id, node_json)`` for one node."""
    # Excluded rather than dumped and dropped: dumping the embedding in JSON mode was over half of
    # the call (18 us -> 8 us per 384-d TextNode); the JSON is the same.
    data = node.model_dump(mode="json", exclude={"embedding", "metadata", "text"})
    resource = data.get("text_resource")
    if isinstance(resource, dict):
        resource["text"] = None  # stored once, in the text field
    data["class_name"] = node.class_name()
    text = node.get_content(metadata_mode=MetadataMode.NONE)
    return text, dict(node.metadata), node.ref_doc_id, _ENCODER.encode(data)


def to_node(doc: StoredDocument, *, with_embedding: bool = False) -> BaseNode:
    """Rebuild the node of a stored document."""
    embedding = doc.vector.tolist() if with_embedding and doc.vector is not None else None
    if not doc.node:
        relationships = {}
        if doc.doc_id:
            relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc.doc_id)
        return TextNode(
            id_=doc.id,
            text=doc.text,
            metadata=dict(doc.metadata),
            relationships=relationships,
            embedding=embedding,
        )
    data = json.loads(doc.node)
    cls = _CLASSES.get(str(data.pop("class_name", "")), TextNode)
    data["metadata"] = dict(doc.metadata)
    data["embedding"] = embedding
    resource = data.get("text_resource")
    if isinstance(resource, dict):
        resource["text"] = doc.text
    else:
        data["text"] = doc.text
    return cls.model_validate(data)
