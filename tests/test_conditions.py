"""The core operator table (`redisvec.conditions`): what each operator builds for each field type,
and the errors. Expected expressions are built with the field builders directly; the server-side
meaning is pinned by both adapters' integration tests against a Python evaluation."""

from __future__ import annotations

from typing import Any

import pytest

from redisvec.conditions import CORE_OPERATORS, condition, filterable, operators
from redisvec.errors import FilterError
from redisvec.filters import FilterExpression, Geo, Num, Tag, Text
from redisvec.schema import GeoField, NumericField, TagField, TextField, VectorField

TYPES = {"c": "tag", "n": "numeric", "t": "text", "g": "geo", "v": "vector"}
FIELDS = {
    "c": TagField("c", index_missing=True),
    "n": NumericField("n"),  # no INDEXMISSING
    "t": TextField("t", index_missing=True),
    "g": GeoField("g", index_missing=True),
    "v": VectorField("v", dims=2),
}


@pytest.mark.parametrize(
    ("field", "op", "value", "expected"),
    [
        ("c", "eq", "red", Tag("c") == "red"),
        ("c", "eq", True, Tag("c") == "true"),
        ("c", "ne", "red", Tag("c") != "red"),
        ("c", "in", ["a", "b"], Tag("c").one_of(["a", "b"])),
        ("c", "in", ("a",), Tag("c") == "a"),
        ("c", "nin", ["a", "b"], ~Tag("c").one_of(["a", "b"])),
        ("c", "all", ["a", "b"], Tag("c").all_of(["a", "b"])),
        ("c", "exists", True, ~Tag("c").is_missing()),
        ("c", "exists", False, Tag("c").is_missing()),
        ("c", "missing", None, Tag("c").is_missing()),
        ("n", "eq", 2, Num("n") == 2),
        ("n", "eq", True, Num("n") == 1),  # records store bools as 0 / 1
        ("n", "ne", 2.5, Num("n") != 2.5),
        ("n", "gt", 1, Num("n") > 1),
        ("n", "gte", 1, Num("n") >= 1),
        ("n", "lt", -3, Num("n") < -3),
        ("n", "lte", 0, Num("n") <= 0),
        ("n", "in", [1, False], (Num("n") == 1) | (Num("n") == 0)),
        ("n", "nin", [1, 2], ~((Num("n") == 1) | (Num("n") == 2))),
        ("t", "eq", "hello, world", Text("t").phrase("hello world")),
        ("t", "ne", "hello", ~Text("t").phrase("hello")),
        ("t", "in", ["a b", "c"], Text("t").phrase("a b") | Text("t").phrase("c")),
        ("t", "like", "hel%", Text("t").like("hel*")),
        ("g", "exists", True, ~Geo("g").is_missing()),
    ],
)
def test_each_operator_builds_the_expression(
    field: str, op: str, value: Any, expected: FilterExpression
) -> None:
    assert condition(field, op, value, TYPES).render() == expected.render()


def test_empty_lists() -> None:
    for field in ("c", "n"):
        assert condition(field, "in", [], TYPES).is_nothing()
        assert condition(field, "nin", [], TYPES).is_all()
    assert condition("c", "all", [], TYPES).is_all()
    with pytest.raises(FilterError, match=r"'t'.*at least one value"):
        condition("t", "in", [], TYPES)


@pytest.mark.parametrize(
    ("field", "op", "value", "message"),
    [
        ("x", "eq", 1, r"field 'x', which is not indexed; indexed fields: \['c', 'g', 'n', 't'\]"),
        ("c", "gt", 1, r"gt does not apply to tag field 'c'; tag fields support: eq, ne, in, nin"),
        (
            "t",
            "gt",
            "a",
            r"gt does not apply to text field 't'.*use match, or index the field as a",
        ),
        ("g", "eq", "1,2", r"eq does not apply to geo field 'g'; geo fields support: exists"),
        ("v", "eq", [1, 2], r"vector field 'v'.*nothing.*vector query"),
        ("c", "regex", "a", r"filter on 'c': unknown operator 'regex'; operators: eq, ne,"),
        ("c", "in", "red", r"'c': in takes a list of values, got 'red'; for one value use eq"),
        ("c", "eq", ["a"], r"'c': eq takes one value, got \['a'\]; for several values use in / a"),
        ("n", "gt", None, r"'n': gt takes one value, got None"),
        ("c", "exists", "yes", r"'c': exists takes true or false, got 'yes'"),
        ("c", "eq", " ", r"filter on 'c' \(eq ' '\): Tag\('c'\) got the empty value"),
        ("n", "eq", "2", r"filter on 'n' \(eq '2'\): .*compares numbers"),
        ("n", "in", [1, "a"], r"filter on 'n' \(in \[1, 'a'\]\): .*compares numbers"),
        ("t", "eq", 3, r"text field 't': eq takes a string, got 3"),
        ("t", "eq", "...", r"filter on 't' \(eq '...'\): .*no words"),
    ],
)
def test_errors_name_field_value_and_fix(field: str, op: str, value: Any, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        condition(field, op, value, TYPES)


def test_presence_needs_indexmissing_when_fields_are_known() -> None:
    assert condition("c", "missing", None, FIELDS).render() == "ismissing(@c)"
    for op, value in (("missing", None), ("exists", True)):
        with pytest.raises(
            FilterError, match=rf"'n' \({op}\): .*needs the field created with INDEX"
        ):
            condition("n", op, value, FIELDS)
    assert filterable(FIELDS) == ["c", "g", "n", "t"]


def test_a_frameworks_own_operator_names() -> None:
    table = operators(
        {"EQ": "eq", "MATCH": "eq", "ANY": "in", "EMPTY": "missing"},
        only={"EQ": ("tag", "numeric"), "MATCH": ("text",), "ANY": ("tag",)},
    )
    assert table["tag"] == {"EQ": "eq", "ANY": "in", "EMPTY": "missing"}
    assert table["numeric"] == {"EQ": "eq", "EMPTY": "missing"}
    assert table["text"] == {"MATCH": "eq", "EMPTY": "missing"}
    assert table["geo"] == {"EMPTY": "missing"}
    assert condition("t", "MATCH", "x y", TYPES, operators=table).render() == '@t:"x y"'
    with pytest.raises(FilterError, match=r"EQ does not apply to text field 't'.*use MATCH"):
        condition("t", "EQ", "a", TYPES, operators=table)
    with pytest.raises(FilterError, match=r"ANY does not apply to numeric field 'n'; numeric fi"):
        condition("n", "ANY", [1], TYPES, operators=table)
    with pytest.raises(FilterError, match=r"for one value use EQ"):
        condition("c", "ANY", "a", TYPES, operators=table)
    with pytest.raises(FilterError, match=r"unknown operator 'eq'; operators: EQ, ANY, EMPTY"):
        condition("c", "eq", "a", TYPES, operators=table)


def test_table_covers_every_filterable_type() -> None:
    assert set(CORE_OPERATORS) == {"tag", "numeric", "text", "geo", "vector"}
    for kind, ops in CORE_OPERATORS.items():
        assert ("exists" in ops) == (kind != "vector")
