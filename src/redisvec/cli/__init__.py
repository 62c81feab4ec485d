"""The ``redisvec`` command line: operate indexes from a shell (the ``cli`` extra).

``redisvec index list|info|create|delete|destroy``, ``stats``, ``load``, ``search``, ``alter``,
``migrate``; ``redisvec server`` (the embedded test server) needs no extra. The connection is
``--url`` or ``REDIS_URL`` (any redis-py URL: ``rediss://`` for TLS, ``user:password@``, query
options such as ``?ssl_cert_reqs=none``). Nothing printed contains a password: connection errors
name the masked endpoint (`redisvec.connection.mask_url`).

Each command prints a table for people, or one JSON document on stdout with ``--json``. Errors are
one line on stderr and exit status 1 (2 for bad usage), never a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import Any, TypeVar

import click
import redis

import redisvec
from redisvec import evolve
from redisvec._resp import normalize_info
from redisvec.cli.files import FileError, count_records, iter_records, read_schema_file, read_vector
from redisvec.cli.output import err, out, print_json, print_pairs, print_table
from redisvec.connection import ConnectionConfig, SyncClient, mask_url, ping
from redisvec.errors import IndexNotFoundError, RedisVecError
from redisvec.index import IndexInfo, SearchIndex
from redisvec.layout import metadata_fields
from redisvec.query import FilterQuery, VectorQuery
from redisvec.schema import Field, IndexSchema

__all__ = ["cli", "main"]

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULT_URL = "redis://localhost:6379"


class Context:
    """The connection settings of one invocation; the client is made on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: SyncClient | None = None

    @property
    def client(self) -> SyncClient:
        if self._client is None:
            try:
                config = ConnectionConfig(url=self.url, retries=1, backoff_cap=0.5)
            except ValueError as exc:
                raise click.UsageError(str(exc)) from None
            client = config.sync_client()
            ping(client)
            self._client = client
        return self._client

    def index(self, name: str) -> SearchIndex:
        return SearchIndex.from_existing(self.client, name)


def _fail_cleanly(command: F) -> F:
    """Our errors and the server's become one line on stderr and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (click.ClickException, click.Abort, click.exceptions.Exit):
            raise
        except (RedisVecError, FileError, redis.RedisError, ValueError, OSError) as exc:
            message = str(exc) or type(exc).__name__
            ctx = click.get_current_context(silent=True)
            obj = ctx.find_object(Context) if ctx else None
            if obj is not None and obj.url in message:  # never echo a URL unmasked
                message = message.replace(obj.url, mask_url(obj.url))
            err.print(f"redisvec: error: {message}", markup=False, highlight=False)
            raise click.exceptions.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def _json_option(command: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document instead of tables."
    )(command)


def _index_name(command: F) -> F:
    """``NAME`` as an argument, or ``-i NAME`` as redisvl's ``rvl`` spells it."""
    command = click.argument("name", required=False)(command)
    command = click.option("-i", "--index", "index_opt", help="The index (same as NAME).")(command)

    @functools.wraps(command)
    def wrapper(*args: Any, name: str | None, index_opt: str | None, **kwargs: Any) -> Any:
        if name and index_opt and name != index_opt:
            raise click.UsageError(f"two index names given: {name!r} and -i {index_opt!r}")
        chosen = name or index_opt
        if not chosen:
            raise click.UsageError("give the index name (NAME or -i NAME)")
        return command(*args, name=chosen, **kwargs)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(redisvec.__version__, "--version", prog_name="redisvec")
@click.option(
    "--url",
    envvar="REDIS_URL",
    default=_DEFAULT_URL,
    show_default=True,
    help="Redis URL (or REDIS_URL): redis:// or rediss:// (TLS), user:password@ for ACL users.",
)
@click.pass_context
def cli(ctx: click.Context, url: str) -> None:
    """Operate Redis vector indexes: list, inspect, create, load, search and evolve them."""
    ctx.obj = Context(url)


pass_context = click.make_pass_decorator(Context)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def server(args: Sequence[str]) -> None:
    """Start an embedded Redis with search (the server extra); prints its URL."""
    from redisvec.server import main as server_main

    raise click.exceptions.Exit(server_main(list(args)))


# -- index ---------------------------------------------------------------------------------------


@cli.group()
def index() -> None:
    """List, inspect, create and delete indexes."""


def _index_names(client: SyncClient) -> list[str]:
    names = client.execute_command("FT._LIST")  # type: ignore[no-untyped-call]
    return sorted(n.decode() if isinstance(n, bytes) else str(n) for n in names)


def _alias_of(info: dict[str, Any], name: str) -> str | None:
    """The index ``name`` is an alias of (FT.INFO answers for the aliased index), or None."""
    real = str(info.get("index_name", name))
    return real if real != name else None


@index.command("list")
@_json_option
@pass_context
@_fail_cleanly
def index_list(obj: Context, as_json: bool) -> None:
    """Every index on the server, with its documents, storage and prefixes."""
    rows: list[dict[str, Any]] = []
    for name in _index_names(obj.client):
        try:
            info = normalize_info(obj.client.execute_command("FT.INFO", name))  # type: ignore[no-untyped-call]
        except redis.ResponseError:
            continue  # dropped since the listing
        definition = info.get("index_definition") or {}
        rows.append(
            {
                "name": name,
                "num_docs": int(float(info.get("num_docs", 0))),
                "storage": str(definition.get("key_type", "HASH")).lower(),
                "prefixes": [str(p) for p in definition.get("prefixes") or ()],
            }
        )
    if as_json:
        print_json(rows)
        return
    print_table(
        ("name", "docs", "storage", "prefixes"),
        [(r["name"], r["num_docs"], r["storage"], ", ".join(r["prefixes"])) for r in rows],
    )


def _memory_mb(info: dict[str, Any]) -> float:
    total = info.get("total_index_memory_sz_mb")
    if isinstance(total, (int, float)):
        return float(total) + float(info.get("vector_index_sz_mb") or 0.0)
    return sum(
        float(v) for k, v in info.items() if k.endswith("_mb") and isinstance(v, (int, float))
    )


def _info_document(name: str, reply: Any) -> dict[str, Any]:
    info = normalize_info(reply)
    summary = IndexInfo.from_reply(name, reply)
    schema = IndexSchema.from_info(reply, name)
    errors = info.get("Index Errors") or {}
    return {
        "name": name,
        "alias_of": _alias_of(info, name),
        "storage": schema.storage,
        "prefixes": list(schema.prefixes),
        "num_docs": summary.num_docs,
        "indexing": summary.indexing,
        "percent_indexed": summary.percent_indexed,
        "indexing_failures": summary.indexing_failures,
        "last_indexing_error": summary.last_indexing_error,
        "last_indexing_error_key": (
            None
            if errors.get("last indexing error key") in (None, "N/A")
            else str(errors.get("last indexing error key"))
        ),
        "memory_mb": _memory_mb(info),
        "vector_index_mb": info.get("vector_index_sz_mb"),
        "schema": schema.to_dict(),
    }


def _field_options(spec: dict[str, Any]) -> str:
    attrs = spec.get("attrs") or {}
    return " ".join(f"{k}={v!r}" for k, v in attrs.items())


@index.command("info")
@_index_name
@click.option(
    "--wait",
    "wait",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="First wait up to SECONDS for the index to finish indexing existing documents "
    "(fails if it has not by then).",
)
@_json_option
@pass_context
@_fail_cleanly
def index_info(obj: Context, name: str, wait: float | None, as_json: bool) -> None:
    """Schema, documents, indexing progress, failures (with the last error) and memory."""
    opened = obj.index(name)
    if wait is not None:
        opened.wait_indexed(timeout=wait)
    reply = opened.client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
    doc = _info_document(name, reply)
    if as_json:
        print_json(doc)
        return
    summary = {
        k: doc[k]
        for k in (
            "name",
            "alias_of",
            "storage",
            "prefixes",
            "num_docs",
            "indexing",
            "percent_indexed",
            "indexing_failures",
            "last_indexing_error",
            "last_indexing_error_key",
            "memory_mb",
        )
        if doc[k] is not None or k in ("last_indexing_error",)
    }
    summary["prefixes"] = ", ".join(doc["prefixes"])
    print_pairs(summary, title=f"index {name}")
    print_table(
        ("field", "type", "path", "options"),
        [
            (f["name"], f["type"], f.get("path", ""), _field_options(f))
            for f in doc["schema"]["fields"]
        ],
        title="fields",
    )


@index.command("create")
@click.option(
    "--schema", "schema_file", required=True, type=click.Path(dir_okay=False), help="YAML or JSON."
)
@click.option(
    "--overwrite", is_flag=True, help="Replace an existing index of that name (keeps its data)."
)
@click.option("--allow-shared-prefix", is_flag=True, help="Allow a prefix another index covers.")
@_json_option
@pass_context
@_fail_cleanly
def index_create(
    obj: Context, schema_file: str, overwrite: bool, allow_shared_prefix: bool, as_json: bool
) -> None:
    """Create an index from a schema file (the layout of IndexSchema.from_dict / redisvl)."""
    schema = read_schema_file(schema_file)
    idx = SearchIndex(schema, obj.client)
    if idx.exists() and not overwrite:
        raise click.ClickException(
            f"index {schema.name!r} already exists; use --overwrite to replace it (its documents "
            "stay) or choose another name"
        )
    idx.create(exist_ok=False, overwrite=overwrite, allow_shared_prefix=allow_shared_prefix)
    if as_json:
        print_json({"created": schema.name, "schema": schema.to_dict()})
    else:
        err.print(f"created index {schema.name!r} (prefixes {list(schema.prefixes)})")


@index.command("delete")
@_index_name
@_json_option
@pass_context
@_fail_cleanly
def index_delete(obj: Context, name: str, as_json: bool) -> None:
    """Drop the index; its documents stay in Redis."""
    _drop(obj, name, delete_documents=False, as_json=as_json)


@index.command("destroy")
@_index_name
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--force", is_flag=True, help="Even when another index covers some of the keys.")
@_json_option
@pass_context
@_fail_cleanly
def index_destroy(obj: Context, name: str, yes: bool, force: bool, as_json: bool) -> None:
    """Drop the index and delete every document it indexes (asks first unless --yes)."""
    idx = obj.index(name)
    docs = idx.info().num_docs
    if not yes:
        if not sys.stdin.isatty():
            raise click.ClickException(
                f"destroying {name!r} deletes its {docs} documents; pass --yes to confirm "
                "(no terminal to ask on)"
            )
        click.confirm(f"Delete index {name!r} and its {docs} documents?", abort=True, err=True)
    _drop(obj, name, delete_documents=True, as_json=as_json, force=force)


def _drop(
    obj: Context, name: str, *, delete_documents: bool, as_json: bool, force: bool = False
) -> None:
    idx = obj.index(name)
    info = normalize_info(obj.client.execute_command("FT.INFO", name))  # type: ignore[no-untyped-call]
    real = _alias_of(info, name)
    docs = int(float(info.get("num_docs", 0)))
    if real is not None:  # an alias (see `redisvec.evolve`): drop the index behind it, then it
        idx = SearchIndex(IndexSchema.from_info(info, real), obj.client)
    idx.drop(delete_documents=delete_documents, force=force)
    if real is not None:
        with contextlib.suppress(redis.ResponseError):  # the server removed it with its index
            obj.client.execute_command("FT.ALIASDEL", name)  # type: ignore[no-untyped-call]
    result = {
        "dropped": real or name,
        "alias": name if real else None,
        "documents_deleted": docs if delete_documents else 0,
    }
    if as_json:
        print_json(result)
    else:
        what = f"and its {docs} documents" if delete_documents else "(its documents are kept)"
        err.print(f"dropped index {real or name!r} {what}")


# -- stats ---------------------------------------------------------------------------------------

_STATS = (
    "num_docs", "num_terms", "max_doc_id", "num_records", "percent_indexed",
    "hash_indexing_failures", "number_of_uses", "bytes_per_record_avg", "doc_table_size_mb",
    "inverted_sz_mb", "key_table_size_mb", "offset_bits_per_record_avg", "offset_vectors_sz_mb",
    "offsets_per_term_avg", "records_per_doc_avg", "sortable_values_size_mb",
    "tag_overhead_sz_mb", "text_overhead_sz_mb", "total_index_memory_sz_mb",
    "total_indexing_time", "total_inverted_index_blocks", "vector_index_sz_mb",
)  # fmt: skip


@cli.command()
@_index_name
@_json_option
@pass_context
@_fail_cleanly
def stats(obj: Context, name: str, as_json: bool) -> None:
    """The index's counters from FT.INFO (as ``rvl stats``)."""
    reply = obj.index(name).client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
    info = normalize_info(reply)
    values = {k: info[k] for k in _STATS if k in info}
    if as_json:
        print_json(values)
    else:
        print_pairs(values, title=f"statistics of {name}")


# -- load / search -------------------------------------------------------------------------------


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-i", "--index", "name", required=True, help="The index to load into.")
@click.option("--id-field", default=None, help="Record field holding the id (default: 'id').")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "parquet"]), default=None)
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1))
@_json_option
@pass_context
@_fail_cleanly
def load(
    obj: Context,
    file: str,
    name: str,
    id_field: str | None,
    fmt: str | None,
    batch_size: int,
    as_json: bool,
) -> None:
    """Load records (JSONL or Parquet, vectors as lists of numbers) into an existing index.

    Records are upserted by id: ``--id-field`` (default ``id`` when the records have it, else
    new random ids). Loading the same file again is safe."""
    from rich.progress import Progress

    idx = obj.index(name)
    total = count_records(file, fmt)
    batches = iter_records(file, batch_size, fmt)
    first = next(batches, [])
    field = id_field or ("id" if first and "id" in first[0] else None)

    def records() -> Iterator[dict[str, Any]]:
        read = 0
        for batch in chain([first], batches):
            if field is not None:
                missing = [read + n + 1 for n, r in enumerate(batch) if r.get(field) is None]
                if missing:
                    raise FileError(f"{file}: record {missing[0]} has no {field!r} (the id field)")
            read += len(batch)
            yield from batch

    with Progress(console=err, transient=as_json, disable=as_json) as progress:
        task = progress.add_task(f"loading into {name}", total=total)
        # one streamed load: the file is read a batch at a time while the server writes
        loaded = len(
            idx.load(
                records(),
                id_field=field,
                batch_size=batch_size,
                progress=lambda n: progress.advance(task, n),
            )
        )
    if as_json:
        print_json({"index": name, "loaded": loaded})
    else:
        err.print(f"loaded {loaded} records into {name!r}")


@cli.command()
@_index_name
@click.option("-f", "--filter", "flt", default=None, help="A query filter, e.g. '@genre:{drama}'.")
@click.option(
    "-v",
    "--vector",
    "vector_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Query vector: .npy, a JSON list, or numbers.",
)
@click.option("-k", "--limit", "k", default=10, show_default=True, type=click.IntRange(1))
@click.option("-r", "--return", "return_fields", default=None, help="Fields to print: a,b,c.")
@_json_option
@pass_context
@_fail_cleanly
def search(
    obj: Context,
    name: str,
    flt: str | None,
    vector_file: str | None,
    k: int,
    return_fields: str | None,
    as_json: bool,
) -> None:
    """Nearest neighbours of a vector and/or the records matching a filter."""
    idx = obj.index(name)
    fields = [f for f in return_fields.split(",") if f] if return_fields else None
    if vector_file is not None:
        result = idx.search(
            VectorQuery(read_vector(vector_file), k=k, filter=flt, return_fields=fields)
        )
    else:
        result = idx.search(FilterQuery(flt, limit=k, return_fields=fields))
    vectors = {f.name for f in idx.schema.vector_fields}
    hits: list[dict[str, Any]] = [
        {
            "id": h.id,
            "distance": h.distance,
            "fields": {n: v for n, v in h.fields.items() if n not in vectors},
        }
        for h in result.hits
    ]
    if as_json:
        print_json({"total": result.total, "hits": hits})
        return
    # A stored "id" field repeats the id column.
    columns = list(dict.fromkeys(n for h in hits for n in h["fields"] if n != "id"))
    with_distance = vector_file is not None
    head = ["id", *(["distance"] if with_distance else []), *columns]
    rows = [
        [
            h["id"],
            *([h["distance"]] if with_distance else []),
            *(h["fields"].get(c, "") for c in columns),
        ]
        for h in hits
    ]
    print_table(head, rows, title=f"{len(hits)} of {result.total} matches")


# -- schema evolution (redisvec.evolve) ----------------------------------------------------------


def _field_spec(text: str) -> Field:
    name, sep, kind = text.partition(":")
    if not sep or not name or not kind:
        raise click.BadParameter(f"{text!r}: give NAME:TYPE, e.g. genre:tag or year:numeric")
    return metadata_fields([{"name": name, "type": kind}])[0]


def _run_plan(obj: Context, the_plan: evolve.Plan, dry_run: bool, as_json: bool) -> None:
    if dry_run or the_plan.empty:
        if as_json:
            print_json({**the_plan.as_dict(), "dry_run": dry_run})
        else:
            for line in the_plan.describe():
                out.print(line, markup=False, highlight=False)
        return
    from rich.progress import Progress

    total = SearchIndex(the_plan.current, obj.client).info().num_docs
    with Progress(console=err, disable=as_json) as progress:
        task = progress.add_task(f"evolving {the_plan.name}", total=total or None)
        done = evolve.apply(obj.client, the_plan, progress=lambda n: progress.advance(task, n))
    if as_json:
        print_json({**the_plan.as_dict(), **done})
    else:
        for line in the_plan.describe():
            out.print(f"done: {line}", markup=False, highlight=False)
        extra = {k: v for k, v in done.items() if k not in ("index", "changed")}
        out.print(json.dumps(extra), markup=False, highlight=False)


@cli.command()
@_index_name
@click.option(
    "-a", "--add-field", "add", multiple=True, required=True, help="NAME:TYPE (tag, text, ...)."
)
@click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
@_json_option
@pass_context
@_fail_cleanly
def alter(obj: Context, name: str, add: Sequence[str], dry_run: bool, as_json: bool) -> None:
    """Add fields to a live index (FT.ALTER) and backfill them from each document's stored
    metadata, without re-embedding. Tags split on \\x1f and missing values are indexed, as
    metadata_schema fields of the adapters."""
    fields = [_field_spec(a) for a in add]
    _, current = evolve.resolve(obj.client, name)
    the_plan = evolve.plan(obj.client, name, current.with_fields(*fields))
    _run_plan(obj, the_plan, dry_run, as_json)


@cli.command()
@_index_name
@click.option("--schema", "schema_file", type=click.Path(dir_okay=False), help="Target schema.")
@click.option("--datatype", default=None, help="New vector datatype, e.g. float16.")
@click.option("--algorithm", default=None, help="New vector algorithm: flat or hnsw.")
@click.option("--distance-metric", default=None, help="New distance metric.")
@click.option("--prefix", default=None, help="New key prefix (documents are copied).")
@click.option("--dry-run", is_flag=True, help="Show the plan; write nothing.")
@_json_option
@pass_context
@_fail_cleanly
def migrate(
    obj: Context,
    name: str,
    schema_file: str | None,
    datatype: str | None,
    algorithm: str | None,
    distance_metric: str | None,
    prefix: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Change what FT.ALTER cannot (vector datatype, algorithm, metric, prefix, field types):
    build a new index version beside the live one, then switch NAME to it atomically (an alias),
    so queries keep working throughout. Fields only added are added with FT.ALTER instead."""
    _, current = evolve.resolve(obj.client, name)
    target = read_schema_file(schema_file) if schema_file else current
    vector = {"datatype": datatype, "algorithm": algorithm, "distance_metric": distance_metric}
    changes: dict[str, Any] = {k: v for k, v in vector.items() if v is not None}
    if changes:
        vf = target.vector_field
        target = target.with_fields(dataclasses.replace(vf, **changes))
    if prefix is not None:
        target = dataclasses.replace(target, prefixes=(prefix,))
    if target is current:
        raise click.UsageError("nothing to change: give --schema or a new setting")
    _run_plan(obj, evolve.plan(obj.client, name, target), dry_run, as_json)


@cli.command()
@_index_name
@click.option("--to", "target", required=True, help="The new index, in redisvec's layout.")
@click.option("--prefix", default=None, help="Its key prefix (default: '<new index>:').")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1))
@click.option(
    "--resume-from", default=None, type=click.IntRange(0), help="The checkpoint a cut run printed."
)
@_json_option
@pass_context
@_fail_cleanly
def convert(
    obj: Context,
    name: str,
    target: str,
    prefix: str | None,
    batch_size: int,
    resume_from: int | None,
    as_json: bool,
) -> None:
    """Copy an index written by langchain-redis, llama-index-vector-stores-redis or redisvl
    (or redisvec) into a new index in redisvec's own layout, without re-embedding: vectors are
    copied as stored. Resumable: an interrupted run prints its checkpoint for --resume-from.
    The source is left as it is."""
    from rich.progress import Progress

    from redisvec.peers import MigrationProgress, migrate

    last: list[MigrationProgress] = []
    with Progress(console=err, disable=as_json) as bar:
        task = bar.add_task(f"converting {name} -> {target}", total=None)

        def step(p: MigrationProgress) -> None:
            last[:] = [p]
            bar.update(task, completed=p.copied, total=p.total or None)

        try:
            copied = migrate(
                obj.client, name, target, target_prefix=prefix, batch_size=batch_size,
                resume_from=resume_from, progress=step,
            )  # fmt: skip
        except (Exception, KeyboardInterrupt):
            if last and last[0].checkpoint is not None:
                err.print(
                    f"redisvec: interrupted after {last[0].copied} documents; resume with "
                    f"--resume-from {last[0].checkpoint}",
                    markup=False,
                )
            raise
    result = {"source": name, "index": target, "copied": copied}
    if as_json:
        print_json(result)
    else:
        print_pairs(result)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="redisvec")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except IndexNotFoundError as exc:  # pragma: no cover - commands catch it themselves
        err.print(f"redisvec: error: {exc}", markup=False)
        return 1
    return 0


__all__ += ["out"]
