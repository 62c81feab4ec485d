"""`RedisVectorStore`: a LlamaIndex vector store on redisvec's core.

The store is a thin layer: nodes are split over the shared `redisvec.layout.DocumentLayout`
(see `redisvec.llama_index.nodes`), MetadataFilters become core filter expressions
(`redisvec.llama_index.filters`), every query is a core query, and the sync and async methods are
twins over `SearchIndex` / `AsyncSearchIndex` that share everything but the I/O.

The index is created on first use (its dimension taken from the first node's embedding unless
``dims`` is given); an existing index is checked against what was asked for. ``overwrite=True``
drops the existing index and its documents exactly once, at that first use, whichever of the sync
or async methods comes first.

Similarities are higher-is-closer: vector modes report
`redisvec.results.distance_to_similarity` (cosine / ip: ``1 - distance`` clipped to [0, 1];
l2: ``1 / (1 + euclidean distance)``), TEXT_SEARCH the BM25 score, HYBRID the fused score of
the core's `redisvec.hybrid.HybridQuery` (linear with ``alpha`` by default, RRF on request).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)

from redisvec import evolve
from redisvec.connection import AsyncClient, ConnectionConfig, Connections, SyncClient
from redisvec.filters import FilterExpression, Tag
from redisvec.hybrid import HybridQuery
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.layout import (
    DocumentLayout,
    StoredDocument,
    check_doc_id,
    metadata_fields,
)
from redisvec.llama_index.filters import Nothing, Where, to_filter_expression
from redisvec.llama_index.nodes import NodeReader, node_parts, to_node
from redisvec.managed import ManagedIndex
from redisvec.mmr import mmr_rerank
from redisvec.peers import named_schema, switch_aliases
from redisvec.query import Query, RangeQuery, TextQuery, VectorQuery, positive_int
from redisvec.results import Rows, SearchResult, similarity_function
from redisvec.schema import Field, IndexSchema, check_id_list

__all__ = ["RedisVectorStore"]

Mode = VectorStoreQueryMode
SUPPORTED_MODES = (Mode.DEFAULT, Mode.MMR, Mode.TEXT_SEARCH, Mode.HYBRID)
_QUERY_OPTIONS = frozenset(
    {
        "distance_threshold",
        "epsilon",
        "mmr_prefetch_k",
        "mmr_prefetch_factor",
        "ef_runtime",
        "fusion",
        "rrf_constant",
    }
)
_FETCH_BATCH = 1000

#: llama-index-vector-stores-redis spellings that mean what ours do.
_LLAMA_ALIASES = {"redis_client_async": "async_client", "index_args": "vector_options"}
#: Its spellings redisvec does not take, and what to use instead.
_LLAMA_REFUSED = {
    "return_fields": "nothing: every stored field is read (query results carry full nodes)",
    "legacy_filters": "nothing: MetadataFilters are always rendered with escaping",
    "index_prefix": "key_prefix=",
    "prefix_ending": "key_prefix= (keys are <key_prefix><node id>)",
    "metadata_fields": "metadata_schema=[{'name': ..., 'type': 'tag' | 'numeric' | ...}]",
}


def _mode(query: VectorStoreQuery) -> VectorStoreQueryMode:
    """The query's mode (a member already, unless given by value)."""
    mode = query.mode
    return mode if type(mode) is Mode else Mode(mode)


@dataclass
class _Plan:
    """The core queries one VectorStoreQuery needs, and how to turn their results into one."""

    mode: VectorStoreQueryMode
    queries: list[Query]
    k: int
    layout: DocumentLayout
    metric: str = "cosine"
    empty: bool = False
    lambda_mult: float = 0.5
    hybrid: HybridQuery | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class RedisVectorStore(BasePydanticVectorStore):
    """Redis (Query Engine) vector store for LlamaIndex.

    >>> store = RedisVectorStore(index_name="docs", redis_url="redis://localhost:6379",
    ...                          metadata_schema=[{"name": "year", "type": "numeric"}])  # doctest: +SKIP
    >>> index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(
    ...     vector_store=store))  # doctest: +SKIP

    ``metadata_schema`` lists the metadata keys to index for filtering (``{"name", "type": "tag" |
    "numeric" | "text" | "geo", ...options}``); all metadata is stored and returned either way.
    ``allow_shared_prefix=True`` lets the index this store creates cover keys another index
    covers too (refused otherwise: `KeySpaceError`).
    """

    stores_text: bool = True
    flat_metadata: bool = False
    index_name: str = "llama_index"
    distance_metric: str = "cosine"
    algorithm: str = "hnsw"
    datatype: str = "float32"
    storage_type: str = "hash"
    key_prefix: str | None = None
    dims: int | None = None
    overwrite: bool = False
    batch_size: int = 500

    # Private attributes of a pydantic model are read through its __getattr__ (slow), so
    # the paths every query takes read this one once, and pass what they need on.
    _managed: ManagedIndex = PrivateAttr()

    def __init__(
        self,
        *,
        index_name: str | None = None,
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        metadata_schema: Sequence[Mapping[str, Any] | Field] | None = None,
        distance_metric: str | None = None,
        algorithm: str | None = None,
        datatype: str | None = None,
        storage_type: str | None = None,
        key_prefix: str | None = None,
        dims: int | None = None,
        overwrite: bool = False,
        vector_options: Mapping[str, Any] | None = None,
        batch_size: int = 500,
        connection_options: Mapping[str, Any] | None = None,
        allow_shared_prefix: bool = False,
        schema: Any = None,
        **kwargs: Any,
    ) -> None:
        """Options left out take the existing index's settings (any index, whichever tool made
        it, served in its writer's layout), or for a new index HNSW, COSINE, FLOAT32, HASH, key
        prefix ``<index_name>:``. ``index_name`` defaults to ``"llama_index"`` (LlamaIndex's).
        ``schema`` (a redisvec `IndexSchema`, a redisvl-style dict, a YAML path or a redisvl
        ``IndexSchema``) is the exact index to create; ``redis_client_async`` is accepted for
        ``async_client``. Unknown keywords raise a TypeError naming them."""
        given = switch_aliases(
            kwargs,
            _LLAMA_ALIASES,
            _LLAMA_REFUSED,
            {"async_client": async_client, "vector_options": vector_options},
        )
        async_client, vector_options = given["async_client"], given["vector_options"]
        fixed, index_name = named_schema(schema, index_name)
        index_name = index_name or "llama_index"
        options = {
            "storage": storage_type,
            "key_prefix": key_prefix,
            "distance_metric": distance_metric,
            "algorithm": algorithm,
            "datatype": datatype,
        }
        settings: dict[str, Any] = {
            "index_name": index_name,
            "distance_metric": (distance_metric or "cosine").lower(),
            "algorithm": (algorithm or "hnsw").lower(),
            "datatype": (datatype or "float32").lower(),
            "storage_type": (storage_type or "hash").lower(),
            "key_prefix": key_prefix,
            "dims": dims,
            "overwrite": overwrite,
            "batch_size": batch_size,
        }
        super().__init__(**settings)
        self._managed = ManagedIndex(
            Connections(
                redis_url,
                redis_client=redis_client,
                async_client=async_client,
                config=connection,
                **dict(connection_options or {}),
            ),
            DocumentLayout(indexed=tuple(metadata_fields(metadata_schema))),
            index_name=index_name,
            dims=dims,
            key_prefix=key_prefix,
            storage=self.storage_type,
            distance_metric=self.distance_metric,
            algorithm=self.algorithm,
            datatype=self.datatype,
            vector_options=vector_options,
            hint="Use the index's settings, another index_name, or overwrite=True (which "
            "deletes its documents).",
            use_index_fields=metadata_schema is None,  # else: filter on the fields asked for
            overwrite=overwrite,
            allow_shared_prefix=allow_shared_prefix,
            explicit={k for k, v in options.items() if v is not None},
            schema=fixed,
        )

    @classmethod
    def from_existing_index(
        cls,
        *,
        index_name: str = "llama_index",
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        text_field: str | None = None,
        vector_field: str | None = None,
        **kwargs: Any,
    ) -> RedisVectorStore:
        """Open an index that already exists (made by this store, the LangChain adapter or any
        other tool, served in its writer's layout): its schema is read from the server, its field
        names can be given. Raises `IndexNotFoundError` if it is missing."""
        store = cls(
            index_name=index_name,
            redis_url=redis_url,
            redis_client=redis_client,
            async_client=async_client,
            **kwargs,
        )
        store._managed.open(text_field=text_field, vector_field=vector_field)
        return store

    @classmethod
    async def afrom_existing_index(
        cls,
        *,
        index_name: str = "llama_index",
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        text_field: str | None = None,
        vector_field: str | None = None,
        **kwargs: Any,
    ) -> RedisVectorStore:
        """Async `from_existing_index`."""
        store = cls(
            index_name=index_name,
            redis_url=redis_url,
            redis_client=redis_client,
            async_client=async_client,
            **kwargs,
        )
        await store._managed.aopen(text_field=text_field, vector_field=vector_field)
        return store

    # -- the index, with llama-index-vector-stores-redis' names -----------------------------------

    def index_exists(self) -> bool:
        """Whether the index exists on the server (nothing is created)."""
        return SearchIndex(self._probe_schema(), self.client).exists()

    async def async_index_exists(self) -> bool:
        return await AsyncSearchIndex(self._probe_schema(), self.async_client).exists()

    def _probe_schema(self) -> IndexSchema:
        return self._managed.schema or self._managed.plan(self.dims or 1)

    def _create_check(self, overwrite: bool | None) -> None:
        if overwrite:
            self._managed.forget()
            self._managed._overwrite = True

    def create_index(self, overwrite: bool | None = None) -> None:
        """Create the index now (``overwrite=True``: drop an existing one and its documents)."""
        self._create_check(overwrite)
        if self._managed.index() is None:
            raise ValueError(f"create_index: pass dims= to create index {self.index_name!r}")

    async def async_create_index(self, overwrite: bool | None = None) -> None:
        self._create_check(overwrite)
        if await self._managed.aindex() is None:
            raise ValueError(f"create_index: pass dims= to create index {self.index_name!r}")

    def delete_index(self) -> None:
        """Drop the index and every document in it (the next add() creates it again)."""
        self._managed.drop(delete_documents=True)

    async def async_delete_index(self) -> None:
        await self._managed.adrop(delete_documents=True)

    @classmethod
    def class_name(cls) -> str:
        return "RedisVectorStore"

    @property
    def client(self) -> SyncClient:
        """The sync redis client."""
        return self._managed.connections.sync

    @property
    def async_client(self) -> AsyncClient:
        return self._managed.connections.async_

    @property
    def index_schema(self) -> IndexSchema | None:
        """The index's schema once the index exists (None before the first write)."""
        return self._managed.schema

    @property
    def layout(self) -> DocumentLayout:
        return self._managed.layout

    def close(self) -> None:
        self._managed.connections.close()

    async def aclose(self) -> None:
        await self._managed.connections.aclose()

    # -- writing ----------------------------------------------------------------------------------

    def _records(self, nodes: Sequence[BaseNode]) -> list[dict[str, Any]]:
        texts, metadatas, doc_ids, node_jsons = zip(*map(node_parts, nodes), strict=True)
        return self._managed.layout.to_records(
            texts,
            _embeddings(nodes),
            metadatas,
            doc_ids=doc_ids,
            nodes=node_jsons,
            ids=[node.node_id for node in nodes],
        )

    def _stream(self, nodes: Sequence[BaseNode]) -> Iterator[dict[str, Any]]:
        """The nodes' records, made a batch at a time as the load reads them (each holds the
        node's JSON: made all at once they would double the nodes' memory)."""
        size = self.batch_size
        for start in range(0, len(nodes), size):
            yield from self._records(nodes[start : start + size])

    def add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """Upsert ``nodes`` (with embeddings); returns their node ids. Written ``batch_size`` at
        a time, streamed (`SearchIndex.load`): ``progress`` (a keyword) is called with the number
        of nodes each batch wrote."""
        if not nodes:
            return []
        ids = [node.node_id for node in nodes]
        first = self.batch_size  # the first batch's vectors decide a new index's dimension
        index = self._managed.writable(_embeddings(nodes[:first]), ids[:first])
        # records are made after `writable`: the index, opened now, has its writer's layout
        index.load(self._stream(nodes), ids=ids, **self._load_options(kwargs))
        return ids

    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        if not nodes:
            return []
        ids = [node.node_id for node in nodes]
        first = self.batch_size
        index = await self._managed.awritable(_embeddings(nodes[:first]), ids[:first])
        await index.load(self._stream(nodes), ids=ids, **self._load_options(kwargs))
        return ids

    def _load_options(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "ttl": kwargs.get("ttl"),
            "progress": kwargs.get("progress"),
        }

    # -- selecting records: by node id and / or filter ---------------------------------------------

    def _where(
        self,
        filters: MetadataFilters | None,
        schema: IndexSchema | None = None,
        layout: DocumentLayout | None = None,
    ) -> Where:
        if schema is None or layout is None:
            schema, layout = self._managed.schema, self._managed.layout
        assert schema is not None
        doc_id_field = layout.doc_id_field
        aliases = {"ref_doc_id": doc_id_field} if doc_id_field else {}
        return to_filter_expression(filters, schema, aliases=aliases)

    def _doc_filter(self, ref_doc_id: str) -> FilterExpression:
        doc_id_field = self._managed.layout.doc_id_field
        if not doc_id_field:
            raise ValueError(
                f"index {self.index_name!r} has no document-id field (it was not written by "
                "redisvec), so nodes cannot be deleted by ref_doc_id; use delete_nodes(node_ids)"
            )
        return Tag(doc_id_field) == ref_doc_id

    def _select(self, node_ids: Sequence[str] | None, keys: Sequence[str] | None) -> list[str]:
        """Ids of the records selected by node ids and / or matching keys (None: not given)."""
        if keys is None:
            return list(dict.fromkeys(node_ids or ()))
        schema = self._managed.schema
        assert schema is not None
        found = [schema.id_from_key(k) for k in keys]
        if node_ids is None:
            return found
        wanted = set(node_ids)
        return [i for i in found if i in wanted]

    def _nodes(
        self, ids: Sequence[str], fetched: Sequence[dict[str, Any] | None]
    ) -> list[BaseNode]:
        layout = self._managed.layout
        return [
            to_node(layout.from_fields(i, fields), with_embedding=True)
            for i, fields in zip(ids, fetched)
            if fields is not None
        ]

    def _keys(self, index: SearchIndex, where: Where) -> list[str]:
        """Every matching key, through a cursor (not capped by the server's MAXSEARCHRESULTS)."""
        if isinstance(where, Nothing):
            return []
        return [k for batch in index.iter_keys(where) for k in batch]

    async def _akeys(self, index: AsyncSearchIndex, where: Where) -> list[str]:
        if isinstance(where, Nothing):
            return []
        return [k async for batch in index.iter_keys(where) for k in batch]

    def get_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        """Nodes by id and / or filter (with embeddings); both None: every node."""
        check_id_list(node_ids, "node_ids")
        index = self._managed.index()
        if index is None or node_ids == []:
            return []
        keys = self._keys(index, self._where(filters)) if filters or node_ids is None else None
        ids = self._select(node_ids, keys)
        nodes: list[BaseNode] = []
        for start in range(0, len(ids), _FETCH_BATCH):
            batch = ids[start : start + _FETCH_BATCH]
            nodes += self._nodes(batch, index.fetch(batch))
        return nodes

    async def aget_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        check_id_list(node_ids, "node_ids")
        index = await self._managed.aindex()
        if index is None or node_ids == []:
            return []
        keys = (
            await self._akeys(index, self._where(filters)) if filters or node_ids is None else None
        )
        ids = self._select(node_ids, keys)
        nodes: list[BaseNode] = []
        for start in range(0, len(ids), _FETCH_BATCH):
            batch = ids[start : start + _FETCH_BATCH]
            nodes += self._nodes(batch, await index.fetch(batch))
        return nodes

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node of document ``ref_doc_id``, however many (and no other: a document
        id the tag index cannot match exactly is refused, here as when written)."""
        check_doc_id(ref_doc_id)
        index = self._managed.index()
        if index is not None:
            index.delete_where(self._doc_filter(ref_doc_id))

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        check_doc_id(ref_doc_id)
        index = await self._managed.aindex()
        if index is not None:
            await index.delete_where(self._doc_filter(ref_doc_id))

    def _check_delete(self, node_ids: list[str] | None, filters: MetadataFilters | None) -> None:
        check_id_list(node_ids, "node_ids")
        if node_ids is None and filters is None:
            raise ValueError(
                "delete_nodes needs node_ids and / or filters; to delete every node use clear()"
            )

    def delete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **delete_kwargs: Any,
    ) -> None:
        """Delete the nodes with these ids and / or matching ``filters`` (both: the intersection)."""
        self._check_delete(node_ids, filters)
        index = self._managed.index()
        if index is None or node_ids == []:
            return
        keys = self._keys(index, self._where(filters)) if filters is not None else None
        index.delete(self._select(node_ids, keys))

    async def adelete_nodes(
        self,
        node_ids: list[str] | None = None,
        filters: MetadataFilters | None = None,
        **delete_kwargs: Any,
    ) -> None:
        self._check_delete(node_ids, filters)
        index = await self._managed.aindex()
        if index is None or node_ids == []:
            return
        keys = await self._akeys(index, self._where(filters)) if filters is not None else None
        await index.delete(self._select(node_ids, keys))

    def update_metadata(
        self,
        node_ids: list[str] | None,
        metadata: Mapping[str, Any],
        *,
        filters: MetadataFilters | None = None,
    ) -> int:
        """Merge ``metadata`` into the metadata of the nodes with these ids and / or matching
        ``filters`` (both: the intersection; both None: every node); a value of None removes the
        key. Texts, embeddings and relationships are untouched (nothing is embedded again), and
        filters on the changed keys see the new values at once. Returns how many nodes were
        updated (ids that do not exist are skipped). See `redisvec.evolve.update_metadata`."""
        check_id_list(node_ids, "node_ids")
        index = self._managed.index()
        if index is None or node_ids == []:
            return 0
        keys = self._keys(index, self._where(filters)) if filters or node_ids is None else None
        ids = self._select(node_ids, keys)
        return evolve.update_metadata(index, ids, metadata, layout=self._managed.layout)

    async def aupdate_metadata(
        self,
        node_ids: list[str] | None,
        metadata: Mapping[str, Any],
        *,
        filters: MetadataFilters | None = None,
    ) -> int:
        check_id_list(node_ids, "node_ids")
        index = await self._managed.aindex()
        if index is None or node_ids == []:
            return 0
        where = self._where(filters)
        keys = await self._akeys(index, where) if filters or node_ids is None else None
        ids = self._select(node_ids, keys)
        return await evolve.aupdate_metadata(index, ids, metadata, layout=self._managed.layout)

    def clear(self) -> None:
        """Delete every node; the index stays."""
        index = self._managed.index()
        if index is not None:
            index.clear()

    async def aclear(self) -> None:
        index = await self._managed.aindex()
        if index is not None:
            await index.clear()

    # -- querying ---------------------------------------------------------------------------------

    @staticmethod
    def _check_query(query: VectorStoreQuery, options: Mapping[str, Any]) -> None:
        """Errors that do not depend on the index, raised even before it exists."""
        unknown = sorted(set(options) - _QUERY_OPTIONS)
        if unknown:
            raise TypeError(
                f"RedisVectorStore.query() got unknown keyword(s) {unknown}; it accepts "
                f"{sorted(_QUERY_OPTIONS)}"
            )
        mode = _mode(query)
        if mode not in SUPPORTED_MODES:
            raise ValueError(
                f"query mode {mode.value!r} is not supported by RedisVectorStore; supported modes: "
                f"{', '.join(m.value for m in SUPPORTED_MODES)}"
            )
        positive_int("similarity_top_k", query.similarity_top_k)
        check_id_list(query.node_ids, "VectorStoreQuery.node_ids")
        check_id_list(query.doc_ids, "VectorStoreQuery.doc_ids")
        for doc_id in query.doc_ids or ():
            check_doc_id(doc_id)

    def _plan(
        self,
        query: VectorStoreQuery,
        options: Mapping[str, Any],
        schema: IndexSchema,
        managed: ManagedIndex,
    ) -> _Plan:
        mode = _mode(query)
        k = positive_int("similarity_top_k", query.similarity_top_k)
        layout = managed.layout
        where_or_nothing = self._where(query.filters, schema, layout)
        if isinstance(where_or_nothing, Nothing):
            return _Plan(mode, [], k, layout, empty=True)
        where = where_or_nothing
        if query.doc_ids:
            if not layout.doc_id_field:
                raise ValueError(
                    f"index {self.index_name!r} has no document-id field: doc_ids cannot be used"
                )
            where = Tag(layout.doc_id_field).one_of(query.doc_ids) & where
        # An empty node_ids / doc_ids list restricts nothing: VectorIndexRetriever sends
        # node_ids=[] when the user gave none.
        ids = list(query.node_ids) if query.node_ids else None
        fields = layout.return_fields
        queries: list[Query] = []
        plan = _Plan(mode, queries, k, layout, managed.metric(schema))

        if mode == Mode.HYBRID:
            plan.hybrid = self._hybrid(query, options, where, ids, k)
            return plan
        if mode in (Mode.DEFAULT, Mode.MMR):
            if query.query_embedding is None:
                raise ValueError(f"query mode {mode.value!r} needs query.query_embedding")
            fetch_k = k
            if mode == Mode.MMR:
                plan.lambda_mult = (
                    0.5 if query.mmr_threshold is None else float(query.mmr_threshold)
                )
                factor = float(options.get("mmr_prefetch_factor", 4.0))
                fetch_k = int(options.get("mmr_prefetch_k") or max(k, math.ceil(k * factor)))
            threshold = options.get("distance_threshold")
            if threshold is None and options.get("epsilon") is not None:
                raise ValueError(
                    "epsilon applies to distance_threshold (range) queries; for KNN queries use "
                    "ef_runtime"
                )
            vector_field = query.embedding_field or layout.vector_field
            vq: Query
            if threshold is not None:
                vq = RangeQuery(
                    query.query_embedding,
                    float(threshold),
                    k=fetch_k,
                    filter=where,
                    vector_field=vector_field,
                    return_fields=fields,
                    return_vector=mode == Mode.MMR,
                    epsilon=options.get("epsilon"),
                    ids=ids,
                )
            else:
                vq = VectorQuery(
                    query.query_embedding,
                    k=fetch_k,
                    filter=where,
                    vector_field=vector_field,
                    return_fields=fields,
                    return_vector=mode == Mode.MMR,
                    ef_runtime=options.get("ef_runtime"),
                    ids=ids,
                )
            queries.append(vq)
        if mode == Mode.TEXT_SEARCH:
            if not query.query_str or not query.query_str.strip():
                raise ValueError(
                    f"query mode {mode.value!r} needs query.query_str (the words to search)"
                )
            plan.k = positive_int("sparse_top_k", query.sparse_top_k or k)
            queries.append(
                TextQuery(
                    query.query_str,
                    k=plan.k,
                    text_field=layout.text_field,
                    filter=where,
                    return_fields=fields,
                    ids=ids,
                )
            )
        return plan

    def _hybrid(
        self,
        query: VectorStoreQuery,
        options: Mapping[str, Any],
        where: FilterExpression | None,
        ids: list[str] | None,
        k: int,
    ) -> HybridQuery:
        """HYBRID: the core's `HybridQuery`. LlamaIndex's conventions: ``alpha`` weighs the
        vector side (0: BM25 only, 1: vector only; default 0.5) with linear fusion unless the
        ``fusion="rrf"`` option says otherwise; ``similarity_top_k`` vector candidates,
        ``sparse_top_k`` text candidates (default: similarity_top_k), ``hybrid_top_k`` results
        (default: similarity_top_k). Without words to search for it runs as a vector search
        (`HybridFallbackWarning`)."""
        if query.query_embedding is None:
            raise ValueError("query mode 'hybrid' needs query.query_embedding")
        if options.get("distance_threshold") is not None or options.get("epsilon") is not None:
            raise ValueError(
                "distance_threshold / epsilon do not apply to HYBRID queries (their vector side "
                "is a KNN search; use ef_runtime)"
            )
        layout = self._managed.layout
        return HybridQuery(
            query.query_str,
            query.query_embedding,
            k=positive_int("hybrid_top_k", query.hybrid_top_k or k),
            filter=where,
            fusion=options.get("fusion", "linear"),
            alpha=0.5 if query.alpha is None else float(query.alpha),
            rrf_constant=options.get("rrf_constant", 60),
            vector_k=k,
            text_k=positive_int("sparse_top_k", query.sparse_top_k or k),
            text_field=layout.text_field,
            vector_field=query.embedding_field or layout.vector_field,
            return_fields=layout.return_fields,
            ef_runtime=options.get("ef_runtime"),
            ids=ids,
        )

    @staticmethod
    def _docs(plan: _Plan, result: SearchResult) -> list[StoredDocument]:
        from_hit, metric = plan.layout.from_hit, plan.metric
        return [from_hit(hit, metric) for hit in result.hits]

    @staticmethod
    def _finish(plan: _Plan, results: Sequence[SearchResult]) -> VectorStoreQueryResult:
        if plan.mode == Mode.DEFAULT:
            return _nearest(plan, _parts_of_hits(plan.layout, results[0]))
        scored: list[tuple[StoredDocument, float]]
        docs_of = RedisVectorStore._docs
        if plan.mode == Mode.MMR:
            scored = mmr_rerank(docs_of(plan, results[0]), plan.k, plan.lambda_mult)
        elif plan.mode == Mode.TEXT_SEARCH:
            scored = [
                (plan.layout.from_fields(h.id, h.fields), h.score or 0.0) for h in results[0].hits
            ]
        else:  # HYBRID: one fused result
            scored = [
                (plan.layout.from_fields(h.id, h.fields), h.score or 0.0) for h in results[0].hits
            ]
        return VectorStoreQueryResult(
            nodes=[to_node(d) for d, _ in scored],
            similarities=[float(s) for _, s in scored],
            ids=[d.id for d, _ in scored],
        )

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """Run ``query`` (modes DEFAULT, MMR, TEXT_SEARCH, HYBRID). Keyword options:
        ``distance_threshold`` (only records within that server distance: for L2 the squared
        Euclidean distance), ``epsilon`` (HNSW, with ``distance_threshold``: HNSW range queries
        are approximate and can miss records within the threshold; a larger epsilon, server
        default 0.01, explores further and finds more of the true range, at some cost in speed;
        FLAT is exact), ``mmr_prefetch_k`` / ``mmr_prefetch_factor`` (MMR candidates, default
        4 x top k), ``ef_runtime`` (HNSW, KNN), ``fusion`` (HYBRID: ``"linear"``, the default,
        weighs by ``query.alpha``; ``"rrf"``: reciprocal rank fusion) and ``rrf_constant``.
        TEXT_SEARCH returns ``sparse_top_k`` hits (default ``similarity_top_k``)."""
        self._check_query(query, kwargs)
        managed = self._managed
        index = managed.index()
        if index is None:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        plan = self._plan(query, kwargs, index.schema, managed)
        if plan.empty:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        if plan.hybrid is not None:
            return self._finish(plan, [index.hybrid_search(plan.hybrid)])
        names = plan.layout.row_fields if plan.mode == Mode.DEFAULT else None
        if names is not None:
            rows = index.search_rows(plan.queries[0], names)
            return _nearest(plan, _parts_of_rows(plan.layout, rows, names))
        return self._finish(plan, [index.search(q) for q in plan.queries])

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        self._check_query(query, kwargs)
        managed = self._managed
        index = await managed.aindex()
        if index is None:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        plan = self._plan(query, kwargs, index.schema, managed)
        if plan.empty:
            return VectorStoreQueryResult(nodes=[], similarities=[], ids=[])
        if plan.hybrid is not None:
            return self._finish(plan, [await index.hybrid_search(plan.hybrid)])
        names = plan.layout.row_fields if plan.mode == Mode.DEFAULT else None
        if names is not None:
            rows = await index.search_rows(plan.queries[0], names)
            return _nearest(plan, _parts_of_rows(plan.layout, rows, names))
        return self._finish(plan, [await index.search(q) for q in plan.queries])


def _embeddings(nodes: Sequence[BaseNode]) -> list[Any]:
    """The nodes' embeddings; a node without one is refused (nothing of its batch is written)."""
    embeddings = [node.embedding for node in nodes]
    if None in embeddings:
        node = nodes[embeddings.index(None)]
        raise ValueError(
            f"node {node.node_id!r} has no embedding; embed nodes before adding them "
            "(VectorStoreIndex does this with its embed_model)"
        )
    return embeddings


#: What DEFAULT mode reads of a hit: its id, distance, text, metadata, document id, node JSON.
_Parts = tuple[str, float | None, str, Any, Any, Any]


def _nearest(plan: _Plan, hits: Iterable[_Parts]) -> VectorStoreQueryResult:
    """DEFAULT mode's result: what ``to_node(layout.from_hit(hit, metric))`` and its similarity
    make of each hit, built from its parts without a `StoredDocument` in between (this runs for
    every hit of every query)."""
    similarity = similarity_function(plan.metric)
    read_node = NodeReader()
    nodes: list[BaseNode] = []
    similarities: list[float] = []
    ids: list[str] = []
    for id_, distance, text, metadata, doc_id, node in hits:
        nodes.append(
            read_node(
                id_,
                text,
                metadata if type(metadata) is dict else dict(metadata),
                None if doc_id is None else str(doc_id),
                None if node is None else str(node),
            )
        )
        similarities.append(0.0 if distance is None else similarity(distance))
        ids.append(id_)
    return VectorStoreQueryResult(nodes=nodes, similarities=similarities, ids=ids)


def _parts_of_hits(layout: DocumentLayout, result: SearchResult) -> Iterator[_Parts]:
    """`_nearest`'s parts of each hit of a search (any layout: `text_and_metadata`)."""
    read = layout.text_and_metadata
    doc_id_field, node_field = layout.doc_id_field, layout.node_field
    for hit in result.hits:
        fields = hit.fields
        text, metadata = read(fields)  # a dict of its own, parsed from the stored JSON
        doc_id = fields.get(doc_id_field) if doc_id_field else None
        node = fields.get(node_field) if node_field else None
        yield hit.id, hit.distance, text, metadata, doc_id, node


def _parts_of_rows(layout: DocumentLayout, rows: Rows, names: Sequence[str]) -> Iterator[_Parts]:
    """`_nearest`'s parts of `SearchIndex.search_rows`' rows of ``names``
    (`DocumentLayout.row_fields`: the text and the metadata, then the document id and the node
    JSON where the layout has them)."""
    read = layout.text_and_metadata_of
    at = {name: i for i, name in enumerate(names, start=2)}
    doc_at = at.get(layout.doc_id_field or "")
    node_at = at.get(layout.node_field or "")
    for row in rows.rows:
        text, metadata = read(row[2], row[3])
        doc_id = row[doc_at] if doc_at else None
        node = row[node_at] if node_at else None
        yield row[0], row[1], text, metadata, doc_id, node
