"""Property test: random records and random filter trees; the server's result set equals a
plain-Python evaluation of the same filter over the same records.

One index for the whole module; each example replaces the records under its prefix.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from redisvec.errors import FilterError
from redisvec.filters import ALL, FilterExpression, Num, Tag

SEP = "\x1f"
WS = " \t\n\v\f\r"  # trimmed by the server around tag values (C isspace)
N_RECORDS = 60
FIELDS = {"tag": "tag", "cs": "tag", "num": "numeric"}

# Everything but what cannot round-trip: surrogates (not UTF-8), NUL (truncates the indexed
# value) and the other ASCII control characters (the query parser reads them as separators;
# Tag refuses them, see test_filters_server.py). \x1f, the separator, is among those.
_ALPHABET = st.characters(
    exclude_categories=("Cs",),
    exclude_characters="".join(chr(c) for c in [*range(0, 9), *range(14, 32), 127]),
)
_TAG_TEXT = st.text(_ALPHABET, min_size=1, max_size=6).filter(lambda s: s.strip(WS) != "")
_NUMBERS = [-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 1e9]
_NUMBER = st.sampled_from(_NUMBERS) | st.floats(allow_nan=False, width=64)


@dataclass(frozen=True)
class Rec:
    tag: tuple[str, ...]
    cs: tuple[str, ...]
    num: float | None


def _norm(value: str, case_sensitive: bool) -> str:
    value = value.strip(WS)
    return value if case_sensitive else "".join(c.lower() if c.isascii() else c for c in value)


def _holds(values: tuple[str, ...], wanted: str, case_sensitive: bool) -> bool:
    return _norm(wanted, case_sensitive) in {_norm(v, case_sensitive) for v in values}


Pred = Callable[[Rec], bool]
Case = tuple[FilterExpression, Pred]


def _tag_leaf(field: str, pool: list[str]) -> st.SearchStrategy[Case]:
    cs = field == "cs"
    value = st.sampled_from(pool) | st.sampled_from(pool).map(str.swapcase) | _TAG_TEXT
    values = st.lists(value, max_size=3)

    def get(r: Rec) -> tuple[str, ...]:
        return r.cs if cs else r.tag

    def eq(v: str) -> Case:
        return Tag(field) == v, lambda r: _holds(get(r), v, cs)

    def ne(v: str) -> Case:
        return Tag(field) != v, lambda r: not _holds(get(r), v, cs)

    def any_of(vs: list[str]) -> Case:
        return Tag(field).one_of(vs), lambda r: any(_holds(get(r), v, cs) for v in vs)

    def none_of(vs: list[str]) -> Case:
        return Tag(field) != vs, lambda r: not any(_holds(get(r), v, cs) for v in vs)

    def all_of(vs: list[str]) -> Case:
        return Tag(field).all_of(vs), lambda r: all(_holds(get(r), v, cs) for v in vs)

    missing: Case = (Tag(field).is_missing(), lambda r: not get(r))
    return st.one_of(
        value.map(eq),
        value.map(ne),
        values.map(any_of),
        values.map(none_of),
        values.map(all_of),
        st.just(missing),
    )


def _num_leaf() -> st.SearchStrategy[Case]:
    ops: dict[str, Callable[[float, float], bool]] = {
        "==": lambda x, b: x == b,
        "!=": lambda x, b: x != b,
        "<": lambda x, b: x < b,
        "<=": lambda x, b: x <= b,
        ">": lambda x, b: x > b,
        ">=": lambda x, b: x >= b,
    }

    def compare(op: str, b: float) -> Case:
        n = Num("num")
        expr = {
            "==": n == b, "!=": n != b, "<": n < b, "<=": n <= b, ">": n > b, ">=": n >= b,
        }[op]  # fmt: skip
        if op == "!=":
            return expr, lambda r: r.num is None or r.num != b
        return expr, lambda r: r.num is not None and ops[op](r.num, b)

    def between(lo: float, hi: float, inclusive: str) -> Case:
        lo_in, hi_in = inclusive in ("both", "left"), inclusive in ("both", "right")

        def pred(r: Rec) -> bool:
            x = r.num
            if x is None:
                return False
            return (x >= lo if lo_in else x > lo) and (x <= hi if hi_in else x < hi)

        return Num("num").between(lo, hi, inclusive), pred

    missing: Case = (Num("num").is_missing(), lambda r: r.num is None)
    return st.one_of(
        st.builds(compare, st.sampled_from(list(ops)), _NUMBER),
        st.builds(between, _NUMBER, _NUMBER, st.sampled_from(["both", "neither", "left", "right"])),
        st.just(missing),
    )


def _and(pair: tuple[Case, Case]) -> Case:
    (a, pa), (b, pb) = pair
    return a & b, lambda r: pa(r) and pb(r)


def _or(pair: tuple[Case, Case]) -> Case:
    (a, pa), (b, pb) = pair
    return a | b, lambda r: pa(r) or pb(r)


def _not(case: Case) -> Case:
    a, pa = case
    return ~a, lambda r: not pa(r)


def _tree(pool: list[str], depth: int) -> st.SearchStrategy[Case]:
    everything: Case = (ALL, lambda r: True)
    leaf = _tag_leaf("tag", pool) | _tag_leaf("cs", pool) | _num_leaf() | st.just(everything)
    tree = leaf
    for _ in range(depth):
        sub = tree
        tree = st.one_of(
            leaf,
            st.tuples(sub, sub).map(_and),
            st.tuples(sub, sub).map(_or),
            sub.map(_not),
        )
    return tree


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Rec], Case]:
    pool = draw(st.lists(_TAG_TEXT, min_size=1, max_size=10, unique=True))
    tags = st.lists(st.sampled_from(pool), max_size=3, unique=True).map(tuple)
    num = st.none() | st.sampled_from(_NUMBERS) | st.floats(allow_nan=False, width=64)
    records = draw(
        st.lists(st.builds(Rec, tags, tags, num), min_size=N_RECORDS, max_size=N_RECORDS)
    )
    return records, draw(_tree(pool, depth=4))


@dataclass(frozen=True)
class Index:
    client: redis.Redis
    name: str
    prefix: str


@pytest.fixture(scope="module")
def index(redis_url: str) -> Iterator[Index]:
    tag = uuid.uuid4().hex[:10]
    name, prefix = f"test_{tag}_prop", f"test_{tag}_prop:"
    with redis.Redis.from_url(redis_url) as client:
        client.execute_command(
            "FT.CREATE", name, "ON", "HASH", "PREFIX", "1", prefix, "SCHEMA",
            "tag", "TAG", "SEPARATOR", SEP, "INDEXMISSING",
            "cs", "TAG", "SEPARATOR", SEP, "CASESENSITIVE", "INDEXMISSING",
            "num", "NUMERIC", "INDEXMISSING",
        )  # fmt: skip
        try:
            yield Index(client, name, prefix)
        finally:
            client.execute_command("FT.DROPINDEX", name, "DD")


def _load(ix: Index, records: list[Rec]) -> None:
    pipe = ix.client.pipeline(transaction=False)
    for i, r in enumerate(records):
        key = f"{ix.prefix}{i}"
        pipe.unlink(key)
        mapping: dict[str, str] = {"i": str(i)}
        if r.tag:
            mapping["tag"] = SEP.join(r.tag)
        if r.cs:
            mapping["cs"] = SEP.join(r.cs)
        if r.num is not None:
            mapping["num"] = repr(r.num)
        pipe.hset(key, mapping=mapping)  # type: ignore[arg-type]
    pipe.execute()


def _search(ix: Index, query: str) -> set[int]:
    reply: Any = ix.client.execute_command(
        "FT.SEARCH", ix.name, query, "DIALECT", "2", "LIMIT", "0", "10000", "NOCONTENT"
    )
    resp3 = isinstance(reply, dict)
    keys = [row[b"id"] for row in reply[b"results"]] if resp3 else reply[1:]
    return {int(k.decode().removeprefix(ix.prefix)) for k in keys}


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenario=scenarios())
def test_server_agrees_with_python(index: Index, scenario: tuple[list[Rec], Case]) -> None:
    records, (expr, pred) = scenario
    expected = {i for i, r in enumerate(records) if pred(r)}
    try:
        query = expr.render(FIELDS)
    except FilterError as exc:  # allowed only for "nothing" built from ALL alone (~ALL)
        assert "matches nothing" in str(exc)
        assert expected == set()
        assert expr.field_names() == frozenset()
        return
    _load(index, records)
    event(
        "matches " + ("none" if not expected else "all" if len(expected) == N_RECORDS else "some")
    )
    assert _search(index, query) == expected, query


def test_numbers_used_are_finite_or_infinite_never_nan() -> None:
    assert all(not math.isnan(x) for x in _NUMBERS)
