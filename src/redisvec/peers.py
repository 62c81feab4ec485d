"""The storage layouts of the official integrations, recognised, read and written faithfully.

Users switch to redisvec with indexes that langchain-redis, llama-index-vector-stores-redis or
redisvl wrote. Re-embedding them is slow and costly, so a store that opens such an index serves it
in its writer's layout: the writer's ids, its metadata types (from its JSON copy where it kept
one), LlamaIndex relationships and ``ref_doc_id``; the writer's bookkeeping fields never show up as
metadata. Documents redisvec adds are written in that layout too, so the old code (and the other
package) still finds them. `migrate` rewrites such an index into redisvec's own layout, copying
the vectors (nothing is re-embedded), resumable from a checkpoint.

What each writer stores (read from their sources; docs/migration.md has the full tables):

- **langchain-redis** (``RedisVectorStore``): HASH (or JSON) under ``<index_name>:<id>``, FT
  prefix ``<index_name>:``; fields ``text`` (TEXT), ``embedding`` (VECTOR, FLAT / COSINE /
  FLOAT32 by default), ``_index_name`` (TEXT: the index name; its searches filter on it),
  ``_metadata_json`` (TEXT: ``json.dumps(metadata)``), and every metadata key as its own field
  (lists joined with ``|``, None skipped).
- **llama-index-vector-stores-redis**: HASH under ``llama_index/vector_<node_id>`` (prefix
  ``llama_index/vector``, key separator ``_``); fields ``id`` (TAG: node id), ``doc_id`` (TAG:
  ``ref_doc_id``, ``"None"`` without one), ``text`` (TEXT), ``vector`` (VECTOR, FLAT / COSINE /
  FLOAT32, 1536 dims by default), ``_node_content`` (the node as JSON, text emptied, metadata
  inside), ``_node_type``, ``document_id``, ``ref_doc_id``, and each metadata key flat.
- **redisvl**: whatever schema the user wrote; keys ``<prefix><key_separator><id>``. Read with
  the generic reader of `DocumentLayout.for_existing` (every stored field is metadata).

The layouts are `DocumentLayout` subclasses: the adapters call the same methods whatever the
layout, and the core never imports either framework (the LlamaIndex node JSON is built here as
plain JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from redisvec.errors import SchemaError
from redisvec.layout import DocumentLayout, StoredDocument, load_json
from redisvec.schema import Field, IndexSchema, TagField, VectorField

__all__ = [
    "LANGCHAIN_REDIS",
    "LLAMA_INDEX_REDIS",
    "LangChainRedisLayout",
    "LlamaIndexRedisLayout",
    "MigrationProgress",
    "amigrate",
    "layout_for",
    "migrate",
    "needs_sample",
    "recognise",
    "schema_from",
    "switch_aliases",
]

LANGCHAIN_REDIS = "langchain-redis"
LLAMA_INDEX_REDIS = "llama-index-vector-stores-redis"

#: langchain-redis' bookkeeping fields.
_LC_INDEX_NAME = "_index_name"
_LC_METADATA_JSON = "_metadata_json"
#: What llama-index-vector-stores-redis stores besides the metadata keys.
_LI_BOOKKEEPING = ("id", "doc_id", "_node_content", "_node_type", "document_id", "ref_doc_id")
_LI_NO_DOC = "None"  # what LlamaIndex writes as the doc id of a node without a source document
_LI_DEFAULT_PREFIX = "llama_index/vector"
_LI_DEFAULT_SEPARATOR = "_"


def _flat(value: Any, separator: str) -> Any:
    """A metadata value as the writers store it in its own field: lists joined with the tag
    separator, everything else as it is (None: not stored)."""
    if isinstance(value, (list, tuple)):
        return separator.join(map(str, value))
    return value


@dataclass(frozen=True)
class LangChainRedisLayout(DocumentLayout):
    """langchain-redis' layout (see the module docstring). ``index_tag`` is the value of its
    ``_index_name`` field: the index name, which its own searches filter on."""

    index_tag: str = ""
    tag_separator: str = "|"

    @property
    def peer(self) -> str:
        return LANGCHAIN_REDIS

    @property
    def reserved(self) -> set[str]:
        return {self.text_field, self.vector_field, _LC_INDEX_NAME, _LC_METADATA_JSON}

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
        indexed = {f.name: f for f in self.indexed}
        records = []
        for text, vector, metadata in zip(texts, vectors, metadatas, strict=True):
            metadata = dict(metadata or {})
            record: dict[str, Any] = {
                self.text_field: text,
                self.vector_field: vector,
                _LC_INDEX_NAME: self.index_tag,
                _LC_METADATA_JSON: json.dumps(metadata),
            }
            for name, value in metadata.items():
                if value is None or name in record:
                    continue
                fld = indexed.get(name)
                if fld is not None and fld.type == "tag" and isinstance(value, (list, tuple)):
                    record[name] = list(map(str, value))  # the store joins with its separator
                else:
                    record[name] = _flat(value, self.tag_separator)
            records.append(record)
        return records

    @property
    def return_fields(self) -> list[str] | None:
        # What langchain-redis' own searches return: the text and every indexed field.
        return [self.text_field, _LC_METADATA_JSON, *(f.name for f in self.indexed)]

    def text_and_metadata(self, fields: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        text = fields.get(self.text_field)
        raw = fields.get(_LC_METADATA_JSON)
        metadata: dict[str, Any] | None = None
        if isinstance(raw, (str, bytes)):
            try:
                loaded = json.loads(raw)
                metadata = loaded if isinstance(loaded, dict) else None
            except ValueError:
                metadata = None
        if (
            metadata is None
        ):  # no JSON copy: the flat fields, numbers read back as langchain-redis does
            metadata = {
                k: _number_or_text(v)
                for k, v in fields.items()
                if k not in self.reserved
                and not k.startswith("_")
                and not isinstance(v, (bytes, np.ndarray))
            }
        return ("" if text is None else str(text)), metadata


def _number_or_text(value: Any) -> Any:
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        if value.replace(".", "", 1).isdigit():
            return float(value)
    return value


#: The fields of a TextNode's JSON that LlamaIndex writes (``node.model_dump(mode="json")``), for
#: documents that reach a LlamaIndex layout without a node (written through the LangChain adapter).
_TEXT_NODE_DEFAULTS: dict[str, Any] = {
    "embedding": None,
    "excluded_embed_metadata_keys": [],
    "excluded_llm_metadata_keys": [],
    "relationships": {},
    "metadata_template": "{key}: {value}",
    "metadata_separator": "\n",
    "text": "",
    "mimetype": "text/plain",
    "start_char_idx": None,
    "end_char_idx": None,
    "text_template": "{metadata_str}\n\n{content}",
    "class_name": "TextNode",
}


@dataclass(frozen=True)
class LlamaIndexRedisLayout(DocumentLayout):
    """llama-index-vector-stores-redis' layout (see the module docstring)."""

    text_field: str = "text"
    vector_field: str = "vector"
    metadata_field: str | None = None
    doc_id_field: str | None = "doc_id"
    node_field: str | None = "_node_content"
    id_field: str = "id"
    tag_separator: str = ","

    @property
    def peer(self) -> str:
        return LLAMA_INDEX_REDIS

    @property
    def reserved(self) -> set[str]:
        return {self.text_field, self.vector_field, self.id_field, *_LI_BOOKKEEPING}

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
        if ids is None:
            raise ValueError("the LlamaIndex layout stores each node's id: pass ids")
        count = len(texts)
        doc_ids = doc_ids if doc_ids is not None else [None] * count
        nodes = nodes if nodes is not None else [None] * count
        indexed = {f.name: f for f in self.indexed}
        records = []
        for text, vector, metadata, id_, doc_id, node in zip(
            texts, vectors, metadatas, ids, doc_ids, nodes, strict=True
        ):
            metadata = dict(metadata or {})
            content = _node_content(id_, metadata, doc_id, node)
            ref = doc_id or _LI_NO_DOC
            record: dict[str, Any] = {}
            for name, value in metadata.items():
                if value is None:
                    continue
                fld = indexed.get(name)
                if fld is not None and fld.type == "tag" and isinstance(value, (list, tuple)):
                    record[name] = list(map(str, value))
                else:
                    record[name] = _flat(value, self.tag_separator)
            record.update(
                {
                    self.id_field: id_,
                    self.text_field: text,
                    self.vector_field: vector,
                    "_node_content": content,
                    "_node_type": str(load_json(content).get("class_name", "TextNode")),
                    "document_id": ref,
                    "doc_id": ref,
                    "ref_doc_id": ref,
                }
            )
            records.append(record)
        return records

    @property
    def return_fields(self) -> list[str] | None:
        # What LlamaIndex's own queries return (the metadata is inside _node_content).
        return [self.id_field, "doc_id", self.text_field, "_node_content"]

    def from_fields(
        self,
        id: str,
        fields: Mapping[str, Any],
        *,
        vector: npt.NDArray[Any] | None = None,
        distance: float | None = None,
        similarity: float | None = None,
    ) -> StoredDocument:
        # The base reading, then what this writer stores its own way: the node id in a field,
        # "None" / "" for a node without a document, LlamaIndex's own node JSON.
        doc = super().from_fields(
            id, fields, vector=vector, distance=distance, similarity=similarity
        )
        node_id = fields.get(self.id_field)
        if node_id:
            doc.id = str(node_id)
        if doc.doc_id in ("", _LI_NO_DOC):
            doc.doc_id = None
        if doc.node is not None:
            doc.node = _our_node_json(doc.node)
        return doc

    def text_and_metadata(self, fields: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        text = fields.get(self.text_field)
        node = fields.get("_node_content")
        metadata: Any = None
        if isinstance(node, (str, bytes)):
            try:
                metadata = load_json(node).get("metadata")
            except (ValueError, AttributeError):
                metadata = None
        if not isinstance(metadata, dict):
            metadata = {
                k: v
                for k, v in fields.items()
                if k not in self.reserved and not isinstance(v, (bytes, np.ndarray))
            }
        return ("" if text is None else str(text)), metadata


def _node_content(id_: str, metadata: dict[str, Any], doc_id: str | None, node: str | None) -> str:
    """``_node_content`` as LlamaIndex writes it: the node's JSON with its metadata, the text
    emptied and no embedding. ``node`` is redisvec's node JSON (the LlamaIndex adapter's: no
    text, metadata or embedding), or None for a document without one."""
    if node:
        data = load_json(node)
        data.pop("text_resource", None)
    else:
        data = {"id_": id_}
        data.update(json.loads(json.dumps(_TEXT_NODE_DEFAULTS)))
        if doc_id:
            data["relationships"] = {
                "1": {
                    "node_id": doc_id,
                    "node_type": None,
                    "metadata": {},
                    "hash": None,
                    "class_name": "RelatedNodeInfo",
                }
            }
    data["id_"] = id_
    data["embedding"] = None
    data["metadata"] = metadata
    data["text"] = ""
    return json.dumps(data, ensure_ascii=False)


def _our_node_json(content: str) -> str:
    """LlamaIndex's ``_node_content`` -> what `redisvec.llama_index.nodes.to_node` reads (it puts
    the text, metadata and embedding back itself)."""
    try:
        data = load_json(content)
    except ValueError:
        return content
    if not isinstance(data, dict):
        return content
    for name in ("metadata", "text", "embedding"):
        data.pop(name, None)
    return json.dumps(data, ensure_ascii=False)


# -- recognising a layout ------------------------------------------------------------------------


def _tag_separator(schema: IndexSchema, default: str) -> str:
    for f in schema.fields:
        if isinstance(f, TagField) and f.separator:
            return f.separator
    return default


def _is_langchain_redis(schema: IndexSchema) -> bool:
    types = schema.field_types
    return (
        types.get(_LC_INDEX_NAME) == "text"
        and types.get(_LC_METADATA_JSON) == "text"
        and bool(schema.vector_fields)
    )


def _is_llama_index(schema: IndexSchema) -> bool:
    types = schema.field_types
    return (
        types.get("id") == "tag"
        and types.get("doc_id") == "tag"
        and types.get("text") == "text"
        and types.get("vector") == "vector"
    )


def needs_sample(schema: IndexSchema) -> bool:
    """Whether recognising ``schema`` needs one stored document (LlamaIndex: its key separator,
    which the server does not record)."""
    return _is_llama_index(schema)


def recognise(
    schema: IndexSchema, sample: tuple[str, Mapping[str, Any]] | None = None
) -> tuple[IndexSchema, DocumentLayout] | None:
    """``(schema, layout)`` if ``schema`` (an index read from the server) was written by one of the
    official integrations, else None. ``sample``: one stored document, ``(key, fields)``: for
    LlamaIndex, where the key separator is read from (its key is prefix + separator + ``id``)."""
    if _is_langchain_redis(schema):
        text = next(
            (
                f.name
                for f in schema.fields
                if f.type == "text" and f.name not in (_LC_INDEX_NAME, _LC_METADATA_JSON)
            ),
            "text",
        )
        vector = schema.vector_field.name
        indexed = tuple(
            f
            for f in schema.fields
            if f.name not in (text, vector, _LC_INDEX_NAME, _LC_METADATA_JSON)
        )
        return schema, LangChainRedisLayout(
            text_field=text,
            vector_field=vector,
            metadata_field=None,
            doc_id_field=None,
            node_field=None,
            indexed=indexed,
            foreign=True,
            index_tag=schema.name,
            tag_separator="|",
        )
    if _is_llama_index(schema):
        schema = replace(schema, key_separator=_llama_separator(schema, sample))
        indexed = tuple(
            f for f in schema.fields if f.name not in ("id", "doc_id", "text", "vector")
        )
        return schema, LlamaIndexRedisLayout(
            indexed=indexed, foreign=True, tag_separator=_tag_separator(schema, ",")
        )
    return None


def _llama_separator(schema: IndexSchema, sample: tuple[str, Mapping[str, Any]] | None) -> str:
    prefix = schema.prefixes[0] if schema.prefixes else schema.name
    if sample is not None:
        key, fields = sample
        node_id = fields.get("id")
        if isinstance(node_id, str) and key.startswith(prefix) and key.endswith(node_id):
            return key[len(prefix) : len(key) - len(node_id)]
    if prefix == _LI_DEFAULT_PREFIX:
        return _LI_DEFAULT_SEPARATOR
    return schema.key_separator


def layout_for(
    schema: IndexSchema,
    sample: tuple[str, Mapping[str, Any]] | None = None,
    *,
    text_field: str | None = None,
    vector_field: str | None = None,
) -> tuple[IndexSchema, DocumentLayout]:
    """The schema and layout to serve an existing index with: its writer's, when recognised,
    else `DocumentLayout.for_existing` (redisvec's own, or any other tool's fields)."""
    if text_field is None and vector_field is None:
        found = recognise(schema, sample)
        if found is not None:
            return found
    return schema, DocumentLayout.for_existing(
        schema, text_field=text_field, vector_field=vector_field
    )


def schema_from(value: Any) -> IndexSchema:
    """``schema=`` as switching users pass it: a redisvec `IndexSchema`, a redisvl-style dict, a
    YAML path or text, or a redisvl ``IndexSchema`` object (anything with ``to_dict()``)."""
    if isinstance(value, IndexSchema):
        return value
    if isinstance(value, Mapping):
        return IndexSchema.from_dict(_without_version(value))
    if isinstance(value, str) or hasattr(value, "__fspath__"):
        return IndexSchema.from_yaml(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return IndexSchema.from_dict(_without_version(to_dict()))
    raise SchemaError(
        f"schema must be a redisvec IndexSchema, a dict, a YAML path or a redisvl IndexSchema, "
        f"not {type(value).__name__}"
    )


def named_schema(value: Any, index_name: str | None) -> tuple[IndexSchema | None, str | None]:
    """An adapter's ``schema=`` (see `schema_from`; None: not given) and ``index_name=``, which
    must agree when both are given: the schema and the index name to use."""
    if value is None:
        return None, index_name
    schema = schema_from(value)
    if index_name is not None and index_name != schema.name:
        raise ValueError(
            f"index_name={index_name!r} but schema names index {schema.name!r}; pass one"
        )
    return schema, schema.name


def switch_aliases(
    kwargs: Mapping[str, Any],
    aliases: Mapping[str, str],
    refused: Mapping[str, str],
    given: Mapping[str, Any],
    where: str = "RedisVectorStore()",
) -> dict[str, Any]:
    """A constructor's extra keywords: ``aliases`` (another integration's spelling -> ours) fill
    ``given`` (our options, None where not passed); a spelling in ``refused`` raises a TypeError
    naming redisvec's equivalent; any other keyword raises a TypeError naming it (an ignored
    keyword would silently change what the store does)."""
    out = dict(given)
    problems: list[str] = []
    unknown: list[str] = []
    for name, value in kwargs.items():
        if name in aliases:
            ours = aliases[name]
            if out.get(ours) is not None:
                problems.append(f"both {name}= and {ours}= were given; pass only {ours}=")
            out[ours] = value
        elif name in refused:
            problems.append(f"{name}= is not a redisvec option; use {refused[name]}")
        else:
            unknown.append(name)
    if unknown:
        problems.insert(0, f"unexpected keyword argument(s) {sorted(unknown)}")
    if problems:
        raise TypeError(f"{where}: " + "; ".join(problems))
    return out


def _without_version(data: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out.pop("version", None)
    return out


# -- migration to redisvec's own layout ----------------------------------------------------------


@dataclass(frozen=True)
class MigrationProgress:
    """Where a migration stands, given to its ``progress`` callback after each batch.
    ``checkpoint`` resumes it (``migrate(..., resume_from=progress.checkpoint)``); it is None
    once every document is copied."""

    copied: int
    total: int
    checkpoint: int | None


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def target_schema(
    source: IndexSchema, source_layout: DocumentLayout, index_name: str, key_prefix: str | None
) -> tuple[IndexSchema, DocumentLayout]:
    """redisvec's layout for the documents of ``source``: same vector settings, same indexed
    metadata fields, none of the writer's bookkeeping."""
    vf = source.fields_by_name[source_layout.vector_field]
    assert isinstance(vf, VectorField)
    bookkeeping = source_layout.reserved | {"id", "doc_id", "metadata", "node"}
    indexed: tuple[Field, ...] = tuple(
        f for f in source_layout.indexed if f.name not in bookkeeping and f.type != "vector"
    )
    layout = DocumentLayout(indexed=indexed)
    schema = layout.build_schema(
        index_name=index_name,
        dims=vf.dims,
        key_prefix=key_prefix,
        storage=source.storage,
        distance_metric=vf.distance_metric,
        algorithm=vf.algorithm,
        datatype=vf.datatype,
    )
    return schema, layout


Progress = Callable[[MigrationProgress], None]


def _check_apart(source: IndexSchema, target: IndexSchema) -> None:
    """Two indexes over overlapping key prefixes both index every key under them: the copies
    would show up in the source (and be copied again), the originals in the target."""
    for a in source.key_prefixes:
        for b in target.key_prefixes:
            if a.startswith(b) or b.startswith(a):
                raise ValueError(
                    f"target prefix {b!r} and source prefix {a!r} overlap: each index would also "
                    "index the other's documents; pass a target_prefix outside the source's"
                )


def _scan_args(schema: IndexSchema, cursor: int, batch_size: int) -> tuple[Any, ...]:
    return ("SCAN", cursor, "MATCH", _glob_escape(schema.key_prefix) + "*", "COUNT", batch_size)


def _convert(
    source: IndexSchema,
    layout: DocumentLayout,
    target_layout: DocumentLayout,
    keys: Sequence[str],
    fetched: Sequence[dict[str, Any] | None],
) -> tuple[list[dict[str, Any]], list[str]]:
    docs = [
        layout.from_fields(source.id_from_key(k), fields)
        for k, fields in zip(keys, fetched, strict=True)
        if fields is not None and layout.vector_field in fields
    ]
    records = target_layout.to_records(
        [d.text for d in docs],
        [d.vector for d in docs],
        [d.metadata for d in docs],
        doc_ids=[d.doc_id for d in docs],
        nodes=[d.node for d in docs],
    )
    return records, [d.id for d in docs]


def _decode_scan(reply: Any) -> tuple[int, list[str]]:
    cursor, raw = reply
    return int(cursor), [k.decode() if isinstance(k, bytes) else str(k) for k in raw]


def migrate(
    client: Any,
    index_name: str,
    target_index: str,
    *,
    target_prefix: str | None = None,
    batch_size: int = 500,
    resume_from: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Copy every document of index ``index_name`` (any layout `recognise` knows, or redisvec's)
    into a new index ``target_index`` in redisvec's own layout; returns how many were copied.

    Vectors are copied as stored, never recomputed: no embedding model is involved. Ids, texts,
    metadata (with the types the writer kept), LlamaIndex ``ref_doc_id`` and node JSON carry
    over. The source is not changed: delete it (``FT.DROPINDEX <name> DD``) when satisfied.

    Resumable: ``progress`` gets a `MigrationProgress` after each batch is written; an
    interrupted migration (an error, or an exception raised by ``progress``) continues with
    ``resume_from=<its last checkpoint>``. Documents are walked with ``SCAN`` over the source's
    key prefix, whose cursor is the checkpoint; a document may be copied twice, which is an
    idempotent upsert. Documents added to the source during the migration may be missed.
    """
    from redisvec.index import SearchIndex

    existing = SearchIndex.from_existing(client, index_name).schema
    sample = _sample(SearchIndex(existing, client)) if needs_sample(existing) else None
    source, layout = layout_for(existing, sample)
    schema, target_layout = target_schema(source, layout, target_index, target_prefix)
    _check_apart(source, schema)
    target = SearchIndex(schema, client)
    target.create(exist_ok=True)
    reader = SearchIndex(source, client)
    total = reader.count()
    cursor = 0 if resume_from is None else resume_from
    copied = 0
    while True:
        cursor, keys = _decode_scan(client.execute_command(*_scan_args(source, cursor, batch_size)))
        if keys:
            fetched = reader.fetch([source.id_from_key(k) for k in keys])
            records, ids = _convert(source, layout, target_layout, keys, fetched)
            if records:
                target.load(records, ids=ids, batch_size=batch_size)
                copied += len(records)
        if progress is not None:
            progress(MigrationProgress(copied, total, cursor or None))
        if cursor == 0:
            return copied


async def amigrate(
    client: Any,
    index_name: str,
    target_index: str,
    *,
    target_prefix: str | None = None,
    batch_size: int = 500,
    resume_from: int | None = None,
    progress: Progress | None = None,
) -> int:
    """Async twin of `migrate` (on ``redis.asyncio``)."""
    from redisvec.index import AsyncSearchIndex

    existing = (await AsyncSearchIndex.from_existing(client, index_name)).schema
    sample = await _asample(AsyncSearchIndex(existing, client)) if needs_sample(existing) else None
    source, layout = layout_for(existing, sample)
    schema, target_layout = target_schema(source, layout, target_index, target_prefix)
    _check_apart(source, schema)
    target = AsyncSearchIndex(schema, client)
    await target.create(exist_ok=True)
    reader = AsyncSearchIndex(source, client)
    total = await reader.count()
    cursor = 0 if resume_from is None else resume_from
    copied = 0
    while True:
        reply = await client.execute_command(*_scan_args(source, cursor, batch_size))
        cursor, keys = _decode_scan(reply)
        if keys:
            fetched = await reader.fetch([source.id_from_key(k) for k in keys])
            records, ids = _convert(source, layout, target_layout, keys, fetched)
            if records:
                await target.load(records, ids=ids, batch_size=batch_size)
                copied += len(records)
        if progress is not None:
            progress(MigrationProgress(copied, total, cursor or None))
        if cursor == 0:
            return copied


def _sample_query() -> Any:
    from redisvec.query import FilterQuery

    return FilterQuery(None, return_fields=["id"], limit=1)


def _first(result: Any) -> tuple[str, Mapping[str, Any]] | None:
    return (result.hits[0].key, result.hits[0].fields) if result.hits else None


def _sample(index: Any) -> tuple[str, Mapping[str, Any]] | None:
    """One stored document of ``index`` (a `SearchIndex`), ``(key, fields)``, or None."""
    return _first(index.search(_sample_query()))


async def _asample(index: Any) -> tuple[str, Mapping[str, Any]] | None:
    return _first(await index.search(_sample_query()))
