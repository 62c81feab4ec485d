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

from redisvec._pydantic import assemble, same_model
from redisvec.layout import StoredDocument, load_json
from redisvec.memo import NodeTemplateKey, memo_put, shared

__all__ = ["NodeReader", "node_of", "node_parts", "to_node"]

_CLASSES: dict[str, type[BaseNode]] = {
    cls.class_name(): cls for cls in (TextNode, IndexNode, ImageNode, Node, Document, ImageDocument)
}

#: What the ``node`` field leaves out: the embedding, and what other fields hold (the text is stored
#: once, in the text field; the reader puts it back).
_NOT_IN_NODE_JSON: dict[str, Any] = {
    "embedding": True,
    "metadata": True,
    "text": True,
    "text_resource": {"text": True},
}


def node_parts(node: BaseNode) -> tuple[str, dict[str, Any], str | None, str]:
    """``(text, metadata, ref_doc_id, node_json)`` for one node (its metadata is not copied)."""
    # pydantic-core writes the JSON itself, without model_dump(mode="json") and json.dumps
    # building the dict first. Its serializer adds the class name (BaseComponent's).
    text = node.get_content(metadata_mode=MetadataMode.NONE)
    node_json = node.model_dump_json(exclude=_NOT_IN_NODE_JSON)
    return text, node.metadata, node.ref_doc_id, node_json


def to_node(doc: StoredDocument, *, with_embedding: bool = False) -> BaseNode:
    """Rebuild the node of a stored document."""
    embedding = doc.vector.tolist() if with_embedding and doc.vector is not None else None
    return node_of(doc.id, doc.text, dict(doc.metadata), doc.doc_id, doc.node, embedding)


def node_of(
    id: str,
    text: str,
    metadata: dict[str, Any],
    doc_id: str | None,
    node_json: str | None,
    embedding: list[float] | None = None,
) -> BaseNode:
    """The node of a stored record from its parts (`to_node` without the `StoredDocument`, for
    search hits). ``metadata`` becomes the node's own: pass a dict nothing else holds."""
    return _node_and_template(id, text, metadata, doc_id, node_json, embedding)[0]


class NodeReader:
    """`node_of` for the hits of one result, which are mostly nodes of one shape: it remembers
    the template of the last hit, and a hit whose node JSON is that template's with its own id
    is a copy of it, found without hashing its JSON (`_template_key`'s match, checked by the
    JSON's length and both ends)."""

    __slots__ = ("tail", "template")

    def __init__(self) -> None:
        self.tail = ""
        self.template: _Template | None = None

    def __call__(
        self,
        id: str,
        text: str,
        metadata: dict[str, Any],
        doc_id: str | None,
        node_json: str | None,
    ) -> BaseNode:
        template, tail = self.template, self.tail
        if (
            template is not None
            and node_json is not None
            and len(node_json) == len(id) + 10 + len(tail)
            and node_json.endswith(tail)
            and node_json.startswith(f'{{"id_":"{id}",')
        ):
            return template.make(id, text, metadata, None)
        node, key, template = _node_and_template(id, text, metadata, doc_id, node_json, None)
        if template is not None and key is not None:
            self.tail, self.template = key.node_json, template
        return node


def _node_and_template(
    id: str,
    text: str,
    metadata: dict[str, Any],
    doc_id: str | None,
    node_json: str | None,
    embedding: list[float] | None,
) -> tuple[BaseNode, NodeTemplateKey | None, _Template | None]:
    """`node_of`, and the template it was copied from, under its key (None: validated)."""
    if not node_json:
        relationships = {}
        if doc_id:
            relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=doc_id)
        plain = TextNode(
            id_=id,
            text=text,
            metadata=metadata,
            relationships=relationships,
            embedding=embedding,
        )
        return plain, None, None
    key = _template_key(node_json, id)
    templates = shared(NodeTemplateKey)
    known: _Template | None = templates.get(key) if key is not None else None
    if known is not None:
        return known.make(id, text, metadata, embedding), key, known
    data = load_json(node_json)
    cls = _CLASSES.get(str(data.pop("class_name", "")), TextNode)
    empties = _template_of(cls, data) if key is not None else None
    data.setdefault("id_", id)
    data["metadata"] = metadata
    data["embedding"] = embedding
    resource = data.get("text_resource")
    if isinstance(resource, dict):
        resource["text"] = text
    else:
        data["text"] = text
    node = cls.model_validate(data)
    if empties is None or key is None or not _COPIES_MATCH:
        return node, None, None
    template = _Template(node, empties)
    memo_put(templates, key, template, bound=256)
    return template.make(id, text, metadata, embedding), key, template


# -- templates: nodes that differ only in id, text, metadata and embedding -------------------------
#
# Validating a TextNode from its JSON and parsing the JSON ran for every search
# hit, though the node JSON of TextNodes without relationships is the same for all of them but for
# the id, which leads it (`_template_key`). Such a node is validated once and kept as a template,
# under the rest of its JSON; each hit is a shallow copy
# of it with its own id, text, metadata and embedding and fresh empty lists and dicts (so nothing
# mutable is shared): what ``model_copy(update=...)`` makes, without its copy.copy of every
# part of the model. The copy sets pydantic's own model state, so
# it is checked once against model_copy; if they differ, no template is used. Only JSON whose
# values are all scalars or empty containers qualifies.

_Empties = tuple[tuple[str, type], ...]


class _Template:
    """A validated node (never handed out) and what each copy of it renews: the empty containers
    (fresh ones per copy) and the fields given (the template's and those set per copy)."""

    __slots__ = ("cls", "empties", "fields", "given")

    def __init__(self, node: BaseNode, empties: _Empties) -> None:
        self.cls = type(node)
        self.fields = node.__dict__
        self.empties = empties
        per_copy = {"id_", "text", "metadata", "embedding", *(name for name, _ in empties)}
        self.given = frozenset(node.__pydantic_fields_set__ | per_copy)

    def make(
        self, id: str, text: str, metadata: dict[str, Any], embedding: list[float] | None
    ) -> BaseNode:
        fields = self.fields.copy()  # the model's field order, kept by the updates below
        for name, kind in self.empties:
            fields[name] = kind()
        fields["id_"] = id
        fields["text"] = text
        fields["metadata"] = metadata
        fields["embedding"] = embedding
        return assemble(self.cls, fields, set(self.given))


def _template_key(node_json: str, id: str) -> NodeTemplateKey | None:
    """The node JSON after its id (the record's id, as `node_parts` writes it: pydantic-core's
    compact JSON, id first), or None. An id the JSON had to escape never matches, so a match
    means the JSON's id is exactly ``id``."""
    prefix = f'{{"id_":"{id}",'
    return NodeTemplateKey(node_json[len(prefix) :]) if node_json.startswith(prefix) else None


def _template_of(cls: type[BaseNode], data: dict[str, Any]) -> _Empties | None:
    """The empty containers to renew in each copy, or None if ``data`` cannot be a template."""
    if cls is not TextNode:
        return None
    empties = []
    for name, value in data.items():
        if type(value) in (list, dict):
            if value:
                return None
            empties.append((name, type(value)))
        elif not (value is None or type(value) in (str, int, float, bool)):
            return None
    return tuple(empties)


def _copies_match() -> bool:
    """Whether a template's copy is what model_copy makes (checked once, on a sample TextNode)."""
    try:
        data = load_json(node_parts(TextNode(id_="i", text="t"))[3])
        data.pop("class_name")
        empties = _template_of(TextNode, data)
        data.update(id_="i", text="t", metadata={}, embedding=None)
        node = TextNode.model_validate(data)
        if empties is None or node.__pydantic_extra__ or node.__pydantic_private__:
            return False
        update: dict[str, Any] = {name: kind() for name, kind in empties}
        update.update(id_="j", text="u", metadata={"k": 1}, embedding=[0.5])
        ours = _Template(node, empties).make("j", "u", {"k": 1}, [0.5])
        return same_model(ours, node.model_copy(update=update))
    except Exception:  # pydantic's model state moved: no templates
        return False


_COPIES_MATCH = _copies_match()
