"""`RedisVectorStore`: a LangChain ``VectorStore`` on redisvec's core.

A thin layer: the core's `DocumentLayout` decides what is stored (so the LlamaIndex adapter reads
what this one writes), `SearchIndex` / `AsyncSearchIndex` do the I/O, the core's query builders
and codec validate before anything is sent. This module only turns LangChain calls into those.

Every sync method has a native async twin (``redis.asyncio``, no thread pool); what the twins
share (schema resolution, query building, hit -> Document, MMR) is plain code called by both.

Scores: ``similarity_search_with_score`` returns the server's distance (lower is closer: cosine
``1 - cos``, IP ``1 - dot``, L2 the *squared* Euclidean distance). Relevance scores
(``similarity_search_with_relevance_scores``, the ``similarity_score_threshold`` retriever) are
`redisvec.results.distance_to_similarity`: in [0, 1], higher is closer, for every metric.

The index: opened and checked against the request when it exists (a disagreement is a
`SchemaMismatchError` showing both sides); otherwise created on first use, with the dimension of
the first embedding when ``dims`` is not given. Until then reads find nothing.
"""

from __future__ import annotations

import asyncio
import uuid
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore, VectorStoreRetriever

from redisvec import evolve
from redisvec._pydantic import assemble, same_model
from redisvec.connection import AsyncClient, ConnectionConfig, SyncClient, clients_from
from redisvec.errors import IndexNotFoundError
from redisvec.filters import FilterExpression, value_key
from redisvec.hybrid import HybridQuery, HybridResult
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.langchain.filters import from_dict
from redisvec.layout import DocumentLayout, metadata_fields
from redisvec.managed import ManagedIndex
from redisvec.memo import LangChainFilterKey, memo_put
from redisvec.mmr import mmr_rerank
from redisvec.peers import named_schema, switch_aliases
from redisvec.query import Query, RangeQuery, VectorQuery
from redisvec.results import Rows, SearchResult, distance_to_similarity
from redisvec.schema import Field, IndexSchema, check_id_list

__all__ = ["RedisVectorStore", "RedisVectorStoreRetriever"]

#: ``filter=``: a LangChain dict (escaped), a redisvec `FilterExpression` (escaped), or a str,
#: which is RAW Redis query syntax sent unescaped: never build one from user input.
Filter = FilterExpression | Mapping[str, Any] | str | None

#: langchain-redis spellings that mean what ours do.
_LANGCHAIN_ALIASES = {
    "embeddings": "embedding",
    "indexing_algorithm": "algorithm",
    "vector_datatype": "datatype",
    "embedding_dimensions": "dims",
}
#: langchain-redis spellings redisvec does not take, and what to use instead.
_LANGCHAIN_REFUSED = {
    "config": "pass the options as keywords (index_name=, redis_url=, ...) or schema=",
    "index_schema": "schema=",
    "schema_path": "schema='path.yaml'",
    "from_existing": "RedisVectorStore.from_existing_index(...), or just index_name=",
    "ttl": "add_texts(..., ttl=seconds)",
    "connection_args": "connection=ConnectionConfig(...) or redis_client=",
    "content_field": "from_existing_index(text_field=...) or schema=",
    "embedding_field": "from_existing_index(vector_field=...) or schema=",
    "id_field": "ids are the key suffix; pass ids= to add_texts",
    "default_tag_separator": "metadata_schema=[{'name': ..., 'type': 'tag', 'separator': ...}]",
    "return_keys": "add_texts returns the ids",
    "custom_keys": "add_texts(..., ids=[...])",
    "keys": "add_texts(..., ids=[...])",
    "legacy_key_format": "key_prefix= (keys are <key_prefix><id>)",
}


class RedisVectorStore(VectorStore):
    """LangChain vector store on a Redis Query Engine index (HASH or JSON documents).

    >>> store = RedisVectorStore(embeddings, index_name="docs", redis_url="redis://localhost:6379",
    ...     metadata_schema=[{"name": "category", "type": "tag"}, {"name": "year", "type": "numeric"}])
    >>> store.add_texts(["..."], metadatas=[{"category": "faq", "year": 2024}])   # doctest: +SKIP
    >>> store.similarity_search("question", k=5, filter={"year": {"$gte": 2020}})  # doctest: +SKIP

    ``metadata_schema`` lists the metadata keys to index for filtering (``tag``, ``text``,
    ``numeric``, ``geo``); the whole metadata is stored as well and comes back with its types.
    Connect with ``redis_url`` (or ``connection=ConnectionConfig(...)``), or pass clients
    (``redis_client`` and/or ``async_client``; a missing one is derived, TLS included).
    ``allow_shared_prefix=True`` lets the index this store creates cover keys another index
    covers too (refused otherwise: `KeySpaceError`).

    ``filter=`` takes a LangChain dict (see `redisvec.langchain.filters`) or a redisvec
    `FilterExpression`, whose values are escaped. **A string filter is raw Redis query syntax,
    sent to the server unescaped: never put user input in one** (``*``, ``|``, ``$name``, ``)``
    in it change the query); use a dict for values you did not write yourself.
    """

    def __init__(
        self,
        embedding: Embeddings | None = None,
        *,
        index_name: str | None = None,
        redis_url: str | None = None,
        redis_client: SyncClient | None = None,
        async_client: AsyncClient | None = None,
        connection: ConnectionConfig | None = None,
        connection_options: Mapping[str, Any] | None = None,
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
        allow_shared_prefix: bool = False,
        schema: Any = None,
        **kwargs: Any,
    ) -> None:
        """Options left out take the existing index's settings (any index, whichever tool made
        it: opened with only its name), or for a new index HNSW, COSINE, FLOAT32, HASH, key
        prefix ``<index_name>:``. ``schema`` (a redisvec `IndexSchema`, a redisvl-style dict, a
        YAML path or a redisvl ``IndexSchema``) is the exact index to create, for custom layouts.
        ``overwrite=True`` drops an existing index and its documents at first use (as in the
        LlamaIndex adapter); ``connection_options`` are extra redis-py client options (e.g.
        ``{"socket_timeout": 5}``) for the clients this store creates.
        langchain-redis spellings are accepted where they mean the same (``embeddings``,
        ``indexing_algorithm``, ``vector_datatype``, ``embedding_dimensions``); others raise a
        TypeError naming redisvec's equivalent."""
        given = switch_aliases(
            kwargs,
            _LANGCHAIN_ALIASES,
            _LANGCHAIN_REFUSED,
            {
                "embedding": embedding,
                "algorithm": algorithm,
                "datatype": datatype,
                "dims": dims,
            },
        )
        embedding, algorithm, datatype, dims = (
            given["embedding"],
            given["algorithm"],
            given["datatype"],
            given["dims"],
        )
        if embedding is None:
            raise TypeError("RedisVectorStore() needs an embedding (embeddings=) model")
        fixed, index_name = named_schema(schema, index_name)
        if not index_name:
            raise TypeError("RedisVectorStore() needs index_name= (or schema=)")
        options = {
            "storage": storage_type,
            "key_prefix": key_prefix,
            "distance_metric": distance_metric,
            "algorithm": algorithm,
            "datatype": datatype,
        }
        self.embedding = embedding
        self.index_name = index_name
        self.batch_size = batch_size
        self._managed = ManagedIndex(
            clients_from(
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
            storage=storage_type or "hash",
            distance_metric=distance_metric or "COSINE",
            algorithm=algorithm or "HNSW",
            datatype=datatype or "FLOAT32",
            vector_options=vector_options,
            overwrite=overwrite,
            allow_shared_prefix=allow_shared_prefix,
            hint="Use the index's settings, another index_name, or drop the index "
            "(drop_index()); to open an index made by another tool use from_existing_index().",
            explicit={k for k, v in options.items() if v is not None},
            schema=fixed,
        )

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        ttl: int | None = None,
        **kwargs: Any,
    ) -> RedisVectorStore:
        """A store (``kwargs`` are the constructor's) holding ``texts``."""
        store = cls(embedding, **kwargs)
        store.add_texts(texts, metadatas, ids=ids, ttl=ttl)
        return store

    @classmethod
    async def afrom_texts(
        cls,
        texts: list[str],
        embedding: Embeddings,
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        ttl: int | None = None,
        **kwargs: Any,
    ) -> RedisVectorStore:
        store = cls(embedding, **kwargs)
        await store.aadd_texts(texts, metadatas, ids=ids, ttl=ttl)
        return store

    @classmethod
    def from_existing_index(
        cls,
        embedding: Embeddings,
        *,
        index_name: str,
        text_field: str | None = None,
        vector_field: str | None = None,
        **kwargs: Any,
    ) -> RedisVectorStore:
        """Open an index that already exists, whichever tool made it; its schema is read from the
        server. ``text_field`` holds the text (default: ``text``, ``content``, ... or the first
        TEXT field) and ``vector_field`` the embedding (default: the first vector field); other
        stored fields come back as metadata. ``kwargs`` are the constructor's (``redis_url``,
        ``connection``, ...). Raises `IndexNotFoundError` if it is missing. ``content_field`` is
        a deprecated spelling of ``text_field``."""
        text_field = _text_field(text_field, kwargs)
        store = cls(embedding, index_name=index_name, **kwargs)
        store._managed.open(text_field=text_field, vector_field=vector_field)
        return store

    @classmethod
    async def afrom_existing_index(
        cls,
        embedding: Embeddings,
        *,
        index_name: str,
        text_field: str | None = None,
        vector_field: str | None = None,
        **kwargs: Any,
    ) -> RedisVectorStore:
        """Async `from_existing_index`."""
        text_field = _text_field(text_field, kwargs)
        store = cls(embedding, index_name=index_name, **kwargs)
        await store._managed.aopen(text_field=text_field, vector_field=vector_field)
        return store

    # -- the index -------------------------------------------------------------------------------

    @property
    def embeddings(self) -> Embeddings:
        return self.embedding

    @property
    def index_schema(self) -> IndexSchema | None:
        """The index's schema once it is known (opened or created), else None."""
        return self._managed.schema

    @property
    def schema(self) -> IndexSchema | None:
        """Deprecated: `index_schema` (the LlamaIndex adapter's name)."""
        warnings.warn(
            "RedisVectorStore.schema is deprecated; use RedisVectorStore.index_schema",
            DeprecationWarning,
            stacklevel=2,
        )
        return self._managed.schema

    @property
    def index(self) -> SearchIndex:
        """The core `SearchIndex` (langchain-redis' ``store.index`` is redisvl's)."""
        index = self._managed.index()
        if index is None:
            raise IndexNotFoundError(
                f"index {self.index_name!r} does not exist yet: it is created by the first "
                "add_texts (or at construction with dims=... and a first write)"
            )
        return index

    @property
    def layout(self) -> DocumentLayout:
        """How documents are stored: redisvec's layout or, on an index another integration
        wrote, that writer's (`redisvec.peers`)."""
        return self._managed.layout

    def drop_index(self, *, delete_documents: bool = True, force: bool = False) -> None:
        """Drop the index (and, by default, its documents). The next write creates it again.
        While another index covers some of the same keys, dropping with the documents is refused
        (`KeySpaceError` naming it) unless ``force``."""
        self._managed.drop(delete_documents=delete_documents, force=force)

    async def adrop_index(self, *, delete_documents: bool = True, force: bool = False) -> None:
        await self._managed.adrop(delete_documents=delete_documents, force=force)

    def close(self) -> None:
        """Close the sync client if this store created it."""
        self._managed.connections.close()

    async def aclose(self) -> None:
        """Close every client this store created."""
        await self._managed.connections.aclose()

    # -- writing ---------------------------------------------------------------------------------

    def _ids(
        self,
        texts: Sequence[str],
        metadatas: Sequence[Mapping[str, Any]] | None,
        ids: Sequence[str | None] | None,
    ) -> list[str]:
        """Check the parallel arguments; each text's id (given, or a new random one)."""
        if metadatas is not None and len(metadatas) != len(texts):
            raise ValueError(f"{len(metadatas)} metadatas for {len(texts)} texts; pass one each")
        check_id_list(ids, "ids")
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids for {len(texts)} texts; pass one each")
        return [uuid.uuid4().hex if i is None else str(i) for i in (ids or [None] * len(texts))]

    def _records(
        self,
        texts: Sequence[str],
        vectors: Sequence[Any],
        metadatas: Sequence[Mapping[str, Any]] | None,
        ids: Sequence[str],
        start: int,
    ) -> list[dict[str, Any]]:
        """The records of ``texts`` (those from ``start`` of the call's), embedded as
        ``vectors``."""
        if len(vectors) != len(texts):
            raise ValueError(
                f"the embedding model returned {len(vectors)} vectors for {len(texts)} texts"
            )
        end = start + len(texts)
        metas = metadatas[start:end] if metadatas is not None else [{}] * len(texts)
        return self._managed.layout.to_records(texts, vectors, metas, ids=ids[start:end])

    def _stream(
        self,
        texts: Sequence[str],
        first: Sequence[Any],
        metadatas: Sequence[Mapping[str, Any]] | None,
        ids: Sequence[str],
        size: int,
    ) -> Iterator[dict[str, Any]]:
        """The records of ``texts``, embedded ``size`` at a time as the load reads them (the first
        batch's vectors are ``first``): only a few batches of vectors are ever held."""
        yield from self._records(texts[:size], first, metadatas, ids, 0)
        for start in range(size, len(texts), size):
            chunk = texts[start : start + size]
            vectors = self.embedding.embed_documents(list(chunk))
            yield from self._records(chunk, vectors, metadatas, ids, start)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        ttl: int | None = None,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Embed and upsert ``texts``; returns their ids (given, or generated). A document with an
        existing id is replaced. ``ttl`` (seconds) makes the documents expire.

        Texts are embedded ``batch_size`` at a time (the store's ``batch_size`` by default), each
        batch written while the next is embedded, so memory holds a few batches of vectors
        whatever the number of texts. ``progress`` is called with the number of documents each
        batch wrote. An error part-way (the embedding model's, an invalid metadata value) leaves
        the batches before it written."""
        _no_extra("add_texts", kwargs)
        texts = _text_list(texts)
        if not texts:
            return []
        size = batch_size or self.batch_size
        new_ids = self._ids(texts, metadatas, ids)
        first = self.embedding.embed_documents(texts[:size])
        index = self._managed.writable(first, new_ids[:size])
        # records are made after `writable`: the index, opened now, has its writer's layout
        records = self._stream(texts, first, metadatas, new_ids, size)
        return index.load(records, ids=new_ids, ttl=ttl, batch_size=size, progress=progress)

    async def aadd_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict[str, Any]] | None = None,
        *,
        ids: list[str] | None = None,
        ttl: int | None = None,
        batch_size: int | None = None,
        progress: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """`add_texts`, awaiting the model's ``aembed_documents``: the next batch is embedded
        while the last one is written."""
        _no_extra("aadd_texts", kwargs)
        texts = _text_list(texts)
        if not texts:
            return []
        size = batch_size or self.batch_size
        new_ids = self._ids(texts, metadatas, ids)
        vectors = await self.embedding.aembed_documents(texts[:size])
        index = await self._managed.awritable(vectors, new_ids[:size])
        for start in range(0, len(texts), size):
            chunk = texts[start : start + size]
            following = None
            if start + size < len(texts):
                following = asyncio.ensure_future(
                    self.embedding.aembed_documents(texts[start + size : start + 2 * size])
                )
            try:
                records = self._records(chunk, vectors, metadatas, new_ids, start)
                await index.load(
                    records, ids=new_ids[start : start + size], ttl=ttl, batch_size=size
                )
            except BaseException:
                if following is not None:
                    following.cancel()
                raise
            if progress is not None:
                progress(len(chunk))
            if following is not None:
                vectors = await following
        return new_ids

    def delete(self, ids: list[str] | None = None, *, filter: Filter = None, **kwargs: Any) -> bool:
        """Delete by ids; with ``ids=None``, every document matching ``filter`` (no filter: every
        document of the index; the index itself stays)."""
        _no_extra("delete", kwargs)
        check_id_list(ids, "ids")
        index = self._managed.index()
        if index is None:
            return True
        if ids is not None:
            index.delete(ids)
        else:
            index.delete_where(self._filter(filter))
        return True

    async def adelete(
        self, ids: list[str] | None = None, *, filter: Filter = None, **kwargs: Any
    ) -> bool:
        _no_extra("adelete", kwargs)
        check_id_list(ids, "ids")
        index = await self._managed.aindex()
        if index is None:
            return True
        if ids is not None:
            await index.delete(ids)
        else:
            await index.delete_where(self._filter(filter))
        return True

    # -- metadata updates (no re-embedding) -------------------------------------------------------

    def update_metadata(
        self,
        ids: list[str] | None,
        metadata: Mapping[str, Any],
        *,
        filter: Filter = None,
    ) -> int:
        """Merge ``metadata`` into the stored metadata of the documents ``ids`` or, with
        ``ids=None``, of every document matching ``filter`` (no filter: every document); a
        value of None removes the key. Texts and embeddings are untouched (nothing is embedded),
        filters on the changed keys see the new values at once. Returns how many documents were
        updated (ids that do not exist are skipped). See `redisvec.evolve.update_metadata`."""
        check_id_list(_update_ids(ids, filter), "ids")
        index = self._managed.index()
        if index is None or ids == []:
            return 0
        layout = self._managed.layout
        if ids is not None:
            return evolve.update_metadata(index, ids, metadata, layout=layout)
        return evolve.update_where(index, self._filter(filter), metadata, layout=layout)

    async def aupdate_metadata(
        self,
        ids: list[str] | None,
        metadata: Mapping[str, Any],
        *,
        filter: Filter = None,
    ) -> int:
        check_id_list(_update_ids(ids, filter), "ids")
        index = await self._managed.aindex()
        if index is None or ids == []:
            return 0
        layout = self._managed.layout
        if ids is not None:
            return await evolve.aupdate_metadata(index, ids, metadata, layout=layout)
        return await evolve.aupdate_where(index, self._filter(filter), metadata, layout=layout)

    # -- reading by id ---------------------------------------------------------------------------

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order asked, skipping ids that do not exist."""
        check_id_list(ids, "ids")
        index = self._managed.index()
        if index is None or not ids:
            return []
        return self._fetched(ids, index.fetch(ids))

    async def aget_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        check_id_list(ids, "ids")
        index = await self._managed.aindex()
        if index is None or not ids:
            return []
        return self._fetched(ids, await index.fetch(ids))

    def _fetched(
        self, ids: Sequence[str], fetched: Sequence[dict[str, Any] | None]
    ) -> list[Document]:
        return [
            _document(i, *self._managed.layout.text_and_metadata(fields))
            for i, fields in zip(ids, fetched, strict=True)
            if fields is not None
        ]

    # -- searching -------------------------------------------------------------------------------

    def _metric(self) -> str:
        return self._managed.metric()

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        """Distance -> relevance in [0, 1] for this index's metric (`distance_to_similarity`)."""
        return lambda distance: distance_to_similarity(distance, self._metric())

    def _filter(self, flt: Filter) -> FilterExpression | str | None:
        if flt is None or isinstance(flt, (FilterExpression, str)):
            return flt
        if isinstance(flt, Mapping):
            schema = self._managed.schema
            if schema is None:
                return from_dict(flt, {})  # raises: no field is indexed yet
            # A dict filter as the query text the index's fields give it, translated and rendered
            # once per distinct dict and schema.
            cache = schema.memo(LangChainFilterKey)
            value = value_key(flt)
            key = None if value is None else LangChainFilterKey(value)
            text: str | None = cache.get(key) if key is not None else None
            if text is None:
                text = from_dict(flt, schema.field_types).render(schema.fields_by_name)
                if key is not None:
                    memo_put(cache, key, text)
            return text
        raise TypeError(
            f"filter must be a dict (LangChain style), a redisvec FilterExpression or a query "
            f"string, not {type(flt).__name__}"
        )

    def _query(
        self,
        vector: Sequence[float],
        k: int,
        flt: Filter,
        distance_threshold: float | None,
        ef_runtime: int | None,
        epsilon: float | None = None,
        *,
        return_vector: bool = False,
    ) -> VectorQuery | RangeQuery:
        layout = self._managed.layout
        common: dict[str, Any] = {
            "filter": self._filter(flt),
            "vector_field": layout.vector_field,
            "return_fields": _read_fields(layout) or layout.return_fields,
            "return_vector": return_vector,
        }
        if distance_threshold is None:
            if epsilon is not None:
                raise ValueError(
                    "epsilon applies to distance_threshold (range) searches; for KNN searches "
                    "use ef_runtime"
                )
            return VectorQuery(vector, k=k, ef_runtime=ef_runtime, **common)
        if ef_runtime is not None:
            raise ValueError(
                "ef_runtime applies to KNN searches; a distance_threshold search is a range query "
                "(pass one or the other; its HNSW knob is epsilon)"
            )
        return RangeQuery(vector, distance_threshold, k=k, epsilon=epsilon, **common)

    def _scored(self, result: SearchResult) -> list[tuple[Document, float]]:
        # The distance is returned: the similarity, the vector and the rest would go unused.
        read = self._managed.layout.text_and_metadata
        scored = []
        for hit in result.hits:
            text, metadata = read(hit.fields)
            scored.append((_document(hit.id, text, metadata), hit.distance or 0.0))
        return scored

    @staticmethod
    def _scored_rows(rows: Rows, layout: DocumentLayout) -> list[tuple[Document, float]]:
        # `_scored` of `SearchIndex.search_rows`' rows: the text and metadata are the first two
        # of `DocumentLayout.row_fields`.
        read = layout.text_and_metadata_of
        scored = []
        for row in rows.rows:
            text, metadata = read(row[2], row[3])
            scored.append((_document(row[0], text, metadata), row[1] or 0.0))
        return scored

    def _search(self, index: SearchIndex, query: Query) -> list[tuple[Document, float]]:
        layout = self._managed.layout
        names = _read_fields(layout)
        if names is None:
            return self._scored(index.search(query))
        return self._scored_rows(index.search_rows(query, names), layout)

    async def _asearch(self, index: AsyncSearchIndex, query: Query) -> list[tuple[Document, float]]:
        layout = self._managed.layout
        names = _read_fields(layout)
        if names is None:
            return self._scored(await index.search(query))
        return self._scored_rows(await index.search_rows(query, names), layout)

    def similarity_search_with_score_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        filter: Filter = None,
        *,
        distance_threshold: float | None = None,
        ef_runtime: int | None = None,
        epsilon: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """The ``k`` nearest documents with their distance (lower is closer). With
        ``distance_threshold``: only those within that distance (squared for L2), up to ``k``.

        ``ef_runtime`` (HNSW, KNN): candidates explored, higher finds more of the true nearest.
        ``epsilon`` (HNSW, with ``distance_threshold``): HNSW range searches are approximate and
        can miss documents within the threshold; a larger epsilon (server default 0.01) explores
        further and finds more of the true range, at some cost in speed. FLAT indexes are exact.
        All of these pass through the ``search_kwargs`` of ``as_retriever``."""
        _no_extra("similarity_search", kwargs)
        index = self._managed.index()
        if index is None:
            return []
        query = self._query(embedding, k, filter, distance_threshold, ef_runtime, epsilon)
        return self._search(index, query)

    async def asimilarity_search_with_score_by_vector(
        self,
        embedding: Sequence[float],
        k: int = 4,
        filter: Filter = None,
        *,
        distance_threshold: float | None = None,
        ef_runtime: int | None = None,
        epsilon: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        _no_extra("asimilarity_search", kwargs)
        index = await self._managed.aindex()
        if index is None:
            return []
        query = self._query(embedding, k, filter, distance_threshold, ef_runtime, epsilon)
        return await self._asearch(index, query)

    def similarity_search_with_score(  # type: ignore[override]
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """``query``'s nearest documents with their distance (lower is closer)."""
        vector = self.embedding.embed_query(query)
        return self.similarity_search_with_score_by_vector(vector, k, filter, **kwargs)

    async def asimilarity_search_with_score(  # type: ignore[override]
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        vector = await self.embedding.aembed_query(query)
        return await self.asimilarity_search_with_score_by_vector(vector, k, filter, **kwargs)

    def similarity_search(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    async def asimilarity_search(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        scored = await self.asimilarity_search_with_score(query, k, filter, **kwargs)
        return [d for d, _ in scored]

    def similarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        scored = self.similarity_search_with_score_by_vector(embedding, k, filter, **kwargs)
        return [d for d, _ in scored]

    async def asimilarity_search_by_vector(
        self, embedding: list[float], k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        scored = await self.asimilarity_search_with_score_by_vector(embedding, k, filter, **kwargs)
        return [d for d, _ in scored]

    # -- hybrid: BM25 + vector -----------------------------------------------------------------

    def _hybrid(
        self,
        query: str,
        vector: Sequence[float],
        k: int,
        flt: Filter,
        options: Mapping[str, Any],
    ) -> HybridQuery:
        unknown = sorted(set(options) - _HYBRID_OPTIONS)
        if unknown:
            raise TypeError(
                f"RedisVectorStore.hybrid_search() got unexpected keyword argument(s) {unknown}; "
                f"it takes {sorted(_HYBRID_OPTIONS)}"
            )
        layout = self._managed.layout
        return HybridQuery(
            query,
            vector,
            k=k,
            filter=self._filter(flt),
            text_field=layout.text_field,
            vector_field=layout.vector_field,
            return_fields=layout.return_fields,
            **options,
        )

    def _fused(self, result: HybridResult) -> list[tuple[Document, float]]:
        read = self._managed.layout.text_and_metadata
        return [(_document(h.id, *read(h.fields)), h.score or 0.0) for h in result.hits]

    def hybrid_search_with_scores(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """``query`` by keywords (BM25) and by meaning (vector), fused into one ranking: the best
        ``k`` documents with their fused score (higher is better).

        Keyword options (all pass through ``as_retriever(search_type="hybrid",
        search_kwargs=...)``): ``fusion`` ``"rrf"`` (default: reciprocal rank fusion) or
        ``"linear"`` (``alpha * vector similarity + (1 - alpha) * BM25 / best BM25``), ``alpha``
        (linear; 1: vector only, 0: keywords only), ``rrf_constant`` (60), ``vector_k`` /
        ``text_k`` (candidates from each side, default ``max(k, 20)``), ``ef_runtime``. The
        filter applies to both sides. A query with no searchable word (only stopwords) runs as
        a vector search, with a `HybridFallbackWarning`. See `redisvec.hybrid`."""
        index = self._managed.index()
        if index is None:
            self._hybrid(query, [], k, None, kwargs)  # bad options are refused all the same
            return []
        vector = self.embedding.embed_query(query)
        return self._fused(index.hybrid_search(self._hybrid(query, vector, k, filter, kwargs)))

    async def ahybrid_search_with_scores(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        index = await self._managed.aindex()
        if index is None:
            self._hybrid(query, [], k, None, kwargs)
            return []
        vector = await self.embedding.aembed_query(query)
        hybrid = self._hybrid(query, vector, k, filter, kwargs)
        return self._fused(await index.hybrid_search(hybrid))

    def hybrid_search(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        """`hybrid_search_with_scores` without the scores."""
        return [d for d, _ in self.hybrid_search_with_scores(query, k, filter, **kwargs)]

    async def ahybrid_search(
        self, query: str, k: int = 4, filter: Filter = None, **kwargs: Any
    ) -> list[Document]:
        scored = await self.ahybrid_search_with_scores(query, k, filter, **kwargs)
        return [d for d, _ in scored]

    def as_retriever(self, **kwargs: Any) -> RedisVectorStoreRetriever:
        """LangChain's retriever, plus ``search_type="hybrid"`` (`hybrid_search`; its options
        in ``search_kwargs``)."""
        tags = kwargs.pop("tags", None) or [*self._get_retriever_tags()]
        return RedisVectorStoreRetriever(vectorstore=self, tags=tags, **kwargs)

    # -- maximal marginal relevance --------------------------------------------------------------

    def _mmr(self, result: SearchResult, k: int, lambda_mult: float) -> list[Document]:
        metric = self._metric()
        stored = [self._managed.layout.from_hit(hit, metric) for hit in result.hits]
        return [_document(d.id, d.text, d.metadata) for d, _ in mmr_rerank(stored, k, lambda_mult)]

    def max_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        *,
        distance_threshold: float | None = None,
        ef_runtime: int | None = None,
        epsilon: float | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """``k`` documents chosen by MMR among the ``fetch_k`` nearest (``lambda_mult`` 1: plain
        relevance order, 0: most diverse)."""
        _no_extra("max_marginal_relevance_search", kwargs)
        index = self._managed.index()
        if index is None:
            return []
        query = self._query(
            embedding,
            max(k, fetch_k),
            filter,
            distance_threshold,
            ef_runtime,
            epsilon,
            return_vector=True,
        )
        return self._mmr(index.search(query), k, lambda_mult)

    async def amax_marginal_relevance_search_by_vector(
        self,
        embedding: list[float],
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        *,
        distance_threshold: float | None = None,
        ef_runtime: int | None = None,
        epsilon: float | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        _no_extra("amax_marginal_relevance_search", kwargs)
        index = await self._managed.aindex()
        if index is None:
            return []
        query = self._query(
            embedding,
            max(k, fetch_k),
            filter,
            distance_threshold,
            ef_runtime,
            epsilon,
            return_vector=True,
        )
        return self._mmr(await index.search(query), k, lambda_mult)

    def max_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        vector = self.embedding.embed_query(query)
        return self.max_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, filter, **kwargs
        )

    async def amax_marginal_relevance_search(
        self,
        query: str,
        k: int = 4,
        fetch_k: int = 20,
        lambda_mult: float = 0.5,
        filter: Filter = None,
        **kwargs: Any,
    ) -> list[Document]:
        vector = await self.embedding.aembed_query(query)
        return await self.amax_marginal_relevance_search_by_vector(
            vector, k, fetch_k, lambda_mult, filter, **kwargs
        )


_HYBRID_OPTIONS = frozenset(
    {"fusion", "alpha", "rrf_constant", "vector_k", "text_k", "ef_runtime", "method"}
)


class RedisVectorStoreRetriever(VectorStoreRetriever):
    """`VectorStoreRetriever` with one more search type, ``"hybrid"``: keywords and vectors
    fused (`RedisVectorStore.hybrid_search`, ``search_kwargs`` passed to it)."""

    allowed_search_types: ClassVar[Collection[str]] = (
        *VectorStoreRetriever.allowed_search_types,
        "hybrid",
    )

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        if self.search_type == "hybrid":
            store: RedisVectorStore = self.vectorstore  # type: ignore[assignment]
            return store.hybrid_search(query, **(self.search_kwargs | kwargs))
        return super()._get_relevant_documents(query, run_manager=run_manager, **kwargs)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun, **kwargs: Any
    ) -> list[Document]:
        if self.search_type == "hybrid":
            store: RedisVectorStore = self.vectorstore  # type: ignore[assignment]
            return await store.ahybrid_search(query, **(self.search_kwargs | kwargs))
        return await super()._aget_relevant_documents(query, run_manager=run_manager, **kwargs)


def _read_fields(layout: DocumentLayout) -> tuple[str, ...] | None:
    """What a LangChain search returns and reads of a hit of ``layout``: its text and metadata
    (`DocumentLayout.row_fields`' first two; a Document has no place for the rest), or None: every
    field the layout returns, read through `DocumentLayout.text_and_metadata`."""
    names = layout.row_fields
    return None if names is None else names[:2]


def _document(id: str, text: str, metadata: Any) -> Document:
    if type(metadata) is dict and type(text) is str:  # what validation would accept as is
        return _build_document(id, text, metadata)
    return Document(id=id, page_content=text, metadata=metadata)


def _document_builder() -> Callable[[str, str, dict[str, Any]], Document]:
    """``Document(id=, page_content=, metadata=)`` for values that need no validation (str, str,
    a dict of the caller's own), one per search hit, without pydantic's validation.

    It sets what pydantic's ``model_construct`` sets (the field values, which fields were given,
    no extras, no private state) without its Python-level loop over the fields. That is pydantic's
    and LangChain's internals, so it is checked against a validated Document before use (same
    fields, values, order and fields-set); if anything differs, validation is used."""
    given = frozenset(("id", "metadata", "page_content"))

    def build(id: str, text: str, metadata: dict[str, Any]) -> Document:
        fields = {"id": id, "metadata": metadata, "page_content": text, "type": "Document"}
        return assemble(Document, fields, set(given))

    def validate(id: str, text: str, metadata: dict[str, Any]) -> Document:
        return Document(id=id, page_content=text, metadata=metadata)

    try:
        ours, theirs = build("i", "t", {"k": [1]}), validate("i", "t", {"k": [1]})
        if same_model(ours, theirs) and ours.model_dump() == theirs.model_dump():
            return build
    except Exception:  # the internals moved: the validated way
        pass
    return validate


_build_document = _document_builder()


def _text_field(text_field: str | None, kwargs: dict[str, Any]) -> str | None:
    """``text_field``, or the deprecated ``content_field`` spelling of it (taken out of
    ``kwargs``)."""
    if "content_field" not in kwargs:
        return text_field
    content_field = kwargs.pop("content_field")
    warnings.warn(
        "from_existing_index(content_field=) is deprecated; use text_field= (the name both "
        "adapters use)",
        DeprecationWarning,
        stacklevel=3,
    )
    if text_field is not None and content_field is not None:
        raise TypeError("both text_field= and content_field= were given; pass only text_field=")
    return text_field if content_field is None else str(content_field)


def _text_list(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, (str, bytes)):  # would be stored one character per document
        raise TypeError(f"texts must be a list of texts, got the string {texts!r}; pass [text]")
    return list(texts)


def _no_extra(method: str, kwargs: Mapping[str, Any]) -> None:
    """Unknown keyword arguments are an error, not silently ignored (a typo'd ``filtr=`` would
    otherwise search everything)."""
    if kwargs:
        raise TypeError(
            f"RedisVectorStore.{method}() got unexpected keyword argument(s) {sorted(kwargs)}"
        )


def _update_ids(ids: list[str] | None, flt: Filter) -> list[str] | None:
    """``ids``, once checked that a metadata update names its documents one way: by ids or by
    filter (both would leave open whether the filter narrows the ids)."""
    if ids is not None and flt is not None:
        raise ValueError("update_metadata takes ids or filter, not both; pass ids=None to filter")
    return ids
