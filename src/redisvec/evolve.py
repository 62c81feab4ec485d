"""Schema evolution and metadata updates on a live index, without re-embedding anything.

Three operations, each planned before anything is written (`plan` / `Plan.describe`, the
command line's ``--dry-run``):

- **Add a field** (`add_fields`): ``FT.ALTER ... SCHEMA ADD``, then a backfill. The server indexes
  values that documents already store under the field's path by itself (FT.ALTER rescans); what
  redisvec's layout keeps only in the ``metadata`` JSON copy (`redisvec.layout`: metadata not
  declared as a field) is written out as the field, encoded as a load would have, so a filter on
  the new field matches exactly the documents whose metadata has it.
- **Rebuild** (`rebuild`): what FT.ALTER cannot do (vector datatype, algorithm, distance metric,
  prefix, a field's type, removing a field) goes into a new index version ``<name>__v<N>`` built
  beside the live one. Queries keep going to ``<name>`` meanwhile; once the new version has indexed
  every document, ``<name>`` becomes an alias of it in one step (``FT.ALIASUPDATE``, or, the first
  time, ``FT.DROPINDEX <name>`` + ``FT.ALIASADD`` in one MULTI/EXEC), so no query sees a missing
  or half-built index. Where the stored bytes must change (a HASH vector's datatype), documents are
  copied under a new prefix (the old index cannot index the new bytes, and stays complete until
  the switch), then the old copies are deleted; otherwise the new version indexes the same keys.
  A document written under the old prefix while it was being copied (changed since its copy, or
  new) is copied again after the switch before its old key goes, and one deleted there since its
  copy has its copy deleted, each only if the copy is still what the rebuild wrote (checked on
  the server in the same step, so a write made through the alias after the switch stands): no
  write made during the rebuild is lost and no deleted document comes back. One window remains:
  a write under the old prefix in the instant between the catch-up's last read of it and its
  delete. Pause writers for a datatype change if you cannot afford even that.
- **Update metadata** (`update_metadata`, `update_where`): merge changes into each document's
  metadata JSON and rewrite the indexed copies of the changed keys in the same command, vectors
  untouched.

A dimension change needs new embeddings and is refused with that reason.

Each operation is written once, as a generator that yields its I/O (`redisvec.index`'s requests)
and is driven by a `SearchIndex` (blocking) or an `AsyncSearchIndex` (awaits): ``plan`` /
``aplan``, ``apply`` / ``aapply``, ``add_fields`` / ``aadd_fields``, ``rebuild`` / ``arebuild``,
``update_metadata`` / ``aupdate_metadata`` and so on are one-line delegations, so the twins cannot
drift, and the operations run in ``tests/`` against scripted replies.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np

from redisvec._resp import normalize_info
from redisvec.connection import AsyncClient, SyncClient
from redisvec.errors import SchemaError, SchemaMismatchError
from redisvec.filters import FilterExpression
from redisvec.index import (
    AsyncSearchIndex,
    Op,
    SearchIndex,
    _Call,
    _IndexCore,
    _Pipeline,
    wait_indexed_op,
)
from redisvec.layout import DocumentLayout, load_json
from redisvec.query import codec_for
from redisvec.records import chunks, prepare_records
from redisvec.schema import Field, IndexSchema, VectorField

__all__ = [
    "Plan",
    "RebuildReport",
    "aadd_fields",
    "aapply",
    "abackfill",
    "add_fields",
    "aexpire_where",
    "aplan",
    "apply",
    "arebuild",
    "aresolve",
    "aupdate_metadata",
    "aupdate_where",
    "backfill",
    "expire_where",
    "plan",
    "rebuild",
    "resolve",
    "update_metadata",
    "update_where",
]

_VERSION = re.compile(r"__v(\d+)$")
Progress = Callable[[int], None]
Filter = FilterExpression | str | None
Commands = list[tuple[Any, ...]]


# -- the twins: each a one-line delegation to its operation ------------------------------------


def resolve(client: SyncClient, name: str) -> tuple[str, IndexSchema]:
    """The index behind ``name`` (itself, or what the alias points at) and its schema (named
    ``name``: queries go through the name people use)."""
    return _sync(client, name)._run(_resolve_op(name))


async def aresolve(client: AsyncClient, name: str) -> tuple[str, IndexSchema]:
    return await (await _async(client, name))._run(_resolve_op(name))


def plan(client: SyncClient, name: str, target: IndexSchema) -> Plan:
    """Compare index ``name`` with ``target`` (whose own name is ignored); writes nothing."""
    return _sync(client, name)._run(_plan_op(name, target))


async def aplan(client: AsyncClient, name: str, target: IndexSchema) -> Plan:
    return await (await _async(client, name))._run(_plan_op(name, target))


def apply(
    client: SyncClient, the_plan: Plan, *, progress: Progress | None = None, timeout: float = 600
) -> dict[str, Any]:
    """Carry out a `plan`; returns what was done."""
    runner = SearchIndex(the_plan.current, client)
    return runner._run(_apply_op(runner, the_plan, progress, timeout))


async def aapply(
    client: AsyncClient, the_plan: Plan, *, progress: Progress | None = None, timeout: float = 600
) -> dict[str, Any]:
    runner = AsyncSearchIndex(the_plan.current, client)
    return await runner._run(_apply_op(runner, the_plan, progress, timeout))


def add_fields(
    client: SyncClient,
    name: str,
    fields: Sequence[Field],
    *,
    metadata_field: str | None = None,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Add ``fields`` to live index ``name`` and backfill them; returns how many documents were
    written. Vectors are not read or touched.

    ``metadata_field``: the stored JSON copy to backfill from (default: the layout's, ``metadata``
    for indexes written by redisvec). A document that already stores a value at the field's path
    is left as it is (the server indexes it on its own)."""
    runner = _sync(client, name)
    return runner._run(_add_fields_op(runner, name, fields, metadata_field, batch_size, progress))


async def aadd_fields(
    client: AsyncClient,
    name: str,
    fields: Sequence[Field],
    *,
    metadata_field: str | None = None,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    runner = await _async(client, name)
    return await runner._run(
        _add_fields_op(runner, name, fields, metadata_field, batch_size, progress)
    )


def backfill(
    client: SyncClient,
    schema: IndexSchema,
    fields: Sequence[Field],
    *,
    metadata_field: str | None = None,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    """Write ``fields`` (already in ``schema``) of every document of ``schema``'s index from its
    metadata JSON copy; returns how many documents were written."""
    runner = SearchIndex(schema, client)
    return runner._run(_backfill_op(runner, fields, metadata_field, batch_size, progress))


async def abackfill(
    client: AsyncClient,
    schema: IndexSchema,
    fields: Sequence[Field],
    *,
    metadata_field: str | None = None,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> int:
    runner = AsyncSearchIndex(schema, client)
    return await runner._run(_backfill_op(runner, fields, metadata_field, batch_size, progress))


def rebuild(
    client: SyncClient,
    the_plan: Plan,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    timeout: float = 600,
) -> RebuildReport:
    """Build ``the_plan.target`` as a new index version and switch ``the_plan.name`` to it."""
    runner = SearchIndex(the_plan.current, client)
    return runner._run(_rebuild_op(runner, the_plan, batch_size, progress, timeout))


async def arebuild(
    client: AsyncClient,
    the_plan: Plan,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    timeout: float = 600,
) -> RebuildReport:
    runner = AsyncSearchIndex(the_plan.current, client)
    return await runner._run(_rebuild_op(runner, the_plan, batch_size, progress, timeout))


def update_metadata(
    index: SearchIndex,
    ids: Sequence[str],
    changes: Mapping[str, Any],
    *,
    metadata_field: str | None = None,
    layout: DocumentLayout | None = None,
) -> int:
    """Merge ``changes`` into the metadata of documents ``ids`` (a value of None removes the
    key); the indexed copies of the changed keys are rewritten in the same command, so filters
    and the stored metadata agree. Vectors are untouched. Returns how many documents existed.

    ``layout``: how the documents are stored (an adapter's `DocumentLayout`; default: read from
    the schema); ``metadata_field`` overrides its JSON copy's field."""
    return index._run(_update_metadata_op(index, ids, changes, metadata_field, layout))


async def aupdate_metadata(
    index: AsyncSearchIndex,
    ids: Sequence[str],
    changes: Mapping[str, Any],
    *,
    metadata_field: str | None = None,
    layout: DocumentLayout | None = None,
) -> int:
    return await index._run(_update_metadata_op(index, ids, changes, metadata_field, layout))


def update_where(
    index: SearchIndex, filter: Filter, changes: Mapping[str, Any], *,
    metadata_field: str | None = None, layout: DocumentLayout | None = None,
) -> int:  # fmt: skip
    """`update_metadata` on every document matching ``filter``; returns how many were updated.
    The matching keys are listed first (a cursor), so documents the update makes match or
    stop matching are updated once."""
    return index._run(_update_where_op(index, filter, changes, metadata_field, layout))


async def aupdate_where(
    index: AsyncSearchIndex, filter: Filter, changes: Mapping[str, Any], *,
    metadata_field: str | None = None, layout: DocumentLayout | None = None,
) -> int:  # fmt: skip
    return await index._run(_update_where_op(index, filter, changes, metadata_field, layout))


def expire_where(index: SearchIndex, filter: Filter, seconds: int | None) -> int:
    """Give every document matching ``filter`` a time to live of ``seconds`` (None: keep it
    forever, ``PERSIST``); returns how many documents were set. Keys are listed first (a cursor)
    and set one command each, so this works whatever hash slots they live in."""
    return index._run(_expire_where_op(index, filter, seconds))


async def aexpire_where(index: AsyncSearchIndex, filter: Filter, seconds: int | None) -> int:
    return await index._run(_expire_where_op(index, filter, seconds))


def _sync(client: SyncClient, name: str) -> SearchIndex:
    """The index ``name`` as it is on the server, to run operations on."""
    return SearchIndex.from_existing(client, name)


async def _async(client: AsyncClient, name: str) -> AsyncSearchIndex:
    return await AsyncSearchIndex.from_existing(client, name)


def _resolve_op(name: str) -> Op[tuple[str, IndexSchema]]:
    reply = yield _Call(("FT.INFO", name))
    physical = str(normalize_info(reply).get("index_name", name))
    return physical, IndexSchema.from_info(reply, name)


# -- planning ----------------------------------------------------------------------------------


def _vector_key(f: VectorField) -> tuple[Any, ...]:
    return (f.path, f.algorithm, f.datatype, f.distance_metric, f.m, f.ef_construction)


def _field_key(f: Field) -> tuple[Any, ...]:
    """What FT.INFO reports of a field, so a schema read back compares equal to the one asked."""
    if isinstance(f, VectorField):
        return ("vector", f.dims, *_vector_key(f))
    return (f.type, f.path, getattr(f, "separator", None), getattr(f, "case_sensitive", None))


@dataclass(frozen=True)
class Plan:
    """What turning index ``name`` into ``target`` takes."""

    name: str
    physical: str
    current: IndexSchema
    target: IndexSchema
    add: tuple[Field, ...] = ()
    rebuild_reasons: tuple[str, ...] = ()
    rewrite_vectors: bool = False
    new_prefixes: tuple[str, ...] | None = None

    @property
    def needs_rebuild(self) -> bool:
        return bool(self.rebuild_reasons)

    @property
    def empty(self) -> bool:
        return not self.add and not self.rebuild_reasons

    def describe(self) -> list[str]:
        """One line per change, in the order they would be made."""
        if self.empty:
            return [f"index {self.name!r} already has this schema: nothing to do"]
        lines = []
        verb = "add to the new version" if self.needs_rebuild else "FT.ALTER ADD"
        for f in self.add:
            lines.append(f"{verb}: {f.type} field {f.name!r}, backfilled from stored metadata")
        if self.needs_rebuild:
            lines += [f"rebuild: {reason}" for reason in self.rebuild_reasons]
            version = next_version(self.physical, self.name)
            if self.new_prefixes is not None:
                why = "vectors re-encoded" if self.rewrite_vectors else "new prefix"
                lines.append(
                    f"copy every document to prefix {list(self.new_prefixes)} ({why}); "
                    "the old copies are deleted after the switch"
                )
            else:
                lines.append(f"index the same keys again as {version!r} (no data copied)")
            lines.append(f"switch {self.name!r} to {version!r} atomically (alias)")
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.name,
            "physical": self.physical,
            "add_fields": [f.name for f in self.add],
            "rebuild": list(self.rebuild_reasons),
            "new_version": next_version(self.physical, self.name) if self.needs_rebuild else None,
            "new_prefixes": list(self.new_prefixes) if self.new_prefixes else None,
            "steps": self.describe(),
        }


def next_version(physical: str, name: str) -> str:
    found = _VERSION.search(physical)
    return f"{name}__v{int(found.group(1)) + 1 if found else 2}"


def _plan_op(name: str, target: IndexSchema) -> Op[Plan]:
    physical, current = yield from _resolve_op(name)
    if target.storage != current.storage:
        raise SchemaMismatchError(
            f"index {name!r}: changing storage {current.storage!r} -> {target.storage!r} is not "
            "supported; create a new index and load the documents into it"
        )
    reasons: list[str] = []
    have = current.fields_by_name
    for old in current.vector_fields:
        new = target.fields_by_name.get(old.name)
        if isinstance(new, VectorField) and new.dims != old.dims:
            raise SchemaMismatchError(
                f"index {name!r}, vector field {old.name!r}: dims {old.dims} -> {new.dims} needs "
                "new embeddings, which a schema change cannot make; embed the documents again "
                "into a new index"
            )
    rewrite = False
    for f in target.fields:
        old_field = have.get(f.name)
        if old_field is None or _field_key(old_field) == _field_key(f):
            continue
        if isinstance(f, VectorField) and isinstance(old_field, VectorField):
            for what in ("algorithm", "datatype", "distance_metric", "m", "ef_construction"):
                a, b = getattr(old_field, what), getattr(f, what)
                if a != b:
                    reasons.append(f"vector field {f.name!r}: {what} {a!r} -> {b!r}")
            if f.datatype != old_field.datatype and current.storage == "hash":
                rewrite = True  # HASH stores the vector's bytes in the index's datatype
        else:
            reasons.append(f"field {f.name!r}: {old_field.type} {old_field} -> {f.type} {f}")
    for f in current.fields:
        if f.name not in target.fields_by_name:
            reasons.append(f"remove field {f.name!r} (FT.ALTER cannot remove fields)")
    if target.prefixes != current.prefixes and target.prefixes != (target.name + ":",):
        reasons.append(f"prefixes {list(current.prefixes)} -> {list(target.prefixes)}")
        new_prefixes: tuple[str, ...] | None = target.prefixes
    else:
        new_prefixes = None
    if rewrite and new_prefixes is None:
        new_prefixes = (next_version(physical, name) + ":",)
    added = tuple(f for f in target.fields if f.name not in have)
    return Plan(name, physical, current, target, added, tuple(reasons), rewrite, new_prefixes)


def _apply_op(
    runner: _IndexCore[Any], the_plan: Plan, progress: Progress | None, timeout: float
) -> Op[dict[str, Any]]:
    if the_plan.empty:
        return {"index": the_plan.name, "changed": False}
    if the_plan.needs_rebuild:
        report = yield from _rebuild_op(runner, the_plan, 500, progress, timeout)
        return {"index": the_plan.name, "changed": True, **report.__dict__}
    written = yield from _add_fields_op(runner, the_plan.name, the_plan.add, None, 500, progress)
    return {"index": the_plan.name, "changed": True, "added": [f.name for f in the_plan.add],
            "backfilled": written}  # fmt: skip


# -- adding fields -----------------------------------------------------------------------------


def _alter_args(schema: IndexSchema, f: Field) -> list[str]:
    path = schema.with_fields(f).field_path(f.name)
    return [*([path] if path == f.name else [path, "AS", f.name]), *f._args()]


def _add_fields_op(
    runner: _IndexCore[Any],
    name: str,
    fields: Sequence[Field],
    metadata_field: str | None,
    batch_size: int,
    progress: Progress | None,
) -> Op[int]:
    _, schema = yield from _resolve_op(name)
    clash = [f.name for f in fields if f.name in schema.fields_by_name]
    if clash:
        raise SchemaError(f"index {name!r} already has field(s) {clash}")
    for f in fields:  # FT.ALTER goes through an alias too
        yield _Call(("FT.ALTER", name, "SCHEMA", "ADD", *_alter_args(schema, f)))
    target = _IndexCore(schema.with_fields(*fields), runner.client)
    return (yield from _backfill_op(target, fields, metadata_field, batch_size, progress))


def _metadata_field(schema: IndexSchema, given: str | None) -> str | None:
    return given or DocumentLayout.for_existing(schema).metadata_field


def _backfill_op(
    index: _IndexCore[Any],
    fields: Sequence[Field],
    metadata_field: str | None,
    batch_size: int,
    progress: Progress | None,
) -> Op[int]:
    schema = index.schema
    source = _metadata_field(schema, metadata_field)
    if source is None or not fields:
        return 0
    is_json = schema.storage == "json"
    paths = [schema.field_path(f.name) for f in fields]
    layout = DocumentLayout(metadata_field=None, doc_id_field=None, node_field=None,
                            indexed=tuple(fields))  # fmt: skip
    written = 0
    # FT.ALTER's own rescan re-indexes every document: wait for it to end before listing.
    yield from wait_indexed_op(schema.name, timeout=600)
    listed = yield from index._keys_op(None, batch_size=5000)
    for keys in chunks(listed, batch_size):
        if is_json:
            reads = [("JSON.GET", key, f"$.{source}", *paths) for key in keys]
        else:
            reads = [("HMGET", key, source, *paths) for key in keys]
        replies = yield _Pipeline(reads)
        writes: Commands = []
        for key, reply in zip(keys, replies):
            metadata, present = _split_reply(reply, is_json, f"$.{source}", paths)
            todo = [f for f, have in zip(fields, present) if not have]
            if metadata is None or not todo:
                continue
            values = _indexed_values(layout, schema, key, metadata, {f.name for f in todo})
            if values:
                writes += _write_values(schema, key, values)
                written += 1
        if writes:
            yield _Pipeline(writes)
        if progress is not None:
            progress(len(keys))
    return written


def _split_reply(
    reply: Any, is_json: bool, source: str, paths: Sequence[str]
) -> tuple[dict[str, Any] | None, list[bool]]:
    """(the metadata dict or None, whether each path already holds a value)."""
    if is_json:
        if reply is None:
            return None, [True] * len(paths)
        found = json.loads(reply)  # several paths: {path: [values]}
        if not isinstance(found, dict):
            return None, [True] * len(paths)
        raw = (found.get(source) or [None])[0]
        present = [bool(found.get(p)) for p in paths]
    else:
        raw, present = reply[0], [v is not None for v in reply[1:]]
    if raw is None:
        return None, present
    try:
        metadata = load_json(raw) if isinstance(raw, (str, bytes)) else raw
    except ValueError:
        return None, present
    return (metadata if isinstance(metadata, dict) else None), present


def _indexed_values(
    layout: DocumentLayout,
    schema: IndexSchema,
    key: str,
    metadata: Mapping[str, Any],
    names: Iterable[str],
) -> dict[str, Any]:
    """The encoded values of fields ``names`` for ``metadata``, as a load writes them."""
    record = layout.to_records([""], [None], [metadata])[0]
    wanted = set(names)
    record = {k: v for k, v in record.items() if k in wanted}
    if not record:
        return {}
    return dict(prepare_records(schema, [record], keys=[key])[0].payload)


def _write_values(schema: IndexSchema, key: str, values: Mapping[str, Any]) -> Commands:
    if schema.storage == "json":
        return [
            ("JSON.SET", key, _json_path(schema, name), json.dumps(value, ensure_ascii=False))
            for name, value in values.items()
        ]
    return [("HSET", key, *[x for kv in values.items() for x in kv])]


def _json_path(schema: IndexSchema, name: str) -> str:
    return schema.field_path(name) if name in schema.fields_by_name else f"$.{name}"


# -- rebuilding behind an alias ----------------------------------------------------------------


@dataclass(frozen=True)
class RebuildReport:
    old_index: str
    new_index: str
    copied: int
    num_docs: int
    seconds: float
    backfilled: int = 0
    prefixes: list[str] = field(default_factory=list)


def _rebuild_op(
    runner: _IndexCore[Any],
    the_plan: Plan,
    batch_size: int,
    progress: Progress | None,
    timeout: float,
) -> Op[RebuildReport]:
    started = time.monotonic()
    name, old_physical, current = the_plan.name, the_plan.physical, the_plan.current
    version = next_version(old_physical, name)
    prefixes = the_plan.new_prefixes or current.prefixes
    new_schema = replace(the_plan.target, name=version, prefixes=prefixes,
                         key_separator=current.key_separator)  # fmt: skip
    new_index = _IndexCore(new_schema, runner.client)
    if (yield from new_index._exists_op()):
        raise SchemaMismatchError(
            f"index {version!r} already exists (an interrupted rebuild?); drop it first "
            f"(redisvec index destroy {version} --yes, if its prefix {list(prefixes)} is not "
            "the live one) and run again"
        )
    copied: dict[str, _Copied] = {}  # old key -> its copy
    yield from new_index._create_op(False, False, False, True)
    try:
        if the_plan.new_prefixes is not None:
            # SCAN, not a search cursor: a document rewritten during the walk would move in the
            # index and be skipped by the cursor; SCAN returns every key that stays throughout.
            for keys in chunks((yield from _scan_op(current)), batch_size):
                copied.update((yield from _copy_op(current, new_schema, keys)))
                if progress is not None:
                    progress(len(keys))
        backfilled = yield from _backfill_op(new_index, the_plan.add, None, batch_size, None)
        new_info = (yield from wait_indexed_op(version, timeout)).raw
        # What the new version must hold now: every copy made (writers may have added or
        # deleted documents since the start), or, on the same keys, what the old one holds now.
        if copied:
            old_docs = len((yield from _scan_op(new_schema)))
        else:
            old_info = normalize_info((yield _Call(("FT.INFO", old_physical))))
            old_docs = int(float(old_info.get("num_docs", 0)))
        new_docs = int(float(new_info.get("num_docs", 0)))
        if new_docs < old_docs:
            errors = new_info.get("Index Errors") or {}
            raise SchemaMismatchError(
                f"the new version {version!r} indexed {new_docs} of {old_docs} documents (last "
                f"error: {errors.get('last indexing error')}); nothing was switched, "
                f"{name!r} is unchanged"
            )
    except BaseException:
        yield from new_index._drop_op(False, 60.0)
        yield from new_index._delete_keys_op(
            [new_schema.key(current.id_from_key(k)) for k in copied]
        )
        raise
    yield from _switch_op(name, old_physical, version)
    if the_plan.new_prefixes is not None:
        yield from _catch_up_op(current, new_schema, copied, batch_size)
    return RebuildReport(
        old_index=old_physical,
        new_index=version,
        copied=len(copied),
        num_docs=new_docs,
        seconds=round(time.monotonic() - started, 3),
        backfilled=backfilled,
        prefixes=list(prefixes),
    )


def _switch_op(name: str, old_physical: str, version: str) -> Op[None]:
    """``name`` -> ``version`` in one step; the old version's index goes (its keys stay)."""
    if old_physical != name:  # already an alias
        yield _Call(("FT.ALIASUPDATE", name, version))
        yield _Call(("FT.DROPINDEX", old_physical))
        return
    # The first time the name is a real index: drop it and put the alias in its place, atomically.
    yield _Pipeline([("FT.DROPINDEX", name), ("FT.ALIASADD", name, version)], transaction=True)


class _Copied(NamedTuple):
    """One document's copy, as `_copy_digest`s: of what it was made from (has the old document
    changed since?) and of what was written (has a writer changed the copy since?)."""

    source: str
    written: str


def _copy_op(old: IndexSchema, new: IndexSchema, keys: Sequence[str]) -> Op[dict[str, _Copied]]:
    """Copy the documents at ``keys`` of ``old`` under ``new``'s prefix (vectors re-encoded to
    ``new``'s datatype on HASH; TTLs kept); returns each copied key's `_Copied`."""
    writes: Commands = []
    copied: dict[str, _Copied] = {}
    for key, (commands, copy) in (yield from _copies_op(old, new, keys)).items():
        writes += commands
        copied[key] = copy
    if writes:
        yield _Pipeline(writes)
    return copied


def _copies_op(
    old: IndexSchema, new: IndexSchema, keys: Sequence[str]
) -> Op[dict[str, tuple[Commands, _Copied]]]:
    """Read the documents at ``keys`` (those deleted since are left out) and make, for each, the
    commands that write its copy under ``new``'s prefix, and the copy's `_Copied`."""
    is_json = old.storage == "json"
    recode = []
    if not is_json:
        for vf in old.vector_fields:
            nf = new.fields_by_name.get(vf.name)
            if isinstance(nf, VectorField) and nf.datatype != vf.datatype:
                recode.append((vf.name, codec_for(old, vf), codec_for(new, nf)))
    reads: Commands = []
    for key in keys:
        reads += [("JSON.GET" if is_json else "HGETALL", key), ("PTTL", key)]
    replies = yield _Pipeline(reads)
    out: dict[str, tuple[Commands, _Copied]] = {}
    for key, raw, ttl in zip(keys, replies[::2], replies[1::2]):
        if not raw:
            continue  # deleted since the listing
        target = new.key(old.id_from_key(key))
        commands: Commands
        if is_json:
            commands = [("JSON.SET", target, "$", raw)]
            digest = _copy_digest(raw)
            copy = _Copied(digest, digest)
        else:
            doc = _hash(raw)
            source = _copy_digest(doc)
            for fname, src, dst in recode:
                blob = doc.get(fname.encode())
                if isinstance(blob, bytes) and len(blob) == src.byte_length:
                    vector = np.frombuffer(blob, dtype=src.dtype).astype(np.float32)
                    doc[fname.encode()] = dst.encode(vector)
            # DEL first: a stale field of an earlier copy must go too
            commands = [("DEL", target), ("HSET", target, *[x for kv in doc.items() for x in kv])]
            copy = _Copied(source, _copy_digest(doc))
        if int(ttl) > 0:
            commands.append(("PEXPIRE", target, int(ttl)))
        out[key] = (commands, copy)
    return out


def _hash(raw: Any) -> dict[Any, Any]:
    """An HGETALL reply (a mapping, or RESP2's flat list) as a dict."""
    return dict(raw.items()) if isinstance(raw, Mapping) else dict(zip(raw[::2], raw[1::2]))


def _as_bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _copy_digest(doc: Any) -> str:
    """A document's digest, as `_IF_COPY_IS` computes it on the server: SHA-1 of the JSON text, or,
    for a hash, the XOR of each field's SHA-1 (of ``<len(name)>:<name><value>``), first 16 hex
    digits (the order of HGETALL's fields does not matter)."""
    if not isinstance(doc, Mapping):
        return hashlib.sha1(_as_bytes(doc)).hexdigest()
    a = b = 0
    for name, value in doc.items():
        name, value = _as_bytes(name), _as_bytes(value)
        digest = hashlib.sha1(b"%d:%s%s" % (len(name), name, value)).hexdigest()
        a ^= int(digest[:8], 16)
        b ^= int(digest[8:16], 16)
    return f"{a:08x}{b:08x}"


# Run the commands after ARGV[3] (each as its argument count, then its arguments) only if the
# copy at KEYS[1] is still the one the rebuild wrote (digest ARGV[2]; "": there is none), in one
# step: a writer that changed the copy through the alias after the switch wins.
_IF_COPY_IS = """
local key, digest = KEYS[1], ''
if redis.call('EXISTS', key) == 1 then
  if ARGV[1] == 'json' then
    digest = redis.sha1hex(redis.call('JSON.GET', key))
  else
    local a, b = 0, 0
    local flat = redis.call('HGETALL', key)
    for i = 1, #flat, 2 do
      local h = redis.sha1hex(#flat[i] .. ':' .. flat[i] .. flat[i + 1])
      a = bit.bxor(a, tonumber(string.sub(h, 1, 8), 16))
      b = bit.bxor(b, tonumber(string.sub(h, 9, 16), 16))
    end
    digest = bit.tohex(a) .. bit.tohex(b)
  end
end
if digest ~= ARGV[2] then return 0 end
local i = 3
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  redis.call(unpack(ARGV, i + 1, i + n))
  i = i + n + 1
end
return 1
"""


def _if_copy_is(schema: IndexSchema, target: str, digest: str, commands: Commands) -> Any:
    """An EVAL of `_IF_COPY_IS`: ``commands`` on ``target`` if its copy's digest is ``digest``."""
    args: list[Any] = [schema.storage, digest]
    for command in commands:
        args += [len(command), *command]
    return ("EVAL", _IF_COPY_IS, 1, target, *args)


def _catch_up_op(
    old: IndexSchema, new: IndexSchema, copied: Mapping[str, _Copied], batch_size: int
) -> Op[None]:
    """After the switch, make the new version what the old one became during the rebuild, then
    delete the old keys: a document written under the old prefix since it was copied (changed,
    or new) is copied again, and the copy of one deleted there since is deleted. Each of these
    happens only if the copy is still what the rebuild wrote (for a new document: if there is
    none), checked on the server in the same step: a write made through the alias after the
    switch is newer and stands. No write is lost and no deleted document comes back."""
    is_json = old.storage == "json"
    left = yield from _scan_op(old)
    still = set(left)
    gone = [(new.key(old.id_from_key(k)), c.written) for k, c in copied.items() if k not in still]
    for batch in chunks(gone, 1000):
        yield _Pipeline([_if_copy_is(new, t, d, [("UNLINK", t)]) for t, d in batch])
    for batch in chunks(left, batch_size):
        current = yield _Pipeline([("JSON.GET" if is_json else "HGETALL", key) for key in batch])
        changed = [
            key
            for key, raw in zip(batch, current)
            if raw
            and (
                key not in copied
                or copied[key].source != _copy_digest(raw if is_json else _hash(raw))
            )
        ]
        if changed:
            again = yield from _copies_op(old, new, changed)
            evals = []
            for key, (commands, _) in again.items():
                before = copied[key].written if key in copied else ""
                evals.append(_if_copy_is(new, new.key(old.id_from_key(key)), before, commands))
            if evals:
                yield _Pipeline(evals)
        yield from _unlink_op(batch)


def _unlink_op(keys: Sequence[str]) -> Op[None]:
    for batch in chunks(keys, 1000):  # one key a command: keys may span hash slots
        yield _Pipeline([("UNLINK", key) for key in batch])


def _scan_op(schema: IndexSchema, count: int = 1000) -> Op[list[str]]:
    """Every key under ``schema``'s prefixes (SCAN; a key SCAN returns twice is listed once)."""
    keys: list[str] = []
    for prefix in schema.prefixes:
        cursor = None
        while cursor != 0:
            reply = yield _Call(("SCAN", cursor or 0, "MATCH", _glob(prefix) + "*", "COUNT", count))
            cursor = int(reply[0])
            keys += [k.decode() if isinstance(k, bytes) else str(k) for k in reply[1]]
    return list(dict.fromkeys(keys))


def _glob(prefix: str) -> str:
    """``prefix`` as a literal SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", prefix)


# -- metadata updates --------------------------------------------------------------------------


def _update_metadata_op(
    index: _IndexCore[Any],
    ids: Sequence[str],
    changes: Mapping[str, Any],
    metadata_field: str | None,
    layout: DocumentLayout | None = None,
) -> Op[int]:
    if isinstance(ids, str):
        raise TypeError(f"ids must be a list of ids, got the string {ids!r}; pass [{ids!r}]")
    keys = [index.schema.key(i) for i in ids]
    return (yield from _update_keys_op(index.schema, keys, changes, metadata_field, layout))


def _update_where_op(
    index: _IndexCore[Any],
    flt: Filter,
    changes: Mapping[str, Any],
    metadata_field: str | None,
    layout: DocumentLayout | None = None,
) -> Op[int]:
    keys = yield from index._keys_op(flt)
    return (yield from _update_keys_op(index.schema, keys, changes, metadata_field, layout))


def _expire_where_op(index: _IndexCore[Any], flt: Filter, seconds: int | None) -> Op[int]:
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1
    ):
        raise ValueError(
            f"seconds must be a positive whole number of seconds or None, got {seconds!r}"
        )
    done = 0
    for keys in chunks((yield from index._keys_op(flt)), 1000):
        if seconds is None:
            replies = yield _Pipeline([("PERSIST", key) for key in keys])
            done += len(replies)
        else:
            replies = yield _Pipeline([("EXPIRE", key, seconds) for key in keys])
            done += sum(int(r) for r in replies)
    return done


def _update_keys_op(
    schema: IndexSchema,
    keys: Sequence[str],
    changes: Mapping[str, Any],
    metadata_field: str | None,
    layout: DocumentLayout | None = None,
) -> Op[int]:
    layout = layout or DocumentLayout.for_existing(schema)
    if layout.peer is not None:
        raise SchemaError(
            f"index {schema.name!r} is in {layout.peer}'s layout, which keeps metadata in places "
            "an update does not rewrite yet; nothing was changed. Copy it into redisvec's layout "
            "first (redisvec convert, or redisvec.peers.migrate), then update"
        )
    source = metadata_field or layout.metadata_field
    is_json = schema.storage == "json"
    changed_indexed = [f for f in layout.indexed if f.name in changes]
    reserved = layout.reserved - ({source} if source else set())
    bad = sorted(set(changes) & reserved)
    if bad:
        raise SchemaError(
            f"index {schema.name!r}: {bad} are the layout's own fields, not metadata; "
            "change the document (load it again) instead"
        )
    sub_layout = DocumentLayout(metadata_field=None, doc_id_field=None, node_field=None,
                                indexed=tuple(changed_indexed))  # fmt: skip
    # Another tool's documents may have no JSON copy (its fields are the metadata): asked for
    # whether each exists too, so that they are updated field by field, not given a copy.
    both = source is not None and layout.foreign and not is_json
    updated = 0
    for batch in chunks(keys, 500):
        if source is None:
            reads: Commands = [("EXISTS", key) for key in batch]
        elif is_json:
            reads = [("JSON.GET", key, f"$.{source}") for key in batch]
        else:
            reads = [c for key in batch for c in _hash_reads(key, source, both)]
        current = yield _Pipeline(reads)
        if both:
            current = [raw if raw is not None else exists for raw, exists in _pairs(current)]
        writes: Commands = []
        for key, raw in zip(batch, current):
            if not raw:
                continue
            updated += 1
            copy = source if (source is None or not layout.foreign or _has_copy(raw)) else None
            writes += _update_commands(schema, key, raw, changes, copy, sub_layout)
        if writes:
            yield _Pipeline(writes)
    return updated


def _hash_reads(key: str, source: str, exists: bool) -> Commands:
    return [("HGET", key, source), ("EXISTS", key)] if exists else [("HGET", key, source)]


def _pairs(replies: Sequence[Any]) -> list[tuple[Any, Any]]:
    return list(zip(replies[::2], replies[1::2]))


def _has_copy(raw: Any) -> bool:
    """Whether a read of the JSON copy found one: HGET's text, or JSON.GET's ``[...]`` holding
    one (``[]``: no such path); an EXISTS count (int) is no copy."""
    empty = isinstance(raw, (str, bytes)) and raw.strip() in ("[]", b"[]")
    return not (isinstance(raw, int) or empty)


def _update_commands(
    schema: IndexSchema,
    key: str,
    raw: Any,
    changes: Mapping[str, Any],
    source: str | None,
    sub_layout: DocumentLayout,
) -> Commands:
    """The commands that merge ``changes`` into the document at ``key`` (``raw``: its stored
    metadata copy, or its EXISTS reply where the layout keeps none)."""
    is_json = schema.storage == "json"
    if source is None:  # a layout without a JSON copy: the fields are the metadata
        merged = dict(changes)
    else:
        value = load_json(raw) if isinstance(raw, (str, bytes)) else raw
        if is_json:  # JSON.GET with a $ path: a list holding the stored JSON text
            value = value[0] if isinstance(value, list) and value else {}
            value = load_json(value) if isinstance(value, (str, bytes)) else value
        merged = {**(value if isinstance(value, dict) else {}), **changes}
        merged = {k: v for k, v in merged.items() if v is not None}
    values = _indexed_values(sub_layout, schema, key, merged, changes)
    if source is None:
        values.update({k: v for k, v in changes.items()
                       if v is not None and k not in schema.fields_by_name})  # fmt: skip
    else:
        values = {source: json.dumps(merged, ensure_ascii=False), **values}
    gone = [k for k in changes if k not in values and (k != source)]
    drop = [k for k in gone if k in schema.fields_by_name or source is None]
    if not is_json:
        # One HSET for the JSON copy and the indexed values: both change together.
        commands: Commands = []
        if values:
            commands.append(("HSET", key, *[x for kv in values.items() for x in kv]))
        if drop:
            commands.append(("HDEL", key, *drop))
        return commands
    commands = []
    if source:
        commands.append(("JSON.SET", key, f"$.{source}", json.dumps(values.pop(source))))
    if values:
        commands += _write_values(schema, key, values)
    return commands + [("JSON.DEL", key, _json_path(schema, k)) for k in drop]
