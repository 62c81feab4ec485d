"""`ManagedIndex`: the index behind a vector store, opened and checked, or created on first write.

Both framework adapters need the same lifecycle, so it is written once, here: an index that exists
on the server is opened and checked against what the store asks for (a disagreement is a
`SchemaMismatchError` showing both sides); a missing one is created by the first write, with the
configured dimension or that of the batch's first vector (the batch is validated first, so a bad
batch creates nothing). A concurrent writer's index is adopted through ``create(exist_ok=True)``.

The `SearchIndex` / `AsyncSearchIndex` are built once per schema and cached: the adapters reach
them on every query, which must cost an attribute read, not a lookup. The async one is rebuilt
when the query runs in another event loop (each loop has its own async client).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from redisvec.codec import naming_records
from redisvec.connection import Connections
from redisvec.errors import IndexNotFoundError, SchemaError, SchemaMismatchError
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.layout import DocumentLayout
from redisvec.peers import _asample, _sample, layout_for, needs_sample
from redisvec.query import codec_for
from redisvec.schema import IndexSchema, VectorField

__all__ = ["ManagedIndex"]


class ManagedIndex:
    """The index a store works with, on ``connections``, written with ``layout``; ``options`` are
    `DocumentLayout.build_schema`'s (``key_prefix``, ``storage``, ``distance_metric``, ...).

    Where stores differ, they say so: ``hint`` ends a mismatch error (what this store offers to
    fix it); ``use_index_fields`` reads an existing index with its own fields (so filters can use
    every field it indexes) instead of the layout asked for; ``overwrite`` drops an existing index
    and its documents once, at the first contact with the server; ``existing_only`` (set after
    opening an index by name) makes a vanished index an error instead of a new one;
    ``allow_shared_prefix`` lets the index it creates share keys with another index (see
    `SearchIndex.create`).

    ``explicit`` names the options the user actually gave (None: all of them count). An existing
    index is then served as it is (its writer's layout when `redisvec.peers` recognises it, so a
    store opened with only an index name works on any index), and only what was given explicitly
    (and the dimension of the vectors written) is checked against it. ``schema``: the exact
    index to create (``schema=`` of the adapters); its layout is recognised from its fields.
    """

    def __init__(
        self,
        connections: Connections,
        layout: DocumentLayout,
        *,
        index_name: str,
        dims: int | None = None,
        hint: str = "",
        use_index_fields: bool = True,
        overwrite: bool = False,
        allow_shared_prefix: bool = False,
        explicit: Collection[str] | None = None,
        schema: IndexSchema | None = None,
        **options: Any,
    ) -> None:
        self.connections = connections
        self.fixed = schema
        if schema is not None:
            layout = layout_for(schema)[1]
        self.requested = self.layout = layout
        self.explicit = None if explicit is None else frozenset(explicit)
        self.index_name = index_name
        self.dims = dims
        self.options = options  # `DocumentLayout.build_schema`'s: key_prefix, storage, ...
        self.hint = hint
        self.use_index_fields = use_index_fields
        self.existing_only = False
        self._overwrite = overwrite
        self.allow_shared_prefix = allow_shared_prefix
        self.schema: IndexSchema | None = None
        self._sync: SearchIndex | None = None
        self._async: AsyncSearchIndex | None = None
        self.plan(1 if dims is None else dims)  # every option checked now, not at the first write

    def plan(self, dims: int) -> IndexSchema:
        """The schema asked for, for vectors of ``dims`` dimensions."""
        if self.fixed is not None:
            return self.fixed
        return self.requested.build_schema(index_name=self.index_name, dims=dims, **self.options)

    def use(self, schema: IndexSchema | None, layout: DocumentLayout) -> None:
        """Work with ``schema`` (None: no index yet), read and written with ``layout``."""
        self.schema, self.layout = schema, layout
        self._sync = self._async = None

    def adopt(
        self,
        schema: IndexSchema,
        sample: tuple[str, Mapping[str, Any]] | None = None,
        *,
        text_field: str | None = None,
        vector_field: str | None = None,
    ) -> None:
        """Use an existing index read from the server, whichever tool made it: its own fields,
        ``text_field`` / ``vector_field`` naming them where guessing would not do."""
        if vector_field is not None and schema.field(vector_field).type != "vector":
            raise SchemaError(
                f"index {schema.name!r}: field {vector_field!r} is not a vector field; vector "
                f"fields: {[f.name for f in schema.vector_fields]}"
            )
        self.use(*layout_for(schema, sample, text_field=text_field, vector_field=vector_field))

    def open(self, *, text_field: str | None = None, vector_field: str | None = None) -> None:
        """Adopt the existing index (`IndexNotFoundError` if there is none), in its writer's
        layout; later, a vanished index is an error, not a new one."""
        client = self.connections.sync
        schema = SearchIndex.from_existing(client, self.index_name).schema
        sample = _sample(SearchIndex(schema, client)) if needs_sample(schema) else None
        self.adopt(schema, sample, text_field=text_field, vector_field=vector_field)
        self.existing_only = True

    async def aopen(
        self, *, text_field: str | None = None, vector_field: str | None = None
    ) -> None:
        client = self.connections.async_
        schema = (await AsyncSearchIndex.from_existing(client, self.index_name)).schema
        sample = await _asample(AsyncSearchIndex(schema, client)) if needs_sample(schema) else None
        self.adopt(schema, sample, text_field=text_field, vector_field=vector_field)
        self.existing_only = True

    def metric(self, schema: IndexSchema | None = None) -> str:
        """The distance metric (lower case) of the vector field searched: from ``schema`` (or
        the index's, once known), else the one asked for."""
        schema = schema or self.schema
        if schema is not None:
            fld = schema.fields_by_name.get(self.layout.vector_field)
            if isinstance(fld, VectorField):
                return fld.distance_metric.lower()
        return str(self.options.get("distance_metric", "cosine")).lower()

    def forget(self) -> None:
        """Back to knowing nothing: the next use looks at the server again."""
        self.use(None, self.requested)

    # -- the first contact with the server: everything but the I/O --------------------------------

    def _first_contact(
        self,
        existing: IndexSchema | None,
        vectors: Sequence[Any] | None,
        sample: tuple[str, Mapping[str, Any]] | None = None,
        ids: Sequence[str] = (),
    ) -> tuple[IndexSchema | None, IndexSchema | None]:
        """Given the index found on the server (None: none), the index to drop and the schema to
        create (either None: nothing to do); an existing index that stays is checked and used."""
        if existing is not None and not self._overwrite:
            if self.explicit is not None and self.fixed is None:
                self._check_given(existing, vectors, sample)
            else:
                self._check(existing, vectors)
            return None, None
        if self.existing_only:
            raise IndexNotFoundError(f"index {self.index_name!r} no longer exists on the server")
        dims = self._dims(vectors)
        create = None if dims is None else self.plan(dims)
        if create is not None and vectors is not None:
            with naming_records(ids):
                codec_for(create, create.vector_field).to_array(vectors)
        self._overwrite = False  # once, even when there was nothing to drop
        return existing, create

    def _dims(self, vectors: Sequence[Any] | None) -> int | None:
        if self.dims is None and vectors is not None and len(vectors):
            return len(vectors[0])
        return self.dims

    def _check(self, existing: IndexSchema, vectors: Sequence[Any] | None) -> None:
        """Use ``existing`` if it agrees with what is asked for: storage, prefix, the vector field
        (dims, metric, datatype, algorithm) and each requested metadata field (present, same type).
        """
        dims = self._dims(vectors)
        if dims is None:
            vf = existing.fields_by_name.get(self.requested.vector_field)
            dims = vf.dims if isinstance(vf, VectorField) else 1
        fields = [f.name for f in self.requested.indexed]
        diffs = self.plan(dims).differences(existing, fields=fields)
        if diffs:
            lines = "\n".join(f"  {w}: asked for {a!r}, index has {b!r}" for w, a, b in diffs)
            raise SchemaMismatchError(
                f"index {existing.name!r} already exists and disagrees with this store:\n{lines}\n"
                + self.hint
            )
        layout = DocumentLayout.for_existing(existing) if self.use_index_fields else self.requested
        self.use(existing, layout)

    def _check_given(
        self,
        existing: IndexSchema,
        vectors: Sequence[Any] | None,
        sample: tuple[str, Mapping[str, Any]] | None,
    ) -> None:
        """Serve ``existing`` in its own layout, if it agrees with what was given explicitly:
        storage, key prefix, the vector settings, the dimension of ``vectors``, and each requested
        metadata field (indexed, with the same type)."""
        schema, layout = layout_for(existing, sample)
        given = self.explicit or frozenset()
        asked = self.plan(self._dims(vectors) or 1)
        diffs: list[tuple[str, object, object]] = []
        if "storage" in given and asked.storage != schema.storage:
            diffs.append(("storage", asked.storage, schema.storage))
        if "key_prefix" in given and asked.key_prefix != schema.key_prefix:
            diffs.append(("prefixes", asked.key_prefixes, schema.key_prefixes))
        theirs = schema.fields_by_name.get(layout.vector_field)
        if isinstance(theirs, VectorField):
            dims = self._dims(vectors)
            if dims is not None and dims != theirs.dims:
                diffs.append(("dims", dims, theirs.dims))
            ours = asked.vector_field
            for what in ("distance_metric", "datatype", "algorithm"):
                if what in given and getattr(ours, what) != getattr(theirs, what):
                    diffs.append((what, getattr(ours, what), getattr(theirs, what)))
        for f in self.requested.indexed:
            found = schema.fields_by_name.get(f.name)
            if found is None or found.type != f.type:
                diffs.append((f"metadata field {f.name!r}", f.type, found and found.type))
        if diffs:
            lines = "\n".join(f"  {w}: asked for {a!r}, index has {b!r}" for w, a, b in diffs)
            raise SchemaMismatchError(
                f"index {existing.name!r} already exists and disagrees with this store:\n{lines}\n"
                + self.hint
            )
        if not self.use_index_fields and layout.peer is None and not layout.foreign:
            layout = self.requested
        self.use(schema, layout)

    def _lost(self) -> None:
        """The index in use is gone from the server (dropped elsewhere, or a server restarted
        without persistence): a write would store records nothing indexes. A store that may
        create its index creates it again (the caller does); one opened on an existing index
        raises instead."""
        if self.existing_only:
            raise IndexNotFoundError(
                f"index {self.index_name!r} no longer exists on the server (dropped, or the "
                "server restarted without persistence); nothing was written. This store was "
                "opened on an existing index and does not create one: recreate the index, or "
                "build the store with its settings so that it creates it"
            )

    # -- sync and async twins ----------------------------------------------------------------------

    def writable(self, vectors: Sequence[Any], ids: Sequence[str] = ()) -> SearchIndex:
        """The index to write ``vectors`` (of the records ``ids``) into, checked to exist first:
        one that vanished since it was opened is created again from its schema (which indexes
        the records still stored under its prefix) or refused (see `_lost`), so that no write
        goes unindexed. The check costs one round trip; an index dropped in the middle of a
        write is not noticed."""
        known = self.schema is not None  # else the first contact reads the server right now
        index = self.index(vectors, ids)
        assert index is not None  # given vectors, the first contact creates the index
        if known and not index.exists(check=True):
            self._lost()
            index.create(exist_ok=True)
        return index

    async def awritable(self, vectors: Sequence[Any], ids: Sequence[str] = ()) -> AsyncSearchIndex:
        known = self.schema is not None
        index = await self.aindex(vectors, ids)
        assert index is not None
        if known and not await index.exists(check=True):
            self._lost()
            await index.create(exist_ok=True)
        return index

    def index(
        self, vectors: Sequence[Any] | None = None, ids: Sequence[str] = ()
    ) -> SearchIndex | None:
        """The index (opened, or created from ``dims`` or the first of ``vectors``), or None while
        it does not exist and cannot be created yet."""
        index = self._sync
        if index is not None:
            return index
        if self.schema is None:
            client = self.connections.sync
            try:
                existing: IndexSchema | None = SearchIndex.from_existing(
                    client, self.index_name
                ).schema
            except IndexNotFoundError:
                existing = None
            sample = None
            if existing is not None and needs_sample(existing):
                sample = _sample(SearchIndex(existing, client))
            drop, create = self._first_contact(existing, vectors, sample, ids)
            if drop is not None:
                SearchIndex(drop, client).drop(delete_documents=True)
            if create is not None:
                # exist_ok: an index a concurrent writer just created is checked and adopted.
                SearchIndex(create, client).create(
                    exist_ok=True, allow_shared_prefix=self.allow_shared_prefix
                )
                self.use(create, self.requested)
            if self.schema is None:
                return None
        index = self._sync = SearchIndex(self.schema, self.connections.sync)
        return index

    async def aindex(
        self, vectors: Sequence[Any] | None = None, ids: Sequence[str] = ()
    ) -> AsyncSearchIndex | None:
        client = self.connections.async_  # the running event loop's own client
        index = self._async
        if index is not None and index.client is client:
            return index
        if self.schema is None:
            try:
                found = await AsyncSearchIndex.from_existing(client, self.index_name)
                existing: IndexSchema | None = found.schema
            except IndexNotFoundError:
                existing = None
            sample = None
            if existing is not None and needs_sample(existing):
                sample = await _asample(AsyncSearchIndex(existing, client))
            drop, create = self._first_contact(existing, vectors, sample, ids)
            if drop is not None:
                await AsyncSearchIndex(drop, client).drop(delete_documents=True)
            if create is not None:
                await AsyncSearchIndex(create, client).create(
                    exist_ok=True, allow_shared_prefix=self.allow_shared_prefix
                )
                self.use(create, self.requested)
            if self.schema is None:
                return None
        index = self._async = AsyncSearchIndex(self.schema, client)
        return index

    def drop(self, *, delete_documents: bool = True, force: bool = False) -> None:
        """Drop the index (by default with its documents); the next write creates it again.
        ``force``: see `SearchIndex.drop` (documents another index also covers)."""
        index = self.index()
        if index is not None:
            index.drop(delete_documents=delete_documents, force=force)
        self.forget()

    async def adrop(self, *, delete_documents: bool = True, force: bool = False) -> None:
        index = await self.aindex()
        if index is not None:
            await index.drop(delete_documents=delete_documents, force=force)
        self.forget()
