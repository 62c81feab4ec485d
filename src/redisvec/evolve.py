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
  new) is copied again after the switch before its old key goes, so no write made during the
  rebuild is lost; a write in the instant between that last read and the delete still can be:
  pause writers for a datatype change if you cannot afford even that.
- **Update metadata** (`update_metadata`, `update_where`): merge changes into each document's
  metadata JSON and rewrite the indexed copies of the changed keys in the same command, vectors
  untouched.

A dimension change needs new embeddings and is refused with that reason.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any, NamedTuple

import numpy as np
import redis

from redisvec._resp import normalize_info
from redisvec.connection import SyncClient
from redisvec.errors import SchemaError, SchemaMismatchError
from redisvec.filters import FilterExpression
from redisvec.index import SearchIndex
from redisvec.layout import DocumentLayout, load_json
from redisvec.query import codec_for
from redisvec.records import chunks, prepare_records
from redisvec.schema import Field, IndexSchema, VectorField

__all__ = [
    "Plan",
    "RebuildReport",
    "add_fields",
    "apply",
    "expire_where",
    "plan",
    "rebuild",
    "resolve",
    "update_metadata",
    "update_where",
]

_VERSION = re.compile(r"__v(\d+)$")
Progress = Callable[[int], None]


def resolve(client: SyncClient, name: str) -> tuple[str, IndexSchema]:
    """The index behind ``name`` (itself, or what the alias points at) and its schema (named
    ``name``: queries go through the name people use)."""
    reply = client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
    physical = str(normalize_info(reply).get("index_name", name))
    return physical, SearchIndex.from_existing(client, name).schema


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


def plan(client: SyncClient, name: str, target: IndexSchema) -> Plan:
    """Compare index ``name`` with ``target`` (whose own name is ignored); writes nothing."""
    physical, current = resolve(client, name)
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


def apply(
    client: SyncClient, the_plan: Plan, *, progress: Progress | None = None, timeout: float = 600
) -> dict[str, Any]:
    """Carry out a `plan`; returns what was done."""
    if the_plan.empty:
        return {"index": the_plan.name, "changed": False}
    if the_plan.needs_rebuild:
        report = rebuild(client, the_plan, progress=progress, timeout=timeout)
        return {"index": the_plan.name, "changed": True, **report.__dict__}
    written = add_fields(client, the_plan.name, the_plan.add, progress=progress)
    return {"index": the_plan.name, "changed": True, "added": [f.name for f in the_plan.add],
            "backfilled": written}  # fmt: skip


# -- adding fields -----------------------------------------------------------------------------


def _alter_args(schema: IndexSchema, f: Field) -> list[str]:
    path = schema.with_fields(f).field_path(f.name)
    return [*([path] if path == f.name else [path, "AS", f.name]), *f._args()]


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
    _, schema = resolve(client, name)
    clash = [f.name for f in fields if f.name in schema.fields_by_name]
    if clash:
        raise SchemaError(f"index {name!r} already has field(s) {clash}")
    target = schema.with_fields(*fields)
    for f in fields:  # FT.ALTER goes through an alias too
        client.execute_command("FT.ALTER", name, "SCHEMA", "ADD", *_alter_args(schema, f))  # type: ignore[no-untyped-call]
    return backfill(
        client, target, fields, metadata_field=metadata_field, batch_size=batch_size,
        progress=progress,
    )  # fmt: skip


def _metadata_field(schema: IndexSchema, given: str | None) -> str | None:
    return given or DocumentLayout.for_existing(schema).metadata_field


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
    source = _metadata_field(schema, metadata_field)
    if source is None or not fields:
        return 0
    is_json = schema.storage == "json"
    paths = [schema.field_path(f.name) for f in fields]
    layout = DocumentLayout(metadata_field=None, doc_id_field=None, node_field=None,
                            indexed=tuple(fields))  # fmt: skip
    written = 0
    # Every key first: a document rewritten while a cursor walks the index is re-indexed under a
    # new internal id, so the cursor would miss some documents and see others twice.
    # FT.ALTER's own rescan re-indexes every document too: wait for it to end.
    _wait_indexed(client, schema.name, timeout=600)
    found = SearchIndex(schema, client).iter_keys(None, batch_size=5000)
    listed = list(dict.fromkeys(k for b in found for k in b))
    for keys in chunks(listed, batch_size):
        pipe = client.pipeline(transaction=False)
        for key in keys:
            if is_json:
                pipe.execute_command("JSON.GET", key, f"$.{source}", *paths)
            else:
                pipe.execute_command("HMGET", key, source, *paths)
        replies = pipe.execute()
        pipe = client.pipeline(transaction=False)
        pending = 0
        for key, reply in zip(keys, replies):
            metadata, present = _split_reply(reply, is_json, f"$.{source}", paths)
            todo = [f for f, have in zip(fields, present) if not have]
            if metadata is None or not todo:
                continue
            values = _indexed_values(layout, schema, key, metadata, {f.name for f in todo})
            if values:
                _write_values(pipe, schema, key, values)
                pending += 1
        if pending:
            pipe.execute()
            written += pending
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


def _write_values(pipe: Any, schema: IndexSchema, key: str, values: Mapping[str, Any]) -> None:
    if schema.storage == "json":
        for name, value in values.items():
            path = schema.field_path(name) if name in schema.fields_by_name else f"$.{name}"
            pipe.execute_command("JSON.SET", key, path, json.dumps(value, ensure_ascii=False))
    else:
        pipe.execute_command("HSET", key, *[x for kv in values.items() for x in kv])


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


def _wait_indexed(client: SyncClient, name: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info = normalize_info(client.execute_command("FT.INFO", name))  # type: ignore[no-untyped-call]
        done = (
            not int(float(info.get("indexing", 0))) and float(info.get("percent_indexed", 1)) >= 1
        )
        if done:
            return info
        if time.monotonic() > deadline:
            raise TimeoutError(f"index {name!r} was still indexing after {timeout} s")
        time.sleep(0.05)


def rebuild(
    client: SyncClient,
    the_plan: Plan,
    *,
    batch_size: int = 500,
    progress: Progress | None = None,
    timeout: float = 600,
) -> RebuildReport:
    """Build ``the_plan.target`` as a new index version and switch ``the_plan.name`` to it."""
    started = time.monotonic()
    name, old_physical, current = the_plan.name, the_plan.physical, the_plan.current
    version = next_version(old_physical, name)
    prefixes = the_plan.new_prefixes or current.prefixes
    new_schema = replace(the_plan.target, name=version, prefixes=prefixes,
                         key_separator=current.key_separator)  # fmt: skip
    new_index = SearchIndex(new_schema, client)
    if new_index.exists():
        raise SchemaMismatchError(
            f"index {version!r} already exists (an interrupted rebuild?); drop it first "
            f"(redisvec index destroy {version} --yes, if its prefix {list(prefixes)} is not "
            "the live one) and run again"
        )
    copied: dict[str, _Copied] = {}  # old key -> what its copy was made from, and is
    new_index.create(exist_ok=False, allow_shared_prefix=True)
    try:
        if the_plan.new_prefixes is not None:
            # SCAN, not a search cursor: a document rewritten during the walk would move in the
            # index and be skipped by the cursor; SCAN returns every key that stays throughout.
            for keys in _scan(client, current, batch_size):
                copied.update(_copy(client, current, new_schema, keys))
                if progress is not None:
                    progress(len(keys))
        backfilled = backfill(client, new_schema, the_plan.add, batch_size=batch_size)
        new_info = _wait_indexed(client, version, timeout)
        # What the new version must hold now: every copy made (writers may have added or
        # deleted documents since the start), or, on the same keys, what the old one holds now.
        if copied:
            old_docs = sum(len(keys) for keys in _scan(client, new_schema, batch_size))
        else:
            old_info = normalize_info(client.execute_command("FT.INFO", old_physical))  # type: ignore[no-untyped-call]
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
        new_index.drop(delete_documents=False)
        _unlink(client, [new_schema.key(current.id_from_key(k)) for k in copied])
        raise
    _switch(client, name, old_physical, version)
    if the_plan.new_prefixes is not None:
        _catch_up(client, current, new_schema, copied, batch_size)
    return RebuildReport(
        old_index=old_physical,
        new_index=version,
        copied=len(copied),
        num_docs=new_docs,
        seconds=round(time.monotonic() - started, 3),
        backfilled=backfilled,
        prefixes=list(prefixes),
    )


def _switch(client: SyncClient, name: str, old_physical: str, version: str) -> None:
    """``name`` -> ``version`` in one step; the old version's index goes (its keys stay)."""
    if old_physical != name:  # already an alias
        client.execute_command("FT.ALIASUPDATE", name, version)  # type: ignore[no-untyped-call]
        client.execute_command("FT.DROPINDEX", old_physical)  # type: ignore[no-untyped-call]
        return
    # The first time the name is a real index: drop it and put the alias in its place, atomically.
    pipe = client.pipeline(transaction=True)
    pipe.execute_command("FT.DROPINDEX", name)
    pipe.execute_command("FT.ALIASADD", name, version)
    pipe.execute()


class _Copied(NamedTuple):
    """What one document's copy was made from and what was written (digests): the catch-up tells
    by the first whether the old document changed since, by the second whether a writer has
    changed the copy since the switch (then the writer's version stands)."""

    source: bytes
    written: bytes


def _read(client: SyncClient, schema: IndexSchema, keys: Sequence[str]) -> list[tuple[Any, int]]:
    """Each key's document (HGETALL as a dict, or the JSON text; empty if gone) and its PTTL."""
    is_json = schema.storage == "json"
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.execute_command("JSON.GET" if is_json else "HGETALL", key)
        pipe.execute_command("PTTL", key)
    replies = pipe.execute()
    docs = [_as_doc(raw, is_json) for raw in replies[::2]]
    return list(zip(docs, (int(t) for t in replies[1::2]), strict=True))


def _as_doc(raw: Any, is_json: bool) -> Any:
    if not raw or is_json:
        return raw
    return dict(raw.items()) if isinstance(raw, Mapping) else dict(zip(raw[::2], raw[1::2]))


def _copy_commands(
    old: IndexSchema, new: IndexSchema, key: str, doc: Any, ttl: int
) -> tuple[list[tuple[Any, ...]], _Copied]:
    """The commands that write ``doc`` of ``old``'s key ``key`` under ``new``'s prefix (vectors
    re-encoded to ``new``'s datatype on HASH; its TTL kept), and the digests of the copy."""
    target = new.key(old.id_from_key(key))
    if old.storage == "json":
        commands: list[tuple[Any, ...]] = [("JSON.SET", target, "$", doc)]
        copied = _Copied(_fingerprint(doc), _fingerprint(doc))
    else:
        source = _fingerprint(doc)
        doc = dict(doc)
        for vf in old.vector_fields:
            nf = new.fields_by_name.get(vf.name)
            if isinstance(nf, VectorField) and nf.datatype != vf.datatype:
                src, dst = codec_for(old, vf), codec_for(new, nf)
                blob = doc.get(vf.name.encode())
                if isinstance(blob, bytes) and len(blob) == src.byte_length:
                    doc[vf.name.encode()] = dst.encode(
                        np.frombuffer(blob, dtype=src.dtype).astype(np.float32)
                    )
        # DEL first: a stale field of an earlier copy must go too
        commands = [("DEL", target), ("HSET", target, *[x for kv in doc.items() for x in kv])]
        copied = _Copied(source, _fingerprint(doc))
    if ttl > 0:
        commands.append(("PEXPIRE", target, ttl))
    return commands, copied


def _copy(
    client: SyncClient, old: IndexSchema, new: IndexSchema, keys: Sequence[str]
) -> dict[str, _Copied]:
    """Copy the documents at ``keys`` of ``old`` under ``new``'s prefix; returns each copied
    key's digests (keys deleted since the listing are skipped)."""
    pipe = client.pipeline(transaction=False)
    copied: dict[str, _Copied] = {}
    for key, (doc, ttl) in zip(keys, _read(client, old, keys), strict=True):
        if doc:
            commands, copied[key] = _copy_commands(old, new, key, doc, ttl)
            for command in commands:
                pipe.execute_command(*command)
    pipe.execute()
    return copied


def _fingerprint(raw: Any) -> bytes:
    items = sorted(raw.items()) if isinstance(raw, Mapping) else raw
    return hashlib.blake2b(repr(items).encode(), digest_size=16).digest()


def _if_copy_unchanged(
    client: SyncClient, schema: IndexSchema, target: str, expected: bytes | None,
    commands: Sequence[tuple[Any, ...]],
) -> None:  # fmt: skip
    """Run ``commands`` in one transaction if ``target`` still holds what the rebuild wrote
    (digest ``expected``; None: no document). A writer that changed it after the switch wins:
    the commands are then dropped."""
    is_json = schema.storage == "json"
    with client.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(target)
            doc = _as_doc(
                pipe.execute_command("JSON.GET" if is_json else "HGETALL", target), is_json
            )
            if (_fingerprint(doc) if doc else None) != expected:
                return
            pipe.multi()
            for command in commands:
                pipe.execute_command(*command)
            pipe.execute()
        except redis.exceptions.WatchError:
            return  # written meanwhile: the writer's version stands


def _catch_up(
    client: SyncClient,
    old: IndexSchema,
    new: IndexSchema,
    copied: Mapping[str, _Copied],
    batch_size: int,
) -> None:
    """After the switch, make the new version what the old one became during the rebuild, then
    delete the old keys: a document written under the old prefix since it was copied (changed,
    or new) is copied again, and the copy of one deleted since is deleted, unless a writer has
    changed that copy after the switch (the later write wins). No write made during the rebuild
    is lost and no deleted document comes back."""
    seen: set[str] = set()
    for batch in _scan(client, old, batch_size):
        for key, (doc, ttl) in zip(batch, _read(client, old, batch), strict=True):
            if not doc:
                continue
            seen.add(key)
            before = copied.get(key)
            if before is None or before.source != _fingerprint(doc):
                commands, _ = _copy_commands(old, new, key, doc, ttl)
                target = new.key(old.id_from_key(key))
                expected = None if before is None else before.written
                _if_copy_unchanged(client, new, target, expected, commands)
        _unlink(client, batch)
    for key, copy in copied.items():
        if key not in seen:  # deleted under the old prefix after it was copied
            target = new.key(old.id_from_key(key))
            _if_copy_unchanged(client, new, target, copy.written, [("UNLINK", target)])


def _scan(client: SyncClient, schema: IndexSchema, batch_size: int) -> Iterable[list[str]]:
    """Every key under ``schema``'s prefixes, ``batch_size`` at a time, as SCAN returns them (a
    key SCAN returns twice comes twice: copying and deleting are idempotent); at most one batch of
    keys is held, whatever the size of the index."""
    for prefix in schema.prefixes:
        keys = client.scan_iter(match=_glob(prefix) + "*", count=batch_size)
        while batch := [
            k.decode() if isinstance(k, bytes) else str(k) for k in islice(keys, batch_size)
        ]:
            yield batch


def _glob(prefix: str) -> str:
    """``prefix`` as a literal SCAN MATCH pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", prefix)


def _unlink(client: SyncClient, keys: Sequence[str]) -> None:
    for batch in chunks(keys, 1000):
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.execute_command("UNLINK", key)
        pipe.execute()


# -- metadata updates --------------------------------------------------------------------------


def update_metadata(
    index: SearchIndex,
    ids: Sequence[str],
    changes: Mapping[str, Any],
    *,
    metadata_field: str | None = None,
) -> int:
    """Merge ``changes`` into the metadata of documents ``ids`` (a value of None removes the
    key); the indexed copies of the changed keys are rewritten in the same command, so filters
    and the stored metadata agree. Vectors are untouched. Returns how many documents existed."""
    if isinstance(ids, str):
        raise TypeError(f"ids must be a list of ids, got the string {ids!r}; pass [{ids!r}]")
    return _update_keys(index, [index.schema.key(i) for i in ids], changes, metadata_field)


def update_where(
    index: SearchIndex,
    filter: FilterExpression | str | None,
    changes: Mapping[str, Any],
    *,
    metadata_field: str | None = None,
) -> int:
    """`update_metadata` on every document matching ``filter``; returns how many were updated.
    The matching keys are listed first (a cursor), so documents the update makes match or
    stop matching are updated once."""
    keys = [k for batch in index.iter_keys(filter) for k in batch]
    return _update_keys(index, keys, changes, metadata_field)


def expire_where(
    index: SearchIndex, filter: FilterExpression | str | None, seconds: int | None
) -> int:
    """Give every document matching ``filter`` a time to live of ``seconds`` (None: keep it
    forever, ``PERSIST``); returns how many documents were set. Keys are listed first (a cursor)
    and set one command each, so this works whatever hash slots they live in."""
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 1
    ):
        raise ValueError(
            f"seconds must be a positive whole number of seconds or None, got {seconds!r}"
        )
    done = 0
    for keys in index.iter_keys(filter):
        pipe = index.client.pipeline(transaction=False)
        for key in keys:
            if seconds is None:
                pipe.execute_command("PERSIST", key)
            else:
                pipe.execute_command("EXPIRE", key, seconds)
        replies = pipe.execute()
        done += len(replies) if seconds is None else sum(int(r) for r in replies)
    return done


def _update_keys(
    index: SearchIndex,
    keys: Sequence[str],
    changes: Mapping[str, Any],
    metadata_field: str | None,
) -> int:
    schema, client = index.schema, index.client
    source = _metadata_field(schema, metadata_field)
    is_json = schema.storage == "json"
    layout = DocumentLayout.for_existing(schema)
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
    updated = 0
    for batch in chunks(keys, 500):
        current: list[Any]
        pipe = client.pipeline(transaction=False)
        for key in batch:
            if source is None:
                pipe.execute_command("EXISTS", key)
            elif is_json:
                pipe.execute_command("JSON.GET", key, f"$.{source}")
            else:
                pipe.execute_command("HGET", key, source)
        current = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for key, raw in zip(batch, current):
            if not raw:
                continue
            updated += 1
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
                text = json.dumps(merged, ensure_ascii=False)
                values = {source: text, **values}
            gone = [k for k in changes if k not in values and (k != source)]
            if is_json:
                if source:
                    copy = json.dumps(values.pop(source))
                    pipe.execute_command("JSON.SET", key, f"$.{source}", copy)
                if values:
                    _write_values(pipe, schema, key, values)
                for k in gone:
                    if k in schema.fields_by_name or source is None:
                        path = schema.field_path(k) if k in schema.fields_by_name else f"$.{k}"
                        pipe.execute_command("JSON.DEL", key, path)
            else:
                # One HSET for the JSON copy and the indexed values: both change together.
                if values:
                    pipe.execute_command("HSET", key, *[x for kv in values.items() for x in kv])
                drop = [k for k in gone if k in schema.fields_by_name or source is None]
                if drop:
                    pipe.execute_command("HDEL", key, *drop)
        pipe.execute()
    return updated
