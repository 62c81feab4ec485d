"""Rendered filters against a real server; ground truth is plain Python over the same records.

The index is made with raw FT.CREATE so these tests depend on nothing but `redisvec.filters`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import redis

from redisvec.errors import FilterError
from redisvec.filters import ALL, FilterExpression, Geo, Num, Tag, Text

SEP = "\x1f"
DIM = 4
WS = " \t\n\v\f\r"  # what the server trims around tag values (C isspace)

HOSTILE = [
    "a,b",
    "foo bar",
    "x|y",
    "@title:(hack)",
    "{}",
    "-neg",
    "100%",
    "日本語",
    "tab\tsep",
    "back\\slash",
    'quote"s',
    "*",
    "a'b",
    "x—y",  # non-ASCII punctuation
    "nbsp\u00a0in",
    "}) | (@cs:{*",
    "$param",
    "~tilde",
    "semi;colon",
    "Mixed Case",
    "ÉCOLE",
    "école",
    "  padded  ",
    "line\nbreak",
    "1.5",
    "-0",
]


@dataclass
class Rec:
    tag: list[str] = field(default_factory=list)
    cs: list[str] = field(default_factory=list)
    num: float | None = None
    body: str | None = None
    loc: tuple[float, float] | None = None
    vec: np.ndarray | None = None


def _create(client: redis.Redis, index: str, prefix: str) -> None:
    client.execute_command(
        "FT.CREATE", index, "ON", "HASH", "PREFIX", "1", prefix, "SCHEMA",
        "tag", "TAG", "SEPARATOR", SEP, "INDEXMISSING",
        "cs", "TAG", "SEPARATOR", SEP, "CASESENSITIVE", "INDEXMISSING",
        "num", "NUMERIC", "INDEXMISSING",
        "body", "TEXT", "NOSTEM", "INDEXMISSING",
        "loc", "GEO", "INDEXMISSING",
        "v", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", str(DIM), "DISTANCE_METRIC", "L2",
    )  # fmt: skip


def _write(client: redis.Redis, prefix: str, recs: dict[str, Rec]) -> None:
    pipe = client.pipeline(transaction=False)
    for key, r in recs.items():
        mapping: dict[str, str | bytes | float] = {"id": key}
        if r.tag:
            mapping["tag"] = SEP.join(r.tag)
        if r.cs:
            mapping["cs"] = SEP.join(r.cs)
        if r.num is not None:
            mapping["num"] = repr(r.num)
        if r.body is not None:
            mapping["body"] = r.body
        if r.loc is not None:
            mapping["loc"] = f"{r.loc[0]},{r.loc[1]}"
        if r.vec is not None:
            mapping["v"] = r.vec.astype(np.float32).tobytes()
        pipe.hset(prefix + key, mapping=mapping)  # type: ignore[arg-type]
    pipe.execute()


def _rows(reply: Any) -> list[tuple[str, dict[bytes, bytes]]]:
    """(id, returned fields) from an FT.SEARCH reply in either RESP2 or RESP3 shape."""
    if isinstance(reply, dict):
        return [
            (row[b"id"].decode(), dict(row.get(b"extra_attributes") or {}))
            for row in reply[b"results"]
        ]
    out: list[tuple[str, dict[bytes, bytes]]] = []
    items = reply[1:]
    i = 0
    while i < len(items):
        fields: dict[bytes, bytes] = {}
        if i + 1 < len(items) and isinstance(items[i + 1], list):
            flat = items[i + 1]
            fields = dict(zip(flat[::2], flat[1::2]))
            out.append((items[i].decode(), fields))
            i += 2
        else:
            out.append((items[i].decode(), fields))
            i += 1
    return out


def search(client: redis.Redis, index: str, prefix: str, query: str) -> set[str]:
    reply = client.execute_command(
        "FT.SEARCH", index, query, "DIALECT", "2", "LIMIT", "0", "10000", "NOCONTENT"
    )
    return {key.removeprefix(prefix) for key, _ in _rows(reply)}


@dataclass
class Env:
    client: redis.Redis
    index: str
    prefix: str
    recs: dict[str, Rec]

    def run(self, f: FilterExpression) -> set[str]:
        fields = {"tag": "tag", "cs": "tag", "num": "numeric", "body": "text", "loc": "geo"}
        fields["v"] = "vector"
        return search(self.client, self.index, self.prefix, f.render(fields))

    def expect(self, pred: Callable[[Rec], bool]) -> set[str]:
        return {k for k, r in self.recs.items() if pred(r)}

    def check(self, f: FilterExpression, pred: Callable[[Rec], bool]) -> None:
        expected = self.expect(pred)
        assert self.run(f) == expected, f.render()


def _env(client: redis.Redis, names: Any, recs: dict[str, Rec]) -> Env:
    _create(client, names.index, names.prefix)
    _write(client, names.prefix, recs)
    return Env(client, names.index, names.prefix, recs)


def _norm(value: str, case_sensitive: bool) -> str:
    """What the server compares: surrounding whitespace dropped, ASCII-only case folding."""
    value = value.strip(WS)
    if case_sensitive:
        return value
    return "".join(c.lower() if c.isascii() else c for c in value)


def _has(values: Iterable[str], wanted: str, case_sensitive: bool = False) -> bool:
    return _norm(wanted, case_sensitive) in {_norm(v, case_sensitive) for v in values}


# --- tags -----------------------------------------------------------------------------------------


@pytest.fixture
def tag_env(client: redis.Redis, names: Any) -> Env:
    recs: dict[str, Rec] = {}
    for i, value in enumerate(HOSTILE):
        recs[f"h{i}"] = Rec(tag=[value], cs=[value])
        recs[f"m{i}"] = Rec(tag=["ordinary", value], cs=[value, "Other"])  # multi-valued
    recs["p"] = Rec(tag=["plain"], cs=["Plain"])
    recs["x"] = Rec(tag=["x"], cs=["x"])  # the placeholder value the empty set renders with
    recs["sep"] = Rec(tag=["p" + SEP + "q"])  # the separator splits: two tags
    recs["none"] = Rec(num=1.0)  # lacks both tag fields
    return _env(client, names, recs)


@pytest.mark.parametrize("value", HOSTILE)
def test_tag_equality_on_hostile_values(tag_env: Env, value: str) -> None:
    tag_env.check(Tag("tag") == value, lambda r: _has(r.tag, value))
    tag_env.check(Tag("cs") == value, lambda r: _has(r.cs, value, case_sensitive=True))
    tag_env.check(Tag("tag") != value, lambda r: not _has(r.tag, value))
    hostile_hits = tag_env.run(Tag("tag") == value)
    assert hostile_hits  # the value itself is stored, so something must match


def test_tag_exact_keys_for_a_few_values(tag_env: Env) -> None:
    """Spell out the expected keys for values whose ground truth is not just `value in tags`."""
    i = HOSTILE.index
    assert tag_env.run(Tag("tag") == "a,b") == {f"h{i('a,b')}", f"m{i('a,b')}"}
    assert tag_env.run(Tag("tag") == "*") == {f"h{i('*')}", f"m{i('*')}"}
    both = {f"h{i('Mixed Case')}", f"m{i('Mixed Case')}"}
    assert tag_env.run(Tag("tag") == "mixed case") == both
    assert tag_env.run(Tag("cs") == "mixed case") == set()
    # ASCII-only case folding: "ÉCOLE" folds to "École", which "école" is not.
    assert tag_env.run(Tag("tag") == "École") == {f"h{i('ÉCOLE')}", f"m{i('ÉCOLE')}"}
    # Surrounding whitespace is trimmed at indexing time, so both spellings find the value.
    padded = {f"h{i('  padded  ')}", f"m{i('  padded  ')}"}
    assert tag_env.run(Tag("tag") == "padded") == padded
    assert tag_env.run(Tag("tag") == " padded\t") == padded


def test_tag_separator_is_the_control_character(tag_env: Env) -> None:
    assert tag_env.run(Tag("tag") == "p") == {"sep"}
    assert tag_env.run(Tag("tag") == "q") == {"sep"}
    assert tag_env.run(Tag("tag").all_of(["p", "q"])) == {"sep"}


def test_tag_any_all_none_of(tag_env: Env) -> None:
    values = ["a,b", "x|y", "plain", "not-stored"]
    tag_env.check(Tag("tag") == values, lambda r: any(_has(r.tag, v) for v in values))
    tag_env.check(Tag("tag").one_of(values), lambda r: any(_has(r.tag, v) for v in values))
    tag_env.check(Tag("tag") != values, lambda r: not any(_has(r.tag, v) for v in values))
    pair = ["ordinary", "{}"]
    tag_env.check(Tag("tag").all_of(pair), lambda r: all(_has(r.tag, v) for v in pair))
    assert len(tag_env.run(Tag("tag").all_of(pair))) == 1


def test_empty_tag_set_matches_nothing_on_the_server(tag_env: Env) -> None:
    assert tag_env.run(Tag("tag") == []) == set()
    assert tag_env.run(Tag("tag") != []) == set(tag_env.recs)
    assert tag_env.run(ALL) == set(tag_env.recs)
    assert tag_env.run(~(Tag("tag") != [])) == set()
    plain = Tag("tag") == "plain"
    # "nothing" anchored on any shape of expression: (A -(A)) is empty on the server.
    for anchor in (plain, ~plain, plain & ~Tag("cs").is_missing(), plain | (Tag("cs") == "x")):
        assert tag_env.run(~(anchor | ALL)) == set(), (~(anchor | ALL)).render()
    raw = FilterExpression.raw("@tag:{plain} | @cs:{x}")
    assert tag_env.run(~(raw | ALL)) == set()
    assert tag_env.run((Tag("tag") == []) | plain) == {"p"}


def test_tag_missing(tag_env: Env) -> None:
    tag_env.check(Tag("tag").is_missing(), lambda r: not r.tag)
    tag_env.check(Tag("cs").is_missing(), lambda r: not r.cs)
    tag_env.check(~Tag("cs").is_missing(), lambda r: bool(r.cs))
    assert tag_env.run(Tag("cs").is_missing()) == {"sep", "none"}


def test_server_cannot_match_control_characters(client: redis.Redis, names: Any) -> None:
    """Why Tag refuses control characters: the query parser reads them as separators."""
    env = _env(client, names, {"ctl": Rec(tag=["x\x01y"]), "sp": Rec(tag=["x y"])})
    escaped = search(client, names.index, names.prefix, "@tag:{x\\\x01y}")
    assert escaped == {"sp"}  # matches the *other* record, never the one holding x\x01y
    with pytest.raises(FilterError, match="control character"):
        env.run(Tag("tag") == "x\x01y")


def test_default_separator_would_split_commas(client: redis.Redis, names: Any) -> None:
    """Pins why storage uses SEPARATOR \\x1f: with the default ',' a stored 'a,b' is two tags."""
    client.execute_command(
        "FT.CREATE", names.index, "ON", "HASH", "PREFIX", "1", names.prefix,
        "SCHEMA", "t", "TAG",
    )  # fmt: skip
    client.hset(names.prefix + "1", "t", "a,b")
    assert search(client, names.index, names.prefix, (Tag("t") == "a,b").render()) == set()
    assert search(client, names.index, names.prefix, (Tag("t") == "a").render()) == {"1"}


# --- numbers --------------------------------------------------------------------------------------

NUMS = [-1e6, -10.0, -2.5, -1.0, -0.0, 0.1, 1.0, 1.5, 2.0, 3.0, 1e6, math.inf, -math.inf]


@pytest.fixture
def num_env(client: redis.Redis, names: Any) -> Env:
    recs = {f"n{i}": Rec(num=v) for i, v in enumerate(NUMS)}
    recs["nonum"] = Rec(tag=["x"])
    return _env(client, names, recs)


def _num(pred: Callable[[float], bool]) -> Callable[[Rec], bool]:
    return lambda r: r.num is not None and pred(r.num)


@pytest.mark.parametrize("b", [-10, -2.5, -1, 0, 0.1, 1, 1.5, 2, 1e6, 7, math.inf, -math.inf])
def test_numeric_comparisons_at_boundaries(num_env: Env, b: float) -> None:
    num_env.check(Num("num") == b, _num(lambda x: x == b))
    num_env.check(Num("num") != b, lambda r: not (r.num is not None and r.num == b))
    num_env.check(Num("num") < b, _num(lambda x: x < b))
    num_env.check(Num("num") <= b, _num(lambda x: x <= b))
    num_env.check(Num("num") > b, _num(lambda x: x > b))
    num_env.check(Num("num") >= b, _num(lambda x: x >= b))


@pytest.mark.parametrize(("lo", "hi"), [(-2.5, 1.5), (0, 0), (0.1, 2), (-math.inf, 0), (3, 1)])
@pytest.mark.parametrize("inclusive", ["both", "neither", "left", "right"])
def test_numeric_between(num_env: Env, lo: float, hi: float, inclusive: str) -> None:
    lo_ok: Callable[[float], bool] = (
        (lambda x: x >= lo) if inclusive in ("both", "left") else (lambda x: x > lo)
    )
    hi_ok: Callable[[float], bool] = (
        (lambda x: x <= hi) if inclusive in ("both", "right") else (lambda x: x < hi)
    )
    num_env.check(Num("num").between(lo, hi, inclusive), _num(lambda x: lo_ok(x) and hi_ok(x)))


def test_numeric_missing(num_env: Env) -> None:
    assert num_env.run(Num("num").is_missing()) == {"nonum"}


# --- combinations ---------------------------------------------------------------------------------


@pytest.fixture
def mixed_env(client: redis.Redis, names: Any) -> Env:
    rng = np.random.default_rng(7)
    colors = ["red", "green", "blue"]
    recs: dict[str, Rec] = {}
    for i in range(80):
        recs[f"r{i}"] = Rec(
            tag=[str(c) for c in rng.choice(colors, size=rng.integers(0, 3), replace=False)],
            num=float(rng.integers(0, 10)) if rng.random() < 0.8 else None,
            body=str(rng.choice(["alpha beta", "beta gamma", "gamma delta"]))
            if rng.random() < 0.8
            else None,
            vec=rng.normal(size=DIM),
        )
    return _env(client, names, recs)


COMBOS: list[tuple[FilterExpression, Callable[[Rec], bool]]] = [
    (
        (Tag("tag") == "red") & (Num("num") >= 5),
        lambda r: "red" in r.tag and r.num is not None and r.num >= 5,
    ),
    (
        (Tag("tag") == "red") | (Num("num") < 2),
        lambda r: "red" in r.tag or (r.num is not None and r.num < 2),
    ),
    (~(Tag("tag") == "red"), lambda r: "red" not in r.tag),
    (
        ~((Tag("tag") == "red") | (Tag("tag") == "blue")) & (Num("num") != 3),
        lambda r: not ({"red", "blue"} & set(r.tag)) and r.num != 3,
    ),
    (
        ((Tag("tag") == "green") & ~(Num("num") > 4)) | Text("body").match("alpha"),
        lambda r: (
            ("green" in r.tag and not (r.num is not None and r.num > 4))
            or (r.body is not None and "alpha" in r.body.split())
        ),
    ),
    (
        ~(~(Tag("tag") == "blue") | Num("num").is_missing()),
        lambda r: "blue" in r.tag and r.num is not None,
    ),
    (
        Num("num").is_missing() | Text("body").is_missing() | Tag("tag").is_missing(),
        lambda r: r.num is None or r.body is None or not r.tag,
    ),
    (
        ALL & (Tag("tag") != ["red", "green"]) & ALL,
        lambda r: not ({"red", "green"} & set(r.tag)),
    ),
    (
        FilterExpression.raw("@num:[1 3] | @tag:{blue}") & ~(Text("body") == "beta gamma"),
        lambda r: (
            ((r.num is not None and 1 <= r.num <= 3) or "blue" in r.tag)
            and not (r.body is not None and "beta gamma" in r.body)
        ),
    ),
]


@pytest.mark.parametrize("case", range(len(COMBOS)))
def test_combinations(mixed_env: Env, case: int) -> None:
    f, pred = COMBOS[case]
    expected = mixed_env.expect(pred)
    assert 0 < len(expected) < len(mixed_env.recs)  # a case that cannot fail is a defect
    mixed_env.check(f, pred)


@pytest.mark.parametrize("case", range(len(COMBOS)))
def test_filter_with_knn_matches_numpy(mixed_env: Env, case: int) -> None:
    f, pred = COMBOS[case]
    query_vec = np.random.default_rng(case).normal(size=DIM).astype(np.float32)
    reply = mixed_env.client.execute_command(
        "FT.SEARCH", mixed_env.index, f"({f.render()})=>[KNN 5 @v $vec AS dist]",
        "PARAMS", "2", "vec", query_vec.tobytes(), "SORTBY", "dist", "RETURN", "1", "dist",
        "LIMIT", "0", "5", "DIALECT", "2",
    )  # fmt: skip
    got = [(key.removeprefix(mixed_env.prefix), float(v[b"dist"])) for key, v in _rows(reply)]
    allowed = mixed_env.expect(pred)
    brute = sorted(
        (
            float(np.sum((mixed_env.recs[k].vec.astype(np.float32) - query_vec) ** 2)),  # type: ignore[union-attr]
            k,
        )
        for k in allowed
    )[:5]
    assert [k for k, _ in got] == [k for _, k in brute]
    assert [d for _, d in got] == pytest.approx([d for d, _ in brute], rel=1e-4, abs=1e-5)


# --- text -----------------------------------------------------------------------------------------


@pytest.fixture
def text_env(client: redis.Redis, names: Any) -> Env:
    bodies = {
        "t1": "Quick brown fox jumps over the lazy dog",
        "t2": "The brown bear and the quick fox",
        "t3": "Hello World, hello snake_case!",
        "t4": "help helium helicopter",
        "t5": "brown-fox hyphenated",
        "t6": "日本語 text with Ünïcode",
        "t7": "@title:(hack) | quote\"s and it's",
    }
    recs = {k: Rec(body=v) for k, v in bodies.items()}
    recs["nobody"] = Rec(num=1)
    return _env(client, names, recs)


def test_text_terms_phrase_prefix_like(text_env: Env) -> None:
    run = text_env.run
    assert run(Text("body") % "quick fox") == {"t1", "t2"}
    assert run(Text("body").match("FOX brown")) == {"t1", "t2", "t5"}
    assert run(Text("body").phrase("brown fox")) == {"t1", "t5"}  # punctuation is ignored
    assert run(Text("body") == "fox brown") == set()
    assert run(Text("body") != "brown fox") == {"t2", "t3", "t4", "t6", "t7", "nobody"}
    assert run(Text("body").prefix("hel")) == {"t3", "t4"}
    assert run(Text("body").prefix("HELI")) == {"t4"}
    assert run(Text("body").like("hel?um")) == {"t4"}
    assert run(Text("body").like("*case")) == {"t3"}
    assert run(Text("body").like("snake\\_%", sql=True)) == {"t3"}
    assert run(Text("body").like("h_l%", sql=True)) == {"t3", "t4"}
    assert run(Text("body").match("snake_case")) == {"t3"}
    assert run(Text("body") % "日本語") == {"t6"}
    assert run(Text("body").is_missing()) == {"nobody"}


def test_hostile_text_values_stay_terms(text_env: Env) -> None:
    run = text_env.run
    assert run(Text("body") % "@title:(hack) x") == set()  # "x" is in no record
    with pytest.raises(FilterError, match="any of"):  # redisvl's spelling of a union: refused
        run(Text("body") % "@title:(hack) | x")
    assert run(Text("body") % "@title:(hack)") == {"t7"}
    assert run(Text("body").phrase('quote"s')) == {"t7"}
    for pattern in ("it's", "') | *"):  # no single word contains ' or space: refused
        with pytest.raises(FilterError, match="splits words"):
            run(Text("body").like(pattern))
    assert run(Text("body") % "ismissing inf w") == set()


def test_stopword_pins(text_env: Env) -> None:
    """Stopwords are left out of text filters, as the server left them out of the index: a
    phrase with one matches (the server keeps no position for it), and one made only of
    stopwords is refused, having nothing to match."""
    assert text_env.run(Text("body") % "the quick") == {"t1", "t2"}
    with pytest.raises(FilterError, match="only stopwords"):
        text_env.run(Text("body") % "the")
    assert text_env.run(Text("body").phrase("over the lazy")) == {"t1"}
    assert text_env.run(Text("body").phrase("over lazy")) == {"t1"}
    # the raw server behaviour this works around: a phrase with a stopword never matches
    raw = '@body:"over the lazy"'
    assert search(text_env.client, text_env.index, text_env.prefix, raw) == set()


def test_text_case_folding_is_ascii_only(text_env: Env) -> None:
    assert text_env.run(Text("body") % "ÜNÏCODE") == set()
    assert text_env.run(Text("body") % "Ünïcode") == {"t6"}


# --- geo ------------------------------------------------------------------------------------------

EARTH_RADIUS_M = 6372797.560856  # the radius Redis' geo code uses


def _haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@pytest.mark.parametrize(
    ("radius", "unit", "meters"),
    [(50, "km", 50_000), (20_000, "m", 20_000), (40, "mi", 40 * 1609.34), (90_000, "ft", 27432)],
)
def test_geo_radius_matches_haversine(
    client: redis.Redis, names: Any, radius: float, unit: str, meters: float
) -> None:
    rng = np.random.default_rng(3)
    center = (2.35, 48.85)
    recs: dict[str, Rec] = {}
    for i in range(200):
        loc = (center[0] + rng.uniform(-1.5, 1.5), center[1] + rng.uniform(-1, 1))
        if abs(_haversine_m(*center, *loc) - meters) > 0.01 * meters:  # clear of the boundary
            recs[f"g{i}"] = Rec(loc=(round(loc[0], 6), round(loc[1], 6)))
    recs["noloc"] = Rec(num=1)
    env = _env(client, names, recs)
    f = Geo("loc").within(*center, radius, unit=unit)
    pred: Callable[[Rec], bool] = lambda r: (  # noqa: E731
        r.loc is not None and _haversine_m(*center, *r.loc) <= meters
    )
    assert 0 < len(env.expect(pred)) < len(recs)
    env.check(f, pred)
    env.check(~f, lambda r: not pred(r))
    assert env.run(Geo("loc").is_missing()) == {"noloc"}
