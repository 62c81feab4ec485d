"""The shared layout's write and read steps, compared with plain-Python expectations: records
built a batch at a time, metadata JSON (with its errors), and the JSON reader of search hits."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redisvec.errors import SchemaError
from redisvec.layout import DocumentLayout, load_json, metadata_fields

LAYOUT = DocumentLayout(
    indexed=tuple(
        metadata_fields(
            [
                {"name": "tag", "type": "tag"},
                {"name": "num", "type": "numeric"},
                {"name": "words", "type": "text"},
            ]
        )
    )
)


def _expected(text: str, vector: Any, metadata: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """What the layout documents: text, vector, the whole metadata as JSON, the adapter's extra
    fields when given, and each indexed key that has a non-empty value (text fields as text)."""
    record = {
        "text": text,
        "embedding": vector,
        "metadata": json.dumps(metadata, ensure_ascii=False),
    }
    record.update({k: v for k, v in extra.items() if v is not None})
    for name in ("tag", "num", "words"):
        value = metadata.get(name)
        if value is None or (isinstance(value, (str, list, tuple)) and not value):
            continue
        if name == "words" and not isinstance(value, str):
            value = " ".join(map(str, value)) if isinstance(value, list) else str(value)
        record[name] = value
    return record


METADATAS: list[dict[str, Any]] = [
    {"tag": "a", "num": 3, "words": "x y", "other": {"deep": [1, None]}},
    {"tag": "", "num": 2.5, "words": 7},
    {"tag": ["a", "b"], "num": True, "words": ["w", 1]},
    {"tag": [], "num": None, "words": False, "é": "ü"},
    {},
]


def test_records_match_the_layout_description() -> None:
    texts = [f"t{i}" for i in range(len(METADATAS))]
    vectors = [[float(i)] for i in range(len(METADATAS))]
    doc_ids = ["d0", None, "d2", None, "d4"]
    records = LAYOUT.to_records(texts, vectors, METADATAS, doc_ids=doc_ids)
    assert records == [
        _expected(t, v, m, doc_id=d)
        for t, v, m, d in zip(texts, vectors, METADATAS, doc_ids, strict=True)
    ]
    assert all("node" not in r for r in records)


def test_records_take_any_mapping_and_none() -> None:
    from types import MappingProxyType

    records = LAYOUT.to_records(["a", "b"], [[1.0], [2.0]], [MappingProxyType({"tag": "x"}), None])
    assert records == [_expected("a", [1.0], {"tag": "x"}), _expected("b", [2.0], {})]


def test_a_dict_in_an_indexed_field_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"'tag' is indexed as tag but its value is a dict"):
        LAYOUT.to_records(["a"], [[1.0]], [{"tag": {"k": 1}}])


@pytest.mark.parametrize(
    ("value", "key"),
    [(datetime.date(2020, 1, 1), "when"), ({1, 2}, "when"), (b"raw", "when")],
)
def test_metadata_that_is_not_json_names_the_key(value: Any, key: str) -> None:
    with pytest.raises(SchemaError, match=rf"metadata key '{key}'.*cannot be stored as JSON"):
        LAYOUT.to_records(["a"], [[1.0]], [{"ok": 1, key: value}])


def test_circular_metadata_names_the_key() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(SchemaError, match="metadata key 'loop'"):
        LAYOUT.to_records(["a"], [[1.0]], [{"loop": loop}])


def test_metadata_json_keeps_non_finite_floats_and_unicode() -> None:
    metadata = {"x": float("inf"), "y": float("nan"), "z": "é\x1f", "n": -1e300}
    (record,) = LAYOUT.to_records(["a"], [[1.0]], [metadata])
    assert record["metadata"] == json.dumps(metadata, ensure_ascii=False)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, before=st.sampled_from(["", " ", "\n"]), after=st.sampled_from(["", " ", "x"]))
def test_load_json_is_json_loads(value: Any, before: str, after: str) -> None:
    text = before + json.dumps(value, ensure_ascii=False) + after
    try:
        expected: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as info:
            load_json(text)
        assert str(info.value) == str(exc)
    else:
        assert load_json(text) == expected
        assert load_json(text.encode()) == expected


@pytest.mark.parametrize("text", ["", "{", '{"a": 1}}', "[1, 2", "nul"])
def test_load_json_errors_are_json_loads_errors(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as ours:
        load_json(text)
    with pytest.raises(json.JSONDecodeError) as theirs:
        json.loads(text)
    assert str(ours.value) == str(theirs.value)


def test_read_back_what_was_written() -> None:
    (record,) = LAYOUT.to_records(["hello"], [[1.0]], [METADATAS[0]], nodes=["{}"])
    fields = {k: v for k, v in record.items() if k != "embedding"}
    assert LAYOUT.text_and_metadata(fields) == ("hello", METADATAS[0])
    stored = LAYOUT.from_fields("id1", fields)
    assert (stored.id, stored.text, stored.metadata, stored.node) == (
        "id1",
        "hello",
        METADATAS[0],
        "{}",
    )
