"""Query builders: plain data that renders to ``FT.SEARCH`` arguments for one `IndexSchema`.

Every builder sends ``DIALECT 2`` (the server's default dialect is still 1) and an explicit
``LIMIT`` (the server's default is ``0 10``: ``KNN 50`` without it returns 10 results). Vector
queries sort by the distance the server yields, under an alias that cannot clash with a field.

Vector, range, text and filter queries take ``ids``: only those records are searched (``INKEYS``,
which the server applies before the KNN: the k nearest among them). ``with_scores`` tells the reply
parser whether the server sends a score per hit.

The builders do no I/O, so `SearchIndex` and `AsyncSearchIndex` share them.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from redisvec.codec import VectorCodec, VectorLike
from redisvec.errors import SchemaError
from redisvec.filters import DEFAULT_STOPWORDS, FilterExpression, is_stopword, text_terms
from redisvec.memo import CodecKey, KnnKey, WhereKey, memo_put
from redisvec.schema import check_id_list, json_path

if TYPE_CHECKING:
    from redisvec.schema import IndexSchema, VectorField

__all__ = [
    "DISTANCE_ALIAS",
    "CountQuery",
    "FilterQuery",
    "Query",
    "RangeQuery",
    "TextQuery",
    "VectorQuery",
    "positive_int",
]

#: The name under which the server returns each hit's vector distance.
DISTANCE_ALIAS = "__vector_distance"
DIALECT = 2

Filter: TypeAlias = FilterExpression | str | None
Arg: TypeAlias = str | bytes | int | float


def _render_filter(flt: Filter, schema: IndexSchema) -> str:
    if flt is None:
        return "*"
    if isinstance(flt, str):
        return flt.strip() or "*"
    # Filters and schemas are immutable, and an application passes the same filter objects again
    # (``Tag(f) == value`` is shared per field and value): checked and rendered once per pair
    # (see `WhereKey`).
    cache = schema.memo(WhereKey)
    key = WhereKey(id(flt))
    cached = cache.get(key)
    if cached is not None and cached[0] is flt:
        return cached[1]  # type: ignore[no-any-return]
    # checked, with each tag field's separator, and text without the index's stopwords
    where = flt.render(schema.fields_by_name, stopwords=stopwords_of(schema))
    memo_put(cache, key, (flt, where))
    return where


def stopwords_of(schema: IndexSchema) -> frozenset[str]:
    """The index's stopwords: ``schema.stopwords`` where the schema states them (an index made
    with STOPWORDS; FT.INFO reports them then), otherwise the server's default list."""
    if schema.stopwords is None:
        return DEFAULT_STOPWORDS
    return frozenset(schema.stopwords)


def _vector_field(schema: IndexSchema, name: str | None) -> VectorField:
    if name is None:
        return schema.vector_field
    fld = schema.field(name)
    if fld.type != "vector":
        raise SchemaError(
            f"index {schema.name!r}: field {name!r} is a {fld.type} field, not a vector field; "
            f"vector fields: {[f.name for f in schema.vector_fields]}"
        )
    return fld  # type: ignore[return-value]


def codec_for(schema: IndexSchema, vector_field: VectorField) -> VectorCodec:
    """The codec of ``vector_field`` (one per field and schema, not one per query)."""
    cache = schema.memo(CodecKey)
    key = CodecKey(vector_field.name)
    cached = cache.get(key)
    if cached is None or cached[0] != vector_field:
        codec = VectorCodec(
            vector_field.dims,
            vector_field.datatype,
            schema.name,
            vector_field.name,
            vector_field.distance_metric,
        )
        cached = memo_put(cache, key, (vector_field, codec))
    return cached[1]  # type: ignore[no-any-return]


def _return_args(
    schema: IndexSchema, names: Sequence[str] | None, extra: Sequence[str] = ()
) -> list[Arg]:
    """``RETURN n ...``; on JSON storage a name that is not an indexed field is read by its path."""
    if names is None:
        return []
    tokens: list[str] = []
    known = schema.fields_by_name
    for name in [*names, *extra]:
        if schema.storage == "json" and name not in known and name != DISTANCE_ALIAS:
            path = name if name.startswith("$") else json_path(name)
            tokens += [path, "AS", name.lstrip("$.")]
        else:
            tokens.append(name)
    return ["RETURN", len(tokens), *tokens]


def as_wire(args: Sequence[Arg]) -> list[Arg]:
    """``args`` as the bytes redis-py sends for them (its ``Encoder``: str as UTF-8, an int or a
    float as its repr)."""
    out: list[Arg] = []
    for arg in args:
        if isinstance(arg, bytes):
            out.append(arg)
        elif isinstance(arg, str):
            out.append(arg.encode())
        elif isinstance(arg, (int, float)) and not isinstance(arg, bool):
            out.append(repr(arg).encode())
        else:
            raise TypeError(f"not a command argument: {arg!r}")
    return out


def _in_keys(schema: IndexSchema, ids: Sequence[str] | None) -> list[Arg]:
    """``INKEYS n key...``: only these records are searched (the server restricts before the KNN,
    so ``k`` nearest among them, not the global k nearest filtered afterwards). None: every
    record; an empty list: none."""
    if ids is None:
        return []
    check_id_list(ids, "ids")
    keys = [schema.key(i) for i in dict.fromkeys(ids)]
    return ["INKEYS", len(keys), *keys]


class _Scores:
    """``with_scores``: whether the server sends each hit's score (``WITHSCORES``), so that the
    reply parser knows the shape of the reply without knowing the query's class."""

    @property
    def with_scores(self) -> bool:
        return False


def positive_int(name: str, value: object) -> int:
    """``value`` as an int if it is a positive integer of any kind (``numpy.int64`` too, since
    counts often come out of numpy); a bool or a float is refused, not rounded."""
    if type(value) is int and value >= 1:  # the common case, without the ABC check below
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(
            f"{name} must be a positive integer (int or numpy integer), got {value!r} of type "
            f"{type(value).__name__}"
        )
    return int(value)


@dataclass(frozen=True)
class VectorQuery(_Scores):
    """The k nearest neighbours of ``vector``, optionally among the records that match ``filter``.

    ``ef_runtime`` (HNSW only) trades speed for recall per query.
    """

    vector: VectorLike
    k: int = 10
    filter: Filter = None
    vector_field: str | None = None
    return_fields: Sequence[str] | None = None
    return_vector: bool = False
    ef_runtime: int | None = None
    ids: Sequence[str] | None = None

    def to_args(self, schema: IndexSchema) -> list[Arg]:
        """Every argument but the vector depends only on the query's other settings, which an
        application repeats from query to query: those are built once per schema and settings
        (`_knn_template`), and a query only encodes its vector into them."""
        return self._args(schema, wire=False)

    def wire_args(self, schema: IndexSchema) -> list[Arg]:
        """`to_args` with every argument already the bytes redis-py would send (cached with the
        template): redis-py checks and encodes each str or int argument of every command it
        sends, a cost of its own on the hot path that bytes skip."""
        return self._args(schema, wire=True)

    def _args(self, schema: IndexSchema, *, wire: bool) -> list[Arg]:
        k = positive_int("k", self.k)
        if self.ef_runtime is not None:
            positive_int("ef_runtime", self.ef_runtime)
        where = _render_filter(self.filter, schema)
        names = None if self.return_fields is None else tuple(self.return_fields)
        settings = KnnKey(
            self.vector_field,
            k,
            self.ef_runtime,
            where,
            names,
            self.return_vector,
        )
        cache = schema.memo(KnnKey)
        cached = cache.get(settings)
        if cached is None:
            codec, head, tail = self._knn_template(schema, k, where, names)
            cached = (codec, head, tail, as_wire(head), as_wire(tail))
            memo_put(cache, settings, cached)
        codec = cached[0]
        head, tail = (cached[3], cached[4]) if wire else (cached[1], cached[2])
        args = [*head, codec.encode(self.vector), *tail]
        if self.ids is not None:  # before the final LIMIT 0 k DIALECT 2
            keys = _in_keys(schema, self.ids)
            args[-5:-5] = as_wire(keys) if wire else keys
        return args

    def _knn_template(
        self, schema: IndexSchema, k: int, where: str, names: Sequence[str] | None
    ) -> tuple[VectorCodec, list[Arg], list[Arg]]:
        """The arguments before and after the vector's bytes, and the codec that makes them."""
        vf = _vector_field(schema, self.vector_field)
        knn = f"KNN {k} @{vf.name} $vector"
        more_params: list[Arg] = []
        if self.ef_runtime is not None:
            if vf.algorithm != "hnsw":
                raise ValueError(
                    f"ef_runtime applies to HNSW indexes; field {vf.name!r} of index "
                    f"{schema.name!r} is {vf.algorithm.upper()}"
                )
            knn += " EF_RUNTIME $ef_runtime"
            more_params = ["ef_runtime", positive_int("ef_runtime", self.ef_runtime)]
        query = (
            f"({where})=>[{knn} AS {DISTANCE_ALIAS}]"
            if where != "*"
            else f"*=>[{knn} AS {DISTANCE_ALIAS}]"
        )
        head: list[Arg] = [schema.name, query, "PARAMS", 2 + len(more_params), "vector"]
        tail: list[Arg] = [
            *more_params,
            "SORTBY", DISTANCE_ALIAS, "ASC",
            *_return_args(schema, names, _extras(vf, self.return_vector, distance=True)),
            "LIMIT", 0, k,
            "DIALECT", DIALECT,
        ]  # fmt: skip
        return codec_for(schema, vf), head, tail


def _extras(vf: VectorField, return_vector: bool, *, distance: bool) -> list[str]:
    extra = [DISTANCE_ALIAS] if distance else []
    if return_vector:
        extra.append(vf.name)
    return extra


@dataclass(frozen=True)
class RangeQuery(_Scores):
    """Every record within ``distance_threshold`` of ``vector`` (up to ``k``), nearest first.

    The threshold is in the server's distance: for L2 that is the *squared* Euclidean distance;
    for COSINE ``1 - cos``; for IP ``1 - dot``.

    On HNSW the range is approximate: the search stops exploring the graph at ``(1 + epsilon)``
    times the radius (the server's default epsilon is 0.01) and can miss records within it; a
    larger ``epsilon`` explores further and finds more of the true range, at some cost in speed.
    FLAT range queries are exact and take no epsilon.
    """

    vector: VectorLike
    distance_threshold: float
    k: int = 100
    filter: Filter = None
    vector_field: str | None = None
    return_fields: Sequence[str] | None = None
    return_vector: bool = False
    epsilon: float | None = None
    ids: Sequence[str] | None = None

    def to_args(self, schema: IndexSchema) -> list[Arg]:
        k = positive_int("k", self.k)
        vf = _vector_field(schema, self.vector_field)
        blob = codec_for(schema, vf).encode(self.vector)
        radius = float(self.distance_threshold)
        if not radius >= 0:  # also NaN; the server refuses negative radii, for IP too
            raise ValueError(
                f"distance_threshold must be a number >= 0 (a {vf.distance_metric.upper()} "
                f"distance), got {self.distance_threshold!r}"
            )
        attrs = f"$YIELD_DISTANCE_AS: {DISTANCE_ALIAS}"
        if self.epsilon is not None:
            epsilon = float(self.epsilon)
            if vf.algorithm == "flat":  # the server: "Invalid option"
                raise ValueError(
                    f"epsilon applies to approximate (HNSW) indexes; field {vf.name!r} of index "
                    f"{schema.name!r} is FLAT, whose range queries are exact"
                )
            if not epsilon > 0:  # also NaN; the server refuses 0 and negatives
                raise ValueError(f"epsilon must be a number > 0, got {self.epsilon!r}")
            attrs += f"; $EPSILON: {epsilon}"
        clause = f"@{vf.name}:[VECTOR_RANGE $radius $vector]=>{{{attrs}}}"
        where = _render_filter(self.filter, schema)
        query = clause if where == "*" else f"({clause}) ({where})"
        return [
            schema.name,
            query,
            "PARAMS", 4, "radius", repr(radius), "vector", blob,
            "SORTBY", DISTANCE_ALIAS, "ASC",
            *_return_args(schema, self.return_fields, _extras(vf, self.return_vector, distance=True)),
            *_in_keys(schema, self.ids),
            "LIMIT", 0, k,
            "DIALECT", DIALECT,
        ]  # fmt: skip


@dataclass(frozen=True)
class FilterQuery(_Scores):
    """Records matching ``filter`` (all when None), one page at a time."""

    filter: Filter = None
    return_fields: Sequence[str] | None = None
    offset: int = 0
    limit: int = 10
    sort_by: str | None = None
    ascending: bool = True
    return_vector: bool = False
    no_content: bool = False
    ids: Sequence[str] | None = None

    def to_args(self, schema: IndexSchema) -> list[Arg]:
        if self.offset < 0 or self.limit < 0:
            raise ValueError(f"offset and limit must be >= 0, got {self.offset}, {self.limit}")
        args: list[Arg] = [schema.name, _render_filter(self.filter, schema)]
        if self.no_content:
            args.append("NOCONTENT")
        else:
            extra = _extras(schema.vector_field, True, distance=False) if self.return_vector else []
            args += _return_args(schema, self.return_fields, extra)
        if self.sort_by:
            args += ["SORTBY", self.sort_by, "ASC" if self.ascending else "DESC"]
        args += _in_keys(schema, self.ids)
        return [*args, "LIMIT", self.offset, self.limit, "DIALECT", DIALECT]


@dataclass(frozen=True)
class CountQuery(_Scores):
    """How many records match ``filter`` (``LIMIT 0 0`` returns only the total)."""

    filter: Filter = None

    def to_args(self, schema: IndexSchema) -> list[Arg]:
        return [schema.name, _render_filter(self.filter, schema), "LIMIT", 0, 0, "DIALECT", DIALECT]


@dataclass(frozen=True)
class TextQuery:
    """Full-text search: records whose text fields contain any of the words of ``text``, by BM25.

    Words are matched with OR (a question rarely contains only words a passage has) and stemmed
    unless the field is NOSTEM (the server expands each word to its stem; on NOSTEM fields the
    words are sent quoted, since the server would still add the bare stem). The text is split
    into words where the server splits indexed text (ASCII punctuation and whitespace), and the
    index's stopwords are left out before the query is sent: the server would drop them too,
    but a stopword inside a union of words makes search 2.10 silently drop the words after it
    (or crash). ``text`` made only of stopwords and punctuation is refused (`ValueError`): it
    has nothing to match. Characters that are query syntax elsewhere (``* % | $``) are ordinary
    punctuation here.
    """

    text: str
    k: int = 10
    text_field: str | None = None
    filter: Filter = None
    return_fields: Sequence[str] | None = None
    return_vector: bool = False
    scorer: str = "BM25"
    ids: Sequence[str] | None = None

    @property
    def with_scores(self) -> bool:
        return True

    def to_args(self, schema: IndexSchema) -> list[Arg]:
        k = positive_int("k", self.k)
        if not isinstance(self.text, str):
            raise ValueError(f"a text query takes a string, got {self.text!r}")
        if not text_terms(self.text):
            raise ValueError(f"text query {self.text!r} has no words to search for")
        terms = search_terms(self.text, schema)
        if not terms:
            raise ValueError(
                f"text query {self.text!r} has only stopwords, which the index leaves out of "
                "the text, so nothing can match: search for other words"
            )
        match = text_match(terms, self.text_field, schema)
        where = _render_filter(self.filter, schema)
        query = match if where == "*" else f"{match} ({where})"
        extra = _extras(schema.vector_field, True, distance=False) if self.return_vector else []
        return [
            schema.name,
            query,
            "WITHSCORES",
            "SCORER", self.scorer,
            *_return_args(schema, self.return_fields, extra),
            *_in_keys(schema, self.ids),
            "LIMIT", 0, k,
            "DIALECT", DIALECT,
        ]  # fmt: skip


def search_terms(text: str, schema: IndexSchema) -> list[str]:
    """The words of ``text`` a text query searches for, each once: split where the server splits
    indexed text, without the index's stopwords (empty: nothing can match)."""
    stop = stopwords_of(schema)
    return list(dict.fromkeys(w for w in text_terms(text) if not is_stopword(w, stop)))


def text_match(terms: Sequence[str], text_field: str | None, schema: IndexSchema) -> str:
    """The query clause matching any of ``terms`` (from `search_terms`) in ``text_field`` (None:
    every text field), as `TextQuery` sends it."""
    if text_field is not None:
        fld = schema.field(text_field)
        if fld.type != "text":
            raise SchemaError(f"field {text_field!r} is a {fld.type} field, not text")
        searched = [fld]
    else:
        searched = [f for f in schema.fields if f.type == "text"]
    # The server expands a query word to its stem even on a NOSTEM field (search 2.10:
    # "cancers" also finds "cancer"); quoted, a word is matched as written.
    if searched and all(getattr(f, "no_stem", False) for f in searched):
        terms = [f'"{t}"' for t in terms]
    union = " | ".join(terms)  # text_terms leaves nothing that needs escaping
    return f"({union})" if text_field is None else f"@{text_field}:({union})"


Query: TypeAlias = VectorQuery | RangeQuery | FilterQuery | CountQuery | TextQuery
