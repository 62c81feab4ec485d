"""Rendering, escaping, combination and validation of filter expressions (no server).

What the server does with these strings is pinned in integration_tests/test_filters_server.py.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import pytest

from redisvec.errors import FilterError
from redisvec.filters import ALL, FilterExpression, Geo, Num, Tag, Text, to_tag_text

FIELDS = {"color": "tag", "price": "numeric", "body": "text", "loc": "geo", "v": "vector"}


# --- tags -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Tag("color") == "red", "@color:{red}"),
        (Tag("color") == ["red", "blue"], "@color:{red | blue}"),
        (Tag("color") == ("red", "red"), "@color:{red}"),
        (Tag("color") != "red", "-@color:{red}"),
        (Tag("color") != ["red", "blue"], "-@color:{red | blue}"),
        (Tag("color").one_of(["a", "b", "c"]), "@color:{a | b | c}"),
        (Tag("color").all_of(["a", "b"]), "(@color:{a} @color:{b})"),
        (Tag("color").all_of(["a"]), "@color:{a}"),
        (Tag("color").is_missing(), "ismissing(@color)"),
        (Tag("n") == 3, "@n:{3}"),
        (Tag("n") == 3.0, "@n:{3}"),
        (Tag("n") == 0.5, "@n:{0\\.5}"),
        (Tag("b") == True, "@b:{true}"),  # noqa: E712
        (Tag("color") == "  red\t", "@color:{red}"),
    ],
)
def test_tag_rendering(expr: FilterExpression, expected: str) -> None:
    assert expr.render() == expected
    assert str(expr) == expected


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("a,b", "a\\,b"),
        ("foo bar", "foo\\ bar"),
        ("x|y", "x\\|y"),
        ("@title:(hack)", "\\@title\\:\\(hack\\)"),
        ("{}", "\\{\\}"),
        ("-neg", "\\-neg"),
        ("100%", "100\\%"),
        ("日本語", "日本語"),  # non-ASCII stays bare: a backslash before it breaks the match
        ("x—y", "x—y"),
        ("tab\tsep", "tab\\\tsep"),
        ("back\\slash", "back\\\\slash"),
        ('quote"s', 'quote\\"s'),
        ("*", "\\*"),
        ("a_b", "a\\_b"),
        ("}) | @x:{*", "\\}\\)\\ \\|\\ \\@x\\:\\{\\*"),
    ],
)
def test_tag_escaping(value: str, escaped: str) -> None:
    assert (Tag("t") == value).render() == "@t:{" + escaped + "}"


def test_every_ascii_punctuation_is_escaped_in_tags() -> None:
    punct = "".join(chr(c) for c in range(32, 127) if not chr(c).isalnum())
    rendered = (Tag("t") == "a" + punct + "b").render()
    assert rendered == "@t:{a" + "".join("\\" + c for c in punct) + "b}"


def test_empty_tag_set_matches_nothing_and_its_negation_everything() -> None:
    nothing = Tag("color") == []
    assert nothing.render() == "(@color:{x} -(@color:{x}))"
    assert Tag("color").one_of([]).render() == "(@color:{x} -(@color:{x}))"
    assert (~nothing).render() == "*"
    assert (Tag("color") != []).render() == "*"
    assert Tag("color").all_of([]).render() == "*"
    assert (~(Tag("color") != [])).render() == "(@color:{x} -(@color:{x}))"
    # The constants keep their field, so validation still sees it.
    assert (Tag("color") != []).field_names() == frozenset({"color"})
    with pytest.raises(FilterError, match="'color'"):
        (Tag("color") != []).render({"price": "numeric"})


def test_constants_absorb_or_vanish_in_combinations() -> None:
    a, b = (Tag("t") == "a"), (Num("n") > 1)
    nothing = Tag("e") == []
    assert (nothing | a) == a
    assert (a | nothing) == a
    assert (nothing & a).render() == "(@e:{x} -(@e:{x}))"
    assert (a & nothing).render() == "(@e:{x} -(@e:{x}))"
    assert (~(a | ALL)).render() == "(@t:{a} -(@t:{a}))"  # anchored on the absorbed branch
    assert (~((a & b) | ALL) & b).render() == "((@t:{a} @n:[(1 +inf]) -((@t:{a} @n:[(1 +inf])))"
    assert (~(~a | ALL)).render() == "(-@t:{a} -(-@t:{a}))"
    assert (~(FilterExpression.raw("@x:{y} | @z:{w}") | ALL)).render() == (
        "((@x:{y} | @z:{w}) -(@x:{y} | @z:{w}))"
    )
    assert ~~nothing == nothing
    assert (ALL & (~ALL | a)) == a


def test_nothing_without_any_field_cannot_render() -> None:
    for expr in (~ALL, ~ALL & ~ALL, ~(ALL | ALL)):
        with pytest.raises(FilterError, match="matches nothing"):
            expr.render()


@pytest.mark.parametrize("value", ["", "   ", " \t\r\n"])
def test_empty_tag_value_is_refused(value: str) -> None:
    with pytest.raises(FilterError, match=r"'color'.*is_missing\(\)"):
        _ = Tag("color") == value
    with pytest.raises(FilterError, match="'color'"):
        Tag("color").one_of(["a", value])


@pytest.mark.parametrize("value", ["a\x00b", "a\x01b", "a\x1fb", "a\x7f"])
def test_control_characters_in_tags_are_refused(value: str) -> None:
    with pytest.raises(FilterError, match="control character"):
        _ = Tag("color") == value


@pytest.mark.parametrize("value", [None, b"x", {"a": 1}, math.nan])
def test_bad_tag_value_types(value: object) -> None:
    with pytest.raises(FilterError, match="Tag\\('color'\\)"):
        _ = Tag("color") == value


def test_one_of_refuses_a_bare_string() -> None:
    with pytest.raises(FilterError, match="list of values"):
        Tag("color").one_of("red")


def test_to_tag_text() -> None:
    assert to_tag_text("Red ") == "Red "  # storage keeps the value; only queries normalize
    assert to_tag_text(True) == "true"
    assert to_tag_text(False) == "false"
    assert to_tag_text(3) == "3"
    assert to_tag_text(-3) == "-3"
    assert to_tag_text(3.0) == "3"
    assert to_tag_text(-0.0) == "0"
    assert to_tag_text(1e20) == str(10**20)
    assert to_tag_text(0.1) == "0.1"
    assert to_tag_text(1.5e-7) == "1.5e-07"
    assert to_tag_text(math.inf) == "inf"
    assert to_tag_text(-math.inf) == "-inf"
    assert to_tag_text(Fraction(1, 4)) == "0.25"  # type: ignore[arg-type]
    with pytest.raises(FilterError, match="NaN"):
        to_tag_text(math.nan)
    with pytest.raises(FilterError, match="NoneType"):
        to_tag_text(None)  # type: ignore[arg-type]


# --- numbers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Num("price") == 5, "@price:[5 5]"),
        (Num("price") != 5, "-@price:[5 5]"),
        (Num("price") < 5, "@price:[-inf (5]"),
        (Num("price") <= 5, "@price:[-inf 5]"),
        (Num("price") > 5, "@price:[(5 +inf]"),
        (Num("price") >= 5, "@price:[5 +inf]"),
        (Num("price") >= -2.5, "@price:[-2.5 +inf]"),
        (Num("price") < math.inf, "@price:[-inf (+inf]"),
        (Num("price") == -math.inf, "@price:[-inf -inf]"),
        (Num("price") == 1e-300, "@price:[1e-300 1e-300]"),
        (Num("price").between(1, 2), "@price:[1 2]"),
        (Num("price").between(1, 2, inclusive="neither"), "@price:[(1 (2]"),
        (Num("price").between(1, 2, inclusive="left"), "@price:[1 (2]"),
        (Num("price").between(1, 2, inclusive="right"), "@price:[(1 2]"),
        (Num("price").is_missing(), "ismissing(@price)"),
    ],
)
def test_num_rendering(expr: FilterExpression, expected: str) -> None:
    assert expr.render() == expected


@pytest.mark.parametrize(
    ("value", "match"),
    [(math.nan, "NaN"), (True, "booleans"), ("5", "'5'"), (None, "None")],
)
def test_num_bad_values(value: object, match: str) -> None:
    with pytest.raises(FilterError, match=match):
        _ = Num("price") < value  # type: ignore[operator]
    with pytest.raises(FilterError, match="'price'"):
        Num("price").between(0, value)  # type: ignore[arg-type]


def test_between_inclusive_must_be_known() -> None:
    with pytest.raises(FilterError, match="inclusive"):
        Num("price").between(1, 2, inclusive="yes")


# --- text -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        (Text("body") % "hello world", '@body:("hello" "world")'),
        (Text("body").match("hello"), '@body:"hello"'),
        (Text("body").match("@title:(hack) doc*"), '@body:("title" "hack" doc*)'),
        (
            Text("body").match("*tor *oct* %docter% %%%dxktar%%%"),
            "@body:(*tor *oct* %docter% %%%dxktar%%%)",
        ),
        (Text("body").match("snake_case 日本語"), '@body:("snake_case" "日本語")'),
        (Text("body").match("The a of doctors"), '@body:"doctors"'),  # stopwords left out
        (Text("body").match("5 * 3 %"), '@body:("5" "3")'),  # lone * and % are punctuation
        (Text("body").phrase('say "hi" \\ now'), '@body:"say hi now"'),
        (Text("body").phrase("over the lazy dog"), '@body:"over lazy dog"'),
        (Text("body") == "hello world", '@body:"hello world"'),
        (Text("body") != "hello world", '-@body:"hello world"'),
        (Text("body").prefix("hel"), "@body:hel*"),
        (Text("body").like("h?l*"), "@body:w'h?l*'"),
        (Text("body").like("h_l%", sql=True), "@body:w'h?l*'"),
        (Text("body").like("snake\\_%", sql=True), "@body:w'snake_*'"),
        (Text("body").like("%", sql=True), "@body:w'*'"),
        (Text("body").is_missing(), "ismissing(@body)"),
    ],
)
def test_text_rendering(expr: FilterExpression, expected: str) -> None:
    assert expr.render() == expected


@pytest.mark.parametrize("text", ["", "  ", "?!-", '"'])
def test_text_without_words_is_refused(text: str) -> None:
    with pytest.raises(FilterError, match=r"'body'.*no words"):
        Text("body").match(text)
    with pytest.raises(FilterError, match="no words"):
        Text("body").phrase(text)


@pytest.mark.parametrize("prefix", ["h", "he llo", "he-", ""])
def test_bad_prefix(prefix: str) -> None:
    with pytest.raises(FilterError, match="'body'"):
        Text("body").prefix(prefix)


@pytest.mark.parametrize("pattern", ["", "a\x00", "it's", "a\\b", "' | @x:{*} '", "$vector"])
def test_bad_like(pattern: str) -> None:
    with pytest.raises(FilterError, match="'body'"):
        Text("body").like(pattern)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("x*", "at least 2"),  # shorter than the server's MINPREFIX: matches nothing
        ("*x", "at least 2"),
        ("d*c", "not a pattern"),
        ("**doc", "not a pattern"),
        ("%%doc%", "not a pattern"),
        ("%%%%doc%%%%", "not a pattern"),
        ("%do-c%", "not a pattern"),
        ("engineer|doctor", "any of"),
        ("engineer | doctor", "any of"),
        ("the of", "only stopwords"),
    ],
)
def test_match_refuses_what_it_cannot_express(text: str, match: str) -> None:
    with pytest.raises(FilterError, match=match):
        (Text("body") % text).render()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Text("title").like("x" * 1025),
        lambda: Text("title").like("x" * 1025, sql=True),
        lambda: Text("title").like("x" * 1024 + "%", sql=True),
        lambda: Text("title").like("é" * 513),  # bytes, not characters
        lambda: Text("title") % ("*" + "x" * 1024),
        lambda: Text("title") % ("*" + "x" * 1023 + "*"),
        lambda: Text("title").prefix("x" * 1024),
    ],
)
def test_patterns_that_crash_the_server_are_refused_offline(build: Any) -> None:
    """search 2.10.5 dies (SIGSEGV) on a wildcard, suffix or infix pattern over 1,024 bytes:
    never sent, checked here without a server."""
    with pytest.raises(FilterError, match="at most 1024 bytes"):
        build()
    assert Text("title").like("x" * 1024).render() == "@title:w'" + "x" * 1024 + "'"


def test_langchain_like_longer_than_the_server_takes_is_refused_offline() -> None:
    pytest.importorskip("langchain_core")
    from redisvec.langchain.filters import from_dict

    with pytest.raises(FilterError, match=r"'title'.*at most 1024 bytes"):
        from_dict({"title": {"$like": "x" * 1025}}, {"title": "text"})


def test_only_stopwords_in_a_phrase_is_refused() -> None:
    with pytest.raises(FilterError, match="only stopwords"):
        Text("body").phrase("to be or not to be").render()
    # with the index's own list (here: none), the same words are ordinary
    assert Text("body").phrase("to be").render(stopwords=[]) == '@body:"to be"'
    assert (Text("body") % "The quick").render(stopwords=["QUICK"]) == '@body:"The"'


# --- geo ------------------------------------------------------------------------------------------


def test_geo() -> None:
    assert Geo("loc").within(2.35, 48.85, 10).render() == "@loc:[2.35 48.85 10 km]"
    assert Geo("loc").within(-0.1, 51.5, 500, unit="m").render() == "@loc:[-0.1 51.5 500 m]"
    assert Geo("loc").is_missing().render() == "ismissing(@loc)"


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((200, 0, 1), "longitude"),
        ((0, 89, 1), "latitude"),
        ((0, 0, -1), "radius"),
        ((0, 0, 0), "radius"),
        ((0, 0, math.inf), "radius"),
        ((0, math.nan, 1), "NaN"),
    ],
)
def test_geo_bad_values(args: tuple[float, float, float], match: str) -> None:
    with pytest.raises(FilterError, match=match):
        Geo("loc").within(*args)


def test_geo_bad_unit() -> None:
    with pytest.raises(FilterError, match="unit"):
        Geo("loc").within(0, 0, 1, unit="parsec")


# --- combination ----------------------------------------------------------------------------------


def test_and_or_not_rendering_and_flattening() -> None:
    a, b, c, d = (Tag("t") == "a"), (Tag("t") == "b"), (Num("n") > 1), (Text("x") % "hi")
    assert (a & b).render() == "(@t:{a} @t:{b})"
    assert (a | b).render() == "(@t:{a} | @t:{b})"
    assert ((a & b) & (c & d)).render() == '(@t:{a} @t:{b} @n:[(1 +inf] @x:"hi")'
    assert (a | (b | c) | d).render() == '(@t:{a} | @t:{b} | @n:[(1 +inf] | @x:"hi")'
    assert ((a | b) & c).render() == "((@t:{a} | @t:{b}) @n:[(1 +inf])"
    assert (~(a & b)).render() == "-(@t:{a} @t:{b})"
    assert (~(a | b) & c).render() == "(-(@t:{a} | @t:{b}) @n:[(1 +inf])"
    assert (~a | c).render() == "(-@t:{a} | @n:[(1 +inf])"
    assert ~~a == a
    assert (a & b) == (a & b)


def test_all_and_none_simplify_away() -> None:
    a = Tag("t") == "a"
    assert ALL.render() == "*"
    assert str(ALL) == "*"
    assert (ALL & a) == a
    assert (a & ALL) == a
    assert (a & None) == a
    assert (None & a) == a
    assert (a | None) == a
    assert (None | a) == a
    assert (ALL & ALL) == ALL
    assert (a | ALL).render() == "*"
    assert (ALL | a).render() == "*"
    assert (ALL & (a | ALL)).render() == "*"
    assert (ALL | a).field_names() == frozenset({"t"})


def test_tag_values_containing_the_fields_separator_are_refused_against_a_schema() -> None:
    from redisvec.schema import IndexSchema, TagField, VectorField

    schema = IndexSchema(
        "i",
        fields=(
            TagField("cat"),  # the server's default separator ','
            TagField("ours", separator="\x1f"),
            VectorField("v", dims=2),
        ),
    )
    fields = schema.fields_by_name
    message = (
        r"Tag\('cat'\) value 'faq, misc' contains the field's separator ',': .* never matches; "
        r"filter on one of its parts instead \('faq', 'misc'\)"
    )
    for flt in (
        Tag("cat") == "faq, misc",
        Tag("cat").one_of(["ok", "faq, misc"]),
        ~(Tag("cat") != "faq, misc") & (Tag("ours") == "x"),
    ):
        with pytest.raises(FilterError, match=message):
            flt.render(fields)
        assert "faq\\,\\ misc" in flt.render(schema.field_types)  # the type-only form: as before
    assert (Tag("ours") == "faq, misc").render(fields) == "@ours:{faq\\,\\ misc}"
    assert (Tag("cat") == "faq").render(fields) == "@cat:{faq}"
    with pytest.raises(FilterError, match=r"Tag\('x'\) value 'a\|b'.*separator '\|'"):
        (Tag("x") == "a|b").render({"x": TagField("x", separator="|")})
    json = IndexSchema("j", storage="json", fields=(TagField("raw", separator=None),))
    assert (Tag("raw") == "a,b").render(json.fields_by_name) == "@raw:{a\\,b}"


def test_is_all_and_is_nothing() -> None:
    a = Tag("t") == "a"
    everything = [ALL, a | ALL, ALL | (Num("n") > 1), ~(Tag("t") == []), Tag("t").all_of([])]
    nothing = [~ALL, Tag("t") == [], Tag("t").one_of([]), a & (Tag("t") == []), ~(a | ALL)]
    neither = [a, ~a, a & (Num("n") > 1), Num("n").between(1, 0), FilterExpression.raw("@t:{a}")]
    for expr in everything:
        assert expr.is_all() and not expr.is_nothing(), expr
        assert expr.render() == "*"
    for expr in nothing:
        assert expr.is_nothing() and not expr.is_all(), expr
    for expr in neither:
        assert not expr.is_all() and not expr.is_nothing(), expr


def test_raw() -> None:
    raw = FilterExpression.raw("@a:{x} | @b:{y}")
    assert raw.render() == "@a:{x} | @b:{y}"
    assert (raw & (Num("n") == 1)).render() == "((@a:{x} | @b:{y}) @n:[1 1])"
    assert (~raw).render() == "-(@a:{x} | @b:{y})"
    assert FilterExpression.raw("") is ALL
    assert FilterExpression.raw(" * ") is ALL
    assert raw.field_names() == frozenset()


def test_field_names_and_escaped_field_refs() -> None:
    f = (Tag("a") == "x") | ~((Num("b") > 1) & Text("c").prefix("ab"))
    assert f.field_names() == frozenset({"a", "b", "c"})
    assert (Tag("my-f.a") == "x").render() == "@my\\-f\\.a:{x}"
    assert Num("snake_case").is_missing().render() == "ismissing(@snake_case)"


def test_expressions_are_immutable_and_hashable() -> None:
    f = (Tag("a") == "x") & (Num("b") > 1)
    with pytest.raises(AttributeError):
        f.children = ()  # type: ignore[attr-defined]
    assert hash(f) == hash((Tag("a") == "x") & (Num("b") > 1))


@pytest.mark.parametrize("name", ["", None, "a\x00"])
def test_bad_field_name(name: object) -> None:
    with pytest.raises(FilterError, match="field name"):
        Tag(name)  # type: ignore[arg-type]


# --- validation against a schema -------------------------------------------------------------------


def test_validation_passes_for_matching_types() -> None:
    f = (
        (Tag("color") == "red")
        & (Num("price") < 3)
        & (Text("body") % "hi")
        & Geo("loc").within(0, 0, 1)
        & Tag("color").is_missing()
    )
    assert f.render(FIELDS) == f.render()
    assert f.render({k: v.upper() for k, v in FIELDS.items()}) == f.render()


def test_unknown_field_names_field_and_lists_indexed_fields() -> None:
    with pytest.raises(FilterError) as err:
        ((Num("price") < 3) & ~(Tag("colour") == "red")).render(FIELDS)
    msg = str(err.value)
    assert "'colour'" in msg
    assert "['body', 'color', 'loc', 'price', 'v']" in msg


@pytest.mark.parametrize(
    ("expr", "words"),
    [
        (Num("color") < 3, ["Num('color')", "tag field", "Tag('color')"]),
        (Tag("price") == "x", ["Tag('price')", "numeric field", "Num('price')"]),
        (Tag("body") == "x", ["text field", "Text('body')"]),
        (Text("color") % "x", ["tag field", "Tag('color')"]),
        (Geo("price").is_missing(), ["numeric field", "Num('price')"]),
        (Tag("v") == "x", ["vector field", "vector query"]),
    ],
)
def test_wrong_operator_for_field_type(expr: FilterExpression, words: list[str]) -> None:
    with pytest.raises(FilterError) as err:
        expr.render(FIELDS)
    for word in words:
        assert word in str(err.value)


def test_filter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        _ = Num("price") < math.nan


# -- `Tag(f) == "value"` is shared per field and value: the sharing must not mix them up -----------


def test_shared_tag_equality_is_per_field_and_value() -> None:
    for _ in range(2):  # the second round is served from the cache
        assert (Tag("a") == "x").render() == "@a:{x}"
        assert (Tag("b") == "x").render() == "@b:{x}"
        assert (Tag("a") == "y z").render() == r"@a:{y\ z}"
        assert (Tag("a") == " x ").render() == "@a:{x}"
        # 1 and True are equal as keys: only str values may share
        assert (Tag("a") == "1").render() == "@a:{1}"
        assert (Tag("a") == 1).render() == "@a:{1}"
        assert (Tag("a") == True).render() == "@a:{true}"  # noqa: E712
        assert (Tag("a") == 1.5).render() == "@a:{1\\.5}"
    assert (Tag("a") == "x") is (Tag("a") == "x")
    assert (Tag("a") == "x") == (Tag("a") == ["x"])  # the same leaf as the list form


def test_refused_tag_values_are_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(FilterError, match=r"Tag\('a'\) got the empty value ' '"):
            Tag("a") == " "  # noqa: B015
        with pytest.raises(FilterError, match=r"Tag\('a'\) value 'x\\x00' contains a NUL"):
            Tag("a") == "x\x00"  # noqa: B015


def test_field_names_are_checked_every_time() -> None:
    for _ in range(2):
        assert (Tag("ok") == "x").render() == "@ok:{x}"
        for bad in ("", "a\x00", 3):
            with pytest.raises(FilterError, match="needs a field name"):
                Tag(bad)  # type: ignore[arg-type]


def test_value_key_is_equal_exactly_for_equal_json_like_values() -> None:
    from redisvec.filters import value_key

    doc = {"a": [1, "x", {"b": None}], "c": (2.5, True)}
    assert value_key(doc) == value_key({"a": [1, "x", {"b": None}], "c": (2.5, True)})
    hash(value_key(doc))
    # values that filter differently never share a key
    distinct = [1, 1.0, True, "1", [1], (1,), {"k": 1}, {"k": 1.0}, None]
    assert len({value_key(v) for v in distinct}) == len(distinct)
    # anything that is not plain JSON-like is not keyed (so not cached)
    assert value_key(object()) is None
    assert value_key({1: "non-str key"}) is None
    assert value_key([1, {2}]) is None
