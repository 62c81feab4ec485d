"""Filter expressions that render to RediSearch query strings (DIALECT 2).

Build a filter from field builders and combine with ``&`` (AND), ``|`` (OR) and ``~`` (NOT)::

    f = (Tag("color") == ["red", "blue"]) & (Num("price") < 10) & ~Text("body").phrase("on sale")
    f.render()  # '(@color:{red | blue} @price:[-inf (10] -@body:"on sale")'

Every user value is escaped (or, for text, split into terms exactly where the server splits text),
so no value can change the structure of the query; `FilterExpression.raw` is the one unescaped
escape hatch. Rendered filters are valid on their own and embedded as ``(<filter>)=>[KNN ...]``.

Semantics, pinned by tests against a real server (search 2.10):

- Negation (``~x``, ``!=``) also matches records that lack the field, like Python's
  ``metadata.get(field) != value``.
- TAG matching compares the server's normalized text: whitespace around a value (space, tab, CR, LF,
  VT, FF) is dropped when indexing, so queries drop it too; case is folded for ASCII letters only
  (``É`` and ``é`` stay distinct) unless the field is ``CASESENSITIVE``.
- TAG values cannot contain NUL or other ASCII control characters than whitespace: the server's
  query parser reads them as separators, so such a value can never be matched (`FilterError`).
- TEXT matching is on whole words (terms): the server splits text at ASCII punctuation and
  whitespace (not at ``_``), folds ASCII case and leaves stopwords out; filters leave the index's
  stopwords out too (a stopword in a union makes search 2.10 drop the other words or crash; in a
  phrase it never matches). Text filters are not stemmed: the server expands words to their stems
  only outside KNN pre-filters and negations, so a stemmed filter would select other records in
  a vector search than in a count or a delete. Patterns (``doc*``, ``*tor``, ``*oct*``,
  ``%fuzzy%``, ``like``) are explicit; a pattern longer than 1,024 bytes is refused (it crashes
  search 2.10), and so is anything else that cannot be expressed.
- ``is_missing()`` needs the field created with ``INDEXMISSING`` (search 2.10+).

Decisions: an empty tag value (``""``, only whitespace) is refused, since it easily renders as
``*``; an empty list is a real empty set (``== []`` matches nothing, ``!= []`` everything),
rendered ``(A -(A))``, which the server evaluates to nothing. `Num` refuses bool and NaN.
`Text.like` takes ``*``/``?`` wildcards, or SQL ``%``/``_`` with ``sql=True`` (all else
literal). Float tag values follow `to_tag_text`.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from redisvec.errors import FilterError
from redisvec.memo import TagEqualsKey, memo_put, shared

if TYPE_CHECKING:
    from redisvec.schema import Field

__all__ = [
    "ALL",
    "DEFAULT_STOPWORDS",
    "MAX_PATTERN_BYTES",
    "FilterExpression",
    "Geo",
    "Num",
    "Tag",
    "TagValue",
    "Text",
    "is_stopword",
    "text_terms",
    "to_tag_text",
    "value_key",
]

TagValue = str | int | float | bool

# The server trims exactly C's isspace() set around tag values when it indexes them.
_TAG_TRIM = " \t\n\v\f\r"
# Control characters the query parser reads as separators, escaped or not: unmatchable.
_UNQUERYABLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Where the server splits TEXT into terms: every ASCII character but letters, digits and "_".
_TEXT_SEPARATORS = re.compile(r"[\x00-/:-@\[-\^`{-\x7f]+")
# Patterns on one word: prefix / suffix / infix, and fuzzy with a Levenshtein distance of 1 to 3.
_STAR = re.compile(r"(\*?)([^*]+)(\*?)")
_FUZZY = re.compile(r"(%{1,3})([^%]+)\1")
#: A wildcard, suffix or infix pattern longer than this (in bytes) crashes search 2.10 (SIGSEGV).
MAX_PATTERN_BYTES = 1024

#: The server's default stopwords (search 2.10, each checked with FT.EXPLAIN): what an index made
#: without STOPWORDS leaves out of its text, and of a query's terms.
# fmt: off
DEFAULT_STOPWORDS: frozenset[str] = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
    "they", "this", "to", "was", "will", "with",
))
# fmt: on
_GEO_UNITS = ("m", "km", "mi", "ft")
_MAX_LAT = 85.05112878  # geohash limit: the server does not index points beyond it
_SUGGEST = {
    "tag": "Tag",
    "numeric": "Num",
    "text": "Text",
    "geo": "Geo",
}


def to_tag_text(value: TagValue) -> str:
    """Return the canonical text of a tag value; storage writes, and filters query, this text.

    ``True``/``False`` -> ``"true"``/``"false"``; integers -> decimal digits; a float equal to an
    integer -> that integer's digits (``3.0`` -> ``"3"``), so ``3`` and ``3.0`` match each other as
    they compare equal in Python; other floats -> shortest round-trip ``repr`` (``"0.1"``),
    infinities -> ``"inf"``/``"-inf"``. NaN is refused: it equals nothing, not even itself.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isnan(f):
            raise FilterError("a tag value cannot be NaN (NaN equals nothing); use a string")
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return str(int(f)) if f.is_integer() else repr(f)
    raise FilterError(
        f"a tag value must be str, int, float or bool, not {type(value).__name__} ({value!r})"
    )


def text_terms(text: str) -> list[str]:
    """The words of ``text`` as the server splits text into terms (at every ASCII character but
    letters, digits and ``_``; non-ASCII characters stay in words). Stopwords are kept."""
    return [t for t in _TEXT_SEPARATORS.split(text) if t]


def _stopword_set(stopwords: Iterable[str] | None) -> frozenset[str]:
    if stopwords is None:
        return DEFAULT_STOPWORDS
    if isinstance(stopwords, str):
        raise FilterError(f"stopwords must be a list of words, got the string {stopwords!r}")
    return frozenset(w.lower() for w in stopwords)


def is_stopword(term: str, stopwords: frozenset[str]) -> bool:
    """Whether the server drops ``term`` (its stopword check ignores ASCII case)."""
    return term.lower() in stopwords if term.isascii() else False


def _check_pattern_size(field: str, pattern: str) -> None:
    size = len(pattern.encode())
    if size > MAX_PATTERN_BYTES:
        raise FilterError(
            f"Text({field!r}): the pattern {pattern[:40]!r}... is {size} bytes long; the server "
            f"takes patterns of at most {MAX_PATTERN_BYTES} bytes (longer ones crash search 2.10): "
            "shorten it"
        )


def _escape(text: str) -> str:
    """Backslash every ASCII non-alphanumeric; non-ASCII must stay bare (escaping breaks it)."""
    return "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in text)


def _ref(field: str) -> str:
    return "@" + "".join(
        "\\" + c if c.isascii() and not (c.isalnum() or c == "_") else c for c in field
    )


def _check_field(builder: str, field: object) -> str:
    if not isinstance(field, str) or not field or _UNQUERYABLE.search(field):
        raise FilterError(f"{builder}() needs a field name (a non-empty string), got {field!r}")
    return field


# --------------------------------------------------------------------------------------------------
# Expression nodes


class FilterExpression:
    """An immutable filter. Combine with ``&``, ``|``, ``~``; `render` gives the query string.

    ``x & None`` and ``x & ALL`` are ``x``; ``x | ALL`` is `ALL`; ``~~x`` is ``x``. ``~x`` also
    matches records lacking the fields of ``x`` (Python ``!=`` semantics). A filter that matches
    nothing renders as ``(A -(A))`` for some part ``A`` of it; only ``~ALL`` with no field at all
    cannot be rendered (`FilterError`).
    """

    __slots__ = ()

    def __and__(self, other: FilterExpression | None) -> FilterExpression:
        if other is None:
            return self
        if not isinstance(other, FilterExpression):
            return NotImplemented
        return _combine(_And, self, other)

    def __rand__(self, other: FilterExpression | None) -> FilterExpression:
        return self if other is None else NotImplemented

    def __or__(self, other: FilterExpression | None) -> FilterExpression:
        if other is None:
            return self
        if not isinstance(other, FilterExpression):
            return NotImplemented
        return _combine(_Or, self, other)

    def __ror__(self, other: FilterExpression | None) -> FilterExpression:
        return self if other is None else NotImplemented

    def __invert__(self) -> FilterExpression:
        return _Not(self)

    def render(
        self,
        fields: Mapping[str, str] | Mapping[str, Field] | None = None,
        *,
        stopwords: Iterable[str] | None = None,
    ) -> str:
        """Return the DIALECT 2 query string.

        With ``fields`` (field name -> ``"tag"|"text"|"numeric"|"geo"|"vector"``, or -> the
        schema's `Field`, as in ``schema.fields_by_name``), first check that every field exists
        and has a type the operator applies to, raising `FilterError` otherwise. Given `Field`
        objects, a tag value containing its field's separator is refused too (the server split
        stored values at the separator, so such a value would silently match nothing; indexes made
        by other tools usually split on ``,``), and so is ``is_missing()`` on a field created
        without INDEXMISSING (the server would answer with an error).

        ``stopwords`` is the index's stopword list (None: the server's default English list,
        `DEFAULT_STOPWORDS`); text filters leave them out, as the server does when indexing.
        """
        if fields is not None:
            types: dict[str, str] = {}
            separators: dict[str, str] = {}
            no_missing: set[str] = set()
            for name, fld in fields.items():
                types[name] = (fld if isinstance(fld, str) else fld.type).lower()
                sep = getattr(fld, "separator", None) if types[name] == "tag" else None
                if isinstance(sep, str) and sep:
                    separators[name] = sep
                if not isinstance(fld, str) and not getattr(fld, "index_missing", False):
                    no_missing.add(name)
            for leaf in self._leaves():
                leaf.validate(types, separators, no_missing)
        return self._render(_stopword_set(stopwords))

    def field_names(self) -> frozenset[str]:
        """The names of the fields this filter reads."""
        return frozenset(leaf.field for leaf in self._leaves())

    def is_all(self) -> bool:
        """True for a filter known to match every record: `ALL` and what simplifies to it
        (``x | ALL``, ``~(Tag(f) == [])``, ``Tag(f).all_of([])``), whatever field it was built on.
        A caller can then leave the filter out."""
        return False

    def is_nothing(self) -> bool:
        """True for a filter known to match no record (``Tag(f) == []``, ``~ALL``, ``x & ~ALL``):
        a caller can skip the search. Structural only: a filter that happens to match nothing in
        the data is not detected."""
        return False

    @staticmethod
    def raw(query: str) -> FilterExpression:
        """Wrap a query string as-is (NOT escaped: never pass user input). ``""``/``"*"`` -> `ALL`."""
        if not isinstance(query, str):
            raise FilterError(f"FilterExpression.raw() takes a query string, got {query!r}")
        query = query.strip()
        return ALL if query in ("", "*") else _Raw(query)

    def __str__(self) -> str:
        return self.render()

    # internals
    def _render(self, sw: frozenset[str]) -> str:
        raise NotImplementedError

    def _operand(self, sw: frozenset[str]) -> str:
        """The rendering as a child of AND/OR/NOT: atoms bare, everything else parenthesized."""
        return self._render(sw)

    def _leaves(self) -> Iterator[_Leaf]:
        return iter(())


@dataclass(frozen=True, repr=False)
class _All(FilterExpression):
    """Everything. ``anchor`` (when known) is an expression on the fields this came from, kept so
    that the negation can still be rendered: the server has no field-free "nothing" query
    (``-*`` is a syntax error)."""

    anchor: FilterExpression | None = None

    def _render(self, sw: frozenset[str]) -> str:
        return "*"

    def __invert__(self) -> FilterExpression:
        return _Never(self.anchor)

    def is_all(self) -> bool:
        return True

    def _leaves(self) -> Iterator[_Leaf]:
        return self.anchor._leaves() if self.anchor is not None else iter(())

    def __repr__(self) -> str:
        return "ALL" if self.anchor is None else f"ALL(anchor={self.anchor!r})"


ALL: FilterExpression = _All()
"""Matches every record; renders ``*``. ``ALL & x`` is ``x``, ``ALL | x`` is ALL."""


@dataclass(frozen=True)
class _Never(FilterExpression):
    """Nothing (``Tag(f) == []``, ``~ALL``): rendered as ``(A -(A))`` for its anchor ``A``, which
    the server evaluates to the empty set. ``~ALL`` alone has no anchor and cannot be rendered."""

    anchor: FilterExpression | None

    def _render(self, sw: frozenset[str]) -> str:
        if self.anchor is None:
            raise FilterError(
                "this filter matches nothing (it is built from ~ALL alone), and the server has "
                "no query for that without a field: skip the search instead"
            )
        return f"({self.anchor._operand(sw)} -({self.anchor._render(sw)}))"

    def __invert__(self) -> FilterExpression:
        return _All(self.anchor)

    def is_nothing(self) -> bool:
        return True

    def _leaves(self) -> Iterator[_Leaf]:
        return self.anchor._leaves() if self.anchor is not None else iter(())


@dataclass(frozen=True)
class _Raw(FilterExpression):
    query: str

    def _render(self, sw: frozenset[str]) -> str:
        return self.query

    def _operand(self, sw: frozenset[str]) -> str:
        return f"({self.query})"


@dataclass(frozen=True)
class _Leaf(FilterExpression):
    """One predicate on one field, rendered at construction (so value errors surface early)."""

    field: str
    builder: str  # "Tag", "Num", ... for messages
    kind: str  # the field type it applies to
    query: str
    values: tuple[str, ...] = ()  # tag texts as matched (trimmed, unescaped)
    missing: bool = False  # an ismissing() test, which needs INDEXMISSING

    def _render(self, sw: frozenset[str]) -> str:
        return self.query

    def _leaves(self) -> Iterator[_Leaf]:
        yield self

    def validate(
        self,
        types: Mapping[str, str],
        separators: Mapping[str, str] | None = None,
        no_missing: Collection[str] = (),
    ) -> None:
        kind = types.get(self.field)
        if kind is None:
            raise FilterError(
                f"the filter uses field {self.field!r}, which is not in the index; "
                f"indexed fields: {sorted(types)}"
            )
        if kind != self.kind:
            fix = (
                f"use {_SUGGEST[kind]}({self.field!r})"
                if kind in _SUGGEST
                else "vector fields are searched with a vector query, not filtered"
                if kind == "vector"
                else "filter on a tag, numeric, text or geo field"
            )
            raise FilterError(
                f"{self.builder}({self.field!r}) applies to {self.kind} fields, but "
                f"{self.field!r} is a {kind} field: {fix}"
            )
        if self.missing and self.field in no_missing:
            raise FilterError(
                f"{self.builder}({self.field!r}).is_missing() (also $exists / IS_EMPTY) needs the "
                f"field created with INDEXMISSING, and {self.field!r} of this index was not: "
                "re-create the index with it (redisvec's metadata_schema fields have it), or "
                "filter on a field that has it"
            )
        sep = (separators or {}).get(self.field)
        for value in self.values:
            if sep and sep in value:
                parts = [p for p in (p.strip(_TAG_TRIM) for p in value.split(sep)) if p]
                raise FilterError(
                    f"Tag({self.field!r}) value {value!r} contains the field's separator {sep!r}: "
                    "the server split stored values at it, so this value never matches; filter "
                    f"on one of its parts instead ({', '.join(map(repr, parts)) or 'none'}), e.g. "
                    f"Tag({self.field!r}).one_of({parts!r})"
                )


@dataclass(frozen=True)
class _TextLeaf(_Leaf):
    """A text match or phrase, rendered when the index's stopwords are known: they are left out
    (the server indexed none; a stopword in a term union makes it drop the other terms, or
    crash, and a phrase with one never matches). Terms are quoted: matched as written (case
    folded), never stemmed, so a filter selects the same records in every kind of query."""

    terms: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    phrase: bool = False

    def _render(self, sw: frozenset[str]) -> str:
        terms = [t for t in self.terms if not is_stopword(t, sw)]
        if not terms and not self.patterns:
            what = "phrase" if self.phrase else "match"
            raise FilterError(
                f"Text({self.field!r}).{what}({' '.join(self.terms)!r}) has only stopwords, "
                "which the server leaves out of the index, so there is nothing to match: use "
                "other words (or an index created with STOPWORDS 0)"
            )
        ref = _ref(self.field)
        if self.phrase:
            return f'{ref}:"{" ".join(terms)}"'
        atoms = [f'"{t}"' for t in terms] + list(self.patterns)
        return f"{ref}:{atoms[0]}" if len(atoms) == 1 else f"{ref}:({' '.join(atoms)})"


@dataclass(frozen=True)
class _And(FilterExpression):
    children: tuple[FilterExpression, ...]

    def _render(self, sw: frozenset[str]) -> str:
        return "(" + " ".join(c._operand(sw) for c in self.children) + ")"

    def _leaves(self) -> Iterator[_Leaf]:
        for c in self.children:
            yield from c._leaves()


@dataclass(frozen=True)
class _Or(FilterExpression):
    children: tuple[FilterExpression, ...]

    def _render(self, sw: frozenset[str]) -> str:
        return "(" + " | ".join(c._operand(sw) for c in self.children) + ")"

    def _leaves(self) -> Iterator[_Leaf]:
        for c in self.children:
            yield from c._leaves()


@dataclass(frozen=True)
class _Not(FilterExpression):
    child: FilterExpression

    def _render(self, sw: frozenset[str]) -> str:
        return "-" + self.child._operand(sw)

    def _operand(self, sw: frozenset[str]) -> str:
        return self._render(sw)

    def __invert__(self) -> FilterExpression:
        return self.child

    def _leaves(self) -> Iterator[_Leaf]:
        return self.child._leaves()


def _combine(
    node: type[_And] | type[_Or], a: FilterExpression, b: FilterExpression
) -> FilterExpression:
    """AND/OR with the constants simplified away and nesting flattened.

    ``*`` inside AND is a syntax error, so ALL and NOTHING never appear inside a composite: they
    absorb (ALL in OR, NOTHING in AND) or vanish, keeping an anchor for a later negation.
    """
    absorbing, neutral = (_Never, _All) if node is _And else (_All, _Never)
    for x, y in ((a, b), (b, a)):
        if isinstance(x, absorbing):
            return absorbing(_anchor(x) or _anchor(y))
    for x, y in ((a, b), (b, a)):
        if isinstance(x, neutral):
            return neutral(_anchor(x) or _anchor(y)) if isinstance(y, neutral) else y
    children: list[FilterExpression] = []
    for x in (a, b):
        children.extend(x.children if isinstance(x, node) else (x,))
    return node(tuple(children))


def _anchor(x: FilterExpression) -> FilterExpression | None:
    return x.anchor if isinstance(x, (_All, _Never)) else x


# --------------------------------------------------------------------------------------------------
# Field builders


@dataclass(frozen=True, eq=False)
class Tag:
    """A TAG field. ``==`` a value or a list (any of), ``!=`` (none of), `one_of`, `all_of`.

    Values may be str, int, float or bool (see `to_tag_text`). ``""`` (or only whitespace) is
    refused: use `is_missing`. ``== []`` matches nothing; ``!= []`` and ``all_of([])`` are `ALL`.
    Matching ignores surrounding whitespace and ASCII case (unless the field is CASESENSITIVE).
    """

    name: str

    def __post_init__(self) -> None:
        _check_field("Tag", self.name)

    def _text(self, value: object) -> str:
        try:
            text = to_tag_text(value)  # type: ignore[arg-type]
        except FilterError as exc:
            raise FilterError(f"Tag({self.name!r}): {exc}") from None
        text = text.strip(_TAG_TRIM)
        if not text:
            raise FilterError(
                f"Tag({self.name!r}) got the empty value {value!r}, which the server cannot match "
                "(and which easily turns into '*', matching everything): use a non-empty value, "
                f"or Tag({self.name!r}).is_missing() for records without the field"
            )
        if _UNQUERYABLE.search(text):
            raise FilterError(
                f"Tag({self.name!r}) value {value!r} contains a NUL or control character, which "
                "the server's query parser cannot match: remove it from stored and queried values"
            )
        return text

    def _values(self, values: object, op: str) -> list[str]:
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise FilterError(
                f"Tag({self.name!r}).{op}() takes a list of values, got {values!r}: "
                f"for one value use Tag({self.name!r}) == value"
            )
        return list(dict.fromkeys(self._text(v) for v in values))

    def _any(self, texts: list[str]) -> FilterExpression:
        if not texts:  # nothing, anchored on this field
            return _Never(_Leaf(self.name, "Tag", "tag", f"{_ref(self.name)}:{{x}}"))
        query = f"{_ref(self.name)}:{{{' | '.join(map(_escape, texts))}}}"
        return _Leaf(self.name, "Tag", "tag", query, tuple(texts))

    def one_of(self, values: Iterable[TagValue]) -> FilterExpression:
        """Records holding at least one of ``values``; an empty list matches nothing."""
        return self._any(self._values(values, "one_of"))

    def all_of(self, values: Iterable[TagValue]) -> FilterExpression:
        """Records holding every one of ``values`` (multi-valued tags); empty -> `ALL`."""
        result: FilterExpression = ~self._any([])
        for text in self._values(values, "all_of"):
            result = result & self._any([text])
        return result

    def __eq__(self, other: TagValue | Iterable[TagValue]) -> FilterExpression:  # type: ignore[override]
        if type(other) is str:
            return _tag_equals(self.name, other)
        if isinstance(other, (list, tuple, set, frozenset)):
            return self.one_of(other)
        return self._any([self._text(other)])

    def __ne__(self, other: TagValue | Iterable[TagValue]) -> FilterExpression:  # type: ignore[override]
        """None of the value(s); also matches records without the field."""
        return ~(self == other)

    def is_missing(self) -> FilterExpression:
        """Records without the field (needs INDEXMISSING)."""
        return _Leaf(self.name, "Tag", "tag", f"ismissing({_ref(self.name)})", missing=True)


def _tag_equals(name: str, value: str) -> FilterExpression:
    """``Tag(name) == value`` for a str value, shared per field and value (`TagEqualsKey`):
    expressions are immutable. A refused value raises again on every call (nothing is kept)."""
    cache = shared(TagEqualsKey)
    key = TagEqualsKey(name, value)
    found: FilterExpression | None = cache.get(key)
    if found is None:
        tag = Tag(name)
        found = memo_put(cache, key, tag._any([tag._text(value)]))
    return found


def _number(builder: str, field: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FilterError(
            f"{builder}({field!r}) compares numbers, got {value!r} ({type(value).__name__}); "
            + (
                "booleans are not numbers here: store them as tags and use Tag, or pass int(value)"
                if isinstance(value, bool)
                else "pass an int or a float"
            )
        )
    if isinstance(value, numbers.Integral):
        return str(int(value))
    f = float(value)
    if math.isnan(f):
        raise FilterError(f"{builder}({field!r}) got NaN, which compares unequal to everything")
    if math.isinf(f):
        return "+inf" if f > 0 else "-inf"
    return repr(f)


@dataclass(frozen=True, eq=False)
class Num:
    """A NUMERIC field: ``== != < <= > >=`` and `between`. Values are int or float (no bool, NaN).

    ``!=`` also matches records without the field.
    """

    name: str

    def __post_init__(self) -> None:
        _check_field("Num", self.name)

    def _range(self, lo: str, hi: str) -> FilterExpression:
        return _Leaf(self.name, "Num", "numeric", f"{_ref(self.name)}:[{lo} {hi}]")

    def _n(self, value: object) -> str:
        return _number("Num", self.name, value)

    def __eq__(self, other: float) -> FilterExpression:  # type: ignore[override]
        v = self._n(other)
        return self._range(v, v)

    def __ne__(self, other: float) -> FilterExpression:  # type: ignore[override]
        return ~(self == other)

    def __lt__(self, other: float) -> FilterExpression:
        return self._range("-inf", "(" + self._n(other))

    def __le__(self, other: float) -> FilterExpression:
        return self._range("-inf", self._n(other))

    def __gt__(self, other: float) -> FilterExpression:
        return self._range("(" + self._n(other), "+inf")

    def __ge__(self, other: float) -> FilterExpression:
        return self._range(self._n(other), "+inf")

    def one_of(self, values: Iterable[float]) -> FilterExpression:
        """Records whose value equals one of ``values``; an empty list matches nothing."""
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise FilterError(
                f"Num({self.name!r}).one_of() takes a list of numbers, got {values!r}: "
                f"for one value use Num({self.name!r}) == value"
            )
        result: FilterExpression = ~_All(self._range("-inf", "+inf"))  # nothing, on this field
        for value in values:
            result = result | (self == value)
        return result

    def between(self, lo: float, hi: float, inclusive: str = "both") -> FilterExpression:
        """``lo <= x <= hi``; ``inclusive`` is ``"both"``, ``"neither"``, ``"left"`` or ``"right"``.

        ``lo > hi`` simply matches nothing, like the Python comparison.
        """
        if inclusive not in ("both", "neither", "left", "right"):
            raise FilterError(
                f"Num({self.name!r}).between(): inclusive must be 'both', 'neither', 'left' or "
                f"'right', got {inclusive!r}"
            )
        left = "" if inclusive in ("both", "left") else "("
        right = "" if inclusive in ("both", "right") else "("
        return self._range(left + self._n(lo), right + self._n(hi))

    def is_missing(self) -> FilterExpression:
        """Records without the field (needs INDEXMISSING)."""
        return _Leaf(self.name, "Num", "numeric", f"ismissing({_ref(self.name)})", missing=True)


@dataclass(frozen=True, eq=False)
class Text:
    """A TEXT field, matched by whole words (terms).

    ``% text`` / `match`: every word of ``text``, anywhere, in any order; a word may be a
    pattern: ``doc*`` (prefix), ``*tor`` (suffix), ``*oct*`` (infix), ``%term%`` (fuzzy, up to
    ``%%%term%%%``). `phrase` / ``==``: the words adjacent and in order; ``!=``: not that
    phrase; `prefix`: a word starting with it; `like`: a word matching a wildcard pattern.

    Words are compared as the server indexed them: split at ASCII punctuation and whitespace,
    ASCII case folded, stopwords left out (the index's list, given to `FilterExpression.render`).
    A filter is not stemmed: ``% "engine"`` does not match "engineer". The server stems filter
    words only in some queries (not inside a KNN pre-filter nor under a negation), so a stemmed
    filter would select different records in a vector search than in a count or a delete; an
    unstemmed one selects the same records everywhere. Use a pattern (``engine*``) to widen.
    What cannot be expressed is refused (`FilterError`), never simplified.
    """

    name: str

    def __post_init__(self) -> None:
        _check_field("Text", self.name)

    def _leaf(self, query: str) -> FilterExpression:
        return _Leaf(self.name, "Text", "text", f"{_ref(self.name)}:{query}")

    def _text(self, text: object, op: str) -> str:
        if not isinstance(text, str):
            raise FilterError(f"Text({self.name!r}).{op}() takes a string, got {text!r}")
        return text

    def _terms(self, text: object, op: str) -> list[str]:
        """Split where the server splits text, so each term is a bare word that needs no escaping."""
        terms = text_terms(self._text(text, op))
        if not terms:
            raise FilterError(
                f"Text({self.name!r}).{op}({text!r}) has no words (the server ignores punctuation "
                "and whitespace): pass some text, or use is_missing()"
            )
        return terms

    def match(self, text: str) -> FilterExpression:
        """Records whose field contains every word of ``text`` (each a term or a pattern)."""
        text = self._text(text, "match")
        if "|" in text:
            raise FilterError(
                f"Text({self.name!r}).match({text!r}): '|' (any of) is not part of match, which "
                f"needs every word; for any of several, combine filters: "
                f"Text({self.name!r}).match(a) | Text({self.name!r}).match(b)"
            )
        terms: list[str] = []
        patterns: list[str] = []
        for word in text.split():
            if _TEXT_SEPARATORS.fullmatch(word) is None and ("*" in word or word[0] == "%"):
                patterns.append(self._pattern(word))
            else:
                terms += text_terms(word)
        if not terms and not patterns:
            raise FilterError(
                f"Text({self.name!r}).match({text!r}) has no words (the server ignores "
                "punctuation and whitespace): pass some text, or use is_missing()"
            )
        return _TextLeaf(
            self.name, "Text", "text", "", terms=tuple(terms), patterns=tuple(patterns)
        )

    __mod__ = match

    def _pattern(self, word: str) -> str:
        star = _STAR.fullmatch(word) if "*" in word else None
        fuzzy = _FUZZY.fullmatch(word)
        core = star.group(2) if star else fuzzy.group(2) if fuzzy else ""
        if not core or _TEXT_SEPARATORS.search(core):
            raise FilterError(
                f"Text({self.name!r}).match(): {word!r} is not a pattern the server has; use "
                "'doc*' (prefix), '*tor' (suffix), '*oct*' (infix) or '%term%' / '%%term%%' / "
                f"'%%%term%%%' (fuzzy) on one word, or Text({self.name!r}).like() for wildcards "
                "inside a word"
            )
        if star and len(core) < 2:
            raise FilterError(
                f"Text({self.name!r}).match(): {word!r} needs at least 2 characters besides '*' "
                "(the server's MINPREFIX; shorter patterns silently match nothing)"
            )
        _check_pattern_size(self.name, word)
        return word

    def phrase(self, text: str) -> FilterExpression:
        """Records containing the words of ``text`` adjacent and in order (punctuation ignored;
        stopwords left out, as the server leaves them out of the indexed text)."""
        terms = self._terms(text, "phrase")
        return _TextLeaf(self.name, "Text", "text", "", terms=tuple(terms), phrase=True)

    def __eq__(self, other: str) -> FilterExpression:  # type: ignore[override]
        return self.phrase(other)

    def __ne__(self, other: str) -> FilterExpression:  # type: ignore[override]
        """Not the phrase; also matches records without the field."""
        return ~self.phrase(other)

    def prefix(self, prefix: str) -> FilterExpression:
        """Records with a term starting with ``prefix`` (one word of >= 2 characters: the
        server's default MINPREFIX is 2 and shorter prefixes silently match nothing)."""
        terms = self._terms(prefix, "prefix")
        if len(terms) != 1 or terms[0] != prefix or len(prefix) < 2:
            raise FilterError(
                f"Text({self.name!r}).prefix({prefix!r}) must be one word of at least 2 letters, "
                "digits or '_' (text is matched term by term)"
            )
        _check_pattern_size(self.name, prefix + "*")
        return self._leaf(prefix + "*")

    def like(self, pattern: str, *, sql: bool = False) -> FilterExpression:
        """Records with a word matching ``pattern``: ``*`` any run, ``?`` one character.

        With ``sql=True`` the pattern is SQL LIKE instead: ``%`` any run, ``_`` one character,
        ``\\%`` / ``\\_`` literal, every other character literal. A pattern matches one word, so
        a literal character the server splits words at (punctuation, whitespace, ``$``; with
        ``sql=True`` also ``*`` and ``?``) could never match: it is refused, as is a pattern
        longer than 1,024 bytes (search 2.10 crashes on one).
        """
        if not isinstance(pattern, str) or not pattern:
            raise FilterError(
                f"Text({self.name!r}).like() needs a non-empty pattern, got {pattern!r}"
            )
        parts: list[tuple[str, bool]] = []  # (character, is a wildcard)
        if sql:
            for m in re.finditer(r"\\([%_])|(.)", pattern, re.DOTALL):
                if m.group(1):
                    parts.append((m.group(1), False))
                elif m.group(2) in ("%", "_"):
                    parts.append(("*" if m.group(2) == "%" else "?", True))
                else:
                    parts.append((m.group(2), False))
        else:
            parts = [(c, c in "*?") for c in pattern]
        rendered = "".join(c for c, _ in parts)
        literal = "".join(c for c, wild in parts if not wild)
        bad = _TEXT_SEPARATORS.search(literal)
        if bad:
            raise FilterError(
                f"Text({self.name!r}).like({pattern!r}): {bad.group(0)[0]!r} is a character the "
                "server splits words at, so no word contains it and the pattern could never "
                "match; a pattern matches one word: "
                + ("use % and _ as wildcards (SQL LIKE)" if sql else "use * and ? as wildcards")
            )
        _check_pattern_size(self.name, rendered)
        return self._leaf(f"w'{rendered}'")

    def is_missing(self) -> FilterExpression:
        """Records without the field (needs INDEXMISSING)."""
        return _Leaf(self.name, "Text", "text", f"ismissing({_ref(self.name)})", missing=True)


@dataclass(frozen=True, eq=False)
class Geo:
    """A GEO field (``"lon,lat"`` values)."""

    name: str

    def __post_init__(self) -> None:
        _check_field("Geo", self.name)

    def within(self, lon: float, lat: float, radius: float, unit: str = "km") -> FilterExpression:
        """Records within ``radius`` ``unit`` ("m", "km", "mi", "ft") of (``lon``, ``lat``)."""
        lo, la, ra = (_number("Geo", self.name, v) for v in (lon, lat, radius))
        if not -180 <= float(lon) <= 180 or not -_MAX_LAT <= float(lat) <= _MAX_LAT:
            raise FilterError(
                f"Geo({self.name!r}).within(): longitude must be in [-180, 180] and latitude in "
                f"[-{_MAX_LAT}, {_MAX_LAT}], got lon={lon!r}, lat={lat!r} (note: lon comes first)"
            )
        if not 0 < float(radius) < math.inf:  # the server refuses a radius of 0
            raise FilterError(f"Geo({self.name!r}).within(): radius must be > 0, got {radius!r}")
        if unit not in _GEO_UNITS:
            raise FilterError(
                f"Geo({self.name!r}).within(): unit must be one of {list(_GEO_UNITS)}, got {unit!r}"
            )
        return _Leaf(self.name, "Geo", "geo", f"{_ref(self.name)}:[{lo} {la} {ra} {unit}]")

    def is_missing(self) -> FilterExpression:
        """Records without the field (needs INDEXMISSING)."""
        return _Leaf(self.name, "Geo", "geo", f"ismissing({_ref(self.name)})", missing=True)


def value_key(value: object) -> object:
    """A hashable key, equal for equal JSON-like values (types included: ``1``, ``1.0`` and
    ``True`` filter differently, and so may a list and a tuple), or None for anything else (a
    subclass, an object): what the adapters key their caches of translated filters with."""
    kind = type(value)
    if kind is dict:
        items = [(k, value_key(v)) for k, v in value.items()]  # type: ignore[attr-defined]
        if any(type(k) is not str or v is None for k, v in items):
            return None
        return (dict, tuple(items))
    if kind is list or kind is tuple:
        values = [value_key(v) for v in value]  # type: ignore[attr-defined]
        return None if any(v is None for v in values) else (kind, tuple(values))
    if kind in (str, int, float, bool) or value is None:
        return (kind, value)
    return None
