"""Index schemas: what an index holds, how to create it, and how to read one back from a server.

One `IndexSchema` describes a Redis Query Engine index: its name, the key prefixes it indexes,
HASH or JSON storage, and its fields. It renders the exact ``FT.CREATE`` arguments, reads and
writes redisvl's dict/YAML layout (so existing schema files keep working), and rebuilds itself
from ``FT.INFO`` so that an index made by any tool (raw redis-py, redisvl, langchain-redis) can be
opened and checked against what a caller asked for.

Options are lower-case in Python and upper-case on the wire; input is case-insensitive.

Server-version notes: FLOAT16/BFLOAT16 need search 2.10, INT8/UINT8 need Redis 8.0 and
SVS-VAMANA needs Redis 8.2. They are accepted here; an older server rejects ``FT.CREATE``.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, fields, replace
from dataclasses import field as dataclass_field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

import redis

from redisvec._resp import normalize_info
from redisvec.connection import connection_error
from redisvec.errors import SchemaError, translate_server_error
from redisvec.memo import memo_put as memo_put  # its old home

if TYPE_CHECKING:
    from redisvec.connection import AsyncClient, SyncClient

__all__ = [
    "ALGORITHMS",
    "DATATYPES",
    "DISTANCE_METRICS",
    "Field",
    "GeoField",
    "IndexSchema",
    "NumericField",
    "TagField",
    "TextField",
    "VectorField",
]

DISTANCE_METRICS = ("cosine", "l2", "ip")
DATATYPES = ("float32", "float64", "float16", "bfloat16", "int8", "uint8")
# Options that belong to each algorithm, in the order they go on the wire.
_ALGORITHM_OPTIONS: dict[str, tuple[str, ...]] = {
    "flat": ("block_size", "initial_cap"),
    "hnsw": ("m", "ef_construction", "ef_runtime", "epsilon", "initial_cap"),
    "svs-vamana": (
        "compression",
        "graph_max_degree",
        "construction_window_size",
        "search_window_size",
        "training_threshold",
        "reduce",
        "epsilon",
    ),
}
ALGORITHMS = tuple(_ALGORITHM_OPTIONS)
_TUNING = tuple(dict.fromkeys(o for opts in _ALGORITHM_OPTIONS.values() for o in opts))
_COMPRESSIONS = ("LVQ8", "LVQ4", "LVQ4x4", "LVQ4x8", "LeanVec4x8", "LeanVec8x8")
# What FT.INFO reports when an option was not given: read back as None ("server default").
_SERVER_DEFAULTS: dict[str, object] = {
    "m": 16,
    "ef_construction": 200,
    "ef_runtime": 10,
    "epsilon": 0.01,
    "block_size": 1024,
}
# Must equal redisvec.query.DISTANCE_ALIAS: a field of that name would clash with the alias.
_DISTANCE_ALIAS = "__vector_distance"


def _fail(name: object, message: str) -> NoReturn:
    raise SchemaError(f"field {name!r}: {message}")


def _check_name(name: object) -> None:
    if not isinstance(name, str) or not name:
        raise SchemaError(f"a field name must be a non-empty string, got {name!r}")
    if name == _DISTANCE_ALIAS:
        _fail(name, f"{_DISTANCE_ALIAS!r} is reserved for the vector distance; rename the field")


def _check_common(obj: Any, flags: Sequence[str]) -> None:
    _check_name(obj.name)
    if obj.path is not None and (not isinstance(obj.path, str) or not obj.path):
        _fail(obj.name, f"path must be a non-empty string or None, got {obj.path!r}")
    for flag in flags:
        value = getattr(obj, flag)
        if not isinstance(value, bool):
            _fail(obj.name, f"{flag} must be True or False, got {value!r}")


def _number(value: object) -> str:
    """A number as the server reads it: ints plainly, floats without losing precision."""
    return str(value) if isinstance(value, int) else repr(float(value))  # type: ignore[arg-type]


@dataclass(frozen=True)
class TextField:
    """Full-text field (stemmed, tokenized); ``weight`` scales its score in text queries."""

    type: ClassVar[str] = "text"
    name: str
    _: KW_ONLY
    path: str | None = None
    weight: float = 1.0
    no_stem: bool = False
    sortable: bool = False
    index_missing: bool = False
    index_empty: bool = False

    def __post_init__(self) -> None:
        _check_common(self, ("no_stem", "sortable", "index_missing", "index_empty"))
        w = self.weight
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            _fail(self.name, f"weight must be a finite number >= 0, got {w!r} (1.0 is neutral)")
        object.__setattr__(self, "weight", float(w))

    def _args(self) -> list[str]:
        args = ["TEXT"]
        if self.weight != 1.0:
            args += ["WEIGHT", _number(self.weight)]
        if self.no_stem:
            args.append("NOSTEM")
        return args + _tail(self)


@dataclass(frozen=True)
class TagField:
    """Exact-match field. A stored string is split on ``separator`` into several tags.

    ``separator=None`` means "no separator" and exists only for JSON storage, where it is the
    server's default when ``FT.CREATE`` gives none: a JSON array holds the tags and a string is
    one tag. HASH storage always splits (the server's default there is ``,``).
    """

    type: ClassVar[str] = "tag"
    name: str
    _: KW_ONLY
    path: str | None = None
    separator: str | None = ","
    case_sensitive: bool = False
    sortable: bool = False
    index_missing: bool = False
    index_empty: bool = False

    def __post_init__(self) -> None:
        _check_common(self, ("case_sensitive", "sortable", "index_missing", "index_empty"))
        sep = self.separator
        if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
            _fail(
                self.name,
                f"separator must be exactly one character, got {sep!r}; use e.g. ',' or '\\x1f' "
                "(a control character cannot occur in ordinary values)",
            )

    def _args(self) -> list[str]:
        args = ["TAG"]
        if self.separator is not None:
            args += ["SEPARATOR", self.separator]
        if self.case_sensitive:
            args.append("CASESENSITIVE")
        return args + _tail(self)


@dataclass(frozen=True)
class NumericField:
    """Numeric field for range filters and sorting."""

    type: ClassVar[str] = "numeric"
    name: str
    _: KW_ONLY
    path: str | None = None
    sortable: bool = False
    index_missing: bool = False

    def __post_init__(self) -> None:
        _check_common(self, ("sortable", "index_missing"))

    def _args(self) -> list[str]:
        return ["NUMERIC", *_tail(self)]


@dataclass(frozen=True)
class GeoField:
    """Geographic point (``"lon,lat"``) for radius filters."""

    type: ClassVar[str] = "geo"
    name: str
    _: KW_ONLY
    path: str | None = None
    index_missing: bool = False

    def __post_init__(self) -> None:
        _check_common(self, ("index_missing",))

    def _args(self) -> list[str]:
        return ["GEO", *_tail(self)]


def _tail(f: Any) -> list[str]:
    # The server wants INDEXEMPTY / INDEXMISSING before SORTABLE ("Field `INDEXMISSING` does
    # not have a type" otherwise).
    out = []
    if getattr(f, "index_empty", False):
        out.append("INDEXEMPTY")
    if getattr(f, "index_missing", False):
        out.append("INDEXMISSING")
    if getattr(f, "sortable", False):
        out.append("SORTABLE")
    return out


@dataclass(frozen=True)
class VectorField:
    """Vector field. Only the options of its algorithm may be set (``None`` = server default).

    HNSW: m, ef_construction, ef_runtime, epsilon, initial_cap. FLAT: block_size, initial_cap.
    SVS-VAMANA (Redis 8.2+): compression, graph_max_degree, construction_window_size,
    search_window_size, training_threshold, reduce, epsilon.
    """

    type: ClassVar[str] = "vector"
    name: str
    _: KW_ONLY
    path: str | None = None
    dims: int
    algorithm: str = "hnsw"
    datatype: str = "float32"
    distance_metric: str = "cosine"
    m: int | None = None
    ef_construction: int | None = None
    ef_runtime: int | None = None
    epsilon: float | None = None
    block_size: int | None = None
    initial_cap: int | None = None
    compression: str | None = None
    graph_max_degree: int | None = None
    construction_window_size: int | None = None
    search_window_size: int | None = None
    training_threshold: int | None = None
    reduce: int | None = None

    def __post_init__(self) -> None:
        _check_common(self, ())
        n = self.name
        if isinstance(self.dims, bool) or not isinstance(self.dims, int) or self.dims <= 0:
            _fail(
                n,
                f"dims must be a positive integer, got {self.dims!r}; "
                "use your embedding model's output size (e.g. 1536)",
            )
        for option, allowed in (
            ("algorithm", ALGORITHMS),
            ("datatype", DATATYPES),
            ("distance_metric", DISTANCE_METRICS),
        ):
            value = getattr(self, option)
            canonical = value.lower() if isinstance(value, str) else value
            if canonical not in allowed:
                _fail(n, f"unknown {option} {value!r}; allowed: {', '.join(allowed)}")
            object.__setattr__(self, option, canonical)
        own = _ALGORITHM_OPTIONS[self.algorithm]
        for option in _TUNING:
            value = getattr(self, option)
            if value is None:
                continue
            if option not in own:
                owners = [a for a, opts in _ALGORITHM_OPTIONS.items() if option in opts]
                _fail(
                    n,
                    f"{option}={value!r} does not apply to algorithm {self.algorithm!r} (it is "
                    f"an option of {' / '.join(owners)}); options of {self.algorithm}: "
                    f"{', '.join(own)}",
                )
            if option == "compression":
                by_lower = {c.lower(): c for c in _COMPRESSIONS}
                if not isinstance(value, str) or value.lower() not in by_lower:
                    _fail(n, f"unknown compression {value!r}; allowed: {', '.join(_COMPRESSIONS)}")
                object.__setattr__(self, option, by_lower[value.lower()])
            elif option == "epsilon":
                ok = isinstance(value, int | float) and not isinstance(value, bool)
                if not ok or not math.isfinite(value) or value <= 0:
                    _fail(n, f"epsilon must be a positive number, got {value!r}")
                object.__setattr__(self, option, float(value))
            elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                _fail(n, f"{option} must be a positive integer, got {value!r}")

    def _args(self) -> list[str]:
        params = [
            "TYPE",
            self.datatype.upper(),
            "DIM",
            str(self.dims),
            "DISTANCE_METRIC",
            self.distance_metric.upper(),
        ]
        for option in _ALGORITHM_OPTIONS[self.algorithm]:
            value = getattr(self, option)
            if value is not None:
                params += [option.upper(), value if isinstance(value, str) else _number(value)]
        return ["VECTOR", self.algorithm.upper(), str(len(params)), *params]


Field = TextField | TagField | NumericField | GeoField | VectorField
_FIELD_CLASSES: dict[str, type[Field]] = {
    "text": TextField,
    "tag": TagField,
    "numeric": NumericField,
    "geo": GeoField,
    "vector": VectorField,
}
_VECTOR_ALWAYS = ("dims", "algorithm", "datatype", "distance_metric")


def _with_separator(prefix: str, separator: str) -> str:
    return prefix if not prefix or prefix.endswith(separator) else prefix + separator


def _without_separator(prefix: str, separator: str) -> str:
    """The prefix as redisvl files spell it (``doc`` for ``doc:``), when that reads back the same."""
    bare = prefix[: -len(separator)] if separator and prefix.endswith(separator) else prefix
    return bare if bare and _with_separator(bare, separator) == prefix else prefix


@dataclass(frozen=True)
class IndexSchema:
    """An index: name, key prefixes, storage (``"hash"`` or ``"json"``) and fields.

    ``prefixes`` end with ``key_separator``: a prefix given without it (``"doc"``, as in redisvl
    files) gets it appended, because a bare prefix over-matches (``PREFIX 1 doc`` also indexes
    ``document:1``). With no prefixes the index name is the prefix. So ``prefixes`` are the key
    spaces exactly as on the wire, and a schema read back from the server (`from_info`) equals the
    one that created it. ``key_separator`` is not compared: once in the prefixes, it has no other
    effect on keys. An index made by another tool with a prefix that does not end with the
    separator is read with that exact prefix and ``key_separator=""`` (see `from_info`), so its
    ids round-trip.

    A field's ``path`` is where its value lives: a JSON path on JSON storage (default
    ``$.<name>``), the hash field name on HASH storage (default ``<name>``); when it differs from
    the name, the field is created as ``<path> AS <name>``.
    """

    name: str
    _: KW_ONLY
    prefixes: tuple[str, ...] = ()
    key_separator: str = dataclass_field(default=":", compare=False)
    storage: str = "hash"
    fields: tuple[Field, ...]
    stopwords: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise SchemaError(f"the index name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.key_separator, str):
            raise SchemaError(
                f"index {self.name!r}: key_separator must be a string, got {self.key_separator!r}"
            )
        prefixes = (self.prefixes,) if isinstance(self.prefixes, str) else tuple(self.prefixes)
        if not all(isinstance(p, str) for p in prefixes):
            raise SchemaError(f"index {self.name!r}: prefixes must be strings, got {prefixes!r}")
        prefixes = tuple(_with_separator(p, self.key_separator) for p in prefixes or (self.name,))
        object.__setattr__(self, "prefixes", prefixes)
        storage = self.storage.lower() if isinstance(self.storage, str) else self.storage
        if storage not in ("hash", "json"):
            raise SchemaError(
                f"index {self.name!r}: storage {self.storage!r} is not one of 'hash', 'json'"
            )
        object.__setattr__(self, "storage", storage)
        if self.stopwords is not None:
            if isinstance(self.stopwords, str) or not all(
                isinstance(w, str) and w and not any(c.isspace() for c in w) for w in self.stopwords
            ):
                raise SchemaError(
                    f"index {self.name!r}: stopwords must be a list of single words (or None for "
                    f"the server's default list, [] for none), got {self.stopwords!r}"
                )
            # a set to the server (FT.INFO lists it lower-cased, in its own order)
            object.__setattr__(
                self, "stopwords", tuple(sorted({w.lower() for w in self.stopwords}))
            )
        flds = tuple(self.fields)
        object.__setattr__(self, "fields", flds)
        if not flds:
            raise SchemaError(f"index {self.name!r} has no fields; give at least one")
        seen: set[str] = set()
        for f in flds:
            if not isinstance(f, tuple(_FIELD_CLASSES.values())):
                raise SchemaError(
                    f"index {self.name!r}: {f!r} is not a field; use TextField, TagField, "
                    "NumericField, GeoField or VectorField (or IndexSchema.from_dict for dicts)"
                )
            if f.name in seen:
                raise SchemaError(f"index {self.name!r}: field {f.name!r} is defined twice")
            seen.add(f.name)
            if isinstance(f, TagField) and f.separator is None and storage == "hash":
                _fail(
                    f.name,
                    "separator=None (no separator) exists only on JSON storage; "
                    "give a one-character separator such as ','",
                )

    # -- lookups --------------------------------------------------------------------------

    @cached_property
    def fields_by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def memo(self, kind: type) -> dict[Any, Any]:
        """The cache of what the hot path derives from this schema, for one kind of derived
        value: ``kind`` is its key type in `redisvec.memo` (e.g. ``KnnKey``). A schema is
        immutable, so nothing in it goes stale, and it goes away with the schema. Whoever keys it
        with caller-supplied values bounds it (`redisvec.memo.memo_put`)."""
        memos = self._memos
        found = memos.get(kind)
        if found is None:
            found = memos[kind] = {}
        return found

    @cached_property
    def _memos(self) -> dict[type, dict[Any, Any]]:
        return {}

    @cached_property
    def field_types(self) -> dict[str, str]:
        """Field name -> ``"text" | "tag" | "numeric" | "geo" | "vector"``."""
        return {f.name: f.type for f in self.fields}

    def field(self, name: str) -> Field:
        try:
            return self.fields_by_name[name]
        except KeyError:
            raise SchemaError(
                f"index {self.name!r} has no field {name!r}; fields: "
                f"{', '.join(self.fields_by_name)}"
            ) from None

    def field_path(self, name: str) -> str:
        """Where field ``name`` lives in a document: its JSON path, or its hash field name."""
        f = self.field(name)
        if f.path is not None:
            return f.path
        return json_path(f.name) if self.storage == "json" else f.name

    @cached_property
    def vector_fields(self) -> tuple[VectorField, ...]:
        return tuple(f for f in self.fields if isinstance(f, VectorField))

    @property
    def vector_field(self) -> VectorField:
        """The (first) vector field."""
        if not self.vector_fields:
            raise SchemaError(
                f"index {self.name!r} has no vector field (fields: "
                f"{', '.join(self.fields_by_name)}); add VectorField(name, dims=...)"
            )
        return self.vector_fields[0]

    # -- keys -----------------------------------------------------------------------------

    @property
    def key_prefixes(self) -> tuple[str, ...]:
        """The prefixes as sent to the server (`prefixes`: each ends with ``key_separator``)."""
        return self.prefixes

    @property
    def key_prefix(self) -> str:
        """Prefix of the keys this library writes (the first prefix, with its separator)."""
        return self.key_prefixes[0]

    def key(self, id: str) -> str:
        return self.key_prefix + id

    def id_from_key(self, key: str) -> str:
        """The id part of ``key`` (longest matching prefix removed); other keys come back whole."""
        for prefix in sorted(self.key_prefixes, key=len, reverse=True):
            if prefix and key.startswith(prefix):
                return key[len(prefix) :]
        return key

    # -- the server -----------------------------------------------------------------------

    def ft_create_args(self) -> list[str]:
        """The arguments that follow ``FT.CREATE``."""
        prefixes = self.key_prefixes
        args = [self.name, "ON", self.storage.upper(), "PREFIX", str(len(prefixes)), *prefixes]
        if self.stopwords is not None:
            args += ["STOPWORDS", str(len(self.stopwords)), *self.stopwords]
        args.append("SCHEMA")
        for f in self.fields:
            path = self.field_path(f.name)
            args += [path] if path == f.name else [path, "AS", f.name]
            args += f._args()
        return args

    def differences(
        self, other: IndexSchema, *, fields: Iterable[str] | None = None
    ) -> list[tuple[str, object, object]]:
        """What makes index ``other`` unusable for this schema, as ``(what, ours, theirs)``.

        Compared: storage, key prefixes (as on the wire), the vector field (name, dims, distance metric, datatype, algorithm) and each
        other field of this schema, or only those named in ``fields``: it must be indexed by
        ``other`` with the same type (``theirs`` is None when it is not indexed). A filter on a
        field the index does not index would fail, or match nothing (so would one indexed at
        another JSON path, e.g. ``$.source.url`` for a member named ``source.url``); options such
        as SORTABLE are not compared (the server's FT.INFO does not report all of them).
        """
        out: list[tuple[str, object, object]] = []

        def check(what: str, ours: object, theirs: object) -> None:
            if ours != theirs:
                out.append((what, ours, theirs))

        check("storage", self.storage, other.storage)
        check("prefixes", self.prefixes, other.prefixes)
        if self.stopwords is not None:  # None: whatever the index has
            check("stopwords", self.stopwords, other.stopwords)
        if self.vector_fields:
            ours = self.vector_field
            theirs = other.fields_by_name.get(ours.name)
            if not isinstance(theirs, VectorField):
                names = tuple(v.name for v in other.vector_fields) or None
                out.append(("vector field", ours.name, names))
            else:
                for what in ("dims", "distance_metric", "datatype", "algorithm"):
                    check(what, getattr(ours, what), getattr(theirs, what))
        compared = [f.name for f in self.fields if f.type != "vector"] if fields is None else fields
        for name in compared:
            mine = self.fields_by_name[name]
            found = other.fields_by_name.get(name)
            if found is None or found.type != mine.type:
                out.append((f"metadata field {name!r}", mine.type, found and found.type))
            elif self.storage == "json" == other.storage:  # another path: records not indexed
                check(f"JSON path of {name!r}", self.field_path(name), other.field_path(name))
        return out

    def with_fields(self, *new: Field) -> IndexSchema:
        """A copy with ``new`` fields added; a field of the same name is replaced in place."""
        by_name = {f.name: f for f in new}
        kept = tuple(by_name.pop(f.name, f) for f in self.fields)
        return replace(self, fields=kept + tuple(by_name.values()))

    @classmethod
    def from_info(
        cls, info_reply: Any, name: str | None = None, *, key_separator: str = ":"
    ) -> IndexSchema:
        """Rebuild a schema from a raw ``FT.INFO`` reply (RESP2 or RESP3).

        FT.INFO does not report EF_RUNTIME, EPSILON, BLOCK_SIZE or INITIAL_CAP (search 2.10), nor
        the key separator: those come back as None / ``key_separator``. Prefixes are kept exactly
        as the server has them: when one does not end with ``key_separator`` (another tool's
        index, e.g. ``llama_index/vector``, or ``""``: every key), the schema's separator is
        ``""``, so that ``key(id_from_key(k)) == k`` for every key the index covers. M and EF_CONSTRUCTION are
        always reported; their server defaults (16, 200) come back as None. Field types redisvec
        does not model (e.g. GEOSHAPE) are left out; NOINDEX, UNF, WITHSUFFIXTRIE and PHONETIC
        are not kept.
        """
        info = normalize_info(info_reply)
        definition = info.get("index_definition") or {}
        storage = str(definition.get("key_type", "HASH")).lower()
        prefixes = tuple(str(p) for p in definition.get("prefixes") or ("",))
        if not (key_separator and all(p.endswith(key_separator) for p in prefixes)):
            key_separator = ""  # foreign prefixes: used exactly as they are
        parsed = [_field_from_info(a, storage) for a in info.get("attributes") or ()]
        # FT.INFO lists the stopwords only for an index created with STOPWORDS (none: default).
        stopwords = info.get("stopwords_list")
        return cls(
            name or str(info.get("index_name", "")),
            prefixes=prefixes,
            key_separator=key_separator,
            storage=storage,
            fields=tuple(f for f in parsed if f is not None),
            stopwords=None if stopwords is None else tuple(str(w) for w in stopwords),
        )

    @classmethod
    def from_existing(
        cls, client: SyncClient, index_name: str, *, key_separator: str = ":"
    ) -> IndexSchema:
        """Read index ``index_name`` from the server (``FT.INFO``); see `from_info`."""
        try:
            reply = client.execute_command("FT.INFO", index_name)  # type: ignore[no-untyped-call]
        except redis.ResponseError as exc:
            raise translate_server_error(exc, index_name) from exc
        except (redis.ConnectionError, redis.TimeoutError) as exc:  # often the first contact
            raise connection_error(client, exc) from exc
        return cls.from_info(reply, index_name, key_separator=key_separator)

    @classmethod
    async def afrom_existing(
        cls, client: AsyncClient, index_name: str, *, key_separator: str = ":"
    ) -> IndexSchema:
        """Async twin of `from_existing`."""
        try:
            reply = await client.execute_command("FT.INFO", index_name)  # type: ignore[no-untyped-call]
        except redis.ResponseError as exc:
            raise translate_server_error(exc, index_name) from exc
        except (redis.ConnectionError, redis.TimeoutError) as exc:  # often the first contact
            raise connection_error(client, exc) from exc
        return cls.from_info(reply, index_name, key_separator=key_separator)

    # -- dict / YAML ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """redisvl's layout; only options that differ from their defaults are written."""
        bare = [_without_separator(p, self.key_separator) for p in self.prefixes]
        prefix: str | list[str] = bare[0] if len(bare) == 1 else bare
        index: dict[str, Any] = {
            "name": self.name,
            "prefix": prefix,
            "key_separator": self.key_separator,
            "storage_type": self.storage,
        }
        if self.stopwords is not None:
            index["stopwords"] = list(self.stopwords)
        return {"index": index, "fields": [_field_to_dict(f) for f in self.fields]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IndexSchema:
        """Read redisvl's layout; a field's options may be under ``attrs`` or inline."""
        if not isinstance(data, Mapping):
            raise SchemaError(f"a schema must be a mapping, got {type(data).__name__}")
        extra = set(data) - {"index", "fields", "version"}
        if extra:
            raise SchemaError(f"unknown schema keys {sorted(extra)}; expected 'index' and 'fields'")
        index = data.get("index")
        if not isinstance(index, Mapping):
            raise SchemaError(f"the schema needs an 'index' mapping with a name, got {index!r}")
        unknown = set(index) - {"name", "prefix", "key_separator", "storage_type", "stopwords"}
        if unknown:
            raise SchemaError(
                f"unknown index options {sorted(unknown)}; supported: name, prefix, "
                "key_separator, storage_type, stopwords"
            )
        prefix = index.get("prefix", ())
        specs = data.get("fields")
        if not isinstance(specs, Sequence) or isinstance(specs, str):
            raise SchemaError(f"'fields' must be a list of field mappings, got {specs!r}")
        return cls(
            index.get("name", ""),
            prefixes=(prefix,) if isinstance(prefix, str) else tuple(prefix),
            key_separator=index.get("key_separator", ":"),
            storage=index.get("storage_type", "hash"),
            fields=tuple(_field_from_dict(s) for s in specs),
            stopwords=None if index.get("stopwords") is None else tuple(index["stopwords"]),
        )

    def to_yaml(self) -> str:
        return str(_yaml().safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike[str]) -> IndexSchema:
        """From a YAML file (a path, or a one-line string naming an existing or ``.yaml`` file)
        or from YAML text."""
        text = str(path_or_text)
        looks_like_path = isinstance(path_or_text, os.PathLike) or (
            "\n" not in text and (text.endswith((".yaml", ".yml")) or os.path.exists(text))
        )
        if looks_like_path:
            try:
                text = Path(path_or_text).read_text(encoding="utf-8")
            except OSError as exc:
                raise SchemaError(f"cannot read schema file {str(path_or_text)!r}: {exc}") from None
        data = _yaml().safe_load(text)
        return cls.from_dict(data)


def _yaml() -> Any:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        raise ImportError("YAML schemas need PyYAML: pip install 'redisvec[yaml]'") from None


def _field_to_dict(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"name": f.name, "type": f.type}
    if f.path is not None:
        out["path"] = f.path
    attrs = {}
    for spec in fields(f):
        if spec.name in ("name", "path"):
            continue
        value = getattr(f, spec.name)
        if spec.name in _VECTOR_ALWAYS or value != spec.default:
            attrs[spec.name] = value
    if attrs:
        out["attrs"] = attrs
    return out


def _field_from_dict(spec: Any) -> Field:
    if not isinstance(spec, Mapping):
        raise SchemaError(f"a field must be a mapping with 'name' and 'type', got {spec!r}")
    options = {str(k).lower(): v for k, v in spec.items()}
    name = options.pop("name", None)
    _check_name(name)
    kind = options.pop("type", None)
    cls = _FIELD_CLASSES.get(kind.lower() if isinstance(kind, str) else "")
    if cls is None:
        _fail(name, f"unknown field type {kind!r}; allowed: {', '.join(_FIELD_CLASSES)}")
    attrs = options.pop("attrs", None) or {}
    if not isinstance(attrs, Mapping):
        _fail(name, f"'attrs' must be a mapping, got {attrs!r}")
    for key, value in attrs.items():
        key = str(key).lower()
        if key in options:
            _fail(name, f"option {key!r} is given both inline and in 'attrs'; give it once")
        options[key] = value
    allowed = [s.name for s in fields(cls) if s.name != "name"]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        _fail(
            name,
            f"unknown option(s) {', '.join(unknown)} for a {cls.type} field; "
            f"allowed: {', '.join(allowed)}",
        )
    if cls is VectorField and "dims" not in options:
        _fail(name, "a vector field needs 'dims' (your embedding model's output size)")
    return cls(name, **options)


_DOT_NAME = re.compile(r"[A-Za-z0-9_]+")
_LEGACY_DOT_NAME = re.compile(r"[A-Za-z0-9_-]+")  # also addressed right by ``$.name`` (checked)


def json_path(name: str) -> str:
    """The JSON path of the document's top-level member ``name``.

    ``$.name`` where the server reads it as that member; bracket notation (``$["source.url"]``)
    for any other name: written as ``$.source.url`` it would index another path (``source`` ->
    ``url``), and a space, a quote or non-ASCII does not parse, so filters on such a field
    would silently match nothing."""
    if _DOT_NAME.fullmatch(name):
        return f"$.{name}"
    return "$[" + json.dumps(name, ensure_ascii=False) + "]"


def _field_from_info(attr: Mapping[str, Any], storage: str) -> Field | None:
    name = str(attr["attribute"])
    identifier = str(attr.get("identifier", name))
    if storage == "json":
        default = identifier == json_path(name) or (
            identifier == f"$.{name}" and _LEGACY_DOT_NAME.fullmatch(name) is not None
        )
    else:
        default = identifier == name
    path = None if default else identifier
    flags = {str(f).upper() for f in attr.get("flags", ())}
    kind = str(attr.get("type", "")).upper()
    common: dict[str, Any] = {"path": path, "index_missing": "INDEXMISSING" in flags}
    if kind in ("TEXT", "TAG"):
        common["sortable"] = "SORTABLE" in flags
        common["index_empty"] = "INDEXEMPTY" in flags
    if kind == "TEXT":
        weight = float(attr.get("WEIGHT", 1.0))
        return TextField(name, weight=weight, no_stem="NOSTEM" in flags, **common)
    if kind == "TAG":
        separator = str(attr.get("SEPARATOR", ","))
        return TagField(
            name,
            separator=separator or None,
            case_sensitive="CASESENSITIVE" in flags,
            **common,
        )
    if kind == "NUMERIC":
        return NumericField(name, sortable="SORTABLE" in flags, **common)
    if kind == "GEO":
        return GeoField(name, **common)
    if kind == "VECTOR":
        lowered = {str(k).lower(): v for k, v in attr.items()}
        algorithm = str(lowered["algorithm"]).lower()
        options: dict[str, Any] = {}
        for option in _ALGORITHM_OPTIONS.get(algorithm, ()):
            value = lowered.get(option)
            if value is None:
                continue
            if option == "compression":
                value = str(value)
            elif option == "epsilon":
                value = float(value)
            else:
                value = int(value)
            if _SERVER_DEFAULTS.get(option) != value:
                options[option] = value
        return VectorField(
            name,
            path=path,
            dims=int(lowered["dim"]),
            algorithm=algorithm,
            datatype=str(lowered["data_type"]).lower(),
            distance_metric=str(lowered["distance_metric"]).lower(),
            **options,
        )
    warnings.warn(
        f"field {name!r} has type {kind}, which redisvec does not model; it is left out of the "
        "schema (it stays in the index, but cannot be filtered on through redisvec)",
        stacklevel=3,
    )
    return None


def check_id_list(ids: object, argument: str) -> None:
    """Refuse a single id where a list of ids is expected: ``delete("12")`` would otherwise act
    on the ids ``"1"`` and ``"2"``."""
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{argument} must be a list of ids, got the string {ids!r}; pass [{ids!r}]")


def shared_key_spaces(ours: Iterable[str], theirs: Iterable[str]) -> list[tuple[str, str]]:
    """``(our prefix, their prefix)`` for each pair of key spaces that overlap: one prefix starts
    with the other, so some keys are in both (``""`` overlaps everything)."""
    return [(a, b) for a in ours for b in theirs if a.startswith(b) or b.startswith(a)]
