"""`ManagedIndex`: the index behind a vector store, opened and checked, or created on first write.

Both framework adapters need the same lifecycle, so it is written once, here: an index that exists
on the server is opened and checked against what the store asks for (a disagreement is a
`SchemaMismatchError` showing both sides); a missing one is created by the first write, with the
configured dimension or that of the batch's first vector (the batch is validated first, so a bad
batch creates nothing). A concurrent writer's index is adopted through ``create(exist_ok=True)``.

The `SearchIndex` / `AsyncSearchIndex` are built once per schema and cached: the adapters reach
them on every query, which must cost an attribute read, not a lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redisvec.codec import naming_records
from redisvec.connection import Connections
from redisvec.errors import IndexNotFoundError, SchemaError, SchemaMismatchError
from redisvec.index import AsyncSearchIndex, SearchIndex
from redisvec.layout import DocumentLayout
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
    opening an index by name) makes a vanished index an error instead of a new one.
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
        **options: Any,
    ) -> None:
        self.connections = connections
        self.requested = self.layout = layout
        self.index_name = index_name
        self.dims = dims
        self.options = options  # `DocumentLayout.build_schema`'s: key_prefix, storage, ...
        self.hint = hint
        self.use_index_fields = use_index_fields
        self.existing_only = False
        self._overwrite = overwrite
        self.schema: IndexSchema | None = None
        self._sync: SearchIndex | None = None
        self._async: AsyncSearchIndex | None = None
        self.plan(1 if dims is None else dims)  # every option checked now, not at the first write

    def plan(self, dims: int) -> IndexSchema:
        """The schema asked for, for vectors of ``dims`` dimensions."""
        return self.requested.build_schema(index_name=self.index_name, dims=dims, **self.options)

    def use(self, schema: IndexSchema | None, layout: DocumentLayout) -> None:
        """Work with ``schema`` (None: no index yet), read and written with ``layout``."""
        self.schema, self.layout = schema, layout
        self._sync = self._async = None

    def adopt(
        self, schema: IndexSchema, *, text_field: str | None = None, vector_field: str | None = None
    ) -> None:
        """Use an existing index read from the server, whichever tool made it: its own fields,
        ``text_field`` / ``vector_field`` naming them where guessing would not do."""
        if vector_field is not None and schema.field(vector_field).type != "vector":
            raise SchemaError(
                f"index {schema.name!r}: field {vector_field!r} is not a vector field; vector "
                f"fields: {[f.name for f in schema.vector_fields]}"
            )
        layout = DocumentLayout.for_existing(
            schema, text_field=text_field, vector_field=vector_field
        )
        self.use(schema, layout)

    def forget(self) -> None:
        """Back to knowing nothing: the next use looks at the server again."""
        self.use(None, self.requested)

    # -- the first contact with the server: everything but the I/O --------------------------------

    def _first_contact(
        self,
        existing: IndexSchema | None,
        vectors: Sequence[Any] | None,
        ids: Sequence[str] = (),
    ) -> tuple[IndexSchema | None, IndexSchema | None]:
        """Given the index found on the server (None: none), the index to drop and the schema to
        create (either None: nothing to do); an existing index that stays is checked and used."""
        if existing is not None and not self._overwrite:
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
        if known and not index.exists():
            self._lost()
            index.create(exist_ok=True)
        return index

    async def awritable(self, vectors: Sequence[Any], ids: Sequence[str] = ()) -> AsyncSearchIndex:
        known = self.schema is not None
        index = await self.aindex(vectors, ids)
        assert index is not None
        if known and not await index.exists():
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
            drop, create = self._first_contact(existing, vectors, ids)
            if drop is not None:
                SearchIndex(drop, client).drop(delete_documents=True)
            if create is not None:
                # exist_ok: an index a concurrent writer just created is checked and adopted.
                SearchIndex(create, client).create(exist_ok=True)
                self.use(create, self.requested)
            if self.schema is None:
                return None
        index = self._sync = SearchIndex(self.schema, self.connections.sync)
        return index

    async def aindex(
        self, vectors: Sequence[Any] | None = None, ids: Sequence[str] = ()
    ) -> AsyncSearchIndex | None:
        index = self._async
        if index is not None:
            return index
        if self.schema is None:
            client = self.connections.async_
            try:
                found = await AsyncSearchIndex.from_existing(client, self.index_name)
                existing: IndexSchema | None = found.schema
            except IndexNotFoundError:
                existing = None
            drop, create = self._first_contact(existing, vectors, ids)
            if drop is not None:
                await AsyncSearchIndex(drop, client).drop(delete_documents=True)
            if create is not None:
                await AsyncSearchIndex(create, client).create(exist_ok=True)
                self.use(create, self.requested)
            if self.schema is None:
                return None
        index = self._async = AsyncSearchIndex(self.schema, self.connections.async_)
        return index

    def drop(self, *, delete_documents: bool = True) -> None:
        """Drop the index (by default with its documents); the next write creates it again."""
        index = self.index()
        if index is not None:
            index.drop(delete_documents=delete_documents)
        self.forget()

    async def adrop(self, *, delete_documents: bool = True) -> None:
        index = await self.aindex()
        if index is not None:
            await index.drop(delete_documents=delete_documents)
        self.forget()
