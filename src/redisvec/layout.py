"""The storage layout both adapters share: what one writes, the other reads.

One record per document (a HASH or a JSON document under ``<key_prefix><id>``):

=================  =========  ==============================================================
field              indexed    holds
=================  =========  ==============================================================
``text``           TEXT       the document's text (full-text search, LlamaIndex TEXT_SEARCH)
``embedding``      VECTOR     the embedding
``metadata``       no         the *whole* metadata as JSON text, so types round-trip exactly
                              (int stays int, bool stays bool, lists and nested dicts survive)
``doc_id``         TAG        the source document's id (LlamaIndex ``ref_doc_id``), if any
``node``           no         adapter-private JSON (LlamaIndex keeps node type and relations)
``<name>``         as asked   each field of ``metadata_schema``, a copy of ``metadata[name]``
                              encoded for indexing, so filters can use it
=================  =========  ==============================================================

Tag fields of the layout use the separator ``\\x1f`` (a control character), so that a comma, a
space or a pipe in a value is data, and every metadata field is created with INDEXMISSING so that
"field is missing" filters work. The field names are configurable, so an index that another tool
created can be read with its own names (`DocumentLayout.for_existing`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from redisvec.errors import SchemaError
from redisvec.results import Hit, distance_to_similarity
from redisvec.schema import (
    Field,
    GeoField,
    IndexSchema,
    NumericField,
    TagField,
    TextField,
    VectorField,
)

__all__ = ["TAG_SEPARATOR", "DocumentLayout", "StoredDocument", "metadata_fields"]

TAG_SEPARATOR = "\x1f"

_FIELD_TYPES: dict[str, type[Field]] = {
    "tag": TagField,
    "text": TextField,
    "numeric": NumericField,
    "geo": GeoField,
}


def metadata_fields(metadata_schema: Sequence[Mapping[str, Any] | Field] | None) -> list[Field]:
    """``[{"name": "year", "type": "numeric"}, ...]`` (or field objects) -> schema fields.

    Defaults differ from the server's on purpose: tags split on ``\\x1f`` (not ``,``) and every
    field indexes missing values.
    """
    fields: list[Field] = []
    for spec in metadata_schema or ():
        if not isinstance(spec, Mapping):
            fields.append(spec)
            continue
        options = dict(spec)
        name = options.pop("name", None)
        kind = str(options.pop("type", "")).lower()
        if not name or not isinstance(name, str):
            raise SchemaError(f"metadata_schema entry {dict(spec)!r} needs a 'name'")
        if kind not in _FIELD_TYPES:
            raise SchemaError(
                f"metadata_schema field {name!r}: type {kind!r} is not one of "
                f"{', '.join(_FIELD_TYPES)}"
            )
        options.update(options.pop("attrs", {}) or {})
        if kind == "tag":
            options.setdefault("separator", TAG_SEPARATOR)
        options.setdefault("index_missing", True)
        try:
            fields.append(_FIELD_TYPES[kind](name, **options))
        except TypeError as exc:
            raise SchemaError(f"metadata_schema field {name!r}: {exc}") from None
    return fields


@dataclass(slots=True)
class StoredDocument:
    """A document as the adapters see it, independent of either framework.

    Slots, not frozen: the adapters build one per search hit, and a frozen dataclass's
    ``__init__`` (``object.__setattr__`` per attribute) cost ~1 us more per hit."""

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    vector: npt.NDArray[Any] | None = None
    doc_id: str | None = None
    node: str | None = None
    distance: float | None = None
    similarity: float | None = None


@dataclass(frozen=True)
class DocumentLayout:
    """Field names of the layout and the metadata fields that are indexed."""

    text_field: str = "text"
    vector_field: str = "embedding"
    metadata_field: str | None = "metadata"
    doc_id_field: str | None = "doc_id"
    node_field: str | None = "node"
    indexed: tuple[Field, ...] = ()
    #: True when the index was made by another tool: read every stored field as metadata.
    foreign: bool = False

    @property
    def reserved(self) -> set[str]:
        names = (
            self.text_field,
            self.vector_field,
            self.metadata_field,
            self.doc_id_field,
            self.node_field,
        )
        return {n for n in names if n}

    def build_schema(
        self,
        *,
        index_name: str,
        dims: int,
        key_prefix: str | None = None,
        storage: str = "hash",
        distance_metric: str = "cosine",
        algorithm: str = "hnsw",
        datatype: str = "float32",
        vector_options: Mapping[str, Any] | None = None,
    ) -> IndexSchema:
        clash = sorted(f.name for f in self.indexed if f.name in self.reserved)
        if clash:
            raise SchemaError(
                f"metadata field(s) {clash} collide with the layout's own fields "
                f"{sorted(self.reserved)}; rename them in metadata_schema"
            )
        fields: list[Field] = [
            TextField(self.text_field),
            VectorField(
                self.vector_field,
                dims=dims,
                algorithm=algorithm.lower(),
                datatype=datatype.lower(),
                distance_metric=distance_metric.lower(),
                **dict(vector_options or {}),
            ),
        ]
        if self.doc_id_field:
            fields.append(TagField(self.doc_id_field, separator=TAG_SEPARATOR, case_sensitive=True))
        fields += self.indexed
        return IndexSchema(
            index_name,
            prefixes=(key_prefix if key_prefix is not None else index_name,),
            storage=storage.lower(),
            fields=tuple(fields),
        )

    @classmethod
    def for_existing(
        cls, schema: IndexSchema, *, text_field: str | None = None, vector_field: str | None = None
    ) -> DocumentLayout:
        """The layout of an index read from the server: ours if it looks like ours, else foreign
        (every stored field other than text and vector comes back as metadata)."""
        names = schema.fields_by_name
        vector = vector_field or schema.vector_field.name
        text = text_field or _guess_text_field(schema)
        ours = "doc_id" in names and text == "text" and vector == "embedding"
        indexed = tuple(f for f in schema.fields if f.name not in {text, vector, "doc_id"})
        if ours:
            return cls(text_field=text, vector_field=vector, indexed=indexed)
        return cls(
            text_field=text,
            vector_field=vector,
            metadata_field="metadata" if "metadata" not in names else None,
            doc_id_field=None,
            node_field=None,
            indexed=indexed,
            foreign=True,
        )

    # -- writing -------------------------------------------------------------------------------

    def to_record(
        self,
        text: str,
        vector: Any,
        metadata: Mapping[str, Any] | None = None,
        *,
        doc_id: str | None = None,
        node: str | None = None,
    ) -> dict[str, Any]:
        """One document -> a record for `SearchIndex.load`."""
        metadata = dict(metadata or {})
        record: dict[str, Any] = {self.text_field: text, self.vector_field: vector}
        if self.metadata_field:
            record[self.metadata_field] = _dump_metadata(metadata)
        if self.doc_id_field and doc_id is not None:
            record[self.doc_id_field] = doc_id
        if self.node_field and node is not None:
            record[self.node_field] = node
        for fld in self.indexed:
            value = metadata.get(fld.name)
            if value is None or (isinstance(value, (str, list, tuple)) and len(value) == 0):
                continue  # not indexed, so "is missing / is empty" filters find it
            if isinstance(value, Mapping):
                raise SchemaError(
                    f"metadata field {fld.name!r} is indexed as {fld.type} but its value is a "
                    f"dict ({value!r}); index a scalar (or a list for tags) instead"
                )
            if fld.type == "text" and not isinstance(value, str):
                value = (
                    " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
                )
            record[fld.name] = value
        return record

    # -- reading -------------------------------------------------------------------------------

    @property
    def return_fields(self) -> list[str] | None:
        """What searches ask the server to return (None: everything, for foreign indexes)."""
        if self.foreign:
            return None
        return [
            n
            for n in (self.text_field, self.metadata_field, self.doc_id_field, self.node_field)
            if n
        ]

    def from_fields(
        self,
        id: str,
        fields: Mapping[str, Any],
        *,
        vector: npt.NDArray[Any] | None = None,
        distance: float | None = None,
        similarity: float | None = None,
    ) -> StoredDocument:
        """Stored fields (a search hit's or a fetched record's) -> a `StoredDocument`."""
        text = fields.get(self.text_field)
        if vector is None and isinstance(fields.get(self.vector_field), np.ndarray):
            vector = cast(npt.NDArray[Any], fields[self.vector_field])
        raw_metadata = fields.get(self.metadata_field) if self.metadata_field else None
        if raw_metadata is not None:
            metadata = (
                json.loads(raw_metadata)
                if isinstance(raw_metadata, (str, bytes))
                else dict(raw_metadata)
            )
        elif self.foreign or not self.metadata_field:
            skip = self.reserved | {"id"}
            metadata = {
                k: v
                for k, v in fields.items()
                if k not in skip and not isinstance(v, (bytes, np.ndarray))
            }
        else:
            metadata = {}
        doc_id = fields.get(self.doc_id_field) if self.doc_id_field else None
        node = fields.get(self.node_field) if self.node_field else None
        return StoredDocument(
            id=id,
            text="" if text is None else str(text),
            metadata=metadata,
            vector=vector,
            doc_id=None if doc_id is None else str(doc_id),
            node=None if node is None else str(node),
            distance=distance,
            similarity=similarity,
        )

    def from_hit(self, hit: Hit, metric: str) -> StoredDocument:
        # One StoredDocument per hit (it runs for every hit of every query).
        distance = hit.distance
        return self.from_fields(
            hit.id,
            hit.fields,
            vector=hit.vector,
            distance=distance,
            similarity=None if distance is None else distance_to_similarity(distance, metric),
        )


def _guess_text_field(schema: IndexSchema) -> str:
    texts = [f.name for f in schema.fields if f.type == "text"]
    for preferred in ("text", "content", "page_content", "body", "document"):
        if preferred in texts:
            return preferred
    return texts[0] if texts else "text"


#: What ``json.dumps(..., ensure_ascii=False, allow_nan=True)`` builds on every call, built once
#: (a third of the cost of encoding a small metadata dict, once per document written).
_METADATA_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=True)


def _dump_metadata(metadata: Mapping[str, Any]) -> str:
    try:
        return _METADATA_ENCODER.encode(metadata)
    except (TypeError, ValueError):
        for key, value in metadata.items():
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"metadata key {key!r}: value {value!r} of type {type(value).__name__} cannot "
                    "be stored as JSON; convert it (e.g. a datetime to .isoformat()) first"
                ) from None
        raise
