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

import contextlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from redisvec.errors import KeySpaceError, SchemaError
from redisvec.filters import _TAG_TRIM, _UNQUERYABLE
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

__all__ = [
    "TAG_SEPARATOR",
    "DocumentLayout",
    "StoredDocument",
    "check_doc_id",
    "metadata_fields",
]

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
    ``__init__`` sets each attribute through ``object.__setattr__``, a cost paid per hit."""

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
    def peer(self) -> str | None:
        """Which official integration's layout this is (`redisvec.peers`); None: redisvec's own
        or another tool's fields."""
        return None

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
        if key_prefix == "":
            raise KeySpaceError(
                f"index {index_name!r}: key_prefix='' covers every key in the database, so the "
                "index would take in (and drop with its documents) every other application's "
                f"hashes; give a prefix such as {index_name + ':'!r} (or leave it out: the index "
                "name is the default)"
            )
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

    def to_records(
        self,
        texts: Sequence[str],
        vectors: Sequence[Any],
        metadatas: Sequence[Mapping[str, Any] | None],
        *,
        doc_ids: Sequence[str | None] | None = None,
        nodes: Sequence[str | None] | None = None,
        ids: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Documents -> records for `SearchIndex.load` (the sequences are parallel). ``ids`` are
        not stored by this layout (the key holds them); other tools' layouts store them
        (`redisvec.peers`).

        A batch at a time: what depends only on the layout is decided once, not per document.
        """
        text_field, vector_field, metadata_field = (
            self.text_field,
            self.vector_field,
            self.metadata_field,
        )
        extra: list[tuple[str, Sequence[str | None]]] = [
            (name, values)
            for name, values in ((self.doc_id_field, doc_ids), (self.node_field, nodes))
            if name and values is not None
        ]
        indexed = [(f.name, f.type) for f in self.indexed]
        if self.doc_id_field and doc_ids is not None:
            for doc_id in doc_ids:
                if doc_id is not None:
                    check_doc_id(doc_id)
        records = []
        for i, (text, vector, metadata) in enumerate(zip(texts, vectors, metadatas, strict=True)):
            if type(metadata) is not dict:
                metadata = dict(metadata or {})
            record: dict[str, Any] = {text_field: text, vector_field: vector}
            if metadata_field:
                record[metadata_field] = _dump_metadata(metadata)
            for name, values in extra:
                if values[i] is not None:
                    record[name] = values[i]
            for name, kind in indexed:
                value = metadata.get(name)
                if value is None:
                    continue
                if type(value) is str or type(value) is int or type(value) is float:
                    if value == "":
                        continue  # not indexed, so "is missing / is empty" filters find it
                    record[name] = value if kind != "text" or type(value) is str else str(value)
                else:
                    _indexed_value(record, name, kind, value)
            records.append(record)
        return records

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
        text, metadata = self.text_and_metadata(fields)
        if vector is None and isinstance(fields.get(self.vector_field), np.ndarray):
            vector = cast(npt.NDArray[Any], fields[self.vector_field])
        doc_id = fields.get(self.doc_id_field) if self.doc_id_field else None
        node = fields.get(self.node_field) if self.node_field else None
        return StoredDocument(
            id=id,
            text=text,
            metadata=metadata,
            vector=vector,
            doc_id=None if doc_id is None else str(doc_id),
            node=None if node is None else str(node),
            distance=distance,
            similarity=similarity,
        )

    def text_and_metadata(self, fields: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The text and the metadata of stored fields (all LangChain reads of a search hit)."""
        metadata_field = self.metadata_field
        raw = fields.get(metadata_field) if metadata_field else None
        if raw is None and (self.foreign or not metadata_field):
            skip = self.reserved | {"id"}
            metadata = {
                k: v
                for k, v in fields.items()
                if k not in skip and not isinstance(v, (bytes, np.ndarray))
            }
            return _text_of(fields.get(self.text_field)), metadata
        return self.text_and_metadata_of(fields.get(self.text_field), raw)

    @property
    def row_fields(self) -> tuple[str, ...] | None:
        """The fields whose values `text_and_metadata_of` (with the doc-id and node fields)
        reads, for `SearchIndex.search_rows`; None when this layout needs every field of a hit
        (another tool's index, or a peer's layout: `text_and_metadata`)."""
        if type(self) is not DocumentLayout or self.foreign or not self.metadata_field:
            return None
        return tuple(n for n in (self.text_field, self.metadata_field, self.doc_id_field,
                                 self.node_field) if n)  # fmt: skip

    @staticmethod
    def text_and_metadata_of(text: Any, metadata: Any) -> tuple[str, dict[str, Any]]:
        """`text_and_metadata` given the values of this layout's own text and metadata fields."""
        if type(text) is str and type(metadata) is str:  # a search hit's, read for every hit
            return text, load_json(metadata)
        if metadata is None:
            return _text_of(text), {}
        if isinstance(metadata, (str, bytes)):
            return _text_of(text), load_json(metadata)
        return _text_of(text), dict(metadata)

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


def _text_of(value: Any) -> str:
    return "" if value is None else value if type(value) is str else str(value)


def check_doc_id(doc_id: str) -> None:
    """Refuse a document id (LlamaIndex ``ref_doc_id``) that the tag index cannot match exactly.

    The server trims whitespace from tag values when it indexes them, and cannot match control
    characters at all: ``"doc "`` would be deleted by, and delete with, ``"doc"`` and ``" doc"``,
    and ``"doc\x01"`` could never be deleted. Checked where it is written and where it is looked
    up, so a stored document id is always exactly the one its nodes are deleted by."""
    if not doc_id:
        problem = "is empty"
    elif doc_id.strip(_TAG_TRIM) != doc_id:
        problem = "starts or ends with whitespace"
    elif _UNQUERYABLE.search(doc_id):
        problem = "contains a control character"
    else:
        return
    raise SchemaError(
        f"document id (ref_doc_id) {doc_id!r} {problem}, which the server's tag index cannot "
        "match exactly (it trims whitespace and cannot match control characters), so its nodes "
        "could not be deleted by it without also deleting, or missing, others; strip or replace "
        "those characters in the document id"
    )


def _indexed_value(record: dict[str, Any], name: str, kind: str, value: Any) -> None:
    """What `to_records` stores for an indexed metadata value that is not a plain str or number."""
    if isinstance(value, (str, list, tuple)) and len(value) == 0:
        return  # not indexed, so "is missing / is empty" filters find it
    if isinstance(value, Mapping):
        raise SchemaError(
            f"metadata field {name!r} is indexed as {kind} but its value is a dict ({value!r}); "
            "index a scalar (or a list for tags) instead"
        )
    if kind == "text" and not isinstance(value, str):
        value = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    record[name] = value


def _guess_text_field(schema: IndexSchema) -> str:
    texts = [f.name for f in schema.fields if f.type == "text"]
    for preferred in ("text", "content", "page_content", "body", "document"):
        if preferred in texts:
            return preferred
    return texts[0] if texts else "text"


def _json_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, ensure_ascii=False)``, minus its per-call set-up.

    ``JSONEncoder.encode`` builds a C encoder on every call, half of the cost of encoding a small
    metadata dict, once per document written; this one is built once. Without
    a circular-reference check (that needs per-call state): a cycle raises RecursionError, which
    `_dump_metadata` reports like any unencodable value. The C encoder is an implementation
    detail of the json module, so it is checked against ``JSONEncoder`` before use.
    """
    encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=True)
    make = getattr(json.encoder, "c_make_encoder", None)
    try:
        fast = make(  # type: ignore[misc]
            None, encoder.default, json.encoder.encode_basestring, None, ": ", ", ",
            False, False, True,
        )  # fmt: skip
        sample = {"é": [1, 2.5, -1e300, True, None, "\x1f\n"], "": {"k": float("inf")}}
        if "".join(fast(sample, 0)) == encoder.encode(sample):
            return lambda value: "".join(fast(value, 0))
    except Exception:  # no C encoder, or another signature: the public way below
        pass
    return encoder.encode


_encode_json = _json_encoder()
_DECODER: Any = json.JSONDecoder()  # its scanner (set up per instance) is what json.loads runs
_scan_json: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once


def load_json(text: str | bytes) -> Any:
    """``json.loads(text)`` without its per-call checks, for a small metadata dict once per
    search hit. The scanner parses one value at the start of the string; whatever it does not fully
    consume (whitespace around the value, errors) takes ``json.loads`` for its exact result."""
    if type(text) is str:
        try:
            value, end = _scan_json(text, 0)
        except (StopIteration, ValueError):
            pass
        else:
            if end == len(text):
                return value
    return json.loads(text)


def _check_keys(metadata: Mapping[Any, Any], path: str = "metadata") -> None:
    """Refuse a key that is not a string, at any depth: JSON would turn ``1`` into ``"1"`` (so
    ``metadata[1]`` would not read back) and cannot store ``(1, 2)`` at all."""
    for key, value in metadata.items():
        if type(key) is not str:
            parts = key if isinstance(key, tuple) else (key,)
            raise SchemaError(
                f"{path} key {key!r} ({type(key).__name__}) is not a string: metadata is stored "
                "as JSON, whose keys are strings, so it would not read back as given; use a "
                f"string key (e.g. {'_'.join(map(str, parts))!r})"
            )
        if isinstance(value, dict):
            _check_keys(value, f"{path}[{key!r}]")
        elif type(value) is list or type(value) is tuple:
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    _check_keys(item, f"{path}[{key!r}][{i}]")


def _dump_metadata(metadata: Mapping[str, Any]) -> str:
    try:
        text: str = _encode_json(metadata)
    except (TypeError, ValueError, RecursionError):
        with contextlib.suppress(RecursionError):  # a circular value: reported just below
            _check_keys(metadata)
        for key, value in metadata.items():
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"metadata key {key!r}: value {value!r} of type {type(value).__name__} cannot "
                    "be stored as JSON; convert it (e.g. a datetime to .isoformat()) first"
                ) from None
        raise
    _check_keys(metadata)  # after encoding, which proved the metadata has no cycle
    return text
